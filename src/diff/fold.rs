//! Folding member names that are data, so one cause is one cluster.
//!
//! Indices and keyed filters are folded to `[*]` by [`super::model::fold_path`]. Objects whose
//! member names are data — `{"by_day": {"2024-01-01": …, "2024-01-02": …}}`, maps keyed by id,
//! hash or version — would still give one pattern per name: thirty changed dates, thirty
//! "causes". Here, among the patterns of one output, member names that look like data (they
//! hold a digit) are folded to `.*` where at least [`FOLD_MIN`] of them sit between the same
//! parent and the same rest of the path. Names of a schema (`state`, `score`) never fold,
//! however many differ. The run's clusters fold over every case at once, so dates that differ
//! in different fixtures (a map whose keys vary across records and fixtures) are one cause.

use std::collections::{BTreeMap, BTreeSet};

use super::path::{JsonPath, Segment};

/// Distinct data-like names under one parent that make it a map.
pub const FOLD_MIN: usize = 3;

/// How a folded member is written.
const ANY_MEMBER: &str = ".*";

/// One step of a pattern: how it is written, and its member name when it may fold.
#[derive(Clone)]
struct Step {
    text: String,
    data_name: Option<String>,
}

/// A member name that is data rather than schema: it holds a digit (dates, ids, versions,
/// hashes).
fn data_like(name: &str) -> bool {
    name.bytes().any(|b| b.is_ascii_digit())
}

fn steps(pattern: &str) -> Option<Vec<Step>> {
    let path = JsonPath::parse(pattern).ok()?;
    Some(
        path.segments()
            .iter()
            .map(|segment| {
                let text = segment.to_string();
                let data_name = match segment {
                    Segment::Field(name) if data_like(name) => Some(name.clone()),
                    _ => None,
                };
                Step { text, data_name }
            })
            .collect(),
    )
}

fn joined(steps: &[Step]) -> String {
    steps.iter().map(|s| s.text.as_str()).collect()
}

/// The final pattern of each of `patterns` (a pattern that does not fold maps to itself).
pub fn data_keys<'a>(patterns: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut parsed: BTreeMap<String, Option<Vec<Step>>> = patterns
        .into_iter()
        .map(|p| (p.to_owned(), steps(p)))
        .collect();
    loop {
        // For every place a data-like name sits (what precedes it, what follows): the names there.
        let mut places: BTreeMap<(String, String), BTreeSet<&str>> = BTreeMap::new();
        for steps in parsed.values().flatten() {
            for (i, step) in steps.iter().enumerate() {
                if let Some(name) = &step.data_name {
                    let place = (joined(&steps[..i]), joined(&steps[i + 1..]));
                    places.entry(place).or_default().insert(name);
                }
            }
        }
        let fold: BTreeSet<(String, String)> = places
            .into_iter()
            .filter(|(_, names)| names.len() >= FOLD_MIN)
            .map(|(place, _)| place)
            .collect();
        if fold.is_empty() {
            break;
        }
        for steps in parsed.values_mut().flatten() {
            // One place per pattern per round, the leftmost: later places are keyed by what
            // precedes them, which this changes.
            let at = (0..steps.len()).find(|&i| {
                steps[i].data_name.is_some()
                    && fold.contains(&(joined(&steps[..i]), joined(&steps[i + 1..])))
            });
            if let Some(i) = at {
                steps[i] = Step {
                    text: ANY_MEMBER.to_owned(),
                    data_name: None,
                };
            }
        }
    }
    parsed
        .into_iter()
        .map(|(pattern, steps)| {
            let folded = steps.map_or_else(|| pattern.clone(), |s| format!("${}", joined(&s)));
            (pattern, folded)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(patterns: &[&str]) -> Vec<String> {
        let map = data_keys(patterns.iter().copied());
        patterns.iter().map(|p| map[*p].clone()).collect()
    }

    #[test]
    fn maps_keyed_by_data_fold_and_schemas_do_not() {
        let days: Vec<String> = (1..=30)
            .map(|d| format!("$.by_day['2024-01-{d:02}'].count"))
            .collect();
        let days: Vec<&str> = days.iter().map(String::as_str).collect();
        assert!(folded(&days).iter().all(|p| p == "$.by_day.*.count"));
        // Two dates are not yet a map; five schema fields never are.
        assert_eq!(
            folded(&["$.by_day['2024-01-01']", "$.by_day['2024-01-02']"]),
            ["$.by_day['2024-01-01']", "$.by_day['2024-01-02']"]
        );
        let schema = ["$.a", "$.state", "$.score", "$.owner", "$.kind"];
        assert_eq!(folded(&schema), schema);
        // Text hunks and whole files stay as they are.
        assert_eq!(folded(&["@@", "$"]), ["@@", "$"]);
    }

    #[test]
    fn nested_maps_fold_level_by_level() {
        let mut patterns = Vec::new();
        for day in ["d1", "d2", "d3"] {
            for hour in ["h1", "h2", "h3"] {
                patterns.push(format!("$.{day}.{hour}"));
            }
        }
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        assert!(folded(&refs).iter().all(|p| p == "$.*.*"));
    }
}

//! Which case the user means: a label as reports print it, or a fixture id alone when only one
//! case has it; when none or several match, the error says which exist.

use crate::outcome::{CaseOutcome, RunResults};

/// Why a case could not be found in a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("no case `{query}` in this run; it has {}", listed(known, *total))]
    Unknown {
        query: String,
        /// A few labels, those that contain the query first.
        known: Vec<String>,
        total: usize,
    },
    #[error("`{query}` names {} cases; name one: {}", matches.len(), matches.join(", "))]
    Ambiguous { query: String, matches: Vec<String> },
    #[error("case `{query}` did not run: the run was interrupted before it finished")]
    NotRun { query: String },
}

/// Labels listed when a case is unknown.
const LISTED: usize = 8;

fn listed(known: &[String], total: usize) -> String {
    let more = total.saturating_sub(known.len());
    let list = known.join(", ");
    match (total, more) {
        (0, _) => "no cases".to_owned(),
        (_, 0) => format!("{}: {list}", crate::units::plural(total, "case")),
        _ => format!("{total} cases: {list}, … and {more} more"),
    }
}

/// The case `query` names: a label (`suite/fixture`, `suite/fixture[variant]`), a bare fixture
/// id (`fixture`, `fixture[variant]`) when only one case has it, or `suite/fixture` for a
/// fixture run under one variant only.
pub fn find_case<'a>(results: &'a RunResults, query: &str) -> Result<&'a CaseOutcome, LookupError> {
    let cases = &results.cases;
    let bare = |c: &CaseOutcome| match &c.id.variant {
        Some(v) => format!("{}[{v}]", c.id.fixture),
        None => c.id.fixture.clone(),
    };
    let tiers: [&dyn Fn(&CaseOutcome) -> bool; 4] = [
        &|c| c.label() == query,
        &|c| bare(c) == query,
        &|c| format!("{}/{}", c.id.suite, c.id.fixture) == query,
        &|c| c.id.fixture == query,
    ];
    for matches in tiers {
        let found: Vec<&CaseOutcome> = cases.iter().filter(|c| matches(c)).collect();
        match found.as_slice() {
            [] => continue,
            [one] => return Ok(one),
            many => {
                return Err(LookupError::Ambiguous {
                    query: query.to_owned(),
                    matches: many.iter().map(|c| c.label()).collect(),
                });
            }
        }
    }
    if results
        .not_run
        .iter()
        .any(|n| n.id.label() == query || n.id.fixture == query)
    {
        return Err(LookupError::NotRun {
            query: query.to_owned(),
        });
    }
    // Likely meant first: labels holding the query, then failing cases, then the rest.
    let mut likely: Vec<(bool, bool, String)> = cases
        .iter()
        .map(|c| {
            (
                !c.label().contains(query),
                c.verdict.is_success(),
                c.label(),
            )
        })
        .collect();
    likely.sort_by_key(|(far, passed, _)| (*far, *passed));
    let labels: Vec<String> = likely
        .into_iter()
        .take(LISTED)
        .map(|(_, _, label)| label)
        .collect();
    Err(LookupError::Unknown {
        query: query.to_owned(),
        known: labels,
        total: cases.len(),
    })
}

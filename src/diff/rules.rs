//! Compiled comparison rules: what to ignore, how to pair array elements, numeric tolerance and
//! string normalisation. A differ asks [`Rules`] at each node it visits.
//!
//! Every rule has an `id` (its position in the run's rule list, see `config`), and each time a
//! rule suppresses or rewrites a value the differ records a hit under that id, so reports can say
//! how much each rule hid and flag rules that never applied as stale.

use std::borrow::Cow;
use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::path::{JsonPath, Segment};

/// How the elements of an array are paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArrayMatch {
    /// Element `i` with element `i` (the default).
    Positional,
    /// Aligned by a longest common subsequence, so one inserted element does not shift every
    /// later one (the default).
    Aligned,
    /// Elements with equal values of these fields; order does not matter.
    Keyed(Vec<String>),
    /// As a set: order and repetition do not matter.
    Set,
    /// As a multiset: order does not matter, repetition does.
    Multiset,
}

/// Allowed numeric difference; a value passes if it is within either bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub abs: Option<f64>,
    pub rel: Option<f64>,
}

impl Tolerance {
    pub fn allows(&self, left: f64, right: f64) -> bool {
        let delta = (left - right).abs();
        self.abs.is_some_and(|abs| delta <= abs)
            || self
                .rel
                .is_some_and(|rel| delta <= rel * left.abs().max(right.abs()))
    }

    pub fn describe(&self) -> String {
        match (self.abs, self.rel) {
            (Some(a), Some(r)) => format!("abs {a:e} or rel {r:e}"),
            (Some(a), None) => format!("abs {a:e}"),
            (None, Some(r)) => format!("rel {r:e}"),
            (None, None) => "none".to_owned(),
        }
    }
}

/// What a normalisation puts in place of each match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replacement {
    /// A fixed text (with `$1`-style group references).
    Text(String),
    /// `<name-N>`, numbered per side in order of first appearance, so the same value keeps the
    /// same number wherever it appears on that side (identity-keeping redaction).
    Placeholder(String),
}

/// A regex replacement applied to strings (or text lines) on both sides before comparing.
#[derive(Debug, Clone)]
pub struct Normalize {
    pub regex: Regex,
    pub replace: Replacement,
}

/// Replaces each match of `regex` in `text` by `<name-N>`, N from `number`, leaving alone any
/// placeholder of that name already there (`<name-3>`, `<name>`), so normalising a normalised
/// text (a golden, say) changes nothing. `None` when nothing was replaced.
fn placeholders(
    regex: &Regex,
    text: &str,
    name: &str,
    mut number: impl FnMut(&str) -> usize,
) -> Option<String> {
    let existing = placeholder_spans(text, name);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in regex.find_iter(text) {
        if m.is_empty()
            || existing
                .iter()
                .any(|s| s.start < m.end() && m.start() < s.end)
        {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str(&format!("<{name}-{}>", number(m.as_str())));
        last = m.end();
    }
    (last > 0).then(|| {
        out.push_str(&text[last..]);
        out
    })
}

/// Where `<name-N>` and `<name>` placeholders are in `text`.
fn placeholder_spans(text: &str, name: &str) -> Vec<std::ops::Range<usize>> {
    let open = format!("<{name}");
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(&open) {
        let start = from + found;
        let rest = &text[start + open.len()..];
        let digits = rest.strip_prefix('-').map_or(0, |r| {
            r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len()
        });
        let tail = if digits > 0 {
            &rest[1 + digits..]
        } else {
            rest
        };
        if (digits > 0 || !rest.starts_with('-')) && tail.starts_with('>') {
            let end = text.len() - tail.len() + 1;
            spans.push(start..end);
            from = end;
        } else {
            from = start + open.len();
        }
    }
    spans
}

/// `text` with every `<name-N>` written as `<name>`.
fn strip_numbers(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for span in placeholder_spans(text, name) {
        out.push_str(&text[last..span.start]);
        out.push_str(&format!("<{name}>"));
        last = span.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Legacy values and their candidate equivalents: `"Y"` on the left compares as `true`. Keys are
/// the left value's text (a string as is, anything else as JSON).
pub type ValueMap = BTreeMap<String, Value>;

/// Legacy member names and their candidate names.
pub type Rename = BTreeMap<String, String>;

/// Placeholder numbering for one side of one comparison.
#[derive(Debug, Default, Clone)]
pub struct Placeholders {
    ids: BTreeMap<(usize, String), usize>,
    next: BTreeMap<usize, usize>,
}

/// One rule: a selector, what it does, and its id for usage counting.
#[derive(Debug, Clone)]
pub struct Rule<T> {
    pub id: usize,
    /// Where the rule applies; `None` means everywhere (normalisation without a path).
    pub path: Option<JsonPath>,
    pub action: T,
}

impl<T> Rule<T> {
    fn applies(&self, location: &[Segment]) -> bool {
        self.path.as_ref().is_none_or(|p| p.matches(location))
    }
}

/// All rules of one comparison.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub ignore: Vec<Rule<()>>,
    pub matching: Vec<Rule<ArrayMatch>>,
    pub tolerance: Vec<Rule<Tolerance>>,
    pub normalize: Vec<Rule<Normalize>>,
    pub map_values: Vec<Rule<ValueMap>>,
    pub rename: Vec<Rule<Rename>>,
    /// Numbers equal in value but spelled differently (`1.0`, `1`) are differences, not
    /// equivalences.
    pub strict_numbers: bool,
}

impl Rules {
    /// The first ignore rule covering `location`.
    pub fn ignored(&self, location: &[Segment]) -> Option<usize> {
        self.ignore
            .iter()
            .find(|r| r.applies(location))
            .map(|r| r.id)
    }

    /// How to pair the array at `location`, and the rule that said so.
    pub fn array_match(&self, location: &[Segment]) -> (Option<usize>, &ArrayMatch) {
        self.matching
            .iter()
            .find(|r| r.applies(location))
            .map_or((None, &ArrayMatch::Aligned), |r| (Some(r.id), &r.action))
    }

    /// The candidate equivalent of a left value at `location`, and the rule that maps it.
    pub fn mapped(&self, location: &[Segment], left: &Value) -> Option<(usize, &Value)> {
        if self.map_values.is_empty() {
            return None;
        }
        let text = match left {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(other.to_string()),
        };
        self.map_values
            .iter()
            .filter(|r| r.applies(location))
            .find_map(|r| r.action.get(text.as_ref()).map(|v| (r.id, v)))
    }

    /// The candidate name of left member `name` of the object at `location`.
    pub fn renamed(&self, location: &[Segment], name: &str) -> Option<(usize, &str)> {
        self.rename
            .iter()
            .filter(|r| r.applies(location))
            .find_map(|r| r.action.get(name).map(|n| (r.id, n.as_str())))
    }

    /// The tolerance for numbers at `location`.
    pub fn tolerance(&self, location: &[Segment]) -> Option<(usize, Tolerance)> {
        self.tolerance
            .iter()
            .find(|r| r.applies(location))
            .map(|r| (r.id, r.action))
    }

    /// Applies every normalisation that covers `location` to `text`, numbering placeholders in
    /// `state`; returns the result and the ids of the rules that changed it.
    pub fn normalize<'t>(
        &self,
        location: &[Segment],
        text: &'t str,
        state: &mut Placeholders,
    ) -> (Cow<'t, str>, Vec<usize>) {
        let mut current = Cow::Borrowed(text);
        let mut hits = Vec::new();
        for rule in self.normalize.iter().filter(|r| r.applies(location)) {
            let replaced = match &rule.action.replace {
                Replacement::Text(replace) => {
                    rule.action.regex.replace_all(&current, replace.as_str())
                }
                Replacement::Placeholder(name) => {
                    match placeholders(&rule.action.regex, &current, name, |matched| {
                        let next = state.next.entry(rule.id).or_insert(0);
                        *state
                            .ids
                            .entry((rule.id, matched.to_owned()))
                            .or_insert_with(|| {
                                *next += 1;
                                *next
                            })
                    }) {
                        Some(text) => Cow::Owned(text),
                        None => Cow::Borrowed(current.as_ref()),
                    }
                }
            };
            if let Cow::Owned(changed) = replaced {
                if changed != current {
                    hits.push(rule.id);
                }
                current = Cow::Owned(changed);
            }
        }
        (current, hits)
    }

    /// Like [`Rules::normalize`] but without numbering: placeholders become `<name>`. Used for
    /// fingerprints, where numbering would depend on visiting order.
    pub fn normalize_unnumbered<'t>(&self, location: &[Segment], text: &'t str) -> Cow<'t, str> {
        let mut current = Cow::Borrowed(text);
        for rule in self.normalize.iter().filter(|r| r.applies(location)) {
            let replaced = match &rule.action.replace {
                Replacement::Text(replace) => {
                    rule.action.regex.replace_all(&current, replace.as_str())
                }
                Replacement::Placeholder(name) => {
                    // Numbers differ between sides; the fingerprint keeps only the name.
                    let unnumbered = strip_numbers(&current, name);
                    let replaced = placeholders(&rule.action.regex, &unnumbered, name, |_| 0)
                        .map(|text| text.replace(&format!("<{name}-0>"), &format!("<{name}>")));
                    Cow::Owned(replaced.unwrap_or(unnumbered))
                }
            };
            if let Cow::Owned(changed) = replaced {
                current = Cow::Owned(changed);
            }
        }
        current
    }

    /// True when a normalisation numbers its matches, so every value must be visited in order.
    pub fn has_placeholders(&self) -> bool {
        self.normalize
            .iter()
            .any(|r| matches!(r.action.replace, Replacement::Placeholder(_)))
    }

    pub fn has_normalize(&self) -> bool {
        !self.normalize.is_empty()
    }

    /// Adds keyed matching of top-level records (`key = [...]` on NDJSON and CSV outputs).
    pub fn with_record_key(mut self, id: usize, fields: Vec<String>) -> Self {
        self.matching.insert(
            0,
            Rule {
                id,
                path: Some(JsonPath::root()),
                action: ArrayMatch::Keyed(fields),
            },
        );
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_bounds_are_inclusive() {
        let abs = Tolerance {
            abs: Some(0.5),
            rel: None,
        };
        assert!(abs.allows(1.0, 1.5));
        assert!(!abs.allows(1.0, 1.5000001));
        let rel = Tolerance {
            abs: None,
            rel: Some(0.1),
        };
        assert!(rel.allows(100.0, 110.0));
        assert!(!rel.allows(100.0, 112.0));
        let none = Tolerance {
            abs: None,
            rel: None,
        };
        assert!(!none.allows(1.0, 1.0 + f64::EPSILON));
    }

    proptest::proptest! {
        /// Normalising a normalised text changes nothing (for redactions whose replacement does
        /// not match their own pattern, which is what normalisation rules are for).
        #[test]
        fn normalisation_is_idempotent(text in "[a-z0-9 :-]{0,40}") {
            let rules = Rules {
                normalize: vec![
                    Rule { id: 0, path: None, action: Normalize { regex: Regex::new(r"\d{4}-\d\d-\d\d").unwrap(), replace: Replacement::Text("<date>".into()) } },
                    Rule { id: 1, path: None, action: Normalize { regex: Regex::new(r"[0-9a-f]{4}-[0-9a-f]{2}").unwrap(), replace: Replacement::Placeholder("id".into()) } },
                    Rule { id: 2, path: None, action: Normalize { regex: Regex::new(r"\d+").unwrap(), replace: Replacement::Text("N".into()) } },
                ],
                ..Rules::default()
            };
            let once = rules.normalize(&[], &text, &mut Placeholders::default()).0.into_owned();
            let twice = rules.normalize(&[], &once, &mut Placeholders::default()).0.into_owned();
            proptest::prop_assert_eq!(twice, once);
        }
    }

    #[test]
    fn placeholders_keep_identity_per_side() {
        let rules = Rules {
            normalize: vec![Rule {
                id: 0,
                path: None,
                action: Normalize {
                    regex: Regex::new("[0-9a-f]{4}-[0-9a-f]{4}").unwrap(),
                    replace: Replacement::Placeholder("id".into()),
                },
            }],
            ..Rules::default()
        };
        let mut left = Placeholders::default();
        let mut right = Placeholders::default();
        let l: Vec<String> = ["a1b2-c3d4 x", "ffff-0000", "a1b2-c3d4"]
            .iter()
            .map(|t| rules.normalize(&[], t, &mut left).0.into_owned())
            .collect();
        let r: Vec<String> = ["9999-8888 x", "1111-2222", "9999-8888"]
            .iter()
            .map(|t| rules.normalize(&[], t, &mut right).0.into_owned())
            .collect();
        assert_eq!(l, ["<id-1> x", "<id-2>", "<id-1>"]);
        assert_eq!(l, r);
        assert_eq!(rules.normalize_unnumbered(&[], "a1b2-c3d4"), "<id>");
        assert_eq!(
            rules.normalize_unnumbered(&[], "<id-3> and a1b2-c3d4"),
            "<id> and <id>"
        );
        // A stored placeholder is left alone even when the pattern would match inside it.
        let greedy = Rules {
            normalize: vec![Rule {
                id: 0,
                path: None,
                action: Normalize {
                    regex: Regex::new(r"id-\d+").unwrap(),
                    replace: Replacement::Placeholder("id".into()),
                },
            }],
            ..Rules::default()
        };
        let (once, _) = greedy.normalize(&[], "id-7 then <id-1>", &mut Placeholders::default());
        assert_eq!(once, "<id-1> then <id-1>");
        let (twice, _) = greedy.normalize(&[], &once, &mut Placeholders::default());
        assert_eq!(twice, once);
    }

    #[test]
    fn normalisation_reports_only_rules_that_changed_the_text() {
        let rules = Rules {
            normalize: vec![
                Rule {
                    id: 3,
                    path: None,
                    action: Normalize {
                        regex: Regex::new(r"\d{4}-\d\d-\d\d").unwrap(),
                        replace: Replacement::Text("<date>".into()),
                    },
                },
                Rule {
                    id: 4,
                    path: None,
                    action: Normalize {
                        regex: Regex::new("never").unwrap(),
                        replace: Replacement::Text("x".into()),
                    },
                },
            ],
            ..Rules::default()
        };
        let state = &mut Placeholders::default();
        let (text, hits) = rules.normalize(&[], "on 2026-11-22 and 2026-11-23", state);
        assert_eq!(text, "on <date> and <date>");
        assert_eq!(hits, vec![3]);
        let (text, hits) = rules.normalize(&[], "nothing here", state);
        assert!(matches!(text, Cow::Borrowed(_)));
        assert!(hits.is_empty());
    }
}

//! Compiled comparison rules: what to ignore, how to pair array elements, numeric tolerance and
//! string normalisation. A differ asks [`Rules`] at each node it visits.
//!
//! Every rule has an `id` (its position in the run's rule list, see `config`), and each time a
//! rule suppresses or rewrites a value the differ records a hit under that id, so reports can say
//! how much each rule hid and flag rules that never applied as stale.

use std::borrow::Cow;

use regex::Regex;

use super::path::{JsonPath, Segment};

/// How the elements of an array are paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArrayMatch {
    /// Element `i` with element `i` (the default).
    Positional,
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

/// A regex replacement applied to strings (or text lines) on both sides before comparing.
#[derive(Debug, Clone)]
pub struct Normalize {
    pub regex: Regex,
    pub replace: String,
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
            .map_or((None, &ArrayMatch::Positional), |r| (Some(r.id), &r.action))
    }

    /// The tolerance for numbers at `location`.
    pub fn tolerance(&self, location: &[Segment]) -> Option<(usize, Tolerance)> {
        self.tolerance
            .iter()
            .find(|r| r.applies(location))
            .map(|r| (r.id, r.action))
    }

    /// Applies every normalisation that covers `location` to `text`; returns the result and the
    /// ids of the rules that changed it.
    pub fn normalize<'t>(&self, location: &[Segment], text: &'t str) -> (Cow<'t, str>, Vec<usize>) {
        let mut current = Cow::Borrowed(text);
        let mut hits = Vec::new();
        for rule in self.normalize.iter().filter(|r| r.applies(location)) {
            if let Cow::Owned(changed) = rule
                .action
                .regex
                .replace_all(&current, &rule.action.replace)
            {
                if changed != current {
                    hits.push(rule.id);
                }
                current = Cow::Owned(changed);
            }
        }
        (current, hits)
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

    #[test]
    fn normalisation_reports_only_rules_that_changed_the_text() {
        let rules = Rules {
            normalize: vec![
                Rule {
                    id: 3,
                    path: None,
                    action: Normalize {
                        regex: Regex::new(r"\d{4}-\d\d-\d\d").unwrap(),
                        replace: "<date>".into(),
                    },
                },
                Rule {
                    id: 4,
                    path: None,
                    action: Normalize {
                        regex: Regex::new("never").unwrap(),
                        replace: "x".into(),
                    },
                },
            ],
            ..Rules::default()
        };
        let (text, hits) = rules.normalize(&[], "on 2026-11-22 and 2026-11-23");
        assert_eq!(text, "on <date> and <date>");
        assert_eq!(hits, vec![3]);
        let (text, hits) = rules.normalize(&[], "nothing here");
        assert!(matches!(text, Cow::Borrowed(_)));
        assert!(hits.is_empty());
    }
}

//! 128-bit fingerprints of JSON values, for pairing array elements before comparing them
//! (aligned, set and multiset matching).
//!
//! [`exact`] treats values as equal when they are equal as JSON, numbers by value (so `1.0` and
//! `1` agree). [`under_rules`] also applies the comparison's rules: ignored members are skipped,
//! strings are normalised (placeholders unnumbered), numbers under a tolerance rule hash alike,
//! left-side values and member names are mapped to their candidate equivalents, and arrays that a
//! rule compares without order hash without order. Equal fingerprints only propose a pairing:
//! the walker still compares each pair, so a collision or a tolerance exceeded is never hidden.

use serde_json::Value;
use xxhash_rust::xxh3::Xxh3;

use super::cell::CellNumber;
use super::cell::Leaves;
use super::path::{JsonPath, Segment};
use super::rules::{ArrayMatch, Rules};

/// The fingerprint of `value` as plain JSON (or cells).
pub fn exact(value: &Value, leaves: Leaves) -> u128 {
    Fingerprinter {
        rules: None,
        leaves,
        left: false,
    }
    .value(value, &mut JsonPath::root())
}

/// The fingerprint of `value` at `path` under `rules`, seen from the left side when `left`.
pub fn under_rules(
    value: &Value,
    path: &mut JsonPath,
    (rules, leaves): (&Rules, Leaves),
    left: bool,
) -> u128 {
    Fingerprinter {
        rules: Some(rules),
        leaves,
        left,
    }
    .value(value, path)
}

struct Fingerprinter<'r> {
    rules: Option<&'r Rules>,
    leaves: Leaves,
    left: bool,
}

impl Fingerprinter<'_> {
    /// Whether a tolerance rule covers `path`: such numbers hash alike, the walker decides.
    fn tolerated(&self, path: &JsonPath) -> bool {
        self.rules
            .is_some_and(|r| r.tolerance(path.segments()).is_some())
    }

    fn value(&self, value: &Value, path: &mut JsonPath) -> u128 {
        let mut hasher = Xxh3::new();
        if let Some(rules) = self.rules
            && self.left
            && let Some((_, mapped)) = rules.mapped(path.segments(), value)
        {
            let mapped = mapped.clone();
            return Fingerprinter {
                rules: self.rules,
                leaves: self.leaves,
                left: false,
            }
            .value(&mapped, path);
        }
        match value {
            Value::Null => hasher.update(b"n"),
            Value::Bool(b) => hasher.update(if *b { b"t" } else { b"f" }),
            Value::String(s)
                if self.leaves == Leaves::Cells
                    && let Some(number) = CellNumber::parse(s) =>
            {
                // A number cell hashes as its value, as the walker compares it.
                hasher.update(b"#");
                if !self.tolerated(path) {
                    hasher.update(&number.canonical());
                }
            }
            Value::Number(n) => {
                hasher.update(b"#");
                if !self.tolerated(path) {
                    // By value, so 1 and 1.0 agree; -0.0 and 0.0 too.
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    let f = if f == 0.0 { 0.0 } else { f };
                    hasher.update(&f.to_bits().to_le_bytes());
                }
            }
            Value::String(s) => {
                hasher.update(b"s");
                match self.rules {
                    Some(rules) => {
                        hasher.update(rules.normalize_unnumbered(path.segments(), s).as_bytes())
                    }
                    None => hasher.update(s.as_bytes()),
                }
            }
            Value::Array(items) => {
                hasher.update(b"[");
                let unordered = self.rules.is_some_and(|r| {
                    matches!(
                        r.array_match(path.segments()).1,
                        ArrayMatch::Set | ArrayMatch::Multiset | ArrayMatch::Keyed(_)
                    )
                });
                let mut children: Vec<u128> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        path.push(Segment::Index(i));
                        let fp = self.value(item, path);
                        path.pop();
                        fp
                    })
                    .collect();
                if unordered {
                    children.sort_unstable();
                }
                for child in children {
                    hasher.update(&child.to_le_bytes());
                }
            }
            Value::Object(map) => {
                hasher.update(b"{");
                let mut members: Vec<(&str, &Value)> = map
                    .iter()
                    .map(|(k, v)| {
                        let name = match (self.rules, self.left) {
                            (Some(rules), true) => rules
                                .renamed(path.segments(), k)
                                .map_or(k.as_str(), |(_, n)| n),
                            _ => k.as_str(),
                        };
                        (name, v)
                    })
                    .collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                for (name, child) in members {
                    path.push(Segment::Field(name.to_owned()));
                    let ignored = self
                        .rules
                        .is_some_and(|r| r.ignored(path.segments()).is_some());
                    if !ignored {
                        hasher.update(name.as_bytes());
                        hasher.update(b"\0");
                        hasher.update(&self.value(child, path).to_le_bytes());
                    }
                    path.pop();
                }
            }
        }
        hasher.digest128()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diff::rules::{Rule, Tolerance};

    #[test]
    fn exact_fingerprints_follow_json_equality() {
        assert_eq!(
            exact(&json!({"a": 1, "b": [1, 2]}), Leaves::Json),
            exact(&json!({"b": [1.0, 2], "a": 1.0}), Leaves::Json)
        );
        assert_ne!(
            exact(&json!([1, 2]), Leaves::Json),
            exact(&json!([2, 1]), Leaves::Json)
        );
        assert_ne!(
            exact(&json!("1"), Leaves::Json),
            exact(&json!(1), Leaves::Json)
        );
        assert_ne!(
            exact(&json!({"a": null}), Leaves::Json),
            exact(&json!({}), Leaves::Json)
        );
        assert_eq!(
            exact(&json!(["1.0", "x"]), Leaves::Cells),
            exact(&json!(["1", "x"]), Leaves::Cells)
        );
        assert_ne!(
            exact(&json!(["1.0"]), Leaves::Json),
            exact(&json!(["1"]), Leaves::Json)
        );
    }

    #[test]
    fn rule_aware_fingerprints_skip_what_the_rules_hide() {
        let rules = Rules {
            ignore: vec![Rule {
                id: 0,
                path: Some(JsonPath::parse("$[*].ts").unwrap()),
                action: (),
            }],
            tolerance: vec![Rule {
                id: 1,
                path: Some(JsonPath::parse("$..score").unwrap()),
                action: Tolerance {
                    abs: Some(0.1),
                    rel: None,
                },
            }],
            ..Rules::default()
        };
        let at = |i| JsonPath::root().child(Segment::Index(i));
        let a = under_rules(
            &json!({"id": 1, "ts": 5, "score": 0.5}),
            &mut at(0),
            (&rules, Leaves::Json),
            true,
        );
        let b = under_rules(
            &json!({"id": 1, "ts": 9, "score": 0.55}),
            &mut at(3),
            (&rules, Leaves::Json),
            false,
        );
        let c = under_rules(
            &json!({"id": 2, "ts": 5, "score": 0.5}),
            &mut at(0),
            (&rules, Leaves::Json),
            false,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

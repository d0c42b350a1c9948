//! The structural differ: walks two `serde_json::Value` trees together, applying [`Rules`].
//!
//! JSON documents, NDJSON streams (an array of records) and CSV tables (an array of objects of
//! strings) all end up here. Object member order never matters: members are visited in sorted
//! order. Arrays are paired as their match rule says (positional by default).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Number, Value};

use super::model::{DiffKind, Difference, Findings};
use super::path::{JsonPath, Segment, key_filter, value_filter};
use super::rules::{ArrayMatch, Rules};

/// Compares two values and records what differs under `root`.
pub fn diff_values(left: &Value, right: &Value, rules: &Rules, findings: &mut Findings<'_>) {
    let mut walker = Walker {
        rules,
        findings,
        path: JsonPath::root(),
    };
    walker.node(left, right);
}

struct Walker<'r, 'f, 'w> {
    rules: &'r Rules,
    findings: &'f mut Findings<'w>,
    path: JsonPath,
}

impl Walker<'_, '_, '_> {
    fn here(&self) -> String {
        self.path.to_string()
    }

    fn emit(&mut self, kind: DiffKind, left: Option<&Value>, right: Option<&Value>) {
        let difference = Difference::new(self.here(), kind)
            .left(left.cloned())
            .right(right.cloned());
        self.findings.push(difference);
    }

    /// Visits `segment` below the current path, unless an ignore rule covers it.
    fn child(&mut self, segment: Segment, left: Option<&Value>, right: Option<&Value>) {
        self.path.push(segment);
        if let Some(rule) = self.rules.ignored(self.path.segments()) {
            if left != right {
                self.findings.rule_hit(rule);
            }
        } else {
            match (left, right) {
                (Some(l), Some(r)) => self.node(l, r),
                (Some(_), None) => self.emit(DiffKind::Removed, left, None),
                (None, Some(_)) => self.emit(DiffKind::Added, None, right),
                (None, None) => {}
            }
        }
        self.path.pop();
    }

    fn node(&mut self, left: &Value, right: &Value) {
        if left == right {
            return;
        }
        match (left, right) {
            (Value::Object(l), Value::Object(r)) => {
                let keys: BTreeSet<&String> = l.keys().chain(r.keys()).collect();
                for key in keys {
                    self.child(Segment::Field(key.clone()), l.get(key), r.get(key));
                }
            }
            (Value::Array(l), Value::Array(r)) => self.array(l, r),
            (Value::Number(l), Value::Number(r)) => self.number(l, r, left, right),
            (Value::String(l), Value::String(r)) => self.string(l, r, left, right),
            (Value::Bool(_), Value::Bool(_)) => {
                self.emit(DiffKind::Changed, Some(left), Some(right))
            }
            _ => self.emit(DiffKind::TypeChanged, Some(left), Some(right)),
        }
    }

    fn number(&mut self, l: &Number, r: &Number, left: &Value, right: &Value) {
        if numbers_equal(l, r) {
            return;
        }
        let (Some(lf), Some(rf)) = (l.as_f64(), r.as_f64()) else {
            return self.emit(DiffKind::Changed, Some(left), Some(right));
        };
        match self.rules.tolerance(self.path.segments()) {
            Some((rule, tolerance)) if tolerance.allows(lf, rf) => self.findings.rule_hit(rule),
            Some((_, tolerance)) => {
                let difference = Difference::new(self.here(), DiffKind::OverTolerance)
                    .left(left.clone())
                    .right(right.clone())
                    .note(format!(
                        "differs by {:e}, tolerance {}",
                        (lf - rf).abs(),
                        tolerance.describe()
                    ));
                self.findings.push(difference);
            }
            None => self.emit(DiffKind::Changed, Some(left), Some(right)),
        }
    }

    fn string(&mut self, l: &str, r: &str, left: &Value, right: &Value) {
        if self.rules.has_normalize() {
            let (ln, lhits) = self.rules.normalize(self.path.segments(), l);
            let (rn, rhits) = self.rules.normalize(self.path.segments(), r);
            if ln == rn {
                let hits: BTreeSet<usize> = lhits.into_iter().chain(rhits).collect();
                for rule in hits {
                    self.findings.rule_hit(rule);
                }
                return;
            }
        }
        self.emit(DiffKind::Changed, Some(left), Some(right));
    }

    fn array(&mut self, l: &[Value], r: &[Value]) {
        let (rule, mode) = self.rules.array_match(self.path.segments());
        if let Some(rule) = rule {
            self.findings.rule_hit(rule);
        }
        match mode {
            ArrayMatch::Positional => self.positional(l, r),
            ArrayMatch::Keyed(fields) => {
                let fields = fields.clone();
                self.keyed(l, r, &fields);
            }
            ArrayMatch::Set => self.set(l, r, false),
            ArrayMatch::Multiset => self.set(l, r, true),
        }
    }

    fn positional(&mut self, l: &[Value], r: &[Value]) {
        for i in 0..l.len().max(r.len()) {
            self.child(Segment::Index(i), l.get(i), r.get(i));
        }
    }

    /// Pairs elements by key. A key seen several times on one side is reported as a
    /// `duplicate_key` finding and its occurrences are paired in order, never collapsed.
    fn keyed(&mut self, l: &[Value], r: &[Value], fields: &[String]) {
        let left = group_by_key(l, fields);
        let right = group_by_key(r, fields);
        let mut order: Vec<&String> = Vec::new();
        let mut seen = BTreeSet::new();
        for key in left.order.iter().chain(&right.order) {
            if seen.insert(key) {
                order.push(key);
            }
        }
        for key in order {
            let lg = left.groups.get(key.as_str());
            let rg = right.groups.get(key.as_str());
            let Some(key_values) = lg.or(rg).map(|g| &g.values) else {
                continue;
            };
            let lidx = lg.map_or(&[][..], |g| &g.indices[..]);
            let ridx = rg.map_or(&[][..], |g| &g.indices[..]);
            let segment = key_filter(fields, key_values);
            for (side, indices) in [("left", lidx), ("right", ridx)] {
                if indices.len() > 1 {
                    self.path.push(segment.clone());
                    let elements = if side == "left" { l } else { r };
                    let occurrences =
                        Value::Array(indices.iter().map(|&i| elements[i].clone()).collect());
                    let difference =
                        Difference::new(self.here(), DiffKind::DuplicateKey).note(format!(
                            "{} elements with this key on the {side} side",
                            indices.len()
                        ));
                    let difference = if side == "left" {
                        difference.left(occurrences)
                    } else {
                        difference.right(occurrences)
                    };
                    self.findings.push(difference);
                    self.path.pop();
                }
            }
            for k in 0..lidx.len().max(ridx.len()) {
                let lv = lidx.get(k).map(|&i| &l[i]);
                let rv = ridx.get(k).map(|&i| &r[i]);
                self.child(segment.clone(), lv, rv);
            }
        }
    }

    /// Compares as a set (or multiset): elements are equal when their canonical JSON is equal.
    fn set(&mut self, l: &[Value], r: &[Value], counted: bool) {
        let left = count_members(l);
        let right = count_members(r);
        let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
        for key in keys {
            let (lc, lv) = left.get(key).map_or((0, None), |(c, v)| (*c, Some(*v)));
            let (rc, rv) = right.get(key).map_or((0, None), |(c, v)| (*c, Some(*v)));
            let Some(value) = lv.or(rv) else { continue };
            let differs = if counted {
                lc != rc
            } else {
                (lc == 0) != (rc == 0)
            };
            if !differs {
                continue;
            }
            self.path.push(value_filter(value));
            let kind = if lc > rc {
                DiffKind::Removed
            } else {
                DiffKind::Added
            };
            let mut difference = Difference::new(self.here(), kind)
                .left((lc > 0).then(|| value.clone()))
                .right((rc > 0).then(|| value.clone()));
            if counted && lc > 0 && rc > 0 {
                difference =
                    difference.note(format!("occurs {lc} times on the left, {rc} on the right"));
            }
            self.findings.push(difference);
            self.path.pop();
        }
    }
}

/// Integers compare exactly; anything else by value as f64, so `1.0` equals `1`.
pub fn numbers_equal(l: &Number, r: &Number) -> bool {
    if let (Some(a), Some(b)) = (l.as_i64(), r.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (l.as_u64(), r.as_u64()) {
        return a == b;
    }
    match (l.as_f64(), r.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

struct KeyGroup {
    values: Vec<Value>,
    indices: Vec<usize>,
}

struct Grouped {
    /// Canonical key text in order of first appearance.
    order: Vec<String>,
    groups: BTreeMap<String, KeyGroup>,
}

fn group_by_key(elements: &[Value], fields: &[String]) -> Grouped {
    let mut grouped = Grouped {
        order: Vec::new(),
        groups: BTreeMap::new(),
    };
    for (i, element) in elements.iter().enumerate() {
        let values: Vec<Value> = fields
            .iter()
            .map(|f| element.get(f).cloned().unwrap_or(Value::Null))
            .collect();
        let canonical = Value::Array(values.clone()).to_string();
        match grouped.groups.get_mut(&canonical) {
            Some(group) => group.indices.push(i),
            None => {
                grouped.order.push(canonical.clone());
                grouped.groups.insert(
                    canonical,
                    KeyGroup {
                        values,
                        indices: vec![i],
                    },
                );
            }
        }
    }
    grouped
}

fn count_members(elements: &[Value]) -> BTreeMap<String, (usize, &Value)> {
    let mut counts: BTreeMap<String, (usize, &Value)> = BTreeMap::new();
    for element in elements {
        counts.entry(element.to_string()).or_insert((0, element)).0 += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::diff::rules::{Normalize, Rule, Tolerance};
    use crate::diff::{NoWaivers, path::JsonPath};

    fn rule<T>(id: usize, path: &str, action: T) -> Rule<T> {
        Rule {
            id,
            path: Some(JsonPath::parse(path).unwrap()),
            action,
        }
    }

    fn run(left: &Value, right: &Value, rules: &Rules) -> crate::diff::FindingsSummary {
        let mut findings = Findings::new("x", &NoWaivers, usize::MAX);
        diff_values(left, right, rules, &mut findings);
        findings.finish()
    }

    fn found(left: Value, right: Value, rules: &Rules) -> Vec<(String, &'static str)> {
        run(&left, &right, rules)
            .differences
            .iter()
            .map(|d| (d.path.clone(), d.kind.as_str()))
            .collect()
    }

    fn pairs(items: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        items.iter().map(|(p, k)| ((*p).to_owned(), *k)).collect()
    }

    #[test]
    fn kinds_of_difference() {
        let none = Rules::default();
        let cases = [
            (json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1}), vec![]),
            (json!({"a": 1}), json!({"a": 1.0}), vec![]),
            (
                json!({"a": 1}),
                json!({"a": "1"}),
                vec![("$.a", "type_changed")],
            ),
            (json!({"a": null}), json!({}), vec![("$.a", "removed")]),
            (json!({}), json!({"a": null}), vec![("$.a", "added")]),
            (
                json!({"a": true}),
                json!({"a": false}),
                vec![("$.a", "changed")],
            ),
            (json!([1, 2]), json!([1, 2, 3]), vec![("$[2]", "added")]),
            (
                json!([1, 2, 3]),
                json!([1, 3]),
                vec![("$[1]", "changed"), ("$[2]", "removed")],
            ),
            (
                json!({"x y": {"z": 1}}),
                json!({"x y": {"z": 2}}),
                vec![("$['x y'].z", "changed")],
            ),
        ];
        for (left, right, expected) in cases {
            assert_eq!(
                found(left.clone(), right.clone(), &none),
                pairs(&expected),
                "{left} vs {right}"
            );
        }
    }

    #[test]
    fn keyed_matching_pairs_by_key_and_reports_duplicates() {
        let rules = Rules {
            matching: vec![rule(0, "$.items", ArrayMatch::Keyed(vec!["id".into()]))],
            ..Rules::default()
        };
        let left = json!({"items": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]});
        let right = json!({"items": [{"id": 2, "v": "B"}, {"id": 1, "v": "a"}]});
        assert_eq!(
            found(left, right, &rules),
            pairs(&[("$.items[?@.id==2].v", "changed")])
        );
        let left = json!({"items": [{"id": 1}, {"id": 1, "v": 2}]});
        let right = json!({"items": [{"id": 1}]});
        assert_eq!(
            found(left, right, &rules),
            pairs(&[
                ("$.items[?@.id==1]", "duplicate_key"),
                ("$.items[?@.id==1]", "removed")
            ])
        );
    }

    #[test]
    fn sets_and_multisets() {
        let set = Rules {
            matching: vec![rule(0, "$.s", ArrayMatch::Set)],
            ..Rules::default()
        };
        assert!(found(json!({"s": [1, 2, 2]}), json!({"s": [2, 1]}), &set).is_empty());
        assert_eq!(
            found(json!({"s": ["a"]}), json!({"s": ["b"]}), &set),
            pairs(&[("$.s[?@=='a']", "removed"), ("$.s[?@=='b']", "added")])
        );
        let multiset = Rules {
            matching: vec![rule(0, "$.s", ArrayMatch::Multiset)],
            ..Rules::default()
        };
        assert_eq!(
            found(json!({"s": [1, 2, 2]}), json!({"s": [2, 1]}), &multiset),
            pairs(&[("$.s[?@==2]", "removed")])
        );
    }

    #[test]
    fn rules_suppress_and_count() {
        let rules = Rules {
            ignore: vec![rule(0, "$..ts", ())],
            tolerance: vec![rule(
                1,
                "$.score",
                Tolerance {
                    abs: Some(1e-9),
                    rel: None,
                },
            )],
            normalize: vec![Rule {
                id: 2,
                path: Some(JsonPath::parse("$.msg").unwrap()),
                action: Normalize {
                    regex: regex::Regex::new(r"\d+").unwrap(),
                    replace: "<n>".into(),
                },
            }],
            ..Rules::default()
        };
        let left = json!({"ts": 1, "deep": {"ts": 2}, "score": 0.1, "msg": "took 12 ms"});
        let right = json!({"ts": 3, "deep": {"ts": 2}, "score": 0.1 + 1e-12, "msg": "took 15 ms"});
        let summary = run(&left, &right, &rules);
        assert!(summary.differences.is_empty(), "{:?}", summary.differences);
        assert_eq!(
            summary.rule_hits.into_iter().collect::<Vec<_>>(),
            [(0, 1), (1, 1), (2, 1)]
        );
        let over = run(&json!({"score": 1.0}), &json!({"score": 1.1}), &rules);
        assert_eq!(over.differences[0].kind, DiffKind::OverTolerance);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-e]{1,3}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Serialises objects with their members in reverse order, to show order never matters.
    fn reversed(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let members: Vec<String> = map
                    .iter()
                    .rev()
                    .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed(v)))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Value::Array(items) => format!(
                "[{}]",
                items.iter().map(reversed).collect::<Vec<_>>().join(",")
            ),
            other => other.to_string(),
        }
    }

    proptest! {
        #[test]
        fn a_value_never_differs_from_itself(value in json_value()) {
            prop_assert!(run(&value, &value, &Rules::default()).differences.is_empty());
        }

        #[test]
        fn swapping_sides_swaps_every_difference(left in json_value(), right in json_value()) {
            let forward = run(&left, &right, &Rules::default()).differences;
            let backward = run(&right, &left, &Rules::default()).differences;
            let swapped: Vec<_> = forward.into_iter().map(|d| d.swapped()).collect();
            prop_assert_eq!(swapped, backward);
        }

        #[test]
        fn object_member_order_never_matters(value in json_value()) {
            let text = reversed(&value);
            let mut findings = Findings::new("x", &NoWaivers, usize::MAX);
            let canonical = value.to_string();
            let status = crate::diff::compare(
                crate::diff::Format::Json,
                &crate::diff::DiffSpec::default(),
                &crate::diff::Input { side: "left", name: "x", bytes: canonical.as_bytes() },
                &crate::diff::Input { side: "right", name: "x", bytes: text.as_bytes() },
                &mut findings,
            );
            prop_assert!(status.is_success() && findings.total() == 0, "{} vs {}", canonical, text);
        }

        #[test]
        fn keyed_matching_ignores_record_order(
            records in prop::collection::btree_map(0u32..1000, json_value(), 0..20),
            seed in any::<u64>(),
        ) {
            let items: Vec<Value> = records.iter().map(|(id, v)| json!({"id": id, "v": v})).collect();
            let mut shuffled = items.clone();
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let rules = Rules { matching: vec![rule(0, "$", ArrayMatch::Keyed(vec!["id".into()]))], ..Rules::default() };
            prop_assert!(run(&Value::Array(items), &Value::Array(shuffled), &rules).differences.is_empty());
        }
    }
}

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

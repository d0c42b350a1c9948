//! The structural differ: walks two `serde_json::Value` trees together, applying [`Rules`].
//!
//! JSON documents, NDJSON streams (an array of records) and CSV tables (an array of objects of
//! strings) all end up here. Object member order never matters: members are visited in sorted
//! order. Arrays are paired as their match rule says: aligned by a longest common subsequence
//! (the default), by position, by key, or as a set or multiset. An array whose elements are the
//! same in another order is one `order_changed` difference, not one per element.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Number, Value};
use similar::{Algorithm, DiffOp};

use super::cell::CellNumber;
pub use super::cell::Leaves;
use super::fingerprint;
use super::model::{DiffKind, Difference, Findings};
use super::path::{JsonPath, Segment, key_filter, value_filter};
use super::rules::{ArrayMatch, Placeholders, Rules};
use super::table::RowMarks;

/// Alignment is quadratic in the worst case; past this many elements (after the common prefix
/// and suffix are set aside) arrays are compared by position instead, deterministically.
pub const ALIGN_LIMIT: usize = 5_000;

/// Compares two values and records what differs.
pub fn diff_values(left: &Value, right: &Value, rules: &Rules, findings: &mut Findings<'_>) {
    diff_values_as(Leaves::Json, left, right, rules, findings);
}

/// Compares two values whose strings are `leaves`, and records what differs.
pub fn diff_values_as(
    leaves: Leaves,
    left: &Value,
    right: &Value,
    rules: &Rules,
    findings: &mut Findings<'_>,
) {
    Walker::new(leaves, JsonPath::root(), rules, findings).node(left, right);
}

/// Compares two arrays at `path` as the walker compares arrays that differ, even when these two
/// are equal: for parts of larger arrays that differ, compared piece by piece (streaming).
pub fn diff_arrays_at(
    leaves: Leaves,
    path: JsonPath,
    left: &[Value],
    right: &[Value],
    rules: &Rules,
    findings: &mut Findings<'_>,
) {
    Walker::new(leaves, path, rules, findings).array(left, right);
}

struct Walker<'r, 'f, 'w> {
    rules: &'r Rules,
    leaves: Leaves,
    findings: &'f mut Findings<'w>,
    path: JsonPath,
    /// Placeholder numbering of the left and right sides.
    placeholders: [Placeholders; 2],
    /// Walk equal subtrees too, so placeholders are numbered in the same order on both sides.
    visit_equal: bool,
    /// The pair of rows of a summarised table being compared (see [`super::table`]).
    row: Option<RowMarks>,
}

impl<'r, 'f, 'w> Walker<'r, 'f, 'w> {
    fn new(
        leaves: Leaves,
        path: JsonPath,
        rules: &'r Rules,
        findings: &'f mut Findings<'w>,
    ) -> Self {
        Walker {
            rules,
            leaves,
            findings,
            path,
            placeholders: [Placeholders::default(), Placeholders::default()],
            visit_equal: rules.has_placeholders(),
            row: None,
        }
    }
}

impl Walker<'_, '_, '_> {
    fn here(&self) -> String {
        self.path.to_string()
    }

    /// Records a difference at the current path (and, inside a summarised table's row, that
    /// the row differs there).
    fn push(&mut self, difference: Difference) {
        if let Some(row) = &mut self.row {
            row.mark(self.path.segments());
        }
        self.findings.push(difference);
    }

    fn emit(&mut self, kind: DiffKind, left: Option<&Value>, right: Option<&Value>) {
        let difference = Difference::new(self.here(), kind)
            .left(left.cloned())
            .right(right.cloned());
        self.push(difference);
    }

    /// Visits `segment` below the current path, unless an ignore rule covers it.
    fn child(&mut self, segment: Segment, left: Option<&Value>, right: Option<&Value>) {
        // `null` against an absent member is its own kind; an array element is just added or removed.
        let member = matches!(segment, Segment::Field(_));
        self.path.push(segment);
        if let Some(rule) = self.rules.ignored(self.path.segments()) {
            if left != right {
                self.findings.rule_hit(rule);
            }
        } else {
            match (left, right) {
                (Some(l), Some(r)) => self.node(l, r),
                (Some(Value::Null), None) | (None, Some(Value::Null)) if member => {
                    self.emit(DiffKind::NullVsMissing, left, right)
                }
                (Some(_), None) => self.emit(DiffKind::Removed, left, None),
                (None, Some(_)) => self.emit(DiffKind::Added, None, right),
                (None, None) => {}
            }
        }
        self.path.pop();
    }

    fn node(&mut self, left: &Value, right: &Value) {
        if let Some((rule, mapped)) = self.rules.mapped(self.path.segments(), left) {
            self.findings.rule_hit(rule);
            let mapped = mapped.clone();
            return self.compare(&mapped, right);
        }
        self.compare(left, right);
    }

    fn compare(&mut self, left: &Value, right: &Value) {
        if left == right && !self.visit_equal {
            return;
        }
        match (left, right) {
            (Value::Object(l), Value::Object(r)) => self.object(l, r),
            (Value::Array(l), Value::Array(r)) => self.array(l, r),
            (Value::Number(l), Value::Number(r)) => self.number(l, r, left, right),
            (Value::String(l), Value::String(r)) => self.string(l, r, left, right),
            (Value::Bool(_), Value::Bool(_)) | (Value::Null, Value::Null) => {
                if left != right {
                    self.emit(DiffKind::Changed, Some(left), Some(right));
                }
            }
            _ => self.emit(DiffKind::TypeChanged, Some(left), Some(right)),
        }
    }

    fn object(&mut self, l: &serde_json::Map<String, Value>, r: &serde_json::Map<String, Value>) {
        // Left members under their candidate names, when a rename rule says so.
        let mut left: BTreeMap<&str, &Value> = BTreeMap::new();
        for (name, value) in l {
            let name = match self.rules.renamed(self.path.segments(), name) {
                Some((rule, renamed)) => {
                    self.findings.rule_hit(rule);
                    renamed
                }
                None => name.as_str(),
            };
            left.insert(name, value);
        }
        let names: BTreeSet<&str> = left
            .keys()
            .copied()
            .chain(r.keys().map(String::as_str))
            .collect();
        for name in names {
            self.child(
                Segment::Field(name.to_owned()),
                left.get(name).copied(),
                r.get(name),
            );
        }
    }

    fn number(&mut self, l: &Number, r: &Number, left: &Value, right: &Value) {
        if l == r {
            return;
        }
        self.numbers(numbers_equal(l, r), l.as_f64().zip(r.as_f64()), left, right);
    }

    /// Two numbers that are not spelled alike: the same value (`same`) is a `number_format`
    /// equivalence; different values are within or over a tolerance rule, measured as floats,
    /// or `changed`.
    fn numbers(&mut self, same: bool, floats: Option<(f64, f64)>, left: &Value, right: &Value) {
        if same {
            let difference = Difference::new(self.here(), DiffKind::NumberFormat)
                .left(left.clone())
                .right(right.clone());
            if self.rules.strict_numbers {
                self.push(difference);
            } else {
                self.findings.equivalent(difference);
            }
            return;
        }
        let Some((lf, rf)) = floats.filter(|(l, r)| l.is_finite() && r.is_finite()) else {
            return self.emit(DiffKind::Changed, Some(left), Some(right));
        };
        let mut difference = Difference::new(self.here(), DiffKind::Changed)
            .left(left.clone())
            .right(right.clone());
        if let Some((rule, tolerance)) = self.rules.tolerance(self.path.segments()) {
            let within = tolerance.allows(lf, rf);
            difference.kind = if within {
                DiffKind::WithinTolerance
            } else {
                DiffKind::OverTolerance
            };
            difference = difference.note(format!(
                "differs by {}, tolerance {}",
                crate::units::number((lf - rf).abs()),
                tolerance.describe()
            ));
            if within {
                self.findings.rule_hit(rule);
                self.findings.equivalent(difference);
                return;
            }
            self.findings.rule_judged(rule);
        }
        if let Some(row) = &mut self.row {
            row.numeric(self.path.segments(), lf - rf);
        }
        self.push(difference);
    }

    fn string(&mut self, l: &str, r: &str, left: &Value, right: &Value) {
        if self.leaves == Leaves::Cells
            && l != r
            && let (Some(a), Some(b)) = (CellNumber::parse(l), CellNumber::parse(r))
        {
            let floats = Some((a.to_f64(), b.to_f64()));
            return self.numbers(a == b, floats, left, right);
        }
        if self.rules.has_normalize() {
            let [lstate, rstate] = &mut self.placeholders;
            let (ln, lhits) = self.rules.normalize(self.path.segments(), l, lstate);
            let (rn, rhits) = self.rules.normalize(self.path.segments(), r, rstate);
            let hits: BTreeSet<usize> = lhits.into_iter().chain(rhits).collect();
            if ln == rn {
                if l != r {
                    for rule in hits {
                        self.findings.rule_hit(rule);
                    }
                }
                return;
            }
            for rule in hits {
                self.findings.rule_judged(rule);
            }
        } else if l == r {
            return;
        }
        self.emit(DiffKind::Changed, Some(left), Some(right));
    }

    fn array(&mut self, l: &[Value], r: &[Value]) {
        let (rule, mode) = self.rules.array_match(self.path.segments());
        if let Some(rule) = rule {
            self.findings.rule_hit(rule);
        }
        match mode {
            ArrayMatch::Positional | ArrayMatch::Aligned if self.order_only(l, r) => {}
            ArrayMatch::Positional => self.positional(l, r, 0, 0),
            ArrayMatch::Aligned => self.aligned(l, r),
            ArrayMatch::Keyed(fields) => {
                let fields = fields.clone();
                self.keyed(l, r, &fields);
            }
            ArrayMatch::Set => self.set(l, r, false),
            ArrayMatch::Multiset => self.set(l, r, true),
        }
    }

    /// Reports one `order_changed` when both arrays hold exactly the same elements in another
    /// order; returns whether it did.
    fn order_only(&mut self, l: &[Value], r: &[Value]) -> bool {
        if l.len() != r.len() || l.len() < 2 || self.visit_equal {
            return false;
        }
        let leaves = self.leaves;
        let mut lf: Vec<(u128, usize)> = l
            .iter()
            .enumerate()
            .map(|(i, v)| (fingerprint::exact(v, leaves), i))
            .collect();
        let mut rf: Vec<(u128, usize)> = r
            .iter()
            .enumerate()
            .map(|(i, v)| (fingerprint::exact(v, leaves), i))
            .collect();
        lf.sort_unstable();
        rf.sort_unstable();
        // Same multiset of fingerprints, and each pair really equal (no collision can hide a
        // change; under `strict_numbers` a respelled number is not equal).
        let equal = |a: &Value, b: &Value| {
            if self.rules.strict_numbers {
                a == b
            } else {
                equal_as(leaves, a, b)
            }
        };
        let same = lf
            .iter()
            .zip(&rf)
            .all(|((a, i), (b, j))| a == b && equal(&l[*i], &r[*j]));
        if !same {
            return false;
        }
        // Equal element by element (numbers spelled differently): not another order at all; the
        // walk reports the spellings.
        let Some(first) = l.iter().zip(r).position(|(a, b)| !equal(a, b)) else {
            return false;
        };
        let difference = Difference::new(self.here(), DiffKind::OrderChanged).note(format!(
            "the same {} elements in another order; first difference at index {first}",
            l.len()
        ));
        self.push(difference);
        true
    }

    /// Element `i` with element `i`, starting at the given offsets (for the middle of an
    /// alignment); paths use the left index, or the right one for added elements.
    fn positional(&mut self, l: &[Value], r: &[Value], loff: usize, roff: usize) {
        for i in 0..l.len().max(r.len()) {
            let index = if i < l.len() { loff + i } else { roff + i };
            self.child(Segment::Index(index), l.get(i), r.get(i));
        }
    }

    /// Aligns by a longest common subsequence of rule-aware fingerprints; unmatched runs are
    /// compared element by element, the rest added or removed.
    fn aligned(&mut self, l: &[Value], r: &[Value]) {
        let fingerprints = |items: &[Value], is_left: bool, path: &JsonPath| -> Vec<u128> {
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    fingerprint::under_rules(
                        v,
                        &mut path.child(Segment::Index(i)),
                        (self.rules, self.leaves),
                        is_left,
                    )
                })
                .collect()
        };
        let lf = fingerprints(l, true, &self.path);
        let rf = fingerprints(r, false, &self.path);
        let prefix = lf.iter().zip(&rf).take_while(|(a, b)| a == b).count();
        let suffix = lf[prefix..]
            .iter()
            .rev()
            .zip(rf[prefix..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        for i in 0..prefix {
            self.child(Segment::Index(i), Some(&l[i]), Some(&r[i]));
        }
        let (lmid, rmid) = (
            &lf[prefix..lf.len() - suffix],
            &rf[prefix..rf.len() - suffix],
        );
        if lmid.len() + rmid.len() > ALIGN_LIMIT {
            self.findings.note(format!(
                "{}: {} and {} differing elements are too many to align; compared by position (match by key with `by` to pair them)",
                self.here(),
                lmid.len(),
                rmid.len()
            ));
            self.positional(
                &l[prefix..l.len() - suffix],
                &r[prefix..r.len() - suffix],
                prefix,
                prefix,
            );
        } else {
            for op in similar::capture_diff_slices(Algorithm::Myers, lmid, rmid) {
                let (li, ri) = (op.old_range(), op.new_range());
                let (lo, ro) = (prefix + li.start, prefix + ri.start);
                match op {
                    DiffOp::Equal { len, .. } => {
                        for k in 0..len {
                            self.child(Segment::Index(lo + k), Some(&l[lo + k]), Some(&r[ro + k]));
                        }
                    }
                    DiffOp::Delete { .. } | DiffOp::Insert { .. } | DiffOp::Replace { .. } => {
                        self.positional(&l[lo..prefix + li.end], &r[ro..prefix + ri.end], lo, ro);
                    }
                }
            }
        }
        for k in 0..suffix {
            let (li, ri) = (l.len() - suffix + k, r.len() - suffix + k);
            self.child(Segment::Index(li), Some(&l[li]), Some(&r[ri]));
        }
    }

    /// Pairs elements by key. A key seen several times on one side is reported as a
    /// `duplicate_key` finding and its occurrences are paired in order, never collapsed.
    fn keyed(&mut self, l: &[Value], r: &[Value], fields: &[String]) {
        let left = group_by_key(l, fields);
        let right = group_by_key(r, fields);
        // The summarised table's rows are counted pair by pair.
        let table = self
            .findings
            .table()
            .is_some_and(|t| t.at() == self.path.segments());
        // Keys in order of first appearance, left then right. The maps are only looked up, never
        // iterated, so hashing cannot leak an order into the output.
        let mut order: Vec<&String> = Vec::with_capacity(left.order.len());
        let mut seen: HashSet<&str> = HashSet::with_capacity(left.order.len());
        for key in left.order.iter().chain(&right.order) {
            if seen.insert(key.as_str()) {
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
            // Most paired records are equal: skip them before building their path.
            if let ([i], [j]) = (lidx, ridx)
                && !self.visit_equal
                && l[*i] == r[*j]
            {
                continue;
            }
            let segment = key_filter(fields, key_values);
            for (is_left, indices, elements) in [(true, lidx, l), (false, ridx, r)] {
                if indices.len() > 1 {
                    self.path.push(segment.clone());
                    let occurrences =
                        Value::Array(indices.iter().map(|&i| elements[i].clone()).collect());
                    let side = if is_left { "left" } else { "right" };
                    let difference =
                        Difference::new(self.here(), DiffKind::DuplicateKey).note(format!(
                            "{} elements with this key on the {side} side",
                            indices.len()
                        ));
                    let difference = if is_left {
                        difference.left(occurrences)
                    } else {
                        difference.right(occurrences)
                    };
                    self.push(difference);
                    self.path.pop();
                }
            }
            for k in 0..lidx.len().max(ridx.len()) {
                let lv = lidx.get(k).map(|&i| &l[i]);
                let rv = ridx.get(k).map(|&i| &r[i]);
                if table && lv.is_some() && rv.is_some() {
                    self.table_row(segment.clone(), (lv, rv), key_values);
                } else {
                    self.child(segment.clone(), lv, rv);
                }
            }
        }
    }

    /// Compares one pair of rows of the summarised table, noting where they differ.
    fn table_row(
        &mut self,
        segment: Segment,
        (l, r): (Option<&Value>, Option<&Value>),
        key: &[Value],
    ) {
        let outer = self
            .row
            .replace(RowMarks::new(self.path.segments().len() + 1));
        self.child(segment, l, r);
        let marks = std::mem::replace(&mut self.row, outer);
        if let (Some(marks), Some(table)) = (marks, self.findings.table_mut()) {
            table.row(marks, key);
        }
    }

    /// Compares as a set (or multiset): elements pair when their rule-aware fingerprints agree,
    /// and each pair is still compared, so a tolerance exceeded inside one is reported.
    fn set(&mut self, l: &[Value], r: &[Value], counted: bool) {
        let bucket = |items: &[Value], is_left: bool, path: &JsonPath| {
            let mut buckets: BTreeMap<u128, Vec<usize>> = BTreeMap::new();
            for (i, v) in items.iter().enumerate() {
                let fp = fingerprint::under_rules(
                    v,
                    &mut path.child(Segment::Index(i)),
                    (self.rules, self.leaves),
                    is_left,
                );
                buckets.entry(fp).or_default().push(i);
            }
            buckets
        };
        let left = bucket(l, true, &self.path);
        let right = bucket(r, false, &self.path);
        // Report in the order elements first appear on the left, then on the right.
        let mut order: Vec<(u128, usize, bool)> =
            left.iter().map(|(fp, idx)| (*fp, idx[0], true)).collect();
        order.extend(
            right
                .iter()
                .filter(|(fp, _)| !left.contains_key(fp))
                .map(|(fp, idx)| (*fp, idx[0], false)),
        );
        order.sort_by_key(|&(_, first, is_left)| (!is_left, first));
        for (fp, _, _) in order {
            let lidx = left.get(&fp).map_or(&[][..], |v| &v[..]);
            let ridx = right.get(&fp).map_or(&[][..], |v| &v[..]);
            let value = lidx
                .first()
                .map(|&i| &l[i])
                .or_else(|| ridx.first().map(|&i| &r[i]));
            let Some(value) = value else { continue };
            let segment = value_filter(value);
            for k in 0..lidx.len().min(ridx.len()) {
                self.child(segment.clone(), Some(&l[lidx[k]]), Some(&r[ridx[k]]));
            }
            let (lc, rc) = (lidx.len(), ridx.len());
            if lc == rc {
                continue;
            }
            self.path.push(segment);
            if !counted && lc > 0 && rc > 0 {
                // A set holds each element once: how often it is written is an equivalence.
                let difference = Difference::new(self.here(), DiffKind::Multiplicity)
                    .left(value.clone())
                    .note(occurrences(lc, rc));
                self.findings.equivalent(difference);
                self.path.pop();
                continue;
            }
            let kind = if lc > rc {
                DiffKind::Removed
            } else {
                DiffKind::Added
            };
            let mut difference = Difference::new(self.here(), kind)
                .left((lc > rc).then(|| value.clone()))
                .right((rc > lc).then(|| value.clone()));
            if lc > 0 && rc > 0 {
                difference = difference.note(occurrences(lc, rc));
            }
            self.push(difference);
            self.path.pop();
        }
    }
}

/// "occurs 2 times on the left, once on the right".
fn occurrences(left: usize, right: usize) -> String {
    let times = |n: usize| match n {
        1 => "once".to_owned(),
        n => format!("{n} times"),
    };
    format!(
        "occurs {} on the left, {} on the right",
        times(left),
        times(right)
    )
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

/// JSON equality with numbers compared by value.
pub fn values_equal(l: &Value, r: &Value) -> bool {
    equal_as(Leaves::Json, l, r)
}

/// Equality with numbers compared by value (number cells too, for [`Leaves::Cells`]).
fn equal_as(leaves: Leaves, l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        (Value::String(a), Value::String(b)) if leaves == Leaves::Cells && a != b => {
            matches!((CellNumber::parse(a), CellNumber::parse(b)), (Some(x), Some(y)) if x == y)
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal_as(leaves, x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| equal_as(leaves, v, w)))
        }
        _ => l == r,
    }
}

struct KeyGroup {
    values: Vec<Value>,
    indices: Vec<usize>,
}

struct Grouped {
    /// Canonical key text in order of first appearance.
    order: Vec<String>,
    /// Looked up by key, never iterated.
    groups: HashMap<String, KeyGroup>,
}

fn group_by_key(elements: &[Value], fields: &[String]) -> Grouped {
    let mut grouped = Grouped {
        order: Vec::with_capacity(elements.len()),
        groups: HashMap::with_capacity(elements.len()),
    };
    let null = Value::Null;
    let mut text = Vec::new();
    for (i, element) in elements.iter().enumerate() {
        let values: Vec<&Value> = fields
            .iter()
            .map(|f| element.get(f).unwrap_or(&null))
            .collect();
        // The canonical key, `[v1,v2]`, written into a reused buffer; serialising values into a
        // Vec cannot fail, and JSON is UTF-8.
        text.clear();
        let _ = serde_json::to_writer(&mut text, &values);
        let canonical = String::from_utf8_lossy(&text);
        match grouped.groups.get_mut(canonical.as_ref()) {
            Some(group) => group.indices.push(i),
            None => {
                let canonical = canonical.into_owned();
                grouped.order.push(canonical.clone());
                let values = values.into_iter().cloned().collect();
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::diff::rules::{Normalize, Rule, Tolerance, ValueMap};
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
            (
                json!({"a": 1}),
                json!({"a": "1"}),
                vec![("$.a", "type_changed")],
            ),
            (
                json!({"a": null}),
                json!({}),
                vec![("$.a", "null_vs_missing")],
            ),
            (
                json!({}),
                json!({"a": null}),
                vec![("$.a", "null_vs_missing")],
            ),
            (json!({"a": 0}), json!({}), vec![("$.a", "removed")]),
            (
                json!({"a": true}),
                json!({"a": false}),
                vec![("$.a", "changed")],
            ),
            (
                json!({"x y": {"z": 1}}),
                json!({"x y": {"z": 2}}),
                vec![("$['x y'].z", "changed")],
            ),
            // Aligned by default: one insertion is one difference.
            (
                json!([1, 2, 3]),
                json!([1, 9, 2, 3]),
                vec![("$[1]", "added")],
            ),
            (json!([1, 2, 3]), json!([1, 3]), vec![("$[1]", "removed")]),
            (
                json!([{"a": 1}, {"a": 2}]),
                json!([{"a": 1}, {"a": 5}]),
                vec![("$[1].a", "changed")],
            ),
            // Same elements, another order: one finding for the whole array.
            (
                json!([1, 2, 3]),
                json!([3, 1, 2]),
                vec![("$", "order_changed")],
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
    fn positional_mode_pairs_by_index() {
        let rules = Rules {
            matching: vec![rule(0, "$", ArrayMatch::Positional)],
            ..Rules::default()
        };
        assert_eq!(
            found(json!([1, 2, 3]), json!([1, 9, 2, 3]), &rules),
            pairs(&[("$[1]", "changed"), ("$[2]", "changed"), ("$[3]", "added")])
        );
    }

    #[test]
    fn long_arrays_fall_back_to_position_with_a_note() {
        let left: Vec<Value> = (0..ALIGN_LIMIT as i64).map(Value::from).collect();
        let right: Vec<Value> = (0..ALIGN_LIMIT as i64)
            .map(|i| Value::from(-i - 1))
            .collect();
        let summary = run(&Value::Array(left), &Value::Array(right), &Rules::default());
        assert_eq!(summary.total, ALIGN_LIMIT);
        assert!(
            summary.notes[0].contains("too many to align"),
            "{:?}",
            summary.notes
        );
    }

    #[test]
    fn numbers_spelled_differently_are_equivalences_unless_strict() {
        let summary = run(
            &json!({"a": 1, "b": 1000}),
            &json!({"a": 1.0, "b": 1e3}),
            &Rules::default(),
        );
        assert!(summary.differences.is_empty());
        assert_eq!(summary.equivalences[&DiffKind::NumberFormat].count, 2);
        let strict = Rules {
            strict_numbers: true,
            ..Rules::default()
        };
        assert_eq!(
            found(json!({"a": 1}), json!({"a": 1.0}), &strict),
            pairs(&[("$.a", "number_format")])
        );
    }

    #[test]
    fn maps_and_renames_translate_the_legacy_side() {
        let rules = Rules {
            map_values: vec![rule(
                0,
                "$..active",
                ValueMap::from([("Y".into(), json!(true)), ("N".into(), json!(false))]),
            )],
            rename: vec![rule(
                1,
                "$.items[*]",
                crate::diff::Rename::from([("cve".into(), "cve_id".into())]),
            )],
            ..Rules::default()
        };
        let left = json!({"items": [{"cve": "C-1", "active": "Y"}, {"cve": "C-2", "active": "N"}]});
        let right = json!({"items": [{"cve_id": "C-1", "active": true}, {"cve_id": "C-2", "active": true}]});
        assert_eq!(
            found(left, right, &rules),
            pairs(&[("$.items[1].active", "changed")])
        );
    }

    #[test]
    fn placeholders_keep_identity_across_the_document() {
        let rules = Rules {
            normalize: vec![Rule {
                id: 0,
                path: None,
                action: Normalize {
                    regex: regex::Regex::new("id-[0-9]+").unwrap(),
                    replace: crate::diff::Replacement::Placeholder("id".into()),
                },
            }],
            ..Rules::default()
        };
        // Consistent renaming: equal.
        let left = json!({"a": "id-1", "b": "id-2", "c": "id-1"});
        let right = json!({"a": "id-7", "b": "id-8", "c": "id-7"});
        assert!(found(left, right, &rules).is_empty());
        // The right side reuses one id where the left has two: a real difference, even though
        // the first members are equal on both sides.
        let left = json!({"a": "id-1", "b": "id-2"});
        let right = json!({"a": "id-1", "b": "id-1"});
        assert_eq!(found(left, right, &rules), pairs(&[("$.b", "changed")]));
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
        let summary = run(&json!({"s": [1, 2, 2]}), &json!({"s": [2, 1]}), &set);
        assert!(summary.differences.is_empty());
        // Never silent: the multiplicity is listed as an equivalence.
        assert_eq!(summary.equivalences[&DiffKind::Multiplicity].count, 1);
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
                    replace: crate::diff::Replacement::Text("<n>".into()),
                },
            }],
            ..Rules::default()
        };
        let left = json!({"ts": 1, "deep": {"ts": 2}, "score": 0.1, "msg": "took 12 ms"});
        let right = json!({"ts": 3, "deep": {"ts": 2}, "score": 0.1 + 1e-12, "msg": "took 15 ms"});
        let summary = run(&left, &right, &rules);
        assert!(summary.differences.is_empty(), "{:?}", summary.differences);
        let applied = |n| crate::diff::RuleUse {
            applied: n,
            judged: 0,
        };
        assert_eq!(
            summary.rule_hits.into_iter().collect::<Vec<_>>(),
            [(0, applied(1)), (1, applied(1)), (2, applied(1))]
        );
        // A tolerance exceeded is judged by the rule, not applied: the rule is in use.
        let over = run(&json!({"score": 1.0}), &json!({"score": 1.1}), &rules);
        assert_eq!(over.differences[0].kind, DiffKind::OverTolerance);
        assert_eq!(
            over.rule_hits[&1],
            crate::diff::RuleUse {
                applied: 0,
                judged: 1
            }
        );
    }

    #[test]
    fn respelled_numbers_in_the_same_order_are_equivalences_not_a_reordering() {
        let summary = run(
            &json!([5, 3.5, 3, 0.125]),
            &json!([5.0, 3.5, 3.0, 0.125]),
            &Rules::default(),
        );
        assert!(summary.differences.is_empty(), "{:?}", summary.differences);
        assert_eq!(summary.equivalences[&DiffKind::NumberFormat].count, 2);
        // Reordered and respelled: the order is what a reader must see.
        assert_eq!(
            found(json!([1, 2.0, 3]), json!([3, 1, 2]), &Rules::default()),
            pairs(&[("$", "order_changed")])
        );
        // Under strict numbers a respelling is never hidden behind a reordering.
        let strict = Rules {
            strict_numbers: true,
            ..Rules::default()
        };
        let kinds: Vec<_> = found(json!([1, 2.0]), json!([2, 1]), &strict)
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        assert!(
            !kinds.is_empty() && !kinds.contains(&"order_changed"),
            "{kinds:?}"
        );
    }

    #[test]
    fn negative_zero_is_zero_spelled_differently() {
        let summary = run(
            &json!({"a": [0, 1]}),
            &serde_json::from_str::<Value>(r#"{"a": [-0, 1]}"#).unwrap(),
            &Rules::default(),
        );
        assert!(summary.differences.is_empty(), "{:?}", summary.differences);
        assert_eq!(summary.equivalences[&DiffKind::NumberFormat].count, 1);
        let left: Value = serde_json::from_str("[-0.0, 2]").unwrap();
        let summary = run(&left, &json!([2, 0]), &Rules::default());
        assert_eq!(summary.differences[0].kind, DiffKind::OrderChanged);
    }

    /// Every array matcher, at every depth.
    fn matchers() -> Vec<Rules> {
        [
            ArrayMatch::Aligned,
            ArrayMatch::Positional,
            ArrayMatch::Set,
            ArrayMatch::Multiset,
        ]
        .into_iter()
        .map(|mode| Rules {
            matching: vec![rule(0, "$..*", mode.clone()), rule(1, "$", mode)],
            ..Rules::default()
        })
        .collect()
    }

    /// The same value with every integer written as a float (`5` → `5.0`).
    fn respelled(value: &Value) -> Value {
        match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => n
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| value.clone(), Value::Number),
            Value::Array(items) => Value::Array(items.iter().map(respelled).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), respelled(v))).collect())
            }
            other => other.clone(),
        }
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
            for rules in matchers() {
                prop_assert!(run(&value, &value, &rules).differences.is_empty());
            }
        }

        #[test]
        fn respelled_numbers_are_only_ever_equivalences(value in json_value()) {
            // The matchers' fingerprints and the value comparison agree on which numbers are equal.
            let other = respelled(&value);
            for rules in matchers() {
                let summary = run(&value, &other, &rules);
                prop_assert!(summary.differences.is_empty(), "{} vs {}: {:?}", value, other, summary.differences);
                let strict = Rules { strict_numbers: true, ..rules };
                let summary = run(&value, &other, &strict);
                prop_assert!(summary.differences.iter().all(|d| d.kind == DiffKind::NumberFormat), "{:?}", summary.differences);
            }
        }

        #[test]
        fn swapping_sides_swaps_every_difference(left in json_value(), right in json_value()) {
            // Positional pairing is symmetric; alignment breaks ties between equally long common
            // subsequences, so it is checked by the property below instead.
            let rules = Rules { matching: vec![Rule { id: 0, path: Some(JsonPath::parse("$..*").unwrap()), action: ArrayMatch::Positional }, rule(1, "$", ArrayMatch::Positional)], ..Rules::default() };
            let forward = run(&left, &right, &rules).differences;
            let backward = run(&right, &left, &rules).differences;
            let swapped: Vec<_> = forward.into_iter().map(|d| d.swapped()).collect();
            prop_assert_eq!(swapped, backward);
        }

        #[test]
        fn one_inserted_element_is_one_difference(
            items in prop::collection::vec(json_value(), 0..30),
            extra in json_value(),
            at in any::<prop::sample::Index>(),
        ) {
            let mut longer = items.clone();
            longer.insert(at.index(items.len() + 1), extra);
            let summary = run(&Value::Array(items), &Value::Array(longer), &Rules::default());
            let kinds: Vec<DiffKind> = summary.differences.iter().map(|d| d.kind).collect();
            prop_assert_eq!(kinds, vec![DiffKind::Added]);
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

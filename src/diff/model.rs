//! The difference model: [`Difference`], its [`DiffKind`], and [`Findings`], the collector every
//! differ writes into.
//!
//! `left` is the reference (the legacy, or the first file of `parity diff`) and `right` the side
//! under test. A missing value (`None`) is distinct from JSON `null`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What kind of difference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// Same type, different value.
    Changed,
    /// Different JSON types, e.g. `1` and `"1"`.
    TypeChanged,
    /// Present only on the right.
    Added,
    /// Present only on the left.
    Removed,
    /// A number outside the tolerance a rule allows.
    OverTolerance,
    /// A key that should identify one record matches several on one side.
    DuplicateKey,
    /// An output file the left produced and the right did not.
    MissingFile,
    /// An output file only the right produced.
    ExtraFile,
    /// One side's output could not be parsed in the configured format.
    ParseError,
    /// A captured stream hit the capture limit, so its comparison is incomplete.
    Truncated,
    /// The two sides ended differently (exit code, signal).
    ExitStatus,
    /// One side has `null` where the other has no member at all.
    NullVsMissing,
    /// The same elements in another order, in an array compared by position.
    OrderChanged,
    /// Equal numbers spelled differently (`1.0` and `1`, `1e3` and `1000`): an equivalence by
    /// default, a difference with `strict_numbers`.
    NumberFormat,
    /// Numbers that differ within a tolerance rule: always an equivalence.
    WithinTolerance,
}

impl DiffKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffKind::Changed => "changed",
            DiffKind::TypeChanged => "type_changed",
            DiffKind::Added => "added",
            DiffKind::Removed => "removed",
            DiffKind::OverTolerance => "over_tolerance",
            DiffKind::DuplicateKey => "duplicate_key",
            DiffKind::MissingFile => "missing_file",
            DiffKind::ExtraFile => "extra_file",
            DiffKind::ParseError => "parse_error",
            DiffKind::Truncated => "truncated",
            DiffKind::ExitStatus => "exit_status",
            DiffKind::NullVsMissing => "null_vs_missing",
            DiffKind::OrderChanged => "order_changed",
            DiffKind::NumberFormat => "number_format",
            DiffKind::WithinTolerance => "within_tolerance",
        }
    }
}

impl std::fmt::Display for DiffKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between the two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// Where: a JSONPath for structured data (`$.advisories[?@.advisory_id=='A-1'].state`), a
    /// hunk header for text (`@@ -3,2 +3,2 @@`), `$` for whole files.
    pub path: String,
    pub kind: DiffKind,
    /// The left (reference) value; absent when the left has nothing there.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub left: Option<Value>,
    /// The right value; absent when the right has nothing there.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub right: Option<Value>,
    /// Extra detail: a parse error's location, the tolerance exceeded, occurrence counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Index into the run's waiver list when a waiver covers this difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<usize>,
}

/// A field that is there is `Some`, even when it holds `null` (serde would read `null` as `None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl Difference {
    pub fn new(path: impl Into<String>, kind: DiffKind) -> Self {
        Self {
            path: path.into(),
            kind,
            left: None,
            right: None,
            note: None,
            waiver: None,
        }
    }

    pub fn left(mut self, value: impl Into<Option<Value>>) -> Self {
        self.left = value.into();
        self
    }

    pub fn right(mut self, value: impl Into<Option<Value>>) -> Self {
        self.right = value.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The difference seen from the other side: left and right swapped.
    pub fn swapped(mut self) -> Self {
        std::mem::swap(&mut self.left, &mut self.right);
        self.kind = match self.kind {
            DiffKind::Added => DiffKind::Removed,
            DiffKind::Removed => DiffKind::Added,
            DiffKind::MissingFile => DiffKind::ExtraFile,
            DiffKind::ExtraFile => DiffKind::MissingFile,
            other @ (DiffKind::Changed
            | DiffKind::TypeChanged
            | DiffKind::OverTolerance
            | DiffKind::DuplicateKey
            | DiffKind::ParseError
            | DiffKind::Truncated
            | DiffKind::ExitStatus
            | DiffKind::NullVsMissing
            | DiffKind::OrderChanged
            | DiffKind::NumberFormat
            | DiffKind::WithinTolerance) => other,
        };
        self
    }
}

/// Decides whether a waiver covers a difference; the run's waivers implement it.
pub trait Waive: Sync {
    /// The index of the first live waiver that covers `difference` in `output`.
    fn waiver_for(&self, output: &str, difference: &Difference) -> Option<usize>;
}

/// No waivers: what `parity diff` uses.
pub struct NoWaivers;

impl Waive for NoWaivers {
    fn waiver_for(&self, _: &str, _: &Difference) -> Option<usize> {
        None
    }
}

/// Examples kept per cluster or equivalence kind.
pub const EXAMPLES: usize = 3;

/// A count with its first few examples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub count: usize,
    /// Of `count`, how many a waiver covered (always 0 for equivalences).
    #[serde(default)]
    pub waived: usize,
    pub examples: Vec<Difference>,
}

impl Tally {
    fn add(&mut self, difference: &Difference) {
        self.count += 1;
        if difference.waiver.is_some() {
            self.waived += 1;
        }
        if self.examples.len() < EXAMPLES {
            self.examples.push(difference.clone());
        }
    }

    /// Adds another tally's counts, keeping at most [`EXAMPLES`] examples.
    pub fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.waived += other.waived;
        let room = EXAMPLES.saturating_sub(self.examples.len());
        self.examples
            .extend(other.examples.iter().take(room).cloned());
    }
}

/// The path pattern a difference belongs to: indices and keys folded to `[*]`, so
/// `$.items[3].price` and `$.items[?@.id=='a'].price` are both `$.items[*].price`. Text hunks
/// fold to `@@`.
pub fn fold_path(path: &str) -> String {
    match super::path::JsonPath::parse(path) {
        Ok(parsed) => parsed.folded().to_string(),
        Err(_) if path.starts_with("@@") => "@@".to_owned(),
        Err(_) => path.to_owned(),
    }
}

/// Collects the differences of one output, applying waivers as they arrive and counting how
/// often each rule and waiver was used. Only the first `cap` differences are stored; the counts
/// (also per path pattern × kind, the clusters) stay exact, so a verdict never depends on what
/// was dropped. Equivalences (numbers spelled differently, within tolerance) are counted apart:
/// they never fail anything.
pub struct Findings<'w> {
    output: String,
    waivers: &'w dyn Waive,
    cap: usize,
    stored: Vec<Difference>,
    total: usize,
    unwaived: usize,
    rule_hits: BTreeMap<usize, u64>,
    waiver_hits: BTreeMap<usize, u64>,
    clusters: BTreeMap<(String, DiffKind), Tally>,
    equivalences: BTreeMap<DiffKind, Tally>,
    notes: BTreeSet<String>,
}

impl<'w> Findings<'w> {
    pub fn new(output: impl Into<String>, waivers: &'w dyn Waive, cap: usize) -> Self {
        Self {
            output: output.into(),
            waivers,
            cap,
            stored: Vec::new(),
            total: 0,
            unwaived: 0,
            rule_hits: BTreeMap::new(),
            waiver_hits: BTreeMap::new(),
            clusters: BTreeMap::new(),
            equivalences: BTreeMap::new(),
            notes: BTreeSet::new(),
        }
    }

    /// Records something the reader should know about how this output was compared (a
    /// fallback taken, a limit reached). Repeated notes are kept once.
    pub fn note(&mut self, note: String) {
        self.notes.insert(note);
    }

    /// Records one difference.
    pub fn push(&mut self, mut difference: Difference) {
        difference.waiver = self.waivers.waiver_for(&self.output, &difference);
        self.total += 1;
        match difference.waiver {
            Some(w) => *self.waiver_hits.entry(w).or_default() += 1,
            None => self.unwaived += 1,
        }
        self.clusters
            .entry((fold_path(&difference.path), difference.kind))
            .or_default()
            .add(&difference);
        if self.stored.len() < self.cap {
            self.stored.push(difference);
        }
    }

    /// Records an equivalence: values that are equal although not spelled the same.
    pub fn equivalent(&mut self, difference: Difference) {
        self.equivalences
            .entry(difference.kind)
            .or_default()
            .add(&difference);
    }

    /// Records that rule `id` suppressed or rewrote a value.
    pub fn rule_hit(&mut self, id: usize) {
        *self.rule_hits.entry(id).or_default() += 1;
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// The output these findings belong to.
    pub fn output(&self) -> &str {
        &self.output
    }

    /// The waivers applied, for collectors of parts of this output.
    pub fn waivers(&self) -> &'w dyn Waive {
        self.waivers
    }

    /// How many differences are stored.
    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn unwaived(&self) -> usize {
        self.unwaived
    }

    /// Adds what another collector of the same output found (a partition of it), keeping this
    /// one's cap.
    pub fn absorb(&mut self, other: FindingsSummary) {
        self.total += other.total;
        self.unwaived += other.unwaived;
        for (id, n) in other.rule_hits {
            *self.rule_hits.entry(id).or_default() += n;
        }
        for (id, n) in other.waiver_hits {
            *self.waiver_hits.entry(id).or_default() += n;
        }
        for (key, tally) in &other.clusters {
            self.clusters.entry(key.clone()).or_default().merge(tally);
        }
        for (kind, tally) in &other.equivalences {
            self.equivalences.entry(*kind).or_default().merge(tally);
        }
        self.notes.extend(other.notes);
        let room = self.cap.saturating_sub(self.stored.len());
        self.stored.extend(other.differences.into_iter().take(room));
    }

    pub fn finish(self) -> FindingsSummary {
        FindingsSummary {
            differences: self.stored,
            total: self.total,
            unwaived: self.unwaived,
            rule_hits: self.rule_hits,
            waiver_hits: self.waiver_hits,
            clusters: self.clusters,
            equivalences: self.equivalences,
            notes: self.notes.into_iter().collect(),
        }
    }
}

/// What a [`Findings`] collected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingsSummary {
    pub differences: Vec<Difference>,
    pub total: usize,
    pub unwaived: usize,
    pub rule_hits: BTreeMap<usize, u64>,
    pub waiver_hits: BTreeMap<usize, u64>,
    /// Differences per (path pattern, kind).
    pub clusters: BTreeMap<(String, DiffKind), Tally>,
    /// Equivalences per kind.
    pub equivalences: BTreeMap<DiffKind, Tally>,
    /// How the comparison went, where it matters (sorted, unique).
    pub notes: Vec<String>,
}

impl FindingsSummary {
    /// Combines the summaries of two parts of one output whose stored differences are sorted by
    /// path: counts add up, stored differences are merged in path order and cut to `cap`.
    pub fn merge_sorted(self, other: FindingsSummary, cap: usize) -> FindingsSummary {
        let mut merged =
            Vec::with_capacity((self.differences.len() + other.differences.len()).min(cap));
        let (mut a, mut b) = (
            self.differences.into_iter().peekable(),
            other.differences.into_iter().peekable(),
        );
        while merged.len() < cap {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.path <= y.path,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            merged.extend(if take_a { a.next() } else { b.next() });
        }
        let mut rule_hits = self.rule_hits;
        for (id, n) in other.rule_hits {
            *rule_hits.entry(id).or_default() += n;
        }
        let mut waiver_hits = self.waiver_hits;
        for (id, n) in other.waiver_hits {
            *waiver_hits.entry(id).or_default() += n;
        }
        let mut clusters = self.clusters;
        for (key, tally) in &other.clusters {
            clusters.entry(key.clone()).or_default().merge(tally);
        }
        let mut equivalences = self.equivalences;
        for (kind, tally) in &other.equivalences {
            equivalences.entry(*kind).or_default().merge(tally);
        }
        let mut notes = self.notes;
        notes.extend(other.notes);
        notes.sort();
        notes.dedup();
        FindingsSummary {
            differences: merged,
            total: self.total + other.total,
            unwaived: self.unwaived + other.unwaived,
            rule_hits,
            waiver_hits,
            clusters,
            equivalences,
            notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct WaiveRemoved;
    impl Waive for WaiveRemoved {
        fn waiver_for(&self, _: &str, d: &Difference) -> Option<usize> {
            (d.kind == DiffKind::Removed).then_some(7)
        }
    }

    #[test]
    fn counts_stay_exact_beyond_the_cap() {
        let mut findings = Findings::new("out.json", &WaiveRemoved, 2);
        for i in 0..5 {
            findings.push(Difference::new(format!("$[{i}]"), DiffKind::Removed));
        }
        findings.push(Difference::new("$.x", DiffKind::Changed));
        let summary = findings.finish();
        assert_eq!(summary.differences.len(), 2);
        assert_eq!(summary.total, 6);
        assert_eq!(summary.unwaived, 1);
        assert_eq!(summary.waiver_hits.get(&7), Some(&5));
    }

    #[test]
    fn clusters_fold_indices_and_keys() {
        let mut findings = Findings::new("out.json", &WaiveRemoved, 1);
        findings.push(Difference::new("$.items[3].price", DiffKind::Changed));
        findings.push(Difference::new(
            "$.items[?@.id=='a'].price",
            DiffKind::Changed,
        ));
        findings.push(Difference::new("$.items[?@.id=='b']", DiffKind::Removed));
        findings.push(Difference::new("@@ -1 +1 @@", DiffKind::Changed));
        let clusters: Vec<(String, DiffKind, usize, usize)> = findings
            .finish()
            .clusters
            .into_iter()
            .map(|((p, k), t)| (p, k, t.count, t.waived))
            .collect();
        assert_eq!(
            clusters,
            [
                ("$.items[*]".to_owned(), DiffKind::Removed, 1, 1),
                ("$.items[*].price".to_owned(), DiffKind::Changed, 2, 0),
                ("@@".to_owned(), DiffKind::Changed, 1, 0),
            ]
        );
    }

    #[test]
    fn swapping_twice_is_identity() {
        let d = Difference::new("$.a", DiffKind::Added).right(json!(1));
        let back = d.clone().swapped().swapped();
        assert_eq!(back, d);
        assert_eq!(d.swapped().kind, DiffKind::Removed);
    }

    #[test]
    fn absent_and_null_serialise_differently() {
        let absent = Difference::new("$.a", DiffKind::Added).right(json!(null));
        let text = serde_json::to_string(&absent).unwrap();
        assert_eq!(text, r#"{"path":"$.a","kind":"added","right":null}"#);
        let back: Difference = serde_json::from_str(&text).unwrap();
        assert_eq!(back, absent);
    }
}

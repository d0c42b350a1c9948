//! The difference model: [`Difference`], its [`DiffKind`], and [`Findings`], the collector every
//! differ writes into.
//!
//! `left` is the reference (the legacy, or the first file of `parity diff`) and `right` the side
//! under test. A missing value (`None`) is distinct from JSON `null`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::table::TableTally;
use crate::units::cut_at;

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
    /// An output parity could not read: a file or directory without permission, a link that
    /// cannot be read. Never skipped: the case fails.
    Unreadable,
    /// A FIFO, socket or device under `{out}`: nothing parity can compare. The case fails.
    SpecialFile,
    /// A captured stream hit the capture limit, so its comparison is incomplete.
    Truncated,
    /// The two sides ended differently (exit code, signal).
    ExitStatus,
    /// One side has `null` where the other has no member at all.
    NullVsMissing,
    /// The same elements in another order: in an array compared by position, or the same lines
    /// of a text in another order (one difference for the whole file).
    OrderChanged,
    /// Equal numbers spelled differently (`1.0` and `1`, `1e3` and `1000`): an equivalence by
    /// default, a difference with `strict_numbers`.
    NumberFormat,
    /// Numbers that differ within a tolerance rule: always an equivalence.
    WithinTolerance,
    /// An element of an array compared as a set (`as = "set"`) occurs a different number of
    /// times on each side: always an equivalence (as a multiset it is a difference).
    Multiplicity,
    // Last, so adding it kept the order of the kinds before it (clusters sort by kind).
    /// A text line one side has at one place and the other at another (`@@ -12 +40 @@`: left
    /// line 12 is right line 40), instead of a removed line and an added one.
    Moved,
    /// A `[[compare]]` block's converter failed on one side's output (exited non-zero, timed
    /// out, wrote too much, or the side wrote no regular file): nothing to compare, and never
    /// waived.
    ConvertFailed,
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
            DiffKind::Unreadable => "unreadable",
            DiffKind::SpecialFile => "special_file",
            DiffKind::Truncated => "truncated",
            DiffKind::ExitStatus => "exit_status",
            DiffKind::NullVsMissing => "null_vs_missing",
            DiffKind::OrderChanged => "order_changed",
            DiffKind::NumberFormat => "number_format",
            DiffKind::WithinTolerance => "within_tolerance",
            DiffKind::Multiplicity => "multiplicity",
            DiffKind::Moved => "moved",
            DiffKind::ConvertFailed => "convert_failed",
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
    /// Set when `left` was cut to [`VALUE_LIMIT`]: the whole value's size and hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_clip: Option<Clip>,
    /// Set when `right` was cut to [`VALUE_LIMIT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_clip: Option<Clip>,
}

/// Bytes of a value stored in a difference (its JSON text for structured values, its text for
/// strings and text hunks). Longer values are cut, and their size and hash recorded, so a
/// difference between two 1 GiB values costs a few KiB in results.json.
pub const VALUE_LIMIT: usize = 4096;

/// What a cut value was: its size in bytes and blake3 hash (of its text, or its JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clip {
    pub bytes: u64,
    pub blake3: String,
}

impl Clip {
    /// `64.0 MiB in all, blake3 3f2a9c1e…`.
    pub fn describe(&self) -> String {
        let short: String = self.blake3.chars().take(12).collect();
        format!(
            "{} in all, blake3 {short}…",
            crate::units::human_bytes(self.bytes)
        )
    }
}

/// `value` as stored: itself when its text fits in [`VALUE_LIMIT`], else its start as a string
/// ending in `…`, with the clip recording what it was.
fn clip_value(value: Value) -> (Value, Option<Clip>) {
    let fits = match &value {
        Value::String(s) => s.len() <= VALUE_LIMIT,
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
        Value::Array(_) | Value::Object(_) => false,
    };
    if fits {
        return (value, None);
    }
    let text = match &value {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    if text.len() <= VALUE_LIMIT {
        return (value, None);
    }
    let clip = Clip {
        bytes: text.len() as u64,
        blake3: blake3::hash(text.as_bytes()).to_hex().to_string(),
    };
    let shown = format!("{}…", cut_at(&text, VALUE_LIMIT));
    (Value::String(shown), Some(clip))
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
            left_clip: None,
            right_clip: None,
        }
    }

    /// Cuts both values to [`VALUE_LIMIT`] (values already cut keep their clip).
    pub fn clipped(mut self) -> Self {
        if self.left_clip.is_none()
            && let Some(value) = self.left.take()
        {
            let (value, clip) = clip_value(value);
            self.left = Some(value);
            self.left_clip = clip;
        }
        if self.right_clip.is_none()
            && let Some(value) = self.right.take()
        {
            let (value, clip) = clip_value(value);
            self.right = Some(value);
            self.right_clip = clip;
        }
        self
    }

    /// What was cut, for people: `left cut (64.0 MiB in all, blake3 …)`; empty when nothing was.
    pub fn clip_note(&self) -> Option<String> {
        let parts: Vec<String> = [("left", &self.left_clip), ("right", &self.right_clip)]
            .into_iter()
            .filter_map(|(side, clip)| {
                Some(format!("{side} value cut ({})", clip.as_ref()?.describe()))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
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

    /// The difference seen from the other side: left and right swapped, and so are the sides of
    /// a text hunk's header (a line moved from 12 to 40 moves from 40 to 12).
    pub fn swapped(mut self) -> Self {
        std::mem::swap(&mut self.left, &mut self.right);
        std::mem::swap(&mut self.left_clip, &mut self.right_clip);
        if let Some(path) = swap_hunk_header(&self.path) {
            self.path = path;
        }
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
            | DiffKind::Unreadable
            | DiffKind::SpecialFile
            | DiffKind::Truncated
            | DiffKind::ExitStatus
            | DiffKind::NullVsMissing
            | DiffKind::OrderChanged
            | DiffKind::Moved
            | DiffKind::NumberFormat
            | DiffKind::WithinTolerance
            | DiffKind::Multiplicity
            | DiffKind::ConvertFailed) => other,
        };
        self
    }
}

/// `@@ -a +b @@` as `@@ -b +a @@`; `None` for paths that are not a text hunk's header.
fn swap_hunk_header(path: &str) -> Option<String> {
    let sides = path.strip_prefix("@@ -")?.strip_suffix(" @@")?;
    let (old, new) = sides.split_once(" +")?;
    Some(format!("@@ -{new} +{old} @@"))
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

/// How one rule was used by a comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleUse {
    /// Values it suppressed or rewrote (arrays it paired, for match rules).
    pub applied: u64,
    /// Values at its path it judged and let stand as differences (a tolerance exceeded, a
    /// normalisation that still left the texts apart).
    pub judged: u64,
}

impl std::ops::AddAssign for RuleUse {
    fn add_assign(&mut self, other: RuleUse) {
        self.applied += other.applied;
        self.judged += other.judged;
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
    rule_hits: BTreeMap<usize, RuleUse>,
    waiver_hits: BTreeMap<usize, u64>,
    clusters: BTreeMap<(String, DiffKind), Tally>,
    equivalences: BTreeMap<DiffKind, Tally>,
    notes: BTreeSet<String>,
    table: Option<TableTally>,
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
            table: None,
        }
    }

    /// Summarises the keyed table `table` is about (rows and columns) as the comparison goes.
    pub fn track_table(&mut self, table: TableTally) {
        self.table = Some(table);
    }

    /// The keyed table being summarised, if any.
    pub fn table(&self) -> Option<&TableTally> {
        self.table.as_ref()
    }

    pub fn table_mut(&mut self) -> Option<&mut TableTally> {
        self.table.as_mut()
    }

    /// Records something the reader should know about how this output was compared (a
    /// fallback taken, a limit reached). Repeated notes are kept once.
    pub fn note(&mut self, note: String) {
        self.notes.insert(note);
    }

    /// Records one difference.
    pub fn push(&mut self, mut difference: Difference) {
        // A failed conversion compared nothing: no waiver may make that a pass.
        difference.waiver = if difference.kind == DiffKind::ConvertFailed {
            None
        } else {
            self.waivers.waiver_for(&self.output, &difference)
        };
        let difference = difference.clipped();
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
        let difference = difference.clipped();
        self.equivalences
            .entry(difference.kind)
            .or_default()
            .add(&difference);
    }

    /// Records that rule `id` suppressed or rewrote a value.
    pub fn rule_hit(&mut self, id: usize) {
        self.rule_hits.entry(id).or_default().applied += 1;
    }

    /// Records that rule `id` judged a value at its path and let the difference stand (a
    /// tolerance exceeded): the rule is in use, even though it allowed nothing.
    pub fn rule_judged(&mut self, id: usize) {
        self.rule_hits.entry(id).or_default().judged += 1;
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
        merge_tables(&mut self.table, other.table);
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
            table: self.table,
        }
    }
}

/// Adds `other`'s counts to `into` (a table tracked on one side only is kept as it is).
fn merge_tables(into: &mut Option<TableTally>, other: Option<TableTally>) {
    match (into.as_mut(), other) {
        (Some(table), Some(other)) => table.merge(&other),
        (None, Some(other)) => *into = Some(other),
        (_, None) => {}
    }
}

/// What a [`Findings`] collected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingsSummary {
    pub differences: Vec<Difference>,
    pub total: usize,
    pub unwaived: usize,
    pub rule_hits: BTreeMap<usize, RuleUse>,
    pub waiver_hits: BTreeMap<usize, u64>,
    /// Differences per (path pattern, kind).
    pub clusters: BTreeMap<(String, DiffKind), Tally>,
    /// Equivalences per kind.
    pub equivalences: BTreeMap<DiffKind, Tally>,
    /// How the comparison went, where it matters (sorted, unique).
    pub notes: Vec<String>,
    /// The keyed table's rows and columns, when the output is one.
    pub table: Option<TableTally>,
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
        let mut table = self.table;
        merge_tables(&mut table, other.table);
        FindingsSummary {
            differences: merged,
            total: self.total + other.total,
            unwaived: self.unwaived + other.unwaived,
            rule_hits,
            waiver_hits,
            clusters,
            equivalences,
            notes,
            table,
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
    fn swapping_a_text_finding_swaps_its_lines() {
        let moved = Difference::new("@@ -12 +40 @@", DiffKind::Moved)
            .left(json!("x"))
            .right(json!("x"));
        let back = moved.clone().swapped();
        assert_eq!(back.path, "@@ -40 +12 @@");
        assert_eq!(back.kind, DiffKind::Moved);
        assert_eq!(back.swapped(), moved);
        let removed = Difference::new("@@ -2,3 +1,0 @@", DiffKind::Removed).swapped();
        assert_eq!(
            (removed.path.as_str(), removed.kind),
            ("@@ -1,0 +2,3 @@", DiffKind::Added)
        );
        // Other paths stay as they are.
        assert_eq!(
            Difference::new("$.a", DiffKind::Changed).swapped().path,
            "$.a"
        );
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

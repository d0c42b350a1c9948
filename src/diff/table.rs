//! The summary of a keyed table — CSV/TSV rows, NDJSON records, the keyed array of a JSON
//! document — as data teams read one (datacompy's report, SQLMesh's `table_diff`): how many rows
//! matched by key, how many are on one side only, how many of the matched rows are identical
//! under the rules, and per column how many values differ, with the largest numeric difference
//! and the key of the row where it is.
//!
//! [`TableTally`] holds counters only, never a row, so the streaming path keeps its bounded
//! memory: the walker hands it one [`RowMarks`] per pair of rows it compares (the columns that
//! pair differs in, at most one entry per column), and partitions' tallies add up. Rows are
//! counted apart from the walk ([`TableTally::count_rows`]), so a pair the walker never looks
//! at (equal arrays, records cancelled by their bytes) is counted as identical.
//!
//! Rows that share a key pair in order of appearance, as the comparison pairs them: a key held
//! by 3 rows on the left and 1 on the right is 1 row in both and 2 only on the left, and is
//! counted once in `duplicate_keys_left`. So `rows_both + only_left` is always the left side's
//! row count. [`TableSummary`] is what results.json holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::path::Segment;
use super::rules::{ArrayMatch, Rules};
use crate::units::cut_at;

/// Characters of a key value kept in results.json (a key is normally short).
const KEY_LIMIT: usize = 256;

/// A tally for records keyed at the root (NDJSON, CSV, TSV), when the rules pair them by key.
pub fn root(rules: &Rules) -> Option<TableTally> {
    keyed_at(rules, Vec::new())
}

/// A tally for the array at `at`, when the rules pair its elements by key.
pub fn keyed_at(rules: &Rules, at: Vec<Segment>) -> Option<TableTally> {
    match rules.array_match(&at) {
        (_, ArrayMatch::Keyed(fields)) if !fields.is_empty() => {
            let key = fields.clone();
            Some(TableTally::new(at, key))
        }
        _ => None,
    }
}

/// The member names one side's records hold, collected cheaply: a record usually holds the
/// same names in the same order as the one before it.
#[derive(Debug, Default)]
pub struct MemberNames {
    last: Vec<String>,
    all: BTreeSet<String>,
}

impl MemberNames {
    /// The names of one record's members, in its order.
    pub fn see<'a>(&mut self, names: impl Iterator<Item = &'a str> + Clone) {
        if names.clone().eq(self.last.iter().map(String::as_str)) {
            return;
        }
        self.last = names.map(str::to_owned).collect();
        self.all.extend(self.last.iter().cloned());
    }

    /// Every name seen.
    pub fn all(&self) -> &BTreeSet<String> {
        &self.all
    }
}

/// Counters of one keyed table, merged across partitions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableTally {
    /// Where the keyed array is (empty: the root).
    at: Vec<Segment>,
    key: Vec<String>,
    rows: Rows,
    columns: BTreeMap<String, ColumnTally>,
    /// Both sides' columns in the order reports list them; set by the differ that read both
    /// headers or every record's member names (empty in a partition's tally).
    layout: Vec<Column>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Rows {
    both: u64,
    only: [u64; 2],
    differing: u64,
    duplicate_keys: [u64; 2],
}

#[derive(Debug, Clone, PartialEq, Default)]
struct ColumnTally {
    unequal: u64,
    largest: Option<(f64, Vec<Value>)>,
}

#[derive(Debug, Clone, PartialEq)]
struct Column {
    name: String,
    on: [bool; 2],
    ignored: bool,
}

/// What the walk found in one pair of rows: whether they differ, and in which columns, with the
/// largest numeric difference between the column's own values. One entry per column at most.
#[derive(Debug)]
pub struct RowMarks {
    /// The position of the column's member in a path inside the row.
    depth: usize,
    differs: bool,
    columns: Vec<(String, Option<f64>)>,
}

impl RowMarks {
    /// Marks for the row whose path has `depth` segments.
    pub fn new(depth: usize) -> Self {
        RowMarks {
            depth,
            differs: false,
            columns: Vec::new(),
        }
    }

    /// A difference at `location`: the row differs, in the column `location` goes through.
    pub fn mark(&mut self, location: &[Segment]) {
        self.differs = true;
        if let Some(Segment::Field(name)) = location.get(self.depth) {
            self.column(name);
        }
    }

    /// Two numbers at `location` differ by `by`: counted when `location` is a column's own
    /// value (not a member nested in it).
    pub fn numeric(&mut self, location: &[Segment], by: f64) {
        if location.len() != self.depth + 1 {
            return;
        }
        let Some(Segment::Field(name)) = location.get(self.depth) else {
            return;
        };
        let by = if by.is_finite() { by.abs() } else { f64::MAX };
        let entry = self.column(name);
        if entry.is_none_or(|seen| by > seen) {
            *entry = Some(by);
        }
    }

    fn column(&mut self, name: &str) -> &mut Option<f64> {
        let at = match self.columns.iter().position(|(c, _)| c == name) {
            Some(at) => at,
            None => {
                self.columns.push((name.to_owned(), None));
                self.columns.len() - 1
            }
        };
        &mut self.columns[at].1
    }
}

impl TableTally {
    /// An empty tally for the array at `at`, keyed by `key`.
    pub fn new(at: Vec<Segment>, key: Vec<String>) -> Self {
        TableTally {
            at,
            key,
            ..TableTally::default()
        }
    }

    /// Where the keyed array is.
    pub fn at(&self) -> &[Segment] {
        &self.at
    }

    pub fn key(&self) -> &[String] {
        &self.key
    }

    /// A tally for another part of the same table, with no counts yet.
    pub fn part(&self) -> TableTally {
        TableTally::new(self.at.clone(), self.key.clone())
    }

    /// Counts the rows of both sides by key: pairs in order of appearance, the rest on one side
    /// only (see the module's doc for duplicate keys). Whether pairs differ comes from
    /// [`TableTally::row`].
    pub fn count_rows(&mut self, left: &[Value], right: &[Value]) {
        // Only summed: the map's order reaches no output.
        let mut keys: HashMap<String, [u64; 2]> = HashMap::new();
        let mut text = Vec::new();
        for (side, rows) in [left, right].into_iter().enumerate() {
            for row in rows {
                text.clear();
                let values: Vec<&Value> = self
                    .key
                    .iter()
                    .map(|f| row.get(f).unwrap_or(&Value::Null))
                    .collect();
                // Serialising values into a Vec cannot fail; the text is the walker's key.
                let _ = serde_json::to_writer(&mut text, &values);
                let canonical = String::from_utf8_lossy(&text);
                match keys.get_mut(canonical.as_ref()) {
                    Some(counts) => counts[side] += 1,
                    None => {
                        let mut counts = [0, 0];
                        counts[side] = 1;
                        keys.insert(canonical.into_owned(), counts);
                    }
                }
            }
        }
        for [l, r] in keys.into_values() {
            let both = l.min(r);
            self.rows.both += both;
            self.rows.only[0] += l - both;
            self.rows.only[1] += r - both;
            self.rows.duplicate_keys[0] += u64::from(l > 1);
            self.rows.duplicate_keys[1] += u64::from(r > 1);
        }
    }

    /// Pairs of rows known identical without looking inside (the same bytes, one per side).
    pub fn identical_pairs(&mut self, pairs: u64) {
        self.rows.both += pairs;
    }

    /// What the walk found in one pair of rows with key `key`.
    pub fn row(&mut self, marks: RowMarks, key: &[Value]) {
        if !marks.differs {
            return;
        }
        self.rows.differing += 1;
        for (name, by) in marks.columns {
            let column = self.columns.entry(name).or_default();
            column.unequal += 1;
            if let Some(by) = by {
                let larger = match &column.largest {
                    None => true,
                    // Equal differences: the smaller key, so every path keeps the same one.
                    Some((seen, at)) => by > *seen || (by == *seen && key_text(key) < key_text(at)),
                };
                if larger {
                    column.largest = Some((by, key.to_vec()));
                }
            }
        }
    }

    /// Adds what another part of the same table counted.
    pub fn merge(&mut self, other: &TableTally) {
        self.rows.both += other.rows.both;
        self.rows.differing += other.rows.differing;
        for side in 0..2 {
            self.rows.only[side] += other.rows.only[side];
            self.rows.duplicate_keys[side] += other.rows.duplicate_keys[side];
        }
        for (name, theirs) in &other.columns {
            let column = self.columns.entry(name.clone()).or_default();
            column.unequal += theirs.unequal;
            if let Some((by, key)) = &theirs.largest {
                let larger = match &column.largest {
                    None => true,
                    Some((seen, at)) => *by > *seen || (by == seen && key_text(key) < key_text(at)),
                };
                if larger {
                    column.largest = Some((*by, key.clone()));
                }
            }
        }
        if self.layout.is_empty() {
            self.layout.clone_from(&other.layout);
        }
    }

    /// The columns of a CSV or TSV table: the left header's order, then the right's own.
    pub fn csv_columns(&mut self, left: &[String], right: &[String], rules: &Rules) {
        let mut names: Vec<&String> = left.iter().collect();
        names.extend(right.iter().filter(|c| !left.contains(c)));
        self.layout = names
            .into_iter()
            .map(|name| self.column(name, [left.contains(name), right.contains(name)], rules))
            .collect();
    }

    /// The columns of records (NDJSON, a JSON array): the member names each side's records
    /// hold, the left's under the names a rename rule gives them, sorted.
    pub fn member_columns(
        &mut self,
        left: &BTreeSet<String>,
        right: &BTreeSet<String>,
        rules: &Rules,
    ) {
        let row = self.row_location();
        let left: BTreeSet<&str> = left
            .iter()
            .map(|name| {
                rules
                    .renamed(&row, name)
                    .map_or(name.as_str(), |(_, to)| to)
            })
            .collect();
        let names: BTreeSet<&str> = left
            .iter()
            .copied()
            .chain(right.iter().map(String::as_str))
            .collect();
        self.layout = names
            .into_iter()
            .map(|name| self.column(name, [left.contains(name), right.contains(name)], rules))
            .collect();
    }

    /// Any row of the table, as rules see its location.
    fn row_location(&self) -> Vec<Segment> {
        let mut row = self.at.clone();
        row.push(Segment::Filter("*".to_owned()));
        row
    }

    fn column(&self, name: &str, on: [bool; 2], rules: &Rules) -> Column {
        let mut location = self.row_location();
        location.push(Segment::Field(name.to_owned()));
        Column {
            name: name.to_owned(),
            on,
            ignored: rules.ignored(&location).is_some(),
        }
    }

    /// The summary results.json holds.
    pub fn summary(&self) -> TableSummary {
        let listed: BTreeSet<&str> = self.layout.iter().map(|c| c.name.as_str()).collect();
        let unlisted = self
            .columns
            .keys()
            .filter(|name| !listed.contains(name.as_str()))
            .map(|name| Column {
                name: name.clone(),
                on: [true, true],
                ignored: false,
            });
        let columns = self
            .layout
            .iter()
            .cloned()
            .chain(unlisted)
            .map(|column| {
                let tally = self.columns.get(&column.name);
                ColumnSummary {
                    only: match column.on {
                        [true, false] => Some(TableSide::Left),
                        [false, true] => Some(TableSide::Right),
                        [true, true] | [false, false] => None,
                    },
                    ignored: column.ignored,
                    unequal: tally.map_or(0, |t| t.unequal),
                    largest: tally
                        .and_then(|t| t.largest.as_ref())
                        .map(|(by, key)| Largest {
                            by: *by,
                            key: self.named(key),
                        }),
                    name: column.name,
                }
            })
            .collect();
        TableSummary {
            key: self.key.clone(),
            rows_both: self.rows.both,
            only_left: self.rows.only[0],
            only_right: self.rows.only[1],
            identical: self.rows.both - self.rows.differing.min(self.rows.both),
            differing: self.rows.differing,
            duplicate_keys_left: self.rows.duplicate_keys[0],
            duplicate_keys_right: self.rows.duplicate_keys[1],
            columns,
        }
    }

    /// A key's values by field, long texts cut.
    fn named(&self, key: &[Value]) -> Map<String, Value> {
        self.key
            .iter()
            .zip(key)
            .map(|(field, value)| {
                let value = match value {
                    Value::String(s) if s.len() > KEY_LIMIT => {
                        Value::String(format!("{}…", cut_at(s, KEY_LIMIT)))
                    }
                    other => other.clone(),
                };
                (field.clone(), value)
            })
            .collect()
    }
}

/// A key's canonical text, for choosing between equal differences.
fn key_text(key: &[Value]) -> String {
    serde_json::to_string(key).unwrap_or_default()
}

/// The summary of a keyed table, as results.json holds it (`left` is the reference: the legacy,
/// or the golden).
///
/// ```json
/// { "key": ["id"], "rows_both": 999998, "only_left": 1, "only_right": 2,
///   "identical": 999990, "differing": 8,
///   "columns": [{ "name": "id", "unequal": 0 },
///               { "name": "price", "unequal": 5, "largest": { "by": 12.5, "key": { "id": "A-7" } } },
///               { "name": "legacy_note", "only": "left", "unequal": 0 },
///               { "name": "ts", "ignored": true, "unequal": 0 }] }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    /// The key fields rows are matched by.
    pub key: Vec<String>,
    /// Rows whose key the other side has (pairs).
    pub rows_both: u64,
    /// Rows only the left (reference) side has.
    pub only_left: u64,
    /// Rows only the right side has.
    pub only_right: u64,
    /// Of `rows_both`, pairs equal under the rules.
    pub identical: u64,
    /// Of `rows_both`, pairs with at least one difference (waived ones included).
    pub differing: u64,
    /// Keys held by more than one row on the left side.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duplicate_keys_left: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duplicate_keys_right: u64,
    /// Every column: the left's header order then the right's own (CSV), or the member names
    /// sorted (records).
    pub columns: Vec<ColumnSummary>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One column of a [`TableSummary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    pub name: String,
    /// The side that has the column, when only one has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<TableSide>,
    /// An ignore rule covers it: its values never count.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    /// Pairs of rows whose values in this column differ under the rules.
    pub unequal: u64,
    /// The largest absolute difference between two numbers of this column that differ, and the
    /// key of the row where it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub largest: Option<Largest>,
}

/// A side of a table, as results.json names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableSide {
    Left,
    Right,
}

/// The largest numeric difference in a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Largest {
    pub by: f64,
    /// The row's key, by field.
    pub key: Map<String, Value>,
}

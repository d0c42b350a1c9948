//! Keyed comparison of large NDJSON, CSV and JSON files with memory bounded by partition size,
//! not by file size, and the same findings as the in-memory walk.
//!
//! 1. **Partition by key.** Each side is read once, record by record (NDJSON lines, CSV rows,
//!    the elements of a JSON document's keyed array, found by [`document`] without building
//!    them). Each record is checked as the in-memory parse checks it, without building values
//!    (see [`record`]): only its key is kept, and whether it names a member twice. It is
//!    appended, with its line, position, key hash and content hash, to one of `P` temporary
//!    files chosen by the key hash, so every record with a given key, on either side, lands in
//!    the same partition. CSV rows are re-encoded in one canonical column order, so column
//!    order never matters.
//! 2. **Compare each partition** (in parallel, rayon; see [`cancel`]): records are sorted by
//!    key hash; a key held by one record on each side whose bytes are the same cancels without
//!    being parsed. Everything else, including every record of a duplicated key and every
//!    record holding a member twice, is parsed and compared by the structural walker under the
//!    same rules as the in-memory path, so it reports what the in-memory walk reports.
//!
//! What streaming cannot promise, it does not try: [`plan`] refuses rules that would make the
//! walker see the keyed array differently (numbered placeholders, a rule that ignores, renames
//! or maps the array or an object holding it), and a JSON document the splitter is unsure of
//! is compared in memory. A file that does not parse ends the comparison with the failure the
//! in-memory parse reports, for each side.
//!
//! `P` grows with the input so that a partition holds about [`PARTITION_BYTES`] a side; peak
//! memory is about two partitions, whatever the file size. Differences come out sorted by path
//! (the in-memory path lists them in order of first appearance); the findings, their counts,
//! clusters and rule usage are the same (a cluster's examples may be others).

mod cancel;
mod document;
mod layout;
pub(crate) mod partition;
mod plan;
mod record;
mod rows;
mod split;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use super::model::{Difference, Findings, FindingsSummary};
use super::path::Segment;
use super::table::{self, MemberNames, TableTally};
use super::{DiffSpec, Format, json, value};
use document::Bail;
use layout::{CsvLayout, csv_layout};
use plan::Plan;
use record::key_hash;
use split::Partitions;

/// Target size of one partition on one side: small enough that cancelling a partition's
/// records (sorting them, comparing pairs in random order) works within the CPU's cache.
pub const PARTITION_BYTES: u64 = 512 * 1024;
/// Most partitions per side (each open file has a write buffer during the first pass).
const MAX_PARTITIONS: u64 = 256;
/// Write buffer per partition file.
const WRITE_BUFFER: usize = 32 * 1024;
/// Keyed JSON documents are split when both files together are at least this large; smaller
/// ones are parsed whole, which is as fast and lists differences in document order.
pub const SPLIT_JSON_BYTES: u64 = 2 << 20;

/// One side of a streamed comparison.
#[derive(Debug, Clone, Copy)]
pub struct StreamInput<'a> {
    pub side: &'a str,
    pub name: &'a str,
    pub path: &'a Path,
}

/// Why streaming stopped early: the files could not be read (an error of the harness), or one
/// side's content does not parse (a finding: it becomes a `parse_error` difference).
enum Stop {
    Io(io::Error),
    Malformed(Box<Difference>),
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        Stop::Io(error)
    }
}

impl From<Difference> for Stop {
    fn from(difference: Difference) -> Self {
        Stop::Malformed(Box::new(difference))
    }
}

/// How the records of one comparison are read and named.
enum Shape<'a> {
    /// NDJSON lines keyed by these fields.
    Ndjson(&'a [String]),
    /// CSV or TSV rows in this layout.
    Csv(&'a CsvLayout),
    /// The elements of the array at these member names in a JSON document.
    Json(&'a [String]),
}

/// Whether a comparison can stream: a record format keyed at the root, under rules streaming
/// honours exactly.
pub fn can_stream(format: Format, spec: &DiffSpec) -> bool {
    matches!(format, Format::Ndjson | Format::Csv | Format::Tsv) && plan::root(spec).is_some()
}

/// Compares two record files keyed by the root key rule. Parse errors end the comparison with a
/// `parse_error` difference naming the side, line and column, as on the in-memory path.
pub fn diff_keyed_files(
    format: Format,
    spec: &DiffSpec,
    left: &StreamInput<'_>,
    right: &StreamInput<'_>,
    findings: &mut Findings<'_>,
) -> io::Result<()> {
    let partitions = partition_count(left, right)?;
    records_in(format, spec, [left, right], findings, partitions)
}

/// [`diff_keyed_files`] with `partitions` partitions per side.
fn records_in(
    format: Format,
    spec: &DiffSpec,
    [left, right]: [&StreamInput<'_>; 2],
    findings: &mut Findings<'_>,
    partitions: usize,
) -> io::Result<()> {
    let Some(plan) = plan::root(spec) else {
        return Err(io::Error::other("streaming needs a key at the root"));
    };
    let scratch = scratch()?;
    let layout = match format {
        Format::Csv | Format::Tsv => match both_layouts(format, spec, &plan, left, right)? {
            Ok(layout) => Some(layout),
            Err(failures) => {
                failures.into_iter().for_each(|d| findings.push(d));
                return Ok(());
            }
        },
        _ => None,
    };
    // Pass 1: both sides at once, each into its key partitions.
    let split_side = |input: &StreamInput<'_>, side: usize| -> Result<_, Stop> {
        let parts = Partitions::create(scratch.path(), side, partitions)?;
        match &layout {
            Some(layout) => Ok((
                rows::split(format, spec, input, (layout, side), parts)?,
                MemberNames::default(),
            )),
            None => split::ndjson(input, &plan.fields, parts),
        }
    };
    let (l, r) = rayon::join(|| split_side(left, 0), || split_side(right, 1));
    let ((l, lnames), (r, rnames)) = match (l, r) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(Stop::Io(e)), _) | (_, Err(Stop::Io(e))) => return Err(e),
        (l, r) => {
            // Each side's first failure, as the in-memory parse reports both.
            for stop in [l.err(), r.err()].into_iter().flatten() {
                if let Stop::Malformed(difference) = stop {
                    findings.push(*difference);
                }
            }
            return Ok(());
        }
    };
    if let Some(layout) = &layout {
        super::csv::report_one_sided(&layout.one_sided, spec, findings);
    }
    if let Some(mut tally) = table::root(&spec.rules) {
        match &layout {
            Some(layout) => tally.csv_columns(&layout.headers[0], &layout.headers[1], &spec.rules),
            None => tally.member_columns(lnames.all(), rnames.all(), &spec.rules),
        }
        findings.track_table(tally);
    }
    let shape = match &layout {
        Some(layout) => Shape::Csv(layout),
        None => Shape::Ndjson(&plan.fields),
    };
    let summary = compare_partitions(&shape, spec, &plan, [&l, &r], [left, right], findings)?;
    findings.absorb(summary);
    Ok(())
}

/// Whether a JSON comparison was split, or must be done in memory (and why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Done,
    InMemory(&'static str),
}

/// Compares two JSON documents whose keyed array is split into partitions, when the rules allow
/// it. Returns [`Split::InMemory`], having recorded nothing, when the comparison must be done in
/// memory instead: no plain key rule, rules streaming does not honour, or a document the
/// splitter is unsure of (one that does not parse among them, so its failure is reported as the
/// in-memory parse reports it).
pub fn diff_keyed_json(
    spec: &DiffSpec,
    left: &StreamInput<'_>,
    right: &StreamInput<'_>,
    findings: &mut Findings<'_>,
) -> io::Result<Split> {
    if plan::document(spec).is_none() {
        return Ok(Split::InMemory(
            "no key rule at a plain path that streaming honours",
        ));
    }
    let partitions = partition_count(left, right)?;
    document_in(spec, [left, right], findings, partitions)
}

/// [`diff_keyed_json`] with `partitions` partitions per side.
fn document_in(
    spec: &DiffSpec,
    [left, right]: [&StreamInput<'_>; 2],
    findings: &mut Findings<'_>,
    partitions: usize,
) -> io::Result<Split> {
    let Some(plan) = plan::document(spec) else {
        return Ok(Split::InMemory(
            "no key rule at a plain path that streaming honours",
        ));
    };
    let scratch = scratch()?;
    let split_side = |input: &StreamInput<'_>, side: usize| -> Result<_, Bail> {
        let mut parts = Partitions::create(scratch.path(), side, partitions)?;
        let mut key_text = Vec::new();
        let mut names = MemberNames::default();
        let envelope = document::split(File::open(input.path)?, &plan.path, &mut |_, bytes| {
            let scanned = record::scan(bytes, &plan.fields, &mut names)
                .map_err(|_| Bail::Unsure("an element does not parse"))?;
            let flags = if scanned.duplicates {
                partition::MUST_PARSE
            } else {
                0
            };
            parts.write(0, key_hash(&scanned.key, &mut key_text), flags, bytes)?;
            Ok(())
        })?;
        Ok((envelope, parts.finish()?, names))
    };
    let (l, r) = rayon::join(|| split_side(left, 0), || split_side(right, 1));
    let ((lenv, l, lnames), (renv, r, rnames)) = match (l, r) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(Bail::Io(e)), _) | (_, Err(Bail::Io(e))) => return Err(e),
        (Err(Bail::Unsure(why)), _) | (_, Err(Bail::Unsure(why))) => {
            return Ok(Split::InMemory(why));
        }
    };
    // The envelope is compared as the in-memory walk compares it, the keyed array empty on
    // both sides; the array's partitions are compared as records.
    let mut around = Findings::new(findings.output(), findings.waivers(), findings.cap());
    for (side, envelope) in [(left.side, &lenv), (right.side, &renv)] {
        for duplicate in &envelope.duplicates {
            around.push(duplicate.difference(side));
        }
    }
    value::diff_values(&lenv.value, &renv.value, &spec.rules, &mut around);
    let mut around = around.finish();
    around.differences.sort_by(|a, b| a.path.cmp(&b.path));
    let at = plan.path.iter().cloned().map(Segment::Field).collect();
    if let Some(mut tally) = table::keyed_at(&spec.rules, at) {
        tally.member_columns(lnames.all(), rnames.all(), &spec.rules);
        findings.track_table(tally);
    }
    let shape = Shape::Json(&plan.path);
    let summary = compare_partitions(&shape, spec, &plan, [&l, &r], [left, right], findings)?;
    findings.absorb(around.merge_sorted(summary, findings.cap()));
    Ok(Split::Done)
}

/// Both sides' split records: partition files and how many records.
type Sides<'a> = [&'a (Vec<PathBuf>, u64); 2];

/// Pass 2: each partition pair on its own, in parallel, reduced as they finish (so only a few
/// partitions' stored differences exist at once). A partition whose records left are equal on
/// both sides is walked only once all partitions have said whether the arrays are the same in
/// the same order (the in-memory walk then looks at nothing), and read again for it. The key
/// rule counts once when the arrays differ, as in the in-memory walk.
fn compare_partitions(
    shape: &Shape<'_>,
    spec: &DiffSpec,
    plan: &Plan,
    [(lparts, lcount), (rparts, rcount)]: Sides<'_>,
    inputs: [&StreamInput<'_>; 2],
    findings: &Findings<'_>,
) -> io::Result<FindingsSummary> {
    let (waivers, cap) = (findings.waivers(), findings.cap());
    let paths = |p: usize| [lparts[p].as_path(), rparts[p].as_path()];
    let walked = |prepared: &cancel::Prepared, part: &mut Findings<'_>| {
        cancel::walk(shape, spec, &prepared.records, part);
    };
    let finish = |part: Findings<'_>, walks: bool| {
        let mut summary = part.finish();
        if walks {
            // The walker counted the key rule for this part; it is counted once below.
            forget_hit(&mut summary, plan.rule);
        }
        summary.differences.sort_by(|a, b| a.path.cmp(&b.path));
        summary
    };
    // (summary, aligned, partitions left for later)
    type Sweep = (FindingsSummary, bool, Vec<usize>);
    // Each partition's part of the table: rows counted here, pairs that differ by the walker.
    let tally = || findings.table().map(TableTally::part);
    let (summary, aligned, later): Sweep = (0..lparts.len())
        .into_par_iter()
        .map(|p| -> io::Result<Sweep> {
            let prepared = cancel::prepare(shape, paths(p), inputs)?;
            let mut part = Findings::new(findings.output(), waivers, cap);
            if let Some(mut tally) = tally() {
                tally.identical_pairs(prepared.cancelled);
                tally.count_rows(&prepared.records[0], &prepared.records[1]);
                part.track_table(tally);
            }
            for duplicate in &prepared.duplicates {
                part.push(duplicate.clone());
            }
            let [l, r] = &prepared.records;
            let (walks, later) = if l == r {
                (false, (!l.is_empty()).then_some(p).into_iter().collect())
            } else {
                walked(&prepared, &mut part);
                (true, Vec::new())
            };
            Ok((finish(part, walks), prepared.aligned, later))
        })
        .try_reduce(
            || (FindingsSummary::default(), true, Vec::new()),
            |(a, x, mut u), (b, y, v)| {
                u.extend(v);
                Ok((a.merge_sorted(b, cap), x && y, u))
            },
        )?;
    let same = aligned && lcount == rcount;
    if same {
        return Ok(summary);
    }
    let rest = later
        .into_par_iter()
        .map(|p| -> io::Result<FindingsSummary> {
            let prepared = cancel::prepare(shape, paths(p), inputs)?;
            let mut part = Findings::new(findings.output(), waivers, cap);
            // Its rows were counted above; they are equal pairs, but the walker says so.
            if let Some(tally) = tally() {
                part.track_table(tally);
            }
            walked(&prepared, &mut part);
            Ok(finish(part, true))
        })
        .try_reduce(FindingsSummary::default, |a, b| Ok(a.merge_sorted(b, cap)))?;
    let mut summary = summary.merge_sorted(rest, cap);
    summary.rule_hits.entry(plan.rule).or_default().applied += 1;
    Ok(summary)
}

/// Takes back one use of `rule` (the walker counted it for a partition's arrays).
fn forget_hit(summary: &mut FindingsSummary, rule: usize) {
    if let Some(hits) = summary.rule_hits.get_mut(&rule) {
        hits.applied = hits.applied.saturating_sub(1);
        if *hits == crate::diff::RuleUse::default() {
            summary.rule_hits.remove(&rule);
        }
    }
}

/// Partitions per side, so that one holds about [`PARTITION_BYTES`] of the larger side.
fn partition_count(left: &StreamInput<'_>, right: &StreamInput<'_>) -> io::Result<usize> {
    let size = std::fs::metadata(left.path)?
        .len()
        .max(std::fs::metadata(right.path)?.len());
    Ok(size.div_ceil(PARTITION_BYTES).clamp(1, MAX_PARTITIONS) as usize)
}

fn scratch() -> io::Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix("parity-stream-").tempdir()
}

/// Both CSV headers read into one layout, or each side's failure as the in-memory reader
/// reports it (a side whose header reads may still fail further on).
fn both_layouts(
    format: Format,
    spec: &DiffSpec,
    plan: &Plan,
    left: &StreamInput<'_>,
    right: &StreamInput<'_>,
) -> io::Result<Result<CsvLayout, Vec<Difference>>> {
    match csv_layout(format, spec, &plan.fields, left, right) {
        Ok(layout) => Ok(Ok(layout)),
        Err(Stop::Io(e)) => Err(e),
        Err(Stop::Malformed(_)) => {
            let mut failures = Vec::new();
            for input in [left, right] {
                failures.extend(rows::first_csv_failure(format, spec, input)?);
            }
            Ok(Err(failures))
        }
    }
}

fn as_input<'a>(input: &StreamInput<'a>) -> super::Input<'a> {
    super::Input {
        side: input.side,
        name: input.name,
        bytes: &[],
    }
}

/// The member names leading to the keyed array of a JSON document that streaming would split
/// (its summary as a table follows the same array on both paths).
pub(crate) fn document_path(spec: &DiffSpec) -> Option<Vec<String>> {
    plan::document(spec).map(|plan| plan.path)
}

/// The key fields of the root key rule (the in-memory NDJSON parse names records by them).
pub(super) fn root_key(spec: &DiffSpec) -> Vec<String> {
    spec.rules
        .matching
        .iter()
        .find(|r| r.path.as_ref().is_some_and(|p| p.segments().is_empty()))
        .and_then(|r| match &r.action {
            super::ArrayMatch::Keyed(fields) => Some(fields.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A member duplicated inside a keyed record, at the record's keyed path (as the walker names
/// the record), with its line.
fn record_duplicate(
    fields: &[String],
    record: &Value,
    line: u64,
    duplicate: json::Duplicate,
    side: &str,
) -> Difference {
    let mut difference = duplicate
        .under(&record_path(fields, record))
        .difference(side);
    if let Some(note) = &mut difference.note {
        note.push_str(&format!(" (line {line})"));
    }
    difference
}

/// The path of a record keyed by `fields`, as the walker names it: `$[?@.id==1]`.
pub(super) fn record_path(fields: &[String], record: &Value) -> String {
    let values = record::key_of(record, fields);
    let mut path = super::JsonPath::root();
    path.push(super::path::key_filter(fields, &values));
    path.to_string()
}

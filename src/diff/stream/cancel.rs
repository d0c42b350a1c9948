//! Pass 2 for one partition: records sorted by key hash; a key held by one record on each side
//! whose bytes are the same cancels without being parsed; every other record (a changed one,
//! one whose key is on one side only or more than once, one holding a member twice) is parsed
//! and compared by the walker, so what it reports is what the in-memory walk reports.
//!
//! The walker never looks inside arrays that are equal, so whether a partition's records are
//! compared depends on the whole arrays: [`prepare`] says whether a partition alone can tell
//! (its records left differ, so the arrays differ), and [`walk`] compares them as parts of
//! arrays that differ.

use std::io;
use std::path::Path;

use serde_json::Value;

use super::StreamInput;
use super::partition::{MUST_PARSE, Partition, decode_fields};
use super::record_duplicate;
use super::{Shape, split::changed};
use crate::diff::json;
use crate::diff::model::{Difference, Findings};
use crate::diff::path::{JsonPath, Segment};
use crate::diff::{DiffSpec, value};

/// One partition after cancelling: the records left to compare, parsed.
pub(super) struct Prepared {
    /// Per side, the records left, in the order of their side's array.
    pub records: [Vec<Value>; 2],
    /// Members the records left hold twice, as differences.
    pub duplicates: Vec<Difference>,
    /// Pairs of records cancelled (one per side, the same key and bytes): identical rows.
    pub cancelled: u64,
    /// Both sides hold the same records at the same positions, as far as this partition can
    /// tell: the arrays are the same in the same order exactly when every partition says so and
    /// both sides hold as many records.
    pub aligned: bool,
}

/// Reads one partition of both sides, cancels equal records and parses the rest.
pub(super) fn prepare(
    shape: &Shape<'_>,
    paths: [&Path; 2],
    inputs: [&StreamInput<'_>; 2],
) -> io::Result<Prepared> {
    let parts = [Partition::read(paths[0])?, Partition::read(paths[1])?];
    let (keep, mut aligned) = cancel(&parts);
    let cancelled = keep[0].iter().filter(|kept| !**kept).count() as u64;
    let mut records = [Vec::new(), Vec::new()];
    let mut ordinals = [Vec::new(), Vec::new()];
    let mut duplicates = Vec::new();
    for side in 0..2 {
        let part = &parts[side];
        // Records are stored in the order they were read, so in order of position.
        for i in (0..part.records.len()).filter(|&i| keep[side][i]) {
            let meta = part.records[i].meta;
            let (record, found) =
                parse(shape, part.bytes(i), meta.ordinal).ok_or_else(|| changed(inputs[side]))?;
            for duplicate in found {
                duplicates.push(match shape {
                    Shape::Ndjson(fields) => {
                        record_duplicate(fields, &record, meta.line, duplicate, inputs[side].side)
                    }
                    Shape::Csv(_) | Shape::Json(_) => duplicate.difference(inputs[side].side),
                });
            }
            records[side].push(record);
            ordinals[side].push(meta.ordinal);
        }
    }
    aligned &= records[0] == records[1] && ordinals[0] == ordinals[1];
    Ok(Prepared {
        records,
        duplicates,
        cancelled,
        aligned,
    })
}

/// Compares what is left of one partition as the walker compares the keyed arrays when they
/// differ (whether or not these parts of them do).
pub(super) fn walk(
    shape: &Shape<'_>,
    spec: &DiffSpec,
    [left, right]: &[Vec<Value>; 2],
    findings: &mut Findings<'_>,
) {
    let mut at = JsonPath::root();
    if let Shape::Json(path) = shape {
        for name in *path {
            at.push(Segment::Field(name.clone()));
        }
    }
    let leaves = match shape {
        Shape::Csv(_) => value::Leaves::Cells,
        _ => value::Leaves::Json,
    };
    value::diff_arrays_at(leaves, at, left, right, &spec.rules, findings);
}

/// Which records must be parsed, per side, and whether every cancelled pair sat at the same
/// position on both sides.
fn cancel(parts: &[Partition; 2]) -> ([Vec<bool>; 2], bool) {
    let mut keep = [
        vec![true; parts[0].records.len()],
        vec![true; parts[1].records.len()],
    ];
    // (key hash, side and index): a key's records together, the left ones first.
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(keep[0].len() + keep[1].len());
    for (side, part) in parts.iter().enumerate() {
        let tag = (side as u32) << 31;
        entries.extend(
            part.records
                .iter()
                .enumerate()
                .map(|(i, r)| (r.meta.key, tag | i as u32)),
        );
    }
    entries.sort_unstable();
    let mut aligned = true;
    for group in entries.chunk_by(|a, b| a.0 == b.0) {
        let &[(_, l), (_, r)] = group else { continue };
        if l >> 31 != 0 || r >> 31 != 1 {
            continue;
        }
        let (l, r) = (l as usize, (r & !(1 << 31)) as usize);
        let (lm, rm) = (&parts[0].records[l].meta, &parts[1].records[r].meta);
        if lm.content == rm.content
            && (lm.flags | rm.flags) & MUST_PARSE == 0
            && parts[0].bytes(l) == parts[1].bytes(r)
        {
            keep[0][l] = false;
            keep[1][r] = false;
            aligned &= lm.ordinal == rm.ordinal;
        }
    }
    (keep, aligned)
}

/// One stored record as the in-memory path reads it, with the members it holds twice;
/// `None` when it does not read (it did in pass 1).
fn parse(shape: &Shape<'_>, bytes: &[u8], ordinal: u64) -> Option<(Value, Vec<json::Duplicate>)> {
    match shape {
        Shape::Csv(layout) => decode_fields(bytes, &layout.common)
            .ok()
            .map(|fields| (Value::Object(fields), Vec::new())),
        Shape::Ndjson(_) => json::parse_document(bytes)
            .ok()
            .map(|parsed| (parsed.value, parsed.duplicates)),
        Shape::Json(path) => {
            let parsed = json::parse_document(bytes).ok()?;
            // As the in-memory parse names them: by the element's index in the array.
            let mut at = JsonPath::root();
            for name in *path {
                at.push(Segment::Field(name.clone()));
            }
            at.push(Segment::Index(
                usize::try_from(ordinal).unwrap_or(usize::MAX),
            ));
            let at = at.to_string();
            let duplicates = parsed
                .duplicates
                .into_iter()
                .map(|d| d.under(&at))
                .collect();
            Some((parsed.value, duplicates))
        }
    }
}

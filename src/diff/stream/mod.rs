//! Keyed comparison of large NDJSON and CSV files with memory bounded by partition size, not by
//! file size, and the same findings as the in-memory walk.
//!
//! 1. **Partition by key.** Each side is read once. Only each record's key is read (NDJSON: a
//!    deserializer that keeps the key fields and skips the rest without building values; CSV:
//!    the key columns), and the record is appended, with its line and key hash, to one of `P`
//!    temporary files chosen by that hash. Every record with a given key, on either side, lands
//!    in the same partition. CSV records are re-encoded in one canonical column order, so column
//!    order never matters.
//! 2. **Compare each partition** (in parallel, rayon): keys are counted per side; among keys
//!    that occur once per side, byte-identical records cancel without being parsed (sorted
//!    hashes merged, then bytes compared). What is left, including every record of a duplicated
//!    key, is parsed and compared by the structural walker under the same rules as the in-memory
//!    path, so duplicate keys are reported as `duplicate_key` there too.
//!
//! `P` grows with the input so that a partition holds about [`PARTITION_BYTES`] a side; peak
//! memory is about two partitions, whatever the file size. Differences come out sorted by path
//! (the in-memory path lists them in order of first appearance); the findings are the same.

mod layout;
pub(crate) mod partition;
mod probe;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;
use xxhash_rust::xxh3::xxh3_64;

use super::model::{Difference, Findings, FindingsSummary};
use super::{DiffSpec, Format, ParseFailure, json, value};
use layout::{CsvLayout, csv_failure, csv_layout};
use partition::{Partition, Prehashed, decode_fields, encode_fields, write_record};
use probe::{key_hash, probe_key};

/// Target size of one partition on one side.
pub const PARTITION_BYTES: u64 = 16 * 1024 * 1024;
/// Most partitions per side (each open file has a write buffer during the first pass).
const MAX_PARTITIONS: u64 = 256;
/// Write buffer per partition file.
const WRITE_BUFFER: usize = 32 * 1024;

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

/// Compares two record files keyed by the root key rule. Parse errors end the comparison with a
/// `parse_error` difference naming the side, line and column, as on the in-memory path.
pub fn diff_keyed_files(
    format: Format,
    spec: &DiffSpec,
    left: &StreamInput<'_>,
    right: &StreamInput<'_>,
    findings: &mut Findings<'_>,
) -> io::Result<()> {
    match stream(format, spec, left, right, findings) {
        Ok(()) => Ok(()),
        Err(Stop::Io(error)) => Err(error),
        Err(Stop::Malformed(difference)) => {
            findings.push(*difference);
            Ok(())
        }
    }
}

fn stream(
    format: Format,
    spec: &DiffSpec,
    left: &StreamInput<'_>,
    right: &StreamInput<'_>,
    findings: &mut Findings<'_>,
) -> Result<(), Stop> {
    let Some((rule, fields)) = root_rule(spec) else {
        return Err(io::Error::other("streaming needs a key at the root").into());
    };
    // The key pairs every record, whether or not any differ.
    findings.rule_hit(rule);
    let size = std::fs::metadata(left.path)?
        .len()
        .max(std::fs::metadata(right.path)?.len());
    let partitions = size.div_ceil(PARTITION_BYTES).clamp(1, MAX_PARTITIONS) as usize;
    let scratch = tempfile::Builder::new()
        .prefix("parity-stream-")
        .tempdir()?;
    let layout = match format {
        Format::Csv | Format::Tsv => Some(csv_layout(format, spec, &fields, left, right)?),
        _ => None,
    };
    if let Some(layout) = &layout {
        super::csv::report_one_sided(&layout.one_sided, spec, findings);
    }
    // Pass 1: both sides at once, each into its key partitions.
    let split_side = |input: &StreamInput<'_>, side: usize| {
        split(
            format,
            spec,
            &fields,
            input,
            layout.as_ref().map(|l| (l, side)),
            scratch.path(),
            side,
            partitions,
        )
    };
    let (lparts, rparts) = rayon::join(|| split_side(left, 0), || split_side(right, 1));
    let (lparts, rparts) = match (lparts, rparts) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(Stop::Malformed(l)), Err(Stop::Malformed(r))) => {
            // Both sides malformed: report both, as the in-memory path does.
            findings.push(*l);
            return Err(Stop::Malformed(r));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    // Pass 2: each partition pair on its own.
    let (waivers, cap) = (findings.waivers(), findings.cap());
    let sides = [left.side, right.side];
    // Reduced as they finish, so only a few partitions' stored differences exist at once.
    let (summary, malformed) = (0..partitions)
        .into_par_iter()
        .map(|p| -> io::Result<(FindingsSummary, Malformed)> {
            let mut part = Findings::new(findings.output(), waivers, cap);
            let compared = compare_partition(
                spec,
                layout.as_ref(),
                [&lparts[p], &rparts[p]],
                sides,
                &mut part,
            )?;
            let mut summary = part.finish();
            summary.differences.sort_by(|a, b| a.path.cmp(&b.path));
            Ok((summary, compared.err().unwrap_or([None, None])))
        })
        .try_reduce(
            || (FindingsSummary::default(), [None, None]),
            |(a, amal), (b, bmal)| Ok((a.merge_sorted(b, cap), earliest(amal, bmal))),
        )?;
    if malformed.iter().any(Option::is_some) {
        // The first failure per side, as the in-memory parser would have stopped there.
        for (failure, input) in malformed.into_iter().zip([left, right]) {
            if let Some(failure) = failure {
                findings.push(failure.into_difference(format, &as_input(input)));
            }
        }
        return Ok(());
    }
    findings.absorb(summary);
    Ok(())
}

/// The earlier failure per side.
fn earliest(a: Malformed, b: Malformed) -> Malformed {
    let [al, ar] = a;
    let [bl, br] = b;
    let pick = |x: Option<ParseFailure>, y: Option<ParseFailure>| match (x, y) {
        (Some(x), Some(y)) => Some(if y.line < x.line { y } else { x }),
        (x, y) => x.or(y),
    };
    [pick(al, bl), pick(ar, br)]
}

fn as_input<'a>(input: &StreamInput<'a>) -> super::Input<'a> {
    super::Input {
        side: input.side,
        name: input.name,
        bytes: &[],
    }
}

/// Pass 1: every record of one side into its key partition file.
#[allow(clippy::too_many_arguments)]
fn split(
    format: Format,
    spec: &DiffSpec,
    fields: &[String],
    input: &StreamInput<'_>,
    layout: Option<(&CsvLayout, usize)>,
    dir: &Path,
    side: usize,
    partitions: usize,
) -> Result<Vec<PathBuf>, Stop> {
    let paths: Vec<PathBuf> = (0..partitions)
        .map(|p| dir.join(format!("{side}-{p}")))
        .collect();
    let mut writers = paths
        .iter()
        .map(|p| File::create(p).map(|f| BufWriter::with_capacity(WRITE_BUFFER, f)))
        .collect::<io::Result<Vec<_>>>()?;
    let mut route = |line: u64, key: u64, bytes: &[u8]| {
        let p = (key % partitions as u64) as usize;
        write_record(&mut writers[p], line, key, bytes)
    };
    let file = File::open(input.path)?;
    let mut key_text = Vec::new();
    match layout {
        None => {
            let mut reader = BufReader::with_capacity(256 * 1024, file);
            let mut line = Vec::new();
            let mut number = 0u64;
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                number += 1;
                let record = line.strip_suffix(b"\n").unwrap_or(&line);
                let record = record.strip_suffix(b"\r").unwrap_or(record);
                if record.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let key = probe_key(record, fields, number).map_err(|failure| {
                    Stop::from(failure.into_difference(format, &as_input(input)))
                })?;
                route(number, key_hash(&key, &mut key_text), record)?;
            }
        }
        Some((layout, side)) => {
            let mut reader = super::csv::reader_builder(format, &spec.csv)
                .from_reader(BufReader::with_capacity(256 * 1024, file));
            let mut record = csv::ByteRecord::new();
            loop {
                match reader.read_byte_record(&mut record) {
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| p.line());
                        let mut key: Vec<Value> = Vec::with_capacity(layout.keys[side].len());
                        for (k, i) in layout.keys[side].iter().enumerate() {
                            key.push(match i.and_then(|i| record.get(i).map(|f| (i, f))) {
                                Some((i, field)) => match std::str::from_utf8(field) {
                                    Ok(text) => Value::String(text.to_owned()),
                                    Err(_) => {
                                        let name = fields.get(k).map_or("", String::as_str);
                                        let failure = not_utf8(line, i + 1, name);
                                        return Err(Stop::from(
                                            failure.into_difference(format, &as_input(input)),
                                        ));
                                    }
                                },
                                None => Value::Null,
                            });
                        }
                        route(
                            line,
                            key_hash(&key, &mut key_text),
                            &encode_fields(&record, &layout.positions[side]),
                        )?;
                    }
                    Ok(false) => break,
                    Err(e) => return Err(csv_failure(format, input, e).into()),
                }
            }
        }
    }
    for writer in &mut writers {
        writer.flush()?;
    }
    Ok(paths)
}

/// Parse failures found in pass 2, per side.
type Malformed = [Option<ParseFailure>; 2];

/// Pass 2 for one partition: byte-identical records of keys that occur once per side cancel;
/// everything else is parsed and compared by the walker.
fn compare_partition(
    spec: &DiffSpec,
    layout: Option<&CsvLayout>,
    [lpath, rpath]: [&Path; 2],
    sides: [&str; 2],
    findings: &mut Findings<'_>,
) -> io::Result<Result<(), Malformed>> {
    let parts = [Partition::read(lpath)?, Partition::read(rpath)?];
    // Keys seen more than once on a side are compared in full, so the walker reports them.
    let mut counts: HashMap<u64, [u32; 2], std::hash::BuildHasherDefault<Prehashed>> =
        HashMap::default();
    for (side, part) in parts.iter().enumerate() {
        for record in &part.records {
            counts.entry(record.key).or_default()[side] += 1;
        }
    }
    let unique = |key: u64| counts.get(&key).is_some_and(|c| c[0] <= 1 && c[1] <= 1);
    let mut keep = [
        vec![true; parts[0].records.len()],
        vec![true; parts[1].records.len()],
    ];
    let hashes = |part: &Partition| {
        let mut hashes: Vec<(u64, u32)> = (0..part.records.len())
            .filter(|&i| unique(part.records[i].key))
            .map(|i| (xxh3_64(part.bytes(i)), i as u32))
            .collect();
        hashes.sort_unstable();
        hashes
    };
    let (lh, rh) = (hashes(&parts[0]), hashes(&parts[1]));
    let (mut a, mut b) = (0, 0);
    while a < lh.len() && b < rh.len() {
        match lh[a].0.cmp(&rh[b].0) {
            std::cmp::Ordering::Less => a += 1,
            std::cmp::Ordering::Greater => b += 1,
            std::cmp::Ordering::Equal => {
                let hash = lh[a].0;
                let a_end = a + lh[a..].iter().take_while(|(h, _)| *h == hash).count();
                let b_end = b + rh[b..].iter().take_while(|(h, _)| *h == hash).count();
                for &(_, j) in &rh[b..b_end] {
                    let bytes = parts[1].bytes(j as usize);
                    let partner = lh[a..a_end]
                        .iter()
                        .map(|&(_, i)| i as usize)
                        .find(|&i| keep[0][i] && parts[0].bytes(i) == bytes);
                    if let Some(i) = partner {
                        keep[0][i] = false;
                        keep[1][j as usize] = false;
                    }
                }
                (a, b) = (a_end, b_end);
            }
        }
    }
    let fields = root_key(spec);
    let parsed = |side: usize| -> Result<(Value, Vec<Difference>), ParseFailure> {
        let part = &parts[side];
        let mut records: Vec<(u64, Value)> = Vec::new();
        let mut duplicates = Vec::new();
        for i in (0..part.records.len()).filter(|&i| keep[side][i]) {
            let line = part.records[i].line;
            let (record, found) = parse_record(layout, line, part.bytes(i))?;
            for duplicate in found {
                duplicates.push(record_duplicate(
                    &fields,
                    &record,
                    line,
                    duplicate,
                    sides[side],
                ));
            }
            records.push((line, record));
        }
        records.sort_by_key(|(line, _)| *line);
        Ok((
            Value::Array(records.into_iter().map(|(_, v)| v).collect()),
            duplicates,
        ))
    };
    match (parsed(0), parsed(1)) {
        (Ok((l, ldup)), Ok((r, rdup))) => {
            for difference in ldup.into_iter().chain(rdup) {
                findings.push(difference);
            }
            let leaves = match layout {
                Some(_) => value::Leaves::Cells,
                None => value::Leaves::Json,
            };
            value::diff_values_as(leaves, &l, &r, &spec.rules, findings);
            Ok(Ok(()))
        }
        (l, r) => Ok(Err([l.err(), r.err()])),
    }
}

/// The root match rule's id and key fields (streaming is only used when there is one).
fn root_rule(spec: &DiffSpec) -> Option<(usize, Vec<String>)> {
    spec.rules
        .matching
        .iter()
        .find(|r| r.path.as_ref().is_some_and(|p| p.segments().is_empty()))
        .and_then(|r| match &r.action {
            super::ArrayMatch::Keyed(fields) => Some((r.id, fields.clone())),
            _ => None,
        })
}

pub(super) fn root_key(spec: &DiffSpec) -> Vec<String> {
    root_rule(spec)
        .map(|(_, fields)| fields)
        .unwrap_or_default()
}

fn parse_record(
    layout: Option<&CsvLayout>,
    line: u64,
    bytes: &[u8],
) -> Result<(Value, Vec<json::Duplicate>), ParseFailure> {
    match layout {
        Some(layout) => decode_fields(bytes, &layout.common)
            .map(|fields| (Value::Object(fields), Vec::new()))
            .map_err(|position| not_utf8(line, position + 1, &layout.common[position])),
        None => json::parse_document(bytes)
            .map(|parsed| (parsed.value, parsed.duplicates))
            .map_err(|mut failure| {
                // The parser counts lines within the record; the record starts at `line`.
                let offset = usize::try_from(line)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(1);
                failure.line += offset;
                failure
            }),
    }
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
    let values: Vec<Value> = fields
        .iter()
        .map(|f| record.get(f).cloned().unwrap_or(Value::Null))
        .collect();
    let mut path = super::JsonPath::root();
    path.push(super::path::key_filter(fields, &values));
    path.to_string()
}

/// A CSV field that is not valid UTF-8, as a failure (the in-memory reader refuses it too).
fn not_utf8(line: u64, column: usize, name: &str) -> ParseFailure {
    ParseFailure {
        line: usize::try_from(line).unwrap_or(usize::MAX),
        column,
        message: format!("field `{name}` is not valid UTF-8"),
    }
}

/// Whether a comparison can stream: a record format keyed at the root.
pub fn can_stream(format: Format, spec: &DiffSpec) -> bool {
    matches!(format, Format::Ndjson | Format::Csv | Format::Tsv) && !root_key(spec).is_empty()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::diff::{DiffKind, Input, NoWaivers, Rules};

    fn keyed_spec(fields: &[&str]) -> DiffSpec {
        DiffSpec {
            rules: Rules::default()
                .with_record_key(0, fields.iter().map(|f| (*f).to_owned()).collect()),
            ..DiffSpec::default()
        }
    }

    /// Runs both paths on the same contents; returns (streamed, in memory) findings.
    fn both(
        format: Format,
        spec: &DiffSpec,
        left: &[u8],
        right: &[u8],
    ) -> (FindingsSummary, FindingsSummary) {
        let dir = tempfile::tempdir().unwrap();
        let (lp, rp) = (dir.path().join("l"), dir.path().join("r"));
        std::fs::write(&lp, left).unwrap();
        std::fs::write(&rp, right).unwrap();
        let mut streamed = Findings::new("out", &NoWaivers, usize::MAX);
        diff_keyed_files(
            format,
            spec,
            &StreamInput {
                side: "left",
                name: "l",
                path: &lp,
            },
            &StreamInput {
                side: "right",
                name: "r",
                path: &rp,
            },
            &mut streamed,
        )
        .unwrap();
        let mut memory = Findings::new("out", &NoWaivers, usize::MAX);
        format.differ().diff(
            format,
            &Input {
                side: "left",
                name: "l",
                bytes: left,
            },
            &Input {
                side: "right",
                name: "r",
                bytes: right,
            },
            spec,
            &mut memory,
        );
        (streamed.finish(), memory.finish())
    }

    fn sorted(summary: &FindingsSummary) -> Vec<(String, DiffKind, Option<Value>, Option<Value>)> {
        let mut items: Vec<_> = summary
            .differences
            .iter()
            .map(|d| (d.path.clone(), d.kind, d.left.clone(), d.right.clone()))
            .collect();
        items.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        items
    }

    #[test]
    fn ndjson_records_stream_by_key() {
        let left = b"{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n{\"id\":3,\"v\":\"c\"}\n";
        let right = b"{\"id\":3,\"v\":\"c\"}\r\n\n{\"id\":2,\"v\":\"B\"}\n{\"id\":4,\"v\":\"d\"}\n";
        let (streamed, memory) = both(Format::Ndjson, &keyed_spec(&["id"]), left, right);
        assert_eq!(sorted(&streamed), sorted(&memory));
        assert_eq!(
            sorted(&streamed)
                .iter()
                .map(|(p, k, _, _)| (p.as_str(), *k))
                .collect::<Vec<_>>(),
            [
                ("$[?@.id==1]", DiffKind::Removed),
                ("$[?@.id==2].v", DiffKind::Changed),
                ("$[?@.id==4]", DiffKind::Added)
            ]
        );
    }

    #[test]
    fn a_member_twice_in_a_record_is_named_alike_streaming_and_in_memory() {
        let left = b"{\"id\":1,\"v\":1,\"v\":2}\n{\"id\":2,\"v\":3}\n";
        let right = b"{\"id\":2,\"v\":3}\n{\"id\":1,\"v\":2}\n";
        let (streamed, memory) = both(Format::Ndjson, &keyed_spec(&["id"]), left, right);
        assert_eq!(sorted(&streamed), sorted(&memory));
        assert_eq!(
            sorted(&streamed)
                .iter()
                .map(|(p, k, _, _)| (p.as_str(), *k))
                .collect::<Vec<_>>(),
            [("$[?@.id==1].v", DiffKind::DuplicateKey)]
        );
    }

    #[test]
    fn csv_streams_whatever_the_column_order() {
        let left = b"id,state,extra\n1,new,x\n2,open,y\n";
        let right = b"state,id\nopen,2\nclosed,1\n";
        let (streamed, memory) = both(Format::Csv, &keyed_spec(&["id"]), left, right);
        assert_eq!(sorted(&streamed), sorted(&memory));
        assert_eq!(streamed.total, 2, "{:?}", streamed.differences);
    }

    #[test]
    fn parse_errors_name_the_line() {
        let left = b"{\"id\":1}\n{\"id\":2}\n";
        let right = b"{\"id\":1}\n{\"id\":2}\n{\"id\":3,}\n";
        let (streamed, _) = both(Format::Ndjson, &keyed_spec(&["id"]), left, right);
        let note = streamed.differences[0].note.clone().unwrap();
        assert!(
            note.contains("right output `r` is not valid ndjson: line 3, column 9"),
            "{note}"
        );
        let (streamed, _) = both(
            Format::Csv,
            &keyed_spec(&["id"]),
            b"id,v\n1,a\n",
            b"id,v\n1,a\n2\n",
        );
        let note = streamed.differences[0].note.clone().unwrap();
        assert!(
            note.contains("line 3") && note.contains("1 fields but the header has 2"),
            "{note}"
        );
    }

    fn record() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(json!(null)),
            any::<i16>().prop_map(|n| json!(n)),
            "[a-c]{0,3}".prop_map(|s| json!(s)),
            prop::collection::vec(any::<u8>().prop_map(|n| json!(n % 3)), 0..3)
                .prop_map(Value::Array),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Streaming finds exactly what the in-memory walk finds, duplicate keys included.
        #[test]
        fn streaming_matches_the_in_memory_diff(
            left in prop::collection::vec((0u16..25, record()), 0..40),
            right in prop::collection::vec((0u16..25, record()), 0..40),
            seed in any::<u64>(),
        ) {
            let lines = |records: &[(u16, Value)], salt: u64| {
                let mut lines: Vec<String> = records.iter().map(|(id, v)| json!({"id": id, "v": v}).to_string()).collect();
                let len = lines.len();
                for i in (1..len).rev() {
                    lines.swap(i, ((seed ^ salt).wrapping_mul(i as u64 + 7) % (i as u64 + 1)) as usize);
                }
                lines.join("\n").into_bytes()
            };
            let (streamed, memory) = both(Format::Ndjson, &keyed_spec(&["id"]), &lines(&left, 1), &lines(&right, 2));
            prop_assert_eq!(sorted(&streamed), sorted(&memory));
            prop_assert_eq!(streamed.total, memory.total);
        }
    }
}

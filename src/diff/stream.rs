//! Keyed comparison of large NDJSON and CSV files with memory bounded by partition size, not by
//! file size.
//!
//! 1. **Partition by record hash.** Each side is read once, split into records (NDJSON lines;
//!    CSV records re-encoded in one canonical column order, so column order never matters), and
//!    each record is appended to one of `P` temporary files chosen by the xxh3 hash of its bytes.
//!    Byte-identical records on the two sides land in the same partition.
//! 2. **Cancel identical records without parsing.** Partition pairs are processed in parallel
//!    (rayon): records whose bytes are equal on both sides (hash first, then the bytes) cancel.
//!    Only the rest is parsed, and written to one of `P` key partitions chosen by the hash of its
//!    key, so records with the same key meet again whatever their content.
//! 3. **Compare by key.** Key partitions are compared in parallel with the structural walker,
//!    under the same rules as the in-memory path.
//!
//! `P` grows with the input so that a partition holds about [`PARTITION_BYTES`]; peak memory is
//! about two partition pairs, whatever the file size. Differences come out sorted by path (the
//! in-memory path orders them by first appearance); counts and verdicts are the same, except
//! that a record repeated byte for byte on one side is reported as `added`/`removed` rather than
//! as a `duplicate_key` (the copies cancel before any key is read).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde_json::{Map, Value};
use xxhash_rust::xxh3::xxh3_64;

use super::model::{DiffKind, Difference, Findings, FindingsSummary};
use super::{DiffSpec, Format, ParseFailure, json, value};

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

/// A partition file read back whole: its bytes, and where each record lies in them.
struct Partition {
    data: Vec<u8>,
    records: Vec<(u64, std::ops::Range<usize>)>,
}

impl Partition {
    fn read(path: &Path) -> io::Result<Self> {
        let mut data = Vec::new();
        File::open(path)?.read_to_end(&mut data)?;
        let mut records = Vec::new();
        let mut at = 0;
        while data.len() >= at + 12 {
            let line = u64::from_le_bytes(data[at..at + 8].try_into().map_err(io::Error::other)?);
            let len =
                u32::from_le_bytes(data[at + 8..at + 12].try_into().map_err(io::Error::other)?)
                    as usize;
            let start = at + 12;
            if data.len() < start + len {
                return Err(io::Error::other("truncated partition file"));
            }
            records.push((line, start..start + len));
            at = start + len;
        }
        Ok(Partition { data, records })
    }

    fn bytes(&self, i: usize) -> &[u8] {
        &self.data[self.records[i].1.clone()]
    }

    fn len(&self) -> usize {
        self.records.len()
    }
}

/// Why a pass stopped early: the files could not be read (an error of the harness), or one
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

/// The columns every CSV record is re-encoded in, and which are present on one side only.
struct CsvLayout {
    /// Columns both sides have, sorted: the order of fields in a stored record.
    common: Vec<String>,
    /// Per side, for each common column, its position in that side's header.
    positions: [Vec<usize>; 2],
    /// Columns one side has and the other not, with `true` for the left.
    one_sided: Vec<(String, bool)>,
}

/// Compares two record files keyed by `fields` at the root. Parse errors end the comparison with
/// a `parse_error` difference, as on the in-memory path.
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
    let (waivers, cap) = (findings.waivers(), findings.cap());
    let size = std::fs::metadata(left.path)?
        .len()
        .max(std::fs::metadata(right.path)?.len());
    let partitions = size.div_ceil(PARTITION_BYTES).clamp(1, MAX_PARTITIONS) as usize;
    let scratch = tempfile::Builder::new()
        .prefix("parity-stream-")
        .tempdir()?;
    let layout = match format {
        Format::Csv | Format::Tsv => Some(csv_layout(format, spec, left, right)?),
        _ => None,
    };
    if let Some(layout) = &layout {
        report_one_sided_columns(layout, spec, findings);
    }
    // Pass 1: both sides at once, each into its record-hash partitions.
    let (lparts, rparts) = rayon::join(
        || {
            split(
                format,
                spec,
                left,
                layout.as_ref().map(|l| (l, 0)),
                scratch.path(),
                "l",
                partitions,
            )
        },
        || {
            split(
                format,
                spec,
                right,
                layout.as_ref().map(|l| (l, 1)),
                scratch.path(),
                "r",
                partitions,
            )
        },
    );
    let (lparts, rparts) = match (lparts, rparts) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(Stop::Malformed(l)), Err(Stop::Malformed(r))) => {
            // Both sides malformed: report both, as the in-memory path does.
            findings.push(*l);
            return Err(Stop::Malformed(r));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    // Pass 2: cancel identical records, route the rest by key.
    let keyed_dir = scratch.path().join("keyed");
    std::fs::create_dir(&keyed_dir)?;
    let keys = KeyFiles::create(&keyed_dir, partitions)?;
    let cancelled: Vec<Result<(), Stop>> = (0..partitions)
        .into_par_iter()
        .map(|p| {
            cancel_identical(
                spec,
                layout.as_ref(),
                [left, right],
                (&lparts[p], &rparts[p]),
                &keys,
            )
        })
        .collect();
    let keyed = keys.finish()?;
    let mut malformed = Vec::new();
    for result in cancelled {
        match result {
            Ok(()) => {}
            Err(Stop::Malformed(failure)) => malformed.push(*failure),
            Err(error @ Stop::Io(_)) => return Err(error),
        }
    }
    if !malformed.is_empty() {
        // The first failure per side, as the in-memory parser would have stopped there.
        for side in [left.side, right.side] {
            if let Some(failure) = malformed
                .iter()
                .filter(|f| f.note.as_deref().is_some_and(|n| n.starts_with(side)))
                .min_by_key(|f| failure_line(f))
            {
                findings.push(failure.clone());
            }
        }
        return Ok(());
    }
    // Pass 3: compare each key partition with the walker.
    let summaries: Vec<io::Result<FindingsSummary>> = (0..partitions)
        .into_par_iter()
        .map(|q| {
            let mut part = Findings::new(findings.output(), waivers, cap);
            let lrecords = read_keyed(layout.as_ref(), &keyed[0][q])?;
            let rrecords = read_keyed(layout.as_ref(), &keyed[1][q])?;
            value::diff_values(
                &Value::Array(lrecords),
                &Value::Array(rrecords),
                &spec.rules,
                &mut part,
            );
            Ok(part.finish())
        })
        .collect();
    let mut merged: Vec<FindingsSummary> = summaries.into_iter().collect::<io::Result<_>>()?;
    let mut stored: Vec<Difference> = merged
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.differences))
        .collect();
    stored.sort_by(|a, b| a.path.cmp(&b.path));
    for summary in merged {
        findings.absorb(summary);
    }
    findings.absorb(FindingsSummary {
        differences: stored,
        ..FindingsSummary::default()
    });
    Ok(())
}

fn failure_line(failure: &Difference) -> usize {
    failure
        .note
        .as_deref()
        .and_then(|n| n.split("line ").nth(1))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// Reads both CSV headers and decides the canonical column order.
fn csv_layout(
    format: Format,
    spec: &DiffSpec,
    left: &StreamInput<'_>,
    right: &StreamInput<'_>,
) -> Result<CsvLayout, Stop> {
    let header = |input: &StreamInput<'_>| -> Result<Vec<String>, Stop> {
        let file = File::open(input.path)?;
        let mut reader =
            super::csv::reader_builder(format, &spec.csv).from_reader(BufReader::new(file));
        let headers = reader
            .headers()
            .map_err(|e| Stop::from(csv_failure(format, input, &e)))?;
        let columns: Vec<String> = headers.iter().map(str::to_owned).collect();
        let mut seen = std::collections::BTreeSet::new();
        for (i, column) in columns.iter().enumerate() {
            if !seen.insert(column) {
                let failure = ParseFailure {
                    line: 1,
                    column: i + 1,
                    message: format!("column `{column}` appears more than once in the header"),
                };
                return Err(Stop::from(
                    failure.into_difference(format, &as_input(input)),
                ));
            }
        }
        Ok(columns)
    };
    let (l, r) = (header(left)?, header(right)?);
    let mut common: Vec<String> = l.iter().filter(|c| r.contains(c)).cloned().collect();
    common.sort();
    let positions = |cols: &[String]| {
        common
            .iter()
            .map(|c| cols.iter().position(|x| x == c).unwrap_or(0))
            .collect()
    };
    let mut one_sided: Vec<(String, bool)> = l
        .iter()
        .filter(|c| !r.contains(c))
        .map(|c| (c.clone(), true))
        .collect();
    one_sided.extend(
        r.iter()
            .filter(|c| !l.contains(c))
            .map(|c| (c.clone(), false)),
    );
    one_sided.sort();
    Ok(CsvLayout {
        positions: [positions(&l), positions(&r)],
        common,
        one_sided,
    })
}

/// One difference per column present on one side only, as the in-memory CSV differ reports.
fn report_one_sided_columns(layout: &CsvLayout, spec: &DiffSpec, findings: &mut Findings<'_>) {
    for (column, on_left) in &layout.one_sided {
        let location = super::JsonPath::root()
            .child(super::Segment::Wildcard)
            .child(super::Segment::Field(column.clone()));
        if let Some(rule) = spec.rules.ignored(location.segments()) {
            findings.rule_hit(rule);
            continue;
        }
        let name = Value::String(column.clone());
        let difference = if *on_left {
            Difference::new(location.to_string(), DiffKind::Removed).left(name)
        } else {
            Difference::new(location.to_string(), DiffKind::Added).right(name)
        };
        findings.push(difference.note("column present on one side only"));
    }
}

fn as_input<'a>(input: &StreamInput<'a>) -> super::Input<'a> {
    super::Input {
        side: input.side,
        name: input.name,
        bytes: &[],
    }
}

fn csv_failure(format: Format, input: &StreamInput<'_>, error: &csv::Error) -> Difference {
    let line = error.position().map_or(1, |p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("row has {len} fields but the header has {expected_len}")
        }
        _ => error.to_string(),
    };
    ParseFailure {
        line,
        column: 1,
        message,
    }
    .into_difference(format, &as_input(input))
}

/// Appends `record` to `out` as `[line u64][len u32][bytes]`.
fn write_record(out: &mut impl Write, line: u64, bytes: &[u8]) -> io::Result<()> {
    out.write_all(&line.to_le_bytes())?;
    out.write_all(
        &u32::try_from(bytes.len())
            .map_err(io::Error::other)?
            .to_le_bytes(),
    )?;
    out.write_all(bytes)
}

/// A CSV record's common fields as one byte string: `[len u32][bytes]` per field.
fn encode_fields(record: &csv::ByteRecord, positions: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.as_slice().len() + 4 * positions.len());
    for &i in positions {
        let field = record.get(i).unwrap_or_default();
        out.extend_from_slice(&(field.len() as u32).to_le_bytes());
        out.extend_from_slice(field);
    }
    out
}

fn decode_fields(bytes: &[u8], columns: &[String]) -> Map<String, Value> {
    let mut map = Map::new();
    let mut rest = bytes;
    for column in columns {
        let len = rest
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let field = rest.get(4..4 + len).unwrap_or_default();
        map.insert(
            column.clone(),
            Value::String(String::from_utf8_lossy(field).into_owned()),
        );
        rest = rest.get(4 + len..).unwrap_or_default();
    }
    map
}

/// Pass 1: every record of one side into its record-hash partition file.
fn split(
    format: Format,
    spec: &DiffSpec,
    input: &StreamInput<'_>,
    layout: Option<(&CsvLayout, usize)>,
    dir: &Path,
    prefix: &str,
    partitions: usize,
) -> Result<Vec<PathBuf>, Stop> {
    let paths: Vec<PathBuf> = (0..partitions)
        .map(|p| dir.join(format!("{prefix}{p}")))
        .collect();
    let mut writers = paths
        .iter()
        .map(|p| File::create(p).map(|f| BufWriter::with_capacity(WRITE_BUFFER, f)))
        .collect::<io::Result<Vec<_>>>()?;
    let mut route = |line: u64, bytes: &[u8]| {
        let p = (xxh3_64(bytes) % partitions as u64) as usize;
        write_record(&mut writers[p], line, bytes)
    };
    let file = File::open(input.path)?;
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
                route(number, record)?;
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
                        route(line, &encode_fields(&record, &layout.positions[side]))?;
                    }
                    Ok(false) => break,
                    Err(e) => return Err(csv_failure(format, input, &e).into()),
                }
            }
        }
    }
    for writer in &mut writers {
        writer.flush()?;
    }
    Ok(paths)
}

/// The key partition files of both sides, shared by every pass-2 task (appends are whole
/// records under the lock, so files stay well-formed; pass 3 sorts records by line).
struct KeyFiles {
    paths: [Vec<PathBuf>; 2],
    writers: [Vec<Mutex<BufWriter<File>>>; 2],
}

impl KeyFiles {
    fn create(dir: &Path, partitions: usize) -> io::Result<Self> {
        let paths = |tag: &str| {
            (0..partitions)
                .map(|q| dir.join(format!("{tag}{q}")))
                .collect::<Vec<_>>()
        };
        let paths = [paths("l"), paths("r")];
        let open = |paths: &[PathBuf]| -> io::Result<Vec<Mutex<BufWriter<File>>>> {
            paths
                .iter()
                .map(|p| {
                    Ok(Mutex::new(BufWriter::with_capacity(
                        WRITE_BUFFER,
                        File::create(p)?,
                    )))
                })
                .collect()
        };
        let writers = [open(&paths[0])?, open(&paths[1])?];
        Ok(KeyFiles { paths, writers })
    }

    fn append(&self, side: usize, q: usize, line: u64, bytes: &[u8]) -> io::Result<()> {
        let mut writer = self.writers[side][q]
            .lock()
            .map_err(|_| io::Error::other("a partition writer panicked"))?;
        write_record(&mut *writer, line, bytes)
    }

    fn finish(self) -> io::Result<[Vec<PathBuf>; 2]> {
        for writer in self.writers.into_iter().flatten() {
            writer
                .into_inner()
                .map_err(|_| io::Error::other("a partition writer panicked"))?
                .flush()?;
        }
        Ok(self.paths)
    }
}

/// Pass 2 for one partition pair: cancels byte-identical records (sorted hashes merged, then
/// bytes compared), parses the rest to read its key, and appends it to its key partition.
fn cancel_identical(
    spec: &DiffSpec,
    layout: Option<&CsvLayout>,
    inputs: [&StreamInput<'_>; 2],
    (lpath, rpath): (&Path, &Path),
    keys: &KeyFiles,
) -> Result<(), Stop> {
    let parts = [Partition::read(lpath)?, Partition::read(rpath)?];
    let hashes = |part: &Partition| {
        let mut hashes: Vec<(u64, u32)> = (0..part.len())
            .map(|i| (xxh3_64(part.bytes(i)), i as u32))
            .collect();
        hashes.sort_unstable();
        hashes
    };
    let (lh, rh) = (hashes(&parts[0]), hashes(&parts[1]));
    let mut matched = [vec![false; parts[0].len()], vec![false; parts[1].len()]];
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
                        .find(|&i| !matched[0][i] && parts[0].bytes(i) == bytes);
                    if let Some(i) = partner {
                        matched[0][i] = true;
                        matched[1][j as usize] = true;
                    }
                }
                (a, b) = (a_end, b_end);
            }
        }
    }
    let fields = root_key(spec);
    let partitions = keys.paths[0].len() as u64;
    for side in 0..2 {
        let part = &parts[side];
        for i in (0..part.len()).filter(|&i| !matched[side][i]) {
            let (line, bytes) = (part.records[i].0, part.bytes(i));
            let parsed = parse_record(layout, line, bytes).map_err(|failure| {
                Stop::from(failure.into_difference(Format::Ndjson, &as_input(inputs[side])))
            })?;
            let key: Vec<Value> = fields
                .iter()
                .map(|f| parsed.get(f).cloned().unwrap_or(Value::Null))
                .collect();
            let q = (xxh3_64(Value::Array(key).to_string().as_bytes()) % partitions) as usize;
            keys.append(side, q, line, bytes)?;
        }
    }
    Ok(())
}

/// The key fields of the root match rule (streaming is only used when there is one).
fn root_key(spec: &DiffSpec) -> Vec<String> {
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

fn parse_record(
    layout: Option<&CsvLayout>,
    line: u64,
    bytes: &[u8],
) -> Result<Value, ParseFailure> {
    match layout {
        Some(layout) => Ok(Value::Object(decode_fields(bytes, &layout.common))),
        None => serde_json::from_slice(bytes).map_err(|e| {
            // serde_json counts lines within the record; the record starts at `line`.
            let offset = usize::try_from(line)
                .unwrap_or(usize::MAX)
                .saturating_sub(1);
            json::failure(&e, offset)
        }),
    }
}

/// Pass 3 input: every record of key partition `q`, from every record-hash partition, in line
/// order.
fn read_keyed(layout: Option<&CsvLayout>, path: &Path) -> io::Result<Vec<Value>> {
    let part = Partition::read(path)?;
    let mut records = Vec::with_capacity(part.len());
    for i in 0..part.len() {
        let line = part.records[i].0;
        // Pass 2 parsed every record here already; a failure now means a corrupt scratch file.
        let value =
            parse_record(layout, line, part.bytes(i)).map_err(|f| io::Error::other(f.message))?;
        records.push((line, value));
    }
    records.sort_by_key(|(line, _)| *line);
    Ok(records.into_iter().map(|(_, v)| v).collect())
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
    use crate::diff::{Input, NoWaivers, Rules};

    fn keyed_spec(fields: &[&str]) -> DiffSpec {
        DiffSpec {
            rules: Rules::default()
                .with_record_key(0, fields.iter().map(|f| (*f).to_owned()).collect()),
            stream_threshold: 0,
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
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// With unique keys, streaming finds exactly what the in-memory walk finds.
        #[test]
        fn streaming_matches_the_in_memory_diff(
            left in prop::collection::btree_map(0u16..60, record(), 0..40),
            right in prop::collection::btree_map(0u16..60, record(), 0..40),
            seed in any::<u64>(),
        ) {
            let lines = |m: &std::collections::BTreeMap<u16, Value>, salt: u64| {
                let mut lines: Vec<String> = m.iter().map(|(id, v)| json!({"id": id, "v": v}).to_string()).collect();
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

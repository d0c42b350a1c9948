//! Pass 1 for record files: every NDJSON line of one side read once, checked as the in-memory
//! parse checks it, and appended to the partition file its key's hash chooses (CSV rows: see
//! [`super::rows`]).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

use super::partition::{MUST_PARSE, Meta, write_record};
use super::record::{self, key_hash};
use super::{Stop, StreamInput, WRITE_BUFFER, as_input};
use crate::diff::table::MemberNames;
use crate::diff::{Format, json};

/// One side's partition files once written, and how many records they hold.
pub(super) type Written = (Vec<PathBuf>, u64);

/// One side's partition files while they are written.
pub(super) struct Partitions {
    paths: Vec<PathBuf>,
    writers: Vec<BufWriter<File>>,
    /// Records written so far.
    pub records: u64,
}

impl Partitions {
    pub fn create(dir: &Path, side: usize, count: usize) -> io::Result<Self> {
        let paths: Vec<PathBuf> = (0..count)
            .map(|p| dir.join(format!("{side}-{p}")))
            .collect();
        let writers = paths
            .iter()
            .map(|p| File::create(p).map(|f| BufWriter::with_capacity(WRITE_BUFFER, f)))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Partitions {
            paths,
            writers,
            records: 0,
        })
    }

    /// Appends a record to the partition of its key; its ordinal is the count so far.
    pub fn write(&mut self, line: u64, key: u64, flags: u8, bytes: &[u8]) -> io::Result<()> {
        let meta = Meta {
            line,
            ordinal: self.records,
            key,
            content: xxh3_64(bytes),
            flags,
        };
        self.records += 1;
        let p = (key % self.writers.len() as u64) as usize;
        write_record(&mut self.writers[p], &meta, bytes)
    }

    pub fn finish(mut self) -> io::Result<Written> {
        for writer in &mut self.writers {
            writer.flush()?;
        }
        Ok((self.paths, self.records))
    }
}

/// Splits one NDJSON file, collecting its records' member names. The first line that does not
/// parse ends it with that failure, as it ends the in-memory parse.
pub(super) fn ndjson(
    input: &StreamInput<'_>,
    fields: &[String],
    mut parts: Partitions,
) -> Result<(Written, MemberNames), Stop> {
    let mut reader = BufReader::with_capacity(256 * 1024, File::open(input.path)?);
    let (mut line, mut key_text) = (Vec::new(), Vec::new());
    let mut names = MemberNames::default();
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        // As the in-memory parse splits lines: at `\n`, a `\r` kept (it is JSON whitespace).
        let whole = line.strip_suffix(b"\n").unwrap_or(&line);
        if whole.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = whole.strip_suffix(b"\r").unwrap_or(whole);
        let (key, flags) = match record::scan(record, fields, &mut names) {
            Ok(scanned) => (scanned.key, if scanned.duplicates { MUST_PARSE } else { 0 }),
            // The in-memory parse says why, with its line and column.
            Err(_) => match json::parse_document(whole) {
                Err(mut failure) => {
                    failure.line += usize::try_from(number - 1).unwrap_or(usize::MAX);
                    return Err(Stop::from(
                        failure.into_difference(Format::Ndjson, &as_input(input)),
                    ));
                }
                Ok(parsed) => {
                    if let Some(members) = parsed.value.as_object() {
                        names.see(members.keys().map(String::as_str));
                    }
                    (record::key_of(&parsed.value, fields), MUST_PARSE)
                }
            },
        };
        parts.write(number, key_hash(&key, &mut key_text), flags, record)?;
    }
    Ok((parts.finish()?, names))
}

/// A file that read one way and then another: parity cannot promise anything about it.
pub(super) fn changed(input: &StreamInput<'_>) -> io::Error {
    io::Error::other(format!(
        "`{}` read differently twice (was it changed while being compared?)",
        input.name
    ))
}

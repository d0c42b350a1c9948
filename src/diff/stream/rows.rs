//! Pass 1 for CSV and TSV: every row of one side read once, checked as the in-memory reader
//! checks it (as many fields as the header, each UTF-8), re-encoded in the layout's column
//! order and appended to the partition file its key's hash chooses.
//!
//! A row that does not read ends the split with the failure the in-memory reader reports, found
//! by reading the file as that reader does.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::PathBuf;

use serde_json::Value;
use xxhash_rust::xxh3::xxh3_64;

use super::layout::CsvLayout;
use super::split::{Partitions, changed};
use super::{Stop, StreamInput, as_input};
use crate::diff::{DiffSpec, Difference, Format, ParseFailure, csv};

/// A CSV cell as the in-memory table holds it.
pub(super) fn cell(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// Splits one CSV or TSV file into `parts`.
pub(super) fn split(
    format: Format,
    spec: &DiffSpec,
    input: &StreamInput<'_>,
    (layout, side): (&CsvLayout, usize),
    parts: Partitions,
) -> Result<(Vec<PathBuf>, u64), Stop> {
    let mut row = Row {
        layout,
        side,
        key_text: Vec::new(),
        encoded: Vec::new(),
        parts,
    };
    match reader_rows(format, spec, input, &mut row)? {
        Ok(()) => Ok(row.parts.finish()?),
        Err(Bad) => Err(match first_csv_failure(format, spec, input)? {
            Some(failure) => failure.into(),
            None => changed(input).into(),
        }),
    }
}

/// A row that does not read: the in-memory reader's failure is looked up by reading again.
struct Bad;

/// Where rows go: key hashed, fields re-encoded, written to their partition.
struct Row<'a> {
    layout: &'a CsvLayout,
    side: usize,
    key_text: Vec<u8>,
    encoded: Vec<u8>,
    parts: Partitions,
}

impl Row<'_> {
    /// One row, its fields by position; `Bad` when the in-memory reader would refuse it.
    fn add<'f>(
        &mut self,
        whole: &[u8],
        count: usize,
        field: impl Fn(usize) -> &'f [u8],
    ) -> io::Result<Result<(), Bad>> {
        // As the text reader checks it: all ASCII, or each field UTF-8 on its own.
        if !whole.is_ascii() && (0..count).any(|i| std::str::from_utf8(field(i)).is_err()) {
            return Ok(Err(Bad));
        }
        let key = key_hash(&self.layout.keys[self.side], &field, &mut self.key_text);
        self.encoded.clear();
        for &i in &self.layout.positions[self.side] {
            let bytes = field(i);
            self.encoded
                .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            self.encoded.extend_from_slice(bytes);
        }
        self.parts.write(0, key, 0, &self.encoded)?;
        Ok(Ok(()))
    }
}

/// The hash of a row's key, as [`super::record::key_hash`] hashes the cells' values
/// (`["a","b"]`, `null` for a column the key names and the row lacks), written straight from
/// the fields (checked to be UTF-8).
fn key_hash<'f>(
    positions: &[Option<usize>],
    field: &impl Fn(usize) -> &'f [u8],
    buffer: &mut Vec<u8>,
) -> u64 {
    // Texts serialise as the string values `cell` makes of them; a test holds the two
    // together.
    buffer.clear();
    buffer.push(b'[');
    for (n, position) in positions.iter().enumerate() {
        if n > 0 {
            buffer.push(b',');
        }
        match position {
            // Writing into a Vec cannot fail.
            Some(i) => {
                let text = std::str::from_utf8(field(*i)).unwrap_or_default();
                let _ = serde_json::to_writer(&mut *buffer, text);
            }
            None => buffer.extend_from_slice(b"null"),
        }
    }
    buffer.push(b']');
    xxh3_64(buffer)
}

/// Rows as the csv reader reads them.
fn reader_rows(
    format: Format,
    spec: &DiffSpec,
    input: &StreamInput<'_>,
    row: &mut Row<'_>,
) -> io::Result<Result<(), Bad>> {
    let mut reader = csv_reader(format, spec, input)?;
    let mut record = ::csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(Ok(())),
            Err(_) => return Ok(Err(Bad)),
        }
        let record = &record;
        let whole = record.as_slice();
        if let Err(bad) = row.add(whole, record.len(), |i| record.get(i).unwrap_or_default())? {
            return Ok(Err(bad));
        }
    }
}

/// A CSV reader for one side, with one buffer between it and the file.
fn csv_reader(
    format: Format,
    spec: &DiffSpec,
    input: &StreamInput<'_>,
) -> io::Result<::csv::Reader<File>> {
    let mut builder = csv::reader_builder(format, &spec.csv);
    builder.buffer_capacity(256 * 1024);
    Ok(builder.from_reader(File::open(input.path)?))
}

/// The failure the in-memory reader reports for this file, if any, found by reading it as that
/// reader does (the header, then rows as text), one row at a time.
pub(super) fn first_csv_failure(
    format: Format,
    spec: &DiffSpec,
    input: &StreamInput<'_>,
) -> io::Result<Option<Difference>> {
    let failure = |failure: ParseFailure| Some(failure.into_difference(format, &as_input(input)));
    let file = File::open(input.path)?;
    let mut reader = csv::reader_builder(format, &spec.csv)
        .from_reader(BufReader::with_capacity(256 * 1024, file));
    if let Err(f) = csv::header(&mut reader) {
        return Ok(failure(f));
    }
    let mut row = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => return Ok(failure(csv::failure(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::stream::record;

    /// Rows are keyed from their fields directly; the hash must be the one of the cells'
    /// values, or rows would not meet the records they are compared with.
    #[test]
    fn a_row_key_hashes_as_its_cells() {
        let fields: Vec<&[u8]> = vec![b"7", b"a\"b\\", "é".as_bytes(), b""];
        let mut buffer = Vec::new();
        for positions in [vec![Some(0)], vec![Some(1), Some(2)], vec![Some(3), None]] {
            let cells: Vec<Value> = positions
                .iter()
                .map(|p| match p {
                    Some(i) => cell(std::str::from_utf8(fields[*i]).unwrap()),
                    None => Value::Null,
                })
                .collect();
            assert_eq!(
                key_hash(&positions, &|i| fields[i], &mut buffer),
                record::key_hash(&cells, &mut Vec::new())
            );
        }
    }
}

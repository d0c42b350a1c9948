//! The temporary partition files: records appended as `[line u64][key hash u64][len u32][bytes]`
//! and read back whole, CSV records re-encoded as length-prefixed fields in canonical column
//! order, and a pass-through hasher for keys that are hashes already.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::{Map, Value};

/// Bytes before each stored record: line (u64), key hash (u64), length (u32).
pub(super) const HEADER: usize = 20;

/// A stored record: where it starts in its file, its key's hash, and where its bytes lie in the
/// partition buffer.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub line: u64,
    pub key: u64,
    pub range: std::ops::Range<usize>,
}

/// A partition file read back whole.
pub(super) struct Partition {
    data: Vec<u8>,
    pub records: Vec<Stored>,
}

impl Partition {
    pub fn read(path: &Path) -> io::Result<Self> {
        let mut data = Vec::new();
        File::open(path)?.read_to_end(&mut data)?;
        let mut records = Vec::new();
        let mut at = 0;
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        while data.len() >= at + HEADER {
            let line = word(&data[at..at + 8]);
            let key = word(&data[at + 8..at + 16]);
            let len =
                u32::from_le_bytes(data[at + 16..at + 20].try_into().unwrap_or([0; 4])) as usize;
            let start = at + HEADER;
            if data.len() < start + len {
                return Err(io::Error::other("truncated partition file"));
            }
            records.push(Stored {
                line,
                key,
                range: start..start + len,
            });
            at = start + len;
        }
        Ok(Partition { data, records })
    }

    pub fn bytes(&self, i: usize) -> &[u8] {
        &self.data[self.records[i].range.clone()]
    }
}

/// Appends a record to `out`: header (line, key hash, length), then its bytes.
pub(super) fn write_record(
    out: &mut impl Write,
    line: u64,
    key: u64,
    bytes: &[u8],
) -> io::Result<()> {
    out.write_all(&line.to_le_bytes())?;
    out.write_all(&key.to_le_bytes())?;
    out.write_all(
        &u32::try_from(bytes.len())
            .map_err(io::Error::other)?
            .to_le_bytes(),
    )?;
    out.write_all(bytes)
}

/// A CSV record's common fields as one byte string: `[len u32][bytes]` per field.
pub(super) fn encode_fields(record: &csv::ByteRecord, positions: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.as_slice().len() + 4 * positions.len());
    for &i in positions {
        let field = record.get(i).unwrap_or_default();
        out.extend_from_slice(&(field.len() as u32).to_le_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// The fields of an encoded record by column. A field that is not valid UTF-8 is an error
/// holding its column's position (never decoded lossily: two different bytes must not compare
/// equal).
pub(super) fn decode_fields(bytes: &[u8], columns: &[String]) -> Result<Map<String, Value>, usize> {
    let mut map = Map::new();
    let mut rest = bytes;
    for (position, column) in columns.iter().enumerate() {
        let len = rest
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let field = rest.get(4..4 + len).unwrap_or_default();
        let text = std::str::from_utf8(field).map_err(|_| position)?;
        map.insert(column.clone(), Value::String(text.to_owned()));
        rest = rest.get(4 + len..).unwrap_or_default();
    }
    Ok(map)
}

/// A `Hasher` for keys that are already xxh3 hashes: passes them through.
#[derive(Default)]
pub(crate) struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with this; fold anything else in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

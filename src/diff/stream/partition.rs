//! The temporary partition files: records appended as `[line u64][ordinal u64][key hash u64]
//! [content hash u64][flags u8][len u32][bytes]` and read back whole, CSV records re-encoded as
//! length-prefixed fields in canonical column order, and a pass-through hasher for keys that are
//! hashes already.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::{Map, Value};

/// Bytes before each stored record: line, ordinal, key hash, content hash (u64 each), flags
/// (u8), length (u32).
pub(super) const HEADER: usize = 37;

/// The record must be parsed and compared even if its partner holds the same bytes (it holds a
/// member twice, which is a finding on its own).
pub(super) const MUST_PARSE: u8 = 1;

/// What is known of a record before it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Meta {
    /// Where it starts in its file (1-based line), for parse errors and notes.
    pub line: u64,
    /// Its position among the records of its side (0-based), as the in-memory array has it.
    pub ordinal: u64,
    /// The hash of its key.
    pub key: u64,
    /// The hash of its stored bytes.
    pub content: u64,
    pub flags: u8,
}

/// A stored record: what was known of it, and where its bytes lie in the partition buffer.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub meta: Meta,
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
        let word =
            |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
        while data.len() >= at + HEADER {
            let meta = Meta {
                line: word(&data, at),
                ordinal: word(&data, at + 8),
                key: word(&data, at + 16),
                content: word(&data, at + 24),
                flags: data[at + 32],
            };
            let len =
                u32::from_le_bytes(data[at + 33..at + 37].try_into().unwrap_or([0; 4])) as usize;
            let start = at + HEADER;
            if data.len() < start + len {
                return Err(io::Error::other("truncated partition file"));
            }
            records.push(Stored {
                meta,
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

/// Appends a record to `out`: header, then its bytes.
pub(super) fn write_record(out: &mut impl Write, meta: &Meta, bytes: &[u8]) -> io::Result<()> {
    let mut header = [0u8; HEADER];
    header[..8].copy_from_slice(&meta.line.to_le_bytes());
    header[8..16].copy_from_slice(&meta.ordinal.to_le_bytes());
    header[16..24].copy_from_slice(&meta.key.to_le_bytes());
    header[24..32].copy_from_slice(&meta.content.to_le_bytes());
    header[32] = meta.flags;
    header[33..].copy_from_slice(
        &u32::try_from(bytes.len())
            .map_err(io::Error::other)?
            .to_le_bytes(),
    );
    out.write_all(&header)?;
    out.write_all(bytes)
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
        map.insert(column.clone(), super::rows::cell(text));
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

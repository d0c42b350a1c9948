//! A file cut into records, the units `parity minimize` removes, and joined again from the
//! records kept. One small file per format: [`json`] (the elements of the top-level array, or
//! of the largest array member of a top-level object, e.g. `{"vulns": [...]}`), [`lines`]
//! (NDJSON: non-blank lines; text: every line), [`rows`] (CSV and TSV data rows; the header is
//! always kept). Bytes, and files that do not parse as their format says, are not cut: they
//! are kept whole.
//!
//! The main type is [`Split`]: the file as pieces of its own text, either fixed (a header, the
//! brackets and members around a JSON array) or a record. Joining writes the fixed pieces and
//! the records kept, byte for byte as they were, so keeping every record gives the file back
//! unchanged, and a JSON document keeps its wrapper, its formatting and its key order.

pub mod json;
pub mod lines;
pub mod rows;

use std::ops::Range;

use crate::diff::Format;

/// One piece of a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Always written.
    Fixed(Range<usize>),
    /// A record, written when kept: after `sep` when another record was written before it in
    /// this file (the `,` and whitespace between JSON array elements), else after `lead` (the
    /// whitespace alone, so the first element kept sits where the first element was).
    Record {
        lead: Range<usize>,
        sep: Range<usize>,
        body: Range<usize>,
    },
}

/// A file's text as fixed pieces and records, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub pieces: Vec<Piece>,
}

impl Split {
    /// Records, in order.
    pub fn records(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Record { .. }))
            .count()
    }

    /// The text of `text` (the file this was split from) with the records `keep` says, in
    /// their original order.
    pub fn join(&self, text: &[u8], keep: impl Fn(usize) -> bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        let (mut index, mut wrote) = (0, false);
        for piece in &self.pieces {
            match piece {
                Piece::Fixed(range) => out.extend_from_slice(&text[range.clone()]),
                Piece::Record { lead, sep, body } => {
                    if keep(index) {
                        let before = if wrote { sep } else { lead };
                        out.extend_from_slice(&text[before.clone()]);
                        out.extend_from_slice(&text[body.clone()]);
                        wrote = true;
                    }
                    index += 1;
                }
            }
        }
        out
    }
}

/// `text` cut into records by `format`; `None` when the file is kept whole (bytes, or text that
/// does not parse as `format` says).
pub fn split(format: Format, text: &[u8]) -> Option<Split> {
    match format {
        Format::Json => json::split(text),
        Format::Ndjson => Some(lines::split(text, lines::Blank::Fixed)),
        Format::Text => Some(lines::split(text, lines::Blank::Record)),
        Format::Csv => rows::split(text, b','),
        Format::Tsv => rows::split(text, b'\t'),
        Format::Bytes => None,
    }
}

/// One record found in a text: where it is, and what goes before it (see [`Piece::Record`]).
#[derive(Debug, Clone)]
struct Found {
    lead: Range<usize>,
    sep: Range<usize>,
    body: Range<usize>,
}

impl Found {
    /// A record with nothing before it (a line, a row).
    fn bare(body: Range<usize>) -> Found {
        Found {
            lead: body.start..body.start,
            sep: body.start..body.start,
            body,
        }
    }

    /// Where the record and what belongs to it begin.
    fn start(&self) -> usize {
        [&self.sep, &self.lead]
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|r| r.start)
            .fold(self.body.start, usize::min)
    }
}

/// Builds a [`Split`] from the records found in order in a text of `len` bytes; what lies
/// outside them is fixed.
fn from_records(len: usize, records: impl IntoIterator<Item = Found>) -> Split {
    let mut pieces = Vec::new();
    let mut at = 0;
    for found in records {
        let start = found.start();
        if start > at {
            pieces.push(Piece::Fixed(at..start));
        }
        at = found.body.end;
        pieces.push(Piece::Record {
            lead: found.lead,
            sep: found.sep,
            body: found.body,
        });
    }
    if at < len {
        pieces.push(Piece::Fixed(at..len));
    }
    Split { pieces }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The records of `text` as strings.
    pub fn bodies(split: &Split, text: &str) -> Vec<String> {
        split
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Record { body, .. } => Some(text[body.clone()].to_owned()),
                Piece::Fixed(_) => None,
            })
            .collect()
    }

    fn joined(split: &Split, text: &str, keep: &[usize]) -> String {
        String::from_utf8(split.join(text.as_bytes(), |i| keep.contains(&i))).expect("UTF-8")
    }

    #[test]
    fn every_format_keeps_what_it_must() {
        let cases: &[(Format, &str, &[usize], &str)] = &[
            (Format::Json, "[1, 2, 3]", &[1], "[2]"),
            (
                Format::Ndjson,
                "{\"a\":1}\n\n{\"a\":2}\n",
                &[1],
                "\n{\"a\":2}\n",
            ),
            (Format::Text, "one\ntwo\nthree", &[0, 2], "one\nthree"),
            (Format::Csv, "id,v\n1,a\n2,b\n", &[1], "id,v\n2,b\n"),
            (Format::Tsv, "id\tv\n1\ta\n2\tb\n", &[], "id\tv\n"),
        ];
        for (format, text, keep, expected) in cases {
            let split = split(*format, text.as_bytes()).expect("split");
            assert_eq!(joined(&split, text, keep), *expected, "{format:?} {text:?}");
        }
        assert_eq!(split(Format::Bytes, b"\x00\x01"), None);
    }

    fn json_document() -> impl Strategy<Value = String> {
        let element = prop_oneof![
            any::<i32>().prop_map(|n| n.to_string()),
            "[a-z\\\\\"\\]\\[{},: ]{0,8}"
                .prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            (any::<u8>(), "[a-z]{1,4}")
                .prop_map(|(n, k)| format!("{{\"{k}\": [{n}, {{\"x\": \"]\"}}]}}")),
        ];
        (
            proptest::collection::vec(element, 0..6),
            "[ \n\t]{0,3}",
            any::<bool>(),
        )
            .prop_map(|(elements, space, wrapped)| {
                let array = format!("[{space}{}{space}]", elements.join(&format!(",{space}")));
                if wrapped {
                    format!("{{\"total\": 2, \"items\": {array},{space}\"tail\": {{\"a\": [1, 2, 3, 4, 5, 6, 7]}}}}")
                } else {
                    array
                }
            })
    }

    proptest! {
        #[test]
        fn keeping_every_record_gives_the_file_back(
            text in "[a-z,\\t\\n\"]{0,60}",
            format in prop_oneof![Just(Format::Ndjson), Just(Format::Text), Just(Format::Csv), Just(Format::Tsv)],
        ) {
            if let Some(split) = split(format, text.as_bytes()) {
                prop_assert_eq!(split.join(text.as_bytes(), |_| true), text.as_bytes());
            }
        }

        #[test]
        fn json_keeps_its_wrapper_and_stays_json(text in json_document(), keep in proptest::collection::vec(any::<bool>(), 0..8)) {
            let split = split(Format::Json, text.as_bytes()).unwrap_or_default();
            prop_assert_eq!(split.join(text.as_bytes(), |_| true), text.as_bytes());
            let kept = split.join(text.as_bytes(), |i| keep.get(i).copied().unwrap_or(false));
            let value: serde_json::Value = serde_json::from_slice(&kept).map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&kept))))?;
            let original: serde_json::Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let array = |v: &serde_json::Value| v.get("items").unwrap_or(v).as_array().cloned().unwrap_or_default();
            let expected: Vec<_> = array(&original).into_iter().enumerate().filter(|(i, _)| keep.get(*i).copied().unwrap_or(false)).map(|(_, v)| v).collect();
            prop_assert_eq!(array(&value), expected);
            if let Some(object) = original.as_object() {
                let keys: Vec<_> = object.keys().collect();
                let kept_keys: Vec<_> = value.as_object().map(|o| o.keys().collect()).unwrap_or_default();
                prop_assert_eq!(keys, kept_keys);
            }
        }
    }
}

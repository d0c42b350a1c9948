//! NDJSON: one JSON value per line, compared as an array of records (keyed with `key`).

use serde_json::Value;

use super::json::Parsed;
use super::{DiffSpec, Differ, Findings, Format, Input, ParseFailure, json};

pub struct NdjsonDiffer;

impl Differ for NdjsonDiffer {
    fn diff(
        &self,
        format: Format,
        left: &Input<'_>,
        right: &Input<'_>,
        spec: &DiffSpec,
        findings: &mut Findings<'_>,
    ) {
        let key = super::stream::root_key(spec);
        let l = parse_document(left.bytes, &key);
        let r = parse_document(right.bytes, &key);
        json::diff_parsed(
            format,
            (left.side, left.name, l),
            (right.side, right.name, r),
            spec,
            findings,
        );
    }
}

/// Parses every non-blank line; the records become one array.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseFailure> {
    parse_document(bytes, &[]).map(|p| p.value)
}

/// Parses every non-blank line into one array, noting members a record holds twice: at the
/// record's path as the walker names it (`$[?@.id==1].member` when records are matched by
/// `key`, else `$[i].member`, `i` counting records).
pub fn parse_document(bytes: &[u8], key: &[String]) -> Result<Parsed, ParseFailure> {
    let mut records = Vec::new();
    let mut duplicates = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = json::parse_document(line).map_err(|mut failure| {
            failure.line += i;
            failure
        })?;
        if !parsed.duplicates.is_empty() {
            let at = if key.is_empty() {
                format!("$[{}]", records.len())
            } else {
                super::stream::record_path(key, &parsed.value)
            };
            duplicates.extend(parsed.duplicates.into_iter().map(|d| d.under(&at)));
        }
        records.push(parsed.value);
    }
    Ok(Parsed {
        several: false,
        value: Value::Array(records),
        duplicates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_blank_lines_and_locates_errors() {
        assert_eq!(
            parse(b"{\"a\":1}\n\n{\"a\":2}\n")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let failure = parse(b"{\"a\":1}\n{\"a\":}\n").unwrap_err();
        assert_eq!((failure.line, failure.column), (2, 6));
    }
}

//! NDJSON: one JSON value per line, compared as an array of records (keyed with `key`).

use serde_json::Value;

use super::{DiffSpec, Differ, Findings, Format, Input, ParseFailure, json, parse_both, value};

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
        if let Some((l, r)) = parse_both(format, left, right, findings, parse) {
            value::diff_values(&l, &r, &spec.rules, findings);
        }
    }
}

/// Parses every non-blank line; the records become one array.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseFailure> {
    let mut records = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = serde_json::from_slice(line).map_err(|e| json::failure(&e, i))?;
        records.push(record);
    }
    Ok(Value::Array(records))
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

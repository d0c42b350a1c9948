//! JSON documents, compared semantically by the structural walker.

use serde_json::Value;

use super::{DiffSpec, Differ, Findings, Format, Input, ParseFailure, parse_both, value};

pub struct JsonDiffer;

impl Differ for JsonDiffer {
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

/// Parses one JSON document.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseFailure> {
    serde_json::from_slice(bytes).map_err(|e| failure(&e, 0))
}

/// A serde_json error as a failure; `line_offset` shifts the line for documents inside a stream.
pub fn failure(error: &serde_json::Error, line_offset: usize) -> ParseFailure {
    let text = error.to_string();
    // serde_json appends " at line L column C"; we report those as fields.
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head)
        .to_owned();
    ParseFailure {
        line: error.line() + line_offset,
        column: error.column(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_and_column() {
        let failure = parse(b"{\n  \"a\": 1,\n  \"b\": ]\n}").unwrap_err();
        assert_eq!((failure.line, failure.column), (3, 8));
        assert_eq!(failure.message, "expected value");
    }
}

//! Raw bytes: equal or not; when not, sizes, hashes and the first differing offset.

use serde_json::json;

use super::{DiffKind, DiffSpec, Differ, Difference, Findings, Format, Input};

pub struct BytesDiffer;

impl Differ for BytesDiffer {
    fn diff(
        &self,
        _: Format,
        left: &Input<'_>,
        right: &Input<'_>,
        _: &DiffSpec,
        findings: &mut Findings<'_>,
    ) {
        if left.bytes == right.bytes {
            return;
        }
        let offset = left
            .bytes
            .iter()
            .zip(right.bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(left.bytes.len().min(right.bytes.len()));
        let describe = |bytes: &[u8]| json!({ "size": bytes.len(), "blake3": blake3::hash(bytes).to_hex().to_string() });
        findings.push(
            Difference::new("$", DiffKind::Changed)
                .left(describe(left.bytes))
                .right(describe(right.bytes))
                .note(format!("first difference at byte offset {offset}")),
        );
    }
}

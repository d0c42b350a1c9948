//! Fuzzes the text differ with arbitrary bytes (most not UTF-8): `cargo fuzz run -s none text`.
//! Besides what every differ must hold, text is compared byte for byte: two inputs that differ
//! in any byte must give a difference (lossy decoding once made Latin-1 `caf\xe9` equal
//! `caf\xe8`). A reordering is seen both ways and only between texts of the same lines, and a
//! moved line is the same line on both sides.
#![no_main]

mod common;

use parity::diff::{self, DiffKind, DiffSpec, Difference, Findings, Format, Input, NoWaivers};

fn differences(left: &[u8], right: &[u8]) -> (bool, Vec<Difference>) {
    let mut findings = Findings::new("fuzz", &NoWaivers, 100);
    let l = Input { side: "left", name: "l", bytes: left };
    let r = Input { side: "right", name: "r", bytes: right };
    let status = diff::compare(Format::Text, &DiffSpec::default(), &l, &r, &mut findings);
    (status.is_success(), findings.finish().differences)
}

/// The lines of `text`, sorted (a final newline ends the last line, it does not start one).
fn sorted_lines(text: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if text.is_empty() || text.ends_with(b"\n") {
        lines.pop();
    }
    lines.sort_unstable();
    lines
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::check(Format::Text, data, false);
    let (left, right) = common::sides(data);
    let (same, forward) = differences(left, right);
    assert_eq!(same, left == right, "text compared other than byte for byte");
    let (_, backward) = differences(right, left);
    let reordered = |found: &[Difference]| found.iter().any(|d| d.kind == DiffKind::OrderChanged);
    assert_eq!(reordered(&forward), reordered(&backward), "a reordering seen one way only");
    if reordered(&forward) {
        assert_eq!(sorted_lines(left), sorted_lines(right), "order_changed for other lines");
    }
    for moved in forward.iter().filter(|d| d.kind == DiffKind::Moved) {
        assert_eq!(moved.left, moved.right, "a moved line that is not the same line");
    }
});

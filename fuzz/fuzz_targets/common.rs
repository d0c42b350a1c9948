//! Shared by the differ targets: split the input into two sides, diff them both ways and against
//! themselves, and check what must always hold.

// Each target uses part of this module.
#![allow(dead_code)]

use parity::diff::{self, ArrayMatch, DiffSpec, Findings, Format, Input, JsonPath, NoWaivers, Rule, Rules};

/// Left and right halves, split at the first 0xFF byte (or the middle).
pub fn sides(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => data.split_at(data.len() / 2),
    }
}

fn run(format: Format, spec: &DiffSpec, left: &[u8], right: &[u8]) -> (usize, bool) {
    let mut findings = Findings::new("fuzz", &NoWaivers, 100);
    let l = Input { side: "left", name: "l", bytes: left };
    let r = Input { side: "right", name: "r", bytes: right };
    let status = diff::compare(format, spec, &l, &r, &mut findings);
    (findings.total(), status.is_success())
}

/// Never panics; a value never differs from itself; differing in one direction means differing
/// in the other.
pub fn check(format: Format, data: &[u8], keyed_root: bool) {
    let (left, right) = sides(data);
    let mut spec = DiffSpec::default();
    if keyed_root {
        spec.rules = Rules {
            matching: vec![Rule { id: 0, path: Some(JsonPath::root()), action: ArrayMatch::Keyed(vec!["id".into()]) }],
            ..Rules::default()
        };
    }
    let (same, _) = run(format, &spec, left, left);
    assert_eq!(same, 0, "an input differs from itself");
    let (forward, _) = run(format, &spec, left, right);
    let (backward, _) = run(format, &spec, right, left);
    assert_eq!(forward == 0, backward == 0, "difference is not symmetric");
}

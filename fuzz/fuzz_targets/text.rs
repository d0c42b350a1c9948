//! Fuzzes the text differ with arbitrary bytes (most not UTF-8): `cargo fuzz run -s none text`.
//! Besides what every differ must hold, text is compared byte for byte: two inputs that differ
//! in any byte must give a difference (lossy decoding once made Latin-1 `caf\xe9` equal
//! `caf\xe8`).
#![no_main]

mod common;

use parity::diff::{self, DiffSpec, Findings, Format, Input, NoWaivers};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::check(Format::Text, data, false);
    let (left, right) = common::sides(data);
    let mut findings = Findings::new("fuzz", &NoWaivers, 100);
    let l = Input { side: "left", name: "l", bytes: left };
    let r = Input { side: "right", name: "r", bytes: right };
    let status = diff::compare(Format::Text, &DiffSpec::default(), &l, &r, &mut findings);
    assert_eq!(status.is_success(), left == right, "text compared other than byte for byte");
});

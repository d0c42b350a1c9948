//! Fuzzes the ndjson differ: `cargo fuzz run -s none ndjson` (stable toolchain).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::check(parity::diff::Format::Ndjson, data, true);
});

//! Fuzzes the csv differ: `cargo fuzz run -s none csv` (stable toolchain).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::check(parity::diff::Format::Csv, data, true);
});

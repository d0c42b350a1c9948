//! Fuzzes the json differ: `cargo fuzz run -s none json` (stable toolchain).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::check(parity::diff::Format::Json, data, false);
});

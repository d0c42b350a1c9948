//! The anchor for `scripts/bench_diff.py`: parses every record of the given NDJSON files into
//! `serde_json::Value`, single-threaded, and prints the seconds it took. parity's keyed diff of
//! the same files is compared against this, so the ratio means "how much more than just reading
//! the data once".
//!
//! Usage: cargo run --release --example parse_baseline -- left.ndjson right.ndjson

use std::io::{BufRead, BufReader};
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let started = Instant::now();
    let mut records = 0u64;
    for path in std::env::args().skip(1) {
        let mut reader = BufReader::with_capacity(256 * 1024, std::fs::File::open(&path)?);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value: serde_json::Value =
                serde_json::from_slice(&line).map_err(std::io::Error::other)?;
            std::hint::black_box(&value);
            records += 1;
        }
    }
    println!(
        "{{\"seconds\": {:.3}, \"records\": {records}}}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

//! A side of known cost, for validating the performance gate (`scripts/validate_gate.py`).
//!
//! `spin --work N [--alloc MIB] [--out DIR]` runs N million steps of a fixed integer recurrence
//! (deterministic CPU work: the same instructions every run), optionally allocates and touches
//! MIB mebibytes first, and writes `DIR/result.json` so parity has an output to compare.

use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let work: f64 = value("--work").and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let alloc: usize = value("--alloc").and_then(|v| v.parse().ok()).unwrap_or(0);
    let ballast = vec![1u8; alloc << 20];
    black_box(&ballast);
    let steps = (work * 1_000_000.0) as u64;
    let mut x = 1u64;
    for i in 0..steps {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
    }
    black_box(x);
    if let Some(out) = value("--out") {
        let _ = std::fs::write(
            std::path::Path::new(out).join("result.json"),
            "{\"done\": true}\n",
        );
    }
}

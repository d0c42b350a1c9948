//! Throughput of the diff engines at growing sizes, so the cost's growth with input size is
//! visible (`cargo bench --bench diff`). Inputs: N records, the right side shuffled (or, for
//! text, in the same order) with 1% of the records changed, compared keyed where the format has
//! records. Keyed files go through `diff::compare_files` as `parity run` and `parity diff` use
//! it (keyed JSON, CSV and NDJSON stream through partitions on disk); the in-memory JSON walk is
//! measured beside them for reference. Whole-program timing of legacy and candidate is not
//! criterion's job; that is the performance gate's.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use parity::diff::stream::StreamInput;
use parity::diff::{
    self, ArrayMatch, DiffSpec, Findings, Format, Input, JsonPath, NoWaivers, Rule, Rules,
};

/// Records per side for the keyed engines.
const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Lines for the text engine (held in memory by the bench, so smaller).
const TEXT_SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// One record's fields: id, package, state, confidence (changed records have another state).
fn fields(i: usize, changed: bool) -> (usize, String, &'static str, f64) {
    let state = if changed {
        "changed"
    } else {
        ["affected", "fixed", "not_affected"][i % 3]
    };
    (i, format!("pkg-{}", i % 500), state, (i % 97) as f64 / 97.0)
}

/// Left and right record order: the right side shuffled deterministically, 1% changed.
fn order(n: usize) -> Vec<(usize, bool)> {
    let mut right: Vec<(usize, bool)> = (0..n).map(|i| (i, i % 100 == 0)).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        right.swap(i, (state % (i as u64 + 1)) as usize);
    }
    right
}

fn json_record(out: &mut String, (i, changed): (usize, bool)) {
    let (id, package, state, confidence) = fields(i, changed);
    out.push_str(&format!(
        r#"{{"id":{id},"package":"{package}","state":"{state}","confidence":{confidence},"sources":["nvd","osv","grype"]}}"#
    ));
}

/// Both sides' contents in `format`, written without building values (1M records fit).
fn inputs(format: Format, n: usize) -> (Vec<u8>, Vec<u8>) {
    let left: Vec<(usize, bool)> = (0..n).map(|i| (i, false)).collect();
    let right = order(n);
    let render = |records: &[(usize, bool)]| -> Vec<u8> {
        let mut out = String::new();
        match format {
            Format::Json => {
                out.push_str("{\"generated_at\":\"x\",\"advisories\":[");
                for (k, &r) in records.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    json_record(&mut out, r);
                }
                out.push_str("]}");
            }
            Format::Ndjson => {
                for &r in records {
                    json_record(&mut out, r);
                    out.push('\n');
                }
            }
            Format::Csv => {
                out.push_str("id,package,state,confidence\n");
                for &(i, changed) in records {
                    let (id, package, state, confidence) = fields(i, changed);
                    out.push_str(&format!("{id},{package},{state},{confidence}\n"));
                }
            }
            Format::Text => {
                // Text keeps line order: a log or report with 1% of lines edited.
                for &(i, changed) in records {
                    let (id, package, state, _) = fields(i, changed);
                    out.push_str(&format!("{id} {package} {state}\n"));
                }
            }
            Format::Tsv | Format::Bytes => unreachable!("not benchmarked"),
        }
        out.into_bytes()
    };
    match format {
        Format::Text => {
            let edited: Vec<(usize, bool)> = (0..n).map(|i| (i, i % 100 == 0)).collect();
            (render(&left), render(&edited))
        }
        _ => (render(&left), render(&right)),
    }
}

fn keyed_spec(path: &str) -> DiffSpec {
    let rule = Rule {
        id: 0,
        path: Some(JsonPath::parse(path).unwrap()),
        action: ArrayMatch::Keyed(vec!["id".into()]),
    };
    DiffSpec {
        rules: Rules {
            matching: vec![rule],
            ..Rules::default()
        },
        ..DiffSpec::default()
    }
}

/// Keyed files as `parity run` and `parity diff` compare them.
fn bench_files(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for (name, format, path) in [
        ("keyed-json", Format::Json, "$.advisories"),
        ("keyed-csv", Format::Csv, "$"),
        ("keyed-ndjson", Format::Ndjson, "$"),
    ] {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        let spec = keyed_spec(path);
        for n in SIZES {
            if n >= 1_000_000 {
                group.warm_up_time(Duration::from_secs(1));
                group.measurement_time(Duration::from_secs(10));
            }
            let (left, right) = inputs(format, n);
            let ext = format.as_str();
            let (lp, rp) = (
                dir.path().join(format!("l{n}.{ext}")),
                dir.path().join(format!("r{n}.{ext}")),
            );
            std::fs::write(&lp, &left).unwrap();
            std::fs::write(&rp, &right).unwrap();
            group.throughput(Throughput::Bytes((left.len() + right.len()) as u64));
            drop((left, right));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| compare_files(format, &spec, &lp, &rp))
            });
            std::fs::remove_file(&lp).unwrap();
            std::fs::remove_file(&rp).unwrap();
        }
        group.finish();
    }
}

fn compare_files(format: Format, spec: &DiffSpec, left: &Path, right: &Path) -> usize {
    let mut findings = Findings::new("bench", &NoWaivers, 1000);
    let input = |side, path| StreamInput {
        side,
        name: "bench",
        path,
    };
    diff::compare_files(
        Some(format),
        spec,
        &input("left", left),
        &input("right", right),
        &mut findings,
    )
    .unwrap();
    findings.total()
}

/// In memory: a JSON document walked whole (what documents the splitter cannot take cost),
/// and text lines.
fn bench_in_memory(c: &mut Criterion) {
    for (name, format, spec, sizes) in [
        (
            "json-in-memory",
            Format::Json,
            keyed_spec("$.advisories"),
            &SIZES[..2],
        ),
        ("text", Format::Text, DiffSpec::default(), &TEXT_SIZES[..]),
    ] {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        for &n in sizes {
            let (left, right) = inputs(format, n);
            group.throughput(Throughput::Bytes((left.len() + right.len()) as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    let mut findings = Findings::new("bench", &NoWaivers, 1000);
                    let l = Input {
                        side: "left",
                        name: "l",
                        bytes: &left,
                    };
                    let r = Input {
                        side: "right",
                        name: "r",
                        bytes: &right,
                    };
                    diff::compare(format, &spec, &l, &r, &mut findings)
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_files, bench_in_memory);
criterion_main!(benches);

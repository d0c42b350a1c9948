//! Throughput of the in-process diff engines, per format, at three sizes, so the cost's growth
//! with input size is visible (`cargo bench --bench diff`). Inputs: N records, the right side
//! shuffled (or, for text, unchanged order) with 1% of the records changed, compared keyed
//! where the format has records. Whole-program timing of legacy and candidate is not criterion's
//! job; that is the performance gate's.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use parity::diff::stream::StreamInput;
use parity::diff::{
    self, ArrayMatch, DiffSpec, Findings, Format, Input, JsonPath, NoWaivers, Rule, Rules,
};
use serde_json::{Value, json};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn record(i: usize) -> Value {
    let state = ["affected", "fixed", "not_affected"][i % 3];
    json!({
        "id": i,
        "package": format!("pkg-{}", i % 500),
        "state": state,
        "confidence": (i % 97) as f64 / 97.0,
        "sources": ["nvd", "osv", "grype"],
    })
}

/// Left and right records; the right side shuffled deterministically with 1% changed.
fn records(n: usize) -> (Vec<Value>, Vec<Value>) {
    let left: Vec<Value> = (0..n).map(record).collect();
    let mut right = left.clone();
    for i in (0..n).step_by(100) {
        right[i]["state"] = json!("changed");
    }
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        right.swap(i, (state % (i as u64 + 1)) as usize);
    }
    (left, right)
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

fn inputs(format: Format, n: usize) -> (Vec<u8>, Vec<u8>) {
    let (left, right) = records(n);
    match format {
        Format::Json => (
            serde_json::to_vec(&json!({ "advisories": left })).unwrap(),
            serde_json::to_vec(&json!({ "advisories": right })).unwrap(),
        ),
        Format::Ndjson => {
            let lines = |rs: &[Value]| {
                rs.iter()
                    .map(|r| r.to_string() + "\n")
                    .collect::<String>()
                    .into_bytes()
            };
            (lines(&left), lines(&right))
        }
        Format::Csv => {
            let rows = |rs: &[Value]| {
                let mut out = String::from("id,package,state,confidence\n");
                for r in rs {
                    out.push_str(&format!(
                        "{},{},{},{}\n",
                        r["id"],
                        r["package"].as_str().unwrap(),
                        r["state"].as_str().unwrap(),
                        r["confidence"]
                    ));
                }
                out.into_bytes()
            };
            (rows(&left), rows(&right))
        }
        Format::Text => {
            // Text keeps line order: a log or report with 1% of lines edited.
            let lines = |rs: &[Value]| {
                rs.iter()
                    .map(|r| format!("{} {} {}\n", r["id"], r["package"], r["state"]))
                    .collect::<String>()
                    .into_bytes()
            };
            let (l, mut r) = (lines(&left), left.clone());
            for i in (0..n).step_by(100) {
                r[i]["state"] = json!("changed");
            }
            (l, lines(&r))
        }
        Format::Tsv | Format::Bytes => unreachable!("not benchmarked"),
    }
}

fn bench(c: &mut Criterion) {
    for (format, spec) in [
        (Format::Json, keyed_spec("$.advisories")),
        (Format::Ndjson, keyed_spec("$")),
        (Format::Csv, keyed_spec("$")),
        (Format::Text, DiffSpec::default()),
    ] {
        let mut group = c.benchmark_group(format.as_str());
        group.sample_size(10);
        for n in SIZES {
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

/// The streaming keyed path (`diff::compare_files` on NDJSON files, partitions on disk), as
/// `parity run` and `parity diff` use it for record files past 4 MiB.
fn bench_streaming(c: &mut Criterion) {
    let mut group = c.benchmark_group("ndjson-streaming");
    group.sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    for n in SIZES {
        let (left, right) = inputs(Format::Ndjson, n);
        let (lp, rp) = (
            dir.path().join(format!("l{n}.ndjson")),
            dir.path().join(format!("r{n}.ndjson")),
        );
        std::fs::write(&lp, &left).unwrap();
        std::fs::write(&rp, &right).unwrap();
        let spec = DiffSpec { ..keyed_spec("$") };
        group.throughput(Throughput::Bytes((left.len() + right.len()) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let mut findings = Findings::new("bench", &NoWaivers, 1000);
                let l = StreamInput {
                    side: "left",
                    name: "l.ndjson",
                    path: &lp,
                };
                let r = StreamInput {
                    side: "right",
                    name: "r.ndjson",
                    path: &rp,
                };
                diff::compare_files(Some(Format::Ndjson), &spec, &l, &r, &mut findings).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, bench_streaming);
criterion_main!(benches);

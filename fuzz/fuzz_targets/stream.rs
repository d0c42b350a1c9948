//! Fuzzes the streaming keyed NDJSON diff against the in-memory walk: `cargo fuzz run -s none
//! stream`. Whatever the input, both must find the same differences (as sets; streaming lists
//! them by path), or both must reject the same side as malformed.
#![no_main]

mod common;

use parity::diff::stream::{StreamInput, diff_keyed_files};
use parity::diff::{ArrayMatch, DiffKind, DiffSpec, Findings, Format, Input, JsonPath, NoWaivers, Rule, Rules};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (left, right) = common::sides(data);
    let spec = DiffSpec {
        rules: Rules {
            matching: vec![Rule { id: 0, path: Some(JsonPath::root()), action: ArrayMatch::Keyed(vec!["id".into()]) }],
            ..Rules::default()
        },
        ..DiffSpec::default()
    };
    let Ok(dir) = tempfile::tempdir() else { return };
    let (lp, rp) = (dir.path().join("l.ndjson"), dir.path().join("r.ndjson"));
    if std::fs::write(&lp, left).is_err() || std::fs::write(&rp, right).is_err() {
        return;
    }
    let mut streamed = Findings::new("f", &NoWaivers, usize::MAX);
    let l = StreamInput { side: "left", name: "l", path: &lp };
    let r = StreamInput { side: "right", name: "r", path: &rp };
    diff_keyed_files(Format::Ndjson, &spec, &l, &r, &mut streamed).expect("streaming never fails on readable files");
    let mut memory = Findings::new("f", &NoWaivers, usize::MAX);
    Format::Ndjson.differ().diff(
        Format::Ndjson,
        &Input { side: "left", name: "l", bytes: left },
        &Input { side: "right", name: "r", bytes: right },
        &spec,
        &mut memory,
    );
    let (streamed, memory) = (streamed.finish(), memory.finish());
    let malformed = |s: &parity::diff::FindingsSummary| s.differences.iter().any(|d| d.kind == DiffKind::ParseError);
    if malformed(&memory) || malformed(&streamed) {
        // Streaming never parses byte-identical records, so it may accept a file the in-memory
        // parser rejects; it must never reject one the in-memory parser accepts.
        assert!(malformed(&memory), "streaming rejected what the in-memory parser accepts: {:?}", streamed.differences);
        return;
    }
    let sorted = |s: &parity::diff::FindingsSummary| {
        let mut items: Vec<String> = s.differences.iter().map(|d| format!("{} {} {:?} {:?}", d.path, d.kind, d.left, d.right)).collect();
        items.sort();
        items
    };
    assert_eq!(sorted(&streamed), sorted(&memory));
});

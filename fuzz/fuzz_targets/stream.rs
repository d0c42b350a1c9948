//! Fuzzes the streaming keyed diff against the in-memory walk: `cargo fuzz run -s none stream`.
//! Whatever the input, both must find the same differences (as sets; streaming lists them by
//! path) and the same parse failures. The same lines are also fuzzed as the elements of a JSON
//! document's keyed array, split when the splitter takes the document.
#![no_main]

mod common;

use parity::diff::stream::{Split, StreamInput, diff_keyed_files, diff_keyed_json};
use parity::diff::{ArrayMatch, DiffKind, DiffSpec, Findings, FindingsSummary, Format, Input, JsonPath, NoWaivers, Rule, Rules};

fn keyed(path: JsonPath) -> DiffSpec {
    DiffSpec {
        rules: Rules {
            matching: vec![Rule { id: 0, path: Some(path), action: ArrayMatch::Keyed(vec!["id".into()]) }],
            ..Rules::default()
        },
        ..DiffSpec::default()
    }
}

/// What both paths must agree on: differences, a parse failure's note with them (a record's
/// duplicate member notes its line only when streamed), counts and rule use.
fn said(s: &FindingsSummary) -> (Vec<String>, usize, Vec<(usize, u64, u64)>) {
    let mut items: Vec<String> = s
        .differences
        .iter()
        .map(|d| {
            let note = if d.kind == DiffKind::ParseError { d.note.clone() } else { None };
            format!("{} {} {:?} {:?} {:?}", d.path, d.kind, d.left, d.right, note)
        })
        .collect();
    items.sort();
    (items, s.total, s.rule_hits.iter().map(|(k, v)| (*k, v.applied, v.judged)).collect())
}

fn memory(format: Format, spec: &DiffSpec, left: &[u8], right: &[u8]) -> FindingsSummary {
    let mut memory = Findings::new("f", &NoWaivers, usize::MAX);
    format.differ().diff(
        format,
        &Input { side: "left", name: "l", bytes: left },
        &Input { side: "right", name: "r", bytes: right },
        spec,
        &mut memory,
    );
    memory.finish()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (left, right) = common::sides(data);
    let Ok(dir) = tempfile::tempdir() else { return };
    let (lp, rp) = (dir.path().join("l"), dir.path().join("r"));
    let l = StreamInput { side: "left", name: "l", path: &lp };
    let r = StreamInput { side: "right", name: "r", path: &rp };

    let spec = keyed(JsonPath::root());
    if std::fs::write(&lp, left).is_err() || std::fs::write(&rp, right).is_err() {
        return;
    }
    let mut streamed = Findings::new("f", &NoWaivers, usize::MAX);
    diff_keyed_files(Format::Ndjson, &spec, &l, &r, &mut streamed).expect("streaming never fails on readable files");
    assert_eq!(said(&streamed.finish()), said(&memory(Format::Ndjson, &spec, left, right)));

    let document = |lines: &[u8]| {
        let mut doc = b"{\"items\": [".to_vec();
        let records: Vec<&[u8]> = lines.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).collect();
        doc.extend(records.join(&b","[..]));
        doc.extend(b"], \"n\": 1}");
        doc
    };
    let (left, right) = (document(left), document(right));
    let spec = keyed(JsonPath::parse("$.items").expect("a path"));
    if std::fs::write(&lp, &left).is_err() || std::fs::write(&rp, &right).is_err() {
        return;
    }
    let mut streamed = Findings::new("f", &NoWaivers, usize::MAX);
    let split = diff_keyed_json(&spec, &l, &r, &mut streamed).expect("splitting never fails on readable files");
    if split == Split::Done {
        assert_eq!(said(&streamed.finish()), said(&memory(Format::Json, &spec, &left, &right)));
    } else {
        assert_eq!(streamed.total(), 0, "nothing recorded before falling back");
    }
});

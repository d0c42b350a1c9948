//! Streaming against the in-memory path: the same files through both, the same findings.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::diff::model::Waive;
use crate::diff::rules::{Normalize, Replacement, Rule, Tolerance, ValueMap};
use crate::diff::{
    ArrayMatch, DiffKind, Input, JsonPath, NoWaivers, Rules, TableSide, TableSummary, TableTally,
};

fn keyed_spec(fields: &[&str]) -> DiffSpec {
    DiffSpec {
        rules: Rules::default()
            .with_record_key(0, fields.iter().map(|f| (*f).to_owned()).collect()),
        ..DiffSpec::default()
    }
}

/// Keyed matching of the array at `path` in a JSON document.
fn document_spec(path: &str, fields: &[&str]) -> DiffSpec {
    DiffSpec {
        rules: Rules {
            matching: vec![Rule {
                id: 0,
                path: Some(JsonPath::parse(path).unwrap()),
                action: ArrayMatch::Keyed(fields.iter().map(|f| (*f).to_owned()).collect()),
            }],
            ..Rules::default()
        },
        ..DiffSpec::default()
    }
}

/// Waives every removal: streaming must apply waivers as the in-memory path does.
struct WaiveRemoved;

impl Waive for WaiveRemoved {
    fn waiver_for(&self, _: &str, difference: &Difference) -> Option<usize> {
        (difference.kind == DiffKind::Removed).then_some(3)
    }
}

/// Runs both paths on the same contents with `partitions` partitions; returns (streamed, in
/// memory) findings. JSON that the splitter leaves to the in-memory path is compared there, as
/// `compare_files` does; the second value says whether it was split.
fn both_with(
    format: Format,
    spec: &DiffSpec,
    left: &[u8],
    right: &[u8],
    partitions: usize,
    waivers: &dyn Waive,
) -> (FindingsSummary, FindingsSummary, Split) {
    let dir = tempfile::tempdir().unwrap();
    let (lp, rp) = (dir.path().join("l"), dir.path().join("r"));
    std::fs::write(&lp, left).unwrap();
    std::fs::write(&rp, right).unwrap();
    let (l, r) = (
        StreamInput {
            side: "left",
            name: "l",
            path: &lp,
        },
        StreamInput {
            side: "right",
            name: "r",
            path: &rp,
        },
    );
    let inputs = (
        Input {
            side: "left",
            name: "l",
            bytes: left,
        },
        Input {
            side: "right",
            name: "r",
            bytes: right,
        },
    );
    let mut streamed = Findings::new("out", waivers, usize::MAX);
    let split = match format {
        Format::Json => {
            let split = document_in(spec, [&l, &r], &mut streamed, partitions).unwrap();
            if let Split::InMemory(_) = split {
                assert_eq!(streamed.total(), 0, "nothing recorded before falling back");
                format
                    .differ()
                    .diff(format, &inputs.0, &inputs.1, spec, &mut streamed);
            }
            split
        }
        _ => {
            records_in(format, spec, [&l, &r], &mut streamed, partitions).unwrap();
            Split::Done
        }
    };
    let mut memory = Findings::new("out", waivers, usize::MAX);
    format
        .differ()
        .diff(format, &inputs.0, &inputs.1, spec, &mut memory);
    (streamed.finish(), memory.finish(), split)
}

fn both(
    format: Format,
    spec: &DiffSpec,
    left: &[u8],
    right: &[u8],
) -> (FindingsSummary, FindingsSummary) {
    let (s, m, _) = both_with(format, spec, left, right, 3, &NoWaivers);
    (s, m)
}

type Item = (
    String,
    DiffKind,
    Option<Value>,
    Option<Value>,
    Option<String>,
    Option<usize>,
);

/// Everything a summary says, differences in a fixed order (streaming sorts them by path, the
/// walk lists them as it meets them) and cluster examples left out (which three a cluster
/// keeps depends on that order).
#[derive(Debug, PartialEq)]
struct Said {
    differences: Vec<Item>,
    total: usize,
    unwaived: usize,
    rule_hits: BTreeMap<usize, crate::diff::RuleUse>,
    waiver_hits: BTreeMap<usize, u64>,
    clusters: Vec<((String, DiffKind), usize, usize)>,
    equivalences: Vec<(DiffKind, usize)>,
    notes: Vec<String>,
    table: Option<crate::diff::TableSummary>,
}

fn said(summary: &FindingsSummary) -> Said {
    let mut differences: Vec<Item> = summary
        .differences
        .iter()
        .map(|d| {
            // Streaming also says on which line a record holding a member twice starts.
            let note = d.note.as_ref().map(|n| match n.rsplit_once(" (line ") {
                Some((head, _)) if d.kind == DiffKind::DuplicateKey => head.to_owned(),
                _ => n.clone(),
            });
            (
                d.path.clone(),
                d.kind,
                d.left.clone(),
                d.right.clone(),
                note,
                d.waiver,
            )
        })
        .collect();
    differences.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    Said {
        differences,
        total: summary.total,
        unwaived: summary.unwaived,
        rule_hits: summary.rule_hits.clone(),
        waiver_hits: summary.waiver_hits.clone(),
        clusters: summary
            .clusters
            .iter()
            .map(|(k, t)| (k.clone(), t.count, t.waived))
            .collect(),
        equivalences: summary
            .equivalences
            .iter()
            .map(|(k, t)| (*k, t.count))
            .collect(),
        notes: summary.notes.clone(),
        table: summary.table.as_ref().map(|t| t.summary()),
    }
}

fn paths_and_kinds(summary: &FindingsSummary) -> Vec<(String, DiffKind)> {
    let mut items: Vec<_> = summary
        .differences
        .iter()
        .map(|d| (d.path.clone(), d.kind))
        .collect();
    items.sort();
    items
}

#[test]
fn ndjson_records_stream_by_key() {
    let left = b"{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n{\"id\":3,\"v\":\"c\"}\n";
    let right = b"{\"id\":3,\"v\":\"c\"}\r\n\n{\"id\":2,\"v\":\"B\"}\n{\"id\":4,\"v\":\"d\"}\n";
    let (streamed, memory) = both(Format::Ndjson, &keyed_spec(&["id"]), left, right);
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(
        paths_and_kinds(&streamed),
        [
            ("$[?@.id==1]".to_owned(), DiffKind::Removed),
            ("$[?@.id==2].v".to_owned(), DiffKind::Changed),
            ("$[?@.id==4]".to_owned(), DiffKind::Added)
        ]
    );
}

#[test]
fn a_member_twice_in_a_record_is_named_alike_streaming_and_in_memory() {
    let left = b"{\"id\":1,\"v\":1,\"v\":2}\n{\"id\":2,\"v\":3}\n";
    let right = b"{\"id\":2,\"v\":3}\n{\"id\":1,\"v\":2}\n";
    let (streamed, memory) = both(Format::Ndjson, &keyed_spec(&["id"]), left, right);
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(
        paths_and_kinds(&streamed),
        [("$[?@.id==1].v".to_owned(), DiffKind::DuplicateKey)]
    );
}

/// Regression: records equal on both sides were cancelled unread, so a record that does not
/// parse, or holds a member twice, passed when it was the same on both sides.
#[test]
fn records_equal_on_both_sides_are_still_checked() {
    let spec = keyed_spec(&["id"]);
    let (streamed, memory) = both(
        Format::Ndjson,
        &spec,
        b"{\"id\":1}\n{\"id\":2,\"v\":}\n",
        b"{\"id\":2,\"v\":}\n{\"id\":1}\n",
    );
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(streamed.total, 2, "{:?}", streamed.differences);
    assert!(
        streamed
            .differences
            .iter()
            .all(|d| d.kind == DiffKind::ParseError
                && d.note.as_deref().unwrap_or_default().contains("column 13")),
        "{:?}",
        streamed.differences
    );
    let twice = b"{\"id\":1,\"v\":1,\"v\":1}\n";
    let (streamed, memory) = both(Format::Ndjson, &spec, twice, twice);
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(streamed.total, 2);
    let bad = b"id,v\n1,\xff\n";
    let (streamed, memory) = both(Format::Csv, &spec, bad, bad);
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(streamed.total, 2);
}

/// Regression: the key was read from the first of a key member named twice, the walker keys
/// by the last, so the record went to another partition than its partner.
#[test]
fn a_key_named_twice_is_the_last() {
    let left = b"{\"id\":1,\"v\":0,\"id\":3}\n{\"id\":2}\n";
    let right = b"{\"id\":2}\n{\"id\":3,\"v\":0}\n";
    for partitions in [1, 2, 5] {
        let (streamed, memory, _) = both_with(
            Format::Ndjson,
            &keyed_spec(&["id"]),
            left,
            right,
            partitions,
            &NoWaivers,
        );
        assert_eq!(said(&streamed), said(&memory));
        assert_eq!(
            paths_and_kinds(&streamed),
            [("$[?@.id==3].id".to_owned(), DiffKind::DuplicateKey)]
        );
    }
}

#[test]
fn csv_streams_whatever_the_column_order() {
    let left = b"id,state,extra\n1,new,x\n2,open,y\n";
    let right = b"state,id\nopen,2\nclosed,1\n";
    let (streamed, memory) = both(Format::Csv, &keyed_spec(&["id"]), left, right);
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(streamed.total, 2, "{:?}", streamed.differences);
    // A key column on one side only is no key at all, as in memory.
    let (streamed, memory) = both(
        Format::Csv,
        &keyed_spec(&["extra"]),
        left,
        b"id,state\n1,new\n2,open\n",
    );
    assert_eq!(said(&streamed), said(&memory));
}

#[test]
fn parse_errors_name_the_line() {
    let left = b"{\"id\":1}\n{\"id\":2}\n";
    let right = b"{\"id\":1}\n{\"id\":2}\n{\"id\":3,}\n";
    let (streamed, memory) = both(Format::Ndjson, &keyed_spec(&["id"]), left, right);
    assert_eq!(said(&streamed), said(&memory));
    let note = streamed.differences[0].note.clone().unwrap();
    assert!(
        note.contains("right output `r` is not valid ndjson: line 3, column 9"),
        "{note}"
    );
    // The first failure of each side, wherever in the record it is.
    let (streamed, memory) = both(
        Format::Ndjson,
        &keyed_spec(&["id"]),
        b"{\"id\":1,\"v\":tru}\n{\"id\":}\n",
        b"{\"id\":1}\r\n{\"id\":2\r\n",
    );
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(streamed.total, 2);
    for (left, right) in [
        (&b"id,v\n1,a\n"[..], &b"id,v\n1,a\n2\n"[..]),
        (b"id,id\n1,2\n", b"id,v\n1,a\n2\n"),
        (b"id,id\n", b"v,v\n"),
        (b"id,v\n1,a\n", b"id,v\n1,a\n2,\xff\n"),
    ] {
        let (streamed, memory) = both(Format::Csv, &keyed_spec(&["id"]), left, right);
        assert_eq!(said(&streamed), said(&memory));
        assert!(streamed.total >= 1);
    }
    let (streamed, _) = both(
        Format::Csv,
        &keyed_spec(&["id"]),
        b"id,v\n1,a\n",
        b"id,v\n1,a\n2\n",
    );
    let note = streamed.differences[0].note.clone().unwrap();
    assert!(
        note.contains("line 3") && note.contains("1 fields but the header has 2"),
        "{note}"
    );
}

/// The key rule counts once when the arrays differ, and not at all when they are the same in
/// the same order (as the walker, which never looks at equal arrays).
#[test]
fn the_key_rule_counts_as_in_memory() {
    let spec = keyed_spec(&["id"]);
    let same = b"{\"id\":1}\n{\"id\":2}\n";
    for right in [
        &b"{\"id\":1}\n\n{\"id\":2}\n"[..],
        b"{\"id\":2}\n{\"id\":1}\n",
        b"{\"id\":1}\n",
    ] {
        for partitions in [1, 4] {
            let (streamed, memory, _) =
                both_with(Format::Ndjson, &spec, same, right, partitions, &NoWaivers);
            assert_eq!(said(&streamed), said(&memory));
        }
    }
    let doc = |items: &str| format!("{{\"at\":1,\"items\":[{items}]}}").into_bytes();
    let spec = document_spec("$.items", &["id"]);
    for (l, r) in [
        (doc("{\"id\":1},{\"id\":2}"), doc("{\"id\":1}, {\"id\":2}")),
        (doc("{\"id\":1},{\"id\":2}"), doc("{\"id\":2},{\"id\":1}")),
    ] {
        let (streamed, memory, split) = both_with(Format::Json, &spec, &l, &r, 2, &NoWaivers);
        assert_eq!(split, Split::Done);
        assert_eq!(said(&streamed), said(&memory));
    }
}

#[test]
fn json_documents_split_at_their_keyed_array() {
    let spec = document_spec("$.data.items", &["id"]);
    let left = br#"{"data": {"n": 1, "items": [{"id": 1, "v": "a"}, {"id": 2, "v": "b", "v": "c"}, 7]}, "at": {"x": 1, "x": 2}}"#;
    let right =
        br#"{"at": {"x": 2}, "data": {"items": [7, {"id": 2, "v": "c"}, {"id": 3}], "n": 2}}"#;
    let (streamed, memory, split) = both_with(Format::Json, &spec, left, right, 3, &NoWaivers);
    assert_eq!(split, Split::Done);
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(
        paths_and_kinds(&streamed),
        [
            ("$.at.x".to_owned(), DiffKind::DuplicateKey),
            ("$.data.items[1].v".to_owned(), DiffKind::DuplicateKey),
            ("$.data.items[?@.id==1]".to_owned(), DiffKind::Removed),
            ("$.data.items[?@.id==3]".to_owned(), DiffKind::Added),
            ("$.data.n".to_owned(), DiffKind::Changed),
        ]
    );
    // At the root too.
    let spec = document_spec("$", &["id"]);
    let (streamed, memory, split) = both_with(
        Format::Json,
        &spec,
        b"[{\"id\":1,\"v\":1},{\"id\":2}]",
        b"[{\"id\":2},{\"id\":1,\"v\":1.0}]",
        2,
        &NoWaivers,
    );
    assert_eq!(split, Split::Done);
    assert_eq!(said(&streamed), said(&memory));
    assert_eq!(streamed.equivalences[&DiffKind::NumberFormat].count, 1);
}

/// What the splitter cannot promise is compared in memory, with its findings.
#[test]
fn json_it_cannot_split_is_compared_in_memory() {
    let spec = document_spec("$.items", &["id"]);
    for (left, right) in [
        (
            &br#"{"items": [{"id": 1}], "items": []}"#[..],
            &br#"{"items": []}"#[..],
        ),
        (br#"{"items": [{"id": 1}"#, br#"{"items": []}"#),
        (
            br#"{"items": [{"id": 1, "v": 1e999}]}"#,
            br#"{"items": []}"#,
        ),
        (br#"{"items": {"id": 1}}"#, br#"{"items": []}"#),
        (br#"{"other": []}"#, br#"{"items": []}"#),
        (br#"{"items": []} []"#, br#"{"items": []}"#),
        (
            b"{\"items\": [{\"id\": 1,\n \"v\": x}]}",
            br#"{"items": []}"#,
        ),
    ] {
        let (streamed, memory, split) = both_with(Format::Json, &spec, left, right, 2, &NoWaivers);
        assert!(
            matches!(split, Split::InMemory(_)),
            "{}",
            String::from_utf8_lossy(left)
        );
        assert_eq!(said(&streamed), said(&memory));
    }
    let numbered = DiffSpec {
        rules: Rules {
            normalize: vec![Rule {
                id: 1,
                path: None,
                action: Normalize {
                    regex: regex::Regex::new("id-[0-9]+").unwrap(),
                    replace: Replacement::Placeholder("id".into()),
                },
            }],
            ..keyed_spec(&["id"]).rules
        },
        ..DiffSpec::default()
    };
    assert!(!can_stream(Format::Ndjson, &numbered));
}

/// The rules a test comparison runs under, by number.
fn rules_for(path: &str, choice: u8) -> Rules {
    let at = |tail: &str| Some(JsonPath::parse(&format!("{path}[*]{tail}")).unwrap());
    let mut rules = Rules {
        strict_numbers: choice & 1 != 0,
        ..Rules::default()
    };
    if choice & 2 != 0 {
        rules.ignore.push(Rule {
            id: 1,
            path: at(".w"),
            action: (),
        });
    }
    if choice & 4 != 0 {
        rules.tolerance.push(Rule {
            id: 2,
            path: Some(JsonPath::parse("$..v").unwrap()),
            action: Tolerance {
                abs: Some(2.0),
                rel: None,
            },
        });
    }
    if choice & 8 != 0 {
        rules.map_values.push(Rule {
            id: 3,
            path: Some(JsonPath::parse("$..v").unwrap()),
            action: ValueMap::from([("a".into(), json!("b"))]),
        });
        rules.rename.push(Rule {
            id: 4,
            path: at(""),
            action: [("w".into(), "x".into())].into(),
        });
    }
    if choice & 16 != 0 {
        rules.normalize.push(Rule {
            id: 5,
            path: None,
            action: Normalize {
                regex: regex::Regex::new("[0-9]").unwrap(),
                replace: Replacement::Text("N".into()),
            },
        });
    }
    rules.matching.push(Rule {
        id: 0,
        path: Some(JsonPath::parse(path).unwrap()),
        action: ArrayMatch::Keyed(vec!["id".into()]),
    });
    rules.matching.push(Rule {
        id: 6,
        path: Some(JsonPath::parse("$..s").unwrap()),
        action: ArrayMatch::Set,
    });
    rules
}

/// A member value as JSON text.
fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        (0i8..4).prop_map(|n| n.to_string()),
        Just("1.0".to_owned()),
        "[a-c1]{0,2}".prop_map(|s| format!("\"{s}\"")),
        prop::collection::vec(0u8..3, 0..3).prop_map(|v| format!(
            "[{}]",
            v.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
        )),
        Just("{\"k\":1,\"k\":2}".to_owned()),
    ]
}

/// A record as JSON text: an id (from a small range, so keys repeat), members `v`, `w`, `s`
/// (sometimes named twice), sometimes spaced out, sometimes not an object at all.
fn record() -> impl Strategy<Value = String> {
    let object = (
        prop::option::weighted(0.9, 0u8..12),
        prop::collection::vec(
            (prop_oneof![Just("v"), Just("w"), Just("s")], member()),
            0..4,
        ),
        any::<bool>(),
    )
        .prop_map(|(id, members, spaced)| {
            let sep = if spaced { ", " } else { "," };
            let mut parts: Vec<String> = id.map(|id| format!("\"id\":{id}")).into_iter().collect();
            parts.extend(members.into_iter().map(|(k, v)| format!("\"{k}\":{v}")));
            format!("{{{}}}", parts.join(sep))
        });
    prop_oneof![10 => object, 1 => Just("3".to_owned()), 1 => Just("[1]".to_owned())]
}

/// The right side: the left's records with some edited, dropped or added, in another order.
fn sides() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    prop::collection::vec(record(), 0..30).prop_flat_map(|left| {
        let n = left.len();
        (
            Just(left),
            prop::collection::vec((0u8..10, record()), n),
            prop::collection::vec(record(), 0..4),
            any::<u64>(),
        )
            .prop_map(|(left, edits, added, seed)| {
                // Most records stay as they are; some are replaced, some dropped.
                let mut right: Vec<String> = left
                    .iter()
                    .zip(edits)
                    .filter_map(|(l, (what, edit))| match what {
                        0..=6 => Some(l.clone()),
                        7 | 8 => Some(edit),
                        _ => None,
                    })
                    .collect();
                right.extend(added);
                let mut state = seed | 1;
                for i in (1..right.len()).rev() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if seed % 5 != 0 {
                        right.swap(i, (state % (i as u64 + 1)) as usize);
                    }
                }
                (left, right)
            })
    })
}

/// A CSV cell as written: plain, or quoted around a delimiter (read by the csv reader then).
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-c]{0,1}", 1 => Just("\"x,y\"".to_owned())]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// NDJSON streams to exactly the in-memory findings: duplicate keys and members, rules,
    /// waivers, rule counts and all.
    #[test]
    fn ndjson_streams_to_the_in_memory_findings(
        (left, right) in sides(),
        choice in 0u8..32,
        partitions in 1usize..5,
    ) {
        let spec = DiffSpec { rules: rules_for("$", choice), ..DiffSpec::default() };
        let text = |records: &[String]| (records.join("\n") + "\n").into_bytes();
        let (streamed, memory, _) = both_with(Format::Ndjson, &spec, &text(&left), &text(&right), partitions, &WaiveRemoved);
        prop_assert_eq!(said(&streamed), said(&memory));
    }

    /// A JSON document's keyed array splits to exactly the in-memory findings, with the
    /// envelope around it compared as well.
    #[test]
    fn json_splits_to_the_in_memory_findings(
        (left, right) in sides(),
        choice in 0u8..32,
        partitions in 1usize..5,
        (lmeta, rmeta) in (member(), member()),
        root in any::<bool>(),
    ) {
        let path = if root { "$" } else { "$.items" };
        let spec = DiffSpec { rules: rules_for(path, choice), ..DiffSpec::default() };
        let doc = |records: &[String], meta: &str| {
            let array = format!("[\n{}\n]", records.join(",\n"));
            if root { array } else { format!("{{\"meta\": {meta}, \"items\": {array}, \"z\": 1}}") }
        };
        let (l, r) = (doc(&left, &lmeta), doc(&right, &rmeta));
        let (streamed, memory, split) = both_with(Format::Json, &spec, l.as_bytes(), r.as_bytes(), partitions, &WaiveRemoved);
        prop_assert_eq!(split, Split::Done);
        prop_assert_eq!(said(&streamed), said(&memory));
    }

    /// CSV streams to exactly the in-memory findings.
    #[test]
    fn csv_streams_to_the_in_memory_findings(
        left in prop::collection::vec((0u8..12, "[a-c1]{0,2}", cell()), 0..30),
        right in prop::collection::vec((0u8..12, "[a-c1]{0,2}", cell()), 0..30),
        choice in 0u8..32,
        partitions in 1usize..5,
        swap in any::<bool>(),
    ) {
        let spec = DiffSpec { rules: rules_for("$", choice), ..DiffSpec::default() };
        let table = |rows: &[(u8, String, String)], swap: bool| {
            let mut text = String::from(if swap { "w,id,v\n" } else { "id,v,w\n" });
            for (id, v, w) in rows {
                text.push_str(&if swap { format!("{w},{id},{v}\n") } else { format!("{id},{v},{w}\n") });
            }
            text.into_bytes()
        };
        let (streamed, memory, _) = both_with(Format::Csv, &spec, &table(&left, false), &table(&right, swap), partitions, &WaiveRemoved);
        prop_assert_eq!(said(&streamed), said(&memory));
    }
}

/// The summary of a table, through both paths (they must agree).
fn table_of(format: Format, spec: &DiffSpec, left: &[u8], right: &[u8]) -> TableSummary {
    let (streamed, memory) = both(format, spec, left, right);
    assert_eq!(said(&streamed), said(&memory));
    memory
        .table
        .as_ref()
        .map(TableTally::summary)
        .expect("a keyed table is summarised")
}

/// (name, only on a side, ignored, unequal, largest difference and its row's key)
type ColumnRow = (String, Option<TableSide>, bool, u64, Option<(f64, Value)>);

fn columns(table: &TableSummary) -> Vec<ColumnRow> {
    table
        .columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.only,
                c.ignored,
                c.unequal,
                c.largest
                    .as_ref()
                    .map(|l| (l.by, Value::Object(l.key.clone()))),
            )
        })
        .collect()
}

#[test]
fn a_csv_table_is_summarised_by_rows_and_columns() {
    let mut spec = keyed_spec(&["id"]);
    spec.rules.ignore.push(Rule {
        id: 1,
        path: Some(JsonPath::parse("$[*].ts").unwrap()),
        action: (),
    });
    spec.rules.tolerance.push(Rule {
        id: 2,
        path: Some(JsonPath::parse("$[*].qty").unwrap()),
        action: Tolerance {
            abs: Some(0.5),
            rel: None,
        },
    });
    // Rows in another order; a state changed; a price changed by 2.5 and by 0.25; a quantity
    // within its tolerance; 1.0 written 1; a row on each side only; a column on each side only.
    let left = b"id,state,price,qty,ts,old\n\
        A,open,10,1,t1,x\nB,open,20.5,2,t2,x\nC,closed,30,3,t3,x\nD,open,1.0,4,t4,x\nE,open,5,5,t5,x\n";
    let right = b"new,ts,id,qty,price,state\n\
        y,u5,E,5,5,open\ny,u3,C,3.2,30,closed\ny,u2,B,2,23,open\ny,u1,A,1,10.25,shut\ny,u4,D,4,1,open\ny,u6,F,6,6,open\n";
    let table = table_of(Format::Csv, &spec, left, right);
    assert_eq!(
        (
            table.rows_both,
            table.only_left,
            table.only_right,
            table.identical,
            table.differing
        ),
        (5, 0, 1, 3, 2)
    );
    let row = |name: &str, only, ignored, unequal, largest: Option<(f64, Value)>| {
        (name.to_owned(), only, ignored, unequal, largest)
    };
    assert_eq!(
        columns(&table),
        [
            row("id", None, false, 0, None),
            row("state", None, false, 1, None),
            row("price", None, false, 2, Some((2.5, json!({"id": "B"})))),
            row("qty", None, false, 0, None),
            row("ts", None, true, 0, None),
            row("old", Some(TableSide::Left), false, 0, None),
            row("new", Some(TableSide::Right), false, 0, None),
        ]
    );
    // A row on the left only, too.
    let table = table_of(
        Format::Csv,
        &spec,
        left,
        b"id,state,price,qty,ts,old\nA,open,10,1,t1,x\n",
    );
    assert_eq!(
        (
            table.rows_both,
            table.only_left,
            table.only_right,
            table.identical
        ),
        (1, 4, 0, 1)
    );
}

#[test]
fn records_name_their_columns_by_member_and_count_beyond_the_stored_differences() {
    let spec = keyed_spec(&["id"]);
    let left: String = (0..50)
        .map(|i| format!("{{\"id\":{i},\"n\":{i},\"s\":\"a\"}}\n"))
        .collect();
    let right: String = (0..50)
        .rev()
        .map(|i| match i {
            7 => format!("{{\"id\":{i},\"n\":{},\"s\":\"b\",\"extra\":1}}\n", i + 9),
            _ if i % 10 == 3 => format!("{{\"id\":{i},\"n\":{},\"s\":\"a\"}}\n", i - 1),
            _ => format!("{{\"id\":{i},\"n\":{i},\"s\":\"a\"}}\n"),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (lp, rp) = (dir.path().join("l.ndjson"), dir.path().join("r.ndjson"));
    std::fs::write(&lp, &left).unwrap();
    std::fs::write(&rp, &right).unwrap();
    // Two differences stored, every one counted.
    let mut findings = Findings::new("out", &NoWaivers, 2);
    let input = |path, side| StreamInput {
        side,
        name: "out",
        path,
    };
    records_in(
        Format::Ndjson,
        &spec,
        [&input(&lp, "left"), &input(&rp, "right")],
        &mut findings,
        3,
    )
    .unwrap();
    let summary = findings.finish();
    assert_eq!(summary.differences.len(), 2);
    let table = summary.table.as_ref().unwrap().summary();
    assert_eq!(
        (table.rows_both, table.identical, table.differing),
        (50, 44, 6)
    );
    assert_eq!(
        columns(&table),
        [
            ("extra".to_owned(), Some(TableSide::Right), false, 1, None),
            ("id".to_owned(), None, false, 0, None),
            (
                "n".to_owned(),
                None,
                false,
                6,
                Some((9.0, json!({"id": 7})))
            ),
            ("s".to_owned(), None, false, 1, None),
        ]
    );
    assert_eq!(
        table_of(Format::Ndjson, &spec, left.as_bytes(), right.as_bytes()),
        table
    );
}

/// Rows sharing a key pair in order of appearance; the rest are on their side only, and each
/// key held more than once is counted once per side.
#[test]
fn duplicate_keys_pair_in_order_and_the_rest_count_on_their_side() {
    let spec = keyed_spec(&["id"]);
    let left = b"{\"id\":1,\"v\":1}\n{\"id\":1,\"v\":2}\n{\"id\":1,\"v\":3}\n{\"id\":2,\"v\":1}\n";
    let right = b"{\"id\":1,\"v\":1}\n{\"id\":2,\"v\":1}\n{\"id\":2,\"v\":5}\n";
    let table = table_of(Format::Ndjson, &spec, left, right);
    assert_eq!(
        (
            table.rows_both,
            table.only_left,
            table.only_right,
            table.identical,
            table.differing,
            table.duplicate_keys_left,
            table.duplicate_keys_right
        ),
        (2, 2, 1, 2, 0, 1, 1)
    );
    // The second of a duplicated key pairs with the second on the other side.
    let right = b"{\"id\":1,\"v\":1}\n{\"id\":1,\"v\":9}\n{\"id\":2,\"v\":1}\n";
    let table = table_of(Format::Ndjson, &spec, left, right);
    assert_eq!(
        (
            table.rows_both,
            table.only_left,
            table.identical,
            table.differing
        ),
        (3, 1, 2, 1)
    );
}

#[test]
fn a_json_documents_keyed_array_is_a_table() {
    let spec = document_spec("$.items", &["id"]);
    let left = br#"{"meta": 1, "items": [{"id": 1, "p": 1.5}, {"id": 2, "p": 2}]}"#;
    let right = br#"{"meta": 2, "items": [{"id": 2, "p": 2}, {"id": 1, "p": 1}, {"id": 3}]}"#;
    let (streamed, memory, split) = both_with(Format::Json, &spec, left, right, 2, &NoWaivers);
    assert_eq!(split, Split::Done);
    assert_eq!(said(&streamed), said(&memory));
    let table = memory.table.as_ref().unwrap().summary();
    assert_eq!(
        (
            table.rows_both,
            table.only_right,
            table.identical,
            table.differing
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(table.columns[1].largest.as_ref().map(|l| l.by), Some(0.5));
    // No keyed array on one side: no table.
    let mut findings = Findings::new("out", &NoWaivers, 10);
    let input = |bytes| Input {
        side: "left",
        name: "x",
        bytes,
    };
    Format::Json.differ().diff(
        Format::Json,
        &input(br#"{"items": 1}"#),
        &input(right),
        &spec,
        &mut findings,
    );
    assert!(findings.finish().table.is_none());
}

/// The invariants a reader relies on, on generated tables through both paths.
fn check_table_invariants(
    table: &TableSummary,
    (left_rows, right_rows): (u64, u64),
) -> Result<(), TestCaseError> {
    prop_assert_eq!(table.rows_both + table.only_left, left_rows);
    prop_assert_eq!(table.rows_both + table.only_right, right_rows);
    prop_assert_eq!(table.identical + table.differing, table.rows_both);
    let unequal = table.columns.iter().map(|c| c.unequal).max().unwrap_or(0);
    prop_assert!(unequal <= table.differing);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn table_counts_add_up_and_a_table_against_itself_is_all_identical(
        (left, right) in sides(),
        choice in 0u8..32,
        partitions in 1usize..5,
    ) {
        let spec = DiffSpec { rules: rules_for("$", choice), ..DiffSpec::default() };
        let text = |records: &[String]| (records.join("\n") + "\n").into_bytes();
        let (streamed, memory, _) = both_with(Format::Ndjson, &spec, &text(&left), &text(&right), partitions, &NoWaivers);
        prop_assert_eq!(said(&streamed), said(&memory));
        let table = memory.table.as_ref().map(TableTally::summary).expect("a table");
        check_table_invariants(&table, (left.len() as u64, right.len() as u64))?;
        for records in [&left, &right] {
            let (streamed, memory, _) = both_with(Format::Ndjson, &spec, &text(records), &text(records), partitions, &NoWaivers);
            prop_assert_eq!(said(&streamed), said(&memory));
            let table = memory.table.as_ref().map(TableTally::summary).expect("a table");
            prop_assert_eq!((table.rows_both, table.only_left, table.only_right), (records.len() as u64, 0, 0));
            prop_assert_eq!(table.identical, table.rows_both);
            prop_assert!(table.columns.iter().all(|c| c.unequal == 0 && c.largest.is_none()));
            // (A rename rule gives the left's columns other names.)
            let renames = choice & 8 != 0;
            prop_assert!(renames || table.columns.iter().all(|c| c.only.is_none()));
        }
    }

    #[test]
    fn csv_table_counts_add_up(
        left in prop::collection::vec((0u8..12, "[a-c1]{0,2}", cell()), 0..30),
        right in prop::collection::vec((0u8..12, "[a-c1]{0,2}", cell()), 0..30),
        choice in 0u8..32,
    ) {
        let spec = DiffSpec { rules: rules_for("$", choice), ..DiffSpec::default() };
        let table = |rows: &[(u8, String, String)]| {
            let mut text = String::from("id,v,w\n");
            for (id, v, w) in rows {
                text.push_str(&format!("{id},{v},{w}\n"));
            }
            text.into_bytes()
        };
        let summary = table_of(Format::Csv, &spec, &table(&left), &table(&right));
        check_table_invariants(&summary, (left.len() as u64, right.len() as u64))?;
        let itself = table_of(Format::Csv, &spec, &table(&left), &table(&left));
        prop_assert_eq!((itself.identical, itself.only_left, itself.only_right), (left.len() as u64, 0, 0));
    }
}

//! `parity diff`: the engine on two files or directories, exit codes like diff(1).
use crate::support::{assert_exit, diff_json, parity, stderr, stdout, write};

/// Each difference's `field` (`path` or `file`) and `kind`, in order.
fn field_and_kind(parsed: &serde_json::Value, field: &str) -> Vec<(String, String)> {
    parsed["differences"]
        .as_array()
        .expect("a differences array")
        .iter()
        .map(|d| {
            let text = |key: &str| d[key].as_str().unwrap_or_default().to_owned();
            (text(field), text("kind"))
        })
        .collect()
}

#[test]
fn equal_json_in_another_key_order_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(dir.path(), "l.json", r#"{"a": 1, "b": {"c": [1, 2]}}"#);
    let r = write(dir.path(), "r.json", r#"{"b": {"c": [1, 2]}, "a": 1.0}"#);
    let output = parity().args(["diff", &l, &r]).output().unwrap();
    assert_exit(&output, 0);
    // `1` and `1.0` are equal, and listed as spelled differently.
    assert!(
        stdout(&output).contains("= 1 equivalent value (number_format), e.g. $.a"),
        "{}",
        stdout(&output)
    );
    let strict = parity()
        .args(["diff", &l, &r, "--strict-numbers"])
        .output()
        .unwrap();
    assert_exit(&strict, 1);
}

#[test]
fn keyed_arrays_ignore_order_and_report_paths_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(
        dir.path(),
        "l.json",
        r#"{"t": "x", "items": [{"id": "a", "v": 1}, {"id": "b", "v": 2}]}"#,
    );
    let r = write(
        dir.path(),
        "r.json",
        r#"{"t": "y", "items": [{"id": "b", "v": 3}, {"id": "a", "v": 1}, {"id": "c", "v": 0}]}"#,
    );
    let (output, parsed) = diff_json(&[&l, &r, "--key", "$.items=id", "--ignore", "$.t"]);
    assert_exit(&output, 1);
    let found = field_and_kind(&parsed, "path");
    assert_eq!(
        found,
        [
            ("$.items[?@.id=='b'].v".to_owned(), "changed".to_owned()),
            ("$.items[?@.id=='c']".to_owned(), "added".to_owned()),
        ]
    );
    assert_eq!(parsed["differences"][0]["left"], 2);
    assert_eq!(parsed["differences"][0]["right"], 3);
}

#[test]
fn sets_and_tolerances() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(
        dir.path(),
        "l.json",
        r#"{"tags": ["a", "b"], "score": 0.1, "price": 100}"#,
    );
    let r = write(
        dir.path(),
        "r.json",
        r#"{"tags": ["b", "a"], "score": 0.10000000001, "price": 100.4}"#,
    );
    let output = parity()
        .args([
            "diff",
            &l,
            &r,
            "--unordered",
            "$.tags",
            "--tolerance",
            "$.score=1e-9",
            "--tolerance",
            "$.price=0.5%",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let (output, parsed) = diff_json(&[
        &l,
        &r,
        "--unordered",
        "$.tags",
        "--tolerance",
        "$..score=1e-12",
    ]);
    assert_exit(&output, 1);
    let kinds: Vec<&str> = parsed["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["changed", "over_tolerance"]);
}

#[test]
fn csv_rows_are_matched_by_key_whatever_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(
        dir.path(),
        "l.csv",
        "id,seq,state\nA,1,new\nA,2,open\nB,1,new\n",
    );
    let r = write(
        dir.path(),
        "r.csv",
        "state,id,seq\nnew,B,1\nclosed,A,2\nnew,A,1\n",
    );
    let (output, parsed) = diff_json(&[&l, &r, "--key", "id,seq"]);
    assert_exit(&output, 1);
    assert_eq!(parsed["total"], 1);
    assert_eq!(
        parsed["differences"][0]["path"],
        "$[?@.id=='A' && @.seq=='2'].state"
    );
    let output = parity()
        .args(["diff", &l, &r, "--key", "id,seq", "--ignore", "state"])
        .output()
        .unwrap();
    assert_exit(&output, 0);
}

#[test]
fn ndjson_records_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(
        dir.path(),
        "l.ndjson",
        "{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n",
    );
    let r = write(
        dir.path(),
        "r.ndjson",
        "{\"id\":2,\"v\":\"b\"}\n{\"id\":1,\"v\":\"a\"}\n",
    );
    assert_exit(
        &parity()
            .args(["diff", &l, &r, "--key", "id"])
            .output()
            .unwrap(),
        0,
    );
    assert_exit(&parity().args(["diff", &l, &r]).output().unwrap(), 1);
}

#[test]
fn malformed_input_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(dir.path(), "l.json", "{\"a\": 1}");
    let r = write(dir.path(), "r.json", "{\n  \"a\": 1,\n  \"b\": ]\n}");
    let output = parity().args(["diff", &l, &r]).output().unwrap();
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains("r.json` is not valid json: line 3, column 8"),
        "{message}"
    );
    let l = write(dir.path(), "l.csv", "a,b\n1,2\n");
    let r = write(dir.path(), "r.csv", "a,b\n1,2\n3\n");
    let output = parity().args(["diff", &l, &r]).output().unwrap();
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("line 3"), "{}", stderr(&output));
}

#[test]
fn text_prints_a_unified_diff() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(dir.path(), "l.txt", "one\ntwo\nthree\n");
    let r = write(dir.path(), "r.txt", "one\n2\nthree\n");
    let output = parity().args(["diff", &l, &r]).output().unwrap();
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(text.contains("-two\n+2\n"), "{text}");
}

#[test]
fn directories_pair_files_and_report_missing_and_extra_ones() {
    let dir = tempfile::tempdir().unwrap();
    let left = dir.path().join("left");
    let right = dir.path().join("right");
    write(&left, "same.json", "[1]");
    write(&right, "same.json", "[1]");
    write(&left, "sub/changed.csv", "a\n1\n");
    write(&right, "sub/changed.csv", "a\n2\n");
    write(&left, "gone.txt", "x");
    write(&right, "new.txt", "y");
    let (output, parsed) = diff_json(&[left.to_str().unwrap(), right.to_str().unwrap()]);
    assert_exit(&output, 1);
    let found = field_and_kind(&parsed, "file");
    assert_eq!(
        found,
        [
            ("gone.txt".to_owned(), "missing_file".to_owned()),
            ("new.txt".to_owned(), "extra_file".to_owned()),
            ("sub/changed.csv".to_owned(), "changed".to_owned()),
        ]
    );
}

#[test]
fn a_file_on_one_side_is_a_difference_whatever_the_rule_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (left, right) = (dir.path().join("left"), dir.path().join("right"));
    write(&left, "a.json", r#"{"t": 1}"#);
    write(&right, "a.json", r#"{"t": 2}"#);
    write(&left, "gone.json", "{}");
    std::os::unix::fs::symlink("elsewhere", right.join("link")).unwrap();
    let (output, parsed) = diff_json(&[
        left.to_str().unwrap(),
        right.to_str().unwrap(),
        "--ignore",
        "$.t",
    ]);
    assert_exit(&output, 1);
    assert_eq!(
        field_and_kind(&parsed, "file"),
        [
            ("gone.json".to_owned(), "missing_file".to_owned()),
            ("link".to_owned(), "extra_file".to_owned()),
        ]
    );
}

#[test]
fn a_missing_file_is_trouble() {
    let output = parity()
        .args(["diff", "/no/such/left.json", "/no/such/right.json"])
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("cannot read `/no/such/left.json`"));
}

/// One `parity diff` case: contents, flags, expected exit code and (path, kind) differences.
struct Case {
    name: &'static str,
    files: (&'static str, &'static str, &'static str),
    flags: &'static [&'static str],
    exit: i32,
    found: &'static [(&'static str, &'static str)],
}

#[test]
fn rules_and_modes_as_flags() {
    let cases = [
        Case {
            name: "one inserted element is one difference (aligned by default)",
            files: ("a.json", r#"[1, 2, 3, 4]"#, r#"[1, 9, 2, 3, 4]"#),
            flags: &[],
            exit: 1,
            found: &[("$[1]", "added")],
        },
        Case {
            name: "positional pairing on request",
            files: ("a.json", r#"[1, 2, 3]"#, r#"[1, 9, 2, 3]"#),
            flags: &["--match", "$=positional"],
            exit: 1,
            found: &[("$[1]", "changed"), ("$[2]", "changed"), ("$[3]", "added")],
        },
        Case {
            name: "same elements in another order",
            files: ("a.json", r#"{"l": [1, 2, 3]}"#, r#"{"l": [3, 2, 1]}"#),
            flags: &[],
            exit: 1,
            found: &[("$.l", "order_changed")],
        },
        Case {
            name: "multiset counts repetitions",
            files: ("a.json", r#"{"l": [1, 1, 2]}"#, r#"{"l": [2, 1]}"#),
            flags: &["--match", "$.l=multiset"],
            exit: 1,
            found: &[("$.l[?@==1]", "removed")],
        },
        Case {
            name: "null is not missing",
            files: ("a.json", r#"{"a": null}"#, r#"{}"#),
            flags: &[],
            exit: 1,
            found: &[("$.a", "null_vs_missing")],
        },
        Case {
            name: "type change",
            files: ("a.json", r#"{"a": 1}"#, r#"{"a": "1"}"#),
            flags: &[],
            exit: 1,
            found: &[("$.a", "type_changed")],
        },
        Case {
            name: "regex normalisation",
            files: (
                "a.json",
                r#"{"msg": "took 12 ms"}"#,
                r#"{"msg": "took 15 ms"}"#,
            ),
            flags: &["--normalize", r"\d+ ms=<t>"],
            exit: 0,
            found: &[],
        },
        Case {
            name: "identity-keeping redaction: consistent ids are equal",
            files: (
                "a.json",
                r#"{"a": "u-1", "b": "u-2", "c": "u-1"}"#,
                r#"{"a": "u-7", "b": "u-8", "c": "u-7"}"#,
            ),
            flags: &["--redact", r"id=u-\d+"],
            exit: 0,
            found: &[],
        },
        Case {
            name: "identity-keeping redaction: a reused id is caught",
            files: (
                "a.json",
                r#"{"a": "u-1", "b": "u-2"}"#,
                r#"{"a": "u-7", "b": "u-7"}"#,
            ),
            flags: &["--redact", r"id=u-\d+"],
            exit: 1,
            found: &[("$.b", "changed")],
        },
        Case {
            name: "value map and rename",
            files: (
                "a.json",
                r#"{"items": [{"cve": "C1", "on": "Y"}]}"#,
                r#"{"items": [{"cve_id": "C1", "on": true}]}"#,
            ),
            flags: &["--map", "$..on=Y:true", "--rename", "$.items[*]=cve:cve_id"],
            exit: 0,
            found: &[],
        },
        Case {
            name: "duplicate key is a finding",
            files: (
                "a.ndjson",
                "{\"id\":1,\"v\":1}\n{\"id\":1,\"v\":2}\n",
                "{\"id\":1,\"v\":1}\n",
            ),
            flags: &["--key", "id"],
            exit: 1,
            found: &[("$[?@.id==1]", "duplicate_key"), ("$[?@.id==1]", "removed")],
        },
        Case {
            name: "text whitespace and case",
            files: ("a.txt", "Hello   World\nok\n", "hello world  \nOK\n"),
            flags: &["--whitespace", "change", "--ignore-case"],
            exit: 0,
            found: &[],
        },
        Case {
            name: "csv with another delimiter and quote",
            files: ("a.csv", "id;name\n1;'a;b'\n", "name;id\n'a;b';1\n"),
            flags: &["--delimiter", ";", "--quote", "'", "--key", "id"],
            exit: 0,
            found: &[],
        },
        Case {
            name: "a column on one side only is one difference",
            files: ("a.csv", "id,a\n1,x\n2,y\n", "id,a,b\n1,x,p\n2,y,q\n"),
            flags: &["--key", "id"],
            exit: 1,
            found: &[("$[*].b", "added")],
        },
        Case {
            name: "auto format falls back to content",
            files: ("noext", r#"{"a": 1}"#, r#"{"a": 2}"#),
            flags: &[],
            exit: 1,
            found: &[("$.a", "changed")],
        },
        Case {
            name: "bytes report the first differing offset",
            files: ("a.bin", "abcdef", "abcXef"),
            flags: &[],
            exit: 1,
            found: &[("$", "changed")],
        },
    ];
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let (name, left, right) = case.files;
        let l = write(&dir.path().join("l"), name, left);
        let r = write(&dir.path().join("r"), name, right);
        let (output, parsed) = diff_json(&[&[l.as_str(), r.as_str()][..], case.flags].concat());
        assert_eq!(
            output.status.code(),
            Some(case.exit),
            "{}: {}",
            case.name,
            stderr(&output)
        );
        let found = field_and_kind(&parsed, "path");
        let expected: Vec<(String, String)> = case
            .found
            .iter()
            .map(|(p, k)| ((*p).to_owned(), (*k).to_owned()))
            .collect();
        assert_eq!(found, expected, "{}", case.name);
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(dir.path(), "l.json", "{}");
    let r = write(dir.path(), "r.json", "{}");
    for (flags, message) in [
        (&["--match", "$.a=bag"][..], "unknown mode `bag`"),
        (&["--tolerance", "$.a=lots"][..], "is not a number"),
        (&["--ignore", "a["][..], "invalid JSONPath"),
        (&["--normalize", "(=x"][..], "invalid regex"),
        (&["--map", "$.a=nocolon"][..], "write PATH=FROM:TO"),
        (&["--key", "id"][..], "for JSON give the array's path"),
    ] {
        let output = parity()
            .args(["diff", &l, &r])
            .args(flags)
            .output()
            .unwrap();
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains(message),
            "{flags:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn directories_use_the_compare_blocks_of_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let (left, right) = (dir.path().join("left"), dir.path().join("right"));
    write(
        &left,
        "out.json",
        r#"{"ts": 1, "items": [{"id": 1}, {"id": 2}]}"#,
    );
    write(
        &right,
        "out.json",
        r#"{"ts": 2, "items": [{"id": 2}, {"id": 1}]}"#,
    );
    write(&left, "notes.txt", "same\n");
    write(&right, "notes.txt", "same\n");
    let config = dir.path().join("parity.toml");
    std::fs::create_dir(dir.path().join("fx")).unwrap();
    std::fs::write(
        &config,
        "[legacy]\ncmd = [\"true\"]\n[candidate]\ncmd = [\"true\"]\n[suites.s]\nroot = \"fx\"\ninclude = [\"*\"]\n\n[[compare]]\noutput = \"*.json\"\nformat = \"json\"\nignore = [\"$.ts\"]\nmatch = [{ path = \"$.items\", by = \"id\" }]\n",
    )
    .unwrap();
    let without = parity()
        .args(["diff"])
        .arg(&left)
        .arg(&right)
        .output()
        .unwrap();
    assert_exit(&without, 1);
    let with = parity()
        .args(["diff"])
        .arg(&left)
        .arg(&right)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&with, 0);
}

/// Two directories holding SQLite databases: `parity diff --config` converts each table as
/// `parity run` does and compares the dumps keyed, so rows in another order are no difference
/// and the changed row is the one; a table the converter cannot dump is a `convert_failed`
/// difference (exit 1), never a pass.
#[test]
fn diff_converts_databases_like_run() {
    let dir = tempfile::tempdir().unwrap();
    let helper =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/warehouse.py");
    let (left, right) = (dir.path().join("l"), dir.path().join("r"));
    std::fs::create_dir_all(&left).unwrap();
    std::fs::create_dir_all(&right).unwrap();
    let fixture = dir.path().join("fixture.json");
    std::fs::write(
        &fixture,
        r#"{"rows": 50, "candidate": {"reverse": true, "change": {"id": 7, "severity": "critical"}}}"#,
    )
    .unwrap();
    for (side, out) in [("legacy", &left), ("candidate", &right)] {
        let status = std::process::Command::new("python3")
            .arg(&helper)
            .args(["write", side])
            .arg(&fixture)
            .arg(out.join("w.db"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::create_dir(dir.path().join("fx")).unwrap();
    let config = dir.path().join("parity.toml");
    let write_config = |tables: &str| {
        std::fs::write(
            &config,
            format!(
                "[legacy]\ncmd = [\"true\"]\n[candidate]\ncmd = [\"true\"]\n[suites.s]\nroot = \"fx\"\ninclude = [\"*\"]\n\n\
                 [[compare]]\noutput = \"w.db\"\nformat = \"csv\"\nkey = [\"id\"]\ntables = {tables}\n\
                 convert = [\"python3\", {:?}, \"dump\", \"{{file}}\", \"{{table}}\"]\n",
                helper.to_str().unwrap()
            ),
        )
        .unwrap();
    };
    let diff = || {
        diff_json(&[
            left.to_str().unwrap(),
            right.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
    };
    write_config(r#"["advisories", "history"]"#);
    let (output, json) = diff();
    assert_exit(&output, 1);
    let files = json["files"].as_array().expect("files");
    let names: Vec<&str> = files.iter().filter_map(|f| f["file"].as_str()).collect();
    assert_eq!(names, ["w.db#advisories", "w.db#history"], "{json}");
    assert_eq!(files[1]["status"], "identical", "{json}");
    let differences = json["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{json}");
    assert_eq!(differences[0]["file"], "w.db#advisories");
    assert_eq!(differences[0]["path"], "$[?@.id=='7'].severity", "{json}");

    // Directories given relative to where parity runs: the converter, which runs in the
    // config's directory, still gets each side's file.
    let relative = parity()
        .current_dir(dir.path())
        .args([
            "diff",
            "l",
            "r",
            "--config",
            "parity.toml",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert_exit(&relative, 1);
    let relative: serde_json::Value = serde_json::from_slice(&relative.stdout).unwrap();
    assert_eq!(relative["differences"], json["differences"], "{relative}");

    write_config(r#"["advisories", "no_such_table"]"#);
    let (output, json) = diff();
    assert_exit(&output, 1);
    assert_eq!(json["files"][1]["file"], "w.db#no_such_table", "{json}");
    let failed: Vec<&serde_json::Value> = json["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == "w.db#no_such_table")
        .collect();
    let kinds: Vec<&str> = failed.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["convert_failed", "convert_failed"], "{json}");
    let note = failed[0]["note"].as_str().unwrap();
    assert!(
        note.starts_with(
            "the left side's `w.db#no_such_table` was not converted: the converter `python3 "
        ),
        "{note}"
    );
    assert!(note.contains("no such table"), "{note}");
}

/// A keyed JSON document large enough to be split (`parity diff` streams it through
/// partitions) reports what the in-memory walk reports; a numbered redaction, which streaming
/// does not honour, sends the same files through the in-memory path.
#[test]
fn large_keyed_json_is_split_with_the_findings_of_the_in_memory_walk() {
    let dir = tempfile::tempdir().unwrap();
    let record = |i: usize, state: &str| {
        format!(
            r#"{{"id": {i}, "package": "pkg-{}", "state": "{state}", "score": {}.5, "sources": ["nvd", "osv"]}}"#,
            i % 97,
            i % 13
        )
    };
    let n = 20_000;
    let left: Vec<String> = (0..n).map(|i| record(i, "affected")).collect();
    let mut right: Vec<String> = (0..n)
        .map(|i| match i % 500 {
            0 => record(i, "fixed"),
            1 => r#"{"id": 1, "state": "twice", "state": "again"}"#.to_owned(),
            _ => record(i, "affected"),
        })
        .collect();
    right.reverse();
    right.push(record(n + 1, "new"));
    let doc = |records: &[String], at: &str| {
        format!(
            "{{\"generated_at\": \"{at}\", \"items\": [\n{}\n]}}",
            records.join(",\n")
        )
    };
    let l = write(dir.path(), "l.json", &doc(&left, "2026-01-01"));
    let r = write(dir.path(), "r.json", &doc(&right, "2026-01-02"));
    assert!(std::fs::metadata(&l).unwrap().len() > 1 << 20);
    let found = |extra: &[&str]| {
        let mut args = vec![l.as_str(), r.as_str(), "--key", "$.items=id"];
        args.extend(extra);
        let (output, parsed) = diff_json(&args);
        assert_exit(&output, 1);
        let mut items: Vec<String> = parsed["differences"]
            .as_array()
            .expect("a differences array")
            .iter()
            .map(|d| format!("{} {} {} {}", d["path"], d["kind"], d["left"], d["right"]))
            .collect();
        items.sort();
        (parsed["total"].clone(), items)
    };
    let split = found(&[]);
    let in_memory = found(&["--redact", "never=a pattern no value has"]);
    assert_eq!(split, in_memory);
    // 40 changed states, 39 removed records, id 1 forty times on the right (a duplicate key,
    // its first copy changed in four members, 39 added, each holding `state` twice), one added
    // record and the timestamp.
    assert_eq!(
        split.0,
        40 + 39 + (1 + 4 + 39 + 40) + 1 + 1,
        "{:?}",
        split.1
    );
    // A large document that does not parse is reported as the in-memory parse reports it.
    let broken = write(
        dir.path(),
        "b.json",
        &doc(&left, "x").replace("\"id\": 7,", "\"id\": 7"),
    );
    let output = parity()
        .args(["diff", &l, &broken, "--key", "$.items=id"])
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("b.json` is not valid json: line 9, column"),
        "{}",
        stderr(&output)
    );
}

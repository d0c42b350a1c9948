//! Outputs that are not files: a side's SQLite database compared as its converter's CSV, one
//! output per table; a converter that fails or hangs is a finding, never a pass; goldens keep
//! the converted tables; a suite's `teardown` runs after each side with its `{run_id}`; a suite
//! whose `requires` fails is skipped, not failed; a 1M-row converted table stays in the
//! streaming memory bound.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{alive, assert_exit, parity, read_pids, stderr, write};

fn warehouse_helper() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/helpers/warehouse.py")
        .to_string_lossy()
        .into_owned()
}

/// A project whose sides load `{out}/warehouse.db` as each fixture says, compared table by
/// table through `convert`; `extra` is appended to parity.toml.
struct Warehouse {
    dir: tempfile::TempDir,
}

impl Warehouse {
    fn new(convert: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let helper = warehouse_helper();
        let side = |name: &str| {
            format!(
                "[{name}]\ncmd = [\"python3\", {helper:?}, \"write\", \"{name}\", \"{{fixture}}\", \"{{out}}/warehouse.db\"]\nenv = {{ RUN_ID = \"{{run_id}}\" }}\n"
            )
        };
        let config = format!(
            "{}{}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*.json\"]\n{extra}\n[[compare]]\noutput = \"warehouse.db\"\nformat = \"csv\"\nkey = \"id\"\n{convert}\n",
            side("legacy"),
            side("candidate"),
        );
        std::fs::create_dir(dir.path().join("fixtures")).expect("fixtures dir");
        std::fs::write(dir.path().join("parity.toml"), config).expect("parity.toml");
        Warehouse { dir }
    }

    /// The usual converter: each table as CSV, by id.
    fn dumping(extra: &str) -> Self {
        let convert = format!(
            "convert = [\"python3\", {:?}, \"dump\", \"{{file}}\", \"{{table}}\"]\ntables = [\"advisories\", \"history\"]",
            warehouse_helper()
        );
        Self::new(&convert, extra)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn fixture(&self, id: &str, spec: Value) -> &Self {
        write(
            &self.path().join("fixtures"),
            &format!("{id}.json"),
            &spec.to_string(),
        );
        self
    }

    fn parity(&self, args: &[&str]) -> std::process::Output {
        parity()
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("parity runs")
    }

    fn results(&self) -> Value {
        let text = std::fs::read_to_string(self.path().join("reports/latest/results.json"))
            .expect("results.json");
        serde_json::from_str(&text).expect("JSON")
    }
}

fn outputs(results: &Value) -> Vec<Value> {
    results["cases"][0]["outputs"]
        .as_array()
        .expect("outputs")
        .clone()
}

fn output<'a>(outputs: &'a [Value], name: &str) -> &'a Value {
    outputs
        .iter()
        .find(|o| o["output"] == name)
        .unwrap_or_else(|| panic!("no output {name} in {outputs:?}"))
}

#[test]
fn a_database_loaded_in_another_order_differs_by_the_one_changed_row() {
    let project = Warehouse::dumping("");
    project.fixture(
        "day",
        json!({"rows": 500, "candidate": {"reverse": true, "change": {"id": 42, "severity": "critical"}}}),
    );
    let out = project.parity(&["run"]);
    assert_exit(&out, 1);
    let results = project.results();
    let outputs = outputs(&results);
    let names: Vec<&str> = outputs
        .iter()
        .filter_map(|o| o["output"].as_str())
        .collect();
    // The database itself is never compared as bytes: each table is an output of its own.
    assert_eq!(
        names,
        ["exit", "warehouse.db#advisories", "warehouse.db#history"]
    );
    let advisories = output(&outputs, "warehouse.db#advisories");
    assert_eq!(advisories["total"], 1, "{advisories}");
    assert_eq!(advisories["format"], "csv");
    let difference = &advisories["differences"][0];
    assert_eq!(difference["path"], "$[?@.id=='42'].severity");
    assert_eq!(difference["left"], "low");
    assert_eq!(difference["right"], "critical");
    assert_eq!(
        output(&outputs, "warehouse.db#history")["status"],
        "identical"
    );
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    assert!(report.contains("`warehouse.db#advisories`"), "{report}");
    // What was compared is kept with the failing case's outputs, for a person to look at.
    let kept = project
        .path()
        .join("reports/latest/outputs/main/day.json/candidate/converted/warehouse.db#advisories");
    let text = std::fs::read_to_string(&kept).expect("the converted table is kept");
    assert!(
        text.starts_with("id,package,severity,score\n499,"),
        "{text:.80}"
    );
}

/// A converted table is summarised as a data team reads it: rows in both, only legacy, only
/// candidate; per column (in the dump's header order) the unequal values and the largest numeric
/// difference with its row's key. In results.json, report.md, report.html and the terminal.
#[test]
fn a_converted_table_is_summarised_by_rows_and_columns() {
    let project = Warehouse::dumping("");
    project.fixture(
        "day",
        json!({"rows": 200, "legacy": {"drop": 5}, "candidate": {"reverse": true, "drop": 7, "add": 250,
            "change": [{"id": 42, "severity": "critical", "score": 9.5}, {"id": 43, "score": 1.25}]}}),
    );
    let out = project.parity(&["run"]);
    assert_exit(&out, 1);
    let results = project.results();
    let outputs = outputs(&results);
    let table = &output(&outputs, "warehouse.db#advisories")["table"];
    assert_eq!(table["key"], json!(["id"]), "{table}");
    // 0..200 without 5 against 0..200 without 7, with 250: 198 pairs, 7 on the legacy side
    // only, 5 and 250 on the candidate's; rows 42 and 43 differ.
    let rows = [
        "rows_both",
        "only_left",
        "only_right",
        "identical",
        "differing",
    ]
    .map(|field| table[field].as_u64().unwrap_or(u64::MAX));
    assert_eq!(rows, [198, 1, 2, 196, 2], "{table}");
    let columns: Vec<(&str, u64)> = table["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("?"),
                c["unequal"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    assert_eq!(
        columns,
        [("id", 0), ("package", 0), ("severity", 1), ("score", 2)],
        "the dump's header order: {table}"
    );
    let largest = &table["columns"][3]["largest"];
    assert!(
        (largest["by"].as_f64().unwrap_or(0.0) - 5.3).abs() < 1e-9,
        "9.5 against 4.2 at id 42: {largest}"
    );
    assert_eq!(largest["key"], json!({"id": "42"}));
    let history = &output(&outputs, "warehouse.db#history")["table"];
    assert_eq!(
        (
            &history["rows_both"],
            &history["only_left"],
            &history["only_right"]
        ),
        (&json!(9), &json!(1), &json!(1)),
        "{history}"
    );

    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    let start = report
        .find("`warehouse.db#advisories` (csv)")
        .expect("the table's section");
    let end = report[start..]
        .find("Rerun just this case")
        .map_or(report.len(), |end| start + end);
    insta::assert_snapshot!("converted_table_summary", &report[start..end]);

    let html = std::fs::read_to_string(project.path().join("reports/latest/report.html"))
        .expect("report.html");
    assert!(
        html.contains("<p class=\"rows\">rows: 198 in both (196 identical, 2 differ) · 1 only legacy · 2 only candidate</p>"),
        "{html}"
    );
    assert!(
        html.contains("<tr><td><code>score</code></td><td class=\"n\">2</td><td class=\"n\">5.3</td><td><code>id=42</code></td></tr>"),
        "{html}"
    );
    let terminal = crate::support::stdout(&out);
    assert!(
        terminal.contains("rows of warehouse.db#advisories: 198 in both (196 identical, 2 differ) · 1 only legacy · 2 only candidate (and 1 more table in report.md)"),
        "{terminal}"
    );
}

#[test]
fn a_failing_converter_is_a_finding_naming_side_converter_and_stderr_and_no_waiver_passes_it() {
    let convert = format!(
        "convert = [\"python3\", {:?}, \"dump\", \"{{file}}\", \"{{table}}\"]\ntables = [\"advisories\", \"no_such_table\"]",
        warehouse_helper()
    );
    let waiver =
        "\n[[waiver]]\noutput = \"*\"\nreason = \"everything is accepted\"\nowner = \"qa\"\n";
    let project = Warehouse::new(&convert, "");
    std::fs::write(
        project.path().join("parity.toml"),
        std::fs::read_to_string(project.path().join("parity.toml")).expect("config") + waiver,
    )
    .expect("write");
    project.fixture("day", json!({"rows": 20}));
    let out = project.parity(&["run"]);
    assert_exit(&out, 1);
    let results = project.results();
    let outputs = outputs(&results);
    assert_eq!(
        output(&outputs, "warehouse.db#advisories")["status"],
        "identical"
    );
    let failed = output(&outputs, "warehouse.db#no_such_table");
    assert_eq!(failed["total"], 2, "one finding per side: {failed}");
    assert_eq!(failed["waived"], 0, "a failed conversion is never waived");
    let notes: Vec<&str> = failed["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            assert_eq!(d["kind"], "convert_failed");
            d["note"].as_str().expect("a note")
        })
        .collect();
    assert!(notes[0].starts_with("the legacy side's `warehouse.db#no_such_table` was not converted: the converter `python3 "), "{}", notes[0]);
    assert!(
        notes[0].contains("` exit 1; its stderr ends: "),
        "{}",
        notes[0]
    );
    assert!(
        notes[0].contains("no such table: no_such_table"),
        "{}",
        notes[0]
    );
    assert!(notes[1].starts_with("the candidate side's"), "{}", notes[1]);
    assert!(
        crate::support::stdout(&out).contains("convert_failed: the legacy side's"),
        "the terminal says what happened: {}",
        crate::support::stdout(&out)
    );
}

#[test]
fn a_hanging_converter_is_killed_with_its_group_at_convert_timeout() {
    let project = Warehouse::new("", "");
    let pids = project.path().join("pids");
    let convert = format!(
        "convert = [\"python3\", {:?}, \"hang\", {:?}]\nconvert_timeout = \"5s\"",
        warehouse_helper(),
        pids.to_string_lossy()
    );
    let config = std::fs::read_to_string(project.path().join("parity.toml")).expect("config");
    std::fs::write(project.path().join("parity.toml"), config + &convert + "\n").expect("write");
    project.fixture("day", json!({"rows": 5}));
    let started = Instant::now();
    let out = project.parity(&["run"]);
    assert_exit(&out, 1);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let results = project.results();
    let outputs = outputs(&results);
    let failed = output(&outputs, "warehouse.db");
    assert_eq!(failed["differences"][0]["kind"], "convert_failed");
    let note = failed["differences"][0]["note"].as_str().expect("note");
    assert!(note.contains("timed out after 5"), "{note}");
    let pids = read_pids(&pids);
    assert_eq!(
        pids.len(),
        4,
        "each side's converter and its child: {pids:?}"
    );
    std::thread::sleep(Duration::from_millis(200));
    for pid in pids {
        assert!(
            !alive(pid),
            "process {pid} of a converter outlived its timeout"
        );
    }
}

#[test]
fn goldens_keep_the_converted_tables_and_are_checked_against_them() {
    let project = Warehouse::dumping("");
    project.fixture("day", json!({"rows": 30, "candidate": {"reverse": true}}));
    assert_exit(&project.parity(&["golden", "record"]), 0);
    let golden = project.path().join("golden/main/day.json");
    let stored = std::fs::read_to_string(golden.join("converted/warehouse.db#advisories"))
        .expect("the golden keeps the table as converted");
    assert!(
        stored.starts_with("id,package,severity,score\n0,pkg-0,low,0.0\n"),
        "{stored:.80}"
    );
    assert!(
        !golden.join("out/warehouse.db").exists(),
        "the database file itself is not kept"
    );
    // With the legacy retired, the candidate's tables are compared with the golden's.
    let out = project.parity(&["run", "--against", "golden"]);
    assert_exit(&out, 0);
    let compared = outputs(&project.results());
    // Rows in another order than the golden's: keyed, nothing differs.
    assert_eq!(output(&compared, "warehouse.db#advisories")["total"], 0);
    // A candidate that loses a row: caught against the golden alone (the fixture's inputs are
    // those of the golden, as the side reads its instructions from a file beside them).
    let spec = project.path().join("fixtures/day.json");
    let golden_inputs = std::fs::read(&spec).expect("fixture");
    std::fs::write(
        project.path().join("drop.json"),
        json!({"rows": 30, "candidate": {"drop": 7}}).to_string(),
    )
    .expect("write");
    let config = std::fs::read_to_string(project.path().join("parity.toml")).expect("config");
    std::fs::write(
        project.path().join("parity.toml"),
        config.replacen("\"{fixture}\"", "\"drop.json\"", 2),
    )
    .expect("write");
    let out = project.parity(&["run", "--against", "golden"]);
    assert_exit(&out, 1);
    assert_eq!(std::fs::read(&spec).expect("fixture"), golden_inputs);
    let compared = outputs(&project.results());
    let advisories = output(&compared, "warehouse.db#advisories");
    assert_eq!(
        advisories["differences"][0]["kind"], "removed",
        "{advisories}"
    );
    assert_eq!(advisories["differences"][0]["path"], "$[?@.id=='7']");
}

#[test]
fn teardown_runs_after_each_side_with_that_runs_id() {
    let log = "teardown.log";
    let project = Warehouse::dumping(&format!(
        "teardown = [\"sh\", \"-c\", \"echo $0 $1 $RUN_ID >> {log}\", \"{{side}}\", \"{{run_id}}\"]\n"
    ));
    project.fixture("a", json!({"rows": 5}));
    project.fixture("b", json!({"rows": 6}));
    assert_exit(&project.parity(&["run"]), 0);
    let text = std::fs::read_to_string(project.path().join(log)).expect("teardown ran");
    let mut lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    lines.sort();
    assert_eq!(lines.len(), 4, "once per side per case: {text}");
    let mut ids: Vec<&str> = lines.iter().map(|l| l[1]).collect();
    for line in &lines {
        assert!(["legacy", "candidate"].contains(&line[0]), "{text}");
        // The side's env saw the same id as its teardown.
        assert_eq!(line[1], line[2], "{text}");
        let id = line[1];
        assert!(
            id.starts_with("parity_")
                && id.len() < 63
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{id} is not usable as a schema name"
        );
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "each run has its own id: {text}");
}

#[test]
fn a_suite_whose_requires_fails_is_skipped_with_its_reason_never_failed() {
    let project = Warehouse::dumping(
        "requires = [\"sh\", \"-c\", \"echo 'no server on port 5499' >&2; exit 2\"]\n",
    );
    project.fixture("a", json!({"rows": 5}));
    let out = project.parity(&["run"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains(
            "notice: suite `main` skipped: `requires` (`sh`) exited with 2: no server on port 5499"
        ),
        "{err}"
    );
    let results = project.results();
    assert_eq!(results["cases"], json!([]));
    assert_eq!(results["selection"]["skipped"][0]["suite"], "main");
    assert_eq!(results["summary"]["exit_code"], 0);
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    assert!(
        report.contains("| Skipped | suite `main` (requires `sh -c"),
        "{report}"
    );
    // Where it succeeds, the suite runs.
    let config = std::fs::read_to_string(project.path().join("parity.toml")).expect("config");
    std::fs::write(
        project.path().join("parity.toml"),
        config.replace("exit 2", "exit 0"),
    )
    .expect("write");
    assert_exit(&project.parity(&["run"]), 0);
    assert_eq!(project.results()["cases"].as_array().map(Vec::len), Some(1));
}

/// Parity's own peak RSS comparing a table of `rows` rows (one changed row, loaded in the
/// other order), and the size of one side's converted table.
fn peak_comparing(rows: u64) -> (u64, u64) {
    let project = Warehouse::dumping("");
    project.fixture(
        "big",
        json!({"rows": rows, "candidate": {"reverse": true, "change": {"id": rows / 2 + 7, "severity": "critical"}}}),
    );
    let out = project.parity(&["run"]);
    assert_exit(&out, 1);
    let results = project.results();
    let outputs = outputs(&results);
    let advisories = output(&outputs, "warehouse.db#advisories");
    assert_eq!(advisories["total"], 1, "{advisories}");
    let kept = project
        .path()
        .join("reports/latest/outputs/main/big.json/legacy/converted/warehouse.db#advisories");
    let size = std::fs::metadata(&kept).expect("kept").len();
    let peak_kib = results["measurement"]["parity_peak_rss_kib"]
        .as_u64()
        .expect("parity's own peak RSS");
    (peak_kib * 1024, size)
}

#[test]
fn a_million_row_converted_table_is_compared_within_the_streaming_bound() {
    let (small_peak, small_size) = peak_comparing(100_000);
    let (peak, size) = peak_comparing(1_000_000);
    assert!(size > 20 << 20, "the table is {size} bytes a side");
    // Streamed by key, memory does not follow the table: ten times the rows, about the same
    // peak (a partition's worth more at most), and less than the two tables' text.
    assert!(
        peak < small_peak + (16 << 20),
        "parity peaked at {peak} bytes for {size}-byte tables, {small_peak} for {small_size}-byte ones"
    );
    assert!(
        peak < 2 * size,
        "parity peaked at {peak} bytes for two tables of {size} bytes"
    );
}

/// Run directories of a passing case are recycled for the next cases (`runner::rundir`): with
/// `--jobs 1`, case `a` converts and passes, and its directories are set aside while the next
/// case's legacy side sleeps, so `b`'s candidate, which times out before any conversion, runs
/// in one of them; `c`'s converters fail (they write nothing). Neither may see `a`'s converted
/// file (which holds `pass`), in its comparison or in its kept outputs.
#[test]
fn a_recycled_run_directory_never_shows_a_previous_cases_converted_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = r#"[legacy]
cmd = ["sh", "-c", "sleep 0.5; grep -q hang \"$1\" || cp \"$1\" \"$2/data.txt\"", "sh", "{fixture}", "{out}"]

[candidate]
cmd = ["sh", "-c", "if grep -q hang \"$1\"; then sleep 60; fi; cp \"$1\" \"$2/data.txt\"", "sh", "{fixture}", "{out}"]
timeout = "3s"

[suites.s]
root = "fixtures"
include = ["*.txt"]

[[compare]]
output = "data.txt"
format = "text"
convert = ["sh", "-c", "if grep -q fail \"$1\"; then exit 1; fi; cat \"$1\"", "sh", "{file}"]
"#;
    std::fs::write(dir.path().join("parity.toml"), config).expect("parity.toml");
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir(&fixtures).expect("fixtures");
    for (id, text) in [("a", "pass"), ("b", "hang"), ("c", "fail")] {
        write(&fixtures, &format!("{id}.txt"), &format!("{text}\n"));
    }
    let out = parity()
        .current_dir(dir.path())
        .args(["run", "--jobs", "1"])
        .output()
        .expect("parity runs");
    assert_exit(&out, 1);
    let text = std::fs::read_to_string(dir.path().join("reports/latest/results.json"))
        .expect("results.json");
    let results: Value = serde_json::from_str(&text).expect("JSON");
    let case = |id: &str| -> Value {
        results["cases"]
            .as_array()
            .and_then(|cases| cases.iter().find(|c| c["fixture"] == id).cloned())
            .unwrap_or_else(|| panic!("no case {id} in {results}"))
    };
    assert_eq!(
        case("a.txt")["verdict"]["kind"],
        "identical",
        "{}",
        case("a.txt")
    );
    assert_eq!(
        case("b.txt")["verdict"]["kind"],
        "timeout",
        "{}",
        case("b.txt")
    );
    let c = case("c.txt");
    let converted = output(c["outputs"].as_array().expect("outputs"), "data.txt");
    let kinds: Vec<&Value> = converted["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| &d["kind"])
        .collect();
    assert_eq!(
        kinds,
        [&json!("convert_failed"), &json!("convert_failed")],
        "only the failed conversions, nothing compared: {converted}"
    );
    // What the failing cases kept: nothing of the passing one.
    let kept = dir.path().join("reports/latest/outputs/s");
    for entry in walkdir::WalkDir::new(&kept) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            assert_ne!(
                bytes,
                b"pass\n",
                "{} holds the passing case's output",
                entry.path().display()
            );
        }
    }
    for side in ["legacy", "candidate"] {
        let dir = kept.join("b.txt").join(side);
        assert!(dir.join("out").is_dir(), "{} was kept", dir.display());
        assert!(
            !dir.join("converted").exists(),
            "{} converted nothing",
            dir.display()
        );
        assert!(
            !kept
                .join("c.txt")
                .join(side)
                .join("converted/data.txt")
                .exists()
        );
    }
}

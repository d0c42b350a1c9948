//! Goldens end to end: record from the legacy, judge against goldens alone once the legacy is
//! retired, catch tampered and stale goldens and legacy drift, review pending changes from a
//! script, prune orphans, and never write anything when `CI` is set.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Project, assert_exit, stderr, stdout};

/// The golden directory of fixture `id` in suite `main`.
fn golden_dir(project: &Project, id: &str) -> PathBuf {
    project
        .path()
        .join("golden/main")
        .join(format!("{id}.json"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn log(project: &Project) -> Vec<Value> {
    std::fs::read_to_string(project.path().join("golden/review-log.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a log line is JSON"))
        .collect()
}

/// Marks the legacy retired and makes its command unrunnable, so a passing run proves it was
/// not run.
fn retire_legacy(project: &Project) {
    project.edit_config(|text| {
        text.replacen(
            "[legacy]\ncmd = [\"python3\"",
            "[legacy]\nretired = true\ncmd = [\"/nonexistent/legacy\"",
            1,
        )
    });
}

fn verdict(case: &Value) -> &str {
    case["verdict"]["kind"].as_str().unwrap_or_default()
}

#[test]
fn record_then_a_golden_only_run_passes_without_the_legacy() {
    let project = Project::new(r#"ignore = [{ path = "$.at", reason = "time" }]"#);
    project
        .fixture(
            "a",
            &["json", r#"{"at": "10:00", "v": [1, 2]}"#],
            &["json", r#"{"at": "11:00", "v": [1, 2]}"#],
        )
        .fixture("b", &["json", r#"{"v": "x"}"#], &["json", r#"{"v": "x"}"#]);
    let recorded = project.parity(&["golden", "record", "--reason", "first recording"]);
    assert_exit(&recorded, 0);
    assert!(stdout(&recorded).contains("2 new"), "{}", stdout(&recorded));

    // Stored normalised: pretty, sorted keys, ignored values replaced; with provenance.
    let stored =
        std::fs::read_to_string(golden_dir(&project, "a").join("out/result.json")).unwrap();
    assert_eq!(
        stored,
        "{\n  \"at\": \"<ignored>\",\n  \"v\": [\n    1,\n    2\n  ]\n}\n"
    );
    let provenance = read_json(&golden_dir(&project, "a").join("provenance.json"));
    assert_eq!(provenance["source"], "legacy");
    assert_eq!(provenance["fixture"], "a.json");
    assert!(
        provenance["inputs"]
            .as_str()
            .unwrap()
            .starts_with("blake3:")
    );
    assert!(
        provenance["argv"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "{out}")
    );
    assert_eq!(provenance["parity_version"], env!("CARGO_PKG_VERSION"));

    // Recording again changes nothing, so git stays clean.
    let again = project.parity(&["golden", "record"]);
    assert_exit(&again, 0);
    assert!(stdout(&again).contains("2 unchanged"), "{}", stdout(&again));
    let entries = log(&project);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["decision"], "record");
    assert_eq!(entries[0]["reason"], "first recording");

    // With goldens, the default compares with both.
    assert_exit(&project.run(&[]), 0);
    assert_eq!(
        project.case("a")["against"],
        serde_json::json!(["legacy", "golden"])
    );

    retire_legacy(&project);
    let output = project.run(&[]);
    assert_exit(&output, 0);
    let case = project.case("a");
    assert_eq!(case["against"], serde_json::json!(["golden"]));
    assert!(case["legacy"].is_null(), "{case}");
    assert_eq!(case["golden"]["provenance"]["source"], "legacy");
    let md = project.report_md();
    assert!(
        md.contains("## Goldens") && md.contains("golden/main/a.json"),
        "{md}"
    );
    assert_exit(&project.parity(&["golden", "check"]), 0);

    let refused = project.run(&["--against", "legacy"]);
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("retired"), "{}", stderr(&refused));
}

#[test]
fn a_tampered_golden_fails_naming_its_file_and_path() {
    let project = Project::new("");
    project.fixture(
        "a",
        &["json", r#"{"items": [{"price": 5}]}"#],
        &["json", r#"{"items": [{"price": 5}]}"#],
    );
    assert_exit(&project.parity(&["golden", "record"]), 0);
    let file = golden_dir(&project, "a").join("out/result.json");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace('5', "6")).unwrap();

    let output = project.run(&["--against", "golden"]);
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(text.contains("golden/main/a.json"), "{text}");
    assert!(
        text.contains("result.json $.items[0].price changed: 6 → 5"),
        "{text}"
    );

    let check = project.parity(&["golden", "check"]);
    assert_exit(&check, 1);
    assert!(
        stdout(&check).contains("edited: golden/main/a.json"),
        "{}",
        stdout(&check)
    );
}

#[test]
fn a_changed_fixture_marks_its_golden_stale() {
    let project = Project::new("");
    project.fixture("a", &["json", r#"{"v": 1}"#], &["json", r#"{"v": 1}"#]);
    assert_exit(&project.parity(&["golden", "record"]), 0);
    // Same behaviour, different bytes: the inputs changed, so the golden must not be used.
    project.fixture("a", &["json", r#"{"v":  1}"#], &["json", r#"{"v":  1}"#]);

    let output = project.run(&["--against", "golden"]);
    assert_exit(&output, 1);
    assert_eq!(verdict(&project.case("a")), "golden-stale");
    assert_eq!(project.case("a")["golden"]["stale"], true);
    assert!(stdout(&output).contains("STALE"), "{}", stdout(&output));
    let check = project.parity(&["golden", "check"]);
    assert_exit(&check, 1);
    assert!(
        stdout(&check).contains("stale: golden/main/a.json"),
        "{}",
        stdout(&check)
    );
    // Re-recording makes it current.
    assert_exit(&project.parity(&["golden", "record"]), 0);
    assert_exit(&project.run(&["--against", "golden"]), 0);
}

#[test]
fn both_catches_legacy_drift_and_writes_a_pending_change() {
    let project = Project::new("");
    project.fixture("a", &["env", "DRIFT"], &["env", "DRIFT"]);
    assert_exit(&project.parity(&["golden", "record"]), 0);

    let output = parity_with_env(&project, &["run"], "DRIFT", "1");
    assert_exit(&output, 1);
    let case = project.case("a");
    assert_eq!(verdict(&case), "golden-mismatch");
    assert_eq!(case["verdict"]["legacy"], true);
    let drift = serde_json::json!({ "outputs": case["golden"]["legacy"].clone() });
    let drift = crate::support::output_of(&drift, "result.json");
    assert_eq!(drift["differences"][0]["path"], "$.DRIFT");
    assert_eq!(case["golden"]["pending"], "golden/main/a.json.new");
    let pending = read_json(
        &project
            .path()
            .join("golden/main/a.json.new/provenance.json"),
    );
    assert_eq!(pending["source"], "legacy");
    assert!(
        stdout(&output).contains("golden-mismatch (legacy and candidate)")
            && stdout(&output)
                .contains("1 pending golden change written; decide with `parity golden review`"),
        "{}",
        stdout(&output)
    );
}

fn parity_with_env(
    project: &Project,
    args: &[&str],
    name: &str,
    value: &str,
) -> std::process::Output {
    crate::support::parity()
        .current_dir(project.path())
        .args(args)
        .env(name, value)
        .output()
        .expect("parity runs")
}

#[test]
fn with_ci_set_nothing_is_written() {
    let project = Project::new("");
    project.fixture("a", &["json", r#"{"v": 1}"#], &["json", r#"{"v": 2}"#]);
    let refused = parity_with_env(&project, &["golden", "record"], "CI", "true");
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("CI"), "{}", stderr(&refused));
    assert!(!project.path().join("golden").exists());

    assert_exit(&project.parity(&["golden", "record"]), 0);
    let before = snapshot(&project.path().join("golden"));
    let run = parity_with_env(&project, &["run", "--against", "golden"], "CI", "true");
    assert_exit(&run, 1);
    assert!(project.case("a")["golden"]["pending"].is_null());
    for command in [
        &["golden", "accept", "--all"][..],
        &["golden", "reject", "--all"],
        &["golden", "review"],
        &["golden", "prune"],
    ] {
        assert_exit(&parity_with_env(&project, command, "CI", "1"), 2);
    }
    assert_eq!(snapshot(&project.path().join("golden")), before);
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn a_scripted_review_accepts_a_cluster_and_rejects_another_change() {
    let project = Project::new("");
    project
        .fixture(
            "a",
            &["json", r#"{"v": 1, "w": 1}"#],
            &["json", r#"{"v": 2, "w": 1}"#],
        )
        .fixture(
            "b",
            &["json", r#"{"v": 3, "w": 1}"#],
            &["json", r#"{"v": 4, "w": 1}"#],
        )
        .fixture(
            "c",
            &["json", r#"{"v": 1, "w": 1}"#],
            &["json", r#"{"v": 1, "w": 9}"#],
        );
    assert_exit(&project.parity(&["golden", "record"]), 0);
    // Against goldens only, the candidate's differing outputs become pending changes.
    assert_exit(&project.run(&["--against", "golden"]), 1);
    for id in ["a", "b", "c"] {
        assert!(
            project
                .path()
                .join(format!("golden/main/{id}.json.new"))
                .is_dir()
        );
    }
    assert_exit(&project.parity(&["golden", "check"]), 1);

    // a and b change $.v alike: `A` accepts both; c changes $.w: `r` rejects it.
    let review = crate::support::parity()
        .current_dir(project.path())
        .args([
            "golden",
            "review",
            "--reason",
            "price rounding fixed on purpose",
        ])
        .write_stdin("A\nr\n")
        .output()
        .expect("parity runs");
    assert_exit(&review, 0);
    let text = stdout(&review);
    assert!(text.contains("$.v") && text.contains("changed"), "{text}");
    assert!(
        text.contains("2 changes pending have these same differences"),
        "{text}"
    );
    assert!(
        text.contains("2 accepted, 1 rejected, 0 still pending"),
        "{text}"
    );

    let entries = log(&project);
    let decisions: Vec<(&str, Vec<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e["decision"].as_str().unwrap(),
                e["cases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            ("record", vec!["main/a.json", "main/b.json", "main/c.json"]),
            ("accept", vec!["main/a.json", "main/b.json"]),
            ("reject", vec!["main/c.json"]),
        ]
    );
    let accept = &entries[1];
    assert_eq!(accept["reason"], "price rounding fixed on purpose");
    assert!(!accept["who"].as_str().unwrap().is_empty());
    assert!(accept["at"].as_str().unwrap().starts_with("20"));

    // The accepted goldens now hold the candidate's outputs; c's still the legacy's.
    let stored = read_json(&golden_dir(&project, "a").join("out/result.json"));
    assert_eq!(stored["v"], 2);
    assert_eq!(
        read_json(&golden_dir(&project, "a").join("provenance.json"))["source"],
        "candidate"
    );
    assert_exit(&project.run(&["--against", "golden"]), 1);
    // Equivalent, not identical: the golden is stored pretty-printed.
    assert_eq!(verdict(&project.case("a")), "equivalent");
    assert_eq!(verdict(&project.case("c")), "different");
}

#[test]
fn accept_and_reject_decide_by_glob_for_scripts() {
    let project = Project::new("");
    project
        .fixture("keep", &["json", r#"{"v": 1}"#], &["json", r#"{"v": 2}"#])
        .fixture("drop", &["json", r#"{"v": 1}"#], &["json", r#"{"v": 2}"#]);
    assert_exit(&project.parity(&["golden", "record"]), 0);
    assert_exit(&project.run(&["--against", "golden"]), 1);
    let nothing = project.parity(&["golden", "accept"]);
    assert_exit(&nothing, 2);
    let accepted = project.parity(&["golden", "accept", "--fixture", "keep*", "--reason", "ok"]);
    assert_exit(&accepted, 0);
    assert!(
        stdout(&accepted).contains("accepted golden/main/keep.json"),
        "{}",
        stdout(&accepted)
    );
    assert_exit(
        &project.parity(&["golden", "reject", "--fixture", "main/drop.json"]),
        0,
    );
    assert_exit(&project.parity(&["golden", "reject", "--all"]), 4);
    assert_exit(&project.parity(&["golden", "check"]), 0);
    let decisions: Vec<String> = log(&project)
        .iter()
        .map(|e| format!("{} {}", e["decision"].as_str().unwrap(), e["cases"]))
        .collect();
    assert_eq!(
        decisions,
        vec![
            r#"record ["main/drop.json","main/keep.json"]"#,
            r#"accept ["main/keep.json"]"#,
            r#"reject ["main/drop.json"]"#,
        ]
    );
}

#[test]
fn a_fixture_id_with_an_at_sign_is_matched_by_its_own_name() {
    let project = Project::new("");
    project.fixture("pkg@2", &["json", r#"{"v": 1}"#], &["json", r#"{"v": 2}"#]);
    assert_exit(&project.parity(&["golden", "record"]), 0);
    assert_exit(&project.run(&["--against", "golden"]), 1);
    let accepted = project.parity(&["golden", "accept", "--fixture", "pkg@2.json"]);
    assert_exit(&accepted, 0);
    assert!(
        stdout(&accepted).contains("accepted golden/main/pkg@2.json"),
        "{}",
        stdout(&accepted)
    );
}

#[test]
fn an_interrupted_recording_is_one_leftover_not_an_orphan() {
    let project = Project::new("");
    project.fixture("a", &["json", "{}"], &["json", "{}"]);
    assert_exit(&project.parity(&["golden", "record"]), 0);
    // What a recording killed after staging leaves: a scratch directory holding a full golden.
    let scratch = project.path().join("golden/main/.recording-x1/golden");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::copy(
        golden_dir(&project, "a").join("provenance.json"),
        scratch.join("provenance.json"),
    )
    .unwrap();
    let check = project.parity(&["golden", "check"]);
    assert_exit(&check, 1);
    let text = stdout(&check);
    assert_eq!(text.matches("leftover:").count(), 1, "{text}");
    assert!(!text.contains("orphan"), "{text}");
    assert_exit(&project.parity(&["golden", "prune"]), 0);
    assert!(!project.path().join("golden/main/.recording-x1").exists());
    assert_exit(&project.parity(&["golden", "check"]), 0);
}

#[test]
fn prune_removes_goldens_with_no_fixture() {
    let project = Project::new("");
    project
        .fixture("stays", &["json", "{}"], &["json", "{}"])
        .fixture("goes", &["json", "{}"], &["json", "{}"]);
    assert_exit(&project.parity(&["golden", "record"]), 0);
    std::fs::remove_file(project.path().join("fixtures/goes.json")).unwrap();
    std::fs::create_dir_all(project.path().join("golden/main/ghost.json.new")).unwrap();
    std::fs::write(
        project
            .path()
            .join("golden/main/ghost.json.new/provenance.json"),
        std::fs::read(golden_dir(&project, "stays").join("provenance.json")).unwrap(),
    )
    .unwrap();

    let check = project.parity(&["golden", "check"]);
    assert_exit(&check, 1);
    let text = stdout(&check);
    assert!(
        text.contains("orphan: golden/main/goes.json has no fixture"),
        "{text}"
    );
    assert!(
        text.contains("orphan: pending change golden/main/ghost.json.new"),
        "{text}"
    );

    let dry = project.parity(&["golden", "prune", "--dry-run"]);
    assert_exit(&dry, 0);
    assert!(
        stdout(&dry).contains("would remove golden/main/goes.json"),
        "{}",
        stdout(&dry)
    );
    assert!(golden_dir(&project, "goes").exists());

    let pruned = project.parity(&["golden", "prune"]);
    assert_exit(&pruned, 0);
    assert!(!golden_dir(&project, "goes").exists());
    assert!(!project.path().join("golden/main/ghost.json.new").exists());
    assert!(golden_dir(&project, "stays").exists());
    assert_exit(&project.parity(&["golden", "check"]), 0);
}

#[test]
fn goldens_only_with_no_golden_is_a_failure_not_a_pass() {
    let project = Project::new("");
    project.fixture("new", &["json", "{}"], &["json", "{}"]);
    retire_legacy(&project);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(verdict(&project.case("new")), "golden-missing");
    assert!(
        stdout(&output).contains("golden-missing"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_unreadable_golden_is_named_with_its_cause_and_rules_are_not_called_stale() {
    let project = Project::new(r#"ignore = [{ path = "$.at", reason = "time" }]"#);
    project.fixture("a", &["json", r#"{"at": 1}"#], &["json", r#"{"at": 2}"#]);
    assert_exit(&project.parity(&["golden", "record"]), 0);
    std::fs::write(golden_dir(&project, "a").join("provenance.json"), "{oops").unwrap();
    retire_legacy(&project);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(verdict(&project.case("a")), "golden-missing");
    let out = stdout(&output);
    assert!(
        out.contains("golden unreadable:")
            && out.contains(
                "a.json/provenance.json` is not a parity provenance file: key must be a string"
            ),
        "{out}"
    );
    // Nothing was compared, so no rule had a chance to apply.
    assert!(!stderr(&output).contains("matched no value"), "{out}");

    let check = project.parity(&["golden", "check"]);
    assert_exit(&check, 1);
    assert!(stdout(&check).contains("unreadable"), "{}", stdout(&check));

    // A review log edited by hand is a problem too: it is the audit trail.
    let log = project.path().join("golden/review-log.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("not json\n");
    std::fs::write(&log, text).unwrap();
    let check = project.parity(&["golden", "check"]);
    assert!(
        stdout(&check).contains("review-log.jsonl` line 2 is not a review-log entry"),
        "{}",
        stdout(&check)
    );
}

#[test]
fn a_golden_recorded_under_a_removed_ignore_rule_says_so() {
    let project = Project::new(r#"ignore = [{ path = "$.at", reason = "time" }]"#);
    project.fixture(
        "a",
        &["json", r#"{"at": "10:00"}"#],
        &["json", r#"{"at": "10:00"}"#],
    );
    assert_exit(&project.parity(&["golden", "record"]), 0);
    project
        .edit_config(|text| text.replace(r#"ignore = [{ path = "$.at", reason = "time" }]"#, ""));
    assert_exit(&project.run(&["--against", "golden"]), 1);
    let notes = project.case("a")["notes"].to_string();
    assert!(
        notes.contains("`result.json` $.at as ignored") && notes.contains("record it again"),
        "{notes}"
    );
}

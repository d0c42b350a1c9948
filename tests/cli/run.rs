//! `parity run` against helper sides that agree, differ, crash, hang, flood, print garbage or
//! write nothing.

use std::time::{Duration, Instant};

use crate::support::{Project, alive, assert_exit, output_of, read_pids, stderr, stdout};

#[test]
fn identical_and_reordered_json_pass() {
    let project = Project::new("");
    project
        .fixture(
            "same",
            &["json", r#"{"a": 1, "b": [1, 2]}"#],
            &["json", r#"{"a": 1, "b": [1, 2]}"#],
        )
        .fixture(
            "reordered",
            &["json", r#"{"a": 1, "b": 2}"#],
            &["json", r#"{"b": 2.0, "a": 1}"#],
        );
    let output = project.run(&[]);
    assert_exit(&output, 0);
    assert_eq!(project.case("same")["verdict"]["kind"], "identical");
    assert_eq!(project.case("reordered")["verdict"]["kind"], "equivalent");
    assert!(stdout(&output).contains("PASS"), "{}", stdout(&output));
}

#[test]
fn a_changed_value_fails_with_its_path_and_both_values() {
    let project = Project::new("");
    project.fixture(
        "changed",
        &["json", r#"{"a": {"b": 1}}"#],
        &["json", r#"{"a": {"b": 2}}"#],
    );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let case = project.case("changed");
    assert_eq!(case["verdict"]["kind"], "different");
    let difference = &output_of(&case, "result.json")["differences"][0];
    assert_eq!(difference["path"], "$.a.b");
    assert_eq!(difference["kind"], "changed");
    assert_eq!(
        (difference["left"].clone(), difference["right"].clone()),
        (1.into(), 2.into())
    );
    assert!(
        project
            .report_md()
            .contains("| `$.a.b` | changed | `1` | `2` |"),
        "{}",
        project.report_md()
    );
    let junit = std::fs::read_to_string(project.path().join("reports/latest/junit.xml")).unwrap();
    assert!(
        junit.contains("<failure") && junit.contains("$.a.b"),
        "{junit}"
    );
    assert!(
        project
            .path()
            .join("reports/latest/outputs/main/changed.json/candidate/out/result.json")
            .is_file()
    );
}

#[test]
fn a_crashing_candidate_is_a_result_with_its_stderr() {
    let project = Project::new("");
    project
        .fixture("ok", &["json", "{}"], &["json", "{}"])
        .fixture("crash", &["json", "{}"], &["crash", "3"])
        .fixture("segv", &["json", "{}"], &["segfault"]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let crash = project.case("crash");
    assert_eq!(crash["verdict"]["kind"], "candidate-failed");
    assert_eq!(
        crash["candidate"]["status"],
        serde_json::json!({"kind": "exited", "code": 3})
    );
    assert!(
        crash["candidate"]["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("ValueError: fixture broke the parser")
    );
    let segv = project.case("segv");
    assert_eq!(segv["verdict"]["kind"], "candidate-failed");
    assert_eq!(segv["candidate"]["status"]["name"], "SIGSEGV");
    assert_eq!(project.case("ok")["verdict"]["kind"], "identical");
    assert!(
        project
            .report_md()
            .contains("ValueError: fixture broke the parser")
    );
}

#[test]
fn both_sides_failing_the_same_way_agree() {
    let project = Project::new("");
    project
        .fixture("same", &["crash", "3"], &["crash", "3"])
        .fixture("other", &["crash", "3"], &["crash", "4"]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(
        project.case("same")["verdict"],
        serde_json::json!({"kind": "both-failed", "agree": true})
    );
    assert_eq!(
        project.case("other")["verdict"],
        serde_json::json!({"kind": "both-failed", "agree": false})
    );
}

#[test]
fn a_hanging_side_is_killed_with_its_grandchildren() {
    let project = Project::with_sides("2s", "");
    let pidfile = project.path().join("pids");
    project.fixture("hang", &["json", "{}"], &["hang"]).fixture(
        "fine",
        &["json", "{}"],
        &["json", "{}"],
    );
    let started = Instant::now();
    let output = crate::support::parity()
        .current_dir(project.path())
        .env("PIDFILE", &pidfile)
        .arg("run")
        .output()
        .unwrap();
    assert_exit(&output, 1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let case = project.case("hang");
    assert_eq!(
        case["verdict"],
        serde_json::json!({"kind": "timeout", "sides": ["candidate"]})
    );
    assert_eq!(case["candidate"]["status"]["kind"], "timed_out");
    let pids = read_pids(&pidfile);
    assert_eq!(
        pids.len(),
        3,
        "the helper records itself and two grandchildren"
    );
    std::thread::sleep(Duration::from_millis(200));
    let survivors: Vec<u32> = pids.into_iter().filter(|&p| alive(p)).collect();
    assert!(
        survivors.is_empty(),
        "still running after the timeout: {survivors:?}"
    );
    assert_eq!(project.case("fine")["verdict"]["kind"], "identical");
}

#[test]
fn background_processes_left_behind_are_killed_and_noted() {
    let project = Project::new("");
    let pidfile = project.path().join("pids");
    project.fixture("leak", &["json", "{}"], &["leak"]);
    let started = Instant::now();
    let output = crate::support::parity()
        .current_dir(project.path())
        .env("PIDFILE", &pidfile)
        .arg("run")
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let notes = project.case("leak")["candidate"]["notes"].to_string();
    assert!(notes.contains("still running after it exited"), "{notes}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(read_pids(&pidfile).into_iter().all(|p| !alive(p)));
}

#[test]
fn a_flooding_side_is_captured_up_to_the_limit_then_timed_out() {
    let project = Project::with_sides(
        "3s",
        "[[compare]]\noutput = \"stdout\"\nformat = \"text\"\n",
    );
    project.fixture("flood", &["json", "{}"], &["flood"]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let case = project.case("flood");
    assert_eq!(case["verdict"]["kind"], "timeout");
    let captured = std::fs::metadata(
        project
            .path()
            .join("reports/latest/outputs/main/flood.json/candidate/stdout"),
    )
    .unwrap()
    .len();
    assert!(captured <= 64 * 1024 * 1024, "stored {captured} bytes");
    let written = case["candidate"]["stdout"]["bytes"].as_u64().unwrap();
    assert!(written >= captured, "counted {written} bytes");
    // 64 MiB in 3 s is ~21 MB/s, far below what a pipe carries.
    assert_eq!(
        case["candidate"]["stdout"]["truncated"], true,
        "wrote {written} bytes"
    );
    assert!(
        project
            .report_md()
            .contains("candidate: stdout was truncated"),
        "{}",
        project.report_md()
    );
}

#[test]
fn invalid_json_is_a_parse_error_difference_with_line_and_column() {
    let project = Project::new("");
    project.fixture(
        "garbage",
        &["json", r#"{"advisories": [1, 2, 3]}"#],
        &["garbage"],
    );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let case = project.case("garbage");
    let difference = &output_of(&case, "result.json")["differences"][0];
    assert_eq!(difference["kind"], "parse_error");
    let note = difference["note"].as_str().unwrap();
    assert!(
        note.contains("candidate output `result.json` is not valid json: line 1, column 22"),
        "{note}"
    );
}

#[test]
fn a_side_that_writes_nothing_misses_its_output() {
    let project = Project::new("");
    project.fixture("empty", &["json", "{}"], &["nothing"]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let case = project.case("empty");
    assert_eq!(
        output_of(&case, "result.json")["differences"][0]["kind"],
        "missing_file"
    );
    assert_eq!(output_of(&case, "exit")["status"], "identical");
}

#[test]
fn a_program_that_cannot_start_anywhere_is_a_harness_error() {
    let project = Project::new("");
    project.fixture("a", &["json", "{}"], &["json", "{}"]);
    let config = std::fs::read_to_string(project.path().join("parity.toml")).unwrap();
    let broken = config.replacen("[\"python3\"", "[\"no-such-program-xyz\"", 2);
    assert_ne!(broken, config);
    std::fs::write(project.path().join("parity.toml"), broken).unwrap();
    let output = project.run(&[]);
    assert_exit(&output, 2);
    let text = stdout(&output);
    assert!(
        text.contains("no case could be run") && text.contains("no-such-program-xyz"),
        "{text}"
    );
    assert_eq!(project.case("a")["verdict"]["kind"], "error");
}

#[test]
fn waivers_cover_known_differences_and_unused_rules_are_stale() {
    let extra = r#"ignore = ["$.never"]

[[waiver]]
path = "$.wording"
value = "^new"
reason = "reworded on purpose"
owner = "jane"
expires = "2099-01-01"

# no fixture writes it (as an output only a suite not run by default writes)
[[compare]]
output = "table.csv"
format = "csv"
key = ["id"]
"#;
    let project = Project::new(extra);
    project.fixture(
        "waived",
        &["json", r#"{"wording": "old text"}"#],
        &["json", r#"{"wording": "new text"}"#],
    );
    project.fixture(
        "not-waived",
        &["json", r#"{"wording": "old text"}"#],
        &["json", r#"{"wording": "other"}"#],
    );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(project.case("waived")["verdict"]["kind"], "waived");
    let waived = project.case("waived");
    assert_eq!(
        output_of(&waived, "result.json")["differences"][0]["waiver"],
        0
    );
    assert_eq!(project.case("not-waived")["verdict"]["kind"], "different");
    let results = project.results();
    assert_eq!(results["waivers"][0]["applied"], 1);
    assert_eq!(results["rules"][0]["stale"], true);
    // A block whose output never came up cannot tell either: its rules are not exercised.
    let table = results["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["output"] == "table.csv")
        .expect("the key rule of table.csv");
    assert_eq!(table["stale"], false, "{table}");
    assert_eq!(table["not_exercised"], true, "{table}");
    // Advice about rules goes to stderr, not into the result on stdout.
    assert!(
        stderr(&output).contains("matched no value that differed"),
        "{}",
        stderr(&output)
    );
    assert!(!stdout(&output).contains("matched no value"));
    // A selection of the run cannot tell that a rule is not needed.
    let output = project.run(&["--fixture", "not-waived*"]);
    assert_exit(&output, 1);
    let results = project.results();
    assert_eq!(results["rules"][0]["stale"], false);
    assert_eq!(results["rules"][0]["not_exercised"], true);
    assert!(
        stderr(&output).contains("2 rules not exercised: this selection did not run them"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("still needed?"));
    assert!(project.report_md().contains("reworded on purpose"));
}

#[test]
fn an_expired_waiver_no_longer_covers_anything() {
    let extra =
        "[[waiver]]\npath = \"$.a\"\nreason = \"old\"\nowner = \"bob\"\nexpires = \"2020-01-01\"\n";
    let project = Project::new(extra);
    project.fixture("x", &["json", r#"{"a": 1}"#], &["json", r#"{"a": 2}"#]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(project.results()["waivers"][0]["expired"], true);
    assert!(
        stdout(&output).contains("waiver 1 (owner bob, expired 2020-01-01)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_expired_waiver_fails_the_gate_even_when_nothing_differs() {
    let extra =
        "[[waiver]]\npath = \"$.a\"\nreason = \"old\"\nowner = \"bob\"\nexpires = \"2020-01-01\"\n";
    let project = Project::new(extra);
    project.fixture("x", &["json", r#"{"a": 1}"#], &["json", r#"{"a": 1}"#]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let headline = project.results()["summary"]["headline"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        headline.starts_with("waiver 1 (owner bob, expired 2020-01-01) expired"),
        "{headline}"
    );
    assert!(project.report_md().contains("**Expired:** waiver 1"));
}

#[test]
fn no_matching_fixture_exits_4() {
    let project = Project::new("");
    project.fixture("a", &["json", "{}"], &["json", "{}"]);
    let output = project.run(&["--fixture", "nothing-like-this*"]);
    assert_exit(&output, 4);
    assert_eq!(project.results()["summary"]["exit_code"], 4);
}

#[test]
fn an_unknown_suite_is_a_usage_error_naming_the_valid_ones() {
    let project = Project::new("");
    let output = project.run(&["--suite", "mian"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("unknown suite `mian`; the configuration defines: `main`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn json_output_prints_only_results_on_stdout() {
    let project = Project::new("");
    project.fixture("a", &["json", "{}"], &["json", "{}"]);
    let output = project.run(&["--format", "json"]);
    assert_exit(&output, 0);
    let parsed: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(parsed["summary"]["exit_code"], 0);
    assert!(stderr(&output).contains("PASS"));
}

#[test]
fn report_rerenders_a_past_run() {
    let project = Project::new("");
    project.fixture("a", &["json", r#"{"a": 1}"#], &["json", r#"{"a": 2}"#]);
    assert_exit(&project.run(&[]), 1);
    let output = crate::support::parity()
        .current_dir(project.path())
        .args(["report", "reports/latest/results.json", "--format", "md"])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert_eq!(crate::support::stdout(&output), project.report_md());
}

#[test]
fn ctrl_c_kills_every_child_and_keeps_finished_cases() {
    let project = Project::new("");
    let pidfile = project.path().join("pids");
    project
        .fixture("a-quick", &["json", "{}"], &["json", "{}"])
        .fixture("b-slow", &["hang"], &["hang"])
        .fixture("c-slow", &["hang"], &["hang"]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("parity"))
        .current_dir(project.path())
        .env("PIDFILE", &pidfile)
        .args(["run", "--jobs", "6"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the slow sides are running (each records three pids) and the quick case is
    // finished: its run directory appears, then is removed once it passed.
    let quick_dir = project
        .path()
        .join("reports/latest/outputs/main/a-quick.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen_quick = false;
    loop {
        seen_quick |= quick_dir.exists();
        let quick_done = seen_quick && !quick_dir.exists();
        if (read_pids(&pidfile).len() >= 6 && quick_done) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(read_pids(&pidfile).len() >= 6, "slow sides never started");
    assert!(
        seen_quick && !quick_dir.exists(),
        "the quick case never finished"
    );
    // SAFETY: sending SIGINT to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status.code(), Some(2));
    let results = project.results();
    assert_eq!(results["interrupted"], true);
    assert_eq!(results["cases"].as_array().unwrap().len(), 1);
    assert_eq!(results["cases"][0]["fixture"], "a-quick.json");
    assert_eq!(
        results["not_run"],
        serde_json::json!([
            { "suite": "main", "fixture": "b-slow.json", "variant": null },
            { "suite": "main", "fixture": "c-slow.json", "variant": null }
        ])
    );
    std::thread::sleep(Duration::from_millis(200));
    let survivors: Vec<u32> = read_pids(&pidfile)
        .into_iter()
        .filter(|&p| alive(p))
        .collect();
    assert!(
        survivors.is_empty(),
        "still running after Ctrl-C: {survivors:?}"
    );
}

#[test]
fn variants_multiply_cases_and_reach_both_sides() {
    let extra = r#"
[[compare]]
output = "stdout"
format = "text"

[variants.offline]
args = ["--offline"]
env = { MODE = "offline-{suite}" }

[variants.online]
env = { MODE = "online" }
"#;
    let project = Project::new(extra);
    project.fixture("a", &["env", "MODE"], &["env", "MODE"]);
    let output = project.run(&["--keep-outputs"]);
    assert_exit(&output, 0);
    let results = project.results();
    let cases: Vec<(String, String)> = results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["variant"].as_str().unwrap().to_owned(),
                c["verdict"]["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        cases,
        [
            ("offline".to_owned(), "identical".to_owned()),
            ("online".to_owned(), "identical".to_owned())
        ]
    );
    let kept = project
        .path()
        .join("reports/latest/outputs/main/a.json@offline/legacy");
    let written = std::fs::read_to_string(kept.join("out/result.json")).unwrap();
    assert_eq!(written, r#"{"MODE": "offline-main"}"#);
    assert_eq!(
        std::fs::read_to_string(kept.join("stdout")).unwrap(),
        "--offline\n"
    );
    let junit = std::fs::read_to_string(project.path().join("reports/latest/junit.xml")).unwrap();
    assert!(
        junit.contains(r#"name="a.json[offline]""#) && junit.contains(r#"name="a.json[online]""#),
        "{junit}"
    );
    let only = project.run(&["--variant", "online"]);
    assert_exit(&only, 0);
    assert_eq!(project.results()["cases"].as_array().unwrap().len(), 1);
    assert_exit(&project.run(&["--variant", "nope"]), 2);
}

#[test]
fn csv_and_text_outputs_follow_their_compare_blocks() {
    let extra = r#"
[[compare]]
output = "*.csv"
format = "csv"
key = ["id"]
ignore = ["loaded_at"]

[[compare]]
output = "notes.txt"
format = "text"
normalize = [{ pattern = '^run \d+$', replace = "run <n>" }]
"#;
    let project = Project::new(extra);
    project
        .fixture(
            "rows",
            &["csv", "id,state,loaded_at\\n1,new,t1\\n2,open,t1"],
            &["csv", "state,loaded_at,id\\nopen,t2,2\\nnew,t2,1"],
        )
        .fixture(
            "rows-bug",
            &["csv", "id,state\\n1,new\\n2,open"],
            &["csv", "id,state,extra\\n1,new,x\\n2,closed,y"],
        )
        .fixture("text", &["text", "run 1\\nok"], &["text", "run 2\\nok"])
        .fixture(
            "text-bug",
            &["text", "run 1\\nok"],
            &["text", "run 2\\nfailed"],
        );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(project.case("rows")["verdict"]["kind"], "equivalent");
    assert_eq!(project.case("text")["verdict"]["kind"], "equivalent");
    let rows_bug = project.case("rows-bug");
    let found: Vec<(&str, &str)> = output_of(&rows_bug, "table.csv")["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [("$[*].extra", "added"), ("$[?@.id=='2'].state", "changed")]
    );
    let text_bug = project.case("text-bug");
    let difference = &output_of(&text_bug, "notes.txt")["differences"][0];
    assert_eq!(
        (
            difference["path"].as_str(),
            difference["left"].as_str(),
            difference["right"].as_str()
        ),
        (Some("@@ -2 +2 @@"), Some("ok"), Some("failed"))
    );
    let rules = project.results()["rules"].clone();
    assert!(
        rules
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["stale"] == false),
        "{rules}"
    );
}

#[test]
fn map_placeholder_and_text_rules_apply_through_run() {
    let extra = r#"map = [{ path = "$..active", values = { Y = true } }, { path = "$", rename = { cve = "cve_id" } }]
normalize = [{ pattern = 'run-[0-9]+', placeholder = "run" }]

[[compare]]
output = "notes.txt"
format = "text"
whitespace = "all"
ignore_case = true
"#;
    let project = Project::new(extra);
    project
        .fixture(
            "mapped",
            &[
                "json",
                r#"{"cve": "C-1", "active": "Y", "a": "run-1", "b": "run-1"}"#,
            ],
            &[
                "json",
                r#"{"cve_id": "C-1", "active": true, "a": "run-9", "b": "run-9"}"#,
            ],
        )
        .fixture(
            "reused-id",
            &["json", r#"{"a": "run-1", "b": "run-2"}"#],
            &["json", r#"{"a": "run-9", "b": "run-9"}"#],
        )
        .fixture("spaced", &["text", "A  B\\nc"], &["text", "a b\\nC"]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(project.case("mapped")["verdict"]["kind"], "equivalent");
    assert_eq!(project.case("spaced")["verdict"]["kind"], "equivalent");
    let reused = project.case("reused-id");
    assert_eq!(
        output_of(&reused, "result.json")["differences"][0]["path"],
        "$.b"
    );
    let rules = project.results()["rules"].clone();
    let kinds: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["map", "rename", "normalize"]);
    assert!(
        rules
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["applied"].as_u64().unwrap() > 0),
        "{rules}"
    );
}

/// In a CI log (stderr not a terminal) each case has its line as it finishes, and a case that
/// runs long is named while it runs, long before its timeout.
#[test]
fn a_log_gets_a_line_per_finished_case_and_names_a_slow_one() {
    let project = Project::new("");
    project
        .fixture("a-quick", &["json", "{}"], &["json", "{}"])
        .fixture(
            "b-differs",
            &["json", r#"{"n": 1}"#],
            &["json", r#"{"n": 2}"#],
        )
        .fixture("c-slow", &["sleep", "1.5"], &["sleep", "1.5"]);
    let output = crate::support::parity()
        .current_dir(project.path())
        .args(["run", "--jobs", "2"])
        .env("PARITY_TEST_SLOW_EVERY_MS", "500")
        .output()
        .expect("parity runs");
    assert_exit(&output, 1);
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    // A case's line as it finished (on a loaded machine, any case may be named SLOW first).
    let line_of = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle) && !l.contains("still running"))
            .unwrap_or_else(|| panic!("no line with {needle}: {err}"))
    };
    assert!(
        lines[line_of("main/a-quick.json")]
            .trim_start()
            .starts_with("PASS [")
    );
    let differs = lines[line_of("main/b-differs.json")];
    assert!(differs.trim_start().starts_with("FAIL ["), "{differs}");
    assert!(
        differs.contains("result.json $.n changed: 1 → 2"),
        "{differs}"
    );
    let slow = lines
        .iter()
        .position(|l| l.contains("main/c-slow.json  still running"))
        .unwrap_or_else(|| panic!("c-slow never named while running: {err}"));
    assert!(lines[slow].trim_start().starts_with("SLOW ["), "{err}");
    let done = lines
        .iter()
        .position(|l| l.contains("main/c-slow.json") && !l.contains("still running"))
        .unwrap_or_else(|| panic!("c-slow never finished: {err}"));
    assert!(slow < done, "named while it ran: {err}");
}

//! `parity calibrate` end to end: real sides run several times, what varies between their runs,
//! the findings, and proposed rules that make a run pass once added to the configuration.

use serde_json::Value;

use crate::support::{Project, assert_exit, parity, stderr, stdout};

const REASON: &str = "varies between runs of the legacy (calibrate)";

fn calibrate(project: &Project, args: &[&str]) -> std::process::Output {
    parity()
        .current_dir(project.path())
        .arg("calibrate")
        .args(args)
        .output()
        .expect("parity runs")
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout is not JSON\n{}", stdout(output)))
}

/// `(output, pattern, kind)` of each listed variation.
fn places(list: &Value) -> Vec<(String, String, String)> {
    list.as_array()
        .expect("a list of variations")
        .iter()
        .map(|v| {
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (text("output"), text("pattern"), text("kind"))
        })
        .collect()
}

fn place(output: &str, pattern: &str, kind: &str) -> (String, String, String) {
    (output.into(), pattern.into(), kind.into())
}

#[test]
fn a_candidate_that_shuffles_where_the_legacy_does_not_is_a_finding() {
    let project = Project::new("");
    project.fixture(
        "a",
        &[
            "json",
            r#"{"items": [{"id": "item-1", "value": 1}, {"id": "item-2", "value": 2}]}"#,
        ],
        &["shuffle"],
    );
    let output = calibrate(&project, &["--runs", "3", "--format", "json"]);
    assert_exit(&output, 1);
    let calibration = json_of(&output);
    assert_eq!(calibration["format_version"], 1);
    assert_eq!(calibration["legacy"]["varies"], serde_json::json!([]));
    let only = place("result.json", "$.items", "order_changed");
    assert_eq!(
        places(&calibration["findings"]["candidate_only"]),
        places(&calibration["candidate"]["uncovered"])
    );
    assert_eq!(places(&calibration["candidate"]["uncovered"]), [only]);
    assert_eq!(
        calibration["proposal"]["blocks"],
        serde_json::json!([]),
        "candidate-only variation is fixed in the candidate, not hidden by a rule"
    );
}

#[test]
fn rules_proposed_for_the_legacys_noise_make_a_run_pass() {
    let project = Project::new("");
    project.fixture("a", &["stamp"], &["stamp"]);
    project.fixture("b", &["stamp"], &["stamp"]);
    assert_exit(&project.run(&[]), 1);

    let output = calibrate(&project, &["--runs", "3", "--write", "proposed.toml"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    for expected in [
        format!(r#"{{ path = "$.generated_at", reason = "{REASON}" }}"#),
        format!(r#"{{ path = "$.run_id", reason = "{REASON}" }}"#),
        format!(r#"{{ path = "$.items", by = "id", reason = "{REASON}" }}"#),
        format!(
            r#"{{ pattern = '^Generated at: \S+$', replace = "Generated at: <time>", reason = "{REASON}" }}"#
        ),
        format!(
            r#"{{ pattern = '^Run id: \S+$', replace = "Run id: <uuid>", reason = "{REASON}" }}"#
        ),
        format!(r#"{{ path = "seen", reason = "{REASON}" }}"#),
        format!(r#"{{ path = "$", by = "id", reason = "{REASON}" }}"#),
        "proposed rules written to proposed.toml".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected}\n{text}");
    }
    let row = ["stamp.json", "$.generated_at", "changed", "4/4", "4", "no"];
    assert!(
        text.lines()
            .any(|line| line.split_whitespace().take(row.len()).eq(row)),
        "no row {row:?}\n{text}"
    );

    let proposed = std::fs::read_to_string(project.path().join("proposed.toml")).unwrap();
    let parsed: toml::Table = toml::from_str(&proposed).expect("the proposal is TOML");
    assert_eq!(
        parsed["compare"].as_array().map(Vec::len),
        Some(3),
        "{proposed}"
    );
    let config_path = project.path().join("parity.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(&config_path, format!("{config}\n{proposed}")).unwrap();
    let run = project.run(&[]);
    assert_exit(&run, 0);

    // Now the rules cover everything: nothing left to propose.
    let again = calibrate(&project, &["--runs", "2", "--format", "json"]);
    assert_exit(&again, 0);
    let calibration = json_of(&again);
    assert_eq!(calibration["proposal"]["blocks"], serde_json::json!([]));
    assert!(
        calibration["legacy"]["varies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["covered"] == true),
        "{calibration}"
    );
}

#[test]
fn runs_of_a_side_that_end_differently_are_a_finding() {
    let project = Project::new("");
    project.fixture("a", &["json", "{}"], &["flaky", "2", "3"]);
    let output = calibrate(
        &project,
        &["--runs", "3", "--keep-outputs", "--out", "kept"],
    );
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(
        text.contains(
            "✗ main/a.json: the candidate's runs ended differently (run 1: exit 0, run 2: exit 3, run 3: exit 0)"
        ),
        "{text}"
    );
    let kept = project.path().join("kept/run-2/main/a.json/candidate");
    assert!(kept.is_dir(), "--keep-outputs keeps every run");
    assert!(stderr(&output).contains("outputs kept under"));
}

#[test]
fn usage_trouble_and_empty_selections() {
    let project = Project::new("");
    project.fixture("a", &["json", "{}"], &["json", "{}"]);
    assert_exit(&calibrate(&project, &["--fixture", "nothing*"]), 4);
    assert_exit(&calibrate(&project, &["--runs", "1"]), 2);

    let config = std::fs::read_to_string(project.path().join("parity.toml")).unwrap();
    let refused = calibrate(&project, &["--runs", "2", "--write", "parity.toml"]);
    assert_exit(&refused, 2);
    assert!(
        stderr(&refused).contains("never edits it"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("parity.toml")).unwrap(),
        config
    );

    let broken = config.replacen(
        "[candidate]\ncmd = [\"python3\"",
        "[candidate]\ncmd = [\"/nonexistent/candidate\"",
        1,
    );
    std::fs::write(project.path().join("parity.toml"), broken).unwrap();
    let unstartable = calibrate(&project, &["--runs", "2"]);
    assert_exit(&unstartable, 2);
    assert!(
        stderr(&unstartable).contains("the candidate could not be started in any run"),
        "{}",
        stderr(&unstartable)
    );
}

#[test]
fn the_bundled_example_varies_in_its_timestamps_and_run_ids_which_the_rules_cover() {
    let out = tempfile::tempdir().unwrap();
    let output = parity()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "calibrate",
            "--runs",
            "2",
            "--fixture",
            "empty",
            "--format",
            "json",
        ])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let calibration = json_of(&output);
    for side in ["legacy", "candidate"] {
        let varies = &calibration[side]["varies"];
        for pattern in ["$.generated_at", "$.run_id"] {
            let found = varies
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["output"] == "advisory_current.json" && v["pattern"] == pattern);
            assert!(
                found.is_some_and(|v| v["covered"] == true && v["kind"] == "changed"),
                "{side} {pattern}: {varies:#}"
            );
        }
    }
    assert_eq!(calibration["proposal"]["blocks"], serde_json::json!([]));
    assert!(
        !out.path().join("run-1").exists(),
        "outputs are removed unless kept"
    );
}

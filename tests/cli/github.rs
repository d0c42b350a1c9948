//! GitHub Actions: the step summary appended to `$GITHUB_STEP_SUMMARY` (under 1 MiB however
//! many cases fail, cut with a pointer to the full report) and at most 10 `::error`
//! annotations plus one `::notice` counting the rest, from a run in Actions and from
//! `parity report --format github` for a past run.

use serde_json::Value;

use crate::support::{Project, assert_exit, parity, stderr, stdout};

/// A project with one failing case whose candidate writes a different value.
fn failing() -> Project {
    let project = Project::new("");
    project.fixture(
        "broken",
        &["json", r#"{"state": "affected", "note": "50% done, a: b"}"#],
        &[
            "json",
            r#"{"state": "50% fixed", "note": "50% done, a: b"}"#,
        ],
    );
    project
}

#[test]
fn a_run_in_actions_writes_the_summary_and_annotates_the_failure() {
    let project = failing();
    let summary = project.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").expect("summary file");
    let output = parity()
        .current_dir(project.path())
        .arg("run")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("parity runs");
    assert_exit(&output, 1);
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("earlier step\n"),
        "appended, not replaced: {text}"
    );
    assert!(text.contains("## parity: ❌ FAIL"), "{text}");
    assert!(text.contains("<code>main/broken.json</code>"), "{text}");
    let err = stderr(&output);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{}", stderr(&output));
    assert!(
        errors[0].starts_with("::error title=parity%3A main/broken.json::different"),
        "{}",
        errors[0]
    );
    // Outside Actions: nothing of it.
    let quiet = project.run(&[]);
    assert!(!stderr(&quiet).contains("::error"));
}

#[test]
fn ten_thousand_failing_cases_stay_under_a_mebibyte_and_ten_errors() {
    let project = failing();
    assert_exit(&project.run(&[]), 1);
    let results_path = project.path().join("reports/latest/results.json");
    let mut results: Value =
        serde_json::from_str(&std::fs::read_to_string(&results_path).expect("results"))
            .expect("JSON");
    let case = results["cases"][0].clone();
    let cases: Vec<Value> = (0..10_000)
        .map(|i| {
            let mut c = case.clone();
            c["fixture"] = Value::from(format!("case-{i:05}.json"));
            c
        })
        .collect();
    results["cases"] = Value::Array(cases);
    results["summary"]["cases"] = Value::from(10_000);
    results["summary"]["failed"] = Value::from(10_000);
    let big = project.path().join("big.json");
    std::fs::write(&big, results.to_string()).expect("write");
    let summary = project.path().join("summary.md");
    let output = parity()
        .current_dir(project.path())
        .args(["report", "big.json", "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("parity runs");
    assert_exit(&output, 0);
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(text.len() < 1_048_576, "{} bytes", text.len());
    assert!(
        text.len() > 500_000,
        "the budget is used: {} bytes",
        text.len()
    );
    assert!(text.contains("cut here"), "a pointer to the full report");
    assert!(
        text.contains("of 10000 failing cases shown"),
        "{}",
        &text[text.len() - 400..]
    );
    let out = stdout(&output);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("::error")).count(),
        10,
        "{out}"
    );
    let notices: Vec<&str> = out.lines().filter(|l| l.starts_with("::notice")).collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains("9990 more failures"), "{}", notices[0]);
    // Data is escaped as the runner reads it: a value's `%` and newlines never end a command.
    for line in out.lines() {
        assert!(line.starts_with("::"), "{line}");
    }
    assert!(out.contains("\"50%25 fixed\""), "{out}");
}

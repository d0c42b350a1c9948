//! Configuration errors exit 2 and point at file, line and column.

use crate::support::{Project, assert_exit, parity, stderr};

#[test]
fn no_config_anywhere_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = parity()
        .current_dir(dir.path())
        .arg("run")
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("no `parity.toml` found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_config_is_found_from_a_subdirectory() {
    let project = Project::new("");
    project.fixture("a", &["json", "{}"], &["json", "{}"]);
    let sub = project.path().join("fixtures");
    let output = parity().current_dir(&sub).arg("run").output().unwrap();
    assert_exit(&output, 0);
    assert!(project.path().join("reports/latest/results.json").is_file());
}

#[test]
fn an_unknown_key_names_line_column_and_valid_keys() {
    let project = Project::new("[report]\nmax_diffs = 3\n");
    let output = project.run(&[]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(message.contains("parity.toml:"), "{message}");
    assert!(
        message
            .contains("unknown key `max_diffs` in `report`; expected one of `dir`, `max_differences`, `on_finish`"),
        "{message}"
    );
}

/// Issue 10: four mistakes of different kinds in four tables took four runs to find; every one
/// comes out of one run, located, in file order, with the count in the summary line.
#[test]
fn every_mistake_in_the_file_is_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    let config = [
        "[legacy]",
        "cmd = [\"python3\", \"legacy.py\", \"{fixture}\"]",
        "timeout = 30",
        "",
        "[candidate]",
        "cmd = [\"python3\", \"new.py\", \"{output}\"]",
        "",
        "[suites.a]",
        "root = \"fixtures\"",
        "include = [\"*.json\"]",
        "exclud = [\"tmp*\"]",
        "",
        "[[compare]]",
        "output = \"result.json\"",
        "normalize = [{ pattern = \"(unclosed\", replace = \"\" }]",
        "",
        "[[waiver]]",
        "path = \"$.a\"",
        "reason = \"reworded\"",
        "",
    ]
    .join("\n");
    std::fs::write(dir.path().join("parity.toml"), config).unwrap();
    let output = parity()
        .current_dir(dir.path())
        .arg("run")
        .output()
        .unwrap();
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.starts_with("error: invalid configuration (5 errors):\n"),
        "{message}"
    );
    let expected = [
        "parity.toml:3:11: `legacy.timeout` must be a duration",
        "parity.toml:6:29: unknown template variable `{output}`",
        "parity.toml:11:1: unknown key `exclud` in `suites.a`",
        "parity.toml:15:26: invalid regex",
        "parity.toml:17:1: missing key `owner` in `waiver[0]`",
    ];
    let mut rest = message.as_str();
    for line in expected {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("`{line}` (in this order) in:\n{message}"));
        rest = &rest[at + line.len()..];
    }
    assert!(output.stdout.is_empty(), "nothing on stdout");
    assert!(!dir.path().join("reports").exists(), "nothing was run");
}

#[test]
fn a_toml_syntax_error_is_reported_alone() {
    let project = Project::new("[report\nmax_diffs = 3\n");
    let output = project.run(&[]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(message.contains("TOML syntax error"), "{message}");
    assert_eq!(message.matches("parity.toml:").count(), 1, "{message}");
}

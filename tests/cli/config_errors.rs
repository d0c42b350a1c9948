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
            .contains("unknown key `max_diffs` in `report`; expected `dir` or `max_differences`"),
        "{message}"
    );
}

//! `parity init`, `parity completions` and `parity man`: a first parity.toml that loads and runs
//! once its placeholder commands are replaced, never written over an existing one; completion
//! scripts and manual pages generated from the command line's own definition.

use std::path::Path;
use std::process::Output;

use crate::support::{parity, stderr, stdout};

/// Creates `paths` under `dir`: a path ending in `/` is a directory, others files holding `text`.
fn tree(dir: &Path, paths: &[(&str, &str)]) {
    for (path, text) in paths {
        let full = dir.join(path);
        if path.ends_with('/') {
            std::fs::create_dir_all(&full).expect("dir");
        } else {
            std::fs::create_dir_all(full.parent().expect("parent")).expect("dir");
            std::fs::write(&full, text).expect("file");
        }
    }
}

fn parity_in(dir: &Path, args: &[&str]) -> Output {
    parity()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("parity runs")
}

/// Replaces a placeholder command by one that copies the fixture directory into `{out}`.
fn copying_side(config: &str, side: &str) -> String {
    config.replace(
        &format!(r#""TODO-{side}-command", "--input", "{{fixture}}", "--out", "{{out}}""#),
        r#""sh", "-c", "cp -R \"$0\"/. \"$1\"", "{fixture}", "{out}""#,
    )
}

#[test]
fn init_writes_a_config_that_runs_once_its_commands_are_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(
        dir.path(),
        &[
            ("tests/fixtures/a/input.json", r#"{"id": 1}"#),
            ("tests/fixtures/b/input.json", r#"{"id": 2}"#),
        ],
    );
    let init = parity_in(dir.path(), &["init"]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let printed = stdout(&init);
    assert!(printed.contains("suite main: tests/fixtures (2 fixtures, each a directory)"));
    for next in [
        "1. edit parity.toml",
        "2. parity run",
        "3. parity golden record",
    ] {
        assert!(printed.contains(next), "{printed}");
    }
    assert!(printed.contains("reports/latest/report.html"), "{printed}");

    // As written, every command refuses it, pointing at the placeholders' lines.
    let path = dir.path().join("parity.toml");
    let config = std::fs::read_to_string(&path).expect("parity.toml");
    let run = parity_in(dir.path(), &["run"]);
    assert_eq!(run.status.code(), Some(2), "{}", stdout(&run));
    let line = |side: &str| {
        config
            .lines()
            .position(|l| l.starts_with(&format!("cmd = [\"TODO-{side}-command\"")))
            .expect("a placeholder")
            + 1
    };
    let message = stderr(&run);
    assert!(
        message.contains("invalid configuration (2 errors)"),
        "{message}"
    );
    for side in ["legacy", "candidate"] {
        assert!(
            message.contains(&format!(
                "parity.toml:{}:8: replace the placeholder command in `[{side}]`",
                line(side)
            )),
            "{message}"
        );
    }
    let record = parity_in(dir.path(), &["golden", "record"]);
    assert_eq!(record.status.code(), Some(2), "{}", stderr(&record));

    // Filled in: it runs, compares, and writes the reports the summary names.
    std::fs::write(
        &path,
        copying_side(&copying_side(&config, "legacy"), "candidate"),
    )
    .expect("write parity.toml");
    let run = parity_in(dir.path(), &["run"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}{}",
        stdout(&run),
        stderr(&run)
    );
    assert!(stdout(&run).contains("2 cases"), "{}", stdout(&run));
    assert!(dir.path().join("reports/latest/report.html").is_file());
}

#[test]
fn init_never_overwrites_a_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("parity.toml");
    std::fs::write(&path, "# mine\n").expect("write");
    for args in [vec!["init"], vec!["init", "."]] {
        let output = parity_in(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains("parity.toml already exists; parity init never overwrites it"),
            "{}",
            stderr(&output)
        );
        assert_eq!(std::fs::read_to_string(&path).expect("kept"), "# mine\n");
    }
    // Not a dangling symbolic link either: creating the file would write through it.
    let other = tempfile::tempdir().expect("temp dir");
    let target = other.path().join("elsewhere.toml");
    std::os::unix::fs::symlink(&target, other.path().join("parity.toml")).expect("symlink");
    let output = parity_in(other.path(), &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!target.exists());
}

#[test]
fn init_in_a_directory_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = parity_in(dir.path(), &["init", "missing"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read the directory missing"));
}

#[test]
fn init_writes_into_the_directory_it_is_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(dir.path(), &[("project/", "")]);
    let output = parity_in(dir.path(), &["init", "project"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(dir.path().join("project/parity.toml").is_file());
    let printed = stdout(&output);
    assert!(printed.contains("found no fixture directory"), "{printed}");
    assert!(
        printed.contains("parity run --config project/parity.toml"),
        "{printed}"
    );
}

/// The whole file for a tree with a group of suites (one with steps), files of two formats,
/// and directories that must be passed over.
#[test]
fn init_file_for_a_typical_project() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(
        dir.path(),
        &[
            ("examples/shop/fixtures/main/small/orders.json", "{}"),
            ("examples/shop/fixtures/main/large/orders.json", "{}"),
            ("examples/shop/fixtures/main/large/prices.csv", "id\n"),
            ("examples/shop/fixtures/regressions/bug_1/orders.json", "{}"),
            (
                "examples/shop/fixtures/history/week/1-monday/orders.ndjson",
                "{}",
            ),
            (
                "examples/shop/fixtures/history/week/2-tuesday/orders.ndjson",
                "{}",
            ),
            (
                "examples/shop/fixtures/history/month/1-monday/orders.ndjson",
                "{}",
            ),
            ("testdata/one.csv", "id\n"),
            ("testdata/two.csv", "id\n"),
            ("testdata/notes.txt", "notes"),
            ("target/debug/fixtures/a/x.json", "{}"),
            ("node_modules/lib/fixtures/a.json", "{}"),
            (".git/fixtures/a.json", "{}"),
            ("src/main.rs", ""),
        ],
    );
    let output = parity_in(dir.path(), &["init"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(dir.path().join("parity.toml")).expect("parity.toml");
    assert!(
        !text.contains(&*dir.path().to_string_lossy()),
        "no absolute path"
    );
    insta::assert_snapshot!("init_file", text);
    let printed = stdout(&output).replace(&*dir.path().to_string_lossy(), "[dir]");
    insta::assert_snapshot!("init_summary", printed);
}

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

#[test]
fn completions_for_every_shell_know_the_commands() {
    for shell in SHELLS {
        let output = parity()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{shell}: {}",
            stderr(&output)
        );
        let script = stdout(&output);
        assert!(!script.trim().is_empty(), "{shell}");
        for command in ["run", "diff", "golden", "init", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let unknown = parity()
        .args(["completions", "tcsh"])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn bash_accepts_the_bash_completion_script() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = parity()
        .args(["completions", "bash"])
        .output()
        .expect("runs");
    let script = dir.path().join("parity.bash");
    std::fs::write(&script, &output.stdout).expect("write");
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Sourced, it registers a completion for parity.
    let registered = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p parity", script.display()))
        .output()
        .expect("bash runs");
    assert!(
        String::from_utf8_lossy(&registered.stdout).contains("parity"),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
}

#[test]
fn man_prints_a_page_and_writes_one_per_command() {
    let output = parity().arg("man").output().expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(page.starts_with(".ie"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains(".TH parity 1"), "a section-1 page");
    for command in ["run", "diff", "golden", "init", "completions"] {
        assert!(
            page.contains(&format!("parity\\-{command}(1)")),
            "{command}"
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let written = parity()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    for page in [
        "parity.1",
        "parity-run.1",
        "parity-golden-record.1",
        "parity-init.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
}

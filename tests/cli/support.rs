//! A throwaway project: a parity.toml whose sides run `tests/helpers/side.py`, and fixtures that
//! tell each side how to behave.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

pub fn helper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/side.py")
}

pub fn parity() -> Command {
    let mut command = Command::cargo_bin("parity").expect("the parity binary is built");
    // CI decides whether goldens may be written: tests that care set it themselves.
    command
        .env_remove("PARITY_CONFIG")
        .env_remove("CI")
        .env("NO_COLOR", "1");
    command
}

pub struct Project {
    pub dir: TempDir,
}

impl Project {
    /// A project with the helper as both sides and `extra` appended to parity.toml.
    pub fn new(extra: &str) -> Self {
        Self::with_sides("20s", extra)
    }

    pub fn with_sides(timeout: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let helper = helper();
        let side = |name: &str| {
            format!(
                "[{name}]\ncmd = [\"python3\", {:?}, \"{{out}}\", \"from\", \"{{fixture}}\", \"{name}\"]\ntimeout = \"{timeout}\"\n",
                helper.to_string_lossy()
            )
        };
        let config = format!(
            "{}{}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*.json\"]\n\n[[compare]]\noutput = \"result.json\"\nformat = \"json\"\n{extra}",
            side("legacy"),
            side("candidate")
        );
        std::fs::create_dir(dir.path().join("fixtures")).expect("fixtures dir");
        std::fs::write(dir.path().join("parity.toml"), config).expect("write config");
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A fixture telling each side what to do: `["json", "{...}"]`, `["crash", "3"]`, …
    pub fn fixture(&self, id: &str, legacy: &[&str], candidate: &[&str]) -> &Self {
        let spec = serde_json::json!({ "legacy": legacy, "candidate": candidate });
        std::fs::write(
            self.path().join("fixtures").join(format!("{id}.json")),
            spec.to_string(),
        )
        .expect("fixture");
        self
    }

    pub fn run(&self, args: &[&str]) -> Output {
        parity()
            .current_dir(self.path())
            .arg("run")
            .args(args)
            .output()
            .expect("parity runs")
    }

    /// Any parity command in the project's directory.
    pub fn parity(&self, args: &[&str]) -> Output {
        parity()
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("parity runs")
    }

    /// Rewrites parity.toml with `edit`.
    pub fn edit_config(&self, edit: impl FnOnce(String) -> String) {
        let path = self.path().join("parity.toml");
        let text = std::fs::read_to_string(&path).expect("parity.toml");
        std::fs::write(&path, edit(text)).expect("write parity.toml");
    }

    pub fn results(&self) -> Value {
        let text = std::fs::read_to_string(self.path().join("reports/latest/results.json"))
            .expect("results.json exists");
        serde_json::from_str(&text).expect("results.json is JSON")
    }

    pub fn report_md(&self) -> String {
        std::fs::read_to_string(self.path().join("reports/latest/report.md"))
            .expect("report.md exists")
    }

    /// The outcome of one fixture in results.json.
    pub fn case(&self, id: &str) -> Value {
        case_in(&self.results(), id)
    }
}

/// The outcome of fixture `id` (`id.json`) in a results.json.
#[track_caller]
pub fn case_in(results: &Value, id: &str) -> Value {
    results["cases"]
        .as_array()
        .and_then(|cases| {
            cases
                .iter()
                .find(|c| c["fixture"] == format!("{id}.json"))
                .cloned()
        })
        .unwrap_or_else(|| panic!("no case {id} in {results}"))
}

/// One compared output of a case in results.json, by name (`exit`, `stdout`, `result.json`).
pub fn output_of<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["outputs"]
        .as_array()
        .and_then(|outputs| outputs.iter().find(|o| o["output"] == name))
        .unwrap_or_else(|| panic!("no output {name} in {case}"))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it is wrong.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    );
}

/// True while a process exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

pub fn read_pids(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Writes `text` to `dir/name` (parents created) and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("parent dir");
    }
    std::fs::write(&path, text).expect("write file");
    path.to_string_lossy().into_owned()
}

/// `parity diff ARGS --output json`: the process output and the parsed report (`null` when
/// stdout is not JSON).
pub fn diff_json(args: &[&str]) -> (Output, Value) {
    let output = parity()
        .arg("diff")
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("parity runs");
    let parsed = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, parsed)
}

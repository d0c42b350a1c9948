//! Pipelines, not just programs: resuming an interrupted run, scenario fixtures whose steps
//! carry state, stage-aligned comparison, a suite's own legacy, the on_finish hook. Sides are
//! small shell scripts (`$1` = `{out}`, `$2` = `{fixture}`, then whatever the test passes), and
//! every side appends what it ran to `runs.log` so a test can say what ran and how often.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{assert_exit, parity, stderr};

/// A project whose sides are shell scripts.
struct Shell {
    dir: TempDir,
}

impl Shell {
    /// `config` is parity.toml; `{SIDE:script}` stands for a side table running `script` with
    /// `$1` = `{out}`, `$2` = `{fixture}`, `$3` = the side's name.
    fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("parity.toml"), config).expect("config");
        Shell { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> &Self {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
        self
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        parity()
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("parity runs")
    }

    fn spawn(&self, args: &[&str]) -> Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("parity"))
            .current_dir(self.path())
            .args(args)
            .env_remove("CI")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("parity starts")
    }

    fn results(&self) -> Value {
        let text = std::fs::read_to_string(self.path().join("reports/latest/results.json"))
            .expect("results.json");
        serde_json::from_str(&text).expect("JSON")
    }

    /// The lines of runs.log.
    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.path().join("runs.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits until runs.log has a line equal to `line`.
    fn wait_for_log(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.log().iter().any(|l| l == line) {
            assert!(Instant::now() < deadline, "no `{line}` in {:?}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A side table running `script` through `sh -c`.
fn side(name: &str, script: &str) -> String {
    format!(
        "[{name}]\ncmd = [\"sh\", \"-c\", '''{script}''', \"side\", \"{{out}}\", \"{{fixture}}\", \"{name}\"]\ntimeout = \"30s\"\n"
    )
}

fn fixtures_of(results: &Value, key: &str) -> Vec<String> {
    results[key]
        .as_array()
        .map(|cases| {
            cases
                .iter()
                .map(|c| c["fixture"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Logs the run, then writes the fixture's name; `slow` fixtures wait while the file `hold`
/// exists (so the same configuration is slow on the first run and quick when resumed).
const LOGGED: &str = r#"echo "$3 $(basename "$2")" >> runs.log
case "$2" in *slow*) while [ -e hold ]; do sleep 0.05; done;; esac
echo "{\"fixture\": \"$(basename "$2")\"}" > "$1/result.json""#;

fn resumable() -> Shell {
    let config = format!(
        "{}{}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*.json\"]\n",
        side("legacy", LOGGED),
        side("candidate", LOGGED)
    );
    let project = Shell::new(&config);
    for id in ["a", "b", "c", "d-slow", "e", "f"] {
        project.write(&format!("fixtures/{id}.json"), "{}");
    }
    project.write("hold", "");
    project
}

/// Interrupts a run with `signal` while it waits on `d-slow` (a, b and c finished).
fn interrupt(project: &Shell, signal: libc::c_int) {
    let mut child = project.spawn(&["run", "--jobs", "1"]);
    project.wait_for_log("legacy d-slow.json");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(child.wait().expect("parity ends").code(), Some(2));
    let results = project.results();
    assert_eq!(results["interrupted"], true);
    assert_eq!(
        fixtures_of(&results, "cases"),
        ["a.json", "b.json", "c.json"]
    );
    assert_eq!(
        fixtures_of(&results, "not_run"),
        ["d-slow.json", "e.json", "f.json"]
    );
}

#[test]
fn resume_after_sigint_or_sigterm_runs_only_what_did_not_finish() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let project = resumable();
        interrupt(&project, signal);
        let first = project.results();
        std::fs::remove_file(project.path().join("hold")).expect("release the slow fixture");
        let output = project.run(&["run", "--resume", "--jobs", "1"]);
        assert_exit(&output, 0);
        assert!(
            stderr(&output).contains("3 of 6 cases kept"),
            "{}",
            stderr(&output)
        );
        let log = project.log();
        for finished in ["a.json", "b.json", "c.json"] {
            let runs = log.iter().filter(|l| l.ends_with(&format!(" {finished}")));
            assert_eq!(runs.count(), 2, "{finished} ran again: {log:?}");
        }
        for rest in ["e.json", "f.json"] {
            let runs = log.iter().filter(|l| l.ends_with(&format!(" {rest}")));
            assert_eq!(runs.count(), 2, "{rest}: {log:?}");
        }
        let results = project.results();
        assert_eq!(results["interrupted"], false);
        assert_eq!(
            fixtures_of(&results, "cases"),
            [
                "a.json",
                "b.json",
                "c.json",
                "d-slow.json",
                "e.json",
                "f.json"
            ]
        );
        assert!(results.get("not_run").is_none(), "{results}");
        assert_eq!(results["started_at"], first["started_at"]);
        assert_eq!(results["summary"]["exit_code"], 0);
        assert_eq!(results["summary"]["cases"], 6);
        // The kept cases are the stopped run's own records.
        assert_eq!(results["cases"][0], first["cases"][0]);
    }
}

#[test]
fn resume_refuses_a_changed_configuration_or_selection() {
    let project = resumable();
    interrupt(&project, libc::SIGINT);
    let output = project.run(&["run", "--resume", "--fixture", "a*"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("cannot resume"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("fixture a*"),
        "{}",
        stderr(&output)
    );
    let config = project.path().join("parity.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("30s", "31s")).expect("edit");
    let output = project.run(&["run", "--resume"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("changed since"),
        "{}",
        stderr(&output)
    );
    // Nothing ran: the refusal comes before any side.
    assert_eq!(project.log().len(), 7, "{:?}", project.log());
}

#[test]
fn resume_without_an_earlier_run_runs_everything() {
    let project = resumable();
    std::fs::remove_file(project.path().join("hold")).expect("no hold");
    let output = project.run(&["run", "--resume"]);
    assert_exit(&output, 0);
    assert!(
        stderr(&output).contains("nothing to resume"),
        "{}",
        stderr(&output)
    );
    assert_eq!(project.results()["summary"]["cases"], 6);
}

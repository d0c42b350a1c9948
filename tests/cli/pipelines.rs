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

/// A project whose sides are shell scripts (see [`side`]).
struct Shell {
    dir: TempDir,
}

impl Shell {
    /// A project with `config` as parity.toml.
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

/// A side table running `script` through `sh -c`: `$1` = `{out}`, `$2` = `{fixture}`, `$3` =
/// the side (`legacy`, `candidate`; the last part of `table`), `$4` = `{state}`, `$5` = `{step}`.
fn side(table: &str, script: &str) -> String {
    let name = table.rsplit('.').next().unwrap_or(table);
    format!(
        "[{table}]\ncmd = [\"sh\", \"-c\", '''{script}''', \"side\", \"{{out}}\", \"{{fixture}}\", \"{name}\", \"{{state}}\", \"{{step}}\"]\ntimeout = \"30s\"\n"
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

/// Lets the slow fixture finish and resumes: the three cases finished before the stop are kept,
/// never run again.
fn resume_the_rest(project: &Shell) {
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
}

#[test]
fn resume_after_sigint_or_sigterm_runs_only_what_did_not_finish() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let project = resumable();
        interrupt(&project, signal);
        let first = project.results();
        resume_the_rest(&project);
        let log = project.log();
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
fn resume_after_sigkill_keeps_what_the_journal_holds() {
    let project = resumable();
    let mut child = project.spawn(&["run", "--jobs", "1"]);
    project.wait_for_log("legacy d-slow.json");
    let journal = project.path().join("reports/latest/outputs/journal.ndjson");
    let deadline = Instant::now() + Duration::from_secs(20);
    // The header and the three cases judged before d-slow.
    while std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count()) < 4 {
        assert!(Instant::now() < deadline, "journal: {journal:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("parity ends");
    assert!(
        !project.path().join("reports/latest/results.json").exists(),
        "a killed parity writes nothing at the end"
    );
    resume_the_rest(&project);
    let results = project.results();
    assert_eq!(results["summary"]["cases"], 6);
    assert_eq!(results["interrupted"], false);
    // Killed again while resuming, then resumed again: the journal keeps every case so far.
    let output = project.run(&["run", "--resume", "--jobs", "1"]);
    assert_exit(&output, 0);
    assert!(
        stderr(&output).contains("6 of 6 cases kept"),
        "{}",
        stderr(&output)
    );
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

/// A scenario side: logs `SIDE STEP`, fails (exit 5) at any step after the first when the
/// state the first left is missing, counts its runs in the state, and writes the step and the
/// count. `FAIL_AT` in the environment names a step at which it exits 3 instead.
const STATEFUL: &str = r#"step=$(basename "$2"); echo "$3 $step" >> runs.log
[ "$step" = "$5" ] || { echo "{step} is $5, not $step" >&2; exit 6; }
case "$step" in 1-*) ;; *) [ -f "$4/count" ] || { echo "no state from step 1 in $4" >&2; exit 5; };; esac
[ "$step" = "${FAIL_AT:-}" ] && { echo "cannot go on" >&2; exit 3; }
n=$(( $(cat "$4/count" 2>/dev/null || echo 0) + 1 )); echo $n > "$4/count"
echo "{\"step\": \"$step\", \"runs\": $n}" > "$1/result.json""#;

/// A project with one scenario suite `history` of fixture `week` (steps 1-base, 2-override,
/// 3-fix), both sides [`STATEFUL`], and `extra` appended to parity.toml.
fn scenario(candidate_env: &str, extra: &str) -> Shell {
    let candidate = side("candidate", STATEFUL).replace(
        "timeout = \"30s\"\n",
        &format!("timeout = \"30s\"\nenv = {{ {candidate_env} }}\n"),
    );
    let config = format!(
        "{}{candidate}\n[suites.history]\nroot = \"fixtures\"\ninclude = [\"*/\"]\nsteps = \"*/\"\n{extra}",
        side("legacy", STATEFUL),
    );
    let project = Shell::new(&config);
    for step in ["1-base", "2-override", "3-fix"] {
        project.write(&format!("fixtures/week/{step}/input.json"), "{}");
    }
    project
}

fn steps_of(case: &Value) -> Vec<(String, String)> {
    case["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            let verdict = s["verdict"]["kind"]
                .as_str()
                .map_or_else(|| format!("blocked by {}", s["blocked_by"]), str::to_owned);
            (s["step"].as_str().unwrap_or("").to_owned(), verdict)
        })
        .collect()
}

#[test]
fn a_scenario_carries_each_sides_state_across_its_steps() {
    let project = scenario("", "");
    let output = project.run(&["run", "--jobs", "1"]);
    assert_exit(&output, 0);
    let results = project.results();
    let case = &results["cases"][0];
    assert_eq!(case["fixture"], "week");
    assert_eq!(
        steps_of(case),
        [
            ("1-base".to_owned(), "identical".to_owned()),
            ("2-override".to_owned(), "identical".to_owned()),
            ("3-fix".to_owned(), "identical".to_owned()),
        ]
    );
    // Each step saw the state of the ones before it: the third run of each side counted 3.
    let third = &case["steps"][2]["outputs"];
    assert!(third.as_array().is_some_and(|o| !o.is_empty()), "{case}");
    assert_eq!(
        project.log(),
        [
            "legacy 1-base",
            "candidate 1-base",
            "legacy 2-override",
            "candidate 2-override",
            "legacy 3-fix",
            "candidate 3-fix"
        ]
    );
    // The case's runs are the steps' runs summed.
    let walls: f64 = case["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["candidate"]["wall_ms"].as_f64().unwrap_or(0.0))
        .sum();
    let total = case["candidate"]["wall_ms"].as_f64().unwrap_or(0.0);
    assert!((walls - total).abs() < 1e-6, "{walls} vs {total}");
    // A second run starts from empty states again (nothing leaks between runs).
    assert_exit(&project.run(&["run"]), 0);
}

#[test]
fn a_side_failing_at_a_step_blocks_its_later_steps() {
    let project = scenario("FAIL_AT = \"2-override\"", "");
    let output = project.run(&["run"]);
    assert_exit(&output, 1);
    let results = project.results();
    let case = &results["cases"][0];
    assert_eq!(case["verdict"]["kind"], "candidate-failed");
    assert_eq!(
        steps_of(case),
        [
            ("1-base".to_owned(), "identical".to_owned()),
            ("2-override".to_owned(), "candidate-failed".to_owned()),
            ("3-fix".to_owned(), "blocked by \"2-override\"".to_owned()),
        ]
    );
    assert!(
        !project.log().iter().any(|l| l.ends_with("3-fix")),
        "step 3 ran: {:?}",
        project.log()
    );
    let out = crate::support::stdout(&output);
    assert!(
        out.contains("steps: 1-base identical · 2-override candidate-failed"),
        "{out}"
    );
    assert!(
        out.contains("3-fix blocked (a side failed at 2-override)"),
        "{out}"
    );
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    assert!(
        report.contains("| `3-fix` | ❌ blocked") || report.contains("| `3-fix` | blocked"),
        "{report}"
    );
}

#[test]
fn a_scenario_has_a_golden_per_step_and_is_gated_by_them() {
    let project = scenario("", "");
    let output = project.run(&["golden", "record"]);
    assert_exit(&output, 0);
    for step in ["1-base", "2-override", "3-fix"] {
        let provenance = project
            .path()
            .join(format!("golden/history/week/{step}/provenance.json"));
        let text = std::fs::read_to_string(&provenance).expect("a golden per step");
        assert!(text.contains(&format!("\"step\": \"{step}\"")), "{text}");
    }
    assert_exit(&project.run(&["golden", "check"]), 0);
    let output = project.run(&["run", "--against", "golden"]);
    assert_exit(&output, 0);
    let results = project.results();
    let case = &results["cases"][0];
    assert_eq!(case["against"], serde_json::json!(["golden"]));
    assert_eq!(
        case["steps"][1]["golden"]["path"],
        "golden/history/week/2-override"
    );
    // The candidate diverging at step 3 only is caught by step 3's golden.
    let config = project.path().join("parity.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("env = {  }", "env = { EXTRA = \"1\" }")
            .replacen(
                "echo $n > \"$4/count\"\n",
                "echo $n > \"$4/count\"\n[ -n \"${EXTRA:-}\" ] && [ \"$step\" = 3-fix ] && n=9\n",
                2,
            ),
    )
    .expect("edit");
    let output = project.run(&["run", "--against", "golden"]);
    assert_exit(&output, 1);
    let case = &project.results()["cases"][0];
    assert_eq!(
        steps_of(case),
        [
            ("1-base".to_owned(), "equivalent".to_owned()),
            ("2-override".to_owned(), "equivalent".to_owned()),
            ("3-fix".to_owned(), "different".to_owned()),
        ]
    );
}

#[test]
fn a_suite_runs_its_own_legacy() {
    let config = format!(
        "{}{}\n[suites.scanners]\nroot = \"scanners\"\ninclude = [\"*.json\"]\n\n[suites.feed]\nroot = \"feed\"\ninclude = [\"*.json\"]\n{}",
        side(
            "legacy",
            r#"echo "$3 scanners" >> runs.log; echo '{"n": 1}' > "$1/result.json""#
        ),
        side(
            "candidate",
            r#"echo "$3" >> runs.log; echo '{"n": 1}' > "$1/result.json""#
        ),
        side(
            "suites.feed.legacy",
            r#"echo "$3 feed" >> runs.log; echo '{"n": 1}' > "$1/result.json""#
        ),
    );
    let project = Shell::new(&config);
    project
        .write("scanners/a.json", "{}")
        .write("feed/b.json", "{}");
    let output = project.run(&["run"]);
    assert_exit(&output, 0);
    let mut log = project.log();
    log.sort();
    assert_eq!(
        log,
        ["candidate", "candidate", "legacy feed", "legacy scanners"]
    );
    let results = project.results();
    let feed = results["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["suite"] == "feed")
        .expect("feed case");
    let argv = feed["legacy"]["argv"].to_string();
    assert!(argv.contains("$3 feed"), "{argv}");
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    assert!(report.contains("suite `feed`: its own legacy"), "{report}");
}

#[test]
fn calibrate_compares_each_step_with_the_same_step_of_the_first_run() {
    let project = scenario("", "");
    let output = project.run(&["calibrate", "--runs", "2", "--format", "json"]);
    assert_exit(&output, 0);
    let text = crate::support::stdout(&output);
    for step in ["1-base", "2-override", "3-fix"] {
        assert!(
            text.contains(&format!("history/week (step {step})")),
            "{text}"
        );
    }
    // Each pass ran the whole scenario from empty states: 2 passes × 3 steps × 2 sides.
    assert_eq!(project.log().len(), 12, "{:?}", project.log());
}

#[test]
fn bench_measures_each_step_from_the_state_the_steps_before_it_leave() {
    let project = scenario("", "");
    let output = project.run(&[
        "bench",
        "--runs",
        "2",
        "--max-runs",
        "2",
        "--warmup",
        "0",
        "--seed",
        "7",
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "{}",
        stderr(&output)
    );
    let results = project.results();
    let case = &results["cases"][0];
    for (k, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let pairs = step["bench"]["valid_pairs"].as_u64().unwrap_or(0);
        assert_eq!(pairs, 2, "step {k}: {step}");
    }
    // Had a measured run of step 3 started from an empty state, the side would have failed
    // (exit 5) and the pair been invalid. Runs: the judged scenario (6), then per pair of step
    // k both sides replay the k steps before it: 2 pairs × 2 sides × (1 + 2 + 3) = 24.
    assert_eq!(project.log().len(), 6 + 24, "{:?}", project.log());
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    assert!(report.contains("`history/week (step 3-fix)`"), "{report}");
}

/// Stage files of a diamond (A, then B and C after A, then D after both) and a final output;
/// the legacy writes them under `stages/`, the candidate under `ckpt/`. `BUGS` (letters) makes
/// a stage compute a wrong value, which every stage after it and the final output inherit.
/// (No `}}` in the script: in a command template it stands for one literal brace.)
const DIAMOND: &str = r#"dir=stages; [ "$3" = candidate ] && dir=ckpt; mkdir -p "$1/$dir"
bug() { case "${BUGS:-}" in *$1*) echo 100;; *) echo 0;; esac; }
a=$((1 + $(bug A))); b=$((a + 1 + $(bug B))); c=$((a + 2 + $(bug C))); d=$((b + c + $(bug D)))
for s in A:$a B:$b C:$c D:$d; do echo "{\"value\": ${s#*:} }" > "$1/$dir/${s%%:*}.json"; done
echo "{\"total\": $((d * 10))}" > "$1/result.json""#;

fn diamond(bugs: &str) -> Shell {
    let candidate = side("candidate", DIAMOND).replace(
        "timeout = \"30s\"\n",
        &format!("timeout = \"30s\"\nenv = {{ BUGS = \"{bugs}\" }}\n"),
    );
    let mut stages = String::new();
    for (name, after) in [
        ("A", "[]"),
        ("B", "[\"A\"]"),
        ("C", "[\"A\"]"),
        ("D", "[\"B\", \"C\"]"),
    ] {
        stages.push_str(&format!(
            "\n[[stage]]\nname = \"{name}\"\nafter = {after}\nlegacy = \"stages/{name}.json\"\ncandidate = \"ckpt/{name}.json\"\nformat = \"json\"\n"
        ));
    }
    let config = format!(
        "{}{candidate}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*.json\"]\n{stages}",
        side("legacy", DIAMOND),
    );
    let project = Shell::new(&config);
    project.write("fixtures/case.json", "{}");
    project
}

fn stage_statuses(case: &Value) -> Vec<String> {
    case["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| match s["blocked_by"].as_str() {
            Some(by) => format!(
                "{} {} by {by}",
                s["name"].as_str().unwrap_or(""),
                s["status"].as_str().unwrap_or("")
            ),
            None => format!(
                "{} {}",
                s["name"].as_str().unwrap_or(""),
                s["status"].as_str().unwrap_or("")
            ),
        })
        .collect()
}

#[test]
fn stages_that_agree_pass_and_are_not_compared_again_as_files() {
    let project = diamond("");
    let output = project.run(&["run"]);
    assert_exit(&output, 0);
    let results = project.results();
    let case = &results["cases"][0];
    assert_eq!(
        stage_statuses(case),
        ["A agree", "B agree", "C agree", "D agree"]
    );
    assert_eq!(case["first_divergence"], Value::Null);
    let names: Vec<&str> = case["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|o| o["output"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "exit",
            "stage:A",
            "stage:B",
            "stage:C",
            "stage:D",
            "result.json"
        ],
        "stage files are neither missing nor extra files"
    );
}

#[test]
fn the_first_divergent_stage_in_a_diamond_blocks_what_follows_from_it() {
    let project = diamond("B");
    let output = project.run(&["run"]);
    assert_exit(&output, 1);
    let results = project.results();
    let case = &results["cases"][0];
    assert_eq!(
        stage_statuses(case),
        ["A agree", "B diverged", "C agree", "D blocked by B"]
    );
    assert_eq!(case["first_divergence"], "B");
    let result = crate::support::output_of(case, "result.json");
    assert_eq!(result["blocked_by"], "B");
    assert_eq!(result["status"], "different");
    // Causes: B's difference only; D's and the final output's are consequences.
    let clusters: Vec<&str> = results["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .filter_map(|c| c["output"].as_str())
        .collect();
    assert_eq!(clusters, ["stage:B"]);
    let out = crate::support::stdout(&output);
    assert!(
        out.contains("first divergence: B (1 difference); 1 later stage and 1 output blocked"),
        "{out}"
    );
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    assert!(
        report
            .contains("**first divergence: B (1 difference); 1 later stage and 1 output blocked**"),
        "{report}"
    );
    assert!(report.contains("| `D` | blocked | `B` | 1 |"), "{report}");
    assert!(
        report.contains("blocked by `B`: consequences, not causes"),
        "{report}"
    );
}

#[test]
fn two_stages_diverging_on_their_own_are_both_causes() {
    let project = diamond("BC");
    assert_exit(&project.run(&["run"]), 1);
    let results = project.results();
    let case = &results["cases"][0];
    assert_eq!(
        stage_statuses(case),
        ["A agree", "B diverged", "C diverged", "D blocked by B"]
    );
    assert_eq!(case["first_divergence"], "B");
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md"))
        .expect("report.md");
    assert!(report.contains("also diverged on its own: C"), "{report}");
}

#[test]
fn a_divergence_at_the_root_blocks_every_stage_after_it() {
    let project = diamond("A");
    assert_exit(&project.run(&["run"]), 1);
    let case = &project.results()["cases"][0];
    assert_eq!(
        stage_statuses(case),
        [
            "A diverged",
            "B blocked by A",
            "C blocked by A",
            "D blocked by A"
        ]
    );
}

#[test]
fn stages_compare_with_goldens_recorded_from_the_legacy() {
    let project = diamond("");
    assert_exit(&project.run(&["golden", "record"]), 0);
    assert!(
        project
            .path()
            .join("golden/main/case.json/out/stages/B.json")
            .is_file()
    );
    assert_exit(&project.run(&["run", "--against", "golden"]), 0);
    let case = &project.results()["cases"][0];
    assert_eq!(
        stage_statuses(case),
        ["A agree", "B agree", "C agree", "D agree"]
    );
}

#[test]
fn on_finish_is_told_the_result_and_its_failure_never_changes_the_exit_code() {
    let hook = r#"[report]
on_finish = ["sh", "-c", 'echo "$PARITY_EXIT_CODE $PARITY_VERDICT $PARITY_REPORT_DIR" > hook.txt; test -f "$PARITY_RESULTS"']
"#;
    let project = diamond("B");
    let config = project.path().join("parity.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{text}\n{hook}")).expect("config");
    let output = project.run(&["run"]);
    assert_exit(&output, 1);
    let told = std::fs::read_to_string(project.path().join("hook.txt")).expect("the hook ran");
    let report_dir = project.path().join("reports/latest");
    assert_eq!(told.trim(), format!("1 fail {}", report_dir.display()));
    assert!(
        !stderr(&output).contains("warning: on_finish"),
        "{}",
        stderr(&output)
    );

    // A hook that fails, or cannot start, is a warning; the verdict stands.
    for broken in ["[\"sh\", \"-c\", \"exit 7\"]", "[\"/nonexistent/hook\"]"] {
        std::fs::write(&config, format!("{text}\n[report]\non_finish = {broken}\n"))
            .expect("config");
        let output = project.run(&["run"]);
        assert_exit(&output, 1);
        assert!(
            stderr(&output).contains("warning: on_finish"),
            "{}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("the run's result stands"),
            "{}",
            stderr(&output)
        );
    }
    let passing = diamond("");
    let config = passing.path().join("parity.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!("{text}\n[report]\non_finish = [\"sh\", \"-c\", \"exit 3\"]\n"),
    )
    .expect("config");
    assert_exit(&passing.run(&["run"]), 0);
}

//! `parity minimize`: the bundled example's regression shrunk to what triggers its bug, and
//! small projects whose sides are shell scripts (`$1` = `{out}`, `$2` = `{fixture}`) with a bug
//! on one chosen record: minimised to exactly that record, a side that crashes another way not
//! taken for the same failure, an input that cannot shrink, and the refusals (exit 2).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{assert_exit, parity, stderr, stdout};

/// A project whose sides are shell scripts over file fixtures in `fixtures/`.
struct Shell {
    dir: TempDir,
}

/// A side table running `script` through `sh -c`: `$1` = `{out}`, `$2` = `{fixture}`.
fn side(table: &str, script: &str) -> String {
    format!(
        "[{table}]\ncmd = [\"sh\", \"-c\", '''{script}''', \"side\", \"{{out}}\", \"{{fixture}}\"]\ntimeout = \"30s\"\n"
    )
}

impl Shell {
    /// Both sides copy the fixture to `out.ndjson`, the candidate through `candidate`, a
    /// filter of stdin to stdout; rows are matched by `n`.
    fn new(candidate: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "{}{}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*.ndjson\"]\n\n\
             [[compare]]\noutput = \"out.ndjson\"\nformat = \"ndjson\"\nkey = [\"n\"]\n",
            side("legacy", r#"cat "$2" > "$1/out.ndjson""#),
            side(
                "candidate",
                &format!(r#"cat "$2" | {{ {candidate}; }} > "$1/out.ndjson""#)
            ),
        );
        std::fs::write(dir.path().join("parity.toml"), config).expect("config");
        std::fs::create_dir(dir.path().join("fixtures")).expect("fixtures");
        Shell { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `fixtures/data.ndjson` with records `n` = 0..count.
    fn records(&self, count: usize) -> &Self {
        let lines: String = (0..count)
            .map(|n| format!("{{\"n\": {n}, \"state\": \"open\"}}\n"))
            .collect();
        std::fs::write(self.path().join("fixtures/data.ndjson"), lines).expect("fixture");
        self
    }

    fn parity(&self, args: &[&str]) -> Output {
        parity()
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("parity runs")
    }

    /// `parity run` into `run/`, failing as expected.
    fn run(&self) {
        assert_exit(&self.parity(&["run", "--out", "run"]), 1);
    }

    fn minimize(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "minimize",
            "run/results.json",
            "main/data.ndjson",
            "--out",
            "min",
        ];
        if !extra.contains(&"--jobs") {
            args.extend(["--jobs", "2"]);
        }
        args.extend_from_slice(extra);
        self.parity(&args)
    }

    fn minimized(&self) -> String {
        std::fs::read_to_string(self.path().join("min/data.ndjson")).expect("minimized fixture")
    }

    fn report(&self) -> Value {
        let text =
            std::fs::read_to_string(self.path().join("min/minimize.json")).expect("minimize.json");
        serde_json::from_str(&text).expect("JSON")
    }
}

/// The candidate gets record 137's state wrong.
const WRONG_137: &str = r#"sed 's/"n": 137, "state": "open"/"n": 137, "state": "closed"/'"#;

#[test]
fn one_bad_record_among_200_is_minimized_to_that_line() {
    let project = Shell::new(WRONG_137);
    project.records(200).run();
    let output = project.minimize(&[]);
    assert_exit(&output, 0);
    assert_eq!(project.minimized(), "{\"n\": 137, \"state\": \"open\"}\n");
    let summary = stdout(&output);
    let first = summary.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("200 → 1 record in ")
            && first.ends_with(" runs (cluster: out.ndjson $[*].state changed)"),
        "{summary}"
    );
    assert!(summary.contains("1-minimal"), "{summary}");
    // Not a terminal: progress lines, each reduction on its own.
    assert!(
        stderr(&output).contains("minimize: 200 → 100 records"),
        "{}",
        stderr(&output)
    );
    let entry = &project.report()["fixtures"]["data.ndjson"];
    assert_eq!(entry["case"], "main/data.ndjson");
    assert_eq!(entry["original_records"], 200);
    assert_eq!(entry["records"], 1);
    assert_eq!(entry["stop"], "minimal");
    assert_eq!(entry["kept"], "cluster: out.ndjson $[*].state changed");
    // Halving down to one record and checking it is needed: about 2 log2(200) runs.
    let runs = entry["runs"].as_u64().unwrap_or(u64::MAX);
    assert!(runs <= 20, "{runs} runs");
    // No run's outputs are left behind.
    assert!(!project.path().join("min/outputs").exists());
}

#[test]
fn a_side_that_fails_another_way_is_another_failure() {
    // Exit 3 with record 42, exit 4 with record 7 alone: only inputs holding 42 fail alike.
    let project = Shell::new(
        r#"input=$(cat); case "$input" in *'"n": 42,'*) exit 3;; *'"n": 7,'*) exit 4;; esac; printf '%s\n' "$input""#,
    );
    project.records(50).run();
    let output = project.minimize(&[]);
    assert_exit(&output, 0);
    assert_eq!(project.minimized(), "{\"n\": 42, \"state\": \"open\"}\n");
    assert!(
        stdout(&output).contains("(verdict: candidate-failed (candidate exit 3))")
            || stdout(&output).contains("(cluster: "),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        project.report()["fixtures"]["data.ndjson"]["verdict"],
        "candidate-failed"
    );
}

#[test]
fn an_input_that_cannot_shrink_is_written_as_it_is_with_exit_1() {
    // The candidate is wrong only when it reads exactly three records.
    let project = Shell::new(
        r#"input=$(cat); if [ "$(printf '%s\n' "$input" | wc -l)" -eq 3 ]; then printf '%s\n' "$input" | sed 's/open/closed/'; else printf '%s\n' "$input"; fi"#,
    );
    project.records(3).run();
    let output = project.minimize(&[]);
    assert_exit(&output, 1);
    let original =
        std::fs::read_to_string(project.path().join("fixtures/data.ndjson")).expect("original");
    assert_eq!(project.minimized(), original);
    assert!(
        stdout(&output).starts_with("3 → 3 records in "),
        "{}",
        stdout(&output)
    );
    // An occupied destination is refused, then replaced with --force.
    let again = project.minimize(&[]);
    assert_exit(&again, 2);
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_exit(&project.minimize(&["--force"]), 1);
}

#[test]
fn the_budget_writes_the_smallest_failing_input_so_far() {
    let project = Shell::new(WRONG_137);
    project.records(200).run();
    let output = project.minimize(&["--max-runs", "3", "--jobs", "1"]);
    assert_exit(&output, 0);
    let entry = &project.report()["fixtures"]["data.ndjson"];
    assert_eq!(entry["stop"], "max-runs");
    assert_eq!(entry["runs"], 3);
    assert_eq!(entry["records"], 100);
    assert!(project.minimized().contains("\"n\": 137,"));
    assert!(
        stdout(&output).contains("--max-runs"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn what_cannot_be_minimized_is_refused_with_exit_2() {
    let project = Shell::new(WRONG_137);
    project.records(200).run();
    let refused = |args: &[&str], says: &str| {
        let output = project.parity(args);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains(says),
            "{says}: {}",
            stderr(&output)
        );
        assert!(!project.path().join("min").exists());
    };
    refused(
        &[
            "minimize",
            "run/results.json",
            "main/nope.ndjson",
            "--out",
            "min",
        ],
        "its cases are: `main/data.ndjson`",
    );
    refused(
        &[
            "minimize",
            "run/results.json",
            "data.ndjson",
            "--out",
            "min",
            "--cluster",
            "2",
        ],
        "1. out.ndjson $[*].state changed (1 difference)",
    );
    // A case that passed has nothing to keep.
    project.records(100);
    assert_exit(&project.parity(&["run", "--out", "passed"]), 0);
    refused(
        &[
            "minimize",
            "passed/results.json",
            "data.ndjson",
            "--out",
            "min",
        ],
        "it passed (identical)",
    );
    // A configuration edited since the run.
    let config = project.path().join("parity.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("30s", "31s")).expect("edit");
    refused(
        &[
            "minimize",
            "run/results.json",
            "data.ndjson",
            "--out",
            "min",
        ],
        "another configuration",
    );
}

#[test]
fn a_scenario_keeps_its_steps_and_the_record_of_the_step_that_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = r#"cat "$2/data.ndjson" > "$1/out.ndjson""#;
    let wrong = format!(r#"cat "$2/data.ndjson" | {WRONG_137} > "$1/out.ndjson""#);
    let config = format!(
        "{}{}\n[suites.nightly]\nroot = \"fixtures\"\ninclude = [\"*/\"]\nsteps = \"*/\"\n\n\
         [[compare]]\noutput = \"out.ndjson\"\nformat = \"ndjson\"\nkey = [\"n\"]\n",
        side("legacy", copy),
        side("candidate", &wrong)
    );
    std::fs::write(dir.path().join("parity.toml"), config).expect("config");
    for (step, range) in [("1-monday", 0..60), ("2-tuesday", 100..160)] {
        let step_dir = dir.path().join("fixtures/week").join(step);
        std::fs::create_dir_all(&step_dir).expect("step dir");
        let lines: String = range
            .map(|n| format!("{{\"n\": {n}, \"state\": \"open\"}}\n"))
            .collect();
        std::fs::write(step_dir.join("data.ndjson"), lines).expect("step data");
    }
    let project = Shell { dir };
    assert_exit(&project.parity(&["run", "--out", "run"]), 1);
    let output = project.parity(&[
        "minimize",
        "run/results.json",
        "nightly/week",
        "--out",
        "min",
        "--jobs",
        "2",
    ]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("120 → 1 record in ")
            && stdout(&output)
                .contains("(cluster: out.ndjson (step 2-tuesday) $[*].state changed)"),
        "{}",
        stdout(&output)
    );
    let read = |step: &str| {
        std::fs::read_to_string(
            project
                .path()
                .join("min/week")
                .join(step)
                .join("data.ndjson"),
        )
        .expect("step data")
    };
    assert_eq!(read("1-monday"), "");
    assert_eq!(read("2-tuesday"), "{\"n\": 137, \"state\": \"open\"}\n");
}

/// The repository's parity.toml with every example path absolute and the `regressions` suite
/// rooted at `root`, written to `dir`.
fn config_with_regressions_at(dir: &Path, root: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("parity.toml")).expect("parity.toml");
    let regressions = "root = \"examples/advisory/fixtures/regressions\"";
    assert!(
        text.contains(regressions),
        "the example's regressions suite moved"
    );
    let text = text
        .replace(regressions, &format!("root = {:?}", root.to_string_lossy()))
        .replace(
            "\"examples/advisory/",
            &format!("\"{}/examples/advisory/", repo.to_string_lossy()),
        );
    let path = dir.join("parity.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// The regression `override_then_newer_scan` (an analyst override, then a scan observed after
/// it, which the candidate lets re-decide the advisory) shrinks to the two records the bug
/// needs, and the result fails the same way when a suite runs it.
///
/// The fixture holds 10 records (7 observations, 2 NVD entries, no OSV entry, 1 override), so
/// 1% of it is not a record: the strongest true bound is 2 of 10 (the override and the later
/// scan), which is 1-minimal and also the least possible (either alone does not show the bug).
#[test]
fn the_example_regression_shrinks_to_the_override_and_the_later_scan() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().expect("temp dir");
    let (run, min) = (tmp.path().join("run"), tmp.path().join("min"));
    let output = parity()
        .current_dir(repo)
        .args([
            "run",
            "--suite",
            "regressions",
            "--fixture",
            "override_then_newer_scan",
        ])
        .arg("--out")
        .arg(&run)
        .output()
        .expect("parity runs");
    assert_exit(&output, 1);
    let output = parity()
        .current_dir(repo)
        .arg("minimize")
        .arg(run.join("results.json"))
        .arg("regressions/override_then_newer_scan")
        .arg("--out")
        .arg(&min)
        .args(["--jobs", "2", "--max-runs", "60"])
        .output()
        .expect("parity runs");
    assert_exit(&output, 0);
    let summary = stdout(&output);
    let cluster = "stage:decide $.advisories[*].contributing_sources[*] added";
    assert!(
        summary.starts_with("10 → 2 records in ") && summary.contains(cluster),
        "{summary}"
    );
    let fixture = min.join("override_then_newer_scan");
    let observations: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("observations.json")).expect("observations"),
    )
    .expect("JSON");
    assert_eq!(
        observations.as_array().map(Vec::len),
        Some(1),
        "{observations}"
    );
    assert_eq!(
        observations[0]["obs_id"], "r1-00007",
        "the scan after the override"
    );
    let overrides = std::fs::read_to_string(fixture.join("overrides.csv")).expect("overrides");
    assert_eq!(
        overrides.lines().count(),
        2,
        "the header and the override: {overrides}"
    );
    // The same four files, the NVD wrapper kept around an empty list.
    let nvd: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("nvd.json")).expect("nvd.json"))
            .expect("JSON");
    assert_eq!(nvd["vulnerabilities"], serde_json::json!([]));
    assert_eq!(nvd["format"], "NVD_CVE");
    assert!(fixture.join("osv.json").is_file());

    // A suite that includes the result fails the same way.
    let config = config_with_regressions_at(tmp.path(), &min);
    let output = parity()
        .current_dir(tmp.path())
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--suite", "regressions", "--out", "rerun"])
        .output()
        .expect("parity runs");
    assert_exit(&output, 1);
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("rerun/results.json")).expect("results"),
    )
    .expect("JSON");
    assert_eq!(
        results["summary"]["cases"], 1,
        "minimize.json is not a fixture"
    );
    let clusters = results["clusters"].as_array().cloned().unwrap_or_default();
    assert!(
        clusters.iter().any(|c| c["output"] == "stage:decide"
            && c["pattern"] == "$.advisories[*].contributing_sources[*]"
            && c["kind"] == "added"
            && c["waived"] == 0),
        "{clusters:?}"
    );
}

/// The records `parity minimize` counts in a fixture of the example: the elements of
/// observations.json's array, overrides.csv's data rows (the header is not one), and the
/// elements of the arrays in nvd.json (`vulnerabilities`) and osv.json (`vulns`).
fn example_records(fixture: &Path) -> usize {
    let json = |name: &str| -> Value {
        let text = std::fs::read_to_string(fixture.join(name)).expect(name);
        serde_json::from_str(&text).expect(name)
    };
    let length = |value: &Value| value.as_array().map_or(0, Vec::len);
    let overrides = std::fs::read_to_string(fixture.join("overrides.csv")).expect("overrides.csv");
    length(&json("observations.json"))
        + overrides
            .lines()
            .filter(|l| !l.is_empty())
            .count()
            .saturating_sub(1)
        + length(&json("nvd.json")["vulnerabilities"])
        + length(&json("osv.json")["vulns"])
}

/// The same bug planted in a copy of `main/large` (`large_override_then_newer_scan`: 22,429
/// records) shrinks to less than 1% of them, and what is left still fails first at `decide`
/// when a suite runs it. Any input that fails that way holds the analyst's override of
/// `pypi:urllib3:CVE-2025-31001` and a scan of it observed after the decision.
///
/// 22,429 → 2 records in 87 runs of both sides, 1-minimal; the whole test takes 20–25 s with
/// `--jobs 2` on two idle cores in a debug build (up to 40 s when they are busy).
#[test]
fn the_example_regression_planted_in_main_large_shrinks_below_one_percent() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture_id = "large_override_then_newer_scan";
    let tmp = tempfile::tempdir().expect("temp dir");
    let (run, min) = (tmp.path().join("run"), tmp.path().join("min"));
    let output = parity()
        .current_dir(repo)
        .args(["run", "--suite", "regressions", "--fixture", fixture_id])
        .arg("--out")
        .arg(&run)
        .output()
        .expect("parity runs");
    assert_exit(&output, 1);
    let output = parity()
        .current_dir(repo)
        .arg("minimize")
        .arg(run.join("results.json"))
        .arg(format!("regressions/{fixture_id}"))
        .arg("--out")
        .arg(&min)
        .args(["--jobs", "2"])
        .output()
        .expect("parity runs");
    assert_exit(&output, 0);

    let before = example_records(
        &repo
            .join("examples/advisory/fixtures/regressions")
            .join(fixture_id),
    );
    let after = example_records(&min.join(fixture_id));
    assert!(before > 20_000, "{before} records in the original");
    assert!(
        after > 0 && after * 100 < before,
        "{before} → {after} records"
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(min.join("minimize.json")).expect("minimize.json"),
    )
    .expect("JSON");
    let entry = &report["fixtures"][fixture_id];
    assert_eq!(entry["original_records"], before, "{entry}");
    assert_eq!(entry["records"], after, "{entry}");

    // What the bug needs is kept: the override, and a scan after its decision.
    let fixture = min.join(fixture_id);
    let overrides = std::fs::read_to_string(fixture.join("overrides.csv")).expect("overrides");
    assert!(
        overrides
            .lines()
            .any(|l| l.starts_with("CVE-2025-31001,pypi,urllib3,not_affected,")),
        "{overrides}"
    );
    let observations: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("observations.json")).expect("observations"),
    )
    .expect("JSON");
    assert!(
        observations
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["cve_id"] == "CVE-2025-31001"
                && o["observed_at"].as_str() > Some("2026-03-02T12:00:00Z")),
        "{observations}"
    );

    // A suite over the minimized fixture fails the same way: first at decide, same cluster.
    let config = config_with_regressions_at(tmp.path(), &min);
    let output = parity()
        .current_dir(tmp.path())
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--suite", "regressions", "--out", "rerun"])
        .output()
        .expect("parity runs");
    assert_exit(&output, 1);
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("rerun/results.json")).expect("results"),
    )
    .expect("JSON");
    assert_eq!(
        results["summary"]["cases"], 1,
        "minimize.json is not a fixture"
    );
    let case = &results["cases"][0];
    assert_eq!(case["fixture"], fixture_id);
    assert_eq!(case["first_divergence"], "decide", "{case}");
    let clusters = results["clusters"].as_array().cloned().unwrap_or_default();
    assert!(
        clusters.iter().any(|c| c["output"] == "stage:decide"
            && c["pattern"] == "$.advisories[*].contributing_sources[*]"
            && c["kind"] == "added"
            && c["waived"] == 0),
        "{clusters:?}"
    );
}

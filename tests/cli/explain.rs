//! `parity explain`: one case of a past run side by side, its rerun line run for real through
//! `sh -c` (same verdict, nothing else run), a bundle whose reproduce.sh shows the same
//! difference (also for a scenario, whose state it carries across steps), unknown cases, and
//! hostile values kept inert.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{Project, assert_exit, parity, stderr, stdout};

fn parity_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("parity")
}

/// Runs `line` with `sh -c` in `dir`, with the parity under test first on PATH.
fn sh(dir: &Path, line: &str) -> Output {
    let bin = parity_bin();
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("PARITY_CONFIG")
        .output()
        .expect("sh runs")
}

fn explain(project: &Project, args: &[&str]) -> Output {
    let mut all = vec!["explain", "reports/latest/results.json"];
    all.extend_from_slice(args);
    project.parity(&all)
}

fn explain_json(project: &Project, case: &str) -> Value {
    let output = explain(project, &[case, "--format", "json"]);
    assert_exit(&output, 0);
    serde_json::from_slice(&output.stdout).expect("explain prints JSON")
}

const LEGACY: &str = r#"{"items": [{"id": "a", "state": "open", "n": 1}, {"id": "b", "state": "open", "n": 2}], "total": 3}"#;
const CANDIDATE: &str = r#"{"items": [{"id": "b", "state": "open", "n": 2}, {"id": "a", "state": "closed", "n": 1}], "total": 3}"#;

/// A project whose `diff` fixture differs in one field of record `a`, keyed by id.
fn differing() -> Project {
    let project = Project::new(
        "match = [{ path = \"$.items\", by = \"id\" }]\n\n[variants.plain]\n\n[variants.spaced]\nenv = { LABEL = \"two words 'quoted'\" }\n",
    );
    project.fixture("diff", &["json", LEGACY], &["json", CANDIDATE]);
    project.fixture("same", &["json", LEGACY], &["json", LEGACY]);
    project
}

#[test]
fn shows_the_differing_fields_side_by_side_and_both_commands() {
    let project = differing();
    assert_exit(&project.run(&[]), 1);
    let output = explain(&project, &["main/diff.json[spaced]"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.starts_with("main/diff.json[spaced]: different, 1 difference\n"),
        "{text}"
    );
    let fixture = project.path().join("fixtures/diff.json");
    for expected in [
        format!("\nlegacy: exit 0\n  cd {} && LABEL='two words '\\''quoted'\\''' python3 ", project.path().display()),
        format!(" {}/tests/helpers/side.py ", env!("CARGO_MANIFEST_DIR")),
        format!(" from {} legacy\n", fixture.display()),
        format!(" from {} candidate\n", fixture.display()),
        "result.json (json): 1 difference, 0 waived\n".to_owned(),
        "  path      legacy  candidate\n  $.items[?@.id=='a']\n    .state  \"open\"  \"closed\"\n".to_owned(),
        "inputs: blake3:".to_owned(),
        "(the fixture is unchanged since the run)".to_owned(),
        "\nrerun: parity run --config parity.toml --suite main --fixture diff.json --variant spaced --against legacy\n".to_owned(),
    ] {
        assert!(text.contains(&expected), "no {expected:?} in\n{text}");
    }
    // Only the differing field: `n` and record `b` agree.
    assert!(!text.contains(".n ") && !text.contains("'b'"), "{text}");
    let json = explain_json(&project, "main/diff.json[spaced]");
    assert_eq!(json["outputs"][0]["rows"][0]["left"], "open");
    assert_eq!(json["outputs"][0]["rows"][0]["right"], "closed");
    assert_eq!(
        json["runs"][0]["env"],
        serde_json::json!([["LABEL", "two words 'quoted'"]])
    );
    assert_eq!(
        json["rerun"],
        text.lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("rerun: ")
    );
    // results.json records the variables parity set and the fixture's hash.
    let case = &project.results()["cases"][1];
    assert_eq!(case["legacy"]["env"][0][0], "LABEL");
    assert!(
        case["inputs"]
            .as_str()
            .is_some_and(|h| h.starts_with("blake3:")),
        "{case}"
    );
}

#[test]
fn the_rerun_line_reruns_just_that_case_with_the_same_verdict() {
    let project = differing();
    // Ids a bare glob would misread: `[1]` matches `1`, `*` anything.
    project.fixture("odd [1] *", &["json", LEGACY], &["json", CANDIDATE]);
    project.fixture("odd 1 x", &["json", LEGACY], &["json", LEGACY]);
    assert_exit(&project.run(&[]), 1);
    let explained = explain_json(&project, "main/odd [1] *.json[plain]");
    let rerun = explained["rerun"].as_str().expect("rerun line");
    assert_eq!(
        rerun,
        "parity run --config parity.toml --suite main --fixture 'odd [[]1[]] [*].json' --variant plain --against legacy"
    );
    let output = sh(project.path(), rerun);
    assert_exit(&output, 1);
    let results = project.results();
    let cases = results["cases"].as_array().expect("cases");
    let labels: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| {
            (
                c["fixture"].as_str().unwrap_or(""),
                c["verdict"]["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(labels, [("odd [1] *.json", "different")]);
    assert_eq!(cases[0]["variant"], "plain");
    // The terminal summary printed the same line under the failing case.
    assert!(
        stdout(&output).contains(&format!("    rerun: {rerun}\n")),
        "{}",
        stdout(&output)
    );
    let junit = std::fs::read_to_string(project.path().join("reports/latest/junit.xml"))
        .expect("junit.xml");
    assert!(junit.contains("rerun: parity run --config parity.toml --suite main --fixture &apos;odd [[]1[]] [*].json&apos;"), "{junit}");
}

#[test]
fn a_bundle_holds_the_case_and_its_reproduce_script_shows_the_same_difference() {
    let project = differing();
    assert_exit(&project.run(&["--variant", "plain"]), 1);
    let bundle = project.path().join("bundle");
    let output = explain(&project, &["diff.json", "--bundle", "bundle"]);
    assert_exit(&output, 0);
    assert!(
        stderr(&output).contains("bundle written to bundle"),
        "{}",
        stderr(&output)
    );
    for file in [
        "input/diff.json",
        "legacy/out/result.json",
        "legacy/stdout",
        "candidate/out/result.json",
        "reproduce.sh",
        "explain.txt",
    ] {
        assert!(bundle.join(file).is_file(), "no {file} in the bundle");
    }
    assert_eq!(
        std::fs::read_to_string(bundle.join("explain.txt")).expect("explain.txt"),
        stdout(&output)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(bundle.join("reproduce.sh"))
        .expect("script")
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "reproduce.sh is executable");
    // Elsewhere, the fixture gone from the project: the script uses the bundle's own copy.
    let moved = tempfile::tempdir().expect("temp dir");
    let copy = moved.path().join("my bundle");
    std::fs::rename(&bundle, &copy).expect("move the bundle");
    std::fs::rename(
        project.path().join("fixtures/diff.json"),
        project.path().join("diff.json.away"),
    )
    .expect("move the fixture");
    let reproduced = sh(moved.path(), "./'my bundle'/reproduce.sh");
    assert_exit(&reproduced, 1);
    let text = stdout(&reproduced);
    for expected in [
        "legacy: exit 0 (the run: exit 0;",
        "candidate: exit 0 (the run: exit 0;",
        "== parity diff rerun/legacy/out rerun/candidate/out\n",
        "~ $.items[?@.id=='a']\n    ~ .state  changed  \"open\" → \"closed\"\n",
        "  parity run --config ",
    ] {
        assert!(
            text.contains(expected),
            "no {expected:?} in\n{text}\n{}",
            stderr(&reproduced)
        );
    }
    let rerun = copy.join("rerun/candidate/out/result.json");
    assert!(
        std::fs::read_to_string(&rerun).is_ok_and(|t| t.contains("closed")),
        "{}",
        rerun.display()
    );
    // A second bundle into the same directory replaces the first; anything else is refused.
    let again = explain(
        &project,
        &["diff.json", "--bundle", &copy.to_string_lossy()],
    );
    assert_exit(&again, 2);
    assert!(stderr(&again).contains("the fixture"), "{}", stderr(&again));
}

#[test]
fn a_bundle_into_a_directory_holding_other_files_is_refused() {
    let project = differing();
    assert_exit(&project.run(&["--variant", "plain"]), 1);
    std::fs::create_dir(project.path().join("mine")).expect("dir");
    std::fs::write(project.path().join("mine/notes.txt"), "keep me").expect("file");
    let output = explain(&project, &["diff.json", "--bundle", "mine"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("not an earlier bundle"),
        "{}",
        stderr(&output)
    );
    assert!(project.path().join("mine/notes.txt").is_file());
    assert_exit(&explain(&project, &["diff.json", "--bundle", "b"]), 0);
    assert_exit(&explain(&project, &["diff.json", "--bundle", "b"]), 0);
}

#[test]
fn an_unknown_case_exits_2_and_lists_known_ones() {
    let project = differing();
    assert_exit(&project.run(&[]), 1);
    let output = explain(&project, &["main/nope.json"]);
    assert_exit(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: no case `main/nope.json` in this run; it has 4 cases: main/diff.json[plain], \
         main/diff.json[spaced], main/same.json[plain], main/same.json[spaced]\n"
    );
    assert!(stdout(&output).is_empty());
    let ambiguous = explain(&project, &["diff.json"]);
    assert_exit(&ambiguous, 2);
    assert!(
        stderr(&ambiguous).contains("names 2 cases"),
        "{}",
        stderr(&ambiguous)
    );
    let missing = parity()
        .args(["explain", "/nonexistent/results.json", "x"])
        .output()
        .expect("runs");
    assert_exit(&missing, 2);
}

/// A scenario side: appends the step's `value` to its state, the candidate a wrong one at step
/// `2-b`, and writes every value seen so far, so step 3 differs only through the state.
const STATEFUL: &str = r#"step=$(basename "$2"); v=$(cat "$2/value")
if [ "$3" = candidate ] && [ "$step" = 2-b ]; then v="$v-bug"; fi
echo "$v" >> "$4/seen"
printf '{"step": "%s", "seen": "%s"}\n' "$step" "$(tr '\n' ' ' < "$4/seen")" > "$1/result.json""#;

fn scenario() -> Project {
    let side = |name: &str| {
        format!(
            "[{name}]\ncmd = [\"sh\", \"-c\", '''{STATEFUL}''', \"side\", \"{{out}}\", \"{{fixture}}\", \"{name}\", \"{{state}}\"]\n"
        )
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "{}{}\n[suites.history]\nroot = \"fixtures\"\ninclude = [\"*/\"]\nsteps = \"*/\"\n",
        side("legacy"),
        side("candidate")
    );
    std::fs::write(dir.path().join("parity.toml"), config).expect("config");
    for (step, value) in [("1-a", "one"), ("2-b", "two"), ("3-c", "three")] {
        let path = dir.path().join("fixtures/week").join(step);
        std::fs::create_dir_all(&path).expect("step dir");
        std::fs::write(path.join("value"), value).expect("value");
    }
    Project { dir }
}

#[test]
fn a_scenario_is_explained_step_by_step_and_reproduced_with_its_state() {
    let project = scenario();
    assert_exit(&project.run(&[]), 1);
    let output = explain(&project, &["history/week", "--bundle", "bundle"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    for expected in [
        "steps: 1-a identical · 2-b different (1 difference) · 3-c different (1 difference)\n",
        "\nstep 1-a, legacy: exit 0\n",
        "\nstep 3-c, candidate: exit 0\n",
        "result.json (step 2-b) (json): 1 difference",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    let bundle = project.path().join("bundle");
    for file in [
        "input/1-a/value",
        "input/3-c/value",
        "legacy/2-b/out/result.json",
        "candidate/3-c/out/result.json",
    ] {
        assert!(bundle.join(file).is_file(), "no {file} in the bundle");
    }
    let reproduced = sh(project.path(), "sh bundle/reproduce.sh");
    assert_exit(&reproduced, 1);
    let text = stdout(&reproduced);
    for expected in [
        "step 3-c, candidate: exit 0",
        "== step 3-c, parity diff rerun/3-c/legacy/out rerun/3-c/candidate/out\n",
        "~ $.seen  changed  \"one two three \" → \"one two-bug three \"\n",
    ] {
        assert!(
            text.contains(expected),
            "no {expected:?} in\n{text}\n{}",
            stderr(&reproduced)
        );
    }
    let state = std::fs::read_to_string(bundle.join("rerun/state/candidate/seen")).expect("state");
    assert_eq!(state, "one\ntwo-bug\nthree\n");
}

#[test]
fn hostile_values_are_shown_inert() {
    let project = Project::new("\n[variants.odd]\nenv = { MARK = \"\\u001b[2J<script>\" }\n");
    project.fixture(
        "<script>\u{1b}]0;x\u{7}",
        &["json", r#"{"html": "<b>ok</b>", "note": "plain"}"#],
        &[
            "json",
            r#"{"html": "<script>alert(1)</script>", "note": "\u001b[31mred\u202e"}"#,
        ],
    );
    assert_exit(&project.run(&[]), 1);
    let output = explain(&project, &["<script>\u{1b}]0;x\u{7}.json"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    let project_dir = regex::escape(&project.path().to_string_lossy());
    let repo = regex::escape(env!("CARGO_MANIFEST_DIR"));
    insta::with_settings!({ filters => vec![
        (project_dir.as_str(), "[project]"),
        (repo.as_str(), "[repo]"),
        ("blake3:[0-9a-f]{64}", "blake3:[hash]"),
    ]}, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn a_case_compared_with_its_golden_only_is_reproduced_against_the_golden() {
    let project = Project::new("match = [{ path = \"$.items\", by = \"id\" }]\n");
    project.fixture("diff", &["json", LEGACY], &["json", CANDIDATE]);
    assert_exit(
        &project.parity(&["golden", "record", "--reason", "test"]),
        0,
    );
    assert_exit(&project.run(&["--against", "golden"]), 1);
    let output = explain(&project, &["diff.json", "--bundle", "bundle"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    for expected in [
        "golden: golden/main/diff.json, recorded ",
        "\nrerun: parity run --config parity.toml --suite main --fixture diff.json --against golden\n",
        "  path      golden  candidate\n",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    assert!(!text.contains("\nlegacy: "), "{text}");
    let bundle = project.path().join("bundle");
    assert!(bundle.join("golden/out/result.json").is_file());
    let reproduced = sh(project.path(), "sh bundle/reproduce.sh");
    assert_exit(&reproduced, 1);
    assert!(
        stdout(&reproduced).contains("== parity diff golden/out rerun/candidate/out\n"),
        "{}",
        stdout(&reproduced)
    );
    assert!(!bundle.join("rerun/legacy").exists());
}

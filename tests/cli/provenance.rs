//! Sign-off provenance in results.json: the repository (commit, branch, dirty), both sides'
//! versions, who ran it, the configuration's path relative to the repository. Projects are
//! made git repositories with the real `git`, with an identity given on the command line so the
//! tests pass on a machine that has none.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{Project, assert_exit, parity, stderr};

/// Variables by which a CI names itself: removed, so a test sees only what it sets, whichever
/// CI runs it.
const CI_VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_ACTOR",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITLAB_CI",
    "GITLAB_USER_LOGIN",
    "CI_JOB_ID",
    "CI_JOB_URL",
    "BUILD_URL",
    "BUILD_TAG",
    "BUILD_USER_ID",
    "JENKINS_URL",
];

/// Runs `git ARGS` in `dir`, with an identity of its own.
#[track_caller]
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.email=parity@example.com",
            "-c",
            "user.name=parity tests",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "parity tests")
        .env("GIT_AUTHOR_EMAIL", "parity@example.com")
        .env("GIT_COMMITTER_NAME", "parity tests")
        .env("GIT_COMMITTER_EMAIL", "parity@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs (CI installs it)");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Makes the project a git repository on branch `main` with everything committed.
fn commit_all(project: &Project) -> String {
    let dir = project.path();
    git(dir, &["init", "-q"]);
    git(dir, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "fixtures"]);
    git(dir, &["rev-parse", "HEAD"])
}

/// `parity run ARGS` in `cwd` with `env` set, no CI variables but those, and git kept from
/// looking above the project (so a temp dir inside some repository still counts as outside).
fn run_in(project: &Project, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = parity();
    for name in CI_VARS {
        command.env_remove(name);
    }
    let ceiling = project.path().parent().expect("temp dir has a parent");
    command
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .current_dir(cwd)
        .arg("run")
        .args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("parity runs")
}

fn run(project: &Project, env: &[(&str, &str)]) -> Output {
    run_in(project, project.path(), &[], env)
}

fn agreeing(project: &Project, ids: &[&str]) {
    for id in ids {
        project.fixture(id, &["json", r#"{"a": 1}"#], &["json", r#"{"a": 1}"#]);
    }
}

#[test]
fn a_run_records_the_commit_then_a_tracked_edit_makes_it_dirty() {
    let project = Project::new("");
    agreeing(&project, &["one"]);
    let head = commit_all(&project);

    let output = run(&project, &[]);
    assert_exit(&output, 0);
    let results = project.results();
    let repo = &results["provenance"]["repository"];
    assert_eq!(repo["commit"], head.as_str(), "{repo}");
    assert_eq!(repo["branch"], "main");
    assert_eq!(repo["dirty"], false, "{repo}");
    assert_eq!(results["config"]["relative"], "parity.toml");

    // The previous run's reports are untracked files in the tree: the run's own report
    // directory never makes it dirty.
    assert_exit(&run(&project, &[]), 0);
    assert_eq!(
        project.results()["provenance"]["repository"]["dirty"],
        false,
        "{}",
        project.results()["provenance"]
    );

    project.edit_config(|text| format!("{text}\n# edited, not committed\n"));
    assert_exit(&run(&project, &[]), 0);
    let repo = project.results()["provenance"]["repository"].clone();
    assert_eq!(repo["dirty"], true, "{repo}");
    assert_eq!(repo["commit"], head.as_str());
    assert_eq!(repo["changes"], serde_json::json!(["M parity.toml"]));
}

#[test]
fn the_config_path_is_relative_to_the_repository_not_the_directory_parity_ran_in() {
    let project = Project::new("");
    agreeing(&project, &["one"]);
    commit_all(&project);
    let sub = project.path().join("fixtures");
    let output = run_in(&project, &sub, &["--config", "../parity.toml"], &[]);
    assert_exit(&output, 0);
    let results = project.results();
    assert_eq!(results["config"]["relative"], "parity.toml");
    assert!(
        Path::new(results["config"]["path"].as_str().unwrap_or_default()).is_absolute(),
        "config.path stays absolute for tools: {}",
        results["config"]
    );
}

#[test]
fn outside_a_repository_the_repository_is_null() {
    let project = Project::new("");
    agreeing(&project, &["one"]);
    let sub = project.path().join("fixtures");
    let output = run_in(&project, &sub, &["--config", "../parity.toml"], &[]);
    assert_exit(&output, 0);
    let results = project.results();
    assert_eq!(results["provenance"]["repository"], Value::Null);
    assert_eq!(
        results["config"]["relative"], "../parity.toml",
        "relative to the directory parity ran in"
    );
    assert!(
        !stderr(&output).contains("warning"),
        "being outside a repository is no warning: {}",
        stderr(&output)
    );
}

/// `python3 -c CODE` as a TOML array.
fn python(code: &str) -> String {
    format!("[\"python3\", \"-c\", {code:?}]")
}

#[test]
fn both_sides_versions_are_asked_once_per_run_and_a_failing_one_is_unknown() {
    let project = Project::new(&format!(
        "\n[suites.other]\nroot = \"fixtures\"\ninclude = [\"*.json\"]\n\n[suites.other.candidate]\ncmd = [\"python3\", {helper:?}, \"{{out}}\", \"from\", \"{{fixture}}\", \"candidate\"]\nversion_cmd = {other}\n",
        helper = crate::support::helper().to_string_lossy(),
        other = python("print('other 3.0')"),
    ));
    let counted = python("open('legacy-version-calls', 'a').write('x\\n'); print(' legacy 1.2 ')");
    let failing = python("import sys; sys.exit('no version here')");
    project.edit_config(|text| {
        text.replacen(
            "[legacy]\n",
            &format!("[legacy]\nversion_cmd = {counted}\n"),
            1,
        )
        .replacen(
            "[candidate]\n",
            &format!("[candidate]\nversion_cmd = {failing}\n"),
            1,
        )
    });
    agreeing(&project, &["one", "two", "three"]);

    let output = run(&project, &[]);
    assert_exit(&output, 0);
    let sides = project.results()["sides"].clone();
    let main = &sides[0];
    let other = &sides[1];
    assert_eq!(
        (&main["suite"], &other["suite"]),
        (&"main".into(), &"other".into())
    );
    assert_eq!(main["legacy_version"], "legacy 1.2", "trimmed: {main}");
    let unknown = main["candidate_version"].as_str().unwrap_or_default();
    assert!(
        unknown.starts_with("unknown (") && unknown.contains("no version here"),
        "{main}"
    );
    assert_eq!(other["legacy_version"], "legacy 1.2");
    assert_eq!(
        other["candidate_version"], "other 3.0",
        "a suite's own candidate"
    );
    let calls = std::fs::read_to_string(project.path().join("legacy-version-calls"))
        .expect("the legacy's version_cmd ran in the config's directory");
    assert_eq!(
        calls.lines().count(),
        1,
        "once per run, not per case or suite"
    );
    let err = stderr(&output);
    assert!(
        err.contains("warning: the candidate's `version_cmd`") && err.contains("no version here"),
        "{err}"
    );
}

#[test]
fn who_ran_it_the_user_and_the_ci_job() {
    let project = Project::new("");
    agreeing(&project, &["one"]);
    let output = run(
        &project,
        &[
            ("USER", "release-manager"),
            ("GITHUB_ACTOR", "octocat"),
            ("GITHUB_RUN_ID", "987654"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/advisory"),
        ],
    );
    assert_exit(&output, 0);
    let run_by = project.results()["provenance"]["run_by"].clone();
    assert_eq!(
        run_by,
        serde_json::json!({
            "user": "release-manager",
            "ci": {
                "system": "github-actions",
                "actor": "octocat",
                "run_id": "987654",
                "url": "https://github.com/acme/advisory/actions/runs/987654",
            }
        })
    );

    let mut command = parity();
    for name in CI_VARS {
        command.env_remove(name);
    }
    let output = command
        .current_dir(project.path())
        .env_remove("USER")
        .env("LOGNAME", "fallback-name")
        .arg("run")
        .output()
        .expect("parity runs");
    assert_exit(&output, 0);
    let run_by = project.results()["provenance"]["run_by"].clone();
    assert_eq!(run_by, serde_json::json!({ "user": "fallback-name" }));
}

#[test]
fn parity_report_re_renders_results_written_before_provenance() {
    let project = Project::new("");
    agreeing(&project, &["one"]);
    assert_exit(&run(&project, &[]), 0);
    let mut old = project.results();
    let Some(top) = old.as_object_mut() else {
        panic!("results.json is an object")
    };
    top.remove("provenance");
    if let Some(config) = old["config"].as_object_mut() {
        config.remove("relative");
    }
    if let Some(sides) = old["sides"].as_array_mut() {
        for side in sides.iter_mut().filter_map(Value::as_object_mut) {
            side.remove("legacy_version");
            side.remove("candidate_version");
        }
    }
    let path = project.path().join("old-results.json");
    std::fs::write(&path, old.to_string()).expect("write old results");
    let path = path.to_string_lossy().into_owned();

    let md = project.parity(&["report", &path, "--format", "md"]);
    assert_exit(&md, 0);
    assert!(String::from_utf8_lossy(&md.stdout).contains("main"));
    let json = project.parity(&["report", &path, "--format", "json"]);
    assert_exit(&json, 0);
    let again: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(again.get("provenance"), None, "absent stays absent");
}

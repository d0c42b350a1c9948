use std::path::Path;

use serde_json::json;

use super::reproduce::{self, Origin};
use super::*;
use crate::diff::{DiffKind, Difference};
use crate::fixture::CaseId;
use crate::outcome::NotRun;
use crate::report::tests::sample;
use crate::runner::RunStatus;

fn explain(results: &RunResults, query: &str) -> Explanation {
    let case = find_case(results, query).expect("case");
    Explanation::new(results, case, Some(Path::new("/repo")))
}

#[test]
fn finds_a_case_by_label_or_by_a_fixture_id_only_one_case_has() {
    let mut results = sample();
    let mut variant = results.cases[2].clone();
    variant.id.variant = Some("offline".into());
    results.cases.push(variant);
    results.not_run.push(NotRun {
        id: CaseId {
            suite: "main".into(),
            fixture: "late".into(),
            variant: None,
        },
    });
    let label = |q: &str| find_case(&results, q).map(CaseOutcome::label);
    assert_eq!(label("main/crash"), Ok("main/crash".to_owned()));
    assert_eq!(label("crash"), Ok("main/crash".to_owned()));
    assert_eq!(
        label("override-precedence[offline]"),
        Ok("main/override-precedence[offline]".to_owned())
    );
    assert_eq!(
        label("main/override-precedence"),
        Ok("main/override-precedence".to_owned()),
        "the label without a variant names the case without one"
    );
    assert_eq!(
        label("late"),
        Err(LookupError::NotRun {
            query: "late".into()
        })
    );
    let unknown = find_case(&results, "fix").expect_err("unknown");
    assert_eq!(
        unknown.to_string(),
        "no case `fix` in this run; it has 5 cases: main/fixed, main/override-precedence, \
         main/crash, main/override-precedence[offline], main/empty"
    );
    results.cases[2].id.variant = Some("online".into());
    let ambiguous = find_case(&results, "override-precedence").expect_err("ambiguous");
    assert_eq!(
        ambiguous.to_string(),
        "`override-precedence` names 2 cases; name one: main/override-precedence[online], \
         main/override-precedence[offline]"
    );
}

#[test]
fn a_long_list_of_cases_is_cut() {
    let mut results = sample();
    let case = results.cases[0].clone();
    results.cases = (0..20)
        .map(|i| {
            let mut c = case.clone();
            c.id.fixture = format!("f{i:02}");
            c
        })
        .collect();
    let error = find_case(&results, "nope")
        .expect_err("unknown")
        .to_string();
    assert!(error.ends_with("main/f07, … and 12 more"), "{error}");
}

/// A case whose programs wrote hostile text: control characters that would drive a terminal,
/// markup, a bidirectional override, and a fixture id and argument that need quoting.
fn hostile() -> RunResults {
    let mut results = sample();
    let mut case = results.cases[2].clone();
    case.id.fixture = "it's [1]\u{1b}[2J.json".into();
    case.inputs = Some("blake3:0123".into());
    case.kept_outputs = Some("outputs/main/it's".into());
    if let Some(legacy) = &mut case.legacy {
        legacy.env = vec![("TZ".into(), "UTC".into()), ("NOTE".into(), "a b".into())];
        legacy.argv.push("--name=<script>alert(1)</script>".into());
    }
    case.candidate.status = RunStatus::Exited { code: 3 };
    case.candidate.stderr_tail = "boom\u{1b}]0;owned\u{7}\nline 2".into();
    let mut waived = Difference::new("$.items[?@.id=='x'].note", DiffKind::Changed)
        .left(json!("old"))
        .right(json!("new"));
    waived.waiver = Some(0);
    case.outputs[0].differences.extend([
        Difference::new("$.items[?@.id=='x'].html", DiffKind::Changed)
            .left(json!("<script>alert('x')</script>"))
            .right(json!("\u{1b}[31mred\u{202e}txt")),
        Difference::new("@@ -2 +5 @@", DiffKind::Moved)
            .left(json!("moved line"))
            .right(json!("moved line")),
        waived,
    ]);
    case.outputs[0].total += 3;
    case.outputs[0].waived += 1;
    results.cases = vec![case];
    results.summarise();
    results
}

#[test]
fn explains_a_case_side_by_side_with_everything_escaped() {
    let results = hostile();
    let text = text::render(&explain(&results, "main/it's [1]\u{1b}[2J.json"));
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn json_holds_the_same_as_the_text() {
    let results = hostile();
    let explanation = explain(&results, "main/it's [1]\u{1b}[2J.json");
    let value = serde_json::to_value(&explanation).expect("JSON");
    assert_eq!(value["verdict"]["kind"], "different");
    assert_eq!(
        value["runs"][0]["env"],
        json!([["TZ", "UTC"], ["NOTE", "a b"]])
    );
    assert_eq!(
        value["runs"][0]["command"],
        "cd /repo && TZ=UTC NOTE='a b' python3 legacy/monolith.py \
         '--name=<script>alert(1)</script>'"
    );
    assert_eq!(
        value["outputs"][0]["rows"][4]["moved"],
        "line 2 → line 5: \"moved line\""
    );
    assert_eq!(value["outputs"][0]["rows"][5]["waived_by"], 1);
    assert_eq!(
        value["rerun"],
        "parity run --config parity.toml --suite main --fixture \
         'it'\\''s [[]1[]]\u{1b}[[]2J.json' --against legacy"
    );
}

#[test]
fn a_scenario_shows_every_step() {
    let mut results = sample();
    let mut case = results.cases[2].clone();
    let step = |name: &str, verdict: Option<Verdict>| crate::outcome::StepOutcome {
        step: name.into(),
        blocked_by: verdict.is_none().then(|| "2-b".into()),
        legacy: verdict.as_ref().map(|_| case.candidate.clone()),
        candidate: verdict.as_ref().map(|_| case.candidate.clone()),
        outputs: Vec::new(),
        golden: None,
        notes: Vec::new(),
        bench: None,
        stages: Default::default(),
        verdict,
    };
    let steps = vec![
        step("1-a", Some(Verdict::Identical)),
        step("2-b", Some(Verdict::Different)),
        step("3-c", None),
    ];
    case.steps = steps;
    case.steps[1].outputs = std::mem::take(&mut case.outputs);
    results.cases = vec![case];
    let e = explain(&results, "override-precedence");
    let steps: Vec<(Option<&str>, &str)> =
        e.runs.iter().map(|r| (r.step.as_deref(), r.side)).collect();
    assert_eq!(
        steps,
        [
            (Some("1-a"), "legacy"),
            (Some("1-a"), "candidate"),
            (Some("2-b"), "legacy"),
            (Some("2-b"), "candidate")
        ]
    );
    assert_eq!(e.outputs[0].name, "advisory_current.json (step 2-b)");
    let text = text::render(&e);
    assert!(
        text.contains("steps: 1-a identical · 2-b different (4 differences) · 3-c blocked"),
        "{text}"
    );
    assert!(text.contains("\nstep 2-b, candidate: exit 0\n"), "{text}");
}

#[test]
fn the_script_writes_the_runs_paths_as_the_bundles() {
    let mut results = sample();
    let case = &mut results.cases[2];
    let fixture = "/repo/fixtures/it's here.json";
    let case_dir = "/repo/reports/latest/outputs/main/override-precedence";
    if let Some(legacy) = &mut case.legacy {
        legacy.argv = vec![
            "sh".into(),
            "-c".into(),
            "printf '%s\\0' \"$@\" \"$OUT\"".into(),
            "side".into(),
            fixture.into(),
            format!("--out={case_dir}/legacy/out"),
            format!("{case_dir}/state/legacy"),
        ];
        legacy.env = vec![("OUT".into(), format!("{case_dir}/legacy/out/x"))];
    }
    let case = results.cases[2].clone();
    let origin = Origin {
        fixture: fixture.into(),
        fixture_is_file: true,
        case_dir: reproduce::case_dir_in_commands("/repo/reports/latest", &case),
    };
    assert_eq!(origin.case_dir, case_dir);
    let steps = reproduce::steps(&case, &|_| None);
    let legacy = &steps[0].runs[0];
    let dir = tempfile::tempdir().expect("temp dir");
    let replace = reproduce::replacements(&origin);
    let line =
        crate::report::shell::command_line_with(None, &legacy.run.env, &legacy.run.argv, &|w| {
            super::reproduce::relocated(w, &replace)
        });
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "B={}; {line}",
            crate::report::shell_quote(&dir.path().to_string_lossy())
        ))
        .output()
        .expect("sh");
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    let b = dir.path().to_string_lossy();
    assert_eq!(
        printed.split('\0').collect::<Vec<_>>(),
        [
            format!("{b}/input/it's here.json"),
            format!("--out={b}/rerun/legacy/out"),
            format!("{b}/rerun/state/legacy"),
            format!("{b}/rerun/legacy/out/x"),
            String::new(),
        ]
    );
}

#[test]
fn a_moved_results_file_still_finds_the_runs_directory() {
    let mut results = sample();
    let case = &mut results.cases[2];
    if let Some(legacy) = &mut case.legacy {
        legacy.argv = vec![
            "run".into(),
            "--out=/ci/build/reports/outputs/main/override-precedence/legacy/out".into(),
        ];
    }
    assert_eq!(
        reproduce::case_dir_in_commands("/home/me/Downloads", &results.cases[2]),
        "/ci/build/reports/outputs/main/override-precedence"
    );
}

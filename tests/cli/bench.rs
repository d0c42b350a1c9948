//! `parity bench` and `parity run --bench` with sides of known cost: identical sides pass, a
//! clearly slower candidate exceeds the budget (exit 3), differing outputs are not timed.

use serde_json::Value;

use crate::support::{Project, assert_exit, parity, stdout};

fn bench(project: &Project, args: &[&str]) -> std::process::Output {
    parity()
        .current_dir(project.path())
        .arg("bench")
        .args(args)
        .output()
        .unwrap()
}

fn case_bench(project: &Project, id: &str) -> Value {
    project.case(id)["bench"].clone()
}

#[test]
fn identical_sides_are_within_budget() {
    let project = Project::new("");
    project.fixture("same", &["spin", "400000"], &["spin", "400000"]);
    let output = bench(&project, &["--seed", "11"]);
    assert_exit(&output, 0);
    let bench = case_bench(&project, "same");
    // Identical sides are never over budget. Whether 60 pairs suffice to call them within
    // depends on the machine's noise (on a shared 2-core VM, ±25% between runs of the same
    // work): inconclusive is then the honest answer. scripts/validate_gate.py measures how
    // often each verdict comes, over many runs.
    assert!(
        bench["verdict"] == "within" || bench["verdict"] == "inconclusive",
        "{bench}"
    );
    assert_eq!(bench["metrics"]["cpu"]["gating"], true);
    assert_eq!(bench["metrics"]["wall"]["gating"], false);
    assert!(bench["valid_pairs"].as_u64().unwrap() >= 10);
    let results = project.results();
    assert_eq!(results["bench"]["seed"], 11);
    let overall = results["bench"]["verdict"].as_str().unwrap_or("");
    assert!(
        overall == "within" || overall == "inconclusive",
        "{overall}"
    );
    let said = format!("performance {overall}");
    assert!(stdout(&output).contains(&said), "{}", stdout(&output));
    assert!(project.report_md().contains("## Performance"));
}

#[test]
fn a_much_slower_candidate_exceeds_the_budget() {
    let project = Project::new("");
    project.fixture("slow", &["spin", "400000"], &["spin", "1000000"]);
    let output = bench(&project, &["--seed", "3"]);
    assert_exit(&output, 3);
    let bench = case_bench(&project, "slow");
    assert_eq!(bench["metrics"]["cpu"]["verdict"], "exceeded", "{bench}");
    assert!(bench["metrics"]["cpu"]["low"].as_f64().unwrap() > 1.05);
    assert_eq!(
        project.case("slow")["verdict"]["kind"],
        "identical",
        "outputs still agree"
    );
    let junit = std::fs::read_to_string(project.path().join("reports/latest/junit.xml")).unwrap();
    assert!(junit.contains(r#"type="budget-exceeded""#), "{junit}");
    assert!(
        stdout(&output).contains("exceeded main/slow.json cpu"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn differing_outputs_are_not_timed() {
    let project = Project::new("");
    project.fixture(
        "differs",
        &["json", r#"{"a": 1}"#],
        &["json", r#"{"a": 2}"#],
    );
    let output = parity()
        .current_dir(project.path())
        .args(["run", "--bench"])
        .output()
        .unwrap();
    assert_exit(&output, 1);
    assert!(project.case("differs")["bench"].is_null());
}

#[test]
fn a_side_that_fails_on_a_later_run_fails_the_case_on_that_run() {
    let project = Project::new("");
    // The candidate's 4th run (warm-up, first pair, one more pair, then this) exits 3.
    project.fixture("later", &["json", r#"{"ok": true}"#], &["flaky", "4", "3"]);
    let output = bench(&project, &["--seed", "1"]);
    assert_exit(&output, 1);
    let case = project.case("later");
    assert_eq!(case["verdict"]["kind"], "candidate-failed", "{case}");
    assert_eq!(
        case["candidate"]["status"]["code"], 3,
        "judged on the failing run"
    );
    let notes = case["notes"].to_string();
    assert!(
        notes.contains("candidate-failed on run 4 of this case, after runs that agreed")
            && notes.contains("measuring stopped there"),
        "{notes}"
    );
    let pairs = case["bench"]["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 3, "stopped at the failing pair");
    assert_eq!(pairs[2]["valid"], false);
    // Its outputs are kept as the failing run left them, and the gate does not count it.
    assert!(case["kept_outputs"].is_string(), "{case}");
    assert!(
        project.results()["bench"]["overall"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    assert!(
        stdout(&output).contains("after runs that agreed"),
        "{}",
        stdout(&output)
    );

    // Failing on the first run is an ordinary failure: no note about runs that agreed.
    let first = Project::new("");
    first.fixture("first", &["json", r#"{"ok": true}"#], &["flaky", "1", "3"]);
    assert_exit(&bench(&first, &[]), 1);
    let case = first.case("first");
    assert_eq!(case["verdict"]["kind"], "candidate-failed");
    assert!(!case["notes"].to_string().contains("agreed"), "{case}");
}

#[test]
fn a_seed_reproduces_the_order_of_runs() {
    let project = Project::new("");
    project.fixture("a", &["spin", "1000"], &["spin", "1000"]);
    let orders = |seed: &str| -> Vec<bool> {
        assert_exit(
            &bench(
                &project,
                &[
                    "--seed",
                    seed,
                    "--runs",
                    "6",
                    "--max-runs",
                    "6",
                    "--gate",
                    "memory",
                ],
            ),
            0,
        );
        case_bench(&project, "a")["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["legacy_first"].as_bool().unwrap())
            .collect()
    };
    let first = orders("5");
    assert_eq!(first.len(), 6);
    assert_eq!(first, orders("5"));
    assert_ne!(first, orders("6"));
}

#[test]
fn bench_settings_come_from_config_and_flags() {
    let project = Project::new(
        "\n[bench]\nruns = 4\nmax_runs = 5\nwarmup = 0\nbudget = { cpu = \"50%\" }\ngate = [\"cpu\"]\nseed = 9\n",
    );
    project.fixture("a", &["spin", "1000"], &["spin", "1000"]);
    assert_exit(&bench(&project, &[]), 0);
    let results = project.results();
    assert_eq!(results["bench"]["seed"], 9);
    assert_eq!(results["bench"]["runs"], 4);
    assert_eq!(results["bench"]["gate"], serde_json::json!(["cpu"]));
    assert_eq!(results["bench"]["budgets"]["cpu"], 0.5);
    assert_exit(&bench(&project, &["--budget", "cpu=fast"]), 2);
    // Flags are held to what the file is held to.
    assert_exit(&bench(&project, &["--runs", "1"]), 2);
    assert_exit(&bench(&project, &["--runs", "6", "--max-runs", "5"]), 2);
    assert_exit(
        &bench(&project, &["--gate", "cpu,cpu", "--max-runs", "6"]),
        0,
    );
    assert_eq!(
        project.results()["bench"]["gate"],
        serde_json::json!(["cpu"])
    );
    let bad = Project::new("\n[bench]\nbudget = { cpu = \"five\" }\n");
    let output = parity()
        .current_dir(bad.path())
        .arg("bench")
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid budget `five`"));
}

#[test]
fn a_retired_legacy_cannot_be_benchmarked() {
    let project = Project::new("");
    project.fixture("a", &["spin", "1000"], &["spin", "1000"]);
    project.edit_config(|text| text.replacen("[legacy]\n", "[legacy]\nretired = true\n", 1));
    let output = bench(&project, &[]);
    assert_exit(&output, 2);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("times the candidate against the legacy, which is retired"),
        "{err}"
    );
}

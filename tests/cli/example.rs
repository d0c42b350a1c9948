//! The bundled example migration end to end, as the README runs it: suite `main` passes,
//! suite `regressions` fails and names each bug's differing paths, suite `performance` agrees,
//! and the committed goldens are current and pass on their own.

use std::path::Path;

use serde_json::Value;

use crate::support::{assert_exit, parity, stdout};

fn run_example(args: &[&str]) -> (std::process::Output, Value, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let output = parity()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("run")
        .args(args)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let results =
        std::fs::read_to_string(out.path().join("results.json")).expect("results.json written");
    (output, serde_json::from_str(&results).unwrap(), out)
}

fn paths_of(results: &Value, fixture: &str) -> Vec<String> {
    let case = results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fixture"] == fixture)
        .expect("case present");
    case["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| {
            o["differences"].as_array().unwrap().iter().map(move |d| {
                format!(
                    "{} {}",
                    o["output"].as_str().unwrap(),
                    d["path"].as_str().unwrap()
                )
            })
        })
        .collect()
}

#[test]
fn main_suite_passes_with_its_waiver_applied() {
    let (output, results, out) = run_example(&[]);
    assert_exit(&output, 0);
    let cases = results["cases"].as_array().unwrap();
    assert!(cases.len() >= 9, "{} cases", cases.len());
    assert!(
        cases
            .iter()
            .all(|c| ["equivalent", "waived"].contains(&c["verdict"]["kind"].as_str().unwrap()))
    );
    let large = cases.iter().find(|c| c["fixture"] == "large").unwrap();
    assert_eq!(large["verdict"]["kind"], "waived");
    assert!(results["waivers"][0]["applied"].as_u64().unwrap() > 100);
    assert!(
        results["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["stale"] == false),
        "{}",
        results["rules"]
    );
    for file in ["results.json", "report.md", "junit.xml"] {
        assert!(out.path().join(file).is_file(), "{file}");
    }
    assert!(stdout(&output).contains("PASS"));
    // Sign-off provenance: both sides' versions come from their `version_cmd` (the last
    // commit touching each side's code), known in a git checkout.
    let in_checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join(".git").exists();
    for side in results["sides"].as_array().unwrap() {
        for key in ["legacy_version", "candidate_version"] {
            let version = side[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key}: {side}"));
            assert!(
                !in_checkout || !version.starts_with("unknown"),
                "{key}: {side}"
            );
        }
    }
    assert_eq!(results["config"]["relative"], "parity.toml");
}

#[test]
fn regressions_suite_fails_and_points_at_each_bug() {
    let (output, results, out) = run_example(&["--suite", "regressions"]);
    assert_exit(&output, 1);
    assert!(
        results["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"]["kind"] == "different")
    );
    let expected = [
        (
            "override_then_newer_scan",
            "advisory_current.json $.advisories[?@.advisory_id=='pypi:urllib3:CVE-2025-31001'].state",
        ),
        (
            "zero_weight_dissent",
            "advisory_current.json $.advisories[?@.advisory_id=='npm:minimist:CVE-2025-31002'].dissenting_sources[?@=='sbom-inventory']",
        ),
        (
            "version_digit_rollover",
            "advisory_current.json $.advisories[?@.advisory_id=='pypi:markdown-it-py:CVE-2025-31004'].fixed_version",
        ),
        (
            "version_digit_rollover",
            "state_history.csv $[?@.advisory_id=='pypi:pillow:CVE-2025-31003' && @.seq=='1'].to_state",
        ),
        (
            "fullwidth_package_name",
            "advisory_current.json $.advisories[?@.advisory_id=='pypi:ｒｅｑｕｅｓｔｓ:CVE-2025-31005']",
        ),
        (
            "large_override_then_newer_scan",
            "advisory_current.json $.advisories[?@.advisory_id=='pypi:urllib3:CVE-2025-31001'].state",
        ),
    ];
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    for (fixture, path) in expected {
        assert!(
            paths_of(&results, fixture).iter().any(|p| p == path),
            "{fixture}: {path} not in {:#?}",
            paths_of(&results, fixture)
        );
        let (_, json_path) = path.split_once(' ').unwrap();
        assert!(
            report.contains(json_path),
            "report.md does not name {json_path}"
        );
    }
    let kept = Path::new(out.path())
        .join("outputs/regressions/zero_weight_dissent/candidate/out/advisory_current.json");
    assert!(kept.is_file(), "failing cases keep their outputs");
}

#[test]
fn committed_goldens_are_current_and_gate_on_their_own() {
    let check = parity()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["golden", "check"])
        .output()
        .unwrap();
    assert_exit(&check, 0);
    // Every suite has its goldens; `main` passes against them alone, without running the legacy.
    let (output, results, _out) = run_example(&["--against", "golden"]);
    assert_exit(&output, 0);
    for case in results["cases"].as_array().unwrap() {
        assert_eq!(
            case["against"],
            serde_json::json!(["golden"]),
            "{}",
            case["fixture"]
        );
        assert!(case["legacy"].is_null());
        // A scenario has a golden per step.
        let goldens: Vec<&serde_json::Value> = match case["steps"].as_array() {
            Some(steps) => steps.iter().map(|s| &s["golden"]).collect(),
            None => vec![&case["golden"]],
        };
        for golden in goldens {
            assert_eq!(
                golden["provenance"]["source"], "legacy",
                "{}",
                case["fixture"]
            );
        }
    }
    // With goldens present, the default compares with both.
    let (output, results, _out) = run_example(&["--fixture", "empty"]);
    assert_exit(&output, 0);
    assert_eq!(
        results["cases"][0]["against"],
        serde_json::json!(["legacy", "golden"])
    );
}

#[test]
fn performance_suite_outputs_agree() {
    // The candidate is slower on these fixtures (`parity bench` exits 3, see .ci/run), but its
    // outputs agree with the legacy's and with the goldens.
    let (output, results, _out) = run_example(&["--suite", "performance"]);
    assert_exit(&output, 0);
    assert_eq!(results["cases"].as_array().unwrap().len(), 2);
}

fn case_of<'a>(results: &'a Value, suite: &str, fixture: &str) -> &'a Value {
    results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["suite"] == suite && c["fixture"] == fixture)
        .unwrap_or_else(|| panic!("no case {suite}/{fixture}"))
}

#[test]
fn history_runs_three_nights_with_state_and_feed_its_own_legacy() {
    let (output, results, _out) = run_example(&["--suite", "history", "--suite", "feed"]);
    assert_exit(&output, 0);
    for fixture in ["late_delivery", "rolling_month", "triage_week"] {
        let case = case_of(&results, "history", fixture);
        let steps: Vec<&str> = case["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["step"].as_str().unwrap())
            .collect();
        assert_eq!(
            steps,
            ["1-baseline", "2-override", "3-upstream-fix"],
            "{fixture}"
        );
        // Each night's history holds the nights before it: the state was carried.
        let third = &case["steps"][2];
        assert!(
            third["legacy"]["argv"].to_string().contains("--state"),
            "{third}"
        );
        for step in case["steps"].as_array().unwrap() {
            assert_eq!(step["first_divergence"], Value::Null, "{step}");
            assert_eq!(step["stages"].as_array().map(Vec::len), Some(4), "{step}");
        }
    }
    let feed = case_of(&results, "feed", "typical_feed");
    assert!(
        feed["legacy"]["argv"]
            .to_string()
            .contains("feed_monolith.py"),
        "{feed}"
    );
    let sides = results["sides"].as_array().unwrap();
    assert!(
        sides
            .iter()
            .any(|s| s["suite"] == "feed" && s["own_legacy"] == true),
        "{sides:?}"
    );
}

#[test]
fn regressions_name_the_phase_each_bug_lives_in() {
    let (output, results, out) = run_example(&["--suite", "regressions"]);
    assert_exit(&output, 1);
    let expected = [
        ("override_then_newer_scan", "decide"),
        ("zero_weight_dissent", "normalise"),
        ("version_digit_rollover", "normalise"),
        ("fullwidth_package_name", "normalise"),
        ("large_override_then_newer_scan", "decide"),
    ];
    let cases = results["cases"].as_array().unwrap();
    assert_eq!(
        cases.len(),
        expected.len(),
        "one case per regression fixture"
    );
    for (fixture, stage) in expected {
        let case = case_of(&results, "regressions", fixture);
        assert_eq!(case["first_divergence"], stage, "{fixture}");
    }
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    // The bug alone and planted in main/large fail alike: the large one's other 20,000
    // records add no difference that is not waived or within tolerance.
    for fixture in ["override_then_newer_scan", "large_override_then_newer_scan"] {
        let scan = case_of(&results, "regressions", fixture);
        let statuses: Vec<(&str, &str)> = scan["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("ingest", "agree"),
                ("normalise", "agree"),
                ("decide", "diverged"),
                ("export", "blocked")
            ],
            "{fixture}"
        );
        let section = report
            .split(&format!("### regressions/{fixture} — different"))
            .nth(1)
            .unwrap_or_else(|| panic!("no section for {fixture}: {report}"));
        assert!(
            section.trim_start().starts_with(
                "**first divergence: decide (12 differences); 1 later stage and 3 outputs blocked**"
            ),
            "{fixture}: {section}"
        );
    }
    assert!(stdout(&output).contains("first divergence: decide"));
}

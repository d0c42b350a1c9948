//! Shards and `parity merge`: the shards of a run, merged, give exactly the verdicts, causes,
//! rule usage and exit code of the run made in one piece; a merge refuses what is not one run;
//! `--shard auto` reads each CI's variables; an empty shard passes; the performance gate's
//! correction counts the whole run in every shard.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{Project, assert_exit, parity, stderr};

fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = parity();
    command.current_dir(dir).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("parity runs")
}

fn results(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path.join("results.json")).expect("results"))
        .expect("JSON")
}

/// What must not change between a run in one piece and its shards merged.
fn essence(r: &Value) -> Value {
    let verdicts: BTreeMap<String, Value> = r["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let label = format!(
                "{}/{}",
                c["suite"].as_str().unwrap_or(""),
                c["fixture"].as_str().unwrap_or("")
            );
            // with --bench, each case's performance verdict too
            let performance = &c["bench"]["verdict"];
            (label, serde_json::json!([c["verdict"], performance]))
        })
        .collect();
    let clusters: Vec<Value> = r["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| {
            serde_json::json!([
                c["output"],
                c["pattern"],
                c["kind"],
                c["count"],
                c["waived"],
                c["cases"]
            ])
        })
        .collect();
    let rules: Vec<Value> = r["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|u| {
            serde_json::json!([
                u["id"],
                u["applied"],
                u["judged"],
                u["stale"],
                u["not_exercised"]
            ])
        })
        .collect();
    let waivers: Vec<Value> = r["waivers"]
        .as_array()
        .expect("waivers")
        .iter()
        .map(|w| w["applied"].clone())
        .collect();
    serde_json::json!({
        "verdicts": verdicts,
        "clusters": clusters,
        "rules": rules,
        "waivers": waivers,
        "by_verdict": r["summary"]["by_verdict"],
        "exit_code": r["summary"]["exit_code"],
        "cases": r["summary"]["cases"],
    })
}

/// Runs `args` on the example in one piece and in `n` shards of `kind`, merges them, and checks
/// the merge is the run.
fn shards_match_the_whole(args: &[&str], kind: &str, n: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let whole_dir = tmp.path().join("whole");
    let whole = run_in(
        root,
        &[&["run", "--out", whole_dir.to_str().unwrap_or("")], args].concat(),
        &[],
    );
    let mut files = Vec::new();
    for k in 1..=n {
        let dir = tmp.path().join(format!("shard-{k}"));
        let shard = format!("{kind}:{k}/{n}");
        let out = run_in(
            root,
            &[
                &[
                    "run",
                    "--shard",
                    &shard,
                    "--out",
                    dir.to_str().unwrap_or(""),
                ],
                args,
            ]
            .concat(),
            &[],
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{}",
            stderr(&out)
        );
        let r = results(&dir);
        assert_eq!(r["shard"]["index"], k);
        assert_eq!(r["shard"]["cases"], results(&whole_dir)["summary"]["cases"]);
        files.push(dir.join("results.json"));
    }
    let merged_dir = tmp.path().join("merged");
    let mut merge_args = vec!["merge".to_owned()];
    merge_args.extend(files.iter().map(|f| f.display().to_string()));
    merge_args.extend(["--out".to_owned(), merged_dir.display().to_string()]);
    let refs: Vec<&str> = merge_args.iter().map(String::as_str).collect();
    let merged = run_in(root, &refs, &[]);
    assert_eq!(
        merged.status.code(),
        whole.status.code(),
        "{}",
        stderr(&merged)
    );
    assert_eq!(
        essence(&results(&merged_dir)),
        essence(&results(&whole_dir))
    );
    let m = results(&merged_dir);
    assert_eq!(m["merged"]["shards"].as_array().map(Vec::len), Some(n));
    assert!(
        std::fs::read_to_string(merged_dir.join("report.md"))
            .expect("report.md")
            .contains("| Shards | merged from")
    );
}

#[test]
fn the_examples_default_run_merged_from_hash_shards_is_the_run() {
    // Suites main, history and feed: every rule's staleness is judged over the whole run again.
    shards_match_the_whole(&[], "hash", 3);
}

#[test]
fn the_examples_performance_gate_merged_from_shards_is_the_run() {
    // The candidate of suite performance is over twice as slow: exceeded (exit 3) in one piece
    // and merged, case by case; the gate's correction is the whole run's in each shard.
    shards_match_the_whole(
        &[
            "--suite",
            "performance",
            "--bench",
            "--runs",
            "5",
            "--max-runs",
            "5",
            "--warmup",
            "0",
        ],
        "slice",
        2,
    );
}

#[test]
fn a_failing_selection_merged_from_slices_is_the_run() {
    shards_match_the_whole(&["--suite", "regressions", "--suite", "feed"], "slice", 2);
}

fn small() -> Project {
    let project = Project::new("");
    for id in ["a", "b", "c", "d", "e"] {
        project.fixture(id, &["json", "{}"], &["json", "{}"]);
    }
    project
}

#[test]
fn a_merge_refuses_what_is_not_one_run() {
    let project = small();
    let dir = project.path();
    for k in 1..=3 {
        assert_exit(
            &run_in(
                dir,
                &[
                    "run",
                    "--shard",
                    &format!("{k}/3"),
                    "--out",
                    &format!("s{k}"),
                ],
                &[],
            ),
            0,
        );
    }
    let merge = |args: &[&str]| run_in(dir, &[&["merge", "--out", "m"], args].concat(), &[]);
    // A shard missing.
    let out = merge(&["s1/results.json", "s3/results.json"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("shard hash:2/3 of the run is missing"),
        "{}",
        stderr(&out)
    );
    // Merged anyway, it cannot pass: what is missing may fail.
    let out = merge(&["s1/results.json", "s3/results.json", "--allow-partial"]);
    assert_exit(&out, 2);
    assert_eq!(
        results(&dir.join("m"))["merged"]["missing"],
        serde_json::json!(["hash:2/3"])
    );
    assert!(
        std::fs::read_to_string(dir.join("m/report.md"))
            .expect("md")
            .contains("**partial**")
    );
    // A shard twice.
    let out = merge(&[
        "s1/results.json",
        "s1/results.json",
        "s2/results.json",
        "s3/results.json",
    ]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("given twice"), "{}", stderr(&out));
    // Dealt differently.
    assert_exit(
        &run_in(dir, &["run", "--shard", "slice:2/3", "--out", "x2"], &[]),
        0,
    );
    let out = merge(&["s1/results.json", "x2/results.json", "s3/results.json"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("dealt alike"), "{}", stderr(&out));
    // A whole run is not a shard.
    assert_exit(&run_in(dir, &["run", "--out", "w"], &[]), 0);
    let out = merge(&["w/results.json", "s2/results.json"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("not a shard"), "{}", stderr(&out));
    // Another configuration.
    project.edit_config(|text| text.replace("20s", "21s"));
    assert_exit(
        &run_in(dir, &["run", "--shard", "2/3", "--out", "c2"], &[]),
        0,
    );
    let out = merge(&["s1/results.json", "c2/results.json", "s3/results.json"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("configuration"), "{}", stderr(&out));
    // The shards as they were merge into a passing run of all five cases.
    let out = merge(&["s3/results.json", "s1/results.json", "s2/results.json"]);
    assert_exit(&out, 0);
    assert_eq!(results(&dir.join("m"))["summary"]["cases"], 5);
}

#[test]
fn an_empty_shard_passes_with_a_notice() {
    let project = Project::new("");
    project.fixture("only", &["json", "{}"], &["json", "{}"]);
    let dir = project.path();
    let holder = (1..=4)
        .find(|k| {
            let out = run_in(
                dir,
                &[
                    "run",
                    "--shard",
                    &format!("{k}/4"),
                    "--out",
                    &format!("s{k}"),
                ],
                &[],
            );
            results(&dir.join(format!("s{k}")))["summary"]["cases"] == 1 && out.status.success()
        })
        .expect("one shard holds the case");
    let empty = (1..=4).find(|k| *k != holder).expect("another shard");
    let out = run_in(
        dir,
        &["run", "--shard", &format!("{empty}/4"), "--out", "e"],
        &[],
    );
    assert_exit(&out, 0);
    assert!(
        crate::support::stdout(&out).contains("holds none of the run's 1 case"),
        "{}",
        crate::support::stdout(&out)
    );
}

#[test]
fn shard_auto_reads_each_ci_and_bazel_is_told() {
    let project = small();
    let dir = project.path();
    let cases_of = |name: &str| -> Vec<String> {
        results(&dir.join(name))["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| c["fixture"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_exit(
        &run_in(dir, &["run", "--shard", "2/3", "--out", "explicit"], &[]),
        0,
    );
    let status = dir.join("bazel-status");
    let engines: [(&str, Vec<(&str, String)>); 4] = [
        (
            "gitlab",
            vec![("CI_NODE_INDEX", "2".into()), ("CI_NODE_TOTAL", "3".into())],
        ),
        (
            "k8s",
            vec![
                ("JOB_COMPLETION_INDEX", "1".into()),
                ("PARITY_SHARD_TOTAL", "3".into()),
            ],
        ),
        (
            "slurm",
            vec![
                ("SLURM_ARRAY_TASK_ID", "6".into()),
                ("SLURM_ARRAY_TASK_MIN", "5".into()),
                ("SLURM_ARRAY_TASK_COUNT", "3".into()),
            ],
        ),
        (
            "bazel",
            vec![
                ("TEST_SHARD_INDEX", "1".into()),
                ("TEST_TOTAL_SHARDS", "3".into()),
                ("TEST_SHARD_STATUS_FILE", status.display().to_string()),
            ],
        ),
    ];
    for (name, env) in engines {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = run_in(dir, &["run", "--shard", "auto", "--out", name], &env);
        assert_exit(&out, 0);
        assert_eq!(cases_of(name), cases_of("explicit"), "{name}");
    }
    assert!(status.exists(), "Bazel's status file is touched");
    let out = run_in(dir, &["run", "--shard", "auto"], &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no CI shard variables found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_gate_counts_the_whole_run_in_every_shard() {
    let project = Project::new("");
    for id in ["a", "b", "c", "d"] {
        project.fixture(id, &["spin", "20000"], &["spin", "60000"]);
    }
    let dir = project.path();
    let bench = [
        "bench",
        "--runs",
        "3",
        "--max-runs",
        "3",
        "--warmup",
        "0",
        "--seed",
        "7",
    ];
    let whole = run_in(dir, &[&bench[..], &["--out", "whole"]].concat(), &[]);
    let mut files = Vec::new();
    for k in 1..=2 {
        let out = run_in(
            dir,
            &[
                &bench[..],
                &["--shard", &format!("{k}/2"), "--out", &format!("s{k}")],
            ]
            .concat(),
            &[],
        );
        assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
        let r = results(&dir.join(format!("s{k}")));
        assert_eq!(
            r["bench"]["fixture_confidence"],
            results(&dir.join("whole"))["bench"]["fixture_confidence"],
            "a shard corrects for the whole run's cases, not its own"
        );
        files.push(format!("s{k}/results.json"));
    }
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let merged = run_in(dir, &[&["merge", "--out", "m"], &refs[..]].concat(), &[]);
    // Timings differ from run to run; what the merge must not change is how it decides.
    assert!(
        matches!(whole.status.code(), Some(0 | 3)),
        "{}",
        stderr(&whole)
    );
    assert!(
        matches!(merged.status.code(), Some(0 | 3)),
        "{}",
        stderr(&merged)
    );
    let m = results(&dir.join("m"));
    assert_eq!(
        m["bench"]["fixture_confidence"],
        results(&dir.join("whole"))["bench"]["fixture_confidence"]
    );
}

#[test]
fn shards_write_pending_goldens_that_combine_and_check_sees_no_orphan() {
    // Both sides write `{"v": $V}`; V comes from the configuration, so the legacy can change
    // what it writes without the fixtures (and their goldens' input hashes) changing.
    let side = |name: &str| {
        format!(
            "[{name}]\ncmd = [\"sh\", \"-c\", 'echo \"{{\\\"v\\\": $V}}\" > \"$0/result.json\"', \"{{out}}\"]\nenv = {{ V = \"1\" }}\n"
        )
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "{}{}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*.json\"]\n",
        side("legacy"),
        side("candidate")
    );
    std::fs::write(dir.path().join("parity.toml"), &config).expect("config");
    std::fs::create_dir(dir.path().join("fixtures")).expect("fixtures");
    for id in ["a", "b", "c", "d", "e"] {
        std::fs::write(dir.path().join(format!("fixtures/{id}.json")), "{}").expect("fixture");
    }
    let dir = dir.path();
    assert_exit(&run_in(dir, &["golden", "record"], &[]), 0);
    std::fs::write(
        dir.join("parity.toml"),
        config.replace("V = \"1\"", "V = \"2\""),
    )
    .expect("config");
    // Each shard writes the pending updates of its own cases; together they are every case's.
    for k in 1..=2 {
        let out = run_in(
            dir,
            &[
                "run",
                "--shard",
                &format!("{k}/2"),
                "--out",
                &format!("s{k}"),
            ],
            &[],
        );
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    }
    let check = run_in(dir, &["golden", "check"], &[]);
    assert_exit(&check, 1);
    let text = crate::support::stdout(&check);
    assert_eq!(text.matches("pending:").count(), 5, "{text}");
    assert!(
        !text.contains("orphan") && !text.contains("stale"),
        "{text}"
    );
}

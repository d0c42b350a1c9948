//! The README's CI examples (`examples/ci/`), each run by a small fake of its engine: the
//! commands the file holds, executed here as the engine would execute them — with the
//! variables it sets, once per shard, artifacts moved as it moves them — then the merge. The
//! merged results must be those of the same run in one piece.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{Project, stderr};

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/ci")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A project of five cases, one of which differs.
fn project() -> Project {
    let project = Project::new("");
    for id in ["a", "b", "c", "d"] {
        project.fixture(id, &["json", "{}"], &["json", "{}"]);
    }
    project.fixture(
        "e-differs",
        &["json", r#"{"n": 1}"#],
        &["json", r#"{"n": 2}"#],
    );
    project
}

/// `sh -c script` in `dir` with `parity` on PATH and `env` set, as a CI step runs it.
fn sh(dir: &Path, script: &str, env: &[(&str, String)]) -> Output {
    let parity = assert_cmd::cargo::cargo_bin("parity");
    let bin = parity.parent().map(Path::to_owned).unwrap_or_default();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("sh runs")
}

/// The lines of `text` holding a `parity` command, without what the file format puts around
/// them (`- run:`, `- `).
fn commands(text: &str, verb: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| {
            let l = l.strip_prefix("- ").unwrap_or(l);
            let l = l.strip_prefix("run: ").unwrap_or(l);
            l.starts_with(&format!("parity {verb}"))
                .then(|| l.to_owned())
        })
        .collect()
}

fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("JSON")
}

/// The merged run is the run in one piece: same exit code, same verdict for every case.
fn assert_merge_is_the_run(project: &Project, merge: &Output, merged: &Path) {
    let whole = sh(project.path(), "parity run --out whole", &[]);
    assert_eq!(
        merge.status.code(),
        whole.status.code(),
        "{}",
        stderr(merge)
    );
    let verdicts = |r: &Value| -> Vec<(String, Value)> {
        r["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| {
                (
                    c["fixture"].as_str().unwrap_or("").to_owned(),
                    c["verdict"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        verdicts(&results(merged)),
        verdicts(&results(&project.path().join("whole")))
    );
    assert_eq!(results(merged)["summary"]["cases"], 5);
}

#[test]
fn github_actions_matrix_then_merge() {
    let file = example("github-actions.yml");
    let project = project();
    let dir = project.path();
    assert!(file.contains("shard: [1, 2, 3, 4]"));
    let [shard_step, merge_step] = [commands(&file, "run"), commands(&file, "merge")].map(|c| {
        assert_eq!(c.len(), 1, "{c:?}");
        c[0].clone()
    });
    for k in 1..=4 {
        let step = shard_step.replace("${{ matrix.shard }}", &k.to_string());
        let out = sh(dir, &step, &[]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        // upload-artifact `parity-shard-K`, then download-artifact into shards/<name>/.
        let from = dir.join(format!("reports/shard-{k}"));
        let to: PathBuf = dir.join(format!("shards/parity-shard-{k}"));
        std::fs::create_dir_all(&to).expect("artifact dir");
        std::fs::copy(from.join("results.json"), to.join("results.json")).expect("artifact");
    }
    let merge = sh(dir, &merge_step, &[]);
    assert_merge_is_the_run(&project, &merge, &dir.join("reports/merged"));
}

#[test]
fn gitlab_parallel_then_a_needs_merge_job() {
    let file = example("gitlab-ci.yml");
    let project = project();
    let dir = project.path();
    assert!(file.contains("parallel: 4"));
    let shard_script = commands(&file, "run");
    for index in 1..=4 {
        let env = [
            ("CI_NODE_INDEX", index.to_string()),
            ("CI_NODE_TOTAL", "4".to_owned()),
        ];
        for line in &shard_script {
            let out = sh(dir, line, &env);
            assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        }
    }
    let merge = sh(dir, &commands(&file, "merge")[0], &[]);
    assert_merge_is_the_run(&project, &merge, &dir.join("reports/merged"));
}

/// The `sh -c` script of a container's `command: ["sh", "-c", "…"]`.
fn container_scripts(file: &str) -> Vec<String> {
    file.lines()
        .filter_map(|l| l.trim().strip_prefix("command: "))
        .filter_map(|array| serde_json::from_str::<Vec<String>>(array).ok())
        .filter_map(|argv| argv.get(2).cloned())
        .collect()
}

#[test]
fn kubernetes_indexed_job_then_a_merge_job() {
    let file = example("k8s-indexed-job.yaml");
    let project = project();
    let dir = project.path();
    assert!(file.contains("completionMode: Indexed") && file.contains("backoffLimitPerIndex"));
    assert!(file.contains("completions: 4"));
    let results_dir = dir.join("volume");
    let scripts: Vec<String> = container_scripts(&file)
        .into_iter()
        // The volume mounted at /results is a directory here.
        .map(|s| s.replace(" /results/", &format!(" {}/", results_dir.display())))
        .collect();
    assert_eq!(scripts.len(), 2, "{scripts:?}");
    for index in 0..4 {
        let env = [
            ("JOB_COMPLETION_INDEX", index.to_string()),
            ("PARITY_SHARD_TOTAL", "4".to_owned()),
        ];
        let pod = sh(dir, &scripts[0], &env);
        // A pod that found differences still completes: the Job completes, the merge runs.
        assert_eq!(pod.status.code(), Some(0), "{}", stderr(&pod));
    }
    let merge = sh(dir, &scripts[1], &[]);
    assert_merge_is_the_run(&project, &merge, &results_dir.join("merged"));
}

#[test]
fn slurm_array_then_an_afterok_merge() {
    let shards = example("slurm-shards.sbatch");
    let project = project();
    let dir = project.path();
    assert!(shards.contains("#SBATCH --array=1-4"));
    std::fs::write(dir.join("shards.sbatch"), &shards).expect("script");
    std::fs::write(dir.join("merge.sbatch"), example("slurm-merge.sbatch")).expect("script");
    for id in 1..=4 {
        let env = [
            ("SLURM_ARRAY_TASK_ID", id.to_string()),
            ("SLURM_ARRAY_TASK_MIN", "1".to_owned()),
            ("SLURM_ARRAY_TASK_MAX", "4".to_owned()),
            ("SLURM_ARRAY_TASK_COUNT", "4".to_owned()),
        ];
        let task = sh(dir, "bash shards.sbatch", &env);
        // afterok: the merge runs only when every task exits 0.
        assert_eq!(task.status.code(), Some(0), "{}", stderr(&task));
    }
    let merge = sh(dir, "bash merge.sbatch", &[]);
    assert_merge_is_the_run(&project, &merge, &dir.join("reports/merged"));
}

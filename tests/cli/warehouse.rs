//! The example's `warehouse` suite against a real PostgreSQL server: both sides load their
//! advisories into a schema of their own (`{run_id}`), each table is exported with psql's `\copy`
//! and compared keyed, and teardown drops every schema. Each test starts its own private cluster
//! (unix socket only) with `scripts/pg_cluster.sh`, as CI does; without PostgreSQL's server
//! binaries these tests fail and say what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{assert_exit, parity, stderr};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A running cluster, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pg")
            .tempdir_in("/tmp")
            .unwrap();
        let script = repo().join("scripts/pg_cluster.sh");
        let output = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "starting a PostgreSQL cluster with {} failed (CI installs Debian's `postgresql`):\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let env = line
            .trim_start_matches("export ")
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>();
        assert!(env.iter().any(|(k, _)| k == "PGHOST"), "{line}");
        Self { dir, env }
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    fn schemas(&self) -> Vec<String> {
        let output = self
            .command("psql")
            .args(["--no-psqlrc", "--tuples-only", "--no-align", "--command"])
            .arg("select nspname from pg_namespace where nspname like 'parity\\_%' order by 1")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// `parity run --suite warehouse` with `config`, reports in a temp dir.
    fn run(&self, config: &Path, cwd: &Path) -> (Output, Value, tempfile::TempDir) {
        let out = tempfile::tempdir().unwrap();
        let output = parity()
            .current_dir(cwd)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(["--suite", "warehouse", "--out"])
            .arg(out.path())
            .output()
            .unwrap();
        let results = std::fs::read_to_string(out.path().join("results.json"))
            .unwrap_or_else(|e| panic!("results.json: {e}\n{}", stderr(&output)));
        (output, serde_json::from_str(&results).unwrap(), out)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/pg_cluster.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

fn outputs_of(case: &Value) -> Vec<&Value> {
    case["outputs"].as_array().unwrap().iter().collect()
}

#[test]
fn the_example_warehouse_suite_passes_and_drops_every_schema() {
    let cluster = Cluster::start();
    let (output, results, _out) = cluster.run(&repo().join("parity.toml"), repo());
    assert_exit(&output, 0);
    let cases = results["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9, "{}", stderr(&output));
    for case in cases {
        let names: Vec<&str> = outputs_of(case)
            .iter()
            .filter_map(|o| o["output"].as_str())
            .collect();
        for table in ["warehouse.pg#advisories", "warehouse.pg#state_history"] {
            assert!(names.contains(&table), "{}: {names:?}", case["fixture"]);
        }
        assert!(
            !names.contains(&"warehouse.pg"),
            "the schema's name file is not compared"
        );
    }
    for case in cases {
        for o in outputs_of(case) {
            if !o["output"]
                .as_str()
                .unwrap_or("")
                .starts_with("warehouse.pg#")
            {
                continue;
            }
            assert!(
                ["identical", "equivalent"].contains(&o["status"].as_str().unwrap_or("")),
                "{}: {o}",
                case["fixture"]
            );
        }
    }
    assert!(
        cluster.schemas().is_empty(),
        "teardown leaves no schema: {:?}",
        cluster.schemas()
    );
}

/// The same suite over the regression fixtures: the bugs that show in the JSON export show in
/// the tables too, row by row, and failing cases are torn down as well.
#[test]
fn the_warehouse_tables_show_the_regressions() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let examples = repo().join("examples");
    let mut config = std::fs::read_to_string(repo().join("parity.toml"))
        .unwrap()
        .replace("\"examples/", &format!("\"{}/", examples.display()));
    let suite = config.find("[suites.warehouse]").unwrap();
    let main = suite + config[suite..].find("fixtures/main").unwrap();
    config.replace_range(main..main + "fixtures/main".len(), "fixtures/regressions");
    let path: PathBuf = dir.path().join("parity.toml");
    std::fs::write(&path, config).unwrap();

    let (output, results, out) = cluster.run(&path, dir.path());
    assert_exit(&output, 1);
    let mut table_paths = Vec::new();
    for case in results["cases"].as_array().unwrap() {
        for o in outputs_of(case) {
            if o["output"]
                .as_str()
                .unwrap_or("")
                .starts_with("warehouse.pg#")
            {
                for d in o["differences"].as_array().unwrap() {
                    table_paths.push(format!("{} {}", o["output"], d["path"]));
                }
            }
        }
    }
    assert!(
        table_paths
            .iter()
            .any(|p| p.contains("warehouse.pg#advisories") && p.contains("dissenting")),
        "{table_paths:?}"
    );
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(report.contains("warehouse.pg#advisories"), "{report}");
    assert!(cluster.schemas().is_empty(), "{:?}", cluster.schemas());
}

/// No server that psql reaches: `requires` skips the suite, with a notice, and the run passes.
#[test]
fn without_a_server_the_warehouse_suite_is_skipped() {
    let nowhere = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = parity()
        .current_dir(repo())
        .env("PGHOST", nowhere.path())
        .env("PGPORT", "54329")
        .args(["run", "--suite", "warehouse", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let err = stderr(&output);
    assert!(err.contains("suite `warehouse` skipped"), "{err}");
    assert!(err.contains("pg_isready"), "{err}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).unwrap())
            .unwrap();
    assert!(results["cases"].as_array().unwrap().is_empty());
}

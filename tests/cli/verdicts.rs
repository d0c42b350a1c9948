//! Verdicts a careful reviewer agrees with: numbers in CSV cells, JSON streams, unordered
//! arrays as multisets, rules that judged values, through `parity diff` and `parity run`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{assert_exit, parity, stderr, stdout};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// `parity diff` with `--output json`: the exit status and the parsed report.
fn diff(args: &[&str]) -> (Output, Value) {
    let output = parity()
        .arg("diff")
        .args(args)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let parsed = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, parsed)
}

fn kinds(parsed: &Value) -> Vec<(String, String)> {
    parsed["differences"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|d| {
                    let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
                    (text("path"), text("kind"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn equivalences(parsed: &Value, kind: &str) -> u64 {
    parsed["equivalences"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["kind"] == kind))
        .and_then(|e| e["count"].as_u64())
        .unwrap_or(0)
}

#[test]
fn csv_cells_that_are_numbers_compare_as_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(dir.path(), "l.csv", "id,c,n\n1,0.3,007\n2,1.0,5\n");
    let r = write(
        dir.path(),
        "r.csv",
        "id,c,n\n1,0.30000000000000004,7\n2,1,5e0\n",
    );
    for key in [&[][..], &["--key", "id"][..]] {
        // Without a tolerance the float noise is a change; `1.0`, `1` and `5e0` are not.
        let (output, parsed) = diff(&[&[&*l, &*r][..], key].concat());
        assert_exit(&output, 1);
        let path = if key.is_empty() {
            "$[0].c"
        } else {
            "$[?@.id=='1'].c"
        };
        assert_eq!(kinds(&parsed), [(path.to_owned(), "changed".to_owned())]);
        // With one, the cells are equal within it, and spellings are equivalences.
        let (output, parsed) = diff(&[&[&*l, &*r, "--tolerance", "c=1e-9"][..], key].concat());
        assert_exit(&output, 0);
        assert_eq!(equivalences(&parsed, "within_tolerance"), 1, "{parsed}");
        assert_eq!(equivalences(&parsed, "number_format"), 3, "{parsed}");
        // --strict-numbers makes the spellings count, leading zeros included.
        let (output, parsed) = diff(
            &[
                &[&*l, &*r, "--tolerance", "c=1e-9", "--strict-numbers"][..],
                key,
            ]
            .concat(),
        );
        assert_exit(&output, 1);
        assert_eq!(kinds(&parsed).len(), 3, "{parsed}");
        assert!(kinds(&parsed).iter().all(|(_, k)| k == "number_format"));
    }
    // Text that is not a plain decimal stays text.
    let l = write(dir.path(), "a.csv", "id,c\n1,\"1,000\"\n2, 1\n");
    let r = write(dir.path(), "b.csv", "id,c\n1,1000\n2,1\n");
    let (output, parsed) = diff(&[&l, &r, "--tolerance", "c=1"]);
    assert_exit(&output, 1);
    assert_eq!(kinds(&parsed).len(), 2, "{parsed}");
}

#[test]
fn the_readme_csv_example_with_a_tolerance_passes_on_float_noise() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(
        dir.path(),
        "old.csv",
        "advisory_id,seq,confidence,state\nA-1,1,0.1,open\nA-1,2,0.7,fixed\nA-2,1,0.3,open\n",
    );
    let r = write(
        dir.path(),
        "new.csv",
        "seq,advisory_id,state,confidence\n1,A-2,open,0.30000000000000004\n2,A-1,fixed,0.7000000000000001\n1,A-1,open,0.1\n",
    );
    let output = parity()
        .args([
            "diff",
            &l,
            &r,
            "--key",
            "advisory_id,seq",
            "--tolerance",
            "confidence=1e-9",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("within_tolerance"),
        "{}",
        stdout(&output)
    );
}

/// A project whose sides copy the fixture's `legacy.EXT` / `candidate.EXT` to `{out}/out.EXT`.
fn copy_project(ext: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let side = |name: &str| {
        format!(
            "[{name}]\ncmd = [\"sh\", \"-c\", 'cp \"$1/{name}.{ext}\" \"$2/out.{ext}\"', \"side\", \"{{fixture}}\", \"{{out}}\"]\n"
        )
    };
    let config = format!(
        "{}{}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*/\"]\n\n{extra}",
        side("legacy"),
        side("candidate")
    );
    std::fs::write(dir.path().join("parity.toml"), config).unwrap();
    dir
}

fn copy_fixture(project: &Path, id: &str, ext: &str, legacy: &str, candidate: &str) {
    let fixture = project.join("fixtures").join(id);
    std::fs::create_dir_all(&fixture).unwrap();
    std::fs::write(fixture.join(format!("legacy.{ext}")), legacy).unwrap();
    std::fs::write(fixture.join(format!("candidate.{ext}")), candidate).unwrap();
}

/// The `(path, kind)` of every stored difference of `output` in case `id`, sorted.
fn run_differences(project: &Path, id: &str, output: &str) -> (Vec<(String, String)>, Value) {
    let results = results(project);
    let case = results["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["fixture"] == id))
        .unwrap_or_else(|| panic!("no case {id}: {results}"));
    let out = case["outputs"]
        .as_array()
        .and_then(|outputs| outputs.iter().find(|o| o["output"] == output))
        .unwrap_or_else(|| panic!("{output} compared: {case}"))
        .clone();
    let mut found: Vec<(String, String)> = out["differences"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|d| {
                    let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
                    (text("path"), text("kind"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    (found, out)
}

fn run(project: &Path, args: &[&str]) -> Output {
    parity()
        .current_dir(project)
        .arg("run")
        .args(args)
        .output()
        .unwrap()
}

fn results(project: &Path) -> Value {
    let text = std::fs::read_to_string(project.join("reports/latest/results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn four_real_differences_among_float_noise_are_the_four() {
    // 358 rows × 5 float columns = 1,790 cells, every one moved by float noise on the
    // candidate's side, and 4 of them really changed.
    let mut legacy = String::from("id,a,b,c,d,e\n");
    let mut candidate = legacy.clone();
    let real = [(17, 'b'), (101, 'e'), (202, 'a'), (350, 'c')];
    for row in 0..358 {
        let _ = write!(legacy, "{row}");
        let _ = write!(candidate, "{row}");
        for (i, column) in ['a', 'b', 'c', 'd', 'e'].into_iter().enumerate() {
            let x = row as f64 * 0.1 + i as f64 * 0.01;
            let noisy = (x * 3.0) / 3.0 + x * 1e-15;
            let moved = if real.contains(&(row, column)) {
                x + 0.5
            } else {
                noisy
            };
            let _ = write!(legacy, ",{x}");
            let _ = write!(candidate, ",{moved}");
        }
        legacy.push('\n');
        candidate.push('\n');
    }
    let project = copy_project(
        "csv",
        "[[compare]]\noutput = \"out.csv\"\nformat = \"csv\"\nkey = [\"id\"]\ntolerance = [{ path = \"$[*].*\", abs = 1e-9 }]\n",
    );
    copy_fixture(project.path(), "noisy", "csv", &legacy, &candidate);
    let output = run(project.path(), &[]);
    assert_exit(&output, 1);
    let (found, out) = run_differences(project.path(), "noisy", "out.csv");
    let mut expected: Vec<(String, String)> = real
        .iter()
        .map(|(row, column)| {
            (
                format!("$[?@.id=='{row}'].{column}"),
                "over_tolerance".to_owned(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(found, expected, "{out}");
    let noise = out["equivalences"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "within_tolerance"))
        .and_then(|e| e["count"].as_u64())
        .unwrap_or(0);
    assert!(noise > 1_000, "{noise} cells within tolerance: {out}");
    // The rule judged values: it is not stale.
    let rules = results(project.path())["rules"].clone();
    assert_eq!(rules[0]["stale"], false, "{rules}");
}

#[test]
fn a_json_stream_compares_as_a_sequence() {
    let dir = tempfile::tempdir().unwrap();
    // What `jq '.[]'` prints: pretty-printed values one after another.
    let l = write(
        dir.path(),
        "l.json",
        "{\n  \"id\": 1,\n  \"a\": 1\n}\n{\n  \"id\": 2,\n  \"a\": 2\n}\n",
    );
    let same = write(
        dir.path(),
        "same.json",
        "{\"a\": 1, \"id\": 1} {\"a\": 2.0, \"id\": 2}",
    );
    let changed = write(
        dir.path(),
        "changed.json",
        "\u{1e}{\"id\":1,\"a\":1}\n\u{1e}{\"id\":2,\"a\":3}\n",
    );
    let (output, _) = diff(&[&l, &same]);
    assert_exit(&output, 0);
    let (output, parsed) = diff(&[&l, &changed]);
    assert_exit(&output, 1);
    assert_eq!(
        kinds(&parsed),
        [("$[1].a".to_owned(), "changed".to_owned())]
    );
    // Matching rules apply at `$` as for an array.
    let (output, parsed) = diff(&[&l, &changed, "--key", "$=id"]);
    assert_exit(&output, 1);
    assert_eq!(
        kinds(&parsed),
        [("$[?@.id==2].a".to_owned(), "changed".to_owned())]
    );
    // Without an extension, the stream is detected as JSON.
    let l = write(dir.path(), "l", "{\"a\": 1}\n{\"a\": 2}\n");
    let r = write(dir.path(), "r", "{\"a\": 1}\n{\"a\": 5}\n");
    let (output, parsed) = diff(&[&l, &r]);
    assert_exit(&output, 1);
    assert_eq!(
        kinds(&parsed),
        [("$[1].a".to_owned(), "changed".to_owned())]
    );
}

#[test]
fn unordered_arrays_are_multisets_and_sets_list_multiplicity() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(dir.path(), "l.json", r#"{"s": ["x", "x", "y"]}"#);
    let r = write(dir.path(), "r.json", r#"{"s": ["y", "x", "y"]}"#);
    let (output, parsed) = diff(&[&l, &r, "--unordered", "$.s"]);
    assert_exit(&output, 1);
    assert_eq!(
        kinds(&parsed),
        [
            ("$.s[?@=='x']".to_owned(), "removed".to_owned()),
            ("$.s[?@=='y']".to_owned(), "added".to_owned())
        ]
    );
    let (output, parsed) = diff(&[&l, &r, "--match", "$.s=set"]);
    assert_exit(&output, 0);
    assert_eq!(equivalences(&parsed, "multiplicity"), 2, "{parsed}");
    let output = parity()
        .args(["diff", &l, &r, "--match", "$.s=set"])
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("multiplicity"),
        "{}",
        stdout(&output)
    );
    // `as = "unordered"` in a config is the same multiset.
    let project = copy_project(
        "json",
        "[[compare]]\noutput = \"out.json\"\nformat = \"json\"\nmatch = [{ path = \"$.s\", as = \"unordered\" }]\n",
    );
    copy_fixture(
        project.path(),
        "f",
        "json",
        r#"{"s": ["x", "x", "y"]}"#,
        r#"{"s": ["y", "x", "y"]}"#,
    );
    let output = run(project.path(), &[]);
    assert_exit(&output, 1);
    let (found, _) = run_differences(project.path(), "f", "out.json");
    assert_eq!(
        found,
        [
            ("$.s[?@=='x']".to_owned(), "removed".to_owned()),
            ("$.s[?@=='y']".to_owned(), "added".to_owned())
        ],
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_rule_that_judged_values_but_allowed_none_is_not_stale() {
    let project = copy_project(
        "csv",
        "[[compare]]\noutput = \"out.csv\"\nformat = \"csv\"\ntolerance = [{ path = \"score\", abs = 1e-12 }]\n",
    );
    copy_fixture(
        project.path(),
        "over",
        "csv",
        "id,score\n1,0.5\n2,0.25\n",
        "id,score\n1,0.6\n2,0.35\n",
    );
    let output = run(project.path(), &[]);
    assert_exit(&output, 1);
    let (found, _) = run_differences(project.path(), "over", "out.csv");
    assert!(
        found.iter().all(|(_, k)| k == "over_tolerance"),
        "{found:?}"
    );
    let rule = results(project.path())["rules"][0].clone();
    assert_eq!(
        (&rule["applied"], &rule["judged"], &rule["stale"]),
        (&Value::from(0), &Value::from(2), &Value::from(false)),
        "{rule}"
    );
    assert!(
        !stderr(&output).contains("still needed"),
        "{}",
        stderr(&output)
    );
    let report = std::fs::read_to_string(project.path().join("reports/latest/report.md")).unwrap();
    assert!(report.contains("0 (judged 2, allowed none)"), "{report}");
}

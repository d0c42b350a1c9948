//! Moved and reordered text lines: `moved` (line a → line b) instead of a removed and an added
//! line, and one `order_changed` for a text of the same lines in another order, through
//! `parity diff` and `parity run`.

use std::path::Path;

use serde_json::Value;

use crate::support::{Project, assert_exit, output_of, parity, stdout};

/// Writes `files` (name, text) under `dir`.
fn write_all(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Each difference's path, kind, left and right.
fn found(differences: &Value) -> Vec<(String, String, Value, Value)> {
    differences
        .as_array()
        .expect("a differences array")
        .iter()
        .map(|d| {
            let text = |key: &str| d[key].as_str().unwrap_or_default().to_owned();
            (
                text("path"),
                text("kind"),
                d["left"].clone(),
                d["right"].clone(),
            )
        })
        .collect()
}

fn moved(path: &str, left: &str, right: &str) -> (String, String, Value, Value) {
    (path.into(), "moved".into(), left.into(), right.into())
}

#[test]
fn diff_reports_moved_lines_and_reordered_texts() {
    let dir = tempfile::tempdir().unwrap();
    write_all(
        dir.path(),
        &[
            ("moved-l.txt", "id\nalpha\nbeta\ngamma\ndelta\n"),
            ("moved-r.txt", "id\nbeta\ngamma\nalpha\ndelta\nepsilon\n"),
            ("sorted-l.txt", "Zebra\napple\nMango\n"),
            ("sorted-r.txt", "apple\nMango\nZebra\n"),
        ],
    );
    let diff = |l: &str, r: &str| {
        let output = parity()
            .current_dir(dir.path())
            .args(["diff", l, r, "--output", "json"])
            .output()
            .unwrap();
        assert_exit(&output, 1);
        serde_json::from_slice::<Value>(&output.stdout).expect("JSON on stdout")
    };
    let parsed = diff("moved-l.txt", "moved-r.txt");
    assert_eq!(
        found(&parsed["differences"]),
        [
            moved("@@ -2 +4 @@", "alpha", "alpha"),
            (
                "@@ -5,0 +6 @@".into(),
                "added".into(),
                Value::Null,
                "epsilon".into()
            ),
        ]
    );
    let parsed = diff("sorted-l.txt", "sorted-r.txt");
    let differences = parsed["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{parsed}");
    assert_eq!(
        (&differences[0]["path"], &differences[0]["kind"]),
        (&Value::from("$"), &Value::from("order_changed"))
    );
    assert_eq!(
        differences[0]["note"],
        "the same 3 lines in another order; first difference at line 1; 1 line out of place"
    );
    // The other way round the line moves back.
    let parsed = diff("moved-r.txt", "moved-l.txt");
    assert_eq!(
        found(&parsed["differences"])[0],
        moved("@@ -4 +2 @@", "alpha", "alpha")
    );
}

#[test]
fn diff_prints_moved_lines_for_people() {
    let dir = tempfile::tempdir().unwrap();
    write_all(
        &dir.path().join("legacy"),
        &[
            (
                "moved.txt",
                "header\nalpha\nbeta\ngamma\ndelta\nold ending\n",
            ),
            ("sorted.txt", "Zebra\napple\nMango\nbanana\n"),
        ],
    );
    write_all(
        &dir.path().join("candidate"),
        &[
            (
                "moved.txt",
                "header\nbeta\ngamma\ndelta\nalpha\nnew ending\n",
            ),
            ("sorted.txt", "apple\nbanana\nMango\nZebra\n"),
        ],
    );
    let output = parity()
        .current_dir(dir.path())
        .args(["diff", "legacy", "candidate"])
        .output()
        .unwrap();
    assert_exit(&output, 1);
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn run_reports_moved_lines_and_reordered_texts_of_a_text_output() {
    let extra = r#"
[[compare]]
output = "notes.txt"
format = "text"
normalize = [{ pattern = '^run \d+$', replace = "run <n>" }]
"#;
    let project = Project::new(extra);
    project
        .fixture(
            "moved",
            &["text", "header\\nrun 1\\nalpha\\nbeta\\ngamma"],
            &["text", "header\\nalpha\\nbeta\\ngamma\\nrun 2\\ndelta"],
        )
        .fixture(
            "sorted",
            &["text", "Zebra\\napple\\nMango"],
            &["text", "apple\\nMango\\nZebra"],
        )
        .fixture("same", &["text", "run 1\\nok"], &["text", "run 2\\nok"]);
    let output = project.run(&[]);
    assert_exit(&output, 1);
    assert_eq!(project.case("same")["verdict"]["kind"], "equivalent");

    // The run id line moved, and the rule that makes `run 1` and `run 2` equal applied before
    // the lines were paired; each side's line is kept as written.
    let case = project.case("moved");
    assert_eq!(case["verdict"]["kind"], "different");
    let notes = output_of(&case, "notes.txt");
    assert_eq!(
        found(&notes["differences"]),
        [
            moved("@@ -2 +5 @@", "run 1", "run 2"),
            (
                "@@ -5,0 +6 @@".into(),
                "added".into(),
                Value::Null,
                "delta".into()
            ),
        ]
    );

    let case = project.case("sorted");
    assert_eq!(case["verdict"]["kind"], "different");
    let notes = output_of(&case, "notes.txt");
    assert_eq!(notes["total"], 1);
    assert_eq!(notes["differences"][0]["kind"], "order_changed");
    assert_eq!(
        notes["differences"][0]["note"],
        "the same 3 lines in another order; first difference at line 1; 1 line out of place"
    );

    // Causes across cases, by kind.
    let clusters: Vec<(String, String)> = project.results()["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let text = |key: &str| c[key].as_str().unwrap_or_default().to_owned();
            (text("pattern"), text("kind"))
        })
        .collect();
    for cause in [("@@", "moved"), ("@@", "added"), ("$", "order_changed")] {
        assert!(
            clusters.contains(&(cause.0.to_owned(), cause.1.to_owned())),
            "{cause:?} not in {clusters:?}"
        );
    }

    // People read where the line was and is.
    let report = project.report_md();
    assert!(
        report.contains(r#"| `@@ -2 +5 @@` | moved | `"run 1"` | `"run 2"` | line 2 → line 5 |"#),
        "{report}"
    );
    assert!(
        report.contains("| `$` | order_changed |")
            && report.contains("the same 3 lines in another order"),
        "{report}"
    );
    let summary = stdout(&output);
    assert!(
        summary.contains(r#"@@ -2 +5 @@ moved: line 2 → line 5: "run 1", as "run 2""#),
        "{summary}"
    );
}

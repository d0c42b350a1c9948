//! Calibrations built from synthetic repeats: what is covered, what only the candidate has,
//! runs that ended differently, and the sample every rendering test uses.

use serde_json::{Value, json};

use super::observe::{Evidence, Example, Key, Line, Numbers, Observation, Order, RepeatFindings};
use super::*;

/// A configuration with two compare blocks, parsed from text in a temporary directory.
pub(crate) fn config() -> Config {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[legacy]\ncmd = [\"legacy\", \"{fixture}\", \"{out}\"]\n\n[candidate]\ncmd = [\"candidate\", \"{fixture}\", \"{out}\"]\n\n[suites.main]\nroot = \".\"\ninclude = [\"*/\"]\n\n[[compare]]\noutput = \"advisory_current.json\"\nformat = \"json\"\nignore = [\"$.generated_at\", \"$.host\"]\nmatch = [{ path = \"$.tags\", as = \"aligned\" }]\n\n[[compare]]\noutput = \"report.md\"\nformat = \"text\"\n";
    crate::config::parse(&dir.path().join("parity.toml"), text).expect("valid config")
}

struct Seen<'a> {
    output: &'a str,
    format: Format,
    pattern: &'a str,
    kind: DiffKind,
    block: Option<usize>,
    example: (&'a str, Value, Value),
    evidence: Evidence,
}

fn seen<'a>(output: &'a str, pattern: &'a str, kind: DiffKind) -> Seen<'a> {
    let (format, block) = match output {
        "advisory_current.json" => (Format::Json, Some(0)),
        "report.md" => (Format::Text, Some(1)),
        _ => (Format::Json, None),
    };
    Seen {
        output,
        format,
        pattern,
        kind,
        block,
        example: (pattern, Value::Null, Value::Null),
        evidence: Evidence::default(),
    }
}

impl Seen<'_> {
    fn example(mut self, path: &'static str, first: Value, repeat: Value) -> Self {
        self.example = (path, first, repeat);
        self
    }

    fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = evidence;
        self
    }

    fn observation(&self) -> Observation {
        Observation {
            key: Key {
                output: self.output.into(),
                pattern: self.pattern.into(),
                kind: self.kind,
            },
            format: Some(self.format),
            block: self.block,
            values: 1,
            example: Example {
                path: self.example.0.into(),
                first: Some(self.example.1.clone()).filter(|v| !v.is_null()),
                repeat: Some(self.example.2.clone()).filter(|v| !v.is_null()),
            },
            evidence: self.evidence.clone(),
        }
    }
}

/// What each repeat shows: `raw` everything, `ruled` what the rules leave.
fn repeat(raw: &[&Seen<'_>], ruled: &[&Seen<'_>]) -> RepeatFindings {
    RepeatFindings {
        raw: raw.iter().map(|s| s.observation()).collect(),
        ruled: ruled.iter().map(|s| s.observation()).collect(),
        notes: Vec::new(),
    }
}

/// Two fixtures, three runs of each side. Both sides stamp a time (covered), a run id and a
/// report line (not covered), sum floats in another order and shuffle `stamp.json`; only the
/// candidate reorders its advisories (a finding) and writes its host name (covered); the
/// candidate's second run on `main/b` fails.
pub(crate) fn sample() -> Calibration {
    let generated = seen("advisory_current.json", "$.generated_at", DiffKind::Changed).example(
        "$.generated_at",
        json!("2026-11-22T10:00:01Z"),
        json!("2026-11-22T10:00:02Z"),
    );
    let run_id = seen("advisory_current.json", "$.run_id", DiffKind::Changed).example(
        "$.run_id",
        json!("legacy-1795363885-21620"),
        json!("legacy-1795363885-21662"),
    );
    let score = seen(
        "advisory_current.json",
        "$.advisories[*].score",
        DiffKind::Changed,
    )
    .example(
        "$.advisories[3].score",
        json!(0.6000000000000001),
        json!(0.6),
    )
    .evidence(Evidence {
        numbers: Some(Numbers {
            count: 1,
            noise: 1,
            max_delta: 1.1102230246251565e-16,
        }),
        ..Evidence::default()
    });
    let report_line = seen("report.md", "Generated at: …", DiffKind::Changed)
        .example(
            "@@ -3 +3 @@",
            json!("2026-11-22T10:00:01Z"),
            json!("2026-11-22T10:00:02Z"),
        )
        .evidence(Evidence {
            line: Some(Line {
                prefix: "Generated at: ".into(),
                suffix: String::new(),
                middles: ["2026-11-22T10:00:01Z".into(), "2026-11-22T10:00:02Z".into()].into(),
                single_words: true,
            }),
            ..Evidence::default()
        });
    let added_lines = seen("report.md", "@@", DiffKind::Added).example(
        "@@ -9,0 +10 @@",
        Value::Null,
        json!("retrying nvd.json"),
    );
    let shuffled = seen("stamp.json", "$.items", DiffKind::OrderChanged).evidence(Evidence {
        order: Some(Order {
            keys: Some(["id".to_owned()].into()),
        }),
        ..Evidence::default()
    });
    let tags = seen("advisory_current.json", "$.tags", DiffKind::OrderChanged).evidence(Evidence {
        order: Some(Order { keys: None }),
        ..Evidence::default()
    });
    let advisories = seen(
        "advisory_current.json",
        "$.advisories",
        DiffKind::OrderChanged,
    );
    let host = seen("advisory_current.json", "$.host", DiffKind::Changed).example(
        "$.host",
        json!("worker-1"),
        json!("worker-2"),
    );

    let cases = vec!["main/a".to_owned(), "main/b".to_owned()];
    let mut calibrator = Calibrator::new(3, cases.clone());
    let legacy_raw = [
        &generated,
        &run_id,
        &score,
        &report_line,
        &added_lines,
        &shuffled,
        &tags,
    ];
    let legacy_ruled = [
        &run_id,
        &score,
        &report_line,
        &added_lines,
        &shuffled,
        &tags,
    ];
    for case in &cases {
        for run in 1..=3 {
            let failed = case == "main/b" && run == 2;
            let status = |failed: bool| RunStatus::Exited {
                code: if failed { 3 } else { 0 },
            };
            calibrator.record_status(case, Side::Legacy, &status(false));
            calibrator.record_status(case, Side::Candidate, &status(failed));
            if run == 1 {
                continue;
            }
            calibrator.record_repeat(case, Side::Legacy, run, repeat(&legacy_raw, &legacy_ruled));
            if failed {
                continue;
            }
            let mut raw = legacy_raw.to_vec();
            raw.extend([&advisories, &host]);
            let mut ruled = legacy_ruled.to_vec();
            ruled.push(&advisories);
            calibrator.record_repeat(case, Side::Candidate, run, repeat(&raw, &ruled));
        }
    }
    calibrator.finish(&config())
}

#[test]
fn raw_variation_is_covered_when_nothing_varies_there_under_the_rules() {
    let calibration = sample();
    let covered: Vec<(&str, bool)> = calibration
        .legacy
        .varies
        .iter()
        .map(|v| (v.pattern.as_str(), v.covered == Some(true)))
        .collect();
    assert!(covered.contains(&("$.generated_at", true)));
    assert!(covered.contains(&("$.run_id", false)));
    assert!(covered.contains(&("Generated at: …", false)));
    let generated = &calibration.legacy.varies[0];
    assert_eq!(
        (generated.repeats, generated.fixtures, generated.values),
        (4, 2, 4)
    );
    assert_eq!(calibration.legacy.repeats, 4);
    assert_eq!(
        calibration.candidate.repeats, 3,
        "the failed repeat is not compared"
    );
}

#[test]
fn candidate_only_variation_and_runs_that_ended_differently_are_findings() {
    let calibration = sample();
    let findings = &calibration.findings;
    let only: Vec<&str> = findings
        .candidate_only
        .iter()
        .map(|v| v.pattern.as_str())
        .collect();
    assert_eq!(only, ["$.advisories"]);
    let covered: Vec<&str> = findings
        .candidate_only_covered
        .iter()
        .map(|v| v.pattern.as_str())
        .collect();
    assert_eq!(covered, ["$.host"]);
    assert_eq!(
        findings.inconsistent_runs,
        [InconsistentRuns {
            case: "main/b".into(),
            side: Side::Candidate,
            statuses: vec!["exit 0".into(), "exit 3".into(), "exit 0".into()],
        }]
    );
    assert_eq!(calibration.exit_code, exit_code::DIFFERENT);
}

#[test]
fn proposals_go_into_existing_blocks_or_new_ones() {
    let calibration = sample();
    let blocks: Vec<(&str, Option<usize>, Vec<&str>)> = calibration
        .proposal
        .blocks
        .iter()
        .map(|b| {
            (
                b.output.as_str(),
                b.existing.as_ref().map(|e| e.number),
                b.rules.iter().map(|r| r.rule.key()).collect(),
            )
        })
        .collect();
    assert_eq!(
        blocks,
        [
            (
                "advisory_current.json",
                Some(1),
                vec!["tolerance", "ignore", "match"]
            ),
            ("report.md", Some(2), vec!["normalize"]),
            ("stamp.json", None, vec!["match"]),
        ]
    );
    let tags = &calibration.proposal.blocks[0].rules[2];
    assert!(
        tags.shadowed_by
            .as_deref()
            .is_some_and(|w| w.contains("as aligned")),
        "{tags:?}"
    );
    assert_eq!(calibration.proposal.unproposed.len(), 1);
    let parsed: toml::Table =
        toml::from_str(&calibration.proposed_toml).expect("the proposal parses as TOML");
    let compares = parsed["compare"].as_array().unwrap();
    assert_eq!(compares.len(), 3);
    assert_eq!(
        compares[2]["match"][0]["by"].as_str(),
        Some("id"),
        "{}",
        calibration.proposed_toml
    );
    assert_eq!(compares[0]["tolerance"][0]["abs"].as_float(), Some(1e-15));
    assert!(
        compares
            .iter()
            .flat_map(|c| c.as_table().unwrap().values())
            .filter_map(|v| v.as_array())
            .flatten()
            .all(|rule| rule["reason"].as_str() == Some(propose::REASON))
    );
}

#[test]
fn the_proposal_appended_to_the_config_validates() {
    let calibration = sample();
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}\n{}", config().source, calibration.proposed_toml);
    let appended = crate::config::parse(&dir.path().join("parity.toml"), &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(appended.compares.len(), 5);
}

#[test]
fn a_side_that_never_started_is_harness_trouble() {
    let mut calibrator = Calibrator::new(2, vec!["main/a".into()]);
    let spawn = RunStatus::SpawnFailed {
        message: "No such file or directory".into(),
    };
    for _ in 0..2 {
        calibrator.record_status("main/a", Side::Legacy, &RunStatus::Exited { code: 0 });
        calibrator.record_status("main/a", Side::Candidate, &spawn);
    }
    assert_eq!(
        calibrator.unstartable(),
        Some((Side::Candidate, "No such file or directory".into()))
    );
}

#[test]
fn consistent_failures_are_notes() {
    let mut calibrator = Calibrator::new(2, vec!["main/a".into()]);
    for _ in 0..2 {
        calibrator.record_status("main/a", Side::Legacy, &RunStatus::Exited { code: 2 });
        calibrator.record_status("main/a", Side::Candidate, &RunStatus::Exited { code: 0 });
    }
    let calibration = calibrator.finish(&config());
    assert_eq!(calibration.exit_code, exit_code::OK);
    assert_eq!(calibration.notes.len(), 1);
    assert!(calibration.notes[0].contains("legacy ended the same way in every run (exit 2)"));
}

#[test]
fn related_patterns() {
    assert!(related("$.a", "$.a"));
    assert!(related("$.a", "$.a[*].b"));
    assert!(related("$.a[*].b", "$.a"));
    assert!(!related("$.a", "$.ab"));
    assert!(related("$", "$.a"));
    assert!(related("Run id: …", "Run id: …"));
    assert!(!related("Run id: …", "Generated at: …"));
    assert!(related("@@", "Run id: …"));
}

#[test]
fn json_document_is_stable() {
    let calibration = sample();
    let value = serde_json::to_value(&calibration).unwrap();
    assert_eq!(value["format_version"], 1);
    assert_eq!(
        value["findings"]["candidate_only"][0]["pattern"],
        "$.advisories"
    );
    assert_eq!(value["proposal"]["blocks"][2]["rules"][0]["rule"], "match");
    assert_eq!(value["proposal"]["blocks"][2]["rules"][0]["by"], "id");
    assert!(value["legacy"]["varies"][0].get("evidence").is_none());
}

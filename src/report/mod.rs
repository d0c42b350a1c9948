//! Reports, each rendered from [`RunResults`] alone (so `parity report` can re-render any past
//! run): `results.json` ([`json`]), the sign-off `report.md` ([`markdown`]) and `report.html`
//! ([`html`]) laid out from one [`view`] of the run, `junit.xml` ([`junit`]), GitHub's step
//! summary and annotations ([`github`]), the terminal summary ([`terminal`]), and one case
//! explained ([`explain`]).
//! Every failing case carries the command that reruns it alone ([`rerun`]), quoted for a
//! POSIX shell ([`shell`]).

pub mod explain;
pub mod github;
pub mod html;
pub mod human;
pub mod inert;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod rerun;
pub mod shell;
mod svg;
pub mod terminal;
pub mod view;

pub use rerun::rerun_command;
pub use shell::{command_line, shell_quote};

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::outcome::{GoldenCheck, RunResults};

/// A report format written to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// results.json, the source of truth.
    Json,
    /// report.md, for release sign-off.
    Md,
    /// junit.xml, for CI test views.
    Junit,
    /// report.html, for people: one self-contained page.
    Html,
    /// The GitHub Actions step summary (and the annotations, on stdout).
    Github,
}

impl ReportFormat {
    /// Every format `parity run` writes.
    pub const ALL: [ReportFormat; 4] = [
        ReportFormat::Json,
        ReportFormat::Md,
        ReportFormat::Junit,
        ReportFormat::Html,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Json => "results.json",
            ReportFormat::Md => "report.md",
            ReportFormat::Junit => "junit.xml",
            ReportFormat::Html => "report.html",
            ReportFormat::Github => "github-summary.md",
        }
    }

    pub fn renderer(self) -> &'static dyn Render {
        match self {
            ReportFormat::Json => &json::Json,
            ReportFormat::Md => &markdown::Markdown,
            ReportFormat::Junit => &junit::Junit,
            ReportFormat::Html => &html::Html,
            ReportFormat::Github => &github::Github,
        }
    }
}

/// Renders a whole run as one document.
pub trait Render: Sync {
    fn render(&self, results: &RunResults) -> Result<String, ReportError>;
}

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to serialise results")]
    Serialise(#[from] serde_json::Error),
    #[error("failed to render JUnit XML")]
    Junit(#[from] quick_junit::SerializeError),
    #[error("failed to render the HTML report")]
    Html(#[from] minijinja::Error),
    #[error("failed to write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a parity results file", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Writes every report format into `dir`; results.json first, each file atomically.
pub fn write_all(dir: &Path, results: &RunResults) -> Result<Vec<PathBuf>, ReportError> {
    ReportFormat::ALL
        .iter()
        .map(|format| {
            let path = dir.join(format.file_name());
            write_atomic(&path, format.renderer().render(results)?.as_bytes())?;
            Ok(path)
        })
        .collect()
}

/// The mode of every report file: readable by all, like any build artefact.
const REPORT_MODE: u32 = 0o644;

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`, so a reader
/// never sees half a file and an interrupted write leaves the old one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    // A temporary file is private (0600); a report is a build artefact others read.
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(REPORT_MODE))
        .map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// Reads a results.json written by any run.
pub fn read_results(path: &Path) -> Result<RunResults, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ReportError::Parse {
        path: path.to_owned(),
        source,
    })
}

/// Where a case's golden came from, on one line: `golden/main/small, recorded
/// 2026-11-22T10:00:00Z from the legacy (version 3f2c1e0) with parity 0.1.0`, and whether it is stale or has a pending
/// update.
pub fn golden_origin(golden: &GoldenCheck) -> String {
    let p = &golden.provenance;
    let version = p
        .version
        .as_ref()
        .map(|v| format!(" (version {v})"))
        .unwrap_or_default();
    let mut text = format!(
        "{}, recorded {} from the {}{version} with parity {}",
        golden.path, p.recorded_at, p.source, p.parity_version
    );
    if golden.stale {
        text.push_str("; STALE: the fixture's inputs changed since");
    }
    if let Some(pending) = &golden.pending {
        text.push_str(&format!("; pending update in {pending}"));
    }
    text
}

/// A scenario's steps on one line, for people: `1-baseline identical · 2-override different (3
/// differences) · 3-upstream-fix blocked (a side failed at 2-override)`; `None` for a case
/// without steps.
pub fn steps_line(case: &crate::outcome::CaseOutcome) -> Option<String> {
    if case.steps.is_empty() {
        return None;
    }
    let steps: Vec<String> = case
        .steps
        .iter()
        .map(|step| {
            let unwaived: usize = step.outputs.iter().map(|o| o.total - o.waived).sum();
            let count = if unwaived > 0 {
                format!(" ({})", crate::units::plural(unwaived, "difference"))
            } else {
                String::new()
            };
            format!("{} {}{count}", step.step, step.describe())
        })
        .collect();
    Some(steps.join(" · "))
}

/// A JSON value on one line, shortened to about `max` characters, safe to show (see [`inert`]).
pub fn short_value(value: Option<&serde_json::Value>, max: usize) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = inert::inert_line(&value.to_string()).into_owned();
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// A moved text line for people, its text shortened to about `max` characters: `line 12 → line
/// 40: "text"` (with the right side's text too when the rules made two texts equal); `None`
/// for any other difference.
pub fn moved_summary(d: &crate::diff::Difference, max: usize) -> Option<String> {
    let (from, to) = crate::diff::text::moved_lines(d)?;
    let text = short_value(d.left.as_ref(), max);
    Some(if d.left == d.right {
        format!("line {from} → line {to}: {text}")
    } else {
        let right = short_value(d.right.as_ref(), max);
        format!("line {from} → line {to}: {text}, as {right}")
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::diff::{DiffKind, Difference, Format, OutputStatus};
    use crate::outcome::*;
    use crate::runner::{RunStatus, SideRun, StreamInfo};

    fn side(wall_ms: f64, status: RunStatus, stderr_tail: &str) -> SideRun {
        SideRun {
            argv: vec!["python3".into(), "legacy/monolith.py".into()],
            env: Vec::new(),
            cwd: "/repo".into(),
            status,
            wall_ms,
            user_ms: Some(wall_ms * 0.8),
            sys_ms: Some(wall_ms * 0.1),
            peak_rss_kib: Some(20_480),
            stdout: StreamInfo {
                bytes: 0,
                truncated: false,
            },
            stderr: StreamInfo {
                bytes: stderr_tail.len() as u64,
                truncated: false,
            },
            stderr_tail: stderr_tail.into(),
            notes: Vec::new(),
        }
    }

    fn case(
        fixture: &str,
        verdict: Verdict,
        outputs: Vec<OutputComparison>,
        candidate: SideRun,
    ) -> CaseOutcome {
        CaseOutcome {
            id: crate::fixture::CaseId {
                suite: "main".into(),
                fixture: fixture.into(),
                variant: None,
            },
            verdict,
            inputs: None,
            against: vec![crate::outcome::Reference::Legacy],
            legacy: Some(side(120.0, RunStatus::Exited { code: 0 }, "")),
            candidate,
            outputs,
            golden: None,
            kept_outputs: None,
            notes: Vec::new(),
            bench: None,
            steps: Vec::new(),
            stages: Default::default(),
        }
    }

    fn output(name: &str, status: OutputStatus, differences: Vec<Difference>) -> OutputComparison {
        OutputComparison {
            output: name.into(),
            format: Some(Format::Json),
            compare: Some(0),
            status,
            total: differences.len(),
            waived: differences.iter().filter(|d| d.waiver.is_some()).count(),
            clusters: differences
                .iter()
                .map(|d| OutputCluster {
                    pattern: crate::diff::model::fold_path(&d.path),
                    kind: d.kind,
                    count: 1,
                    waived: usize::from(d.waiver.is_some()),
                })
                .collect(),
            equivalences: Vec::new(),
            notes: Vec::new(),
            differences,
            blocked_by: None,
            table: None,
        }
    }

    /// A run with one case of each interesting kind, built by hand.
    pub(crate) fn sample() -> RunResults {
        let ok = side(100.0, RunStatus::Exited { code: 0 }, "");
        let mut waived = Difference::new(
            "$.advisories[?@.advisory_id=='ADV-2'].explanation",
            DiffKind::Changed,
        )
        .left(json!("Fixed in 2.4.1 according to OSV"))
        .right(json!("OSV reports a fix in 2.4.1"));
        waived.waiver = Some(0);
        let cases = vec![
            case("empty", Verdict::Equivalent, vec![output("advisory_current.json", OutputStatus::Equivalent, vec![])], ok.clone()),
            case(
                "fixed",
                Verdict::Waived,
                vec![OutputComparison {
                    equivalences: vec![Equivalence {
                        kind: DiffKind::NumberFormat,
                        count: 2,
                        examples: vec![Difference::new("$.advisories[?@.advisory_id=='ADV-2'].cvss", DiffKind::NumberFormat)
                            .left(json!(7))
                            .right(json!(7.0))],
                    }],
                    ..output("advisory_current.json", OutputStatus::Waived, vec![waived])
                }],
                ok.clone(),
            ),
            case(
                "override-precedence",
                Verdict::Different,
                vec![
                    output(
                        "advisory_current.json",
                        OutputStatus::Different,
                        vec![
                            Difference::new("$.advisories[?@.advisory_id=='ADV-7'].state", DiffKind::Changed)
                                .left(json!("not_affected"))
                                .right(json!("affected")),
                            Difference::new("$.advisories[?@.advisory_id=='ADV-7'].dissenting_sources[?@=='osv']", DiffKind::Removed)
                                .left(json!("osv")),
                            Difference::new("$.advisories[?@.advisory_id=='ADV-8'].confidence", DiffKind::OverTolerance)
                                .left(json!(0.75))
                                .right(json!(0.5))
                                .note("differs by 2.5e-1, tolerance abs 1e-9"),
                        ],
                    ),
                    OutputComparison {
                        format: None,
                        ..output(
                            "state_history.csv",
                            OutputStatus::Different,
                            vec![Difference::new("$", DiffKind::MissingFile)
                                .left(json!({ "bytes": 5120 }))
                                .note("the candidate did not write `state_history.csv`")],
                        )
                    },
                ],
                ok.clone(),
            ),
            case(
                "crash",
                Verdict::CandidateFailed,
                vec![],
                side(80.0, RunStatus::Exited { code: 3 }, "Traceback (most recent call last):\nValueError: bad | pipe"),
            ),
        ];
        let mut results = RunResults {
            format_version: FORMAT_VERSION,
            tool: ToolInfo {
                name: "parity".into(),
                version: "0.0.0-test".into(),
            },
            started_at: "2026-11-22T10:00:00Z".into(),
            finished_at: "2026-11-22T10:00:04Z".into(),
            interrupted: false,
            config: ConfigInfo {
                path: "/repo/parity.toml".into(),
                relative: None,
                hash: "blake3:0123abcd".into(),
                source: "[legacy]\n".into(),
            },
            environment: Environment {
                os: "linux".into(),
                arch: "x86_64".into(),
                cpu: Some("Test CPU".into()),
                cores: 2,
                kernel: Some("6.1.0".into()),
                hostname: None,
            },
            measurement: Measurement {
                helper_floor_kib: Some(1900),
                parity_peak_rss_kib: None,
            },
            selection: SelectionInfo {
                suites: vec!["main".into()],
                fixtures: vec![],
                variants: vec![],
                jobs: 2,
                narrowed: false,
                skipped: Vec::new(),
            },
            shard: None,
            merged: None,
            provenance: None,
            sides: Vec::new(),
            cases,
            not_run: vec![],
            clusters: Vec::new(),
            bench: None,
            rules: vec![
                RuleUsage {
                    id: 0,
                    compare: 0,
                    output: "advisory_current.json".into(),
                    kind: "ignore".into(),
                    path: Some("$.generated_at".into()),
                    detail: "ignored".into(),
                    reason: Some("timestamp".into()),
                    owner: Some("data-eng".into()),
                    expires: None,
                    applied: 4,
                    judged: 0,
                    stale: false,
                    not_exercised: false,
                    expired: false,
                },
                RuleUsage {
                    id: 1,
                    compare: 0,
                    output: "advisory_current.json".into(),
                    kind: "tolerance".into(),
                    path: Some("$..score".into()),
                    detail: "abs 1e-9".into(),
                    reason: None,
                    owner: None,
                    expires: None,
                    applied: 0,
                    judged: 0,
                    stale: true,
                    not_exercised: false,
                    expired: false,
                },
            ],
            waivers: vec![
                WaiverUsage {
                    index: 0,
                    path: Some("$.advisories[*].explanation".into()),
                    output: None,
                    fixture: None,
                    value: Some("^OSV reports a fix in ".into()),
                    reason: "wording changed on purpose, ticket 123".into(),
                    owner: "jane".into(),
                    expires: Some("2027-03-01".into()),
                    expired: false,
                    applied: 1,
                },
                WaiverUsage {
                    index: 1,
                    path: Some("$.legacy_field".into()),
                    output: Some("*.json".into()),
                    fixture: None,
                    value: None,
                    reason: "dropped".into(),
                    owner: "bob".into(),
                    expires: Some("2026-01-01".into()),
                    expired: true,
                    applied: 0,
                },
            ],
            summary: Summary::default(),
        };
        results.summarise();
        results
    }

    #[test]
    fn markdown_report() {
        insta::assert_snapshot!(markdown::Markdown.render(&sample()).unwrap());
    }

    #[test]
    fn junit_report() {
        insta::assert_snapshot!(junit::Junit.render(&sample()).unwrap());
    }

    #[test]
    fn results_json() {
        let text = json::Json.render(&sample()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        insta::assert_json_snapshot!(value, {
            ".cases[].*.wall_ms" => "[ms]",
            ".cases[].*.user_ms" => "[ms]",
            ".cases[].*.sys_ms" => "[ms]",
            ".cases[].*.cwd" => "[path]",
            ".config.path" => "[path]",
        });
    }

    /// Twelve pairs of a unit whose candidate takes `factor` times the legacy's time, with a
    /// little deterministic jitter, evaluated under `settings`.
    pub(crate) fn measured(
        settings: &crate::bench::BenchSettings,
        factor: f64,
        seed: usize,
    ) -> crate::bench::CaseBench {
        use crate::bench::{Pair, Sample};
        let pairs = (0..12)
            .map(|k| {
                let jitter = 1.0 + ((k * 7 % 5) as f64 - 2.0) / 200.0;
                let legacy = Sample {
                    wall_ms: 100.0 * jitter,
                    cpu_ms: 90.0 * jitter,
                    rss_kib: 20_480.0,
                };
                let candidate = Sample {
                    wall_ms: 100.0 * factor / jitter,
                    cpu_ms: 90.0 * factor / jitter,
                    rss_kib: 20_992.0,
                };
                Pair {
                    legacy_first: k % 2 == 0,
                    legacy,
                    candidate,
                    valid: true,
                    note: None,
                }
            })
            .collect();
        crate::bench::evaluate(
            settings,
            pairs,
            settings.fixture_confidence(2),
            100 + seed as u64,
        )
    }

    /// A keyed CSV that differs (rows on each side only, a changed value, a numeric change, a
    /// column on each side only, an ignored one, a hostile column name and key) and a keyed
    /// NDJSON file that agrees.
    fn keyed_tables() -> Vec<OutputComparison> {
        use crate::diff::{ColumnSummary, Largest, TableSide, TableSummary};
        let column = |name: &str, unequal: u64| ColumnSummary {
            name: name.into(),
            only: None,
            ignored: false,
            unequal,
            largest: None,
        };
        let differing = TableSummary {
            key: vec!["advisory_id".into()],
            rows_both: 999_998,
            only_left: 1,
            only_right: 2,
            identical: 999_990,
            differing: 8,
            duplicate_keys_left: 0,
            duplicate_keys_right: 1,
            columns: vec![
                column("advisory_id", 0),
                column("state", 5),
                ColumnSummary {
                    largest: Some(Largest {
                        by: 0.125,
                        key: [("advisory_id".to_owned(), json!("A-7"))]
                            .into_iter()
                            .collect(),
                    }),
                    ..column("confidence", 3)
                },
                ColumnSummary {
                    largest: Some(Largest {
                        by: 1_500_000.0,
                        key: [("advisory_id".to_owned(), json!("<i>A-9</i> | `x`"))]
                            .into_iter()
                            .collect(),
                    }),
                    ..column("<b>cvss</b> | `x`", 1)
                },
                column("package", 0),
                ColumnSummary {
                    ignored: true,
                    ..column("updated_at", 0)
                },
                ColumnSummary {
                    only: Some(TableSide::Left),
                    ..column("legacy_note", 0)
                },
                ColumnSummary {
                    only: Some(TableSide::Right),
                    ..column("run_id", 0)
                },
            ],
        };
        let agreeing = TableSummary {
            key: vec!["id".into()],
            rows_both: 1_000_000,
            only_left: 0,
            only_right: 0,
            identical: 1_000_000,
            differing: 0,
            duplicate_keys_left: 0,
            duplicate_keys_right: 0,
            columns: vec![column("id", 0), column("scanner", 0)],
        };
        vec![
            OutputComparison {
                format: Some(Format::Csv),
                table: Some(differing),
                ..output(
                    "state_history.csv",
                    OutputStatus::Different,
                    vec![
                        Difference::new("$[?@.advisory_id=='A-7'].confidence", DiffKind::Changed)
                            .left(json!("0.75"))
                            .right(json!("0.625")),
                        Difference::new("$[?@.advisory_id=='A-3']", DiffKind::Removed)
                            .left(json!({"advisory_id": "A-3", "state": "fixed"})),
                    ],
                )
            },
            OutputComparison {
                format: Some(Format::Ndjson),
                table: Some(agreeing),
                ..output("scanners.ndjson", OutputStatus::Equivalent, vec![])
            },
        ]
    }

    /// Everything a report shows at once: steps (one blocked), stages (a first divergence and
    /// what it blocks), passing and waived cases with the performance gate's measurements,
    /// waivers (one expired) and rules, and a value from a hostile program.
    fn everything() -> RunResults {
        let mut results = pipeline_sample();
        let hostile = json!("<script>alert(1)</script>\u{1b}[31m | `tick` & done");
        results.cases[1].outputs[1].differences[0].right = Some(hostile);
        results.cases[1].outputs.extend(keyed_tables());
        let base = sample();
        let settings = crate::bench::BenchSettings {
            seed: 7,
            ..crate::bench::BenchSettings::default()
        };
        for (i, mut case) in base
            .cases
            .into_iter()
            .filter(|c| c.verdict.is_success())
            .enumerate()
        {
            case.bench = Some(measured(&settings, 1.0 + 0.02 * i as f64, i));
            results.cases.push(case);
        }
        results.bench = Some(crate::bench::summarise(
            &settings,
            results.cases.len(),
            results.cases.iter().filter_map(|c| c.bench.as_ref()),
        ));
        results.waivers = base.waivers;
        results.rules = base.rules;
        results.config.relative = Some("parity.toml".into());
        results.provenance = Some(Provenance {
            repository: Some(Repository {
                root: "/repo".into(),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                branch: Some("main".into()),
                dirty: true,
                changes: vec!["M parity.toml".into()],
            }),
            run_by: RunBy {
                user: "jane".into(),
                ci: Some(CiJob {
                    system: "github-actions".into(),
                    actor: Some("octocat".into()),
                    run_id: Some("42".into()),
                    url: Some("https://github.com/acme/migration/actions/runs/42".into()),
                }),
            },
        });
        results.summarise();
        results
    }

    #[test]
    fn every_format_from_one_run() {
        let results = everything();
        insta::assert_snapshot!(
            "everything_md",
            markdown::Markdown.render(&results).unwrap()
        );
        insta::assert_snapshot!("everything_html", html::Html.render(&results).unwrap());
        insta::assert_snapshot!("everything_junit", junit::Junit.render(&results).unwrap());
        insta::assert_snapshot!(
            "everything_github",
            github::Github.render(&results).unwrap()
        );
        let view = view::RunView::of(&results);
        insta::assert_snapshot!(
            "everything_annotations",
            github::annotations(&view).join("\n")
        );
        let mut terminal = Vec::new();
        terminal::write_summary(&mut terminal, &results, &[]).unwrap();
        insta::assert_snapshot!("everything_terminal", String::from_utf8(terminal).unwrap());
        let json: serde_json::Value =
            serde_json::from_str(&json::Json.render(&results).unwrap()).unwrap();
        insta::assert_json_snapshot!("everything_json", json);
        // No format lets the hostile value act: no raw escape anywhere; in HTML no markup of
        // its own; in Markdown only inside a code span, as the quoted value it is.
        let html = html::Html.render(&results).unwrap();
        assert!(!html.contains("<script>alert"));
        for text in [
            markdown::Markdown.render(&results).unwrap(),
            html,
            github::Github.render(&results).unwrap(),
        ] {
            assert!(!text.contains('\u{1b}'));
            // Always the quoted JSON value, which every format puts in a code span.
            assert_eq!(
                text.matches("<script>alert").count(),
                text.matches("`\"<script>alert").count()
                    + text.matches("`` \"<script>alert").count(),
                "{text}"
            );
        }
    }

    /// A run with a case whose `decide` stage diverged (export and the final output blocked by
    /// it) and a scenario whose candidate failed at its second step (the third blocked), with
    /// its own legacy for the scenario's suite.
    fn pipeline_sample() -> RunResults {
        let ok = side(100.0, RunStatus::Exited { code: 0 }, "");
        let changed = |path: &str, l: serde_json::Value, r: serde_json::Value| {
            Difference::new(path, DiffKind::Changed).left(l).right(r)
        };
        let blocked = |mut o: OutputComparison| {
            o.blocked_by = Some("decide".into());
            o
        };
        let stage = |name: &str, status: StageStatus, by: Option<&str>, n: usize| StageOutcome {
            name: name.into(),
            status,
            blocked_by: by.map(Into::into),
            differences: n,
        };
        let mut staged = case(
            "override_then_newer_scan",
            Verdict::Different,
            vec![
                output("stage:ingest", OutputStatus::Identical, vec![]),
                output(
                    "stage:decide",
                    OutputStatus::Different,
                    vec![changed(
                        "$.advisories[?@.advisory_id=='A-1'].state",
                        json!("affected"),
                        json!("fixed"),
                    )],
                ),
                blocked(output(
                    "stage:export",
                    OutputStatus::Different,
                    vec![changed(
                        "$.advisories[?@.advisory_id=='A-1'].state",
                        json!("affected"),
                        json!("fixed"),
                    )],
                )),
                blocked(output(
                    "advisory_current.json",
                    OutputStatus::Different,
                    vec![changed(
                        "$.advisories[?@.advisory_id=='A-1'].state",
                        json!("affected"),
                        json!("fixed"),
                    )],
                )),
            ],
            ok.clone(),
        );
        staged.id.suite = "regressions".into();
        staged.stages = Stages {
            stages: vec![
                stage("ingest", StageStatus::Agree, None, 0),
                stage("decide", StageStatus::Diverged, None, 1),
                stage("export", StageStatus::Blocked, Some("decide"), 1),
            ],
            first_divergence: Some(Some("decide".into())),
        };
        let step = |name: &str, verdict: Option<Verdict>, candidate: Option<SideRun>| StepOutcome {
            step: name.into(),
            blocked_by: verdict.is_none().then(|| "2-override".into()),
            legacy: verdict.as_ref().map(|_| ok.clone()),
            candidate,
            outputs: Vec::new(),
            golden: None,
            notes: Vec::new(),
            bench: None,
            stages: Stages::default(),
            verdict,
        };
        let failed = side(
            90.0,
            RunStatus::Exited { code: 3 },
            "error: state is corrupt",
        );
        let mut scenario = case("week", Verdict::CandidateFailed, vec![], failed.clone());
        scenario.id.suite = "history".into();
        scenario.steps = vec![
            step("1-baseline", Some(Verdict::Identical), Some(ok.clone())),
            step("2-override", Some(Verdict::CandidateFailed), Some(failed)),
            step("3-upstream-fix", None, None),
        ];
        scenario
            .notes
            .push("a side failed at step 2-override: 1 later step was not run".into());
        let mut results = sample();
        results.cases = vec![scenario, staged];
        results.selection.suites = vec!["history".into(), "regressions".into()];
        results.sides = vec![
            SuiteSides {
                suite: "history".into(),
                legacy: "python3 legacy.py --state {state}".into(),
                own_legacy: true,
                candidate: "python3 -m pipeline --state {state}".into(),
                own_candidate: true,
                legacy_version: Some("3f2c1aa".into()),
                candidate_version: Some("unknown (`version_cmd` failed (exit status: 1))".into()),
            },
            SuiteSides {
                suite: "regressions".into(),
                legacy: "python3 legacy.py".into(),
                own_legacy: false,
                candidate: "python3 -m pipeline".into(),
                own_candidate: false,
                legacy_version: None,
                candidate_version: None,
            },
        ];
        results.rules.clear();
        results.waivers.clear();
        results.summarise();
        results
    }

    #[test]
    fn markdown_leads_with_the_first_divergence_and_shows_steps() {
        let results = pipeline_sample();
        let md = markdown::Markdown.render(&results).unwrap();
        insta::assert_snapshot!(md);
        // Consequences are not causes: only the decide stage's difference clusters.
        let causes: Vec<&str> = results.clusters.iter().map(|c| c.output.as_str()).collect();
        assert_eq!(causes, ["stage:decide"]);
    }

    #[test]
    fn terminal_leads_with_the_first_divergence_and_shows_steps() {
        let mut out = Vec::new();
        terminal::write_summary(&mut out, &pipeline_sample(), &[]).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }

    #[test]
    fn html_report() {
        insta::assert_snapshot!(html::Html.render(&pipeline_sample()).unwrap());
    }

    #[test]
    fn html_escapes_every_value_and_fetches_nothing() {
        let mut results = pipeline_sample();
        let hostile = "<script>alert(1)</script>\u{1b}[2J\"'&";
        let staged = &mut results.cases[1];
        staged.outputs[1].differences[0].right = Some(json!(hostile));
        staged.notes.push(format!("note {hostile}"));
        results.cases[0].candidate.stderr_tail = hostile.to_owned();
        let html = html::Html.render(&results).unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;"), "{html}");
        assert!(!html.contains('\u{1b}'), "a raw escape reached the page");
        // Self-contained: no address outside the page (the SVG namespace is a name, not a
        // request) and a policy forbidding any.
        let outside = html.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !outside.contains("http://") && !outside.contains("https://"),
            "{html}"
        );
        assert!(html.contains("default-src 'none'"));
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "only the page's own script"
        );
    }

    /// 10,000 cases, 2,500 of them differing in a keyed table with 100 unequal columns: the
    /// crowded page shows each table's first columns and counts the rest, so it grows with the
    /// cases only.
    #[test]
    fn html_keeps_many_wide_tables_small() {
        let mut results = sample();
        let table = keyed_tables().remove(0);
        let columns: Vec<crate::diff::ColumnSummary> = (0..100)
            .map(|i| crate::diff::ColumnSummary {
                name: format!("col{i:03}"),
                only: None,
                ignored: false,
                unequal: 1,
                largest: None,
            })
            .collect();
        let template = results.cases[2].clone();
        results.cases = (0..10_000)
            .map(|i| {
                let mut case = template.clone();
                case.id.fixture = format!("f{i:05}");
                if i % 4 == 0 {
                    let mut table = table.clone();
                    if let Some(t) = table.table.as_mut() {
                        t.columns.clone_from(&columns);
                    }
                    case.outputs = vec![table];
                } else {
                    case.verdict = Verdict::Identical;
                    case.outputs = Vec::new();
                }
                case
            })
            .collect();
        let html = html::Html.render(&results).unwrap();
        assert_eq!(html.matches("<table class=\"columns\">").count(), 2_500);
        assert_eq!(html.matches("<code>col004</code>").count(), 2_500);
        assert!(!html.contains("<code>col005</code>"));
        assert_eq!(
            html.matches("95 more columns with unequal values in results.json.")
                .count(),
            2_500
        );
        assert!(html.len() < 30 << 20, "{} bytes", html.len());
    }

    /// The terminal stays short: one rows line for a case, its first table that does not agree,
    /// and how many more report.md shows; tables that agree are not mentioned.
    #[test]
    fn terminal_names_one_table_and_counts_the_others() {
        let mut results = sample();
        let tables = keyed_tables();
        let mut other = tables[0].clone();
        other.output = "prices.csv".into();
        results.cases[2].outputs = vec![tables[1].clone(), tables[0].clone(), other];
        let mut out = Vec::new();
        terminal::write_summary(&mut out, &results, &[]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.lines().filter(|l| l.contains("rows of")).collect();
        assert_eq!(
            rows,
            [
                "    rows of state_history.csv: 999,998 in both (999,990 identical, 8 differ) · 1 only legacy · 2 only candidate · 1 key on several candidate rows (and 1 more table in report.md)"
            ],
            "{text}"
        );
    }

    #[test]
    fn junit_names_the_first_divergence_and_the_steps() {
        let xml = junit::Junit.render(&pipeline_sample()).unwrap();
        assert!(
            xml.contains(
                "first divergence: decide (1 difference); 1 later stage and 1 output blocked"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("steps: 1-baseline identical · 2-override candidate-failed · 3-upstream-fix blocked (a side failed at 2-override)"),
            "{xml}"
        );
    }

    #[test]
    fn stages_and_steps_round_trip_through_results_json() {
        let results = pipeline_sample();
        let text = json::Json.render(&results).unwrap();
        let back: RunResults = serde_json::from_str(&text).unwrap();
        assert_eq!(back, results);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["cases"][1]["first_divergence"], "decide");
        assert!(value["cases"][0].get("first_divergence").is_none());
        assert_eq!(value["cases"][0]["steps"][2]["blocked_by"], "2-override");
    }

    /// Thirty dates of one map changed in one case and two in another; the same `state` bug
    /// waived in one case and not in another.
    fn clustered_sample() -> RunResults {
        let ok = side(100.0, RunStatus::Exited { code: 0 }, "");
        let day = |d: u32| {
            Difference::new(
                format!("$.by_day['2024-01-{d:02}'].total"),
                DiffKind::Changed,
            )
            .left(json!(d))
            .right(json!(d + 1))
        };
        let daily = |days: std::ops::RangeInclusive<u32>| {
            output(
                "daily.json",
                OutputStatus::Different,
                days.map(day).collect(),
            )
        };
        let state = |waiver: Option<usize>, right: &str| {
            let mut d = Difference::new("$.items[?@.id==1].state", DiffKind::Changed)
                .left(json!("open"))
                .right(json!(right));
            d.waiver = waiver;
            output("daily.json", OutputStatus::Different, vec![d])
        };
        let mut results = sample();
        results.cases = vec![
            case(
                "january",
                Verdict::Different,
                vec![daily(1..=30)],
                ok.clone(),
            ),
            case(
                "two-days",
                Verdict::Different,
                vec![daily(4..=5)],
                ok.clone(),
            ),
            case(
                "known",
                Verdict::Waived,
                vec![state(Some(0), "closed")],
                ok.clone(),
            ),
            case(
                "bug",
                Verdict::Different,
                vec![state(None, "lost")],
                ok.clone(),
            ),
        ];
        results.summarise();
        results
    }

    #[test]
    fn causes_fold_data_keys_and_never_mix_waived_with_unwaived() {
        let results = clustered_sample();
        let rows: Vec<(String, DiffKind, usize, usize, usize)> = results
            .clusters
            .iter()
            .map(|c| (c.pattern.clone(), c.kind, c.count, c.waived, c.cases))
            .collect();
        assert_eq!(
            rows,
            [
                ("$.by_day.*.total".to_owned(), DiffKind::Changed, 32, 0, 2),
                ("$.items[*].state".to_owned(), DiffKind::Changed, 1, 0, 1),
                ("$.items[*].state".to_owned(), DiffKind::Changed, 1, 1, 1),
            ]
        );
        // The unwaived cluster's example is the unwaived difference.
        let bug = &results.clusters[1];
        let example = results.example(bug, &bug.examples[0]).expect("example");
        assert_eq!(
            (bug.examples[0].case.as_str(), example.waiver),
            ("main/bug", None)
        );
        let markdown = markdown::Markdown.render(&results).unwrap();
        let causes = markdown
            .split("## Differences by cause")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_default();
        let mut terminal = Vec::new();
        terminal::write_summary(&mut terminal, &results, &[]).unwrap();
        let terminal =
            anstream::adapter::strip_str(&String::from_utf8(terminal).unwrap()).to_string();
        insta::assert_snapshot!(format!(
            "=== report.md causes{causes}\n=== terminal\n{terminal}"
        ));
    }

    #[test]
    fn results_round_trip() {
        let results = sample();
        let text = json::Json.render(&results).unwrap();
        assert_eq!(serde_json::from_str::<RunResults>(&text).unwrap(), results);
    }

    #[test]
    fn terminal_summary() {
        let mut out = Vec::new();
        terminal::write_rule_warnings(&mut out, &sample()).unwrap();
        terminal::write_summary(
            &mut out,
            &sample(),
            &[PathBuf::from("reports/latest/results.json")],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let plain = anstream::adapter::strip_str(&text).to_string();
        insta::assert_snapshot!(plain);
    }

    fn golden(path: &str, stale: bool, pending: Option<&str>) -> GoldenCheck {
        GoldenCheck {
            path: path.into(),
            provenance: crate::golden::Provenance {
                step: None,
                format_version: 1,
                suite: "main".into(),
                fixture: path.rsplit('/').next().unwrap_or_default().into(),
                variant: None,
                source: "legacy".into(),
                argv: vec!["python3".into(), "legacy/monolith.py".into()],
                version: Some("3f2c1e0".into()),
                status: RunStatus::Exited { code: 0 },
                inputs: "blake3:00112233445566778899".into(),
                outputs: vec!["advisory_current.json".into()],
                content: "blake3:99887766".into(),
                parity_version: "0.0.0-test".into(),
                config_hash: "blake3:0123abcd".into(),
                recorded_at: "2026-11-01T09:00:00Z".into(),
            },
            stale,
            candidate: Vec::new(),
            legacy: Vec::new(),
            pending: pending.map(str::to_owned),
        }
    }

    /// Cases judged against goldens: legacy drift caught in `both`, a candidate that differs
    /// from the golden alone, a stale golden.
    fn golden_sample() -> RunResults {
        let ok = side(100.0, RunStatus::Exited { code: 0 }, "");
        let changed = |path: &str, left, right| {
            output(
                "advisory_current.json",
                OutputStatus::Different,
                vec![
                    Difference::new(path, DiffKind::Changed)
                        .left(left)
                        .right(right),
                ],
            )
        };
        let mut drift = case(
            "drift",
            Verdict::GoldenMismatch {
                legacy: true,
                candidate: false,
            },
            vec![],
            ok.clone(),
        );
        drift.against = vec![Reference::Legacy, Reference::Golden];
        drift.golden = Some(GoldenCheck {
            legacy: vec![changed(
                "$.advisories[0].state",
                json!("affected"),
                json!("fixed"),
            )],
            candidate: vec![output(
                "advisory_current.json",
                OutputStatus::Equivalent,
                vec![],
            )],
            ..golden("golden/main/drift", false, Some("golden/main/drift.new"))
        });
        let mut tampered = case(
            "tampered",
            Verdict::Different,
            vec![changed("$.advisories[1].score", json!(9.9), json!(7.5))],
            ok.clone(),
        );
        tampered.against = vec![Reference::Golden];
        tampered.legacy = None;
        tampered.golden = Some(golden("golden/main/tampered", false, None));
        let mut stale = case("stale", Verdict::GoldenStale, vec![], ok.clone());
        stale.against = vec![Reference::Golden];
        stale.legacy = None;
        stale.golden = Some(golden("golden/main/stale", true, None));
        let mut current = case("current", Verdict::Identical, vec![], ok);
        current.against = vec![Reference::Legacy, Reference::Golden];
        current.golden = Some(golden("golden/main/current", false, None));
        let mut results = sample();
        results.cases = vec![current, drift, stale, tampered];
        results.rules.clear();
        results.waivers.clear();
        results.summarise();
        results
    }

    #[test]
    fn golden_reports() {
        let results = golden_sample();
        let mut terminal = Vec::new();
        terminal::write_summary(&mut terminal, &results, &[]).unwrap();
        let terminal =
            anstream::adapter::strip_str(&String::from_utf8(terminal).unwrap()).to_string();
        let text = format!(
            "=== terminal\n{terminal}\n=== report.md\n{}\n=== junit.xml\n{}",
            markdown::Markdown.render(&results).unwrap(),
            junit::Junit.render(&results).unwrap()
        );
        insta::assert_snapshot!(text);
        let json = json::Json.render(&results).unwrap();
        assert_eq!(serde_json::from_str::<RunResults>(&json).unwrap(), results);
        assert_eq!(results.summary.exit_code, crate::exit_code::DIFFERENT);
    }

    #[test]
    fn verdict_counts_and_exit_code() {
        let results = sample();
        let expected: BTreeMap<String, usize> = [
            ("candidate-failed", 1),
            ("different", 1),
            ("equivalent", 1),
            ("waived", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(results.summary.by_verdict, expected);
        assert_eq!(results.summary.exit_code, crate::exit_code::DIFFERENT);
    }
}

#[cfg(test)]
mod bench_tests {
    use super::tests::sample;
    use super::*;
    use crate::bench::{self, BenchSettings, BudgetVerdict};

    /// The sample run with only its passing cases, measured: `empty` at the legacy's speed,
    /// `fixed` 30% slower in CPU.
    fn sample_with_bench(slow: f64, strict: bool) -> RunResults {
        let mut results = sample();
        results.cases.retain(|c| c.verdict.is_success());
        // An expired waiver would fail the run before the budget is looked at.
        results.waivers.retain(|w| !w.expired);
        let settings = BenchSettings {
            seed: 7,
            strict,
            ..BenchSettings::default()
        };
        for (i, case) in results.cases.iter_mut().enumerate() {
            let factor = if i == 1 { slow } else { 1.0 };
            case.bench = Some(super::tests::measured(&settings, factor, i));
        }
        results.bench = Some(bench::summarise(
            &settings,
            results.cases.len(),
            results.cases.iter().filter_map(|c| c.bench.as_ref()),
        ));
        results.summarise();
        results
    }

    #[test]
    fn markdown_performance_section() {
        let results = sample_with_bench(1.3, false);
        assert_eq!(results.summary.exit_code, crate::exit_code::OVER_BUDGET);
        let md = markdown::Markdown.render(&results).unwrap();
        let section = &md[md.find("## Performance").unwrap()..md.find("## Cases").unwrap()];
        insta::assert_snapshot!(section);
    }

    #[test]
    fn junit_fails_an_exceeded_budget() {
        let xml = junit::Junit.render(&sample_with_bench(1.3, false)).unwrap();
        assert!(xml.contains(r#"type="budget-exceeded""#), "{xml}");
        assert!(
            xml.contains("performance budget exceeded: cpu 1.300"),
            "{xml}"
        );
    }

    #[test]
    fn inconclusive_warns_unless_strict() {
        // 5.5% slower with ±1% jitter over 12 pairs: the interval straddles 1.05.
        let lenient = sample_with_bench(1.055, false);
        let bench = lenient.bench.as_ref().unwrap();
        assert_eq!(
            bench.verdict,
            BudgetVerdict::Inconclusive,
            "{}",
            bench.describe()
        );
        assert_eq!(lenient.summary.exit_code, crate::exit_code::OK);
        assert!(
            lenient
                .summary
                .headline
                .contains("performance inconclusive")
        );
        let strict = sample_with_bench(1.055, true);
        assert_eq!(strict.summary.exit_code, crate::exit_code::OVER_BUDGET);
    }

    #[test]
    fn results_with_bench_round_trip() {
        let results = sample_with_bench(1.3, false);
        let text = json::Json.render(&results).unwrap();
        assert_eq!(serde_json::from_str::<RunResults>(&text).unwrap(), results);
    }
}

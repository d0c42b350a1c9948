//! `junit.xml`: one testcase per fixture × variant, grouped in one testsuite per parity suite.
//!
//! Mapping (see ECOSYSTEM.md §3.1): `classname = parity.<suite>`, `name = <fixture>[<variant>]`,
//! `time` = the candidate's wall time; a `failure` for differences and failed sides (message =
//! one line, content = the differences and the `rerun:` command that runs the case alone, since
//! GitLab ignores the message), an `error` when a side
//! could not be run, `skipped` for selected cases that did not run (the run was interrupted);
//! waived cases pass and say so in their output.
//!
//! Every text from the programs under test goes through [`inert`], so junit.xml always parses.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::inert::inert;
use super::{Render, ReportError, golden_origin, rerun_command, short_value};
use crate::bench::BudgetVerdict;
use crate::fixture::CaseId;
use crate::outcome::{CaseOutcome, NotRun, RunResults, Verdict};
use crate::units::plural;

pub struct Junit;

/// Differences listed per testcase; the rest are counted.
const MAX_LISTED: usize = 50;

impl Render for Junit {
    fn render(&self, results: &RunResults) -> Result<String, ReportError> {
        let mut report = Report::new("parity");
        let mut suites: BTreeMap<&str, Vec<TestCase>> = BTreeMap::new();
        for case in &results.cases {
            suites
                .entry(case.id.suite.as_str())
                .or_default()
                .push(test_case(results, case));
        }
        for case in &results.not_run {
            suites
                .entry(case.id.suite.as_str())
                .or_default()
                .push(skipped_case(case));
        }
        for (name, cases) in suites {
            let mut suite = TestSuite::new(xml(name));
            suite.add_property(("parity.version", results.tool.version.as_str()));
            suite.add_property(("parity.config_hash", results.config.hash.as_str()));
            suite.add_test_cases(cases);
            report.add_test_suite(suite);
        }
        Ok(report.to_string()?)
    }
}

/// Text safe in XML 1.0, with control characters shown as escapes.
fn xml(text: &str) -> String {
    inert(text).into_owned()
}

/// `fixture` or `fixture[variant]`: the testcase name.
fn case_name(id: &CaseId) -> String {
    xml(&match &id.variant {
        Some(v) => format!("{}[{v}]", id.fixture),
        None => id.fixture.clone(),
    })
}

/// A selected case the run never finished.
fn skipped_case(case: &NotRun) -> TestCase {
    let mut status = TestCaseStatus::skipped();
    status.set_message("not run: the run was interrupted before this case finished");
    let mut test_case = TestCase::new(case_name(&case.id), status);
    test_case.set_classname(xml(&format!("parity.{}", case.id.suite)));
    test_case
}

fn test_case(results: &RunResults, case: &CaseOutcome) -> TestCase {
    let rerun = || format!("rerun: {}\n", rerun_command(results, case));
    let name = case_name(&case.id);
    let status = match &case.verdict {
        verdict if verdict.is_success() => {
            // (what exceeded, with the pairs it rests on): a case, or its steps by name.
            let exceeded: Vec<(String, usize)> = case
                .benches()
                .into_iter()
                .flat_map(|(label, bench)| {
                    let unit = if label == case.label() {
                        String::new()
                    } else {
                        format!("{label}: ")
                    };
                    bench
                        .metrics
                        .iter()
                        .filter(|(_, m)| {
                            m.judgement.gating && m.judgement.verdict == BudgetVerdict::Exceeded
                        })
                        .map(move |(metric, m)| {
                            let what =
                                format!("{unit}{} {}", metric.as_str(), m.judgement.describe());
                            (what, bench.valid_pairs)
                        })
                })
                .collect();
            if exceeded.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let what: Vec<&str> = exceeded.iter().map(|(w, _)| w.as_str()).collect();
                status.set_message(xml(&format!(
                    "performance budget exceeded: {}",
                    what.join(", ")
                )));
                status.set_type("budget-exceeded");
                let lines: Vec<String> = exceeded
                    .iter()
                    .map(|(w, pairs)| format!("{w} ({pairs} valid pairs)"))
                    .collect();
                status.set_description(xml(&format!("{}\n{}", lines.join("\n"), rerun())));
                status
            }
        }
        Verdict::Error { message } => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(xml(&format!("error: {message}")));
            status.set_description(xml(&format!("{message}\n{}", rerun())));
            status
        }
        verdict => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let unwaived = case.differences() - case.waived();
            let message = if unwaived > 0 {
                format!("{}: {}", verdict.describe(), plural(unwaived, "difference"))
            } else {
                let (reference, status) = case.reference();
                format!(
                    "{}: {reference} {status}, candidate {}",
                    verdict.describe(),
                    case.candidate.status.describe()
                )
            };
            status.set_message(xml(&message));
            status.set_type(verdict.name());
            status.set_description(xml(&failure_text(case, &rerun())));
            status
        }
    };
    let mut test_case = TestCase::new(name, status);
    test_case.set_classname(xml(&format!("parity.{}", case.id.suite)));
    test_case.set_time(Duration::from_secs_f64(
        case.candidate.wall_ms.max(0.0) / 1000.0,
    ));
    if case.verdict == Verdict::Waived {
        test_case.set_system_out(format!(
            "passed with {}",
            plural(case.waived(), "waived difference")
        ));
    }
    test_case
}

/// The failure body: verdict, both sides' status, the `rerun` line, differences.
fn failure_text(case: &CaseOutcome, rerun: &str) -> String {
    let (reference, status) = case.reference();
    let mut text = format!(
        "{} is {}\n{reference}: {status}\ncandidate: {}\n",
        case.label(),
        case.verdict.describe(),
        case.candidate.status.describe()
    );
    for lead in case.stage_leads() {
        text.push_str(&format!("{lead}\n"));
    }
    if let Some(steps) = super::steps_line(case) {
        text.push_str(&format!("steps: {steps}\n"));
    }
    for (step, golden) in case.goldens() {
        let step = step.map(|s| format!(" (step {s})")).unwrap_or_default();
        text.push_str(&format!("provenance{step}: {}\n", golden_origin(golden)));
    }
    text.push_str(rerun);
    let mut listed = 0;
    let comparisons = case.comparisons();
    let outputs = comparisons
        .iter()
        .flat_map(|c| c.outputs.iter().map(move |o| (c.name(&o.output), o)));
    for (name, output) in outputs {
        for difference in output.differences.iter().filter(|d| d.waiver.is_none()) {
            if listed == MAX_LISTED {
                break;
            }
            listed += 1;
            text.push_str(&format!(
                "{} {} {}: {} -> {}{}\n",
                name,
                difference.path,
                difference.kind,
                short_value(difference.left.as_ref(), 200),
                short_value(difference.right.as_ref(), 200),
                difference
                    .note
                    .iter()
                    .cloned()
                    .chain(difference.clip_note())
                    .map(|n| format!(" ({n})"))
                    .collect::<String>()
            ));
        }
    }
    let unwaived = case.differences() - case.waived();
    if unwaived > listed {
        text.push_str(&format!(
            "… and {} more in results.json\n",
            unwaived - listed
        ));
    }
    if !case.candidate.status.is_success() && !case.candidate.stderr_tail.is_empty() {
        text.push_str("candidate stderr (tail):\n");
        text.push_str(&case.candidate.stderr_tail);
        text.push('\n');
    }
    text
}

//! Comparing the outputs of a case's two runs: the streams named by `[[compare]]` blocks and
//! every file under `{out}` (paired by relative path; a file on one side only is a difference),
//! each with the format and rules of the first block whose glob matches it.
//!
//! The main entry is [`compare_case`]; the result feeds [`crate::outcome::Verdict::decide`].

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::config::{CompareBlock, Config, OutputSelector, Waiver};
use crate::diff::dir::pair_files;
use crate::diff::stream::StreamInput;
use crate::diff::{self, DiffKind, DiffSpec, Difference, Findings, Format, OutputStatus, Waive};
use crate::outcome::{Equivalence, OutputCluster, OutputComparison};
use crate::runner::SideResult;

/// The compared outputs of one case, and how often each rule and waiver applied.
#[derive(Debug, Default)]
pub struct CaseComparison {
    pub outputs: Vec<OutputComparison>,
    pub notes: Vec<String>,
    pub rule_hits: BTreeMap<usize, u64>,
    pub waiver_hits: BTreeMap<usize, u64>,
}

/// The run's waivers as seen from one fixture.
pub struct FixtureWaivers<'a> {
    pub waivers: &'a [Waiver],
    pub fixture: &'a str,
    pub today: NaiveDate,
}

impl Waive for FixtureWaivers<'_> {
    fn waiver_for(&self, output: &str, difference: &Difference) -> Option<usize> {
        self.waivers
            .iter()
            .filter(|w| !w.is_expired(self.today))
            .find(|w| {
                w.covers(
                    self.fixture,
                    output,
                    &difference.path,
                    difference.right.as_ref(),
                )
            })
            .map(|w| w.index)
    }
}

/// Compares everything both runs produced.
pub fn compare_case(
    config: &Config,
    fixture_id: &str,
    (left_label, legacy): (&str, &SideResult),
    (right_label, candidate): (&str, &SideResult),
    today: NaiveDate,
) -> CaseComparison {
    let labels = Labels {
        left: left_label,
        right: right_label,
    };
    let mut result = CaseComparison::default();
    if !legacy.run.status.ran_to_end() || !candidate.run.status.ran_to_end() {
        result
            .notes
            .push("outputs were not compared: a side did not finish".to_owned());
        return result;
    }
    let waivers = FixtureWaivers {
        waivers: &config.waivers,
        fixture: fixture_id,
        today,
    };
    let cap = config.report.max_differences;
    let mut compared: Vec<(OutputComparison, diff::FindingsSummary)> = Vec::new();
    compared.push(compare_exit(config, legacy, candidate, &waivers));
    for block in &config.compares {
        let (name, lpath, rpath, ltrunc, rtrunc) = match block.output {
            OutputSelector::Stdout => (
                "stdout",
                &legacy.artifacts.stdout,
                &candidate.artifacts.stdout,
                legacy.run.stdout.truncated,
                candidate.run.stdout.truncated,
            ),
            OutputSelector::Stderr => (
                "stderr",
                &legacy.artifacts.stderr,
                &candidate.artifacts.stderr,
                legacy.run.stderr.truncated,
                candidate.run.stderr.truncated,
            ),
            OutputSelector::Exit | OutputSelector::Files { .. } => continue,
        };
        let mut findings = Findings::new(name, &waivers, cap);
        for (side, truncated) in [(labels.left, ltrunc), (labels.right, rtrunc)] {
            if truncated {
                findings.push(Difference::new("$", DiffKind::Truncated).note(format!(
                    "the {side} side wrote more than {} MiB to {name}; only the start was compared",
                    crate::runner::CAPTURE_LIMIT / (1024 * 1024)
                )));
            }
        }
        compared.push(compare_files(
            labels,
            name,
            Some(block),
            Some(lpath),
            Some(rpath),
            findings,
        ));
    }
    let pairs = match pair_files(&legacy.artifacts.out_dir, &candidate.artifacts.out_dir) {
        Ok(pairs) => pairs,
        Err(e) => {
            result
                .notes
                .push(format!("could not list output files: {e}"));
            Vec::new()
        }
    };
    let file_results: Vec<_> = pairs
        .par_iter()
        .map(|pair| {
            let block = block_for(config, &pair.relative);
            let findings = Findings::new(pair.relative.as_str(), &waivers, cap);
            compare_files(
                labels,
                &pair.relative,
                block,
                pair.left.as_deref(),
                pair.right.as_deref(),
                findings,
            )
        })
        .collect();
    compared.extend(file_results);
    for block in &config.compares {
        if let OutputSelector::Files {
            pattern,
            literal: true,
            matcher,
        } = &block.output
            && !pairs.iter().any(|p| matcher.is_match(&p.relative))
        {
            result.notes.push(format!(
                "`{pattern}` (compare block {}) was produced by neither side",
                block.index + 1
            ));
        }
    }
    for (output, summary) in compared {
        for (rule, hits) in summary.rule_hits {
            *result.rule_hits.entry(rule).or_default() += hits;
        }
        for (waiver, hits) in summary.waiver_hits {
            *result.waiver_hits.entry(waiver).or_default() += hits;
        }
        result.outputs.push(output);
    }
    result
}

/// The exit statuses, as the output `exit`: always compared, so a failure on one side (or two
/// different failures) is listed with the other differences.
fn compare_exit(
    config: &Config,
    legacy: &SideResult,
    candidate: &SideResult,
    waivers: &FixtureWaivers<'_>,
) -> (OutputComparison, diff::FindingsSummary) {
    let mut findings = Findings::new("exit", waivers, config.report.max_differences);
    let (l, r) = (&legacy.run.status, &candidate.run.status);
    let status = if l == r {
        OutputStatus::Identical
    } else {
        findings.push(
            Difference::new("$", DiffKind::ExitStatus)
                .left(serde_json::Value::String(l.describe()))
                .right(serde_json::Value::String(r.describe())),
        );
        OutputStatus::from_counts(findings.total(), findings.unwaived())
    };
    let block = config
        .compares
        .iter()
        .find(|b| matches!(b.output, OutputSelector::Exit));
    finish("exit", None, block, status, findings)
}

/// The first block whose file glob matches `relative`.
pub fn block_for<'c>(config: &'c Config, relative: &str) -> Option<&'c CompareBlock> {
    config.compares.iter().find(|block| match &block.output {
        OutputSelector::Files { matcher, .. } => matcher.is_match(relative),
        OutputSelector::Stdout | OutputSelector::Stderr | OutputSelector::Exit => false,
    })
}

/// What the two sides are called in notes: `legacy`/`candidate`, `golden`/`candidate`, …
#[derive(Debug, Clone, Copy)]
struct Labels<'a> {
    left: &'a str,
    right: &'a str,
}

/// Compares one output; a missing side is a `missing_file` or `extra_file` difference.
fn compare_files(
    labels: Labels<'_>,
    name: &str,
    block: Option<&CompareBlock>,
    left: Option<&Path>,
    right: Option<&Path>,
    mut findings: Findings<'_>,
) -> (OutputComparison, diff::FindingsSummary) {
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
    match (left, right) {
        (Some(l), Some(r)) => {
            let default_spec = DiffSpec::default();
            let spec = block.map_or(&default_spec, |b| &b.spec);
            let truncated = findings.total() > 0;
            let compared = diff::compare_files(
                block.and_then(|b| b.format),
                spec,
                &StreamInput {
                    side: labels.left,
                    name,
                    path: l,
                },
                &StreamInput {
                    side: labels.right,
                    name,
                    path: r,
                },
                &mut findings,
            );
            match compared {
                // Truncation differences pushed before comparing count even when the bytes match.
                Ok((format, status)) => {
                    let status = if truncated {
                        OutputStatus::from_counts(findings.total(), findings.unwaived())
                    } else {
                        status
                    };
                    finish(name, Some(format), block, status, findings)
                }
                Err(e) => {
                    findings.push(
                        Difference::new("$", DiffKind::ParseError)
                            .note(format!("cannot read `{name}`: {e}")),
                    );
                    finish(name, None, block, OutputStatus::Different, findings)
                }
            }
        }
        (Some(l), None) => {
            findings.push(
                Difference::new("$", DiffKind::MissingFile)
                    .left(serde_json::json!({ "bytes": size(l) }))
                    .note(format!("the {} side did not write `{name}`", labels.right)),
            );
            let status = OutputStatus::from_counts(findings.total(), findings.unwaived());
            finish(name, None, block, status, findings)
        }
        (None, Some(r)) => {
            findings.push(
                Difference::new("$", DiffKind::ExtraFile)
                    .right(serde_json::json!({ "bytes": size(r) }))
                    .note(format!("only the {} side wrote `{name}`", labels.right)),
            );
            let status = OutputStatus::from_counts(findings.total(), findings.unwaived());
            finish(name, None, block, status, findings)
        }
        (None, None) => finish(name, None, block, OutputStatus::Identical, findings),
    }
}

fn finish(
    name: &str,
    format: Option<Format>,
    block: Option<&CompareBlock>,
    status: OutputStatus,
    findings: Findings<'_>,
) -> (OutputComparison, diff::FindingsSummary) {
    let mut summary = findings.finish();
    let output = OutputComparison {
        output: name.to_owned(),
        format,
        compare: block.map(|b| b.index),
        status,
        total: summary.total,
        waived: summary.total - summary.unwaived,
        differences: std::mem::take(&mut summary.differences),
        clusters: summary
            .clusters
            .iter()
            .map(|((pattern, kind), tally)| OutputCluster {
                pattern: pattern.clone(),
                kind: *kind,
                count: tally.count,
                waived: tally.waived,
            })
            .collect(),
        equivalences: summary
            .equivalences
            .iter()
            .map(|(kind, tally)| Equivalence {
                kind: *kind,
                count: tally.count,
                examples: tally.examples.clone(),
            })
            .collect(),
        notes: std::mem::take(&mut summary.notes),
    };
    (output, summary)
}

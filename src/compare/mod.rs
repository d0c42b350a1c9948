//! Comparing the outputs of a case's two runs: the streams named by `[[compare]]` blocks and
//! every file under `{out}` (paired by relative path; a file on one side only is a difference),
//! each with the format and rules of the first block whose glob matches it.
//!
//! The main entry is [`compare_case`]; the result feeds [`crate::outcome::Verdict::decide`].

mod stages;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::config::{CompareBlock, Config, OutputSelector, Waiver};
use crate::diff::dir::{Entry, FilePair, pair_files};
use crate::diff::stream::StreamInput;
use crate::diff::{
    self, DiffKind, DiffSpec, Difference, Findings, Format, OutputStatus, RuleUse, Waive,
};
use crate::outcome::{Equivalence, OutputCluster, OutputComparison, STAGE_PREFIX, Stages};
use crate::runner::SideResult;
use stages::{stage_divergence, take_stage_files};

/// The compared outputs of one case, and how often each rule and waiver applied.
#[derive(Debug, Default)]
pub struct CaseComparison {
    pub outputs: Vec<OutputComparison>,
    pub notes: Vec<String>,
    /// Where parity itself failed to compare (out of file descriptors, disk or memory): the
    /// case is then an `error`, never a difference of the programs.
    pub trouble: Vec<String>,
    pub rule_hits: BTreeMap<usize, RuleUse>,
    pub waiver_hits: BTreeMap<usize, u64>,
    /// The `[[stage]]` comparisons and the first divergent stage.
    pub stages: Stages,
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
    let mut compared: Vec<Compared> = Vec::new();
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
            OutputSelector::Exit | OutputSelector::Files { .. } | OutputSelector::Stage { .. } => {
                continue;
            }
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
        compared.push(compare_entries(
            labels,
            How::by_block(name, Some(block)),
            Some(&Entry::File(lpath.clone())),
            Some(&Entry::File(rpath.clone())),
            findings,
        ));
    }
    let mut pairs = pair_files(&legacy.artifacts.out_dir, &candidate.artifacts.out_dir);
    let stage_entries = take_stage_files(config, &mut pairs, legacy.side, candidate.side);
    let stage_results: Vec<_> = config
        .stages
        .par_iter()
        .zip(stage_entries.par_iter())
        .map(|(stage, (left, right))| {
            let name = format!("{STAGE_PREFIX}{}", stage.name);
            let findings = Findings::new(&name, &waivers, cap);
            compare_entries(
                labels,
                How::by_block(&name, Some(&stage.block)),
                left.as_ref(),
                right.as_ref(),
                findings,
            )
        })
        .collect();
    let present: Vec<bool> = stage_entries
        .iter()
        .map(|(l, r)| l.is_some() || r.is_some())
        .collect();
    compared.extend(stage_results);
    let written: Vec<String> = pairs.iter().map(|p| p.relative.clone()).collect();
    // Files a block converts are compared as converted (below), never as they are.
    pairs.retain(|pair| !config.converts(&pair.relative, legacy.side));
    let file_results: Vec<_> = pairs
        .par_iter()
        .map(|pair| {
            let block = config.block_for(&pair.relative);
            let findings = Findings::new(pair.relative.as_str(), &waivers, cap);
            compare_entries(
                labels,
                How::by_block(&pair.relative, block),
                pair.left.as_ref(),
                pair.right.as_ref(),
                findings,
            )
        })
        .collect();
    compared.extend(file_results);
    compared.extend(compare_converted(
        config,
        labels,
        (legacy, candidate),
        &waivers,
    ));
    for block in &config.compares {
        if let OutputSelector::Files {
            pattern,
            literal: true,
            matcher,
        } = &block.output
            && !written.iter().any(|relative| matcher.is_match(relative))
        {
            result.notes.push(format!(
                "`{pattern}` (compare block {}) was produced by neither side",
                block.index + 1
            ));
        }
    }
    for (output, summary, trouble) in compared {
        result.trouble.extend(trouble);
        for (rule, hits) in summary.rule_hits {
            *result.rule_hits.entry(rule).or_default() += hits;
        }
        for (waiver, hits) in summary.waiver_hits {
            *result.waiver_hits.entry(waiver).or_default() += hits;
        }
        result.outputs.push(output);
    }
    // A case whose sides write no stage file at all has no stages (a suite run without the
    // flags that make the programs write them).
    if present.iter().any(|p| *p) {
        result.stages = stage_divergence(config, &present, &mut result.outputs);
    } else {
        result
            .outputs
            .retain(|o| !o.output.starts_with(STAGE_PREFIX));
    }
    result
}

/// The converted outputs (`FILE` or `FILE#TABLE`) of both sides, each compared in its block's
/// format and rules; a conversion that failed on either side is a finding of its own, never a
/// pass.
fn compare_converted(
    config: &Config,
    labels: Labels<'_>,
    (left, right): (&SideResult, &SideResult),
    waivers: &FixtureWaivers<'_>,
) -> Vec<Compared> {
    let mut outputs: BTreeMap<String, ConvertedPair> = BTreeMap::new();
    for pair in pair_files(&left.artifacts.converted, &right.artifacts.converted) {
        let entry = outputs.entry(pair.relative.clone()).or_default();
        entry.pair = Some(pair);
    }
    for (side, result) in [(labels.left, left), (labels.right, right)] {
        for failed in &result.conversions {
            let entry = outputs.entry(failed.output.clone()).or_default();
            entry.failures.push(failed.describe(side));
        }
    }
    outputs
        .into_par_iter()
        .map(|(name, converted)| {
            let block = config.block_of_converted(&name).map(|(block, _)| block);
            let how = How::by_block(&name, block);
            let mut findings = Findings::new(&name, waivers, config.report.max_differences);
            if !converted.failures.is_empty() {
                for failure in converted.failures {
                    findings.push(Difference::new("$", DiffKind::ConvertFailed).note(failure));
                }
                return finish_found(how, findings);
            }
            let (l, r) = converted.pair.map_or((None, None), |p| (p.left, p.right));
            compare_entries(labels, how, l.as_ref(), r.as_ref(), findings)
        })
        .collect()
}

/// A converted output: its files on each side, and the conversions that failed.
#[derive(Default)]
struct ConvertedPair {
    pair: Option<FilePair>,
    failures: Vec<String>,
}

/// The exit statuses, as the output `exit`: always compared, so a failure on one side (or two
/// different failures) is listed with the other differences.
fn compare_exit(
    config: &Config,
    legacy: &SideResult,
    candidate: &SideResult,
    waivers: &FixtureWaivers<'_>,
) -> Compared {
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
    finish(How::by_block("exit", block), None, status, findings)
}

/// What the two sides are called in notes: `legacy`/`candidate`, `golden`/`candidate`, …
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    pub left: &'a str,
    pub right: &'a str,
}

/// How one output is compared: its name in reports, the `[[compare]]` block that covers it,
/// and the format (none: detected) and rules.
#[derive(Debug, Clone, Copy)]
pub struct How<'a> {
    pub name: &'a str,
    /// What each side's file is called in notes, when not `name` (`parity diff a.json b.json`).
    pub files: Option<(&'a str, &'a str)>,
    pub compare: Option<usize>,
    pub format: Option<Format>,
    pub spec: &'a DiffSpec,
}

/// The rules of no block: what an output no `[[compare]]` block names is compared with.
static NO_RULES: std::sync::LazyLock<DiffSpec> = std::sync::LazyLock::new(DiffSpec::default);

impl<'a> How<'a> {
    /// `name`, compared as `block` says (or by default when no block covers it).
    pub fn by_block(name: &'a str, block: Option<&'a CompareBlock>) -> Self {
        How {
            name,
            files: None,
            compare: block.map(|b| b.index),
            format: block.and_then(|b| b.format),
            spec: block.map_or(&*NO_RULES, |b| &b.spec),
        }
    }
}

/// One compared output, with parity's own failure to compare it when it failed.
pub type Compared = (OutputComparison, diff::FindingsSummary, Option<String>);

/// Compares what each side has at one output: two files by content, two links by target, and
/// anything else (a link where the other wrote a file, a FIFO, an unreadable directory) as a
/// finding; a missing side is a `missing_file` or `extra_file` difference.
pub fn compare_entries(
    labels: Labels<'_>,
    how: How<'_>,
    left: Option<&Entry>,
    right: Option<&Entry>,
    mut findings: Findings<'_>,
) -> Compared {
    let name = how.name;
    let sides = [(labels.left, left), (labels.right, right)];
    let mut faulty = false;
    for (side, entry) in sides {
        match entry {
            Some(Entry::Unreadable { error, .. }) => {
                faulty = true;
                findings.push(Difference::new("$", DiffKind::Unreadable).note(format!(
                    "the {side} side's `{name}` cannot be read: {error}"
                )));
            }
            Some(Entry::Special { kind, .. }) => {
                faulty = true;
                findings.push(Difference::new("$", DiffKind::SpecialFile).note(format!(
                    "the {side} side wrote a {kind} at `{name}`: nothing can compare it, so \
                     parity does not skip it"
                )));
            }
            Some(Entry::File(_) | Entry::Symlink { .. }) | None => {}
        }
    }
    if faulty {
        return finish_found(how, findings);
    }
    match (left, right) {
        (Some(Entry::File(l)), Some(Entry::File(r))) => {
            compare_files(labels, how, (l, r), findings)
        }
        (Some(Entry::Symlink { target: l, .. }), Some(Entry::Symlink { target: r, .. })) => {
            if l == r {
                return finish(how, None, OutputStatus::Identical, findings);
            }
            findings.push(
                Difference::new("$", DiffKind::Changed)
                    .left(serde_json::json!({ "symlink": l }))
                    .right(serde_json::json!({ "symlink": r }))
                    .note("the symbolic links point elsewhere (links are compared by target, never followed)"),
            );
            finish_found(how, findings)
        }
        (Some(l), Some(r)) => {
            findings.push(
                Difference::new("$", DiffKind::TypeChanged)
                    .left(l.describe())
                    .right(r.describe())
                    .note(format!(
                        "the {} side has a {} where the {} side has a {} (links are never followed)",
                        labels.left,
                        l.kind(),
                        labels.right,
                        r.kind()
                    )),
            );
            finish_found(how, findings)
        }
        (Some(l), None) => {
            findings.push(
                Difference::new("$", DiffKind::MissingFile)
                    .left(l.describe())
                    .note(format!("the {} side did not write `{name}`", labels.right)),
            );
            finish_found(how, findings)
        }
        (None, Some(r)) => {
            findings.push(
                Difference::new("$", DiffKind::ExtraFile)
                    .right(r.describe())
                    .note(format!("only the {} side wrote `{name}`", labels.right)),
            );
            finish_found(how, findings)
        }
        (None, None) => finish(how, None, OutputStatus::Identical, findings),
    }
}

/// Compares two regular files by content. A file a side made unreadable is a finding; parity
/// failing to read (no file descriptor, an I/O error) is trouble, never a difference.
fn compare_files(
    labels: Labels<'_>,
    how: How<'_>,
    (left, right): (&Path, &Path),
    mut findings: Findings<'_>,
) -> Compared {
    let name = how.name;
    for (side, path) in [(labels.left, left), (labels.right, right)] {
        if let Err(e) = std::fs::File::open(path) {
            if !side_fault(&e) {
                let (output, summary, _) = finish(how, None, OutputStatus::Different, findings);
                return (output, summary, Some(format!("cannot open `{name}`: {e}")));
            }
            findings.push(
                Difference::new("$", DiffKind::Unreadable)
                    .note(format!("the {side} side's `{name}` cannot be read: {e}")),
            );
            return finish_found(how, findings);
        }
    }
    let truncated = findings.total() > 0;
    let compared = diff::compare_files(
        how.format,
        how.spec,
        &StreamInput {
            side: labels.left,
            name: how.files.map_or(name, |f| f.0),
            path: left,
        },
        &StreamInput {
            side: labels.right,
            name: how.files.map_or(name, |f| f.1),
            path: right,
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
            finish(how, Some(format), status, findings)
        }
        Err(e) => {
            findings.note(format!("not compared: parity failed to read it: {e}"));
            let (output, summary, _) = finish(how, None, OutputStatus::Different, findings);
            (
                output,
                summary,
                Some(format!("comparing `{name}` failed: {e}")),
            )
        }
    }
}

/// True when an error opening a side's output is the side's doing (it made the file unreadable
/// or removed it), not parity's (out of file descriptors or memory).
fn side_fault(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::PermissionDenied
            | std::io::ErrorKind::NotFound
            | std::io::ErrorKind::IsADirectory
    )
}

/// Finishes an output that was not compared by content, with the status its findings give.
pub fn finish_found(how: How<'_>, findings: Findings<'_>) -> Compared {
    let status = OutputStatus::from_counts(findings.total(), findings.unwaived());
    finish(how, None, status, findings)
}

fn finish(
    how: How<'_>,
    format: Option<Format>,
    status: OutputStatus,
    findings: Findings<'_>,
) -> Compared {
    let mut summary = findings.finish();
    let output = OutputComparison {
        output: how.name.to_owned(),
        format,
        compare: how.compare,
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
        blocked_by: None,
        table: summary.table.as_ref().map(diff::TableTally::summary),
    };
    (output, summary, None)
}

//! `parity run --resume`: continuing a run that was stopped (Ctrl-C, SIGTERM, a killed CI job)
//! in the same report directory. The cases its results.json holds are kept; the rest run; the
//! final results are those of a run that never stopped (same start time, every case once, rule
//! and waiver usage over all of them).
//!
//! Kept results are only trusted when nothing that decides them changed: the same parity
//! version, the same configuration (by hash), the same selection, the same mode (with or without
//! the performance gate), and every kept case still among the cases. Anything else is exit 2
//! saying what changed, never a silent mix of two runs.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::bail;

use crate::config::Config;
use crate::diff::RuleUse;
use crate::fixture::{Case, CaseId, Selection};
use crate::outcome::{CaseOutcome, RunResults, ToolInfo};
use crate::report::{ReportFormat, read_results};

/// What an earlier, stopped run finished.
#[derive(Debug)]
pub struct Prior {
    /// When the stopped run started: the resumed run's start.
    pub started_at: String,
    /// Its finished cases.
    pub cases: BTreeMap<CaseId, CaseOutcome>,
    /// Rule usage over its finished cases, by rule id.
    pub rule_hits: BTreeMap<usize, RuleUse>,
    /// Waiver usage over its finished cases, by waiver index.
    pub waiver_hits: BTreeMap<usize, u64>,
    /// Its performance gate's seed, when it measured performance.
    pub seed: Option<u64>,
}

/// Reads the stopped run's results in `report_dir` and checks they can be continued by a run
/// of `cases` under `config` and `selection` (`measuring`: with the performance gate). `None`
/// when there is nothing to resume (no results.json).
pub fn read(
    report_dir: &Path,
    config: &Config,
    selection: &Selection,
    cases: &[Case],
    measuring: bool,
) -> anyhow::Result<Option<Prior>> {
    let path = report_dir.join(ReportFormat::Json.file_name());
    if !path.exists() {
        eprintln!(
            "note: nothing to resume in {} (no results.json): running every case",
            report_dir.display()
        );
        return Ok(None);
    }
    let results = read_results(&path)?;
    let why_not = |what: String| {
        anyhow::anyhow!(
            "cannot resume the run in {}: {what}; run without --resume to start over",
            report_dir.display()
        )
    };
    let tool = ToolInfo::default();
    if results.tool.version != tool.version {
        return Err(why_not(format!(
            "it was written by parity {}, this is parity {}",
            results.tool.version, tool.version
        )));
    }
    if results.config.hash != config.hash {
        return Err(why_not(format!(
            "{} changed since (its hash was {}, it is now {})",
            config.path.display(),
            results.config.hash,
            config.hash
        )));
    }
    let asked = &results.selection;
    let suites = super::results::suites_covered(cases, selection);
    if (&asked.suites, &asked.fixtures, &asked.variants)
        != (&suites, &selection.fixtures, &selection.variants)
    {
        return Err(why_not(format!(
            "it covered {}, this run covers {}",
            describe(&asked.suites, &asked.fixtures, &asked.variants),
            describe(&suites, &selection.fixtures, &selection.variants)
        )));
    }
    if results.bench.is_some() != measuring {
        return Err(why_not(if measuring {
            "it did not measure performance, this run does".to_owned()
        } else {
            "it measured performance (parity bench), this run does not".to_owned()
        }));
    }
    if !results.interrupted {
        eprintln!(
            "note: the run in {} was not interrupted: its cases are kept, the reports rewritten",
            report_dir.display()
        );
    }
    prior_of(results, cases).map(Some)
}

fn prior_of(results: RunResults, cases: &[Case]) -> anyhow::Result<Prior> {
    let planned: std::collections::BTreeSet<CaseId> = cases.iter().map(Case::id).collect();
    if let Some(gone) = results.cases.iter().find(|c| !planned.contains(&c.id)) {
        bail!(
            "cannot resume: case {} of the stopped run is no longer among the fixtures; run without --resume",
            gone.id.label()
        );
    }
    let rule_hits = results
        .rules
        .iter()
        .map(|r| {
            let used = RuleUse {
                applied: r.applied,
                judged: r.judged,
            };
            (r.id, used)
        })
        .collect();
    let waiver_hits = results
        .waivers
        .iter()
        .map(|w| (w.index, w.applied))
        .collect();
    Ok(Prior {
        started_at: results.started_at,
        seed: results.bench.as_ref().map(|b| b.seed),
        cases: results
            .cases
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect(),
        rule_hits,
        waiver_hits,
    })
}

fn describe(suites: &[String], fixtures: &[String], variants: &[String]) -> String {
    let list = |what: &str, items: &[String]| {
        if items.is_empty() {
            format!("every {what}")
        } else {
            format!("{what} {}", items.join(", "))
        }
    };
    format!(
        "{}, {}, {}",
        list("suite", suites),
        list("fixture", fixtures),
        list("variant", variants)
    )
}

/// The cases of a resumed run: the outcomes kept from `prior` (aligned with `cases`, `None`
/// where the case runs again), and the indices of the cases to run.
pub fn split(cases: &[Case], prior: &Prior) -> (Vec<Option<CaseOutcome>>, Vec<usize>) {
    let mut kept = Vec::with_capacity(cases.len());
    let mut todo = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        match prior.cases.get(&case.id()) {
            Some(outcome) => kept.push(Some(outcome.clone())),
            None => {
                kept.push(None);
                todo.push(index);
            }
        }
    }
    (kept, todo)
}

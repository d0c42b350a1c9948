//! `parity run --resume`: continuing a run that was stopped (Ctrl-C, SIGTERM, a killed CI job,
//! even SIGKILL) in the same report directory. The cases its journal (or results.json) holds
//! are kept; the rest run; the final results are those of a run that never stopped (same start
//! time, every case once, rule and waiver usage over all of them).
//!
//! Kept results are only trusted when nothing that decides them changed: the same parity
//! version, the same configuration (by hash), the same selection, the same mode (with or without
//! the performance gate), and every kept case still among the cases. Anything else is exit 2
//! saying what changed, never a silent mix of two runs.

use std::collections::BTreeMap;
use std::path::Path;

use super::journal::{self, Entry, Header};
use crate::config::Config;
use crate::diff::RuleUse;
use crate::fixture::{Case, CaseId, Selection};
use crate::outcome::{CaseOutcome, RunResults};
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

/// Reads what the stopped run in `report_dir` finished — its journal (written as each case was
/// judged, so it survives a SIGKILL), else its results.json (written when it was stopped) —
/// and checks it can be continued by a run of `cases` under `config` and `selection`
/// (`measuring`: with the performance gate). `None` when there is nothing to resume.
pub fn read(
    report_dir: &Path,
    config: &Config,
    selection: &Selection,
    cases: &[Case],
    measuring: bool,
) -> anyhow::Result<Option<Prior>> {
    let journal_dir = report_dir.join(super::plan::OUTPUTS_DIR);
    let stopped = match journal::read(&journal_dir)? {
        Some((header, entries)) => (header, entries),
        None => {
            let path = report_dir.join(ReportFormat::Json.file_name());
            if !path.exists() {
                eprintln!(
                    "note: nothing to resume in {} (no journal, no results.json): running every case",
                    report_dir.display()
                );
                return Ok(None);
            }
            from_results(read_results(&path)?)
        }
    };
    let (header, entries) = stopped;
    let why_not = |what: String| {
        anyhow::anyhow!(
            "cannot resume the run in {}: {what}; run without --resume to start over",
            report_dir.display()
        )
    };
    let tool = env!("CARGO_PKG_VERSION");
    if header.tool != tool {
        return Err(why_not(format!(
            "it was written by parity {}, this is parity {tool}",
            header.tool
        )));
    }
    if header.config_hash != config.hash {
        return Err(why_not(format!(
            "{} changed since (its hash was {}, it is now {})",
            config.path.display(),
            header.config_hash,
            config.hash
        )));
    }
    let suites = super::results::suites_covered(cases, selection);
    if (&header.suites, &header.fixtures, &header.variants)
        != (&suites, &selection.fixtures, &selection.variants)
    {
        return Err(why_not(format!(
            "it covered {}, this run covers {}",
            describe(&header.suites, &header.fixtures, &header.variants),
            describe(&suites, &selection.fixtures, &selection.variants)
        )));
    }
    if header.measuring != measuring {
        return Err(why_not(if measuring {
            "it did not measure performance, this run does".to_owned()
        } else {
            "it measured performance (parity bench), this run does not".to_owned()
        }));
    }
    let planned: std::collections::BTreeSet<CaseId> = cases.iter().map(Case::id).collect();
    if let Some(gone) = entries.iter().find(|e| !planned.contains(&e.outcome.id)) {
        return Err(why_not(format!(
            "its case {} is no longer among the fixtures",
            gone.outcome.id.label()
        )));
    }
    let mut rule_hits = header.carried_rules;
    let mut waiver_hits = header.carried_waivers;
    let mut kept = BTreeMap::new();
    for entry in entries {
        for (id, used) in entry.rules {
            *rule_hits.entry(id).or_default() += used;
        }
        for (index, n) in entry.waivers {
            *waiver_hits.entry(index).or_default() += n;
        }
        kept.insert(entry.outcome.id.clone(), entry.outcome);
    }
    Ok(Some(Prior {
        started_at: header.started_at,
        cases: kept,
        rule_hits,
        waiver_hits,
        seed: header.seed,
    }))
}

/// A stopped run's results.json as a journal: its header, and its cases with the run's usage
/// carried as a whole (results.json does not keep it per case).
fn from_results(results: RunResults) -> (Header, Vec<Entry>) {
    let selection = (
        results.selection.suites.clone(),
        results.selection.fixtures.clone(),
        results.selection.variants.clone(),
    );
    let mut header = Header::new(
        &results.config.hash,
        &results.started_at,
        selection,
        results.bench.is_some(),
        results.bench.as_ref().map(|b| b.seed),
    );
    header.tool = results.tool.version.clone();
    header.carried_rules = results
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
    header.carried_waivers = results
        .waivers
        .iter()
        .map(|w| (w.index, w.applied))
        .collect();
    let entries = results
        .cases
        .into_iter()
        .map(|outcome| Entry {
            outcome,
            rules: BTreeMap::new(),
            waivers: BTreeMap::new(),
        })
        .collect();
    (header, entries)
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

//! The flow of `parity run` (and `parity bench`), one stage per module, data in one direction:
//!
//! ```text
//! Request ──plan──▶ Plan ──execute / measure──▶ runs ──judge──▶ (outcome, effects)
//!         ──effects──▶ outcome ──results──▶ RunResults ──report──▶ files ──▶ exit code
//! ```
//!
//! [`plan`] resolves the configuration and the flags once; [`execute`] (or [`measure`], under
//! the performance gate) gets every case's runs from the runner; [`judge`] decides each case
//! without touching anything and says what must be done; [`effects`] does it; [`results`]
//! assembles [`RunResults`], whose summary holds the exit code; the reports are written from
//! the results alone, then [`notify`] runs `[report] on_finish`. [`resume`] continues a stopped
//! run. [`run`] is the whole flow; `cli` only parses flags and prints.

pub mod effects;
pub mod execute;
pub mod journal;
pub mod judge;
mod measure;
pub mod merge;
pub mod notify;
mod pairs;
pub mod plan;
pub mod progress;
pub mod provenance;
pub mod results;
pub mod resume;
pub mod single;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::bench;
use crate::fixture::Case;
use crate::outcome::RunResults;
use crate::report;
use crate::runner::{self, Cancel, CaseRuns};
use anyhow::Context;
use journal::Journal;
use judge::{GoldenView, Judge, Judged};
pub use plan::{Against, BenchFlags, Plan, Request};
use progress::Progress;

/// Test hook: parity holds this many MiB for the whole run, so tests can show that a side's
/// peak RSS excludes parity's own memory (see `runner::measure`). Not a user setting.
const BALLAST_ENV: &str = "PARITY_TEST_BALLAST_MIB";

/// A finished run: its results and the report files written.
#[derive(Debug)]
pub struct Finished {
    pub results: RunResults,
    pub reports: Vec<PathBuf>,
}

/// Runs the whole flow for `request`, from `cwd`.
pub fn run(request: Request, cwd: &Path) -> anyhow::Result<Finished> {
    let ballast: Vec<u8> = std::env::var(BALLAST_ENV)
        .ok()
        .and_then(|mib| mib.parse::<usize>().ok())
        .map_or_else(Vec::new, |mib| vec![1; mib << 20]);
    let mut plan = Plan::resolve(request, cwd)?;
    let prior = plan.prior.take();
    // A resumed run keeps the outputs the stopped one kept; each case run again clears its own.
    if prior.is_none() {
        prepare_outputs(&plan.launch.work_dir)?;
    }
    let (mut kept, todo): (Vec<Option<Judged>>, Vec<usize>) = match &prior {
        None => (
            (0..plan.cases.len()).map(|_| None).collect(),
            (0..plan.cases.len()).collect(),
        ),
        Some(prior) => {
            let (kept, todo) = resume::split(&plan.cases, prior);
            // Their usage of rules and waivers comes with the prior's totals.
            let kept = kept.into_iter().map(|o| o.map(Judged::kept)).collect();
            (kept, todo)
        }
    };
    if !kept.iter().all(Option::is_none) {
        eprintln!(
            "resuming: {} of {} kept from the stopped run, {} to run",
            kept.iter().flatten().count(),
            crate::units::plural(plan.cases.len(), "case"),
            todo.len()
        );
    }
    let started_at = prior
        .as_ref()
        .map_or_else(results::now, |p| p.started_at.clone());
    let journal = start_journal(&plan, &started_at, prior.as_ref());
    let floor = runner::measure_floor(&plan.launch.exe, &plan.launch.work_dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = Progress::new(todo.len());
    let cancel = Cancel::default();
    runner::stop_on_signals(
        &runtime,
        &cancel,
        &progress.bar,
        "the results of finished cases are written",
    );
    progress.watch(&runtime, Arc::clone(&plan.launch.running));
    let session = Arc::new(Session {
        plan,
        journal,
        journal_failed: std::sync::atomic::AtomicBool::new(false),
    });
    let judged = match &session.plan.bench {
        None => execute::in_parallel(&runtime, &session, &todo, &cancel, &progress),
        Some(settings) => {
            measure::in_pairs(&runtime, &session, &todo, settings, &cancel, &progress)
        }
    };
    for (index, judged) in todo.into_iter().zip(judged) {
        kept[index] = judged;
    }
    progress.finish();
    runtime.shutdown_background();
    // The directories passing cases left for the next ones (see `runner::recycle`).
    runner::clear_spares(&session.plan.launch.work_dir);
    std::hint::black_box(&ballast);

    let plan = &session.plan;
    let (carried_rules, carried_waivers) = prior
        .map(|p| (p.rule_hits, p.waiver_hits))
        .unwrap_or_default();
    let info = results::RunInfo {
        started_at,
        floor,
        interrupted: cancel.is_cancelled(),
        carried_rules,
        carried_waivers,
    };
    let mut results = results::assemble(plan, kept, info);
    results.bench = plan.bench.as_ref().map(|settings| {
        // Only cases whose outputs agreed count towards the gate.
        let agreed = results.cases.iter().filter(|c| c.verdict.is_success());
        let measured: Vec<_> = agreed.flat_map(|c| c.benches()).map(|(_, b)| b).collect();
        bench::summarise(settings, plan.units_total, measured.into_iter())
    });
    results.summarise();
    let reports = report::write_all(&plan.report_dir, &results)?;
    // In GitHub Actions: the step summary and annotations (stderr: stdout may be results.json).
    if let Err(e) = report::github::publish(&results, &mut std::io::stderr()) {
        anstream::eprintln!("warning: cannot write the GitHub step summary: {e}");
    }
    if let Some(cmd) = &plan.config.report.on_finish
        && let Some(warning) = notify::on_finish(
            cmd,
            &plan.config.base_dir,
            &plan.report_dir,
            results.summary.exit_code,
        )
    {
        anstream::eprintln!("warning: {warning}; the run's result stands");
    }
    Ok(Finished { results, reports })
}

/// Clears what an earlier run left in the outputs directory, and creates it.
fn prepare_outputs(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| {
            format!(
                "cannot clear the previous run's outputs in {}",
                dir.display()
            )
        })?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Starts the run's journal in the outputs directory: the header, then the cases kept from the
/// run it resumes. A journal that cannot be written costs only resuming after a kill: a
/// warning, not a failure.
fn start_journal(plan: &Plan, started_at: &str, prior: Option<&resume::Prior>) -> Option<Journal> {
    let selection = (
        results::suites_covered(&plan.cases, &plan.selection),
        plan.selection.fixtures.clone(),
        plan.selection.variants.clone(),
    );
    let mut header = journal::Header::new(
        &plan.config.hash,
        started_at,
        selection,
        plan.bench.is_some(),
        plan.bench.as_ref().map(|b| b.seed),
    );
    let mut kept = Vec::new();
    if let Some(prior) = prior {
        header.carried_rules = prior.rule_hits.clone();
        header.carried_waivers = prior.waiver_hits.clone();
        kept = prior
            .cases
            .values()
            .map(|outcome| journal::Entry {
                outcome: outcome.clone(),
                rules: Default::default(),
                waivers: Default::default(),
            })
            .collect();
    }
    Journal::start(&plan.launch.work_dir, &header, &kept)
        .map_err(|e| {
            eprintln!(
                "warning: cannot write the run's journal in {}: {e}; a killed run could not be resumed",
                plan.launch.work_dir.display()
            );
        })
        .ok()
}

/// The plan, shared by the threads that judge cases, and the journal they are recorded in.
pub struct Session {
    pub plan: Plan,
    journal: Option<Journal>,
    /// The journal failed once (and said so).
    journal_failed: std::sync::atomic::AtomicBool,
}

impl Session {
    /// Records a judged case in the journal, for `--resume` after a kill.
    fn record(&self, judged: &Judged) {
        let Some(journal) = &self.journal else { return };
        let entry = journal::Entry {
            outcome: judged.outcome.clone(),
            rules: judged.rule_hits.clone(),
            waivers: judged.waiver_hits.clone(),
        };
        if let Err(e) = journal.append(&entry)
            && !self
                .journal_failed
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!(
                "warning: cannot write to {}: {e}; a killed run could not be resumed",
                journal.path().display()
            );
        }
    }

    /// Judges one case's runs against its golden (as read now), then applies the effects.
    pub fn judge(&self, case: &Case, runs: CaseRuns) -> Judged {
        let plan = &self.plan;
        let against = plan.against_of(&case.fixture.suite);
        let goldens = if case.steps.is_empty() {
            vec![GoldenView::read(&plan.store, case, None, against)]
        } else {
            case.steps
                .iter()
                .map(|s| GoldenView::read(&plan.store, case, Some(&s.name), against))
                .collect()
        };
        let mut judged = Judge {
            config: &plan.config,
            store: &plan.store,
            against,
            report_dir: &plan.report_dir,
            keep_all: plan.keep_all,
            today: plan.today,
            write_pending: plan.write_pending,
            legacy_versions: &plan.legacy_versions,
        }
        .judge(case, runs, goldens);
        effects::apply(&plan.config, &plan.store, &mut judged);
        judged
    }
}

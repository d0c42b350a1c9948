//! `parity run` (and `parity bench`): the one place that knows every stage.
//! Args → Config → cases → runs (in parallel, or in measured pairs) → comparisons →
//! RunResults → reports → exit code.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use super::assemble::{Finished, RunInfo, assemble, now};
use super::{BenchArgs, Printed, RunArgs};
use crate::bench::runs::{FailedPair, RealPairs, pair_of};
use crate::bench::stats::SplitMix64;
use crate::bench::{self, BenchSettings, BudgetVerdict, Metric};
use crate::config::{self, Config};
use crate::fixture::{self, Case};
use crate::golden::GoldenStore;
use crate::judge::{self, Against, Judge, in_ci};
use crate::outcome::Verdict;
use crate::report::{self, Render, json::Json, terminal};
use crate::runner::{self, Cancel, CaseRuns, Plan, Sides};

/// Subdirectory of the report directory holding run outputs.
const OUTPUTS_DIR: &str = "outputs";

/// Test hook: parity holds this many MiB for the whole run, so tests can show that a side's
/// peak RSS excludes parity's own memory (see `runner::measure`). Not a user setting.
const BALLAST_ENV: &str = "PARITY_TEST_BALLAST_MIB";

/// Everything a run needs before the first side starts.
struct Session {
    config: Arc<Config>,
    cases: Vec<Case>,
    report_dir: PathBuf,
    plan: Arc<Plan>,
    today: NaiveDate,
    keep_all: bool,
    store: GoldenStore,
    against: Against,
    legacy_version: Option<String>,
}

impl Session {
    fn open(args: &RunArgs) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("cannot determine the current directory")?;
        let config = Arc::new(super::load_config(args.cases.config.as_deref())?);
        let cases = fixture::select(&config, &args.cases.selection())?;
        let store = GoldenStore::new(&config.golden_dir);
        let against = resolve_against(&config, &store, args)?;
        let legacy_version = if against != Against::Legacy && !in_ci() {
            judge::legacy_version(&config).unwrap_or_else(|e| {
                eprintln!(
                    "warning: {e}; pending golden updates will not record the legacy's version"
                );
                None
            })
        } else {
            None
        };
        let report_dir = args
            .out
            .as_ref()
            .map_or_else(|| config.report.dir.clone(), |dir| cwd.join(dir));
        let work_dir = report_dir.join(OUTPUTS_DIR);
        if work_dir.exists() {
            std::fs::remove_dir_all(&work_dir).with_context(|| {
                format!(
                    "cannot clear the previous run's outputs in {}",
                    work_dir.display()
                )
            })?;
        }
        std::fs::create_dir_all(&work_dir)
            .with_context(|| format!("cannot create {}", work_dir.display()))?;
        let exe = std::env::current_exe()
            .context("cannot locate the parity binary to start the measuring helper")?;
        let jobs = args.cases.jobs();
        let plan = Arc::new(Plan {
            config: Arc::clone(&config),
            exe,
            work_dir,
            jobs,
        });
        Ok(Session {
            config,
            cases,
            report_dir,
            plan,
            today: Utc::now().date_naive(),
            keep_all: args.keep_outputs,
            store,
            against,
            legacy_version,
        })
    }

    /// Judges one case's runs into its outcome, keeping its outputs if it failed.
    fn finish(&self, case: &Case, runs: CaseRuns) -> Finished {
        Judge {
            config: &self.config,
            store: &self.store,
            against: self.against,
            report_dir: &self.report_dir,
            keep_all: self.keep_all,
            today: self.today,
            write_pending: !in_ci(),
            legacy_version: self.legacy_version.clone(),
        }
        .judge(case, runs)
    }

    fn sides(&self) -> Sides {
        if self.against.runs_legacy() {
            Sides::Both
        } else {
            Sides::Candidate
        }
    }
}

/// What the candidate is compared against: `--against`, else the legacy when measuring
/// performance, else the default for the configuration and its goldens.
fn resolve_against(
    config: &Config,
    store: &GoldenStore,
    args: &RunArgs,
) -> anyhow::Result<Against> {
    let against = match (args.against, args.bench.bench) {
        (Some(against), _) => against,
        (None, true) => Against::Legacy,
        (None, false) => Against::default_for(config, store),
    };
    if against.runs_legacy()
        && let Some(state) = config.legacy.why_not()
    {
        if args.against.is_none() {
            bail!(
                "the performance gate times the candidate against the legacy, which is {state} in {}; \
                 there is nothing to measure against",
                config.path.display()
            );
        }
        bail!(
            "--against {}: the legacy is {state} in {}; compare against goldens (--against golden)",
            against.as_str(),
            config.path.display()
        );
    }
    if args.bench.bench && !against.runs_legacy() {
        bail!(
            "the performance gate times the legacy against the candidate; it cannot run against goldens only"
        );
    }
    Ok(against)
}

pub fn run(args: RunArgs) -> anyhow::Result<i32> {
    let ballast: Vec<u8> = std::env::var(BALLAST_ENV)
        .ok()
        .and_then(|mib| mib.parse::<usize>().ok())
        .map_or_else(Vec::new, |mib| vec![1; mib << 20]);
    let session = Arc::new(Session::open(&args)?);
    let settings = bench_settings(&session.config, &args.bench)?;
    let started_at = now();
    let floor = runner::measure_floor(&session.plan.exe, &session.plan.work_dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = progress_bar(session.cases.len());
    let cancel = Cancel::default();
    stop_on_ctrl_c(
        &runtime,
        &cancel,
        &progress,
        "the results of finished cases are written",
    );
    let outcomes = match &settings {
        None => run_in_parallel(&runtime, &session, &cancel, &progress),
        Some(settings) => run_in_pairs(&runtime, &session, settings, &cancel, &progress),
    };
    progress.finish_and_clear();
    runtime.shutdown_background();
    std::hint::black_box(&ballast);

    let info = RunInfo {
        jobs: if settings.is_some() {
            1
        } else {
            session.plan.jobs
        },
        started_at,
        floor,
        today: session.today,
        interrupted: cancel.is_cancelled(),
    };
    let mut results = assemble(&session.config, &args, &session.cases, outcomes, info);
    results.bench = settings.map(|s| {
        // Only cases whose outputs agreed count towards the gate.
        let agreed = results.cases.iter().filter(|c| c.verdict.is_success());
        bench::summarise(&s, agreed.filter_map(|c| c.bench.as_ref()))
    });
    results.summarise();
    let files = report::write_all(&session.report_dir, &results)?;
    terminal::write_rule_warnings(&mut anstream::stderr().lock(), &results)?;
    match args.format {
        Printed::Human => {
            terminal::write_summary(&mut crate::cli::output::stdout(), &results, &files)?
        }
        Printed::Json => {
            terminal::write_summary(&mut anstream::stderr().lock(), &results, &files)?;
            crate::cli::output::raw_stdout().write_all(Json.render(&results)?.as_bytes())?;
        }
    }
    Ok(results.summary.exit_code)
}

/// Ctrl-C, SIGTERM (what `timeout` and CI cancellation send) and SIGHUP (a closed terminal) all
/// stop every run and keep what finished; a second one quits at once (the measuring helpers
/// still stop their sides: they are told when parity dies).
pub(super) fn stop_on_ctrl_c(
    runtime: &tokio::runtime::Runtime,
    cancel: &Cancel,
    progress: &ProgressBar,
    then: &'static str,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (cancel, progress) = (cancel.clone(), progress.clone());
    runtime.spawn(async move {
        let watch = |kind: SignalKind, name: &str| {
            signal(kind)
                .map_err(|e| eprintln!("warning: cannot watch for {name}: {e}"))
                .ok()
        };
        let mut interrupt = watch(SignalKind::interrupt(), "Ctrl-C");
        let mut terminate = watch(SignalKind::terminate(), "SIGTERM");
        let mut hangup = watch(SignalKind::hangup(), "SIGHUP");
        let mut next = async || {
            tokio::select! {
                () = received(&mut interrupt) => "Ctrl-C",
                () = received(&mut terminate) => "SIGTERM",
                () = received(&mut hangup) => "SIGHUP",
            }
        };
        let first = next().await;
        // `suspend`, not `println`: the latter prints nothing when the bar is hidden.
        progress.suspend(|| {
            eprintln!(
                "interrupted ({first}): stopping every run; {then} (press Ctrl-C again to quit at once)"
            );
        });
        cancel.cancel();
        next().await;
        std::process::exit(crate::exit_code::TROUBLE);
    });
}

/// Completes when `signal` arrives; never when it could not be watched.
async fn received(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Every case once, both sides, up to `--jobs` processes at once.
fn run_in_parallel(
    runtime: &tokio::runtime::Runtime,
    session: &Arc<Session>,
    cancel: &Cancel,
    progress: &ProgressBar,
) -> Vec<Option<Finished>> {
    let finish = {
        let session = Arc::clone(session);
        move |case: &Case, runs: CaseRuns| session.finish(case, runs)
    };
    runtime.block_on(runner::run_cases(
        Arc::clone(&session.plan),
        session.cases.clone(),
        session.sides(),
        cancel.clone(),
        finish,
        |case, finished: &Finished| {
            report_progress(progress, case, finished);
        },
    ))
}

/// Every case in measured pairs, one process at a time: warm-up, a first pair compared in full,
/// then pairs until the budget verdict is clear (see [`bench`]).
fn run_in_pairs(
    runtime: &tokio::runtime::Runtime,
    session: &Session,
    settings: &BenchSettings,
    cancel: &Cancel,
    progress: &ProgressBar,
) -> Vec<Option<Finished>> {
    let confidence = settings.fixture_confidence(session.cases.len());
    let mut outcomes = Vec::with_capacity(session.cases.len());
    for (index, case) in session.cases.iter().enumerate() {
        let seed = settings
            .seed
            .wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let finished = measure_case(runtime, session, settings, case, cancel, confidence, seed);
        if let Some(finished) = &finished {
            report_progress(progress, case, finished);
        }
        outcomes.push(finished);
        if cancel.is_cancelled() {
            outcomes.resize_with(session.cases.len(), || None);
            break;
        }
    }
    outcomes
}

fn measure_case(
    runtime: &tokio::runtime::Runtime,
    session: &Session,
    settings: &BenchSettings,
    case: &Case,
    cancel: &Cancel,
    confidence: f64,
    seed: u64,
) -> Option<Finished> {
    let mut pairs = RealPairs {
        runtime,
        plan: &session.plan,
        config: &session.config,
        case,
        cancel,
        today: session.today,
        runs: 0,
        failed: None,
    };
    pairs.warm_up(settings.warmup).ok()?;
    let dir = session.plan.case_dir(case);
    if let Some(failed) = pairs.failed.take() {
        return Some(judge_failed_pair(session, case, failed, None));
    }
    let legacy_first = SplitMix64::new(seed).coin();
    let (legacy, candidate) = pairs.run_both(legacy_first).ok()?;
    let first = pair_of(
        legacy_first,
        &legacy.run,
        &candidate.run,
        &Verdict::Identical,
    );
    let runs = CaseRuns {
        dir: dir.clone(),
        legacy: Some(legacy),
        candidate: Some(candidate),
    };
    let mut finished = session.finish(case, runs);
    if !finished.outcome.verdict.is_success() {
        return Some(finished);
    }
    let bench = match bench::measure(&mut pairs, settings, Some(first), confidence, seed) {
        Ok(bench) => bench,
        Err(e) => {
            finished
                .outcome
                .notes
                .push(format!("performance not measured: {e}"));
            return Some(finished);
        }
    };
    if let Some(failed) = pairs.failed.take() {
        return Some(judge_failed_pair(session, case, failed, Some(bench)));
    }
    finished.outcome.bench = Some(bench);
    // The pairs after the first left their outputs behind; a passing case keeps none.
    if finished.outcome.kept_outputs.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Some(finished)
}

/// A case whose sides disagreed on a later run than the first: judged on that run (its outputs
/// are still on disk and are kept), with the pairs measured until then.
fn judge_failed_pair(
    session: &Session,
    case: &Case,
    failed: FailedPair,
    bench: Option<bench::CaseBench>,
) -> Finished {
    let runs = CaseRuns {
        dir: session.plan.case_dir(case),
        legacy: Some(failed.legacy),
        candidate: Some(failed.candidate),
    };
    let mut finished = session.finish(case, runs);
    if failed.number > 1 {
        finished.outcome.notes.push(format!(
            "{} on run {}{} of this case, after {} that agreed: the sides do not behave the same \
             from run to run (parity calibrate shows what varies){}",
            failed.verdict.describe(),
            failed.number,
            if failed.warmup { " (a warm-up)" } else { "" },
            if failed.number == 2 { "one" } else { "runs" },
            if bench.is_some() {
                "; measuring stopped there"
            } else {
                ""
            },
        ));
    }
    finished.outcome.bench = bench;
    finished
}

fn report_progress(progress: &ProgressBar, case: &Case, finished: &Finished) {
    let outcome = &finished.outcome;
    if !outcome.verdict.is_success() {
        progress.println(format!(
            "✗ {}  {}",
            crate::report::inert::inert_line(&case.label()),
            outcome.verdict.describe()
        ));
    } else if let Some(bench) = &outcome.bench
        && bench.verdict != BudgetVerdict::Within
    {
        progress.println(format!(
            "⚠ {}  performance {}",
            crate::report::inert::inert_line(&case.label()),
            bench.verdict.as_str()
        ));
    }
    progress.inc(1);
}

/// `[bench]` overlaid with the flags, when the run measures performance.
fn bench_settings(config: &Config, args: &BenchArgs) -> anyhow::Result<Option<BenchSettings>> {
    if !args.bench {
        return Ok(None);
    }
    let mut settings = config.bench.clone();
    settings.runs = args.runs.unwrap_or(settings.runs);
    settings.max_runs = args.max_runs.unwrap_or(settings.max_runs);
    if settings.runs < bench::MIN_RUNS {
        bail!("--runs must be at least {}", bench::MIN_RUNS);
    }
    if settings.max_runs < settings.runs {
        bail!(
            "--max-runs ({}) must be at least the runs ({})",
            settings.max_runs,
            settings.runs
        );
    }
    settings.warmup = args.warmup.unwrap_or(settings.warmup);
    for spec in &args.budget {
        let parsed = spec
            .split_once('=')
            .and_then(|(m, b)| Some((Metric::parse(m.trim())?, config::parse_budget(b)?)));
        let Some((metric, budget)) = parsed else {
            bail!("--budget `{spec}`: write METRIC=PCT, e.g. cpu=5% (metrics: wall, cpu, memory)");
        };
        settings.budgets.insert(metric, budget);
    }
    if let Some(confidence) = args.confidence {
        if !bench::confidence_ok(confidence) {
            bail!("--confidence is a probability between 0.5 and 1, e.g. 0.95");
        }
        settings.confidence = confidence;
    }
    if !args.gate.is_empty() {
        settings.gate = args
            .gate
            .iter()
            .map(|m| {
                Metric::parse(m.trim()).with_context(|| {
                    format!("--gate: unknown metric `{m}`; use wall, cpu or memory")
                })
            })
            .collect::<anyhow::Result<_>>()?;
    }
    settings.strict = args.strict_bench;
    settings.seed = args.seed.or(config.bench_seed).unwrap_or_else(fresh_seed);
    Ok(Some(settings))
}

/// A seed nobody chose: the clock and the process id.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    SplitMix64::new(nanos ^ u64::from(std::process::id())).next_u64()
}

/// A progress bar on stderr; indicatif hides it when stderr is not a terminal.
pub(super) fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} cases {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

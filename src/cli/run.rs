//! `parity run`: the one place that knows every stage.
//! Args → Config → cases → runs → comparisons → RunResults → reports → exit code.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{NaiveDate, SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use super::{Printed, RunArgs};
use crate::compare::compare_case;
use crate::config::{self, Config};
use crate::fixture::{self, Case, Selection};
use crate::outcome::{
    CaseOutcome, ConfigInfo, Environment, FORMAT_VERSION, Measurement, RuleUsage, RunResults,
    SelectionInfo, ToolInfo, Verdict, WaiverUsage,
};
use crate::report::{self, Render, json::Json, terminal};
use crate::runner::{self, Cancel, Plan, SideResult};

/// Subdirectory of the report directory holding run outputs.
const OUTPUTS_DIR: &str = "outputs";

/// Test hook: parity holds this many MiB for the whole run, so tests can show that a side's
/// peak RSS excludes parity's own memory (see `runner::measure`). Not a user setting.
const BALLAST_ENV: &str = "PARITY_TEST_BALLAST_MIB";

/// A finished case with the rule and waiver usage it contributed.
struct Finished {
    outcome: CaseOutcome,
    rule_hits: BTreeMap<usize, u64>,
    waiver_hits: BTreeMap<usize, u64>,
}

pub fn run(args: RunArgs) -> anyhow::Result<i32> {
    let ballast: Vec<u8> = std::env::var(BALLAST_ENV)
        .ok()
        .and_then(|mib| mib.parse::<usize>().ok())
        .map_or_else(Vec::new, |mib| vec![1; mib << 20]);
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let config_path = match &args.config {
        Some(path) => cwd.join(path),
        None => config::discover(&cwd)?,
    };
    let config = Arc::new(config::load(&config_path)?);
    let selection = Selection {
        suites: args.suites.clone(),
        fixtures: args.fixtures.clone(),
        variants: args.variants.clone(),
    };
    let cases = fixture::select(&config, &selection)?;
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
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let started_at = now();
    let today = Utc::now().date_naive();
    let floor = runner::measure_floor(&exe, &work_dir);

    let plan = Arc::new(Plan {
        config: Arc::clone(&config),
        exe,
        work_dir: work_dir.clone(),
        jobs,
    });
    let progress = progress_bar(cases.len());
    let cancel = Cancel::default();
    let finish = {
        let config = Arc::clone(&config);
        let report_dir = report_dir.clone();
        let keep_all = args.keep_outputs;
        move |case: &Case, dir: &Path, legacy: SideResult, candidate: SideResult| {
            finish_case(
                &config,
                case,
                dir,
                &report_dir,
                keep_all,
                today,
                legacy,
                candidate,
            )
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcomes = runtime.block_on(async {
        let on_interrupt = cancel.clone();
        let progress_for_signal = progress.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                progress_for_signal.println("interrupted: stopping every run and writing the results of finished cases (Ctrl-C again to quit at once)");
                on_interrupt.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(crate::exit_code::TROUBLE);
                }
            }
        });
        runner::run_cases(Arc::clone(&plan), cases.clone(), cancel.clone(), finish, |case, finished: &Finished| {
            if !finished.outcome.verdict.is_success() {
                progress.println(format!("✗ {}  {}", case.label(), finished.outcome.verdict.describe()));
            }
            progress.inc(1);
        })
        .await
    });
    progress.finish_and_clear();
    runtime.shutdown_background();
    std::hint::black_box(&ballast);

    let mut results = assemble(
        &config,
        &args,
        jobs,
        &cases,
        outcomes,
        started_at,
        floor,
        today,
        cancel.is_cancelled(),
    );
    results.summarise();
    let files = report::write_all(&report_dir, &results)?;
    match args.format {
        Printed::Human => {
            let mut out = anstream::stdout().lock();
            terminal::write_summary(&mut out, &results, &files)?;
        }
        Printed::Json => {
            let mut err = anstream::stderr().lock();
            terminal::write_summary(&mut err, &results, &files)?;
            std::io::stdout()
                .lock()
                .write_all(Json.render(&results)?.as_bytes())?;
        }
    }
    Ok(results.summary.exit_code)
}

#[allow(clippy::too_many_arguments)]
fn finish_case(
    config: &Config,
    case: &Case,
    dir: &Path,
    report_dir: &Path,
    keep_all: bool,
    today: NaiveDate,
    legacy: SideResult,
    candidate: SideResult,
) -> Finished {
    let comparison = compare_case(config, &case.fixture.id, &legacy, &candidate, today);
    let verdict = Verdict::decide(&legacy.run, &candidate.run, &comparison.outputs);
    let mut notes = comparison.notes;
    let kept_outputs = if keep_all || !verdict.is_success() {
        Some(
            dir.strip_prefix(report_dir)
                .unwrap_or(dir)
                .to_string_lossy()
                .into_owned(),
        )
    } else {
        if let Err(e) = std::fs::remove_dir_all(dir) {
            notes.push(format!(
                "could not remove outputs in {}: {e}",
                dir.display()
            ));
        }
        None
    };
    Finished {
        outcome: CaseOutcome {
            suite: case.fixture.suite.clone(),
            fixture: case.fixture.id.clone(),
            variant: case.variant_name().map(str::to_owned),
            verdict,
            legacy: legacy.run,
            candidate: candidate.run,
            outputs: comparison.outputs,
            kept_outputs,
            notes,
        },
        rule_hits: comparison.rule_hits,
        waiver_hits: comparison.waiver_hits,
    }
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    config: &Config,
    args: &RunArgs,
    jobs: usize,
    cases: &[Case],
    outcomes: Vec<Option<Finished>>,
    started_at: String,
    floor: Option<u64>,
    today: NaiveDate,
    interrupted: bool,
) -> RunResults {
    let mut rule_hits: BTreeMap<usize, u64> = BTreeMap::new();
    let mut waiver_hits: BTreeMap<usize, u64> = BTreeMap::new();
    let mut finished = Vec::new();
    let mut not_run = Vec::new();
    for (case, outcome) in cases.iter().zip(outcomes) {
        match outcome {
            Some(f) => {
                for (id, n) in f.rule_hits {
                    *rule_hits.entry(id).or_default() += n;
                }
                for (id, n) in f.waiver_hits {
                    *waiver_hits.entry(id).or_default() += n;
                }
                finished.push(f.outcome);
            }
            None => not_run.push(case.label()),
        }
    }
    let rules = config
        .rules
        .iter()
        .map(|r| {
            let applied = rule_hits.get(&r.id).copied().unwrap_or(0);
            RuleUsage {
                id: r.id,
                compare: r.compare,
                output: r.output.clone(),
                kind: r.kind.as_str().to_owned(),
                path: r.path.clone(),
                detail: r.detail.clone(),
                reason: r.reason.clone(),
                owner: r.owner.clone(),
                expires: r.expires.clone(),
                applied,
                stale: applied == 0 && !r.expired && !finished.is_empty(),
                expired: r.expired,
            }
        })
        .collect();
    let waivers = config
        .waivers
        .iter()
        .map(|w| WaiverUsage {
            index: w.index,
            path: w.path.as_ref().map(ToString::to_string),
            output: w.output.as_ref().map(|(text, _)| text.clone()),
            fixture: w.fixture.as_ref().map(|(text, _)| text.clone()),
            value: w.value.as_ref().map(|r| r.as_str().to_owned()),
            reason: w.reason.clone(),
            owner: w.owner.clone(),
            expires: w.expires.map(|d| d.to_string()),
            expired: w.is_expired(today),
            applied: waiver_hits.get(&w.index).copied().unwrap_or(0),
        })
        .collect();
    let mut suites: Vec<String> = cases.iter().map(|c| c.fixture.suite.clone()).collect();
    suites.dedup();
    if suites.is_empty() {
        suites.clone_from(&args.suites);
    }
    RunResults {
        format_version: FORMAT_VERSION,
        tool: ToolInfo::default(),
        started_at,
        finished_at: now(),
        interrupted,
        config: ConfigInfo {
            path: config.path.to_string_lossy().into_owned(),
            hash: config.hash.clone(),
            source: config.source.clone(),
        },
        environment: Environment::capture(),
        measurement: Measurement {
            helper_floor_kib: floor,
        },
        selection: SelectionInfo {
            suites,
            fixtures: args.fixtures.clone(),
            variants: args.variants.clone(),
            jobs,
        },
        cases: finished,
        not_run,
        rules,
        waivers,
        clusters: Vec::new(),
        summary: Default::default(),
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A progress bar on stderr; indicatif hides it when stderr is not a terminal.
fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} cases {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

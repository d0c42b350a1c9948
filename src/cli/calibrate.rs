//! `parity calibrate`: Args → Config → cases → N passes over every case (both sides once per
//! pass, through the runner, up to `--jobs` processes at once, each pass starting in a new
//! wall-clock second) → every later run compared with the first run of its side (as its pass
//! finishes, so only two runs' outputs are on disk at a time) → [`Calibration`] → summary or JSON
//! on stdout, proposed rules to `--write FILE` → exit code.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use indicatif::ProgressBar;

use super::{CalibrateArgs, Printed};
use crate::calibrate::observe::{Configs, RepeatFindings, compare_repeat};
use crate::calibrate::{Calibration, Calibrator, human};
use crate::config::Config;
use crate::exit_code;
use crate::fixture::{self, Case};
use crate::flow::execute::each_finished;
use crate::flow::progress::bar as progress_bar;
use crate::runner::{self, Cancel, CaseRuns, Launch, RunStatus, Side, SideResult, Sides, StepRuns};

/// Subdirectory of the report directory holding the runs' outputs by default.
const WORK_DIR: &str = "calibrate";

/// Everything calibration needs before the first side starts.
struct Session {
    config: Arc<Config>,
    configs: Arc<Configs>,
    cases: Vec<Case>,
    work_dir: PathBuf,
    exe: PathBuf,
    jobs: usize,
    runs: usize,
    today: NaiveDate,
    keep: bool,
}

impl Session {
    fn open(args: &CalibrateArgs, cwd: &Path) -> anyhow::Result<Self> {
        let config = super::load_config(args.cases.config.as_deref())?;
        if let Some(why) = config.legacy.why_not() {
            bail!(
                "calibration compares the legacy's runs with each other, but the legacy is {why} in {}",
                config.path.display()
            );
        }
        let cases = fixture::select(&config, &args.cases.selection())?;
        let work_dir = args
            .out
            .as_ref()
            .map_or_else(|| config.report.dir.join(WORK_DIR), |dir| cwd.join(dir));
        let exe = std::env::current_exe()
            .context("cannot locate the parity binary to start the measuring helper")?;
        let jobs = args.cases.jobs();
        Ok(Session {
            configs: Arc::new(Configs::new(&config)),
            config: Arc::new(config),
            cases,
            work_dir,
            exe,
            jobs,
            runs: args.runs as usize,
            today: Utc::now().date_naive(),
            keep: args.keep_outputs,
        })
    }

    fn plan(&self, run: usize) -> Arc<Launch> {
        Arc::new(Launch {
            config: Arc::clone(&self.config),
            exe: self.exe.clone(),
            work_dir: self.run_dir(run),
            jobs: self.jobs,
            running: Default::default(),
        })
    }

    fn run_dir(&self, run: usize) -> PathBuf {
        self.work_dir.join(format!("run-{run}"))
    }

    /// Removes what earlier calibrations left in the run directories, and creates them.
    fn prepare_dirs(&self) -> anyhow::Result<()> {
        for run in 1..=self.runs {
            let dir = self.run_dir(run);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).with_context(|| {
                    format!(
                        "cannot clear an earlier calibration's outputs in {}",
                        dir.display()
                    )
                })?;
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(())
    }

    /// Removes the runs' outputs unless `--keep-outputs`, and the work directory if that
    /// leaves it empty.
    fn clean_up(&self) {
        if self.keep {
            eprintln!("outputs kept under {}/run-*", self.work_dir.display());
            return;
        }
        for run in 1..=self.runs {
            let _ = std::fs::remove_dir_all(self.run_dir(run));
        }
        let _ = std::fs::remove_dir(&self.work_dir);
    }
}

/// One repeat of one case: how each side ended, and what it showed against its first run.
struct Repeat {
    statuses: [Option<RunStatus>; 2],
    found: [Option<RepeatFindings>; 2],
}

pub fn calibrate(args: CalibrateArgs) -> anyhow::Result<i32> {
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let session = Session::open(&args, &cwd)?;
    if let Some(path) = &args.write {
        check_write_target(&cwd.join(path), &session.config.path)?;
    }
    if session.cases.is_empty() {
        eprintln!("no fixture matched the selection");
        return Ok(exit_code::NOTHING_SELECTED);
    }
    session.prepare_dirs()?;
    let calibrator = run_passes(&session)?;
    session.clean_up();
    if let Some((side, message)) = calibrator.unstartable() {
        bail!("the {side} could not be started in any run: {message}");
    }
    let calibration = calibrator.finish(&session.config);
    if let Some(path) = &args.write {
        crate::report::write_atomic(&cwd.join(path), calibration.proposed_toml.as_bytes())?;
    }
    print(&calibration, args.format, args.write.as_deref())?;
    Ok(calibration.exit_code)
}

/// Runs every pass; each later pass is compared with the first as it finishes.
fn run_passes(session: &Session) -> anyhow::Result<Calibrator> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        progress_bar(session.cases.len() * session.runs, "runs")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let cancel = Cancel::default();
    runner::stop_on_signals(
        &runtime,
        &cancel,
        &progress,
        "an interrupted calibration proposes nothing",
    );
    let labels: Vec<String> = session.cases.iter().flat_map(step_labels).collect();
    let mut calibrator = Calibrator::new(session.runs, labels);
    let firsts = first_pass(&runtime, session, &cancel, &progress);
    for (label, runs) in &firsts {
        record_statuses(&mut calibrator, label, [&runs.legacy, &runs.candidate]);
    }
    let firsts = Arc::new(firsts);
    for run in 2..=session.runs {
        if cancel.is_cancelled() {
            break;
        }
        wait_for_next_second();
        let repeats = repeat_pass(&runtime, session, run, &firsts, &cancel, &progress);
        for (label, repeat) in repeats.into_iter().flatten().flatten() {
            for (side, (status, found)) in [Side::Legacy, Side::Candidate]
                .into_iter()
                .zip(repeat.statuses.into_iter().zip(repeat.found))
            {
                if let Some(status) = status {
                    calibrator.record_status(&label, side, &status);
                }
                if let Some(found) = found {
                    calibrator.record_repeat(&label, side, run, found);
                }
            }
        }
    }
    progress.finish_and_clear();
    runtime.shutdown_background();
    if cancel.is_cancelled() {
        session.clean_up();
        bail!("interrupted: the calibration is incomplete, so nothing is reported or proposed");
    }
    Ok(calibrator)
}

fn record_statuses(calibrator: &mut Calibrator, label: &str, sides: [&Option<SideResult>; 2]) {
    for (side, result) in [Side::Legacy, Side::Candidate].into_iter().zip(sides) {
        if let Some(result) = result {
            calibrator.record_status(label, side, &result.run.status);
        }
    }
}

/// How calibration names each compared unit of a case: the case, or each step of a scenario
/// (`history/week (step 2-override)`): a scenario's step is compared with the same step of the
/// first run.
fn step_labels(case: &Case) -> Vec<String> {
    if case.steps.is_empty() {
        return vec![case.label()];
    }
    case.steps
        .iter()
        .map(|s| step_label(case, &s.name))
        .collect()
}

fn step_label(case: &Case, step: &str) -> String {
    format!("{} (step {step})", case.label())
}

/// Each step's runs of a case, by label.
fn by_label(case: &Case, runs: CaseRuns) -> Vec<(String, StepRuns)> {
    runs.steps
        .into_iter()
        .map(|step| {
            let label = step
                .step
                .as_deref()
                .map_or_else(|| case.label(), |name| step_label(case, name));
            (label, step)
        })
        .collect()
}

/// Run 1 of every case; its outputs stay until the end, as every later run is compared with it.
fn first_pass(
    runtime: &tokio::runtime::Runtime,
    session: &Session,
    cancel: &Cancel,
    progress: &ProgressBar,
) -> BTreeMap<String, StepRuns> {
    let results = runtime.block_on(async {
        each_finished(
            runner::run_cases(
                session.plan(1),
                session.cases.clone(),
                Arc::new(|_: &Case| Sides::Both),
                cancel.clone(),
            )
            .await,
            &session.cases,
            by_label,
            |_, _| progress.inc(1),
        )
        .await
    });
    results.into_iter().flatten().flatten().collect()
}

/// Run `run` of every case, each compared with run 1 of its side (step by step) on a blocking
/// thread as soon as it finishes; its outputs are removed then, unless kept.
fn repeat_pass(
    runtime: &tokio::runtime::Runtime,
    session: &Session,
    run: usize,
    firsts: &Arc<BTreeMap<String, StepRuns>>,
    cancel: &Cancel,
    progress: &ProgressBar,
) -> Vec<Option<Vec<(String, Repeat)>>> {
    let finish = {
        let firsts = Arc::clone(firsts);
        let configs = Arc::clone(&session.configs);
        let (today, keep) = (session.today, session.keep);
        move |case: &Case, runs: CaseRuns| {
            let dir = runs.dir.clone();
            let repeats = by_label(case, runs)
                .into_iter()
                .map(|(label, step)| {
                    let first = firsts.get(&label);
                    let compare = |first: Option<&SideResult>, repeat: Option<&SideResult>| {
                        compare_repeat(&configs, &case.fixture.id, first?, repeat?, today)
                    };
                    let repeat = Repeat {
                        statuses: [&step.legacy, &step.candidate]
                            .map(|r| r.as_ref().map(|r| r.run.status.clone())),
                        found: [
                            compare(first.and_then(|f| f.legacy.as_ref()), step.legacy.as_ref()),
                            compare(
                                first.and_then(|f| f.candidate.as_ref()),
                                step.candidate.as_ref(),
                            ),
                        ],
                    };
                    (label, repeat)
                })
                .collect();
            if !keep {
                let _ = std::fs::remove_dir_all(&dir);
            }
            repeats
        }
    };
    runtime.block_on(async {
        each_finished(
            runner::run_cases(
                session.plan(run),
                session.cases.clone(),
                Arc::new(|_: &Case| Sides::Both),
                cancel.clone(),
            )
            .await,
            &session.cases,
            finish,
            |_, _| progress.inc(1),
        )
        .await
    })
}

/// Sleeps into the next wall-clock second: every run of the next pass then starts in a later
/// second than every run of this one, so a timestamp written to the second differs between them
/// (runs of a fast fixture would otherwise often share their second, and hide it).
fn wait_for_next_second() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let into_second = Duration::from_nanos(u64::from(now.subsec_nanos()));
    std::thread::sleep(Duration::from_secs(1) - into_second + Duration::from_millis(10));
}

/// Fails before any run when `--write` could not be written, or names the configuration:
/// calibrate proposes, it never edits the configuration.
fn check_write_target(path: &Path, config: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.is_dir()
    {
        bail!(
            "--write {}: the directory {} does not exist",
            path.display(),
            parent.display()
        );
    }
    let same = match (std::fs::canonicalize(path), std::fs::canonicalize(config)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        bail!(
            "--write {}: that is the configuration file, and calibrate never edits it; write the proposal to another file, review it, then merge what you keep",
            path.display()
        );
    }
    Ok(())
}

fn print(calibration: &Calibration, format: Printed, written: Option<&Path>) -> anyhow::Result<()> {
    let written = written.map(|p| format!("proposed rules written to {}", p.display()));
    match format {
        Printed::Human => {
            let mut out = crate::cli::output::stdout();
            out.write_all(human::render(calibration).as_bytes())?;
            if let Some(line) = written {
                writeln!(out, "{line}")?;
            }
        }
        Printed::Json => {
            let mut text = serde_json::to_string_pretty(calibration)?;
            text.push('\n');
            crate::cli::output::raw_stdout().write_all(text.as_bytes())?;
            if let Some(line) = written {
                eprintln!("{line}");
            }
        }
    }
    Ok(())
}

//! Running both sides of every case: spawning through the measuring helper, each run in its own
//! process group and fresh `{out}` directory, with both pipes drained, a timeout that kills the
//! whole group, and cancellation (Ctrl-C) that kills every child and keeps finished cases.
//!
//! The main types are [`SideRequest`] (what to run, in [`process`] with [`run_side`]),
//! [`SideResult`] (what happened, plus where its outputs are on disk) and [`run_cases`] (in
//! [`schedule`]), which runs every case with bounded parallelism and hands each case's runs
//! over as they finish. The runner runs; it never judges.

pub mod capture;
mod convert;
mod helpers;
pub mod limits;
pub mod measure;
mod process;
mod quick;
mod reap;
mod rundir;
mod schedule;
mod signals;
mod spawn;
mod usage;
mod wire;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::config::Side;
pub use convert::{CONVERT_LIMIT, Conversion, next_run_id};
pub use process::{Place, SideRequest, measure_floor, run_side, signal_name, version_of};
pub use quick::{QUICK_TIMEOUT, run_into, run_quick};
pub use rundir::{clear_spares, recycle};
pub use schedule::{Cancel, CaseRuns, Launch, Running, Sides, SidesOf, StepRuns, run_cases};
pub use signals::stop_on_signals;

/// Bytes of stdout or stderr stored per run; beyond it the capture is marked truncated.
pub const CAPTURE_LIMIT: u64 = 64 * 1024 * 1024;
/// Where a run directory (and a golden) keeps the outputs a `[[compare]]` block converts,
/// converted.
pub const CONVERTED_DIR: &str = "converted";
/// Where, in a side's run directory, its converters run (one numbered run directory each);
/// set aside for the next runs once they have run (`runner::rundir`), or removed.
pub const CONVERTER_RUNS: &str = "convert";
/// Where, in a side's run directory, its teardown runs; set aside or removed once it has run.
pub const TEARDOWN_RUN: &str = "teardown";
/// Lines of stderr kept in results for each run.
pub const STDERR_TAIL_LINES: usize = 20;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunStatus {
    Exited {
        code: i32,
    },
    Signaled {
        signal: i32,
        name: String,
    },
    TimedOut {
        after_ms: u64,
    },
    /// The command could not be started (missing program, bad working directory).
    SpawnFailed {
        message: String,
    },
    /// Stopped by Ctrl-C (or SIGTERM, SIGHUP) before it finished.
    Interrupted,
    /// The side ran, but parity failed to run or observe it properly (no file descriptor left
    /// to capture its output, no disk, its measuring helper killed): parity's failure, never
    /// the program's.
    HarnessFailed {
        message: String,
    },
}

impl RunStatus {
    pub fn is_success(&self) -> bool {
        matches!(self, RunStatus::Exited { code: 0 })
    }

    /// True when the program ran to its end (an exit or a signal of its own): its outputs are
    /// what it produced, and can be compared.
    pub fn ran_to_end(&self) -> bool {
        match self {
            RunStatus::Exited { .. } | RunStatus::Signaled { .. } => true,
            RunStatus::TimedOut { .. }
            | RunStatus::SpawnFailed { .. }
            | RunStatus::Interrupted
            | RunStatus::HarnessFailed { .. } => false,
        }
    }

    /// Why parity, not the program, is to blame for this run, when it is.
    pub fn harness_trouble(&self) -> Option<&str> {
        match self {
            RunStatus::SpawnFailed { message } | RunStatus::HarnessFailed { message } => {
                Some(message)
            }
            RunStatus::Exited { .. }
            | RunStatus::Signaled { .. }
            | RunStatus::TimedOut { .. }
            | RunStatus::Interrupted => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            RunStatus::Exited { code } => format!("exit {code}"),
            RunStatus::Signaled { name, .. } => format!("killed by {name}"),
            RunStatus::TimedOut { after_ms } => {
                format!(
                    "timed out after {}",
                    crate::units::format_ms(*after_ms as f64)
                )
            }
            RunStatus::SpawnFailed { message } => format!("could not start: {message}"),
            RunStatus::Interrupted => "interrupted".to_owned(),
            RunStatus::HarnessFailed { message } => format!("parity failed to run it: {message}"),
        }
    }
}

/// One captured stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInfo {
    pub bytes: u64,
    pub truncated: bool,
}

/// What one run of one side did: the record kept in results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideRun {
    pub argv: Vec<String>,
    /// The variables parity set for it: the side's `env` and the variant's, rendered, in the
    /// order they were set (a later one of the same name wins). The inherited environment is
    /// not recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
    pub cwd: String,
    pub status: RunStatus,
    pub wall_ms: f64,
    /// User + system CPU time of the command and the descendants it waited for.
    pub user_ms: Option<f64>,
    pub sys_ms: Option<f64>,
    /// The command's own peak resident set size.
    pub peak_rss_kib: Option<u64>,
    pub stdout: StreamInfo,
    pub stderr: StreamInfo,
    /// The last lines of stderr.
    pub stderr_tail: String,
    /// Anything unusual: leftover processes killed, pipes held open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl SideRun {
    /// A run of `request` that has not happened yet.
    fn pending(request: &SideRequest) -> Self {
        SideRun {
            env: request.env.clone(),
            ..SideRun::unmeasured(
                request.argv.clone(),
                request.cwd.to_string_lossy().into_owned(),
                RunStatus::Interrupted,
            )
        }
    }

    /// A run known only by its command, place and status: nothing measured, nothing captured
    /// (a golden's recorded run, a side that did not run).
    pub fn unmeasured(argv: Vec<String>, cwd: String, status: RunStatus) -> Self {
        SideRun {
            argv,
            env: Vec::new(),
            cwd,
            status,
            wall_ms: 0.0,
            user_ms: None,
            sys_ms: None,
            peak_rss_kib: None,
            stdout: StreamInfo::default(),
            stderr: StreamInfo::default(),
            stderr_tail: String::new(),
            notes: Vec::new(),
        }
    }

    pub fn cpu_ms(&self) -> Option<f64> {
        Some(self.user_ms? + self.sys_ms?)
    }

    /// Several runs of one side as one (a scenario's steps): the last one's command and env, the
    /// first failure's status (else the last's) and stderr, times and stream sizes summed, the
    /// highest peak memory, every note.
    pub fn total(runs: &[&SideRun]) -> SideRun {
        let last = runs.last().copied();
        let telling = runs
            .iter()
            .copied()
            .find(|r| !r.status.is_success())
            .or(last);
        let sum = |field: fn(&SideRun) -> Option<f64>| -> Option<f64> {
            runs.iter().map(|r| field(r)).sum()
        };
        let stream = |field: fn(&SideRun) -> &StreamInfo| StreamInfo {
            bytes: runs.iter().map(|r| field(r).bytes).sum(),
            truncated: runs.iter().any(|r| field(r).truncated),
        };
        SideRun {
            argv: last.map(|r| r.argv.clone()).unwrap_or_default(),
            env: last.map(|r| r.env.clone()).unwrap_or_default(),
            cwd: last.map(|r| r.cwd.clone()).unwrap_or_default(),
            status: telling.map_or(RunStatus::Interrupted, |r| r.status.clone()),
            wall_ms: runs.iter().map(|r| r.wall_ms).sum(),
            user_ms: sum(|r| r.user_ms),
            sys_ms: sum(|r| r.sys_ms),
            peak_rss_kib: runs.iter().map(|r| r.peak_rss_kib).max().flatten(),
            stdout: stream(|r| &r.stdout),
            stderr: stream(|r| &r.stderr),
            stderr_tail: telling.map(|r| r.stderr_tail.clone()).unwrap_or_default(),
            notes: runs.iter().flat_map(|r| r.notes.iter().cloned()).collect(),
        }
    }
}

/// Where a run's outputs are on disk.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// The run's `{out}` directory.
    pub out_dir: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    /// The outputs a `[[compare]]` block converts, converted: `FILE` or `FILE#TABLE` here is
    /// the converter's stdout for `FILE` under `{out}`.
    pub converted: PathBuf,
}

impl Artifacts {
    /// The layout of a run directory: `out/`, `stdout`, `stderr` and `converted/` in `dir`.
    pub fn in_dir(dir: &std::path::Path) -> Self {
        Artifacts {
            out_dir: dir.join("out"),
            stdout: dir.join("stdout"),
            stderr: dir.join("stderr"),
            converted: dir.join(CONVERTED_DIR),
        }
    }

    /// Where the compared output `name` is: a stream, a converted output (`FILE#TABLE`), or a
    /// file under `{out}`.
    pub fn output(&self, config: &crate::config::Config, name: &str) -> PathBuf {
        match name {
            "stdout" => self.stdout.clone(),
            "stderr" => self.stderr.clone(),
            converted if config.block_of_converted(converted).is_some() => {
                self.converted.join(converted)
            }
            relative => self.out_dir.join(relative),
        }
    }
}

/// A finished run and its artifacts.
#[derive(Debug, Clone)]
pub struct SideResult {
    /// Whose outputs these are: the program that wrote them lays out its `{out}` (where its
    /// stage files are, for one).
    pub side: Side,
    pub run: SideRun,
    pub artifacts: Artifacts,
    /// The conversions of its outputs that failed (the others are in `artifacts.converted`).
    pub conversions: Vec<Conversion>,
}

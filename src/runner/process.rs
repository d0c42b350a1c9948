//! Running one side once: a fresh run directory, its stdout and stderr pipes handed with the
//! command to a measuring helper (which starts it as the leader of a new process group), both
//! pipes drained concurrently, a timeout or cancellation that stops the whole tree, and the
//! helper's usage report turned into a [`SideRun`].

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::capture::{self, Captured};
use super::helpers::{Helper, Reports};
use super::measure::{self, Usage};
use super::rundir;
use super::wire::Request;
use super::{
    Artifacts, CAPTURE_LIMIT, Cancel, Launch, RunStatus, STDERR_TAIL_LINES, Side, SideResult,
    SideRun,
};
use crate::config::{Config, RunVars, SideSpec};
use crate::fixture::{Case, Step};

/// How long to wait for pipes to close after a side and its descendants ended.
const PIPE_GRACE: Duration = Duration::from_secs(5);
/// How long the measuring helper has to stop a side before its process group is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A fully rendered command for one side of one case (or one step of it).
#[derive(Debug, Clone)]
pub struct SideRequest {
    pub side: Side,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Duration,
    /// Directory for this run: `out/`, `stdout`, `stderr` go inside it.
    pub dir: PathBuf,
    /// The side's `{state}` directory: created when missing, never cleared by a run (a
    /// scenario's steps share it).
    pub state: PathBuf,
    /// The most of stdout and of stderr stored; past it, the stream is counted, not kept.
    pub capture_limit: u64,
    /// Whether the outputs a `[[compare]]` block converts are converted after the run (not
    /// when only timing it).
    pub convert: bool,
    /// The suite's `teardown`, rendered for this run: run after it and its conversions.
    pub teardown: Option<Vec<String>>,
    /// The values its templates were rendered with, for its converters.
    pub vars: RunVars,
}

/// Where one run of a side happens.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The scenario step it runs, if any.
    pub step: Option<&'a Step>,
    /// The run's directory.
    pub dir: &'a Path,
    /// The side's state directory.
    pub state: &'a Path,
}

impl SideRequest {
    /// Renders `spec` (plus the case's variant) for `case`, to run at `place`.
    pub fn render(
        side: Side,
        spec: &SideSpec,
        config: &Config,
        case: &Case,
        place: Place<'_>,
    ) -> Self {
        let out_dir = place.dir.join("out");
        let input = place.step.map_or(&case.fixture.path, |s| &s.path);
        let run_vars = RunVars {
            fixture: input.to_string_lossy().into_owned(),
            fixture_id: case.fixture.id.clone(),
            out: out_dir.to_string_lossy().into_owned(),
            suite: case.fixture.suite.clone(),
            variant: case.variant_name().unwrap_or("").to_owned(),
            state: place.state.to_string_lossy().into_owned(),
            step: place.step.map_or("", |s| s.name.as_str()).to_owned(),
            side: side.as_str().to_owned(),
            run_id: super::next_run_id(),
        };
        let vars = run_vars.with("", "");
        let mut argv: Vec<String> = spec.cmd.iter().map(|t| t.render(&vars)).collect();
        let mut env: Vec<(String, String)> = spec
            .env
            .iter()
            .map(|(k, t)| (k.clone(), t.render(&vars)))
            .collect();
        if let Some(variant) = &case.variant {
            argv.extend(variant.args.iter().map(|t| t.render(&vars)));
            env.extend(
                variant
                    .env
                    .iter()
                    .map(|(k, t)| (k.clone(), t.render(&vars))),
            );
        }
        let cwd = spec.cwd.as_ref().map_or_else(
            || config.base_dir.clone(),
            |t| config.base_dir.join(t.render(&vars)),
        );
        let teardown = config
            .suite(&case.fixture.suite)
            .and_then(|s| s.teardown.as_ref())
            .map(|t| t.iter().map(|a| a.render(&vars)).collect());
        SideRequest {
            side,
            argv,
            env,
            cwd,
            timeout: spec.timeout,
            dir: place.dir.to_owned(),
            state: place.state.to_owned(),
            capture_limit: CAPTURE_LIMIT,
            convert: true,
            teardown,
            vars: run_vars,
        }
    }

    pub fn artifacts(&self) -> Artifacts {
        Artifacts::in_dir(&self.dir)
    }

    /// Whether the command can know its `{state}` directory: its path appears in the command,
    /// its variables or its working directory. Only then is the directory created (a
    /// directory per case and side that nothing can reach costs a `mkdir` and an `rmdir`).
    fn uses_state(&self) -> bool {
        let state = self.state.to_string_lossy();
        self.argv.iter().any(|a| a.contains(&*state))
            || self.env.iter().any(|(_, v)| v.contains(&*state))
            || self.cwd.to_string_lossy().contains(&*state)
    }
}

/// How the wait for the helper ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Exited,
    TimedOut,
    Cancelled,
}

/// Runs one side once, through a measuring helper of `launch`'s binary. Never fails: trouble
/// starting or running is a [`RunStatus`].
pub async fn run_side(launch: &Launch, request: &SideRequest, cancel: &Cancel) -> SideResult {
    let artifacts = request.artifacts();
    let mut run = SideRun::pending(request);
    let outcome = match prepare(&launch.work_dir, request) {
        Err(message) => Err(RunStatus::SpawnFailed { message }),
        Ok(()) => run_prepared(launch, request, cancel, &artifacts, &mut run).await,
    };
    if let Err(status) = outcome {
        run.status = status;
    }
    SideResult {
        side: request.side,
        run,
        artifacts,
        conversions: Vec::new(),
    }
}

/// The run once its directory is ready: its pipes and capture files, a helper to run it, the
/// wait, the clean-up; fills in `run`. `Err` when it could not start.
async fn run_prepared(
    launch: &Launch,
    request: &SideRequest,
    cancel: &Cancel,
    artifacts: &Artifacts,
    run: &mut SideRun,
) -> Result<(), RunStatus> {
    let cannot_start = |message: String| RunStatus::SpawnFailed { message };
    let (stdout_read, stdout_write) = std::io::pipe()
        .map_err(|e| cannot_start(format!("cannot create a pipe for its stdout: {e}")))?;
    let (stderr_read, stderr_write) = std::io::pipe()
        .map_err(|e| cannot_start(format!("cannot create a pipe for its stderr: {e}")))?;
    let (stdout_write, stderr_write) = (OwnedFd::from(stdout_write), OwnedFd::from(stderr_write));
    let mut helper = hand_over(launch, request, &stdout_write, &stderr_write).map_err(|e| {
        cannot_start(format!(
            "cannot start parity's measuring helper {}: {e}",
            launch.exe.display()
        ))
    })?;
    // The helper and the side hold the write ends now: the pipes end when they do.
    drop((stdout_write, stderr_write));
    let started = Instant::now();
    let (stop_reading, stop) = watch::channel(false);
    let limit = request.capture_limit;
    let stdout = spawn_capture(stdout_read, &artifacts.stdout, limit, stop.clone());
    let stderr = spawn_capture(stderr_read, &artifacts.stderr, limit, stop);
    let side = AtomicI32::new(0);
    let (end, usage, stuck) = match helper.reports() {
        Ok(mut reports) => {
            let waited = wait(&mut reports, &helper, &side, request.timeout, cancel).await;
            helper.give_back(reports);
            waited
        }
        Err(_) => (End::Exited, None, false),
    };
    let elapsed = started.elapsed();
    clean_up(usage.is_some(), stuck, helper, &side, &mut run.notes);
    let mut lost = Vec::new();
    let captured_out = finish_capture(stdout, &stop_reading, "stdout", &mut run.notes).await;
    let captured_err = finish_capture(stderr, &stop_reading, "stderr", &mut run.notes).await;
    match captured_out {
        Ok(captured) => {
            run.stdout.bytes = captured.bytes;
            run.stdout.truncated = captured.truncated;
        }
        Err(e) => lost.push(e),
    }
    match captured_err {
        Ok(captured) => {
            run.stderr.bytes = captured.bytes;
            run.stderr.truncated = captured.truncated;
            run.stderr_tail = capture::last_lines(&captured.tail, STDERR_TAIL_LINES);
        }
        Err(e) => lost.push(e),
    }
    record_end(run, end, elapsed, usage, request);
    if !lost.is_empty() {
        run.status = RunStatus::HarnessFailed {
            message: lost.join("; "),
        };
    }
    Ok(())
}

/// A helper that accepted the run: an idle one, or a new one when there is none or the idle
/// one has ended since.
fn hand_over(
    launch: &Launch,
    request: &SideRequest,
    stdout: &OwnedFd,
    stderr: &OwnedFd,
) -> std::io::Result<Helper> {
    let wire_request = Request::Run {
        argv: request.argv.iter().map(OsString::from).collect(),
        env: request
            .env
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect(),
        cwd: request.cwd.clone(),
    };
    let mut retried = false;
    loop {
        let helper = Helper::checkout(&launch.exe, &launch.work_dir)?;
        match helper.start(&wire_request, stdout, stderr) {
            Ok(()) => return Ok(helper),
            Err(e) => {
                let reused = helper.reused();
                helper.discard();
                if !reused || retried {
                    return Err(e);
                }
                retried = true;
            }
        }
    }
}

/// Waits for the helper's report, the timeout or cancellation; a side cut short is stopped
/// through the helper, which reports then. The usage is `None` for a helper that ended without
/// reporting; the flag is set when it was asked to stop and neither reported nor ended within
/// [`STOP_GRACE`].
async fn wait(
    reports: &mut Reports,
    helper: &Helper,
    side: &AtomicI32,
    timeout: Duration,
    cancel: &Cancel,
) -> (End, Option<Usage>, bool) {
    let finish = reports.finish(side);
    tokio::pin!(finish);
    let end = tokio::select! {
        usage = &mut finish => return (End::Exited, usage, false),
        () = tokio::time::sleep(timeout) => End::TimedOut,
        () = cancel.cancelled() => End::Cancelled,
    };
    // A helper that cannot take the request has ended: its report (or none) is what is left.
    let _ = helper.stop();
    match tokio::time::timeout(STOP_GRACE, &mut finish).await {
        Ok(usage) => (end, usage, false),
        Err(_) => (end, None, true),
    }
}

fn spawn_capture(
    read: std::io::PipeReader,
    path: &Path,
    limit: u64,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<std::io::Result<Captured>>> {
    let file = std::fs::File::create(path);
    let stream = std::process::ChildStdout::from(OwnedFd::from(read));
    let stream = tokio::process::ChildStdout::from_std(stream).ok()?;
    Some(tokio::spawn(async move {
        capture::capture(stream, file, limit, stop).await
    }))
}

/// Puts the helper back for the next run when it reported, and makes sure nothing of the side
/// is left: a helper that did not report is killed (its side gets its death signal), and so is
/// the side's process group when the helper did not stop in time. Otherwise the helper has
/// already killed every descendant; a group still alive then is killed and noted.
fn clean_up(
    reported: bool,
    stuck: bool,
    helper: Helper,
    side: &AtomicI32,
    notes: &mut Vec<String>,
) {
    let group = Some(side.load(Ordering::Relaxed)).filter(|pid| *pid > 0);
    if reported {
        helper.checkin();
    } else {
        helper.discard();
    }
    if stuck {
        kill_group(group);
        notes.push(format!(
            "parity's measuring helper did not stop within {} s; it and the side's process \
             group were killed",
            STOP_GRACE.as_secs()
        ));
    } else if group_alive(group) {
        kill_group(group);
        notes.push(
            "processes it started were still running after it exited; parity killed them"
                .to_owned(),
        );
    }
}

/// Waits for a capture task. A pipe still open after the side and its descendants are gone is
/// held by a process outside its reach: reading stops there, keeping what was read, and it is
/// noted. `Err` is parity failing to capture (no file descriptor, no disk).
async fn finish_capture(
    task: Option<JoinHandle<std::io::Result<Captured>>>,
    stop: &watch::Sender<bool>,
    stream: &str,
    notes: &mut Vec<String>,
) -> Result<Captured, String> {
    let Some(mut task) = task else {
        return Err(format!("{stream} was not captured"));
    };
    let joined = match tokio::time::timeout(PIPE_GRACE, &mut task).await {
        Ok(joined) => joined,
        Err(_) => {
            stop.send_replace(true);
            task.await
        }
    };
    match joined {
        Ok(Ok(captured)) => {
            if captured.held_open {
                notes.push(format!(
                    "{stream} stayed open after the side ended (a process parity could not reach \
                     holds it); what it held then was kept"
                ));
            }
            Ok(captured)
        }
        Ok(Err(e)) => Err(format!("capturing {stream} failed: {e}")),
        Err(e) => Err(format!("capturing {stream} failed: {e}")),
    }
}

/// Fills in how the run ended and, when the helper reported, its measurements and what it
/// killed.
fn record_end(
    run: &mut SideRun,
    end: End,
    elapsed: Duration,
    usage: Option<Usage>,
    request: &SideRequest,
) {
    run.wall_ms = elapsed.as_secs_f64() * 1000.0;
    run.status = match end {
        End::TimedOut => RunStatus::TimedOut {
            after_ms: u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX),
        },
        End::Cancelled => RunStatus::Interrupted,
        End::Exited => status_from_usage(usage.as_ref(), request),
    };
    if let Some(usage) = &usage {
        run.notes.extend(killed_notes(end, usage));
    }
    if let (End::Exited, Some(usage)) = (end, usage.filter(|u| u.spawn_error.is_none())) {
        run.wall_ms = usage.wall_us as f64 / 1000.0;
        run.user_ms = Some(usage.user_us as f64 / 1000.0);
        run.sys_ms = Some(usage.sys_us as f64 / 1000.0);
        run.peak_rss_kib = Some(usage.max_rss_kib);
    }
}

/// What the helper killed, and what it could not, for the run's notes.
fn killed_notes(end: End, usage: &Usage) -> Vec<String> {
    let list = |processes: &[measure::Killed]| {
        let names: Vec<String> = processes.iter().take(10).map(|k| k.describe()).collect();
        let more = processes.len().saturating_sub(10);
        if more > 0 {
            format!("{} and {more} more", names.join(", "))
        } else {
            names.join(", ")
        }
    };
    let mut notes = Vec::new();
    let killed: Vec<measure::Killed> = usage
        .killed
        .iter()
        .filter(|k| end == End::Exited || k.left_group)
        .cloned()
        .collect();
    if !killed.is_empty() {
        let when = match end {
            End::Exited => "still running after it exited",
            End::TimedOut | End::Cancelled => "left outside its process group when it was stopped",
        };
        notes.push(format!(
            "parity killed {} {when}: {}",
            crate::units::plural(killed.len(), "process"),
            list(&killed)
        ));
    }
    if !usage.survivors.is_empty() {
        notes.push(format!(
            "{} could not be killed: {}",
            crate::units::plural(usage.survivors.len(), "process"),
            list(&usage.survivors)
        ));
    }
    notes
}

fn status_from_usage(usage: Option<&Usage>, request: &SideRequest) -> RunStatus {
    match usage {
        Some(Usage {
            spawn_error: Some(error),
            ..
        }) => RunStatus::SpawnFailed {
            message: format!(
                "cannot start `{}` (cwd {}): {error}",
                request.argv.first().map_or("", String::as_str),
                request.cwd.display()
            ),
        },
        Some(Usage {
            exit_code: Some(code),
            ..
        }) => RunStatus::Exited { code: *code },
        Some(Usage {
            signal: Some(signal),
            ..
        }) => RunStatus::Signaled {
            signal: *signal,
            name: signal_name(*signal),
        },
        _ => RunStatus::HarnessFailed {
            message: "parity's measuring helper ended without reporting (was it killed?)"
                .to_owned(),
        },
    }
}

/// Makes a fresh run directory with an empty `out/` (see [`rundir`]).
fn prepare(work_dir: &Path, request: &SideRequest) -> Result<(), String> {
    rundir::prepare(work_dir, &request.dir)
        .map_err(|e| format!("cannot create {}: {e}", request.dir.display()))?;
    if request.uses_state() {
        std::fs::create_dir_all(&request.state)
            .map_err(|e| format!("cannot create {}: {e}", request.state.display()))?;
    }
    if request.argv.first().is_none_or(String::is_empty) {
        return Err("the command is empty".to_owned());
    }
    if !request.cwd.is_dir() {
        return Err(format!(
            "working directory {} does not exist",
            request.cwd.display()
        ));
    }
    Ok(())
}

fn kill_group(pgid: Option<libc::pid_t>) {
    if let Some(pgid) = pgid {
        // SAFETY: killpg has no memory-safety preconditions. The group is the side's own: its
        // command was started as its leader, and the id cannot be reused while any member is
        // alive.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

fn group_alive(pgid: Option<libc::pid_t>) -> bool {
    // SAFETY: signal 0 only checks for existence.
    pgid.is_some_and(|pgid| unsafe { libc::killpg(pgid, 0) } == 0)
}

/// `SIGSEGV` for 11, etc.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// Peak RSS the helper itself contributes: `true` measured through it (a helper then kept for
/// the runs). `scratch` is the run's outputs directory.
pub fn measure_floor(exe: &Path, scratch: &Path) -> Option<u64> {
    let mut helper = Helper::checkout(exe, scratch).ok()?;
    let null = OwnedFd::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .ok()?,
    );
    let request = Request::Run {
        argv: vec![OsString::from("true")],
        env: Vec::new(),
        cwd: scratch.to_owned(),
    };
    if helper.start(&request, &null, &null).is_err() {
        helper.discard();
        return None;
    }
    drop(null);
    let Some(usage) = helper.wait_blocking() else {
        helper.discard();
        return None;
    };
    helper.checkin();
    (usage.exit_code == Some(0)).then_some(usage.max_rss_kib)
}

/// What `cmd` prints (trimmed), run in `dir`: a side's `version_cmd`, for provenance.
pub fn version_of(cmd: &[String], dir: &Path) -> Result<String, String> {
    super::quick::run_quick(cmd, dir, "`version_cmd`", super::quick::QUICK_TIMEOUT)
}

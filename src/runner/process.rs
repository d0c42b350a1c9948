//! Running one side once: a fresh run directory, the measuring helper started as the leader of
//! a new process group, both pipes drained concurrently, a timeout or cancellation that kills the
//! whole group, and the helper's usage report turned into a [`SideRun`].

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::capture::{self, Captured};
use super::measure::{self, MEASURE_ARG, Usage};
use super::{
    Artifacts, CAPTURE_LIMIT, Cancel, RunStatus, STDERR_TAIL_LINES, Side, SideResult, SideRun,
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
}

/// How the wait for the helper ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Exited,
    TimedOut,
    Cancelled,
}

/// Runs one side once. Never fails: trouble starting or running is a [`RunStatus`].
pub async fn run_side(exe: &Path, request: &SideRequest, cancel: &Cancel) -> SideResult {
    let artifacts = request.artifacts();
    let mut run = SideRun::pending(request);
    if let Err(message) = prepare(request, &artifacts) {
        run.status = RunStatus::SpawnFailed { message };
        return SideResult {
            side: request.side,
            run,
            artifacts,
            conversions: Vec::new(),
        };
    }
    let usage_path = request.dir.join("usage.json");
    let mut child = match helper_command(exe, request, &usage_path).spawn() {
        Ok(child) => child,
        Err(e) => {
            run.status = RunStatus::SpawnFailed {
                message: format!(
                    "cannot start parity's measuring helper {}: {e}",
                    exe.display()
                ),
            };
            return SideResult {
                side: request.side,
                run,
                artifacts,
                conversions: Vec::new(),
            };
        }
    };
    let started = Instant::now();
    let helper = child.id().map(|id| id as libc::pid_t);
    let (stop_reading, stop) = watch::channel(false);
    let stdout = child.stdout.take().map(|s| {
        spawn_capture(
            s,
            artifacts.stdout.clone(),
            request.capture_limit,
            stop.clone(),
        )
    });
    let stderr = child
        .stderr
        .take()
        .map(|s| spawn_capture(s, artifacts.stderr.clone(), request.capture_limit, stop));
    let end = tokio::select! {
        _ = child.wait() => End::Exited,
        () = tokio::time::sleep(request.timeout) => End::TimedOut,
        () = cancel.cancelled() => End::Cancelled,
    };
    let elapsed = started.elapsed();
    clean_up(end, helper, &mut child, &mut run.notes).await;
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
    let usage = measure::read_usage(&usage_path);
    let _ = std::fs::remove_file(&usage_path);
    record_end(&mut run, end, elapsed, usage, request);
    if !lost.is_empty() {
        run.status = RunStatus::HarnessFailed {
            message: lost.join("; "),
        };
    }
    SideResult {
        side: request.side,
        run,
        artifacts,
        conversions: Vec::new(),
    }
}

/// `parity __measure USAGE_FILE -- argv...`, in its own process group, with piped output.
fn helper_command(exe: &Path, request: &SideRequest, usage_path: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(exe);
    command
        .arg(MEASURE_ARG)
        .arg(usage_path)
        .arg("--")
        .args(&request.argv)
        .envs(request.env.iter().map(|(k, v)| (k, v)))
        .env(measure::PARENT_ENV, std::process::id().to_string())
        .current_dir(&request.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    command
}

fn spawn_capture(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    path: PathBuf,
    limit: u64,
    stop: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<Captured>> {
    tokio::spawn(async move { capture::capture(stream, &path, limit, stop).await })
}

/// Stops the side when it ran out of time or was cancelled: the helper is asked to kill every
/// descendant (it sees those outside the process group too), and the group is killed if the
/// helper does not end in time. After a normal exit the helper has already done that; a group
/// still alive then is killed and noted.
async fn clean_up(
    end: End,
    helper: Option<libc::pid_t>,
    child: &mut Child,
    notes: &mut Vec<String>,
) {
    if end != End::Exited {
        if let Some(pid) = helper {
            // SAFETY: kill has no memory-safety preconditions; the helper is our unreaped child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        if tokio::time::timeout(STOP_GRACE, child.wait())
            .await
            .is_err()
        {
            kill_group(helper);
            notes.push(format!(
                "parity's measuring helper did not stop within {} s; its process group was killed",
                STOP_GRACE.as_secs()
            ));
            let _ = child.wait().await;
        }
    } else if group_alive(helper) {
        kill_group(helper);
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

/// Creates a fresh, empty run directory with its `out/`.
fn prepare(request: &SideRequest, artifacts: &Artifacts) -> Result<(), String> {
    if request.dir.exists() {
        std::fs::remove_dir_all(&request.dir)
            .map_err(|e| format!("cannot clear {}: {e}", request.dir.display()))?;
    }
    std::fs::create_dir_all(&artifacts.out_dir)
        .map_err(|e| format!("cannot create {}: {e}", artifacts.out_dir.display()))?;
    std::fs::create_dir_all(&request.state)
        .map_err(|e| format!("cannot create {}: {e}", request.state.display()))?;
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
        // SAFETY: killpg has no memory-safety preconditions. The group is parity's own: the helper
        // was started as its leader, and the id cannot be reused while any member is alive.
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

/// Peak RSS the helper itself contributes: `true` measured through it.
pub fn measure_floor(exe: &Path, scratch: &Path) -> Option<u64> {
    let usage_path = scratch.join("floor-usage.json");
    let status = std::process::Command::new(exe)
        .arg(MEASURE_ARG)
        .arg(&usage_path)
        .arg("--")
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let usage = measure::read_usage(&usage_path);
    let _ = std::fs::remove_file(&usage_path);
    status.success().then_some(())?;
    usage.map(|u| u.max_rss_kib)
}

/// What `cmd` prints (trimmed), run in `dir`: a side's `version_cmd`, for provenance.
pub fn version_of(cmd: &[String], dir: &Path) -> Result<String, String> {
    super::quick::run_quick(cmd, dir, "`version_cmd`", super::quick::QUICK_TIMEOUT)
}

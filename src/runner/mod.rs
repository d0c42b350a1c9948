//! Running both sides of every case: spawning through the measuring helper, each run in its own
//! process group and fresh `{out}` directory, with both pipes drained, a timeout that kills the
//! whole group, and cancellation (Ctrl-C) that kills every child and keeps finished cases.
//!
//! The main types are [`SideRequest`] (what to run), [`SideResult`] (what happened, plus where its
//! outputs are on disk) and [`run_cases`], the scheduler.

pub mod capture;
pub mod measure;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, watch};

use crate::config::{Config, SideSpec, Vars};
use crate::fixture::Case;
use measure::{MEASURE_ARG, Usage};

/// Bytes of stdout or stderr stored per run; beyond it the capture is marked truncated.
pub const CAPTURE_LIMIT: u64 = 64 * 1024 * 1024;
/// Lines of stderr kept in results for each run.
pub const STDERR_TAIL_LINES: usize = 20;
/// How long to wait for pipes to close after a side's process group was killed.
const PIPE_GRACE: Duration = Duration::from_secs(5);

/// Which side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Legacy,
    Candidate,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Legacy => "legacy",
            Side::Candidate => "candidate",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// Stopped by Ctrl-C before it finished.
    Interrupted,
}

impl RunStatus {
    pub fn is_success(&self) -> bool {
        matches!(self, RunStatus::Exited { code: 0 })
    }

    pub fn describe(&self) -> String {
        match self {
            RunStatus::Exited { code } => format!("exit {code}"),
            RunStatus::Signaled { name, .. } => format!("killed by {name}"),
            RunStatus::TimedOut { after_ms } => {
                format!("timed out after {}", format_ms(*after_ms as f64))
            }
            RunStatus::SpawnFailed { message } => format!("could not start: {message}"),
            RunStatus::Interrupted => "interrupted".to_owned(),
        }
    }
}

/// Formats milliseconds for people: `850 ms`, `1.25 s`.
pub fn format_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
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
    pub fn cpu_ms(&self) -> Option<f64> {
        Some(self.user_ms? + self.sys_ms?)
    }
}

/// Where a run's outputs are on disk.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// The run's `{out}` directory.
    pub out_dir: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// A finished run and its artifacts.
#[derive(Debug, Clone)]
pub struct SideResult {
    pub run: SideRun,
    pub artifacts: Artifacts,
}

/// A fully rendered command for one side of one case.
#[derive(Debug, Clone)]
pub struct SideRequest {
    pub side: Side,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Duration,
    /// Directory for this run: `out/`, `stdout`, `stderr` go inside it.
    pub dir: PathBuf,
}

impl SideRequest {
    /// Renders `spec` (plus the case's variant) for `case`, running in `dir`.
    pub fn render(side: Side, spec: &SideSpec, config: &Config, case: &Case, dir: &Path) -> Self {
        let out_dir = dir.join("out");
        let fixture = case.fixture.path.to_string_lossy();
        let out = out_dir.to_string_lossy();
        let vars = Vars {
            fixture: &fixture,
            fixture_id: &case.fixture.id,
            out: &out,
            suite: &case.fixture.suite,
            variant: case.variant_name().unwrap_or(""),
        };
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
        SideRequest {
            side,
            argv,
            env,
            cwd,
            timeout: spec.timeout,
            dir: dir.to_owned(),
        }
    }

    pub fn artifacts(&self) -> Artifacts {
        Artifacts {
            out_dir: self.dir.join("out"),
            stdout: self.dir.join("stdout"),
            stderr: self.dir.join("stderr"),
        }
    }
}

/// A cancellation flag every run watches; set once by Ctrl-C.
#[derive(Debug, Clone)]
pub struct Cancel {
    sender: Arc<watch::Sender<bool>>,
    receiver: watch::Receiver<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        let (sender, receiver) = watch::channel(false);
        Cancel {
            sender: Arc::new(sender),
            receiver,
        }
    }
}

impl Cancel {
    pub fn cancel(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Completes once cancelled.
    pub async fn cancelled(&self) {
        let mut receiver = self.receiver.clone();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }
}

/// Runs one side once. Never fails: trouble starting or running is a [`RunStatus`].
pub async fn run_side(exe: &Path, request: &SideRequest, cancel: &Cancel) -> SideResult {
    let artifacts = request.artifacts();
    let mut run = SideRun {
        argv: request.argv.clone(),
        cwd: request.cwd.to_string_lossy().into_owned(),
        status: RunStatus::Interrupted,
        wall_ms: 0.0,
        user_ms: None,
        sys_ms: None,
        peak_rss_kib: None,
        stdout: StreamInfo::default(),
        stderr: StreamInfo::default(),
        stderr_tail: String::new(),
        notes: Vec::new(),
    };
    if let Err(message) = prepare(request, &artifacts) {
        run.status = RunStatus::SpawnFailed { message };
        return SideResult { run, artifacts };
    }
    let usage_path = request.dir.join("usage.json");
    let mut command = tokio::process::Command::new(exe);
    command
        .arg(MEASURE_ARG)
        .arg(&usage_path)
        .arg("--")
        .args(&request.argv)
        .envs(request.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&request.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            run.status = RunStatus::SpawnFailed {
                message: format!(
                    "cannot start parity's measuring helper {}: {e}",
                    exe.display()
                ),
            };
            return SideResult { run, artifacts };
        }
    };
    let pgid = child.id().map(|id| id as libc::pid_t);
    let stdout = child.stdout.take().map(|s| {
        let path = artifacts.stdout.clone();
        tokio::spawn(async move { capture::capture(s, &path, CAPTURE_LIMIT).await })
    });
    let stderr = child.stderr.take().map(|s| {
        let path = artifacts.stderr.clone();
        tokio::spawn(async move { capture::capture(s, &path, CAPTURE_LIMIT).await })
    });

    enum End {
        Exited,
        TimedOut,
        Cancelled,
    }
    let end = tokio::select! {
        _ = child.wait() => End::Exited,
        () = tokio::time::sleep(request.timeout) => End::TimedOut,
        () = cancel.cancelled() => End::Cancelled,
    };
    let elapsed = started.elapsed();
    if !matches!(end, End::Exited) {
        kill_group(pgid);
        // The helper is dead or dying; reap it so no zombie remains.
        let _ = child.wait().await;
    } else if group_alive(pgid) {
        kill_group(pgid);
        run.notes.push(
            "processes it started were still running after it exited; parity killed them"
                .to_owned(),
        );
    }

    for (task, info, is_stderr) in [
        (stdout, &mut run.stdout, false),
        (stderr, &mut run.stderr, true),
    ] {
        let Some(task) = task else { continue };
        let abort = task.abort_handle();
        match tokio::time::timeout(PIPE_GRACE, task).await {
            Ok(Ok(Ok(captured))) => {
                info.bytes = captured.bytes;
                info.truncated = captured.truncated;
                if is_stderr {
                    run.stderr_tail = capture::last_lines(&captured.tail, STDERR_TAIL_LINES);
                }
            }
            Ok(Ok(Err(e))) => run.notes.push(format!(
                "capturing {} failed: {e}",
                if is_stderr { "stderr" } else { "stdout" }
            )),
            Ok(Err(e)) => run.notes.push(format!("capture task failed: {e}")),
            Err(_) => {
                abort.abort();
                run.notes.push(format!(
                    "{} stayed open after the process group was killed (a process outside the group holds it)",
                    if is_stderr { "stderr" } else { "stdout" }
                ));
            }
        }
    }

    let usage = measure::read_usage(&usage_path);
    let _ = std::fs::remove_file(&usage_path);
    run.wall_ms = elapsed.as_secs_f64() * 1000.0;
    run.status = match end {
        End::TimedOut => RunStatus::TimedOut {
            after_ms: u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX),
        },
        End::Cancelled => RunStatus::Interrupted,
        End::Exited => status_from_usage(usage.as_ref(), request),
    };
    if let (End::Exited, Some(usage)) = (end, usage.filter(|u| u.spawn_error.is_none())) {
        run.wall_ms = usage.wall_us as f64 / 1000.0;
        run.user_ms = Some(usage.user_us as f64 / 1000.0);
        run.sys_ms = Some(usage.sys_us as f64 / 1000.0);
        run.peak_rss_kib = Some(usage.max_rss_kib);
    }
    SideResult { run, artifacts }
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
        _ => RunStatus::SpawnFailed {
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

/// Everything the scheduler needs besides the cases.
#[derive(Debug, Clone)]
pub struct Plan {
    pub config: Arc<Config>,
    /// The parity binary, started in helper mode for every run.
    pub exe: PathBuf,
    /// Where run directories are created.
    pub work_dir: PathBuf,
    pub jobs: usize,
}

impl Plan {
    /// The directory of one case: `<work>/<suite>/<fixture id>[@variant]`.
    pub fn case_dir(&self, case: &Case) -> PathBuf {
        let mut dir = self
            .work_dir
            .join(&case.fixture.suite)
            .join(&case.fixture.id);
        if let Some(variant) = case.variant_name() {
            let mut name = dir.file_name().unwrap_or_default().to_os_string();
            name.push(format!("@{variant}"));
            dir.set_file_name(name);
        }
        dir
    }
}

/// Runs both sides of every case with at most `plan.jobs` processes at once, and hands each
/// finished pair to `finish` on a blocking thread (comparison is CPU work). `on_done` sees each
/// result as it arrives. Returns the results in case order; cases cut short by cancellation are
/// left out.
pub async fn run_cases<T, F, D>(
    plan: Arc<Plan>,
    cases: Vec<Case>,
    cancel: Cancel,
    finish: F,
    mut on_done: D,
) -> Vec<Option<T>>
where
    T: Send + 'static,
    F: Fn(&Case, &Path, SideResult, SideResult) -> T + Send + Sync + 'static,
    D: FnMut(&Case, &T),
{
    let permits = Arc::new(Semaphore::new(plan.jobs.max(1)));
    let finish = Arc::new(finish);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, case) in cases.iter().cloned().enumerate() {
        let plan = Arc::clone(&plan);
        let permits = Arc::clone(&permits);
        let cancel = cancel.clone();
        let finish = Arc::clone(&finish);
        tasks.spawn(async move {
            let dir = plan.case_dir(&case);
            let config = &plan.config;
            let legacy = SideRequest::render(
                Side::Legacy,
                &config.legacy,
                config,
                &case,
                &dir.join("legacy"),
            );
            let candidate = SideRequest::render(
                Side::Candidate,
                &config.candidate,
                config,
                &case,
                &dir.join("candidate"),
            );
            let run = |request: SideRequest| {
                let permits = Arc::clone(&permits);
                let cancel = cancel.clone();
                let exe = plan.exe.clone();
                async move {
                    let _permit = tokio::select! {
                        permit = permits.acquire_owned() => permit.ok()?,
                        () = cancel.cancelled() => return None,
                    };
                    Some(run_side(&exe, &request, &cancel).await)
                }
            };
            let (legacy, candidate) = tokio::join!(run(legacy), run(candidate));
            let (Some(legacy), Some(candidate)) = (legacy, candidate) else {
                return (index, None);
            };
            if cancel.is_cancelled()
                && [&legacy.run.status, &candidate.run.status].contains(&&RunStatus::Interrupted)
            {
                return (index, None);
            }
            let result =
                tokio::task::spawn_blocking(move || finish(&case, &dir, legacy, candidate)).await;
            (index, result.ok())
        });
    }
    let mut results: Vec<Option<T>> = (0..cases.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, Some(result))) = joined {
            on_done(&cases[index], &result);
            results[index] = Some(result);
        }
    }
    results
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

//! The measuring helper: `parity __measure USAGE_FILE -- CMD ARGS...`.
//!
//! On Linux a child's `ru_maxrss` is at least its parent's RSS at the moment of `exec` (the
//! child starts in a copy of the parent's address space and the high-water mark survives the
//! exec). If parity spawned sides directly, a parity holding 600 MiB would make `true` report
//! ~600 MB. So each side is started by this tiny mode of the parity binary, dispatched first thing
//! in `main` before the async runtime or any sizeable allocation exists: it spawns the command,
//! waits for it with `wait4` (the only per-child source of user/system CPU and peak RSS,
//! descendants it waited for included), times it, and writes one JSON [`Usage`] to `USAGE_FILE`.
//! Its own floor (the RSS of the helper at exec, a few MiB) is measured once per run with `true`
//! and recorded in results.json.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The argument that selects the helper mode.
pub const MEASURE_ARG: &str = "__measure";

/// What the helper reports about one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Wall time from spawn to reap, in microseconds.
    pub wall_us: u64,
    pub user_us: u64,
    pub sys_us: u64,
    /// Peak resident set size of the command (and the descendants it waited for), in KiB.
    pub max_rss_kib: u64,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Set when the command could not be started; nothing else is meaningful then.
    pub spawn_error: Option<String>,
}

/// Entry point of the helper mode; `args` are the arguments after `__measure`. Returns the
/// process exit code: the command's, 128 + signal when it was killed, 127 when it did not start.
pub fn measure_main(args: &[OsString]) -> i32 {
    let (Some(usage_path), Some(sep), Some(program)) = (args.first(), args.get(1), args.get(2))
    else {
        eprintln!("usage: parity {MEASURE_ARG} USAGE_FILE -- CMD [ARGS...]");
        return 2;
    };
    if sep != "--" {
        eprintln!("usage: parity {MEASURE_ARG} USAGE_FILE -- CMD [ARGS...]");
        return 2;
    }
    let started = Instant::now();
    let usage = match Command::new(program).args(&args[3..]).spawn() {
        Err(e) => Usage {
            spawn_error: Some(e.to_string()),
            ..Usage::default()
        },
        Ok(child) => wait_with_usage(child.id() as libc::pid_t, started),
    };
    let code = match (&usage.spawn_error, usage.exit_code, usage.signal) {
        (Some(_), _, _) => 127,
        (None, Some(code), _) => code,
        (None, None, Some(signal)) => 128 + signal,
        (None, None, None) => 1,
    };
    if let Err(e) = write_usage(Path::new(usage_path), &usage) {
        eprintln!(
            "parity {MEASURE_ARG}: cannot write {}: {e}",
            Path::new(usage_path).display()
        );
        return 2;
    }
    code
}

fn wait_with_usage(pid: libc::pid_t, started: Instant) -> Usage {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value for wait4 to overwrite.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own unreaped child; status and rusage are valid out-pointers.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Usage {
                wall_us: micros(started.elapsed()),
                spawn_error: Some(format!("wait4 failed: {error}")),
                ..Usage::default()
            };
        }
    }
    let wall = started.elapsed();
    let timeval_us = |tv: libc::timeval| (tv.tv_sec as u64) * 1_000_000 + tv.tv_usec as u64;
    Usage {
        wall_us: micros(wall),
        user_us: timeval_us(rusage.ru_utime),
        sys_us: timeval_us(rusage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_kib: rusage.ru_maxrss.max(0) as u64,
        exit_code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        spawn_error: None,
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn write_usage(path: &Path, usage: &Usage) -> std::io::Result<()> {
    let text = serde_json::to_string(usage).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}

/// Reads what the helper wrote; `None` when it was killed before writing.
pub fn read_usage(path: &Path) -> Option<Usage> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

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
//!
//! The helper is also what guarantees that no process of a side outlives its case:
//!
//! - it is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so every orphaned descendant of the side
//!   is reparented to it, including those that left the process group with `setsid`;
//! - when the side's command exits, every descendant still running is killed (and listed in
//!   [`Usage::killed`]), so nothing keeps the side's pipes open or its work going;
//! - `SIGTERM`, `SIGINT` or `SIGHUP` ask it to stop: parity sends `SIGTERM` on a timeout or an
//!   interruption, and the kernel sends it when parity dies (`PR_SET_PDEATHSIG`), so even a
//!   parity killed with `SIGKILL` leaves nothing running. The side's command itself gets
//!   `SIGKILL` as its own death signal, in case the helper is killed outright.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The argument that selects the helper mode.
pub const MEASURE_ARG: &str = "__measure";

/// The environment variable holding parity's pid, so a helper started just as parity died
/// notices that its parent is gone (the death signal only covers deaths after it is set).
pub const PARENT_ENV: &str = "PARITY_MEASURE_PARENT";

/// Signals that ask the helper to stop the side: parity's timeout or interruption, a closed
/// terminal, and parity's own death.
const STOP_SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// How long the helper keeps killing and reaping descendants before it gives up on them.
const REAP_LIMIT: Duration = Duration::from_secs(5);

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
    /// Descendants still running when the command ended (or when the helper was asked to
    /// stop), which the helper killed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub killed: Vec<Killed>,
    /// Descendants the helper could not kill within its limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub survivors: Vec<Killed>,
}

/// A process the helper found running under the side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Killed {
    pub pid: i32,
    /// The kernel's name for it (`/proc/PID/comm`).
    pub name: String,
    /// It had left the side's process group (`setsid`, `setpgid`), so killing the group would
    /// have missed it.
    pub left_group: bool,
}

impl Killed {
    /// `sleep (pid 42, outside its process group)`.
    pub fn describe(&self) -> String {
        let outside = if self.left_group {
            ", outside its process group"
        } else {
            ""
        };
        format!("{} (pid {}{outside})", self.name, self.pid)
    }
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
    if let Err(e) = become_guardian() {
        eprintln!("parity {MEASURE_ARG}: {e}");
        return 2;
    }
    let killed = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut command = Command::new(program);
    command.args(&args[3..]);
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut usage = match command.spawn() {
        Err(e) => Usage {
            spawn_error: Some(e.to_string()),
            ..Usage::default()
        },
        Ok(child) => {
            watch_for_stop(Arc::clone(&killed));
            wait_with_usage(child.id() as libc::pid_t, started)
        }
    };
    let (mut found, survivors) = kill_descendants(REAP_LIMIT, Reap::Yes);
    let mut all = killed.lock().map(|k| k.clone()).unwrap_or_default();
    all.append(&mut found);
    all.sort_by_key(|k| k.pid);
    all.dedup_by_key(|k| k.pid);
    usage.killed = all;
    usage.survivors = survivors;
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

/// Makes this process the guardian of the side: orphans are reparented to it, it is told when
/// parity dies, and stop signals wait for [`watch_for_stop`] instead of killing it.
fn become_guardian() -> Result<(), String> {
    // SAFETY: plain system calls on this process; the signal set is initialised before use.
    unsafe {
        if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) != 0 {
            return Err(format!(
                "cannot become a child subreaper: {}",
                std::io::Error::last_os_error()
            ));
        }
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
        let set = stop_set();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    // A parent that died before the death signal was armed is noticed here.
    let expected = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<libc::pid_t>().ok());
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    if expected.is_some_and(|p| p != parent) {
        return Err("parity exited before the side could start".to_owned());
    }
    Ok(())
}

fn stop_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset only writes into it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in STOP_SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

/// A thread that waits for a stop signal and then kills every descendant; the main thread's
/// `wait4` then returns and the helper reports as usual.
fn watch_for_stop(killed: Arc<Mutex<Vec<Killed>>>) {
    std::thread::spawn(move || {
        let set = stop_set();
        let mut signal: libc::c_int = 0;
        // SAFETY: the set is initialised and blocked in every thread (the mask is inherited).
        if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
            return;
        }
        // The list is held while killing: the main thread, woken by the kill, reads it only
        // once it is complete. No reaping here: `wait4` must see the command's own status.
        let Ok(mut list) = killed.lock() else {
            return;
        };
        let (found, _) = kill_descendants(REAP_LIMIT, Reap::No);
        list.extend(found);
    });
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
        ..Usage::default()
    }
}

/// Whether [`kill_descendants`] reaps what ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reap {
    Yes,
    No,
}

/// Kills every descendant still running (and, with [`Reap::Yes`], reaps what is reparented to
/// this process) until none is left alive or `limit` has passed. Returns those killed and those
/// that survived.
fn kill_descendants(limit: Duration, reap: Reap) -> (Vec<Killed>, Vec<Killed>) {
    let me = std::process::id() as libc::pid_t;
    let deadline = Instant::now() + limit;
    let mut killed: Vec<Killed> = Vec::new();
    loop {
        // With no child left at all (the usual case: the command ended and started nothing
        // that outlived it), there is no descendant either: an orphan is reparented to this
        // subreaper, so every live descendant has a live ancestor among its children. This
        // spares a walk over every process of the machine in /proc per run.
        if reap == Reap::Yes && reap_children() == Children::None {
            return (killed, Vec::new());
        }
        let found = descendants(me);
        if found.is_empty() {
            return (killed, Vec::new());
        }
        if Instant::now() >= deadline {
            return (killed, found);
        }
        for process in found {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(process.pid, libc::SIGKILL) };
            if !killed.iter().any(|k| k.pid == process.pid) {
                killed.push(process);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether this process still has children after [`reap_children`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Children {
    /// `waitpid` says there are none (`ECHILD`).
    None,
    /// Some are still running (or `waitpid` failed otherwise: assume so).
    Running,
}

/// Reaps every child that has ended, without blocking, and says whether any is left.
fn reap_children() -> Children {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let reaped = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if reaped > 0 {
            continue;
        }
        let none =
            reaped < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD);
        return if none {
            Children::None
        } else {
            Children::Running
        };
    }
}

/// The live (not zombie) descendants of `root`, found through `/proc` by parent pid.
fn descendants(root: libc::pid_t) -> Vec<Killed> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut processes: Vec<(libc::pid_t, Stat)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter_map(|pid| Some((pid, read_stat(pid)?)))
        .collect();
    processes.sort_by_key(|(pid, _)| *pid);
    // SAFETY: getpgrp has no preconditions.
    let group = unsafe { libc::getpgrp() };
    let mut tree = std::collections::BTreeSet::from([root]);
    let mut found = Vec::new();
    let mut grew = true;
    while grew {
        grew = false;
        for (pid, stat) in &processes {
            if tree.contains(&stat.ppid) && tree.insert(*pid) {
                grew = true;
                if !stat.zombie {
                    found.push(Killed {
                        pid: *pid,
                        name: stat.name.clone(),
                        left_group: stat.pgrp != group,
                    });
                }
            }
        }
    }
    found
}

/// The fields of `/proc/PID/stat` the helper needs.
struct Stat {
    name: String,
    ppid: libc::pid_t,
    pgrp: libc::pid_t,
    zombie: bool,
}

fn read_stat(pid: libc::pid_t) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    let mut rest = text.get(close + 1..)?.split_whitespace();
    let state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgrp = rest.next()?.parse().ok()?;
    Some(Stat {
        name,
        ppid,
        pgrp,
        zombie: state == "Z" || state == "X",
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_with_parentheses_and_spaces() {
        let me = std::process::id() as libc::pid_t;
        let stat = read_stat(me).expect("own stat");
        assert!(!stat.name.is_empty());
        assert!(!stat.zombie);
    }
}

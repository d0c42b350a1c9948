//! The measuring helper: `parity __measure WORK_DIR`, a small process that starts every side
//! for parity and measures it. parity keeps one per process slot for the whole run
//! ([`super::helpers`]) and talks to it on its stdin and stdout ([`super::wire`]).
//!
//! On Linux a child's `ru_maxrss` is at least its parent's RSS at the moment of `exec` (the
//! child starts in a copy of the parent's address space and the high-water mark survives the
//! exec). If parity spawned sides directly, a parity holding 600 MiB would make `true` report
//! ~600 MB. So each side is started by this mode of the parity binary, dispatched first thing
//! in `main` before the async runtime or any sizeable allocation exists, and small for its whole
//! life: for each run it spawns the command, waits for it with `wait4` (the only per-child
//! source of user/system CPU and peak RSS, descendants it waited for included), times it, and
//! reports one [`Usage`]. Its own floor (its RSS at the fork, a few MiB) is measured once per
//! run with `true` and recorded in results.json. Serving many runs spares an `exec` of the
//! (large) parity binary per run: the helper costs one `fork` of a small process per run.
//!
//! The helper is also what guarantees that no process of a side outlives its case:
//!
//! - the side's command leads a process group of its own, so a timeout can kill its tree;
//! - the helper is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so every orphaned descendant
//!   of the side is reparented to it, including those that left the process group with
//!   `setsid`;
//! - when the side's command exits, every descendant still running is killed (and listed in
//!   [`Usage::killed`]), so nothing keeps the side's pipes open or its work going;
//! - a stop request from parity (a timeout or an interruption) kills every descendant the same
//!   way; so does parity's death, seen as the end of its requests (parity holds the only other
//!   end of the socket, so even a parity killed with `SIGKILL` closes it), after which the
//!   helper exits. `SIGTERM`, `SIGINT` and `SIGHUP` stop the run and end the helper too. The
//!   side's command gets `SIGKILL` as its own death signal, in case the helper is killed
//!   outright.
//!
//! The helper has one thread: it waits with `poll` on its requests and on a `signalfd` for
//! `SIGCHLD` and the stop signals.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::reap::{Reap, kill_descendants};
use super::spawn::Spawner;
pub use super::usage::{Killed, Usage};
use super::wire::{self, Report, Request};

/// The argument that selects the helper mode.
pub const MEASURE_ARG: &str = "__measure";

/// Signals that stop the run in progress and end the helper.
const STOP_SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// How long the helper keeps killing and reaping descendants before it gives up on them.
const REAP_LIMIT: Duration = Duration::from_secs(5);

/// Where requests arrive (a Unix socket) and reports leave (a pipe).
const REQUESTS: RawFd = 0;
const REPORTS: RawFd = 1;

/// Entry point of the helper mode; `args` are the arguments after `__measure` (the outputs
/// directory of the run that started it, so `ps` tells which run a helper serves). Serves runs
/// until parity is gone; returns the process exit code.
pub fn measure_main(args: &[OsString]) -> i32 {
    if args.len() != 1 {
        eprintln!(
            "usage: parity {MEASURE_ARG} WORK_DIR (started by parity, which talks to it on \
             stdin and stdout)"
        );
        return 2;
    }
    match Guardian::new() {
        Ok(mut guardian) => {
            guardian.serve();
            0
        }
        Err(e) => {
            eprintln!("parity {MEASURE_ARG}: {e}");
            2
        }
    }
}

/// One command to run, as parity asked.
struct Run {
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: PathBuf,
    /// The write ends of the run's stdout and stderr pipes.
    fds: Vec<OwnedFd>,
}

/// The helper's state: its signals, its channel back to parity, and what it starts sides with.
struct Guardian {
    signals: OwnedFd,
    reports: File,
    /// The commands' stdin.
    null: File,
    spawner: Spawner,
}

/// What woke the helper up.
#[derive(Debug, Default, Clone, Copy)]
struct Woken {
    /// A request arrived, or parity closed its end.
    request: bool,
    /// A stop signal arrived.
    stop: bool,
}

impl Guardian {
    /// Makes this process the guardian of the sides it starts: orphans are reparented to it,
    /// and `SIGCHLD` and the stop signals are read from a `signalfd` instead of interrupting
    /// it.
    fn new() -> io::Result<Guardian> {
        // SAFETY: plain system calls on this (single-threaded) process; the signal set is
        // initialised before use; fd 1 is the report pipe parity gave it, owned from here on.
        unsafe {
            if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) != 0 {
                let e = io::Error::last_os_error();
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot become a child subreaper: {e}"),
                ));
            }
            let set = signal_set();
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Guardian {
                signals: OwnedFd::from_raw_fd(fd),
                reports: File::from(OwnedFd::from_raw_fd(REPORTS)),
                null: File::open("/dev/null")?,
                spawner: Spawner::new()?,
            })
        }
    }

    /// Runs what parity asks, one run at a time, until parity is gone or a stop signal comes.
    fn serve(&mut self) {
        while let Some(run) = self.next_run() {
            let (usage, quit) = self.run(run);
            if self.report(&Report::Done(usage)).is_err() || quit {
                return;
            }
        }
    }

    /// Waits for the next run; `None` when parity is gone (or speaks nonsense) or a stop signal
    /// came. A stop request that arrives now was meant for a run that has ended: ignored.
    fn next_run(&mut self) -> Option<Run> {
        loop {
            let woken = self.wait(true);
            if woken.stop {
                return None;
            }
            if !woken.request {
                continue;
            }
            let (payload, fds) = wire::recv_with_fds(REQUESTS).ok()??;
            match Request::decode(&payload).ok()? {
                Request::Run { argv, env, cwd } => {
                    return Some(Run {
                        argv,
                        env,
                        cwd,
                        fds,
                    });
                }
                Request::Stop => {}
            }
        }
    }

    /// Runs one command to its end; returns its usage, and whether the helper must end after
    /// reporting it (parity gone, a stop signal).
    fn run(&mut self, run: Run) -> (Usage, bool) {
        let started = Instant::now();
        let spawned = match <[OwnedFd; 2]>::try_from(run.fds) {
            Ok([stdout, stderr]) => {
                let stdio = [
                    self.null.as_raw_fd(),
                    stdout.as_raw_fd(),
                    stderr.as_raw_fd(),
                ];
                // This process's copies of the pipes close here, once the command has them.
                self.spawner.spawn(&run.argv, &run.env, &run.cwd, stdio)
            }
            Err(_) => Err(io::Error::other(
                "parity sent no pipes for the run's output",
            )),
        };
        let pid = match spawned {
            Ok(pid) => pid,
            Err(e) => {
                let usage = Usage {
                    spawn_error: Some(e.to_string()),
                    ..Usage::default()
                };
                return (usage, false);
            }
        };
        let mut quit = self.report(&Report::Started { pid }).is_err();
        let mut listening = !quit;
        let mut stop = quit;
        let mut killed = Vec::new();
        let mut usage = loop {
            if stop {
                // No reaping here: `wait4` must see the command's own status.
                killed.extend(kill_descendants(REAP_LIMIT, Reap::No, pid).0);
                stop = false;
            }
            if let Some(usage) = try_wait(pid, started) {
                break usage;
            }
            let woken = self.wait(listening);
            if woken.stop {
                (stop, quit) = (true, true);
            }
            if woken.request {
                match wire::recv_with_fds(REQUESTS) {
                    Ok(Some((payload, _)))
                        if Request::decode(&payload).ok() == Some(Request::Stop) =>
                    {
                        stop = true;
                    }
                    // parity is gone, or no longer makes sense: stop, report if it can, end.
                    _ => (stop, quit, listening) = (true, true, false),
                }
            }
        };
        let (found, survivors) = kill_descendants(REAP_LIMIT, Reap::Yes, pid);
        killed.extend(found);
        killed.sort_by_key(|k| k.pid);
        killed.dedup_by_key(|k| k.pid);
        usage.killed = killed;
        usage.survivors = survivors;
        (usage, quit)
    }

    /// Sleeps until a request (when `listening`) or a signal arrives; reads the signals.
    fn wait(&mut self, listening: bool) -> Woken {
        let mut fds = [
            libc::pollfd {
                fd: self.signals.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: REQUESTS,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let count = if listening { 2 } else { 1 };
        // SAFETY: `fds` holds `count` initialised pollfd entries.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), count, -1) };
        if ready < 0 {
            // EINTR cannot happen with every handled signal blocked; anything else is a
            // helper that cannot wait any more: treat it as the end.
            let interrupted = io::Error::last_os_error().kind() == io::ErrorKind::Interrupted;
            return Woken {
                request: false,
                stop: !interrupted,
            };
        }
        Woken {
            request: listening && fds[1].revents != 0,
            stop: fds[0].revents != 0 && self.read_signals(),
        }
    }

    /// Reads every pending signal; true when one of them is a stop signal.
    fn read_signals(&mut self) -> bool {
        let mut stop = false;
        loop {
            // SAFETY: signalfd_siginfo is plain old data, filled in by read.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: `info` is a valid buffer of `size` bytes.
            let n = unsafe {
                libc::read(
                    self.signals.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if n != size as isize {
                return stop;
            }
            stop |= STOP_SIGNALS.contains(&(info.ssi_signo as libc::c_int));
        }
    }

    fn report(&mut self, report: &Report) -> io::Result<()> {
        wire::write_message(&mut self.reports, &report.encode())
    }
}

/// The command's usage once it has ended; `None` while it runs.
fn try_wait(pid: libc::pid_t, started: Instant) -> Option<Usage> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value for wait4 to overwrite.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own unreaped child; status and rusage are valid out-pointers.
    let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut rusage) };
    if reaped == 0 {
        return None;
    }
    if reaped != pid {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return None;
        }
        return Some(Usage {
            wall_us: micros(started.elapsed()),
            spawn_error: Some(format!("wait4 failed: {error}")),
            ..Usage::default()
        });
    }
    let wall = started.elapsed();
    let timeval_us = |tv: libc::timeval| (tv.tv_sec as u64) * 1_000_000 + tv.tv_usec as u64;
    Some(Usage {
        wall_us: micros(wall),
        user_us: timeval_us(rusage.ru_utime),
        sys_us: timeval_us(rusage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_kib: rusage.ru_maxrss.max(0) as u64,
        exit_code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        ..Usage::default()
    })
}

/// `SIGCHLD` and the stop signals.
fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset only writes into it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        for signal in STOP_SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

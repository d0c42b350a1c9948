//! The measuring helpers parity keeps ([`super::measure`]): each a `parity __measure`
//! process that runs one side at a time, kept idle between runs and reused, so a run costs a
//! `fork` of the small helper instead of an `exec` of the (large) parity binary.
//!
//! The pool is the process's: any pass over the cases (and `measure_floor`) takes an idle
//! helper started from the same binary, or starts one, and gives it back after a run that ended
//! with a report. A helper that did not report, or did not stop when asked, is killed and never
//! reused. Idle helpers hold only their two channels; they end when parity does (their request
//! socket closes).
//!
//! Helpers are started with `posix_spawn` (no code runs between fork and exec in parity), each
//! the leader of its own process group, so a terminal's Ctrl-C reaches parity, which decides.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

use tokio::io::AsyncReadExt;

use super::measure::{MEASURE_ARG, Usage};
use super::wire::{self, Report, Request};

/// Idle helpers, for any run of this process.
static IDLE: Mutex<Vec<Helper>> = Mutex::new(Vec::new());

/// One measuring helper and parity's ends of its channels.
#[derive(Debug)]
pub struct Helper {
    /// The binary it was started from.
    exe: PathBuf,
    process: Child,
    /// Its stdin: requests, and the run's pipes with them.
    requests: UnixStream,
    /// Its stdout: reports (blocking mode while idle). `None` while a run borrows it.
    reports: Option<OwnedFd>,
    /// Taken from the pool rather than started for this run.
    reused: bool,
}

impl Helper {
    /// An idle helper started from `exe`, or a new one. `work_dir` (the outputs directory of
    /// the run) goes on a new helper's command line, so `ps` shows which run it serves.
    pub fn checkout(exe: &Path, work_dir: &Path) -> io::Result<Helper> {
        loop {
            let idle = {
                let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
                let found = idle.iter().rposition(|h| h.exe == exe);
                found.map(|i| idle.swap_remove(i))
            };
            let Some(mut helper) = idle else {
                return Helper::spawn(exe, work_dir);
            };
            if helper.alive() {
                helper.reused = true;
                return Ok(helper);
            }
            helper.discard();
        }
    }

    fn spawn(exe: &Path, work_dir: &Path) -> io::Result<Helper> {
        let (ours, theirs) = UnixStream::pair()?;
        let mut process = Command::new(exe)
            .arg(MEASURE_ARG)
            .arg(work_dir)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let reports = process
            .stdout
            .take()
            .map(OwnedFd::from)
            .ok_or_else(|| io::Error::other("the helper's report pipe is missing"))?;
        Ok(Helper {
            exe: exe.to_owned(),
            process,
            requests: ours,
            reports: Some(reports),
            reused: false,
        })
    }

    /// Whether the helper process still runs.
    fn alive(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }

    /// Whether it came from the pool (and could have ended since: worth one retry).
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// Back to the pool, for the next run.
    pub fn checkin(self) {
        if self.reports.is_none() {
            return self.discard();
        }
        IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(self);
    }

    /// Ends a helper that is not to be trusted with another run (its side gets its death
    /// signal).
    pub fn discard(mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    /// Hands the helper a run: `request` with `stdout` and `stderr` (write ends of the run's
    /// pipes) as its output. The helper holds its own copies from here.
    pub fn start(&self, request: &Request, stdout: &OwnedFd, stderr: &OwnedFd) -> io::Result<()> {
        wire::send_with_fds(
            &self.requests,
            &request.encode(),
            &[stdout.as_raw_fd(), stderr.as_raw_fd()],
        )
    }

    /// Asks the helper to stop the run in progress (ignored when it has just ended).
    pub fn stop(&self) -> io::Result<()> {
        wire::write_message(&self.requests, &Request::Stop.encode())
    }

    /// The report channel, for one run on the async runtime; give it back with
    /// [`Helper::give_back`].
    pub fn reports(&mut self) -> io::Result<Reports> {
        let fd = self
            .reports
            .take()
            .ok_or_else(|| io::Error::other("the helper's reports are already in use"))?;
        let pipe = tokio::process::ChildStdout::from_std(std::process::ChildStdout::from(fd))?;
        Ok(Reports(pipe))
    }

    /// Returns the report channel after a run.
    pub fn give_back(&mut self, reports: Reports) {
        self.reports = reports.0.into_owned_fd().ok();
    }

    /// Waits (blocking) for the run's usage; `None` when the helper ended without reporting.
    pub fn wait_blocking(&mut self) -> Option<Usage> {
        let mut file = std::fs::File::from(self.reports.take()?);
        let usage = loop {
            match wire::read_message(&mut file).ok().flatten() {
                Some(payload) => match Report::decode(&payload) {
                    Ok(Report::Started { .. }) => {}
                    Ok(Report::Done(usage)) => break Some(usage),
                    Err(_) => break None,
                },
                None => break None,
            }
        };
        self.reports = Some(OwnedFd::from(file));
        usage
    }
}

/// A helper's reports, read on the async runtime.
#[derive(Debug)]
pub struct Reports(tokio::process::ChildStdout);

impl Reports {
    /// Waits for the run's end: the side's pid goes into `pid` as soon as it runs, then its
    /// usage is returned; `None` when the helper ended without reporting. Cancel-safe only as a
    /// whole: keep the future and poll it again after a `select!`.
    pub async fn finish(&mut self, pid: &AtomicI32) -> Option<Usage> {
        loop {
            match self.next().await.ok()? {
                Report::Started { pid: started } => pid.store(started, Ordering::Relaxed),
                Report::Done(usage) => return Some(usage),
            }
        }
    }

    async fn next(&mut self) -> io::Result<Report> {
        let mut header = [0u8; 4];
        self.0.read_exact(&mut header).await?;
        let mut payload = vec![0u8; wire::payload_len(header)?];
        self.0.read_exact(&mut payload).await?;
        Report::decode(&payload)
    }
}

//! Finding and killing what a side left running, from inside the measuring helper, which is a
//! child subreaper: every orphan of a side's tree is reparented to it, also one that left the
//! side's process group with `setsid`.

use std::time::{Duration, Instant};

use super::usage::Killed;

/// Whether [`kill_descendants`] reaps what ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reap {
    /// After the side was reaped: every child of the helper is an orphan of the side's tree.
    Yes,
    /// While the side runs: its own status must stay for `wait4`.
    No,
}

/// Kills every descendant of this process still running (and, with [`Reap::Yes`], reaps what
/// is reparented to it) until none is left alive or `limit` has passed. `group` is the side's
/// process group, to say who left it. Returns those killed and those that survived.
pub fn kill_descendants(
    limit: Duration,
    reap: Reap,
    group: libc::pid_t,
) -> (Vec<Killed>, Vec<Killed>) {
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
        let found = descendants(me, group);
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
pub enum Children {
    /// `waitpid` says there are none (`ECHILD`).
    None,
    /// Some are still running (or `waitpid` failed otherwise: assume so).
    Running,
}

/// Reaps every child that has ended, without blocking, and says whether any is left.
pub fn reap_children() -> Children {
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

/// The live (not zombie) descendants of `root`, found through `/proc` by parent pid; those
/// outside process group `group` are marked as having left it.
fn descendants(root: libc::pid_t, group: libc::pid_t) -> Vec<Killed> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut processes: Vec<(libc::pid_t, Stat)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter_map(|pid| Some((pid, read_stat(pid)?)))
        .collect();
    processes.sort_by_key(|(pid, _)| *pid);
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

//! Fitting the run into the process's file descriptor limit. Each running side holds a few
//! descriptors in parity (its two pipes, their capture files, the child's handle) and judging a
//! case opens a few more; a `ulimit -n 40` with `--jobs 16` made captures fail with "Too many
//! open files", which was then reported as the programs' difference. parity raises its soft
//! limit to the hard one, and lowers `--jobs` to what the limit allows, saying so.

/// Descriptors one running side, and its share of judging, may hold at once.
const PER_JOB: u64 = 8;
/// Descriptors kept free for the runtime, comparisons and reports.
const RESERVE: u64 = 32;

/// The number of processes to run at once: `wanted`, or fewer when the descriptor limit cannot
/// hold that many (with a sentence saying why).
pub fn fit_jobs(wanted: usize) -> (usize, Option<String>) {
    let Some(limit) = raise_limit() else {
        return (wanted, None);
    };
    let open = open_descriptors();
    let room = limit.saturating_sub(open + RESERVE) / PER_JOB;
    let allowed = usize::try_from(room).unwrap_or(usize::MAX).max(1);
    if allowed >= wanted {
        return (wanted, None);
    }
    let note = format!(
        "running {allowed} process{} at once instead of {wanted}: only {limit} file descriptors \
         are allowed (ulimit -n), and each running side needs about {PER_JOB}",
        if allowed == 1 { "" } else { "es" }
    );
    (allowed, Some(note))
}

/// Raises the soft limit on open files to the hard limit; returns the soft limit in force.
fn raise_limit() -> Option<u64> {
    // SAFETY: rlimit is plain old data; getrlimit and setrlimit only read and write it.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    }
}

/// Descriptors open in this process now.
fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(8, |entries| entries.count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_modest_request_fits_a_default_limit() {
        assert_eq!(fit_jobs(1).0, 1);
    }
}

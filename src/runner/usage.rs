//! What a measuring helper reports about one run of a side: its usage, how it ended, and the
//! processes left behind that the helper killed. Shared by the helper ([`super::measure`]), the
//! wire between it and parity ([`super::wire`]) and the reaper ([`super::reap`]).

use serde::{Deserialize, Serialize};

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

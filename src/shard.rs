//! Sharding: one deterministic slice of a run's cases per CI job, cluster task or array
//! element, so a corpus that takes hours runs on the engine a team already has, and `parity
//! merge` puts the slices back together.
//!
//! - `hash:K/N` (the default, also written `K/N`): a case is in shard K when the blake3 hash
//!   of its id (`suite/fixture[variant]`) is K-1 modulo N. A case keeps its shard when other
//!   fixtures are added or removed, so a shard's history stays comparable.
//! - `slice:K/N`: the cases in id order dealt round-robin; shard sizes differ by at most one.
//! - `auto`: K and N from the CI's own variables ([`from_env`]).
//!
//! K is 1-based, as GitLab numbers its jobs; engines that count from 0 are converted.

use serde::{Deserialize, Serialize};

use crate::fixture::Case;

/// How cases are dealt to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardKind {
    Hash,
    Slice,
}

/// One shard of a run: `kind:index/total`, index from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub kind: ShardKind,
    pub index: usize,
    pub total: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            ShardKind::Hash => "hash",
            ShardKind::Slice => "slice",
        };
        write!(f, "{kind}:{}/{}", self.index, self.total)
    }
}

/// What `--shard` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardRequest {
    Fixed(Shard),
    /// From the CI's variables, dealt by hash.
    Auto,
}

/// Why a `--shard` value or the CI's variables do not name a shard.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("--shard `{0}`: write K/N (1 ≤ K ≤ N), hash:K/N, slice:K/N or auto, e.g. --shard 2/4")]
    Syntax(String),
    #[error("--shard auto: {0}")]
    Env(String),
}

impl std::str::FromStr for ShardRequest {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "auto" {
            return Ok(ShardRequest::Auto);
        }
        let (kind, rest) = match text.split_once(':') {
            Some(("hash", rest)) => (ShardKind::Hash, rest),
            Some(("slice", rest)) => (ShardKind::Slice, rest),
            Some(_) => return Err(ShardError::Syntax(text.to_owned())),
            None => (ShardKind::Hash, text),
        };
        let parsed = rest
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, total)) if index >= 1 && index <= total => {
                Ok(ShardRequest::Fixed(Shard { kind, index, total }))
            }
            _ => Err(ShardError::Syntax(text.to_owned())),
        }
    }
}

impl Shard {
    /// Whether the case at `position` (in the run's id order) of id `label` is in this shard.
    pub fn holds(&self, position: usize, label: &str) -> bool {
        let slot = match self.kind {
            ShardKind::Hash => {
                let hash = blake3::hash(label.as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&hash.as_bytes()[..8]);
                (u64::from_le_bytes(first) % self.total as u64) as usize
            }
            ShardKind::Slice => position % self.total,
        };
        slot == self.index - 1
    }

    /// The cases of this shard, in their order.
    pub fn select(&self, cases: Vec<Case>) -> Vec<Case> {
        cases
            .into_iter()
            .enumerate()
            .filter(|(position, case)| self.holds(*position, &case.label()))
            .map(|(_, case)| case)
            .collect()
    }
}

/// The shard the CI's own variables name (`var` reads one), dealt by hash:
///
/// | engine | index | total |
/// | --- | --- | --- |
/// | GitLab `parallel:` | `CI_NODE_INDEX` (from 1) | `CI_NODE_TOTAL` |
/// | Kubernetes Indexed Job | `JOB_COMPLETION_INDEX` (from 0) | `PARITY_SHARD_TOTAL` |
/// | Slurm job array | `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` (from 0) | `SLURM_ARRAY_TASK_COUNT` |
/// | Bazel test sharding | `TEST_SHARD_INDEX` (from 0) | `TEST_TOTAL_SHARDS` |
///
/// Bazel also asks a test to touch `TEST_SHARD_STATUS_FILE`, to say it shards: the caller
/// does that ([`touch_bazel_status`]).
pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
    let number = |name: &str| -> Result<Option<usize>, ShardError> {
        match var(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ShardError::Env(format!("{name}={text} is not a whole number"))),
        }
    };
    let engines: [(&str, &str, &str, usize); 4] = [
        ("GitLab", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1),
        (
            "Kubernetes",
            "JOB_COMPLETION_INDEX",
            "PARITY_SHARD_TOTAL",
            0,
        ),
        ("Slurm", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", 0),
        ("Bazel", "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", 0),
    ];
    for (engine, index_var, total_var, base) in engines {
        let Some(index) = number(index_var)? else {
            continue;
        };
        let Some(total) = number(total_var)? else {
            return Err(ShardError::Env(format!(
                "{index_var} is set ({engine}) but {total_var} is not{}",
                if engine == "Kubernetes" {
                    ": an Indexed Job does not tell its completions; set PARITY_SHARD_TOTAL to them"
                } else {
                    ""
                }
            )));
        };
        let index = if engine == "Slurm" {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            index.checked_sub(min).ok_or_else(|| {
                ShardError::Env(format!(
                    "SLURM_ARRAY_TASK_ID={index} is below SLURM_ARRAY_TASK_MIN={min}"
                ))
            })?
        } else {
            index
        };
        let one_based = index + 1 - base;
        if base > index || one_based > total || total == 0 {
            return Err(ShardError::Env(format!(
                "{index_var}={index} does not name one of {total_var}={total} shards ({engine})"
            )));
        }
        return Ok(Shard {
            kind: ShardKind::Hash,
            index: one_based,
            total,
        });
    }
    Err(ShardError::Env(
        "no CI shard variables found: CI_NODE_INDEX/CI_NODE_TOTAL (GitLab), \
         JOB_COMPLETION_INDEX/PARITY_SHARD_TOTAL (Kubernetes), \
         SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (Slurm), TEST_SHARD_INDEX/TEST_TOTAL_SHARDS (Bazel)"
            .to_owned(),
    ))
}

/// Bazel's way to ask whether a test shards: it sets `TEST_SHARD_STATUS_FILE`, and a test
/// that shards touches it.
pub fn touch_bazel_status() -> std::io::Result<()> {
    match std::env::var_os("TEST_SHARD_STATUS_FILE").filter(|p| !p.is_empty()) {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|_| ()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn shard(text: &str) -> Shard {
        match text.parse() {
            Ok(ShardRequest::Fixed(shard)) => shard,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn parses_what_users_write() {
        assert_eq!(shard("2/4"), shard("hash:2/4"));
        assert_eq!(shard("slice:1/3").kind, ShardKind::Slice);
        assert_eq!("auto".parse::<ShardRequest>(), Ok(ShardRequest::Auto));
        for bad in ["0/4", "5/4", "2", "2/0", "x/4", "mod:1/2", "1/-2", ""] {
            assert!(bad.parse::<ShardRequest>().is_err(), "{bad}");
        }
        assert_eq!(shard("hash:3/8").to_string(), "hash:3/8");
    }

    #[test]
    fn each_engine_names_its_shard() {
        let env = |pairs: &[(&str, &str)]| {
            let map: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            from_env(&move |name| map.get(name).cloned())
        };
        let at = |index, total| {
            Ok(Shard {
                kind: ShardKind::Hash,
                index,
                total,
            })
        };
        assert_eq!(
            env(&[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "4")]),
            at(2, 4)
        );
        assert_eq!(
            env(&[("JOB_COMPLETION_INDEX", "0"), ("PARITY_SHARD_TOTAL", "3")]),
            at(1, 3)
        );
        assert_eq!(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_MIN", "4"),
                ("SLURM_ARRAY_TASK_COUNT", "4")
            ]),
            at(2, 4)
        );
        assert_eq!(
            env(&[("TEST_SHARD_INDEX", "3"), ("TEST_TOTAL_SHARDS", "4")]),
            at(4, 4)
        );
        assert!(env(&[("JOB_COMPLETION_INDEX", "0")]).is_err());
        assert!(env(&[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "4")]).is_err());
        assert!(env(&[("CI_NODE_INDEX", "5"), ("CI_NODE_TOTAL", "4")]).is_err());
        assert!(env(&[]).is_err());
    }

    proptest! {
        /// Every case is in exactly one shard, whatever the kind and the number of shards.
        #[test]
        fn shards_partition_the_cases(
            labels in proptest::collection::btree_set("[a-z]{1,8}/[a-z0-9_.-]{1,12}", 0..60),
            total in 1usize..9,
            slice in any::<bool>(),
        ) {
            let kind = if slice { ShardKind::Slice } else { ShardKind::Hash };
            for (position, label) in labels.iter().enumerate() {
                let holders = (1..=total)
                    .filter(|&index| Shard { kind, index, total }.holds(position, label))
                    .count();
                prop_assert_eq!(holders, 1);
            }
        }

        /// A case keeps its hash shard when other cases come and go.
        #[test]
        fn a_hash_shard_does_not_move(label in "[a-z]{1,8}/[a-z0-9]{1,12}", total in 1usize..9, a in 0usize..100, b in 0usize..100) {
            let held = |position| (1..=total).find(|&index| Shard { kind: ShardKind::Hash, index, total }.holds(position, &label));
            prop_assert_eq!(held(a), held(b));
        }
    }
}

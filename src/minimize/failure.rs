//! What "still fails the same way" means for `parity minimize`: the [`Failure`] a smaller input
//! must keep.
//!
//! A case's differences are grouped into [`CaseCluster`]s as the run's clusters are
//! ([`crate::outcome::cluster`]): output (named as [`crate::outcome::Compared::name`] names it,
//! so a scenario's step is part of it) × path pattern (indices and keys folded to `[*]`, member
//! names that are data folded to `.*`) × kind, unwaived differences only, outputs blocked by a
//! divergent stage left out (they are consequences). Only the candidate against the legacy's
//! run counts: that is what runs again on a smaller input (a golden was recorded for the
//! original fixture only).
//!
//! A re-run keeps the failure when its verdict is the original's (a side that crashed, timed
//! out or failed otherwise is another failure), with the same exit status of each side when a
//! side failed, and it still has at least one unwaived difference of the target cluster. Data
//! names fold over the original's and the re-run's patterns together, as the run's clusters
//! fold over every case, so `$.by_day.*` still matches when only one date is left.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::diff::{DiffKind, fold};
use crate::outcome::{CaseOutcome, OutputComparison, Verdict};
use crate::runner::RunStatus;

/// One cause of a case's unwaived differences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseCluster {
    /// The output (`advisory_current.json`, `stage:decide`, `exit`; with its step in a
    /// scenario).
    pub output: String,
    /// The folded path pattern.
    pub pattern: String,
    pub kind: DiffKind,
    /// Unwaived differences in it.
    pub count: usize,
    /// The patterns as compared (before data names were folded) that fold into it.
    #[serde(skip)]
    raw: BTreeSet<String>,
}

impl CaseCluster {
    /// `advisory_current.json $.advisories[*].state changed`.
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.output, self.pattern, self.kind)
    }
}

/// The outputs that count, named: the candidate against the legacy's run, not blocked by a
/// divergent stage.
fn outputs(outcome: &CaseOutcome) -> Vec<(String, &OutputComparison)> {
    outcome
        .comparisons()
        .into_iter()
        .filter(|c| c.primary && c.left == "legacy")
        .flat_map(|c| {
            c.outputs
                .iter()
                .filter(|o| o.blocked_by.is_none())
                .map(move |o| (c.name(&o.output), o))
        })
        .collect()
}

/// Every raw pattern of each output, what data names fold over.
fn patterns<'a>(outputs: &[(String, &'a OutputComparison)]) -> BTreeMap<String, BTreeSet<&'a str>> {
    let mut patterns: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (name, output) in outputs {
        let set = patterns.entry(name.clone()).or_default();
        set.extend(output.clusters.iter().map(|t| t.pattern.as_str()));
    }
    patterns
}

/// The case's unwaived clusters, the largest first (then by output, pattern and kind).
pub fn clusters(outcome: &CaseOutcome) -> Vec<CaseCluster> {
    let outputs = outputs(outcome);
    let folded: BTreeMap<String, BTreeMap<String, String>> = patterns(&outputs)
        .into_iter()
        .map(|(name, set)| (name, fold::data_keys(set)))
        .collect();
    let mut by_key: BTreeMap<(String, String, DiffKind), CaseCluster> = BTreeMap::new();
    for (name, output) in &outputs {
        for tally in output.clusters.iter().filter(|t| t.count > t.waived) {
            let pattern = folded
                .get(name)
                .and_then(|f| f.get(&tally.pattern))
                .cloned()
                .unwrap_or_else(|| tally.pattern.clone());
            let key = (name.clone(), pattern.clone(), tally.kind);
            let cluster = by_key.entry(key).or_insert_with(|| CaseCluster {
                output: name.clone(),
                pattern,
                kind: tally.kind,
                count: 0,
                raw: BTreeSet::new(),
            });
            cluster.count += tally.count - tally.waived;
            cluster.raw.insert(tally.pattern.clone());
        }
    }
    let mut clusters: Vec<CaseCluster> = by_key.into_values().collect();
    clusters.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.output, &a.pattern, a.kind).cmp(&(&b.output, &b.pattern, b.kind)))
    });
    clusters
}

/// Why a case cannot be minimised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfit {
    #[error("it passed ({verdict}): there is no failure to keep")]
    Passed { verdict: String },
    #[error("parity itself failed on it ({message}): there is no failure of the programs to keep")]
    Harness { message: String },
    #[error(
        "its verdict ({verdict}) comes from its golden, recorded for this fixture only: a smaller \
         input has no golden to compare with"
    )]
    Golden { verdict: String },
    #[error(
        "it has no unwaived difference of the candidate against the legacy's run (the only \
         comparison that runs again on a smaller input)"
    )]
    NoCluster,
    #[error("it has no cluster {asked}; its clusters are:\n{listed}")]
    NoSuchCluster { asked: usize, listed: String },
}

/// What a smaller input must still show.
#[derive(Debug, Clone)]
pub struct Failure {
    verdict: Verdict,
    /// Each side's status, when a side failed (a crash with another exit code is another
    /// failure).
    statuses: Option<(Option<RunStatus>, RunStatus)>,
    /// The cluster to keep; none for a side's failure without differences.
    target: Option<CaseCluster>,
    /// The original's raw patterns of the target's output.
    original: BTreeSet<String>,
}

impl Failure {
    /// The failure of `outcome` to keep: its cluster `cluster` (1-based, as listed by
    /// [`clusters`]), or its largest.
    pub fn of(outcome: &CaseOutcome, cluster: Option<usize>) -> Result<Failure, Unfit> {
        let verdict = outcome.verdict.clone();
        let side_failed = match &verdict {
            Verdict::Different | Verdict::Timeout { .. } => false,
            Verdict::LegacyFailed
            | Verdict::CandidateFailed
            | Verdict::BothFailed { agree: false } => true,
            Verdict::Identical
            | Verdict::Equivalent
            | Verdict::Waived
            | Verdict::BothFailed { agree: true } => {
                return Err(Unfit::Passed {
                    verdict: verdict.describe(),
                });
            }
            Verdict::Error { message } => {
                return Err(Unfit::Harness {
                    message: message.clone(),
                });
            }
            Verdict::GoldenMismatch { .. } | Verdict::GoldenStale | Verdict::GoldenMissing => {
                return Err(Unfit::Golden {
                    verdict: verdict.describe(),
                });
            }
        };
        let all = clusters(outcome);
        let target = match cluster {
            Some(asked) => Some(all.get(asked.wrapping_sub(1)).cloned().ok_or_else(|| {
                Unfit::NoSuchCluster {
                    asked,
                    listed: list(&all),
                }
            })?),
            None => all.first().cloned(),
        };
        if target.is_none() && verdict == Verdict::Different {
            return Err(Unfit::NoCluster);
        }
        let original = target
            .as_ref()
            .map(|t| {
                patterns(&outputs(outcome))
                    .remove(&t.output)
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let statuses = side_failed.then(|| {
            (
                outcome.legacy.as_ref().map(|r| r.status.clone()),
                outcome.candidate.status.clone(),
            )
        });
        Ok(Failure {
            verdict,
            statuses,
            target,
            original,
        })
    }

    /// The original verdict.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The cluster kept, if any.
    pub fn target(&self) -> Option<&CaseCluster> {
        self.target.as_ref()
    }

    /// What is kept, for people: `cluster: stage:decide $.advisories[*].state changed`, or
    /// `verdict: candidate-failed (candidate exit 3)`.
    pub fn describe(&self) -> String {
        match (&self.target, &self.statuses) {
            (Some(target), _) => format!("cluster: {}", target.describe()),
            (None, Some((_, candidate))) if self.verdict == Verdict::CandidateFailed => {
                format!(
                    "verdict: {} (candidate {})",
                    self.verdict.describe(),
                    candidate.describe()
                )
            }
            (None, Some((Some(legacy), _))) => {
                format!(
                    "verdict: {} (legacy {})",
                    self.verdict.describe(),
                    legacy.describe()
                )
            }
            (None, _) => format!("verdict: {}", self.verdict.describe()),
        }
    }

    /// True when `rerun` (the case run again on a smaller input) fails the same way.
    pub fn persists_in(&self, rerun: &CaseOutcome) -> bool {
        if rerun.verdict != self.verdict {
            return false;
        }
        if let Some((legacy, candidate)) = &self.statuses {
            let rerun_legacy = rerun.legacy.as_ref().map(|r| &r.status);
            if rerun_legacy != legacy.as_ref() || &rerun.candidate.status != candidate {
                return false;
            }
        }
        let Some(target) = &self.target else {
            return true;
        };
        let outputs: Vec<(String, &OutputComparison)> = outputs(rerun)
            .into_iter()
            .filter(|(name, _)| name == &target.output)
            .collect();
        let mut union: BTreeSet<&str> = self.original.iter().map(String::as_str).collect();
        union.extend(
            outputs
                .iter()
                .flat_map(|(_, o)| o.clusters.iter().map(|t| t.pattern.as_str())),
        );
        let fold = fold::data_keys(union);
        let folded = |raw: &str| fold.get(raw).cloned().unwrap_or_else(|| raw.to_owned());
        let wanted: BTreeSet<String> = target.raw.iter().map(|raw| folded(raw)).collect();
        outputs.iter().flat_map(|(_, o)| &o.clusters).any(|t| {
            t.kind == target.kind && t.count > t.waived && wanted.contains(&folded(&t.pattern))
        })
    }
}

/// The clusters, numbered for `--cluster N`: `  1. stage:decide $.advisories[*].state changed (1
/// difference)`.
pub fn list(clusters: &[CaseCluster]) -> String {
    if clusters.is_empty() {
        return "  (none)".to_owned();
    }
    clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "  {}. {} ({})",
                i + 1,
                c.describe(),
                super::human::count(c.count, "difference")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn run(exit: i32) -> Value {
        json!({
            "argv": ["side"], "cwd": "/", "status": { "kind": "exited", "code": exit },
            "wall_ms": 1.0, "user_ms": null, "sys_ms": null, "peak_rss_kib": null,
            "stdout": { "bytes": 0, "truncated": false },
            "stderr": { "bytes": 0, "truncated": false }, "stderr_tail": ""
        })
    }

    /// An output with tallies `(pattern, kind, count, waived)`.
    fn output(name: &str, tallies: &[(&str, &str, usize, usize)], blocked: bool) -> Value {
        let clusters: Vec<Value> = tallies
            .iter()
            .map(|(p, k, c, w)| json!({ "pattern": p, "kind": k, "count": c, "waived": w }))
            .collect();
        let total: usize = tallies.iter().map(|t| t.2).sum();
        let mut output = json!({
            "output": name, "format": "json", "compare": 0,
            "status": if total > 0 { "different" } else { "identical" },
            "total": total, "waived": 0, "differences": [], "clusters": clusters
        });
        if blocked {
            output["blocked_by"] = json!("decide");
        }
        output
    }

    fn outcome(verdict: Value, exits: (i32, i32), outputs: Vec<Value>) -> CaseOutcome {
        serde_json::from_value(json!({
            "suite": "main", "fixture": "case", "variant": null,
            "verdict": verdict, "legacy": run(exits.0), "candidate": run(exits.1),
            "outputs": outputs, "kept_outputs": null
        }))
        .expect("an outcome")
    }

    fn different(outputs: Vec<Value>) -> CaseOutcome {
        outcome(json!({ "kind": "different" }), (0, 0), outputs)
    }

    #[test]
    fn clusters_are_unwaived_unblocked_and_largest_first() {
        let case = different(vec![
            output(
                "stage:decide",
                &[
                    ("$.advisories[*].state", "changed", 1, 0),
                    ("$.advisories[*].sources[*]", "added", 3, 0),
                    ("$.advisories[*].explanation", "changed", 2, 2),
                ],
                false,
            ),
            output(
                "advisory_current.json",
                &[("$.advisories[*].state", "changed", 5, 0)],
                true,
            ),
        ]);
        let described: Vec<String> = clusters(&case).iter().map(CaseCluster::describe).collect();
        assert_eq!(
            described,
            [
                "stage:decide $.advisories[*].sources[*] added",
                "stage:decide $.advisories[*].state changed"
            ]
        );
        let failure = Failure::of(&case, Some(2)).expect("fit");
        assert_eq!(
            failure.describe(),
            "cluster: stage:decide $.advisories[*].state changed"
        );
        let Err(Unfit::NoSuchCluster { listed, .. }) = Failure::of(&case, Some(3)) else {
            panic!("cluster 3 does not exist");
        };
        assert!(listed.contains("  2. stage:decide $.advisories[*].state changed (1 difference)"));
    }

    #[test]
    fn the_same_failure_needs_the_verdict_and_the_cluster() {
        let original = different(vec![output(
            "out.json",
            &[("$.a", "changed", 2, 0), ("$.b", "removed", 1, 0)],
            false,
        )]);
        let failure = Failure::of(&original, None).expect("fit");
        assert!(failure.persists_in(&original));
        let other_cluster = different(vec![output("out.json", &[("$.b", "removed", 1, 0)], false)]);
        assert!(!failure.persists_in(&other_cluster));
        let waived = different(vec![output("out.json", &[("$.a", "changed", 1, 1)], false)]);
        assert!(!failure.persists_in(&waived));
        let crashed = outcome(
            json!({ "kind": "candidate-failed" }),
            (0, 3),
            vec![output("out.json", &[("$.a", "changed", 2, 0)], false)],
        );
        assert!(!failure.persists_in(&crashed));
    }

    #[test]
    fn data_names_fold_with_the_original() {
        let days = |days: &[&str]| {
            let tallies: Vec<String> = days
                .iter()
                .map(|d| format!("$.by_day['2024-01-{d}']"))
                .collect();
            let tallies: Vec<(&str, &str, usize, usize)> = tallies
                .iter()
                .map(|p| (p.as_str(), "changed", 1, 0))
                .collect();
            different(vec![output("out.json", &tallies, false)])
        };
        let original = days(&["01", "02", "03"]);
        let failure = Failure::of(&original, None).expect("fit");
        assert_eq!(failure.describe(), "cluster: out.json $.by_day.* changed");
        assert!(failure.persists_in(&days(&["02"])));
        assert!(failure.persists_in(&days(&["09"])));
    }

    #[test]
    fn a_side_that_fails_must_fail_alike() {
        let original = outcome(
            json!({ "kind": "candidate-failed" }),
            (0, 3),
            vec![output("exit", &[("$", "exit_status", 1, 0)], false)],
        );
        let failure = Failure::of(&original, None).expect("fit");
        assert!(failure.persists_in(&original));
        let other_exit = outcome(
            json!({ "kind": "candidate-failed" }),
            (0, 4),
            vec![output("exit", &[("$", "exit_status", 1, 0)], false)],
        );
        assert!(!failure.persists_in(&other_exit));
        let without_cluster = outcome(json!({ "kind": "candidate-failed" }), (0, 3), Vec::new());
        let failure = Failure::of(&without_cluster, None).expect("fit");
        assert_eq!(
            failure.describe(),
            "verdict: candidate-failed (candidate exit 3)"
        );
    }

    #[test]
    fn cases_without_a_failure_to_keep_are_unfit() {
        let unfit = |verdict: Value| Failure::of(&outcome(verdict, (0, 0), Vec::new()), None).err();
        assert!(matches!(
            unfit(json!({ "kind": "equivalent" })),
            Some(Unfit::Passed { .. })
        ));
        assert!(matches!(
            unfit(json!({ "kind": "error", "message": "disk full" })),
            Some(Unfit::Harness { .. })
        ));
        assert!(matches!(
            unfit(json!({ "kind": "golden-stale" })),
            Some(Unfit::Golden { .. })
        ));
        assert!(matches!(
            unfit(json!({ "kind": "different" })),
            Some(Unfit::NoCluster)
        ));
    }
}

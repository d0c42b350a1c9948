//! `parity merge`: the results of a run's shards put back together as the results of the
//! whole run, then gated as usual — the cases of every shard in case order, rule and waiver
//! usage summed (and a rule's staleness judged over the whole run), the clusters and the
//! performance gate computed again over every case.
//!
//! A merge refuses, rather than guess, when the shards cannot be one run: a different parity
//! version or configuration, shards dealt differently or of a different count, a shard given
//! twice, a case in two shards, or a shard missing (unless `--allow-partial`: then the results
//! say which shards are missing, and a merge in which nothing failed cannot pass).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::bench::{self, BenchSettings};
use crate::diff::RuleUse;
use crate::fixture::CaseId;
use crate::outcome::{Merged, MergedShard, RunResults};
use crate::report::read_results;

/// Merges the results in `files` (one per shard).
pub fn merge(files: &[PathBuf], allow_partial: bool) -> anyhow::Result<RunResults> {
    let mut shards: Vec<(PathBuf, RunResults)> = Vec::with_capacity(files.len());
    for file in files {
        let results =
            read_results(file).with_context(|| format!("cannot merge {}", file.display()))?;
        shards.push((file.clone(), results));
    }
    let Some((first_file, first)) = shards.first() else {
        bail!("nothing to merge: name the shards' results.json files");
    };
    for (file, results) in &shards[1..] {
        if results.tool.version != first.tool.version {
            bail!(
                "{} was written by parity {}, {} by parity {}: shards of one run come from one parity",
                file.display(),
                results.tool.version,
                first_file.display(),
                first.tool.version
            );
        }
        if results.config.hash != first.config.hash {
            bail!(
                "{} ran configuration {}, {} ran {}: shards of one run share their configuration",
                file.display(),
                results.config.hash,
                first_file.display(),
                first.config.hash
            );
        }
    }
    let missing = check_shards(&shards)?;
    if !missing.is_empty() && !allow_partial {
        bail!(
            "shard{} {} of the run {} missing (--allow-partial merges what is there and marks the results partial)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
        );
    }
    let mut seen: BTreeMap<CaseId, &Path> = BTreeMap::new();
    for (file, results) in &shards {
        for case in &results.cases {
            if let Some(other) = seen.insert(case.id.clone(), file) {
                bail!(
                    "case {} is in both {} and {}: the shards overlap",
                    case.id.label(),
                    other.display(),
                    file.display()
                );
            }
        }
    }
    shards.sort_by_key(|(_, r)| r.shard.map_or(0, |s| s.shard.index));
    let sources: Vec<MergedShard> = shards
        .iter()
        .map(|(file, r)| MergedShard {
            shard: r.shard.map(|s| s.shard.to_string()).unwrap_or_default(),
            file: file.display().to_string(),
            cases: r.cases.len(),
            hostname: r.environment.hostname.clone(),
            started_at: r.started_at.clone(),
            finished_at: r.finished_at.clone(),
        })
        .collect();
    let whole = missing.is_empty()
        && shards
            .iter()
            .all(|(_, r)| !r.selection.narrowed && !r.interrupted && r.not_run.is_empty());
    let mut rest = shards.into_iter().map(|(_, r)| r);
    match rest.next() {
        Some(first) => Ok(combine(
            first,
            rest,
            whole,
            Merged {
                shards: sources,
                missing,
            },
        )),
        None => bail!("nothing to merge: name the shards' results.json files"),
    }
}

/// The shards' identities: dealt alike, none twice; the missing ones, described.
fn check_shards(shards: &[(PathBuf, RunResults)]) -> anyhow::Result<Vec<String>> {
    let mut indices: BTreeMap<usize, &Path> = BTreeMap::new();
    let first = shards[0].1.shard;
    for (file, results) in shards {
        let Some(info) = results.shard else {
            bail!(
                "{} is not a shard's results (it ran without --shard): nothing to merge it with",
                file.display()
            );
        };
        let Some(expected) = first else {
            bail!("{} is not a shard's results", shards[0].0.display());
        };
        if (info.shard.kind, info.shard.total) != (expected.shard.kind, expected.shard.total) {
            bail!(
                "{} is shard {}, {} is shard {}: the shards of one run are dealt alike",
                file.display(),
                info.shard,
                shards[0].0.display(),
                expected.shard
            );
        }
        if let Some(other) = indices.insert(info.shard.index, file) {
            bail!(
                "shard {} is given twice: {} and {}",
                info.shard,
                other.display(),
                file.display()
            );
        }
    }
    let Some(expected) = first else {
        return Ok(Vec::new());
    };
    Ok((1..=expected.shard.total)
        .filter(|index| !indices.contains_key(index))
        .map(|index| {
            crate::shard::Shard {
                index,
                ..expected.shard
            }
            .to_string()
        })
        .collect())
}

/// The whole run from its shards (already checked), the first given apart; `whole` when they
/// make the whole configured run (a rule unused then is stale).
fn combine(
    mut merged: RunResults,
    rest: impl Iterator<Item = RunResults>,
    whole: bool,
    sources: Merged,
) -> RunResults {
    let units = merged.shard.map_or(0, |s| s.units);
    let mut rules: BTreeMap<usize, RuleUse> = usage_of_rules(&merged);
    let mut waivers: BTreeMap<usize, u64> = merged
        .waivers
        .iter()
        .map(|w| (w.index, w.applied))
        .collect();
    let mut suites: BTreeSet<String> = merged.selection.suites.iter().cloned().collect();
    for shard in rest {
        for (id, used) in usage_of_rules(&shard) {
            *rules.entry(id).or_default() += used;
        }
        for w in &shard.waivers {
            *waivers.entry(w.index).or_default() += w.applied;
        }
        suites.extend(shard.selection.suites.iter().cloned());
        merged.started_at = merged.started_at.min(shard.started_at);
        merged.finished_at = merged.finished_at.max(shard.finished_at);
        merged.interrupted |= shard.interrupted;
        merged.cases.extend(shard.cases);
        merged.not_run.extend(shard.not_run);
        merged.measurement.parity_peak_rss_kib = merged
            .measurement
            .parity_peak_rss_kib
            .max(shard.measurement.parity_peak_rss_kib);
        for sides in shard.sides {
            if !merged.sides.iter().any(|s| s.suite == sides.suite) {
                merged.sides.push(sides);
            }
        }
    }
    merged.cases.sort_by(|a, b| a.id.cmp(&b.id));
    merged.not_run.sort_by(|a, b| a.id.cmp(&b.id));
    merged.sides.sort_by(|a, b| a.suite.cmp(&b.suite));
    merged.selection.suites = suites.into_iter().collect();
    let exercised = crate::outcome::Exercised::of(&merged.cases);
    for rule in &mut merged.rules {
        let used = rules.get(&rule.id).copied().unwrap_or_default();
        rule.applied = used.applied;
        rule.judged = used.judged;
        let unused = used == RuleUse::default() && !rule.expired;
        (rule.stale, rule.not_exercised) = exercised.judge(unused, whole, rule.compare);
    }
    for waiver in &mut merged.waivers {
        waiver.applied = waivers.get(&waiver.index).copied().unwrap_or(0);
    }
    if let Some(summary) = &merged.bench {
        let settings = BenchSettings::from(summary);
        let agreed = merged.cases.iter().filter(|c| c.verdict.is_success());
        let measured: Vec<_> = agreed.flat_map(|c| c.benches()).map(|(_, b)| b).collect();
        merged.bench = Some(bench::summarise(&settings, units, measured.into_iter()));
    }
    merged.shard = None;
    merged.merged = Some(sources);
    merged.summarise();
    merged
}

fn usage_of_rules(results: &RunResults) -> BTreeMap<usize, RuleUse> {
    results
        .rules
        .iter()
        .map(|r| {
            (
                r.id,
                RuleUse {
                    applied: r.applied,
                    judged: r.judged,
                },
            )
        })
        .collect()
}

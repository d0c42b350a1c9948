//! Stage-aligned comparison: each `[[stage]]` file taken out of the final outputs (at its path
//! on each side) and, once compared, which stage each difference follows from — the first
//! divergent stage of the case, and what it blocks.

use crate::config::Config;
use crate::diff::dir::{Entry, FilePair};
use crate::outcome::{OutputComparison, STAGE_PREFIX, StageOutcome, StageStatus, Stages};
use crate::runner::Side;

/// Takes each stage's file out of `pairs` (the final outputs): the left side's at its path
/// for the left's program, the right's at its own; a stage is compared as a stage, never
/// again as a file. Returns (left, right) per stage, in stage order.
pub(super) fn take_stage_files(
    config: &Config,
    pairs: &mut Vec<FilePair>,
    left: Side,
    right: Side,
) -> Vec<(Option<Entry>, Option<Entry>)> {
    let mut taken = Vec::with_capacity(config.stages.len());
    for stage in &config.stages {
        let mut take = |path: &str, is_left: bool| {
            let pair = pairs.iter_mut().find(|p| p.relative == path)?;
            if is_left {
                pair.left.take()
            } else {
                pair.right.take()
            }
        };
        let l = take(stage.path(left), true);
        let r = take(stage.path(right), false);
        taken.push((l, r));
    }
    pairs.retain(|p| p.left.is_some() || p.right.is_some());
    taken
}

/// Which stage each difference follows from. A stage that differs while every stage it
/// depends on agrees has diverged: a cause. One that differs after a stage it depends on
/// differed is blocked by that stage's cause: a consequence (the first in declaration order
/// when several). The first divergent stage is the case's; every final output that differs is
/// marked as its consequence. `present[i]`: some side wrote stage `i`'s file.
pub(super) fn stage_divergence(
    config: &Config,
    present: &[bool],
    outputs: &mut [OutputComparison],
) -> Stages {
    let mut stages: Vec<StageOutcome> = Vec::with_capacity(config.stages.len());
    for (index, stage) in config.stages.iter().enumerate() {
        let name = format!("{STAGE_PREFIX}{}", stage.name);
        let output = outputs.iter().find(|o| o.output == name);
        let differs = output.is_some_and(|o| !o.status.is_success());
        let differences = output.map_or(0, |o| o.total - o.waived);
        let cause = stage
            .after
            .iter()
            .filter_map(|&dep| {
                let upstream = stages.get(dep)?;
                match upstream.status {
                    StageStatus::Diverged => Some((dep, upstream.name.clone())),
                    StageStatus::Blocked => upstream.blocked_by.clone().map(|by| {
                        let at = config.stages.iter().position(|s| s.name == by);
                        (at.unwrap_or(dep), by)
                    }),
                    StageStatus::Agree | StageStatus::Missing => None,
                }
            })
            .min_by_key(|(at, _)| *at)
            .map(|(_, by)| by);
        let (status, blocked_by) = match (present.get(index).copied().unwrap_or(false), differs) {
            (false, _) => (StageStatus::Missing, None),
            (true, false) => (StageStatus::Agree, None),
            (true, true) => match cause {
                Some(by) => (StageStatus::Blocked, Some(by)),
                None => (StageStatus::Diverged, None),
            },
        };
        stages.push(StageOutcome {
            name: stage.name.clone(),
            status,
            blocked_by,
            differences,
        });
    }
    let first = stages
        .iter()
        .find(|s| s.status == StageStatus::Diverged)
        .map(|s| s.name.clone());
    for output in outputs.iter_mut().filter(|o| !o.status.is_success()) {
        output.blocked_by = match output.output.strip_prefix(STAGE_PREFIX) {
            Some(stage) => stages
                .iter()
                .find(|s| s.name == stage)
                .and_then(|s| s.blocked_by.clone()),
            // The exit status is a side's own; a crash is never a consequence of a stage.
            None if output.output == "exit" => None,
            None => first.clone(),
        };
    }
    Stages {
        stages,
        first_divergence: Some(first),
    }
}

//! Turning judged cases into [`RunResults`]: outcomes in case order, cases not run, and the
//! usage of every rule and waiver over the run.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};

use super::judge::Judged;
use super::plan::Plan;
use super::provenance::SuiteVersions;
use crate::diff::RuleUse;
use crate::fixture::{Case, Selection};
use crate::outcome::{
    ConfigInfo, Environment, FORMAT_VERSION, Measurement, NotRun, RuleUsage, RunResults,
    SelectionInfo, SuiteSides, ToolInfo, WaiverUsage,
};

/// When the run happened and how it measured, for the results.
pub struct RunInfo {
    pub started_at: String,
    pub floor: Option<u64>,
    pub interrupted: bool,
    /// Rule and waiver usage of cases judged by an earlier run this one resumes.
    pub carried_rules: BTreeMap<usize, RuleUse>,
    pub carried_waivers: BTreeMap<usize, u64>,
}

/// A side's command as configured, one line.
fn command(spec: &crate::config::SideSpec) -> String {
    let argv: Vec<&str> = spec.cmd.iter().map(|t| t.raw()).collect();
    argv.join(" ")
}

/// The suites a run covers: those of its cases, in order (the selection's when it has none).
pub fn suites_covered(cases: &[Case], selection: &Selection) -> Vec<String> {
    let mut suites: Vec<String> = cases.iter().map(|c| c.fixture.suite.clone()).collect();
    suites.dedup();
    if suites.is_empty() {
        suites.clone_from(&selection.suites);
    }
    suites
}

pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The results of `plan`'s run from each case's judgement (`None`: not run), in case order;
/// summarised (clusters, totals, exit code) once the performance gate is added.
pub fn assemble(plan: &Plan, outcomes: Vec<Option<Judged>>, info: RunInfo) -> RunResults {
    let (config, cases) = (&plan.config, &plan.cases);
    let mut rule_hits = info.carried_rules;
    let mut waiver_hits = info.carried_waivers;
    let mut finished = Vec::new();
    let mut not_run = Vec::new();
    for (case, outcome) in cases.iter().zip(outcomes) {
        match outcome {
            Some(f) => {
                for (id, n) in f.rule_hits {
                    *rule_hits.entry(id).or_default() += n;
                }
                for (id, n) in f.waiver_hits {
                    *waiver_hits.entry(id).or_default() += n;
                }
                finished.push(f.outcome);
            }
            None => not_run.push(NotRun { id: case.id() }),
        }
    }
    let exercised = crate::outcome::Exercised::of(&finished);
    // Only the whole configured run can show that a rule is not needed: a selection of it
    // (or an interrupted run) merely did not exercise it.
    let whole_run = plan.whole_run() && not_run.is_empty() && !info.interrupted;
    let rules = config
        .rules
        .iter()
        .map(|r| {
            let used = rule_hits.get(&r.id).copied().unwrap_or_default();
            let unused = used == RuleUse::default() && !r.expired;
            let (stale, not_exercised) = exercised.judge(unused, whole_run, r.compare);
            RuleUsage {
                id: r.id,
                compare: r.compare,
                output: r.output.clone(),
                kind: r.kind.as_str().to_owned(),
                path: r.path.clone(),
                detail: r.detail.clone(),
                reason: r.reason.clone(),
                owner: r.owner.clone(),
                expires: r.expires.clone(),
                applied: used.applied,
                judged: used.judged,
                stale,
                not_exercised,
                expired: r.expired,
            }
        })
        .collect();
    let waivers = config
        .waivers
        .iter()
        .map(|w| WaiverUsage {
            index: w.index,
            path: w.path.as_ref().map(ToString::to_string),
            output: w.output.as_ref().map(|(text, _)| text.clone()),
            fixture: w.fixture.as_ref().map(|(text, _)| text.clone()),
            value: w.value.as_ref().map(|r| r.as_str().to_owned()),
            reason: w.reason.clone(),
            owner: w.owner.clone(),
            expires: w.expires.map(|d| d.to_string()),
            expired: w.is_expired(plan.today),
            applied: waiver_hits.get(&w.index).copied().unwrap_or(0),
        })
        .collect();
    let suites = suites_covered(cases, &plan.selection);
    let versions_of = |suite: &str| plan.versions.get(suite);
    let sides = suites
        .iter()
        .filter_map(|name| config.suite(name))
        .map(|suite| SuiteSides {
            suite: suite.name.clone(),
            legacy: match suite.legacy.spec() {
                Some(spec) => command(spec),
                None => suite.legacy.why_not().unwrap_or_default().to_owned(),
            },
            own_legacy: suite.own_legacy,
            candidate: command(&suite.candidate),
            own_candidate: suite.own_candidate,
            legacy_version: versions_of(&suite.name)
                .and_then(|v| SuiteVersions::recorded(v.legacy.as_ref())),
            candidate_version: versions_of(&suite.name)
                .and_then(|v| SuiteVersions::recorded(v.candidate.as_ref())),
        })
        .collect();
    RunResults {
        format_version: FORMAT_VERSION,
        tool: ToolInfo::default(),
        started_at: info.started_at,
        finished_at: now(),
        interrupted: info.interrupted,
        config: ConfigInfo {
            path: config.path.to_string_lossy().into_owned(),
            relative: Some(plan.origin.config_relative.clone()),
            hash: config.hash.clone(),
            source: config.source.clone(),
        },
        environment: Environment::capture(),
        measurement: Measurement {
            helper_floor_kib: info.floor,
            parity_peak_rss_kib: crate::outcome::own_peak_rss_kib(),
        },
        selection: SelectionInfo {
            suites,
            fixtures: plan.selection.fixtures.clone(),
            variants: plan.selection.variants.clone(),
            jobs: plan.launch.jobs,
            narrowed: plan.narrowed(),
            skipped: plan.skipped.clone(),
        },
        shard: plan.shard,
        merged: None,
        provenance: Some(plan.origin.provenance.clone()),
        sides,
        cases: finished,
        not_run,
        rules,
        waivers,
        clusters: Vec::new(),
        bench: None,
        summary: Default::default(),
    }
}

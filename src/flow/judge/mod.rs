//! Judging one case from what ran, without touching anything: the candidate against the
//! legacy's run, against the legacy's golden, or both (then the legacy against its golden too,
//! to catch drift or a rotten golden). [`Judge::judge`] takes the case, its runs and its golden
//! as read, and returns the outcome with the [`Effect`]s it calls for (a pending golden update,
//! removing outputs), which the orchestrator applies ([`super::effects`]). Deciding never writes,
//! as insta's `snapshot_update_behavior()` decides and its callers act.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

mod golden;

use super::plan::Against;
use crate::compare::{CaseComparison, compare_case};
use crate::config::Config;
use crate::diff::RuleUse;
use crate::fixture::Case;
use crate::golden::{Golden, GoldenStore, Provenance};
use crate::outcome::{
    CaseOutcome, GoldenCheck, OutputComparison, Reference, Stages, StepOutcome, Verdict,
};
use crate::runner::{CaseRuns, RunStatus, Side, SideResult, SideRun, StepRuns};

/// A case's golden as the orchestrator read it, for the judge.
#[derive(Debug)]
pub enum GoldenView {
    /// The run does not compare with goldens.
    NotUsed,
    /// No golden is recorded for the case.
    Missing,
    /// The golden could not be read: why.
    Unreadable(String),
    /// The golden, and whether the fixture's inputs changed since it was recorded.
    Found { golden: Box<Golden>, stale: bool },
}

impl GoldenView {
    /// Reads the golden of `case` (or of its `step`) from `store` when `against` uses goldens.
    /// A step's golden goes stale with any of the scenario's inputs: every step after the
    /// first depends on the ones before it.
    pub fn read(store: &GoldenStore, case: &Case, step: Option<&str>, against: Against) -> Self {
        if against == Against::Legacy {
            return GoldenView::NotUsed;
        }
        match store.load(case, step) {
            Ok(Some(golden)) => {
                let stale = golden.is_stale(&case.fixture.path);
                GoldenView::Found {
                    golden: Box::new(golden),
                    stale,
                }
            }
            Ok(None) => GoldenView::Missing,
            Err(e) => GoldenView::Unreadable(e.detail()),
        }
    }
}

/// Something judging calls for, applied by the orchestrator after the judge has decided.
#[derive(Debug)]
pub enum Effect {
    /// Write `run` as a pending update of the golden in `dir` (`<golden>.new`), for review.
    WritePending {
        dir: PathBuf,
        run: Box<SideResult>,
        provenance: Box<Provenance>,
    },
    /// Remove the outputs in `dir`: the case passed and nobody asked to keep them.
    RemoveOutputs { dir: PathBuf },
}

/// Everything judging needs besides the case.
pub struct Judge<'a> {
    pub config: &'a Config,
    pub store: &'a GoldenStore,
    pub against: Against,
    pub report_dir: &'a Path,
    pub keep_all: bool,
    pub today: NaiveDate,
    /// Pending golden updates are called for (false in CI).
    pub write_pending: bool,
    /// Each suite's legacy version, for the provenance of pending updates from the legacy.
    pub legacy_versions: &'a BTreeMap<String, String>,
}

/// A judged case: its outcome, the rule and waiver usage it contributed, and what must be done.
#[derive(Debug)]
pub struct Judged {
    pub outcome: CaseOutcome,
    pub rule_hits: BTreeMap<usize, RuleUse>,
    pub waiver_hits: BTreeMap<usize, u64>,
    pub effects: Vec<Effect>,
}

impl Judged {
    /// A case judged by an earlier run, kept as it was (nothing left to do).
    pub fn kept(outcome: CaseOutcome) -> Judged {
        Judged {
            outcome,
            rule_hits: BTreeMap::new(),
            waiver_hits: BTreeMap::new(),
            effects: Vec::new(),
        }
    }

    fn absorb(&mut self, comparison: &CaseComparison) {
        for (id, n) in &comparison.rule_hits {
            *self.rule_hits.entry(*id).or_default() += *n;
        }
        for (id, n) in &comparison.waiver_hits {
            *self.waiver_hits.entry(*id).or_default() += n;
        }
    }
}

/// One step (or a whole case without steps) judged.
#[derive(Debug, Default)]
struct StepJudgement {
    verdict: Option<Verdict>,
    against: Vec<Reference>,
    legacy: Option<SideRun>,
    candidate: Option<SideRun>,
    outputs: Vec<OutputComparison>,
    golden: Option<GoldenCheck>,
    notes: Vec<String>,
    stages: Stages,
}

impl StepJudgement {
    fn verdict(&self) -> &Verdict {
        self.verdict.as_ref().unwrap_or(&Verdict::Identical)
    }

    fn set(&mut self, verdict: Verdict) {
        self.verdict = Some(verdict);
    }
}

impl Judge<'_> {
    /// Judges one case. `runs` holds what the pass ran: both sides, or only the candidate when
    /// comparing against goldens; for a scenario, the steps that ran. `goldens` are the case's
    /// goldens as read: one, or one per step of the scenario.
    pub fn judge(&self, case: &Case, runs: CaseRuns, goldens: Vec<GoldenView>) -> Judged {
        let mut judged = Judged {
            outcome: CaseOutcome {
                id: case.id(),
                verdict: Verdict::Identical,
                inputs: crate::golden::hash_inputs(&case.fixture.path).ok(),
                against: Vec::new(),
                legacy: None,
                candidate: SideRun::unmeasured(Vec::new(), String::new(), RunStatus::Interrupted),
                outputs: Vec::new(),
                golden: None,
                kept_outputs: None,
                notes: Vec::new(),
                bench: None,
                steps: Vec::new(),
                stages: Stages::default(),
            },
            rule_hits: BTreeMap::new(),
            waiver_hits: BTreeMap::new(),
            effects: Vec::new(),
        };
        let CaseRuns { dir, steps } = runs;
        let mut goldens = goldens.into_iter();
        let mut judgements = Vec::new();
        for step in steps {
            let golden = goldens.next().unwrap_or(GoldenView::NotUsed);
            judgements.push((
                step.step.clone(),
                self.judge_step(case, step, golden, &dir, &mut judged),
            ));
        }
        if case.steps.is_empty() {
            let (_, step) = judgements.pop().unwrap_or_default();
            let outcome = &mut judged.outcome;
            outcome.verdict = step.verdict().clone();
            outcome.against = step.against;
            outcome.legacy = step.legacy;
            outcome.candidate = step
                .candidate
                .unwrap_or_else(|| missing_run(&dir, "candidate").run);
            outcome.outputs = step.outputs;
            outcome.golden = step.golden;
            outcome.notes = step.notes;
            outcome.stages = step.stages;
        } else {
            self.scenario(case, judgements, &mut judged.outcome);
        }
        self.keep_or_remove(dir, &mut judged);
        judged
    }

    /// A scenario's outcome from its steps' judgements: every step in order (those that did not
    /// run are blocked by the step where a side failed), the worst verdict, the runs summed.
    fn scenario(
        &self,
        case: &Case,
        judgements: Vec<(Option<String>, StepJudgement)>,
        outcome: &mut CaseOutcome,
    ) {
        let ran = judgements.len();
        let last = judgements.last().and_then(|(name, _)| name.clone());
        for (name, step) in judgements {
            for reference in &step.against {
                if !outcome.against.contains(reference) {
                    outcome.against.push(*reference);
                }
            }
            outcome.steps.push(StepOutcome {
                step: name.unwrap_or_default(),
                verdict: step.verdict,
                blocked_by: None,
                legacy: step.legacy,
                candidate: step.candidate,
                outputs: step.outputs,
                golden: step.golden,
                notes: step.notes,
                bench: None,
                stages: step.stages,
            });
        }
        for step in case.steps.iter().skip(ran) {
            outcome.steps.push(StepOutcome {
                step: step.name.clone(),
                verdict: None,
                blocked_by: last.clone(),
                legacy: None,
                candidate: None,
                outputs: Vec::new(),
                golden: None,
                notes: Vec::new(),
                bench: None,
                stages: Stages::default(),
            });
        }
        outcome.verdict = Verdict::worst(outcome.steps.iter().filter_map(|s| s.verdict.as_ref()));
        let runs = |side: fn(&StepOutcome) -> Option<&SideRun>| {
            let runs: Vec<&SideRun> = outcome.steps.iter().filter_map(side).collect();
            (!runs.is_empty()).then(|| SideRun::total(&runs))
        };
        outcome.legacy = runs(|s| s.legacy.as_ref());
        outcome.candidate = runs(|s| s.candidate.as_ref()).unwrap_or_else(|| {
            SideRun::unmeasured(
                Vec::new(),
                String::new(),
                RunStatus::SpawnFailed {
                    message: "the candidate was not run".to_owned(),
                },
            )
        });
        if ran < case.steps.len() {
            outcome.notes.push(format!(
                "a side failed at step {}: {} later {} not run",
                last.as_deref().unwrap_or("?"),
                case.steps.len() - ran,
                if case.steps.len() - ran == 1 {
                    "step was"
                } else {
                    "steps were"
                }
            ));
        }
    }

    /// Judges one step's runs (or a case's, without steps).
    fn judge_step(
        &self,
        case: &Case,
        runs: StepRuns,
        golden: GoldenView,
        dir: &Path,
        judged: &mut Judged,
    ) -> StepJudgement {
        let StepRuns {
            step,
            legacy,
            candidate,
        } = runs;
        let candidate = candidate.unwrap_or_else(|| missing_run(dir, "candidate"));
        let mut judgement = StepJudgement {
            candidate: Some(candidate.run.clone()),
            ..StepJudgement::default()
        };
        if let Some(legacy) = &legacy {
            let comparison = self.compare(case, ("legacy", legacy), ("candidate", &candidate));
            judged.absorb(&comparison);
            judgement.set(decide(
                &legacy.run.status,
                &candidate.run.status,
                &comparison,
            ));
            judgement.against.push(Reference::Legacy);
            judgement.legacy = Some(legacy.run.clone());
            judgement.outputs = comparison.outputs;
            judgement.notes.extend(comparison.notes);
            judgement.stages = comparison.stages;
        }
        let at = At {
            case,
            step: step.as_deref(),
        };
        self.check_golden(
            at,
            legacy.as_ref(),
            &candidate,
            golden,
            &mut judgement,
            judged,
        );
        judgement
    }

    fn compare(
        &self,
        case: &Case,
        left: (&str, &SideResult),
        right: (&str, &SideResult),
    ) -> CaseComparison {
        compare_case(self.config, &case.fixture.id, left, right, self.today)
    }

    /// A failing case keeps its outputs (all cases with `--keep-outputs`); others are removed.
    fn keep_or_remove(&self, dir: PathBuf, judged: &mut Judged) {
        if self.keep_all || !judged.outcome.verdict.is_success() {
            judged.outcome.kept_outputs = Some(
                dir.strip_prefix(self.report_dir)
                    .unwrap_or(&dir)
                    .to_string_lossy()
                    .into_owned(),
            );
        } else {
            judged.effects.push(Effect::RemoveOutputs { dir });
        }
    }
}

/// Which case, and which of its steps.
#[derive(Debug, Clone, Copy)]
struct At<'a> {
    case: &'a Case,
    step: Option<&'a str>,
}

/// The verdict of one comparison: from how both sides ended and what was compared, unless
/// parity itself failed while comparing (then `error`: never blamed on the programs).
pub fn decide(
    reference: &RunStatus,
    candidate: &RunStatus,
    comparison: &CaseComparison,
) -> Verdict {
    match comparison.trouble.first() {
        Some(trouble) => Verdict::Error {
            message: format!("parity failed while comparing the outputs: {trouble}"),
        },
        None => Verdict::decide(reference, candidate, &comparison.outputs),
    }
}

/// A side that did not run: what judging sees when a pass was cut short for it.
fn missing_run(dir: &Path, side: &str) -> SideResult {
    SideResult {
        side: Side::Candidate,
        run: SideRun::unmeasured(
            Vec::new(),
            String::new(),
            RunStatus::SpawnFailed {
                message: format!("the {side} was not run"),
            },
        ),
        artifacts: crate::runner::Artifacts::in_dir(&dir.join(side)),
        conversions: Vec::new(),
    }
}

//! The golden's part of judging a step: the candidate (and the legacy, when it ran) compared
//! with the step's golden, what that changes in the verdict, and the pending update it calls
//! for when the golden is out of date.

use super::{At, Effect, GoldenView, Judge, Judged, StepJudgement, decide};
use crate::compare::CaseComparison;
use crate::golden::{Golden, Provenance};
use crate::outcome::{GoldenCheck, Reference, Verdict};
use crate::runner::SideResult;

impl Judge<'_> {
    /// Compares with the golden: the candidate (and the legacy, when it ran) against it.
    pub(super) fn check_golden(
        &self,
        at: At<'_>,
        legacy: Option<&SideResult>,
        candidate: &SideResult,
        view: GoldenView,
        judgement: &mut StepJudgement,
        judged: &mut Judged,
    ) {
        let (golden, stale) = match view {
            GoldenView::NotUsed => return,
            GoldenView::Found { golden, stale } => (golden, stale),
            GoldenView::Missing | GoldenView::Unreadable(_) => {
                let why = match view {
                    GoldenView::Unreadable(why) => format!("golden unreadable: {why}"),
                    _ => "no golden is recorded for this case".to_owned(),
                };
                let note = if legacy.is_none() {
                    judgement.set(Verdict::GoldenMissing);
                    format!("{why}; record it with `parity golden record`")
                } else {
                    format!("{why}; compared with the legacy only")
                };
                judgement.notes.push(note);
                return;
            }
        };
        judgement.against.push(Reference::Golden);
        let path = golden
            .dir
            .strip_prefix(&self.config.base_dir)
            .unwrap_or(&golden.dir)
            .to_string_lossy()
            .into_owned();
        let mut check = GoldenCheck {
            path,
            provenance: golden.provenance.clone(),
            stale,
            candidate: Vec::new(),
            legacy: Vec::new(),
            pending: None,
        };
        let reference = golden.as_side();
        if stale {
            if judgement.verdict().is_success() || legacy.is_none() {
                judgement.set(Verdict::GoldenStale);
            }
            judgement.notes.push("the fixture's inputs changed since its golden was recorded; the golden was not used (re-record it)".to_owned());
            judgement.golden = Some(check);
            return;
        }
        let case = at.case;
        let against_golden = self.compare(case, ("golden", &reference), ("candidate", candidate));
        if let Some(note) = ignored_in_golden(&against_golden) {
            judgement.notes.push(note);
        }
        let candidate_verdict = decide(
            &reference.run.status,
            &candidate.run.status,
            &against_golden,
        );
        let candidate_agrees = candidate_verdict.is_success();
        match legacy {
            None => {
                // Goldens only: the golden is the reference, its comparison the step's outputs
                // (and what rule and waiver usage counts).
                judged.absorb(&against_golden);
                judgement.set(candidate_verdict);
                judgement.outputs = against_golden.outputs;
                judgement.notes.extend(against_golden.notes);
                judgement.stages = against_golden.stages;
                if !candidate_agrees {
                    self.pending(at, &golden, candidate, "candidate", judged);
                }
            }
            Some(legacy) => {
                // Both: the legacy's run stays the reference (usage counts come from it); the
                // golden comparisons are kept where they add evidence: the legacy's drift, and
                // the candidate's disagreement when it agrees with the legacy.
                let drift = self.compare(case, ("golden", &reference), ("legacy", legacy));
                let legacy_agrees =
                    decide(&reference.run.status, &legacy.run.status, &drift).is_success();
                if !legacy_agrees {
                    check.legacy = drift.outputs;
                }
                if !candidate_agrees && judgement.verdict().is_success() {
                    check.candidate = against_golden.outputs;
                }
                if judgement.verdict().is_success() && !(legacy_agrees && candidate_agrees) {
                    judgement.set(Verdict::GoldenMismatch {
                        legacy: !legacy_agrees,
                        candidate: !candidate_agrees,
                    });
                }
                if !legacy_agrees {
                    self.pending(at, &golden, legacy, "legacy", judged);
                }
            }
        }
        judgement.golden = Some(check);
    }

    /// Calls for what `run` produced to be written as a pending update of `golden`, unless in
    /// CI.
    fn pending(
        &self,
        at: At<'_>,
        golden: &Golden,
        run: &SideResult,
        source: &str,
        judged: &mut Judged,
    ) {
        if !self.write_pending {
            return;
        }
        let version = if source == "legacy" {
            self.legacy_versions.get(&at.case.fixture.suite).cloned()
        } else {
            golden.provenance.version.clone()
        };
        // Pending changes are written only for goldens that are not stale: the inputs' hash is
        // the golden's own.
        let provenance = Provenance::of(
            self.config,
            at.case,
            at.step,
            run,
            source,
            version,
            golden.provenance.inputs.clone(),
        );
        judged.effects.push(Effect::WritePending {
            dir: self.store.pending_dir(at.case, at.step),
            run: Box::new(run.clone()),
            provenance: Box::new(provenance),
        });
    }
}

/// A note when the golden holds `"<ignored>"` where a value is now compared: it was recorded
/// under an `ignore` rule that no longer applies, and must be recorded again.
fn ignored_in_golden(comparison: &CaseComparison) -> Option<String> {
    let placeholder = serde_json::Value::from(crate::golden::normalize::IGNORED);
    let (output, difference) = comparison.outputs.iter().find_map(|o| {
        o.differences
            .iter()
            .find(|d| d.left.as_ref() == Some(&placeholder))
            .map(|d| (o, d))
    })?;
    Some(format!(
        "the golden stores `{}` {} as ignored: it was recorded under an ignore rule that no longer applies; record it again (parity golden record)",
        output.output, difference.path
    ))
}

//! Judging one case from what ran: the candidate against the legacy's run, against the legacy's
//! golden, or both (then the legacy against its golden too, to catch drift or a rotten golden).
//! The main entry is [`judge`]; it also writes a pending golden update when a run finds the
//! golden out of date, never when `CI` is set.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{NaiveDate, SecondsFormat, Utc};

use crate::compare::{CaseComparison, compare_case};
use crate::config::Config;
use crate::diff::RuleUse;
use crate::fixture::Case;
use crate::golden::{Golden, GoldenStore, Provenance, provenance::PROVENANCE_VERSION};
use crate::outcome::{CaseOutcome, GoldenCheck, Reference, Verdict};
use crate::runner::{CaseRuns, RunStatus, SideResult, SideRun};

/// What the candidate is compared against in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Against {
    Legacy,
    Golden,
    Both,
}

impl Against {
    /// The default: goldens only when there is no legacy to run (absent or retired), both when
    /// goldens exist, else the legacy.
    pub fn default_for(config: &Config, store: &GoldenStore) -> Against {
        match (config.legacy.spec().is_some(), store.has_goldens()) {
            (false, _) => Against::Golden,
            (true, true) => Against::Both,
            (true, false) => Against::Legacy,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Against::Legacy => "legacy",
            Against::Golden => "golden",
            Against::Both => "both",
        }
    }

    pub fn runs_legacy(self) -> bool {
        self != Against::Golden
    }
}

/// True when running in CI (`CI` set to anything but empty, `0` or `false`): nothing under the
/// golden directory is ever written then.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Everything judging needs besides the case.
pub struct Judge<'a> {
    pub config: &'a Config,
    pub store: &'a GoldenStore,
    pub against: Against,
    pub report_dir: &'a Path,
    pub keep_all: bool,
    pub today: NaiveDate,
    /// Write pending golden updates (false in CI).
    pub write_pending: bool,
    /// The legacy's version from `version_cmd`, for provenance.
    pub legacy_version: Option<String>,
}

/// A judged case with the rule and waiver usage it contributed.
pub struct Judged {
    pub outcome: CaseOutcome,
    pub rule_hits: BTreeMap<usize, RuleUse>,
    pub waiver_hits: BTreeMap<usize, u64>,
}

impl Judged {
    fn absorb(&mut self, comparison: &CaseComparison) {
        for (id, n) in &comparison.rule_hits {
            *self.rule_hits.entry(*id).or_default() += *n;
        }
        for (id, n) in &comparison.waiver_hits {
            *self.waiver_hits.entry(*id).or_default() += n;
        }
    }
}

impl Judge<'_> {
    /// Judges one case. `runs` holds what the pass ran: both sides, or only the candidate when
    /// comparing against goldens.
    pub fn judge(&self, case: &Case, runs: CaseRuns) -> Judged {
        let CaseRuns {
            dir,
            legacy,
            candidate,
        } = runs;
        let candidate = candidate.unwrap_or_else(|| missing_run(&dir, "candidate"));
        let mut judged = Judged {
            outcome: CaseOutcome {
                id: case.id(),
                verdict: Verdict::Identical,
                against: Vec::new(),
                legacy: None,
                candidate: candidate.run.clone(),
                outputs: Vec::new(),
                golden: None,
                kept_outputs: None,
                notes: Vec::new(),
                bench: None,
            },
            rule_hits: BTreeMap::new(),
            waiver_hits: BTreeMap::new(),
        };
        if let Some(legacy) = &legacy {
            let comparison = self.compare(case, ("legacy", legacy), ("candidate", &candidate));
            judged.absorb(&comparison);
            let outcome = &mut judged.outcome;
            outcome.verdict = decide(&legacy.run.status, &candidate.run.status, &comparison);
            outcome.against.push(Reference::Legacy);
            outcome.legacy = Some(legacy.run.clone());
            outcome.outputs = comparison.outputs;
            outcome.notes.extend(comparison.notes);
        }
        if self.against != Against::Legacy {
            self.check_golden(case, legacy.as_ref(), &candidate, &mut judged);
        }
        self.keep_or_remove(&dir, &mut judged.outcome);
        judged
    }

    fn compare(
        &self,
        case: &Case,
        left: (&str, &SideResult),
        right: (&str, &SideResult),
    ) -> CaseComparison {
        compare_case(self.config, &case.fixture.id, left, right, self.today)
    }

    /// Compares with the golden: the candidate (and the legacy, when it ran) against it.
    fn check_golden(
        &self,
        case: &Case,
        legacy: Option<&SideResult>,
        candidate: &SideResult,
        judged: &mut Judged,
    ) {
        let golden = match self.store.load(case) {
            Ok(Some(golden)) => golden,
            missing => {
                let why = match missing {
                    Err(e) => format!("golden unreadable: {}", e.detail()),
                    Ok(_) => "no golden is recorded for this case".to_owned(),
                };
                let note = if legacy.is_none() {
                    judged.outcome.verdict = Verdict::GoldenMissing;
                    format!("{why}; record it with `parity golden record`")
                } else {
                    format!("{why}; compared with the legacy only")
                };
                judged.outcome.notes.push(note);
                return;
            }
        };
        judged.outcome.against.push(Reference::Golden);
        let path = golden
            .dir
            .strip_prefix(&self.config.base_dir)
            .unwrap_or(&golden.dir)
            .to_string_lossy()
            .into_owned();
        let mut check = GoldenCheck {
            path,
            provenance: golden.provenance.clone(),
            stale: golden.is_stale(&case.fixture.path),
            candidate: Vec::new(),
            legacy: Vec::new(),
            pending: None,
        };
        let reference = golden.as_side();
        if check.stale {
            if judged.outcome.verdict.is_success() || legacy.is_none() {
                judged.outcome.verdict = Verdict::GoldenStale;
            }
            judged.outcome.notes.push("the fixture's inputs changed since its golden was recorded; the golden was not used (re-record it)".to_owned());
            judged.outcome.golden = Some(check);
            return;
        }
        let against_golden = self.compare(case, ("golden", &reference), ("candidate", candidate));
        if let Some(note) = ignored_in_golden(&against_golden) {
            judged.outcome.notes.push(note);
        }
        let candidate_verdict = decide(
            &reference.run.status,
            &candidate.run.status,
            &against_golden,
        );
        let candidate_agrees = candidate_verdict.is_success();
        match legacy {
            None => {
                // Goldens only: the golden is the reference, its comparison the case's outputs
                // (and what rule and waiver usage counts).
                judged.absorb(&against_golden);
                judged.outcome.verdict = candidate_verdict;
                judged.outcome.outputs = against_golden.outputs;
                judged.outcome.notes.extend(against_golden.notes);
                if !candidate_agrees {
                    check.pending = self.write_pending(
                        case,
                        &golden,
                        candidate,
                        "candidate",
                        &mut judged.outcome.notes,
                    );
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
                if !candidate_agrees && judged.outcome.verdict.is_success() {
                    check.candidate = against_golden.outputs;
                }
                if judged.outcome.verdict.is_success() && !(legacy_agrees && candidate_agrees) {
                    judged.outcome.verdict = Verdict::GoldenMismatch {
                        legacy: !legacy_agrees,
                        candidate: !candidate_agrees,
                    };
                }
                if !legacy_agrees {
                    check.pending = self.write_pending(
                        case,
                        &golden,
                        legacy,
                        "legacy",
                        &mut judged.outcome.notes,
                    );
                }
            }
        }
        judged.outcome.golden = Some(check);
    }

    /// Writes what `run` produced as a pending update of `golden`, unless in CI.
    fn write_pending(
        &self,
        case: &Case,
        golden: &Golden,
        run: &SideResult,
        source: &str,
        notes: &mut Vec<String>,
    ) -> Option<String> {
        if !self.write_pending {
            return None;
        }
        let target = self.store.pending_dir(case);
        let version = if source == "legacy" {
            self.legacy_version.clone()
        } else {
            golden.provenance.version.clone()
        };
        // Pending changes are written only for goldens that are not stale: the inputs' hash is
        // the golden's own.
        let p = provenance(
            self.config,
            case,
            run,
            source,
            version,
            golden.provenance.inputs.clone(),
        );
        let written = self
            .store
            .write(self.config, &target, run, p)
            .map_err(|e| e.to_string());
        match written {
            Ok(()) => Some(
                target
                    .strip_prefix(&self.config.base_dir)
                    .unwrap_or(&target)
                    .to_string_lossy()
                    .into_owned(),
            ),
            Err(e) => {
                notes.push(format!("could not write the pending golden update: {e}"));
                None
            }
        }
    }

    /// A failing case keeps its outputs (all cases with `--keep-outputs`); others remove them.
    fn keep_or_remove(&self, dir: &Path, outcome: &mut CaseOutcome) {
        if self.keep_all || !outcome.verdict.is_success() {
            outcome.kept_outputs = Some(
                dir.strip_prefix(self.report_dir)
                    .unwrap_or(dir)
                    .to_string_lossy()
                    .into_owned(),
            );
        } else if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(dir)
        {
            outcome.notes.push(format!(
                "could not remove outputs in {}: {e}",
                dir.display()
            ));
        }
    }
}

/// The verdict of one comparison: from how both sides ended and what was compared, unless
/// parity itself failed while comparing (then `error`: never blamed on the programs).
fn decide(reference: &RunStatus, candidate: &RunStatus, comparison: &CaseComparison) -> Verdict {
    match comparison.trouble.first() {
        Some(trouble) => Verdict::Error {
            message: format!("parity failed while comparing the outputs: {trouble}"),
        },
        None => Verdict::decide(reference, candidate, &comparison.outputs),
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

/// The provenance of a golden made from `run` of `case`. Its command line names the output
/// directory `{out}` and paths under the configuration's directory relatively, so recording
/// again elsewhere or later gives the same provenance.
/// The provenance of `run` of `case`, whose fixture inputs hash to `inputs`.
pub fn provenance(
    config: &Config,
    case: &Case,
    run: &SideResult,
    source: &str,
    version: Option<String>,
    inputs: String,
) -> Provenance {
    let out_dir = run.artifacts.out_dir.to_string_lossy().into_owned();
    let mut base = config.base_dir.to_string_lossy().into_owned();
    base.push('/');
    let argv = run
        .run
        .argv
        .iter()
        .map(|arg| arg.replace(&out_dir, "{out}").replace(&base, ""))
        .collect();
    Provenance {
        format_version: PROVENANCE_VERSION,
        suite: case.fixture.suite.clone(),
        fixture: case.fixture.id.clone(),
        variant: case.variant_name().map(str::to_owned),
        source: source.to_owned(),
        argv,
        version,
        status: run.run.status.clone(),
        inputs,
        outputs: Vec::new(),
        content: String::new(),
        parity_version: env!("CARGO_PKG_VERSION").to_owned(),
        config_hash: config.hash.clone(),
        recorded_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// The output of `[legacy] version_cmd`, run in the configuration's directory.
pub fn legacy_version(config: &Config) -> Result<Option<String>, String> {
    let crate::config::Legacy::Runs {
        version_cmd: Some(cmd),
        ..
    } = &config.legacy
    else {
        return Ok(None);
    };
    let (program, args) = cmd.split_first().ok_or("`version_cmd` is empty")?;
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(&config.base_dir)
        .output()
        .map_err(|e| format!("cannot run `version_cmd` ({program}): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`version_cmd` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(Some(
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    ))
}

/// A side that did not run: what judging sees when a pass was cut short for it.
fn missing_run(dir: &Path, side: &str) -> SideResult {
    SideResult {
        run: SideRun::unmeasured(
            Vec::new(),
            String::new(),
            crate::runner::RunStatus::SpawnFailed {
                message: format!("the {side} was not run"),
            },
        ),
        artifacts: crate::runner::Artifacts::in_dir(&dir.join(side)),
    }
}

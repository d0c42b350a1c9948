//! One case run once, on an input of the caller's choosing, against the legacy's run: what
//! `parity minimize` does for every smaller input it tries. The runner runs both sides as a
//! `parity run` would ([`runner::run_cases`]: the case's own sides, variant, steps and
//! `{state}`), and [`Judge`] decides, without goldens (they were recorded for the original
//! fixture only). Nothing is written but the runs' outputs in the caller's work directory,
//! which the caller removes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use super::judge::{GoldenView, Judge};
use super::plan::Against;
use crate::config::Config;
use crate::fixture::{self, Case, SelectionError};
use crate::golden::GoldenStore;
use crate::outcome::CaseOutcome;
use crate::runner::{self, Cancel, Launch, Sides, SidesOf};

/// What every run of a case on another input shares.
#[derive(Debug, Clone)]
pub struct Single {
    pub config: Arc<Config>,
    /// The parity binary, started as the measuring helper of every side.
    pub exe: PathBuf,
    /// Rules and waivers past this date no longer apply.
    pub today: NaiveDate,
    pub cancel: Cancel,
}

impl Single {
    /// Runs `case` with `fixture` as its input (laid out like the case's own fixture; a
    /// scenario's steps are found in it again), its runs in `work_dir`, and judges it against
    /// the legacy's run. `None` when the run was interrupted.
    pub fn run_case(
        &self,
        runtime: &tokio::runtime::Handle,
        case: &Case,
        fixture: &Path,
        work_dir: &Path,
    ) -> Result<Option<CaseOutcome>, SelectionError> {
        let mut case = case.clone();
        case.fixture.path = fixture.to_owned();
        if let Some(pattern) = self
            .config
            .suite(&case.fixture.suite)
            .and_then(|s| s.steps.as_ref())
        {
            case.steps = fixture::steps_of(&case.fixture, pattern)?;
        }
        let launch = Arc::new(Launch {
            config: Arc::clone(&self.config),
            exe: self.exe.clone(),
            work_dir: work_dir.to_owned(),
            jobs: 1,
            running: Default::default(),
        });
        let sides: SidesOf = Arc::new(|_: &Case| Sides::Both);
        let runs = runtime.block_on(async {
            runner::run_cases(launch, vec![case.clone()], sides, self.cancel.clone())
                .await
                .recv()
                .await
        });
        let Some((_, runs)) = runs else {
            return Ok(None);
        };
        let goldens = (0..case.steps.len().max(1))
            .map(|_| GoldenView::NotUsed)
            .collect();
        let judged = Judge {
            config: &self.config,
            store: &GoldenStore::new(&self.config.golden_dir),
            against: Against::Legacy,
            report_dir: work_dir,
            keep_all: true,
            today: self.today,
            write_pending: false,
            legacy_versions: &BTreeMap::new(),
        }
        .judge(&case, runs, goldens);
        Ok(Some(judged.outcome))
    }
}

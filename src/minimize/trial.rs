//! One try of a smaller input: the fixture written with only the records kept, in a fresh
//! directory of the temporary work directory, the case run on it and judged
//! ([`crate::flow::single`]), the directory removed.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;

use super::MinimizeError;
use super::input::{Input, Unit};
use crate::fixture::Case;
use crate::flow::single::Single;
use crate::outcome::CaseOutcome;

/// How a try went.
#[derive(Debug)]
pub enum Tried {
    /// The case ran to a verdict.
    Ran(Box<CaseOutcome>),
    /// Ctrl-C (or SIGTERM, SIGHUP) stopped it.
    Interrupted,
    /// parity could not write or run it; why is kept for [`Trial::take_trouble`].
    Trouble,
}

/// One try of a smaller input: written to a fresh directory, run, judged, removed.
pub struct Trial<'a> {
    single: Single,
    runtime: tokio::runtime::Handle,
    case: &'a Case,
    input: &'a Input,
    work: &'a Path,
    /// The fixture's file name, kept for every try.
    name: std::ffi::OsString,
    next: AtomicUsize,
    /// The first harness failure (a try that could not be written or run), which stops the
    /// search.
    trouble: Mutex<Option<anyhow::Error>>,
}

impl<'a> Trial<'a> {
    pub fn new(
        single: Single,
        runtime: tokio::runtime::Handle,
        case: &'a Case,
        input: &'a Input,
        work: &'a Path,
    ) -> Self {
        let name = case
            .fixture
            .path
            .file_name()
            .map_or_else(|| "fixture".into(), ToOwned::to_owned);
        Trial {
            single,
            runtime,
            case,
            input,
            work,
            name,
            next: AtomicUsize::new(0),
            trouble: Mutex::new(None),
        }
    }

    /// The first harness failure, if any try had one.
    pub fn trouble(&self) -> Option<anyhow::Error> {
        self.trouble.lock().ok().and_then(|mut t| t.take())
    }

    /// The case run on the fixture with only `kept`.
    pub fn run(&self, kept: &[Unit]) -> Tried {
        let dir = self
            .work
            .join(self.next.fetch_add(1, Ordering::Relaxed).to_string());
        let result = self.try_in(&dir, kept);
        let _ = std::fs::remove_dir_all(&dir);
        match result {
            Ok(Some(outcome)) => Tried::Ran(Box::new(outcome)),
            Ok(None) => Tried::Interrupted,
            Err(e) => {
                if let Ok(mut slot) = self.trouble.lock() {
                    slot.get_or_insert(e);
                }
                Tried::Trouble
            }
        }
    }

    fn try_in(&self, dir: &Path, kept: &[Unit]) -> anyhow::Result<Option<CaseOutcome>> {
        let parent = dir.join("input");
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let fixture = parent.join(&self.name);
        self.input.write(kept, &fixture)?;
        Ok(self
            .single
            .run_case(&self.runtime, self.case, &fixture, &dir.join("runs"))?)
    }

    /// The first harness failure, or that the run was interrupted.
    pub fn take_trouble(&self) -> anyhow::Error {
        self.trouble()
            .unwrap_or_else(|| MinimizeError::Interrupted.into())
    }
}

//! Finding what to minimise: the configuration results.json names (unchanged since), the case
//! CASE names in it, the case's fixture as the configuration has it now, and a place to write
//! the result that is neither occupied (without `--force`) nor the fixture itself.

use std::path::Path;

use anyhow::Context;

use super::MinimizeError;
use crate::config::{self, Config};
use crate::fixture::{self, Case, Selection};
use crate::outcome::{CaseOutcome, RunResults};

/// The configuration results.json names, unchanged since.
pub fn load_config(results: &RunResults, results_path: &Path) -> anyhow::Result<Config> {
    let recorded = Path::new(&results.config.path);
    let path = match results_path.parent() {
        Some(dir) if recorded.is_relative() => dir.join(recorded),
        _ => recorded.to_owned(),
    };
    let config = config::load(&path).with_context(|| {
        format!(
            "cannot load the configuration {} names",
            results_path.display()
        )
    })?;
    if config.hash != results.config.hash {
        return Err(MinimizeError::ConfigChanged {
            results: results_path.to_owned(),
            config: path,
            recorded: results.config.hash.clone(),
            now: config.hash,
        }
        .into());
    }
    Ok(config)
}

/// The case `asked` names: its label, or a fixture id (`suite/fixture` too) that names one case.
pub fn find_outcome<'r>(
    results: &'r RunResults,
    asked: &str,
    path: &Path,
) -> Result<&'r CaseOutcome, MinimizeError> {
    if let Some(case) = results.cases.iter().find(|c| c.label() == asked) {
        return Ok(case);
    }
    let matches: Vec<&CaseOutcome> = results
        .cases
        .iter()
        .filter(|c| c.id.fixture == asked || format!("{}/{}", c.id.suite, c.id.fixture) == asked)
        .collect();
    let labels = |cases: &mut dyn Iterator<Item = &CaseOutcome>| {
        let labels: Vec<String> = cases.map(|c| format!("`{}`", c.label())).collect();
        if labels.is_empty() {
            "none".to_owned()
        } else {
            labels.join(", ")
        }
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(MinimizeError::UnknownCase {
            asked: asked.to_owned(),
            results: path.to_owned(),
            known: labels(&mut results.cases.iter()),
        }),
        _ => Err(MinimizeError::Ambiguous {
            asked: asked.to_owned(),
            matches: labels(&mut matches.into_iter()),
        }),
    }
}

/// The case of `outcome` as the configuration has it now, with a legacy to run.
pub fn find_case(config: &Config, outcome: &CaseOutcome) -> anyhow::Result<Case> {
    let id = &outcome.id;
    let label = outcome.label();
    if let Some(suite) = config.suite(&id.suite)
        && let Some(why) = suite.legacy.why_not()
    {
        return Err(MinimizeError::NoLegacy {
            case: label,
            suite: id.suite.clone(),
            why,
        }
        .into());
    }
    let selection = Selection {
        suites: vec![id.suite.clone()],
        fixtures: Vec::new(),
        variants: id.variant.iter().cloned().collect(),
    };
    fixture::select(config, &selection)?
        .into_iter()
        .find(|case| &case.id() == id)
        .ok_or_else(|| {
            MinimizeError::FixtureGone {
                case: label,
                suite: id.suite.clone(),
                config: config.path.clone(),
            }
            .into()
        })
}

/// Refuses to write over a non-empty `dest` without `force`, and over the fixture ever.
pub fn check_dest(dest: &Path, fixture: &Path, force: bool) -> Result<(), MinimizeError> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a.starts_with(&b) || b.starts_with(&a),
        _ => false,
    };
    if same(dest, fixture) {
        return Err(MinimizeError::OutIsFixture {
            path: dest.to_owned(),
        });
    }
    let occupied = match std::fs::symlink_metadata(dest) {
        Err(_) => false,
        Ok(meta) if meta.is_dir() => {
            std::fs::read_dir(dest).map_or(true, |mut d| d.next().is_some())
        }
        Ok(_) => true,
    };
    if occupied && !force {
        return Err(MinimizeError::OutExists {
            path: dest.to_owned(),
        });
    }
    Ok(())
}

//! Fixture discovery: which inputs a run covers, with stable ids and a stable order.
//!
//! A fixture's id is its path relative to its suite root, with `/` separators. A directory that
//! matches an `include` pattern ending in `/` is one fixture and is not searched further; a file
//! matches patterns without the slash. Fixtures are sorted by suite, then id.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::config::{Config, EntryPattern, Suite, Variant};

/// One unit of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    pub suite: String,
    pub id: String,
    /// Absolute path.
    pub path: PathBuf,
}

/// What names a case everywhere: in results, reports, run directories and the golden store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CaseId {
    pub suite: String,
    /// The fixture's id: its path relative to the suite root.
    pub fixture: String,
    pub variant: Option<String>,
}

impl CaseId {
    /// `suite/fixture` or `suite/fixture[variant]`: how reports name the case.
    pub fn label(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}[{v}]", self.suite, self.fixture),
            None => format!("{}/{}", self.suite, self.fixture),
        }
    }

    /// `fixture` or `fixture@variant`: the case's directory under its suite's, in run outputs
    /// and in the golden store.
    pub fn dir_name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}@{v}", self.fixture),
            None => self.fixture.clone(),
        }
    }

    /// `root/<suite>/<fixture>[@variant]`.
    pub fn dir_in(&self, root: &Path) -> PathBuf {
        root.join(&self.suite).join(self.dir_name())
    }
}

/// One step of a scenario fixture: an entry inside the fixture directory, run in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its file name (`2-override`).
    pub name: String,
    /// Absolute path: `{fixture}` while it runs.
    pub path: PathBuf,
}

/// One fixture under one variant: the unit a run compares.
#[derive(Debug, Clone)]
pub struct Case {
    pub fixture: Fixture,
    pub variant: Option<Variant>,
    /// A scenario's steps (a suite with `steps`); empty for a fixture run once per side.
    pub steps: Vec<Step>,
}

impl Case {
    pub fn variant_name(&self) -> Option<&str> {
        self.variant.as_ref().map(|v| v.name.as_str())
    }

    pub fn id(&self) -> CaseId {
        CaseId {
            suite: self.fixture.suite.clone(),
            fixture: self.fixture.id.clone(),
            variant: self.variant_name().map(str::to_owned),
        }
    }

    /// `suite/id` or `suite/id[variant]`: how reports name the case.
    pub fn label(&self) -> String {
        self.id().label()
    }
}

/// What the user asked to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Suite names; empty means every suite not marked `default = false`.
    pub suites: Vec<String>,
    /// Globs over fixture ids; empty means all.
    pub fixtures: Vec<String>,
    /// Variant names; empty means all.
    pub variants: Vec<String>,
}

/// Why a selection could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("unknown suite `{name}`; the configuration defines: {known}")]
    UnknownSuite { name: String, known: String },
    #[error("unknown variant `{name}`; the configuration defines: {known}")]
    UnknownVariant { name: String, known: String },
    #[error("invalid --fixture glob `{pattern}`")]
    BadGlob {
        pattern: String,
        #[source]
        source: globset::Error,
    },
    #[error("fixture `{fixture}` of suite `{suite}` has no step: nothing in {} matches `steps = \"{pattern}\"`", path.display())]
    NoSteps {
        suite: String,
        fixture: String,
        path: PathBuf,
        pattern: String,
    },
    #[error("failed to list the steps of fixture `{fixture}` of suite `{suite}` in {}", path.display())]
    ListSteps {
        suite: String,
        fixture: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to list fixtures of suite `{suite}` under {}", root.display())]
    Walk {
        suite: String,
        root: PathBuf,
        #[source]
        source: walkdir::Error,
    },
}

/// Resolves the selection into cases, sorted by suite, fixture id, then variant.
pub fn select(config: &Config, selection: &Selection) -> Result<Vec<Case>, SelectionError> {
    let suites = select_suites(config, &selection.suites)?;
    let variants = select_variants(config, &selection.variants)?;
    let globs: Vec<GlobMatcher> = selection
        .fixtures
        .iter()
        .map(|pattern| {
            Glob::new(pattern)
                .map(|g| g.compile_matcher())
                .map_err(|source| SelectionError::BadGlob {
                    pattern: pattern.clone(),
                    source,
                })
        })
        .collect::<Result<_, _>>()?;
    let mut cases = Vec::new();
    for suite in suites {
        for fixture in discover(suite)? {
            if !globs.is_empty() && !globs.iter().any(|g| g.is_match(&fixture.id)) {
                continue;
            }
            let steps = match &suite.steps {
                Some(pattern) => steps_of(&fixture, pattern)?,
                None => Vec::new(),
            };
            if variants.is_empty() {
                cases.push(Case {
                    fixture,
                    variant: None,
                    steps,
                });
            } else {
                for variant in &variants {
                    cases.push(Case {
                        fixture: fixture.clone(),
                        variant: Some((*variant).clone()),
                        steps: steps.clone(),
                    });
                }
            }
        }
    }
    Ok(cases)
}

fn select_suites<'c>(
    config: &'c Config,
    names: &[String],
) -> Result<Vec<&'c Suite>, SelectionError> {
    if names.is_empty() {
        return Ok(config.suites.iter().filter(|s| s.default).collect());
    }
    let mut chosen: Vec<&Suite> = Vec::new();
    for name in names {
        let suite = config
            .suites
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| SelectionError::UnknownSuite {
                name: name.clone(),
                known: known(config.suites.iter().map(|s| s.name.as_str())),
            })?;
        if !chosen.iter().any(|s| s.name == suite.name) {
            chosen.push(suite);
        }
    }
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(chosen)
}

fn select_variants<'c>(
    config: &'c Config,
    names: &[String],
) -> Result<Vec<&'c Variant>, SelectionError> {
    if names.is_empty() {
        return Ok(config.variants.iter().collect());
    }
    config
        .variants
        .iter()
        .filter(|v| names.contains(&v.name))
        .map(Ok)
        .chain(
            names
                .iter()
                .filter(|n| !config.variants.iter().any(|v| &v.name == *n))
                .map(|n| {
                    Err(SelectionError::UnknownVariant {
                        name: n.clone(),
                        known: known(config.variants.iter().map(|v| v.name.as_str())),
                    })
                }),
        )
        .collect()
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

/// The steps of a scenario fixture: the entries directly inside it that `pattern` matches, in
/// name order (byte order of the names, so `10-x` sorts before `2-y`: number them with leading
/// zeros when there are more than nine).
pub fn steps_of(fixture: &Fixture, pattern: &EntryPattern) -> Result<Vec<Step>, SelectionError> {
    let error = |source| SelectionError::ListSteps {
        suite: fixture.suite.clone(),
        fixture: fixture.id.clone(),
        path: fixture.path.clone(),
        source,
    };
    let mut steps = Vec::new();
    for entry in std::fs::read_dir(&fixture.path).map_err(error)? {
        let entry = entry.map_err(error)?;
        let is_dir = entry.file_type().map_err(error)?.is_dir();
        let name = entry.file_name().to_string_lossy().into_owned();
        if pattern.matches(&name, is_dir) {
            steps.push(Step {
                name,
                path: entry.path(),
            });
        }
    }
    if steps.is_empty() {
        return Err(SelectionError::NoSteps {
            suite: fixture.suite.clone(),
            fixture: fixture.id.clone(),
            path: fixture.path.clone(),
            pattern: pattern.text.clone(),
        });
    }
    steps.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(steps)
}

/// Every fixture of one suite, sorted by id.
pub fn discover(suite: &Suite) -> Result<Vec<Fixture>, SelectionError> {
    let mut fixtures = Vec::new();
    let mut walk = walkdir::WalkDir::new(&suite.root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|source| SelectionError::Walk {
            suite: suite.name.clone(),
            root: suite.root.clone(),
            source,
        })?;
        let is_dir = entry.file_type().is_dir();
        let Ok(relative) = entry.path().strip_prefix(&suite.root) else {
            continue;
        };
        let id = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if suite.exclude.iter().any(|p| p.matches(&id, is_dir)) {
            if is_dir {
                walk.skip_current_dir();
            }
            continue;
        }
        if suite.include.iter().any(|p| p.matches(&id, is_dir)) {
            fixtures.push(Fixture {
                suite: suite.name.clone(),
                id,
                path: entry.path().to_owned(),
            });
            if is_dir {
                walk.skip_current_dir();
            }
        }
    }
    fixtures.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(fixtures)
}

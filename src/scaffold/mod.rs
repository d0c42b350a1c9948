//! `parity init`'s look at a directory and the commented `parity.toml` it writes from it.
//!
//! [`survey`] finds the directories that hold fixtures (named like `fixtures`, `testdata`,
//! `samples`, … a few levels down) and describes each as a [`FoundSuite`]: whether its fixtures
//! are directories or files, whether fixture directories hold numbered steps, and which formats
//! its files have. [`render`] turns the [`Survey`] into the text of `parity.toml`: the suites it
//! found, commented `[[compare]]` examples for those formats, and placeholder commands
//! (starting with [`PLACEHOLDER_PREFIX`]) that the configuration refuses to load until they are
//! replaced. Nothing here guesses a rule: what parity cannot know stays a commented example.

mod render;
mod survey;

pub use render::{placeholder, render};
pub use survey::survey;

use crate::diff::Format;

/// How the placeholder programs `parity init` writes begin. A side whose program still begins
/// with it is a configuration error (see `config::validate`), so a fresh `parity.toml` cannot
/// run, record goldens or gate anything by accident.
pub const PLACEHOLDER_PREFIX: &str = "TODO-";

/// What `parity init` found in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// One per fixture directory found, in path order.
    pub suites: Vec<FoundSuite>,
    /// Formats of the files found under the suites, most frequent first (ties in
    /// [`Format::ALL`] order); never [`Format::Bytes`].
    pub formats: Vec<Format>,
}

/// A directory of fixtures, proposed as `[suites.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSuite {
    /// The suite's name: a valid TOML bare key, unique in the survey.
    pub name: String,
    /// The directory, relative to the surveyed one, with `/` separators.
    pub root: String,
    /// What its fixtures are.
    pub shape: Shape,
}

/// What the fixtures of a suite are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Each subdirectory is a fixture: `include = ["*/"]`.
    Dirs {
        count: usize,
        /// Files beside the directories, left out.
        files: usize,
        /// Step-like subdirectories (`1-baseline/`, `2-override/`) seen in most fixtures, the
        /// first fixture's listed: then `steps = "*/"` is suggested.
        steps: Option<Vec<String>>,
    },
    /// Each file with the most common extension is a fixture: `include = ["*.EXT"]`; when
    /// most files have no extension, every file is one (`include = ["*"]`).
    Files {
        /// The extension without its dot; empty for files without one.
        extension: String,
        count: usize,
        /// Entries `include` leaves out: files with other extensions, and directories.
        others: usize,
    },
    /// Nothing in it yet.
    Empty,
}

impl Shape {
    /// The `include` pattern for this shape.
    pub fn include(&self) -> String {
        match self {
            Shape::Dirs { .. } | Shape::Empty => "*/".to_owned(),
            Shape::Files { extension, .. } if extension.is_empty() => "*".to_owned(),
            Shape::Files { extension, .. } => format!("*.{extension}"),
        }
    }

    /// How many fixtures the include pattern selects.
    pub fn count(&self) -> usize {
        match self {
            Shape::Dirs { count, .. } | Shape::Files { count, .. } => *count,
            Shape::Empty => 0,
        }
    }
}

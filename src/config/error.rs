//! Configuration errors, each pointing at a file, line and column with a source snippet.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One located problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    snippet: String,
}

impl Located {
    /// Builds a located error for the byte range `span` of `source`.
    pub fn new(
        file: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        let span = span.unwrap_or(0..0);
        let start = span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let text = source[line_start..line_end].trim_end_matches('\r');
        let end = span.end.clamp(start, line_end);
        let width = source[start..end].chars().count().max(1);
        let gutter = " ".repeat(line.to_string().len());
        let snippet = format!(
            "{gutter} |\n{line} | {text}\n{gutter} | {}{}",
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        Located {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            snippet,
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}\n{}",
            self.file.display(),
            self.line,
            self.column,
            self.message,
            self.snippet
        )
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no `parity.toml` found in {} or any parent directory; create one or pass --config FILE", start.display())]
    NotFound { start: PathBuf },
    #[error("failed to read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML: nothing after the first syntax error can be trusted, so it is the
    /// only error reported.
    #[error(
        "invalid configuration (a TOML syntax error; the rest of the file is checked once it is fixed):\n{0}"
    )]
    Syntax(Located),
    /// Every problem of a file that is TOML, in file order.
    #[error("invalid configuration ({}):\n{}", count(.0), join(.0))]
    Invalid(Vec<Located>),
}

fn count(errors: &[Located]) -> String {
    match errors.len() {
        1 => "1 error".to_owned(),
        n => format!("{n} errors"),
    }
}

fn join(errors: &[Located]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_column() {
        let source = "[legacy]\ncmd = [\"x\"]\ntimeout = \"soon\"\n";
        let start = source.find("\"soon\"").unwrap();
        let located = Located::new(
            Path::new("parity.toml"),
            source,
            Some(start..start + 6),
            "bad",
        );
        assert_eq!((located.line, located.column), (3, 11));
        assert_eq!(
            located.to_string(),
            "parity.toml:3:11: bad\n  |\n3 | timeout = \"soon\"\n  |           ^^^^^^"
        );
    }
}

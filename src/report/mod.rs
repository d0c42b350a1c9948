//! Reports, each rendered from [`RunResults`] alone (so `parity report` can re-render any past
//! run): `results.json` ([`json`]), the sign-off `report.md` ([`markdown`]), `junit.xml`
//! ([`junit`]), and the terminal summary ([`terminal`]).

pub mod json;
pub mod junit;
pub mod markdown;
pub mod terminal;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::outcome::RunResults;

/// A report format written to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// results.json, the source of truth.
    Json,
    /// report.md, for release sign-off.
    Md,
    /// junit.xml, for CI test views.
    Junit,
}

impl ReportFormat {
    /// Every format `parity run` writes.
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Json, ReportFormat::Md, ReportFormat::Junit];

    pub fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Json => "results.json",
            ReportFormat::Md => "report.md",
            ReportFormat::Junit => "junit.xml",
        }
    }

    pub fn renderer(self) -> &'static dyn Render {
        match self {
            ReportFormat::Json => &json::Json,
            ReportFormat::Md => &markdown::Markdown,
            ReportFormat::Junit => &junit::Junit,
        }
    }
}

/// Renders a whole run as one document.
pub trait Render: Sync {
    fn render(&self, results: &RunResults) -> Result<String, ReportError>;
}

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to serialise results")]
    Serialise(#[from] serde_json::Error),
    #[error("failed to render JUnit XML")]
    Junit(#[from] quick_junit::SerializeError),
    #[error("failed to write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a parity results file", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Writes every report format into `dir`; results.json first, each file atomically.
pub fn write_all(dir: &Path, results: &RunResults) -> Result<Vec<PathBuf>, ReportError> {
    ReportFormat::ALL
        .iter()
        .map(|format| {
            let path = dir.join(format.file_name());
            write_atomic(&path, format.renderer().render(results)?.as_bytes())?;
            Ok(path)
        })
        .collect()
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`, so a reader
/// never sees half a file and an interrupted write leaves the old one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// Reads a results.json written by any run.
pub fn read_results(path: &Path) -> Result<RunResults, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ReportError::Parse {
        path: path.to_owned(),
        source,
    })
}

/// Formats KiB for people: `812 KiB`, `52.1 MiB`.
pub fn format_kib(kib: u64) -> String {
    if kib < 1024 {
        format!("{kib} KiB")
    } else if kib < 1024 * 1024 {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    } else {
        format!("{:.2} GiB", kib as f64 / (1024.0 * 1024.0))
    }
}

/// A JSON value on one line, shortened to about `max` characters.
pub fn short_value(value: Option<&serde_json::Value>, max: usize) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = value.to_string();
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

//! `DIR/minimize.json`: what was minimised into DIR, one entry per fixture (several fixtures
//! may be minimised into one directory that a suite then includes).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Minimized;
use super::ddmin::Stop;
use super::failure::Failure;
use crate::fixture::Case;

/// The file written next to the minimised fixture.
pub const REPORT_FILE: &str = "minimize.json";
/// Version of the minimize.json schema.
pub const FORMAT_VERSION: u32 = 1;

/// One fixture's entry in minimize.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportEntry {
    /// `suite/fixture[variant]`.
    pub case: String,
    /// The fixture minimised.
    pub source: String,
    /// The results.json its failure was read from.
    pub results: String,
    /// What was kept: `cluster: …` or `verdict: …`.
    pub kept: String,
    pub verdict: String,
    pub original_records: usize,
    pub records: usize,
    pub runs: usize,
    /// `minimal` (no single record can go), `max-runs` or `interrupted`.
    pub stop: String,
    pub parity_version: String,
}

/// minimize.json: one entry per fixture minimised into the directory, by fixture id.
///
/// ```json
/// { "format_version": 1,
///   "fixtures": { "override_then_newer_scan": {
///     "case": "regressions/override_then_newer_scan", "source": "/repo/examples/…",
///     "results": "/tmp/run/results.json", "verdict": "different",
///     "kept": "cluster: stage:decide $.advisories[*].contributing_sources[*] added",
///     "original_records": 10, "records": 2, "runs": 14, "stop": "minimal",
///     "parity_version": "0.1.0" } } }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    pub fixtures: BTreeMap<String, ReportEntry>,
}

/// Adds this fixture's entry to DIR/minimize.json (kept entries of other fixtures stay).
pub fn write_report(
    path: &Path,
    minimized: &Minimized,
    case: &Case,
    failure: &Failure,
    results: &Path,
) -> anyhow::Result<()> {
    let earlier = std::fs::read(path).ok();
    let mut report = earlier
        .as_ref()
        .and_then(|bytes| serde_json::from_slice::<Report>(bytes).ok())
        .unwrap_or(Report {
            format_version: FORMAT_VERSION,
            fixtures: BTreeMap::new(),
        });
    if earlier.is_some() && report.fixtures.is_empty() {
        anstream::eprintln!(
            "warning: {} was not a minimize.json parity wrote; it is replaced",
            path.display()
        );
    }
    report.fixtures.insert(
        case.fixture.id.clone(),
        ReportEntry {
            case: minimized.case.clone(),
            source: case.fixture.path.to_string_lossy().into_owned(),
            results: results.to_string_lossy().into_owned(),
            kept: failure.describe(),
            verdict: failure.verdict().describe(),
            original_records: minimized.original_records,
            records: minimized.records,
            runs: minimized.runs,
            stop: match minimized.stop {
                Stop::Minimal => "minimal",
                Stop::Budget => "max-runs",
                Stop::Interrupted => "interrupted",
            }
            .to_owned(),
            parity_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    );
    let mut text = serde_json::to_vec_pretty(&report)?;
    text.push(b'\n');
    crate::report::write_atomic(path, &text)?;
    Ok(())
}

//! The journal of a run: one line per judged case, appended and flushed as each is judged, in
//! `outputs/journal.ndjson` under the report directory. It is what `--resume` reads when the
//! run was killed before it could write results.json (SIGKILL, a CI runner or machine lost):
//! every case judged until then is kept, with its exact rule and waiver usage.
//!
//! ```text
//! {"journal":1,"tool":"0.1.0","config_hash":"blake3:…","started_at":"…","suites":["main"],"fixtures":[],"variants":[],"measuring":false,"seed":null}
//! {"outcome":{"suite":"main","fixture":"a.json",…},"rules":{"0":{"applied":1,"judged":0}},"waivers":{}}
//! ```
//!
//! A line cut short by the kill is ignored.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::diff::RuleUse;
use crate::outcome::CaseOutcome;

/// The journal's file name, in the outputs directory.
pub const FILE: &str = "journal.ndjson";
/// Version of the journal's format.
const VERSION: u32 = 1;

/// The first line: the run the journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub journal: u32,
    pub tool: String,
    pub config_hash: String,
    pub started_at: String,
    /// The suites the run covers, then the fixture and variant selections.
    pub suites: Vec<String>,
    pub fixtures: Vec<String>,
    pub variants: Vec<String>,
    /// With the performance gate.
    pub measuring: bool,
    pub seed: Option<u64>,
    /// Rule and waiver usage of the cases an earlier run judged, carried by the run that
    /// resumed it (its entries then carry none of their own).
    #[serde(default)]
    pub carried_rules: BTreeMap<usize, RuleUse>,
    #[serde(default)]
    pub carried_waivers: BTreeMap<usize, u64>,
}

impl Header {
    pub fn new(
        config_hash: &str,
        started_at: &str,
        selection: (Vec<String>, Vec<String>, Vec<String>),
        measuring: bool,
        seed: Option<u64>,
    ) -> Header {
        let (suites, fixtures, variants) = selection;
        Header {
            journal: VERSION,
            tool: env!("CARGO_PKG_VERSION").to_owned(),
            config_hash: config_hash.to_owned(),
            started_at: started_at.to_owned(),
            suites,
            fixtures,
            variants,
            measuring,
            seed,
            carried_rules: BTreeMap::new(),
            carried_waivers: BTreeMap::new(),
        }
    }
}

/// One judged case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub outcome: CaseOutcome,
    #[serde(default)]
    pub rules: BTreeMap<usize, RuleUse>,
    #[serde(default)]
    pub waivers: BTreeMap<usize, u64>,
}

/// A journal being written.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl Journal {
    /// Starts the journal in `dir` with `header` and the `kept` entries of the run it resumes.
    pub fn start(dir: &Path, header: &Header, kept: &[Entry]) -> std::io::Result<Journal> {
        let path = dir.join(FILE);
        let mut file = std::fs::File::create(&path)?;
        let mut text = serde_json::to_string(header).map_err(std::io::Error::other)?;
        text.push('\n');
        for entry in kept {
            text.push_str(&serde_json::to_string(entry).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        file.write_all(text.as_bytes())?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
        })
    }

    /// Appends a judged case. One `write` per line, not synced: a killed parity loses
    /// nothing the kernel has (a lost machine may lose the last lines). A failure is reported by
    /// the caller and costs only the ability to resume after a kill.
    pub fn append(&self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the journal's lock is poisoned"))?;
        file.write_all(line.as_bytes())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads the journal in `dir`: its header and the entries it holds, `None` when there is no
/// journal. A last line cut short is left out.
pub fn read(dir: &Path) -> std::io::Result<Option<(Header, Vec<Entry>)>> {
    let path = dir.join(FILE);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut lines = std::io::BufReader::new(file).lines();
    let Some(first) = lines.next().transpose()? else {
        return Ok(None);
    };
    let Ok(header) = serde_json::from_str::<Header>(&first) else {
        return Ok(None);
    };
    let mut entries = Vec::new();
    for line in lines {
        match serde_json::from_str::<Entry>(&line?) {
            Ok(entry) => entries.push(entry),
            // Only the last line can be cut short; anything after it is not trusted either.
            Err(_) => break,
        }
    }
    Ok(Some((header, entries)))
}

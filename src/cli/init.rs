//! `parity init`: writes a commented `parity.toml` for a directory from a look at its fixtures
//! ([`crate::scaffold`]), never over an existing one, and says what to do next.
//!
//! The commands it writes are placeholders (`TODO-legacy-command`): loading the configuration
//! rejects them with their line (`config::validate`), so `parity run`, `parity golden record`
//! and every other command exit 2 until they are replaced.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::config::{DEFAULT_REPORT_DIR, FILE_NAME};
use crate::exit_code;
use crate::report::shell::shell_quote;
use crate::scaffold::{self, Shape, Survey};

pub const HELP: &str = "\
Looks a few levels down for directories named like fixtures, testdata or samples (skipping
.git, target, node_modules, virtual environments and reports), makes each a suite, and writes
commented [[compare]] examples for the formats of their files. The legacy and candidate commands
are placeholders: parity refuses to run until they are replaced.

Examples:
  parity init
  parity init path/to/project

Exit codes:
  0  parity.toml written
  2  parity.toml already exists (it is never overwritten), or DIR cannot be read or written";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to look at and write parity.toml into [default: the current directory].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn init(args: InitArgs) -> anyhow::Result<i32> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    // Shown as the user would type it: `parity.toml`, `project/parity.toml`.
    let path = if dir == Path::new(".") {
        PathBuf::from(FILE_NAME)
    } else {
        dir.join(FILE_NAME)
    };
    if path.symlink_metadata().is_ok() {
        return Ok(refuse(&path));
    }
    let survey = scaffold::survey(&dir)
        .with_context(|| format!("cannot read the directory {}", dir.display()))?;
    let text = scaffold::render(&survey);
    // `create_new`: a file that appeared since the check above is not overwritten either.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    let mut file = match file {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(refuse(&path)),
        other => other.with_context(|| format!("cannot create {}", path.display()))?,
    };
    if let Err(e) = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
    {
        // A half-written file would stop the next `parity init` and load as something else.
        let _ = std::fs::remove_file(&path);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    let mut stdout = super::output::stdout();
    // Directory names reach the terminal: escape what it would obey.
    let summary = summary(&path, &dir, &survey);
    stdout.write_all(crate::report::inert::inert(&summary).as_bytes())?;
    Ok(exit_code::OK)
}

fn refuse(path: &Path) -> i32 {
    anstream::eprintln!(
        "error: {} already exists; parity init never overwrites it (move it away first, or edit it)",
        path.display()
    );
    exit_code::TROUBLE
}

/// What was written and found, and the three steps that follow.
fn summary(path: &Path, dir: &Path, survey: &Survey) -> String {
    let mut text = format!("wrote {}\n", path.display());
    if survey.suites.is_empty() {
        text.push_str(
            "found no fixture directory: create fixtures/ with one directory (or file) per input, \
             or point [suites.main] root at yours\n",
        );
    }
    for suite in &survey.suites {
        text.push_str(&format!(
            "  suite {}: {} ({})\n",
            suite.name,
            suite.root,
            found(&suite.shape)
        ));
    }
    let report = Path::new(DEFAULT_REPORT_DIR).join("report.html");
    let (config, report) = if dir == Path::new(".") {
        (String::new(), report)
    } else {
        let config = format!(" --config {}", shell_quote(&path.to_string_lossy()));
        (config, dir.join(report))
    };
    text.push_str(&format!(
        "\nnext:\n  \
         1. edit {}: replace {} and {}\n     \
         with the commands that run each side on one fixture\n  \
         2. parity run{config}\n     \
         compares both sides on every fixture; then open {} (or report.md beside it)\n  \
         3. parity golden record{config}\n     \
         keeps the legacy's outputs as reviewed goldens, so the gate outlives the legacy\n",
        path.display(),
        scaffold::placeholder("legacy"),
        scaffold::placeholder("candidate"),
        report.display(),
    ));
    text
}

fn found(shape: &Shape) -> String {
    let fixtures = match shape.count() {
        1 => "1 fixture".to_owned(),
        n => format!("{n} fixtures"),
    };
    let each = if shape.count() == 1 { "" } else { "each " };
    match shape {
        Shape::Dirs { steps: None, .. } => format!("{fixtures}, {each}a directory"),
        Shape::Dirs { steps: Some(_), .. } => {
            format!("{fixtures}, {each}a directory of numbered steps")
        }
        Shape::Files { .. } => format!("{fixtures}: {}", shape.include()),
        Shape::Empty => "empty".to_owned(),
    }
}

//! `parity explain RESULTS.json CASE`: one case of a past run side by side, both sides' exact
//! commands and the line that reruns it ([`crate::report::explain`] renders it); `--bundle DIR`
//! also writes the fixture, both sides' kept outputs, `reproduce.sh` and `explain.txt`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use super::Printed;
use crate::exit_code;
use crate::outcome::{CaseOutcome, RunResults};
use crate::report::explain::{self, Explanation, reproduce};
use crate::report::{read_results, rerun, shell};

pub const HELP: &str = "\
CASE is a case's label as reports print it (suite/fixture, suite/fixture[variant]), or a fixture
id alone when only one case has it. For a scenario it shows every step.

Examples:
  parity explain reports/latest/results.json regressions/override_then_newer_scan
  parity explain reports/latest/results.json override_then_newer_scan --format json
  parity explain reports/latest/results.json main/large --bundle /tmp/large
  sh /tmp/large/reproduce.sh

Exit codes:
  0  the case was explained (and the bundle written)
  2  trouble: results.json unreadable, no such case (a few known ones are listed), or the
     bundle could not be written";

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A results.json written by `parity run`.
    pub results: PathBuf,
    /// The case: `suite/fixture`, `suite/fixture[variant]`, or a fixture id alone when only
    /// one case has it.
    pub case: String,
    /// What to print on stdout: the explanation for people, or the same as one JSON object.
    #[arg(long, value_enum, default_value_t = Printed::Human)]
    pub format: Printed,
    /// Also write DIR: input/ (the fixture), legacy/ and candidate/ (the outputs the run kept),
    /// reproduce.sh (runs both sides' exact commands again and diffs their outputs) and
    /// explain.txt.
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<i32> {
    let results = read_results(&args.results)?;
    let case = explain::find_case(&results, &args.case)?;
    let cwd = std::env::current_dir().ok();
    let mut explanation = Explanation::new(&results, case, cwd.as_deref());
    let fixture = fixture_path(&results, case);
    if let Ok(path) = &fixture {
        explanation.inputs_now = crate::golden::hash_inputs(path).ok();
    }
    let text = explain::text::render(&explanation);
    if let Some(dir) = &args.bundle {
        let fixture = fixture.context("cannot bundle the case's fixture")?;
        let place = Place {
            results_file: &args.results,
            fixture: &fixture,
        };
        write_bundle(dir, &results, case, place, &text)
            .with_context(|| format!("cannot write the bundle `{}`", dir.display()))?;
    }
    let mut out = super::output::raw_stdout();
    match args.format {
        Printed::Human => out.write_all(text.as_bytes())?,
        Printed::Json => {
            serde_json::to_writer_pretty(&mut out, &explanation)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(exit_code::OK)
}

/// The case's fixture as the run's configuration places it (the configuration as the run
/// read it, from results.json).
fn fixture_path(results: &RunResults, case: &CaseOutcome) -> anyhow::Result<PathBuf> {
    let config_path = Path::new(&results.config.path);
    let config = crate::config::parse(config_path, &results.config.source).with_context(|| {
        format!(
            "cannot read the run's configuration `{}` (it names where the fixture is)",
            config_path.display()
        )
    })?;
    let suite = config
        .suite(&case.id.suite)
        .with_context(|| format!("the configuration has no suite `{}`", case.id.suite))?;
    let path = suite.root.join(&case.id.fixture);
    if std::fs::symlink_metadata(&path).is_err() {
        bail!("the fixture `{}` is gone", path.display());
    }
    Ok(path)
}

/// Where the run's files are.
#[derive(Clone, Copy)]
struct Place<'a> {
    results_file: &'a Path,
    fixture: &'a Path,
}

/// Writes the bundle into `dir` (new, empty, or an earlier bundle, which is replaced).
fn write_bundle(
    dir: &Path,
    results: &RunResults,
    case: &CaseOutcome,
    place: Place<'_>,
    text: &str,
) -> anyhow::Result<()> {
    prepare(dir)?;
    let results_file = std::path::absolute(place.results_file)?;
    let results_dir = results_file.parent().unwrap_or(Path::new("/"));
    let fixture_is_file = place.fixture.is_file();
    let origin = reproduce::Origin {
        fixture: place.fixture.to_string_lossy().into_owned(),
        fixture_is_file,
        case_dir: reproduce::case_dir_in_commands(&results_dir.to_string_lossy(), case),
    };
    let input = dir.join(reproduce::input_path(&origin));
    copy_tree(place.fixture, &input)
        .with_context(|| format!("cannot copy the fixture `{}`", place.fixture.display()))?;
    copy_kept(dir, results_dir, case)?;
    let config_dir = Path::new(&results.config.path)
        .parent()
        .unwrap_or(Path::new("/"))
        .to_owned();
    let golden = |step: Option<&str>| -> Option<String> {
        let check = match step {
            None => case.golden.as_ref(),
            Some(name) => case
                .steps
                .iter()
                .find(|s| s.step == name)
                .and_then(|s| s.golden.as_ref()),
        }?;
        let relative = step.map_or("golden".to_owned(), |s| format!("golden/{s}"));
        let source = config_dir.join(&check.path);
        match copy_run_dir(&source, &dir.join(&relative)) {
            Ok(()) => Some(format!("{relative}/out")),
            Err(e) => {
                anstream::eprintln!(
                    "warning: cannot copy the golden {}: {e:#}; reproduce.sh will not compare",
                    source.display()
                );
                None
            }
        }
    };
    let script = reproduce::Script {
        label: case.label(),
        parity: std::env::current_exe()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "parity".to_owned()),
        config: results.config.path.clone(),
        rerun: shell::shell_words(&rerun::rerun_args(results, case, None)),
        replace: reproduce::replacements(&origin),
        steps: reproduce::steps(case, &golden),
    };
    let script_path = dir.join("reproduce.sh");
    std::fs::write(&script_path, reproduce::render(&script))?;
    std::fs::set_permissions(&script_path, std::fs::Permissions::from_mode(0o755))?;
    std::fs::write(dir.join("explain.txt"), text)?;
    anstream::eprintln!(
        "bundle written to {}: input/, reproduce.sh, explain.txt{}",
        dir.display(),
        if case.kept_outputs.is_some() {
            ", legacy/ and candidate/ (the outputs the run kept)"
        } else {
            "; the run did not keep this case's outputs (it keeps those of failing cases, and \
             all with --keep-outputs), so legacy/ and candidate/ are absent: reproduce.sh makes \
             them again in rerun/"
        }
    );
    Ok(())
}

/// Makes `dir` ready: created when missing, cleared when it holds an earlier bundle, refused
/// when it holds anything else.
fn prepare(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let earlier = dir.join("reproduce.sh").is_file() && dir.join("explain.txt").is_file();
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if earlier {
            std::fs::remove_dir_all(dir)?;
        } else if !empty {
            bail!("it exists and is not an earlier bundle; name a new or empty directory");
        }
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Copies each side's kept outputs into `dir/<side>/` (`dir/<side>/<step>/` in a scenario).
fn copy_kept(dir: &Path, results_dir: &Path, case: &CaseOutcome) -> anyhow::Result<()> {
    let Some(kept) = &case.kept_outputs else {
        return Ok(());
    };
    let kept = results_dir.join(kept);
    if !kept.is_dir() {
        anstream::eprintln!(
            "warning: the outputs the run kept in {} are gone; legacy/ and candidate/ are absent",
            kept.display()
        );
        return Ok(());
    }
    let steps: Vec<Option<&str>> = if case.steps.is_empty() {
        vec![None]
    } else {
        case.steps.iter().map(|s| Some(s.step.as_str())).collect()
    };
    for step in steps {
        for side in ["legacy", "candidate"] {
            let (from, to) = match step {
                Some(step) => (kept.join(step).join(side), dir.join(side).join(step)),
                None => (kept.join(side), dir.join(side)),
            };
            if from.is_dir() {
                copy_run_dir(&from, &to)
                    .with_context(|| format!("cannot copy the kept outputs {}", from.display()))?;
            }
        }
    }
    Ok(())
}

/// Copies a run directory's `out/`, `stdout` and `stderr` (what a run or a golden keeps).
fn copy_run_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.is_dir() {
        bail!("{} is not a directory", from.display());
    }
    std::fs::create_dir_all(to)?;
    for name in ["out", "stdout", "stderr"] {
        let source = from.join(name);
        if std::fs::symlink_metadata(&source).is_ok() {
            copy_tree(&source, &to.join(name))?;
        }
    }
    Ok(())
}

/// Copies a file, or a directory and everything under it; links are copied as links (never
/// followed), and anything that is not a file, directory or link is left out with a warning.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry?;
        let relative = entry.path().strip_prefix(from)?;
        let target = if relative.as_os_str().is_empty() {
            to.to_owned()
        } else {
            to.join(relative)
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
            if kind.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
            } else if kind.is_file() {
                std::fs::copy(entry.path(), &target)
                    .with_context(|| format!("cannot copy {}", entry.path().display()))?;
            } else {
                anstream::eprintln!(
                    "warning: {} is not a file, directory or link; left out of the bundle",
                    entry.path().display()
                );
            }
        }
    }
    Ok(())
}

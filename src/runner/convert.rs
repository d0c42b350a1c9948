//! What follows a side's run: each output a `[[compare]]` block converts is turned into text by
//! the block's `convert` command (once per table with `tables`), then the suite's `teardown`
//! runs (dropping the schema the side loaded, say).
//!
//! A converter runs exactly as a side does ([`run_side`]: the measuring helper, its own process
//! group, a timeout that kills the whole group, both pipes drained), with the side's `env`, in
//! the configuration's directory. Its stdout goes to a file, `converted/FILE[#TABLE]` in the run
//! directory, and is compared from there, streamed, never held in memory. A conversion that
//! fails, times out or overflows [`CONVERT_LIMIT`] leaves no file there and a [`Conversion`]
//! saying why, which the comparison turns into a finding: never a pass.

use std::path::Path;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::capture;
use super::process::{SideRequest, run_side};
use super::{CONVERTER_RUNS, Cancel, Launch, SideResult, TEARDOWN_RUN, rundir};
use crate::config::{Config, Convert, TABLE_SEPARATOR};
use crate::diff::dir::{Entry, list_entries};

/// Bytes of a converter's stdout stored; a conversion longer than this fails (a comparison of
/// its start only would not be a comparison of the table).
pub const CONVERT_LIMIT: u64 = 4 * 1024 * 1024 * 1024;

/// Lines of a failed converter's stderr kept in its finding (the end of a traceback says why).
const FAILURE_LINES: usize = 5;

/// A conversion of one output of one run that did not give a converted file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    /// The converted output's name: `FILE` or `FILE#TABLE`.
    pub output: String,
    /// The converter's command, as run (empty when nothing was run).
    pub argv: Vec<String>,
    /// Why there is no converted file: how the converter ended, or what the side wrote instead
    /// of a file.
    pub failure: String,
    /// The last lines the converter wrote to stderr.
    pub stderr_tail: String,
}

impl Conversion {
    /// One line for a finding: `the legacy side's `w.db#t` was not converted: `cmd …` exited
    /// with 1: stderr`.
    pub fn describe(&self, side: &str) -> String {
        let command = if self.argv.is_empty() {
            String::new()
        } else {
            format!(" `{}`", shell_words(&self.argv))
        };
        let stderr = self.stderr_tail.trim();
        let stderr = if stderr.is_empty() {
            String::new()
        } else {
            format!("; its stderr ends: {stderr}")
        };
        format!(
            "the {side} side's `{}` was not converted: the converter{command} {}{stderr}",
            self.output, self.failure
        )
    }
}

/// The argv as a person would type it (arguments with spaces or quotes quoted).
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh `{run_id}`: `parity_<this invocation>_<n>`, unique to this run of a side and to this
/// parity process (two CI jobs sharing a database server never collide); a valid PostgreSQL
/// identifier as it stands.
pub fn next_run_id() -> String {
    static INVOCATION: LazyLock<String> = LazyLock::new(|| {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&std::process::id().to_le_bytes());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        hasher.update(&now.as_nanos().to_le_bytes());
        hasher.finalize().to_hex()[..10].to_owned()
    });
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    format!("parity_{}_{n}", *INVOCATION)
}

/// Runs one side, then converts its outputs (when it ran to its end and the request asks for
/// it), then runs its suite's teardown (whatever happened, unless parity is being stopped).
pub async fn run_and_follow(
    launch: &Launch,
    config: &Config,
    request: &SideRequest,
    cancel: &Cancel,
) -> SideResult {
    let mut result = run_side(launch, request, cancel).await;
    if request.convert && result.run.status.ran_to_end() && !cancel.is_cancelled() {
        result.conversions = convert_outputs(launch, config, request, cancel).await;
    }
    if let Some(teardown) = &request.teardown
        && !cancel.is_cancelled()
        && let Some(note) = run_teardown(launch, config, request, teardown, cancel).await
    {
        result.run.notes.push(note);
    }
    result
}

/// Converts every output of the run a block converts; returns the conversions that failed.
async fn convert_outputs(
    launch: &Launch,
    config: &Config,
    request: &SideRequest,
    cancel: &Cancel,
) -> Vec<Conversion> {
    let artifacts = request.artifacts();
    let _ = std::fs::remove_dir_all(&artifacts.converted);
    let mut failed = Vec::new();
    let mut number = 0;
    // Whether every converter's run ended without a note: their directories are then set
    // aside for the next runs, like a passing case's.
    let mut quiet = true;
    for (relative, entry) in list_entries(&artifacts.out_dir) {
        if !config.converts(&relative, request.side) {
            continue;
        }
        let mut conversions: Vec<(&Convert, Option<&str>)> = Vec::new();
        for block in config.converters_for(&relative) {
            let Some(convert) = &block.convert else {
                continue;
            };
            if convert.tables.is_empty() {
                conversions.push((convert, None));
            } else {
                conversions.extend(convert.tables.iter().map(|t| (convert, Some(t.as_str()))));
            }
        }
        // Two blocks naming the same output: the first converts it (as it is compared).
        let mut seen: Vec<Option<&str>> = Vec::new();
        conversions.retain(|(_, table)| {
            let new = !seen.contains(table);
            seen.push(*table);
            new
        });
        for (convert, table) in conversions {
            let output = match table {
                Some(table) => format!("{relative}{TABLE_SEPARATOR}{table}"),
                None => relative.clone(),
            };
            let Entry::File(file) = &entry else {
                failed.push(Conversion {
                    output,
                    argv: Vec::new(),
                    failure: format!(
                        "was not run: the side wrote a {} there, and parity converts regular files only (links are never followed)",
                        entry.kind()
                    ),
                    stderr_tail: String::new(),
                });
                continue;
            };
            if cancel.is_cancelled() {
                return failed;
            }
            number += 1;
            let file = file.to_string_lossy();
            let vars = request.vars.with(&file, table.unwrap_or(""));
            let converter = SideRequest {
                side: request.side,
                argv: convert.argv.iter().map(|t| t.render(&vars)).collect(),
                env: request.env.clone(),
                cwd: config.base_dir.clone(),
                timeout: convert.timeout.unwrap_or(request.timeout),
                dir: request.dir.join(CONVERTER_RUNS).join(number.to_string()),
                state: request.state.clone(),
                capture_limit: CONVERT_LIMIT,
                convert: false,
                teardown: None,
                vars: request.vars.clone(),
            };
            let (failure, notes) =
                convert_one(launch, &converter, &artifacts.converted, &output, cancel).await;
            failed.extend(failure);
            quiet &= !notes;
        }
    }
    let runs = request.dir.join(CONVERTER_RUNS);
    if number > 0 {
        let _ = if quiet {
            rundir::recycle(&runs)
        } else {
            std::fs::remove_dir_all(&runs)
        };
    }
    failed
}

/// Runs one converter and moves its stdout to `converted/OUTPUT`; `Some` says why not. The
/// flag says whether its run carries notes (processes killed, a pipe held open).
async fn convert_one(
    launch: &Launch,
    converter: &SideRequest,
    converted: &Path,
    output: &str,
    cancel: &Cancel,
) -> (Option<Conversion>, bool) {
    let run = run_side(launch, converter, cancel).await;
    let notes = !run.run.notes.is_empty();
    (converted_output(converter, run, converted, output), notes)
}

/// What became of a converter's run: its stdout moved to `converted/OUTPUT`, or why not.
fn converted_output(
    converter: &SideRequest,
    run: SideResult,
    converted: &Path,
    output: &str,
) -> Option<Conversion> {
    let failure = |failure: String| Conversion {
        output: output.to_owned(),
        argv: converter.argv.clone(),
        failure,
        stderr_tail: capture::last_lines(run.run.stderr_tail.trim_end().as_bytes(), FAILURE_LINES),
    };
    if !run.run.status.is_success() {
        return Some(failure(run.run.status.describe()));
    }
    if run.run.stdout.truncated {
        return Some(failure(format!(
            "wrote more than {} GiB, the most parity keeps of a conversion",
            CONVERT_LIMIT >> 30
        )));
    }
    let dest = converted.join(output);
    let moved = dest
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::rename(&run.artifacts.stdout, &dest));
    match moved {
        Ok(()) => None,
        Err(e) => Some(failure(format!(
            "ran, but parity could not keep its output at {}: {e}",
            dest.display()
        ))),
    }
}

/// Runs the suite's teardown for one run; a note when it failed (the run's results stand: a
/// teardown cleans up, it is not compared).
async fn run_teardown(
    launch: &Launch,
    config: &Config,
    request: &SideRequest,
    argv: &[String],
    cancel: &Cancel,
) -> Option<String> {
    let teardown = SideRequest {
        side: request.side,
        argv: argv.to_vec(),
        env: request.env.clone(),
        cwd: config.base_dir.clone(),
        timeout: request.timeout,
        dir: request.dir.join(TEARDOWN_RUN),
        state: request.state.clone(),
        capture_limit: super::CAPTURE_LIMIT,
        convert: false,
        teardown: None,
        vars: request.vars.clone(),
    };
    let run = run_side(launch, &teardown, cancel).await;
    let _ = if run.run.notes.is_empty() {
        rundir::recycle_run(&teardown.dir)
    } else {
        std::fs::remove_dir_all(&teardown.dir)
    };
    if run.run.status.is_success() {
        return None;
    }
    let side = request.side.as_str();
    let stderr = run.run.stderr_tail.trim();
    Some(format!(
        "the suite's teardown after the {side} run (`{}`) {}{}",
        shell_words(argv),
        run.run.status.describe(),
        if stderr.is_empty() {
            String::new()
        } else {
            format!(": {stderr}")
        }
    ))
}

//! What a run shows while it runs, on stderr. On a terminal: a progress bar with the elapsed
//! time and an ETA (indicatif estimates it from the cases finished so far), failing cases
//! printed above it. Elsewhere (a CI log): one line per case as it finishes, like nextest —
//! `PASS [   0.45s] main/large  equivalent`, `FAIL [   0.91s] regressions/x  different: first
//! divergence: decide (12 differences)` — and, every [`SLOW_EVERY`], a `SLOW` line naming the
//! cases running longer than that, so a hanging fixture is seen long before its timeout.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::fixture::Case;
use crate::outcome::CaseOutcome;
use crate::report::inert::inert_line;
use crate::runner::Running;

/// How often cases still running are named in a log, and how long they must have run.
pub const SLOW_EVERY: Duration = Duration::from_secs(30);
/// Test hook: [`SLOW_EVERY`] in milliseconds, so a test sees a `SLOW` line without waiting
/// half a minute. Not a user setting.
const SLOW_ENV: &str = "PARITY_TEST_SLOW_EVERY_MS";
/// Cases named per `SLOW` report.
const SLOW_SHOWN: usize = 3;
/// Characters of a finding on a line.
const FINDING_WIDTH: usize = 100;

/// Progress of a pass over the cases.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The bar (hidden, and used only to print above it, when stderr is not a terminal).
    pub bar: ProgressBar,
    /// One line per finished case (stderr is not a terminal).
    lines: bool,
}

impl Progress {
    /// Progress over `len` cases: a bar on a terminal, lines elsewhere.
    pub fn new(len: usize) -> Progress {
        let lines = !std::io::stderr().is_terminal();
        let bar = if lines {
            ProgressBar::hidden()
        } else {
            bar(len, "cases")
        };
        Progress { bar, lines }
    }

    /// A case finished: its line (in a log) or, on a terminal, a line above the bar when it
    /// failed or is outside its budget.
    pub fn finished(&self, case: &Case, outcome: &CaseOutcome) {
        let label = inert_line(&case.label()).into_owned();
        if self.lines {
            let word = if !outcome.verdict.is_success() {
                "FAIL"
            } else if outcome
                .benches()
                .iter()
                .any(|(_, b)| b.verdict == crate::bench::BudgetVerdict::Exceeded)
            {
                "SLOWER"
            } else {
                "PASS"
            };
            // One write per line: stderr is unbuffered, and `eprintln!` writes each piece of
            // its format on its own (15 system calls a line, a few µs each, per case).
            let line = format!(
                "{word:>8} [{:>8}] {label}  {}\n",
                format!("{:.2}s", duration(outcome).as_secs_f64()),
                inert_line(&finding(outcome))
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else if !outcome.verdict.is_success() {
            self.bar
                .println(format!("✗ {label}  {}", outcome.verdict.describe()));
        } else if let Some(bench) = &outcome.bench
            && bench.verdict != crate::bench::BudgetVerdict::Within
        {
            self.bar
                .println(format!("⚠ {label}  performance {}", bench.verdict.as_str()));
        }
        self.bar.inc(1);
    }

    /// What is happening inside the current case (pairs measured so far), on the bar.
    pub fn message(&self, text: String) {
        if !self.lines {
            self.bar.set_message(text);
        }
    }

    /// In a log, every [`SLOW_EVERY`]: the cases running longer than that. Runs on the
    /// runtime until the pass ends.
    pub fn watch(&self, runtime: &tokio::runtime::Runtime, running: Arc<Running>) {
        if !self.lines {
            return;
        }
        let every = std::env::var(SLOW_ENV)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(SLOW_EVERY, Duration::from_millis);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let slow = running.longer_than(every);
                for (label, elapsed) in slow.iter().take(SLOW_SHOWN) {
                    eprintln!(
                        "{:>8} [{:>8}] {}  still running",
                        "SLOW",
                        format!("{:.1}s", elapsed.as_secs_f64()),
                        inert_line(label)
                    );
                }
                if slow.len() > SLOW_SHOWN {
                    eprintln!(
                        "{:>8} {} more running longer than {:.1}s",
                        "SLOW",
                        slow.len() - SLOW_SHOWN,
                        every.as_secs_f64()
                    );
                }
            }
        });
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A progress bar on stderr, with the elapsed time and an ETA from the units done so far.
pub fn bar(len: usize, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {unit} · ETA {{eta}} {{msg}}"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// How long a case took: its sides' wall times, the longer of the two (they run side by side).
fn duration(outcome: &CaseOutcome) -> Duration {
    let legacy = outcome.legacy.as_ref().map_or(0.0, |l| l.wall_ms);
    Duration::from_secs_f64(legacy.max(outcome.candidate.wall_ms).max(0.0) / 1000.0)
}

/// A finished case in a few words: its verdict, then its first divergence or first difference,
/// or for a side that failed its status and last line of stderr; the pairs it was measured on.
fn finding(outcome: &CaseOutcome) -> String {
    let mut text = outcome.verdict.describe();
    let lead = outcome.stage_leads().into_iter().next();
    let first = || {
        outcome.comparisons().into_iter().find_map(|c| {
            c.outputs.iter().find_map(|o| {
                let d = o.differences.iter().find(|d| d.waiver.is_none())?;
                Some(format!(
                    "{} {} {}: {} → {}",
                    c.name(&o.output),
                    d.path,
                    d.kind,
                    crate::report::short_value(d.left.as_ref(), 30),
                    crate::report::short_value(d.right.as_ref(), 30)
                ))
            })
        })
    };
    let failed_side = || {
        outcome
            .runs()
            .into_iter()
            .find(|(_, run)| !run.status.is_success())
            .map(|(side, run)| {
                let last = run.stderr_tail.lines().last().unwrap_or("");
                format!("{side} {} {last}", run.status.describe())
            })
    };
    if !outcome.verdict.is_success()
        && let Some(more) = lead.or_else(first).or_else(failed_side)
    {
        text.push_str(": ");
        text.push_str(&more);
    }
    for (label, bench) in outcome.benches() {
        let unit = if label == outcome.label() {
            String::new()
        } else {
            format!(" {label}")
        };
        text.push_str(&format!(
            " · performance{unit} {} ({} pairs)",
            bench.verdict.as_str(),
            bench.valid_pairs
        ));
    }
    if text.chars().count() > FINDING_WIDTH * 2 {
        let cut: String = text.chars().take(FINDING_WIDTH * 2).collect();
        return format!("{cut}…");
    }
    text
}

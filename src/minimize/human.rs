//! What `parity minimize` tells people: numbers as people write them (`20,757 records`), the
//! progress (a bar on a terminal, one line per step otherwise, so a CI log shows it moving),
//! and the result.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use super::ddmin::{Event, Stop};
use super::input::Input;
use super::{Found, Minimized};
use crate::outcome::CaseOutcome;
use crate::report::inert::inert_line;

/// `20757` as `20,757`.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `1 record`, `20,757 records`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", grouped(n))
    }
}

/// How a run of the case ended, for people: `different (stage:decide: 3 differences)`,
/// `candidate-failed (candidate exit 3)`.
pub fn how_it_ended(outcome: &CaseOutcome) -> String {
    let clusters = super::failure::clusters(outcome);
    let runs: Vec<String> = outcome
        .runs()
        .into_iter()
        .filter(|(_, run)| !run.status.is_success())
        .map(|(side, run)| format!("{side} {}", run.status.describe()))
        .collect();
    let mut detail: Vec<String> = runs;
    if let Some(first) = clusters.first() {
        detail.push(format!(
            "{} cluster{}, the largest {}",
            clusters.len(),
            if clusters.len() == 1 { "" } else { "s" },
            first.describe()
        ));
    }
    if detail.is_empty() {
        outcome.verdict.describe()
    } else {
        format!("{}: {}", outcome.verdict.describe(), detail.join("; "))
    }
}

/// Progress on stderr: a bar on a terminal, lines otherwise.
pub struct Progress {
    bar: ProgressBar,
    lines: bool,
    runs: AtomicUsize,
    size: AtomicUsize,
}

impl Progress {
    /// Says what is minimised and what is kept, and starts showing progress.
    pub(super) fn start(found: &Found, input: &Input, max_runs: usize) -> Progress {
        let files: Vec<String> = input
            .files()
            .into_iter()
            .map(|f| match f.records {
                Some(n) => format!("{} {}", f.path, grouped(n)),
                None => format!("{} kept whole", f.path),
            })
            .collect();
        let records = input.units().len();
        anstream::eprintln!(
            "minimizing {}: {} ({}); keeping {}",
            inert_line(&found.label),
            count(records, "record"),
            inert_line(&files.join(", ")),
            inert_line(&found.failure.describe())
        );
        if found.clusters.len() > 1 {
            anstream::eprintln!(
                "its clusters (pick another with --cluster N):\n{}",
                crate::report::inert::inert(&super::failure::list(&found.clusters))
            );
        }
        let bar = ProgressBar::new(max_runs as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos}/{len} runs  {msg}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar.set_message(count(records, "record"));
        Progress {
            bar,
            lines: !std::io::stderr().is_terminal(),
            runs: AtomicUsize::new(0),
            size: AtomicUsize::new(records),
        }
    }

    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    fn line(&self, text: String) {
        if self.lines {
            eprintln!("minimize: {text}");
        }
    }

    /// The original fixture failed the same way again (run 1).
    pub fn confirmed(&self) {
        self.ran();
        self.line("run 1: the original fixture fails the same way again".to_owned());
    }

    /// One more run finished.
    pub fn ran(&self) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.bar.inc(1);
    }

    pub fn event(&self, event: Event) {
        let runs = self.runs.load(Ordering::Relaxed);
        match event {
            Event::Reduced { size, .. } => {
                let before = self.size.swap(size, Ordering::Relaxed);
                self.bar.set_message(count(size, "record"));
                self.line(format!(
                    "{} → {} (after {})",
                    grouped(before),
                    count(size, "record"),
                    count(runs, "run")
                ));
            }
            Event::Finer { chunks, size } => self.line(format!(
                "no part fails alone, nor the rest without it: {} cut into {} (after {})",
                count(size, "record"),
                count(chunks, "part"),
                count(runs, "run")
            )),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The result, for stdout: `20,757 → 3 records in 412 runs (cluster: …)`, each file's part,
/// whether it is 1-minimal, and what was written.
pub fn summary(m: &Minimized) -> String {
    let mut text = format!(
        "{} → {} in {} ({})\n",
        grouped(m.original_records),
        count(m.records, "record"),
        count(m.runs, "run"),
        inert_line(&m.failure)
    );
    let width = m.files.iter().map(|(path, _)| path.chars().count()).max();
    for (path, records) in &m.files {
        let part = match records {
            Some((before, after)) => format!("{} → {}", grouped(*before), count(*after, "record")),
            None => "kept whole".to_owned(),
        };
        let path = format!("{path:width$}", width = width.unwrap_or(0));
        text.push_str(&format!("  {}  {part}\n", inert_line(&path)));
    }
    let seconds = m.elapsed.as_secs_f64();
    let why = match m.stop {
        Stop::Minimal if m.records == 0 => {
            "the failure needs none of the records: every file is in its empty form".to_owned()
        }
        Stop::Minimal if m.records == 1 => {
            "1-minimal: without this record the failure goes away".to_owned()
        }
        Stop::Minimal => format!(
            "1-minimal: without any one of these {} the failure goes away",
            count(m.records, "record")
        ),
        Stop::Budget => format!(
            "stopped at --max-runs {}: a smaller failing input may exist (raise --max-runs)",
            grouped(m.runs)
        ),
        Stop::Interrupted => "interrupted: the smallest failing input found so far".to_owned(),
    };
    text.push_str(&format!("{why} ({seconds:.1} s)\n"));
    text.push_str(&format!(
        "wrote {} and {}\n",
        m.written.display(),
        m.report.display()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_people_write_them() {
        let table = [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1,000"),
            (20757, "20,757"),
            (1234567, "1,234,567"),
        ];
        for (n, text) in table {
            assert_eq!(grouped(n), text);
        }
        assert_eq!(count(1, "record"), "1 record");
        assert_eq!(count(0, "record"), "0 records");
        assert_eq!(count(20757, "run"), "20,757 runs");
    }
}

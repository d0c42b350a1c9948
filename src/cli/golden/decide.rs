//! Deciding pending golden changes, as insta does with snapshots: `parity golden review` walks
//! each change with its field-level differences and reads one key per change from stdin (so a
//! script can drive it too); `accept` and `reject` decide by glob for scripts. Every decision is
//! logged (see [`crate::golden::review`]).

use crate::style::{BOLD, DIM, WARN};
use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{DecideArgs, ReviewArgs, open, refuse_in_ci, shown};
use crate::config::Config;
use crate::diff::DiffKind;
use crate::exit_code;
use crate::golden::GoldenStore;
use crate::golden::review::{self, Decision, Pending};
use crate::report::human;
use crate::units::plural;

/// Differences shown per output of a change.
const SHOWN: usize = 20;

/// Pending changes whose label (`suite/fixture[@variant]`) or fixture id matches a glob (all
/// of them when there are no globs).
fn selected(store: &GoldenStore, globs: &[String]) -> anyhow::Result<Vec<Pending>> {
    let all = review::pending(store)?;
    if globs.is_empty() {
        return Ok(all);
    }
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob).map_err(|e| anyhow::anyhow!("--fixture `{glob}`: {e}"))?);
    }
    let set: GlobSet = builder.build()?;
    Ok(all
        .into_iter()
        .filter(|p| set.is_match(&p.label) || set.is_match(p.fixture()))
        .collect())
}

pub(super) fn accept_or_reject(args: DecideArgs, decision: Decision) -> anyhow::Result<i32> {
    refuse_in_ci(match decision {
        Decision::Reject => "golden reject",
        _ => "golden accept",
    })?;
    let (config, store) = open(&args.store)?;
    let chosen = selected(&store, if args.all { &[] } else { &args.fixtures })?;
    if chosen.is_empty() {
        eprintln!("no pending golden change matched");
        return Ok(exit_code::NOTHING_SELECTED);
    }
    warn_if_stale(&config, &chosen, decision);
    let reason = args.reason.as_deref().unwrap_or("(no reason given)");
    review::decide(&store, &chosen, decision, reason)?;
    let verb = match decision {
        Decision::Reject => "rejected",
        _ => "accepted",
    };
    let mut out = crate::cli::output::stdout();
    for pending in &chosen {
        writeln!(out, "{verb} {}", shown(&config, &pending.golden_dir))?;
    }
    writeln!(
        out,
        "{verb} {}; logged in {}",
        plural(chosen.len(), "change"),
        shown(&config, &store.dir.join(review::LOG_FILE))
    )?;
    Ok(exit_code::OK)
}

/// Accepting a change recorded from inputs that have changed since makes a stale golden.
fn warn_if_stale(config: &Config, chosen: &[Pending], decision: Decision) {
    if decision != Decision::Accept {
        return;
    }
    for pending in chosen {
        let golden = &pending.change;
        let fixture = config
            .suites
            .iter()
            .find(|s| s.name == golden.provenance.suite)
            .map(|s| s.root.join(&golden.provenance.fixture));
        if fixture.is_some_and(|f| golden.is_stale(&f)) {
            eprintln!(
                "{WARN}warning{WARN:#}: {} was produced from inputs that changed since; the accepted golden is stale (re-record it)",
                pending.label
            );
        }
    }
}

/// A change with its differences from the golden, and what identifies them across changes.
struct Change {
    pending: Pending,
    comparison: crate::compare::CaseComparison,
    /// (output, path pattern, kind) of every difference: changes with the same signature are
    /// one cause, decided at once with A or R.
    signature: BTreeSet<(String, String, DiffKind)>,
}

fn changes(config: &Config, chosen: Vec<Pending>) -> anyhow::Result<Vec<Change>> {
    let today = chrono::Utc::now().date_naive();
    chosen
        .into_iter()
        .map(|pending| {
            let (golden, change) = pending.sides()?;
            let comparison = crate::compare::compare_case(
                config,
                pending.fixture(),
                ("golden", &golden),
                ("pending", &change),
                today,
            );
            let signature = comparison
                .outputs
                .iter()
                .flat_map(|o| {
                    o.clusters
                        .iter()
                        .map(|c| (o.output.clone(), c.pattern.clone(), c.kind))
                })
                .collect();
            Ok(Change {
                pending,
                comparison,
                signature,
            })
        })
        .collect()
}

/// One key per change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Accept,
    Reject,
    Skip,
    AcceptAlike,
    RejectAlike,
    Quit,
}

fn parse_key(line: &str) -> Option<Key> {
    match line.trim() {
        "a" => Some(Key::Accept),
        "r" => Some(Key::Reject),
        "s" | "" => Some(Key::Skip),
        "A" => Some(Key::AcceptAlike),
        "R" => Some(Key::RejectAlike),
        "q" => Some(Key::Quit),
        _ => None,
    }
}

pub(super) fn review(args: ReviewArgs) -> anyhow::Result<i32> {
    refuse_in_ci("golden review")?;
    let (config, store) = open(&args.store)?;
    let chosen = selected(&store, &args.fixtures)?;
    if chosen.is_empty() {
        writeln!(
            crate::cli::output::stdout(),
            "no pending golden change to review"
        )?;
        return Ok(exit_code::OK);
    }
    let all = changes(&config, chosen)?;
    let mut decided: Vec<Option<Decision>> = vec![None; all.len()];
    let mut input = Answers::open();
    let mut out = crate::cli::output::stdout();
    let reason = args.reason.as_deref().unwrap_or("reviewed interactively");
    'changes: for index in 0..all.len() {
        if decided[index].is_some() {
            continue;
        }
        let change = &all[index];
        let alike: Vec<usize> = (0..all.len())
            .filter(|&j| decided[j].is_none() && all[j].signature == change.signature)
            .collect();
        show_change(&mut out, &config, index, all.len(), change, alike.len())?;
        let key = loop {
            write!(
                out,
                "{BOLD}a{BOLD:#}ccept, {BOLD}r{BOLD:#}eject, {BOLD}s{BOLD:#}kip{}, {BOLD}q{BOLD:#}uit? ",
                if alike.len() > 1 {
                    format!(
                        ", {BOLD}A{BOLD:#}/{BOLD}R{BOLD:#} accept/reject all {} alike",
                        alike.len()
                    )
                } else {
                    String::new()
                }
            )?;
            out.flush()?;
            let Some(answer) = input.next()? else {
                writeln!(out)?;
                break 'changes;
            };
            if input.echoes() {
                writeln!(out, "{answer}")?;
            }
            match parse_key(&answer) {
                Some(key) => break key,
                None => writeln!(out, "unknown answer `{}`", answer.trim())?,
            }
        };
        let (decision, targets) = match key {
            Key::Accept => (Decision::Accept, vec![index]),
            Key::Reject => (Decision::Reject, vec![index]),
            Key::AcceptAlike => (Decision::Accept, alike),
            Key::RejectAlike => (Decision::Reject, alike),
            Key::Skip => continue,
            Key::Quit => break,
        };
        let pending: Vec<Pending> = targets.iter().map(|&j| all[j].pending.clone()).collect();
        review::decide(&store, &pending, decision, reason)?;
        for &j in &targets {
            decided[j] = Some(decision);
        }
        writeln!(
            out,
            "{} {}\n",
            if decision == Decision::Accept {
                "accepted"
            } else {
                "rejected"
            },
            pending
                .iter()
                .map(|p| p.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    let count = |d: Decision| decided.iter().filter(|x| **x == Some(d)).count();
    let left = decided.iter().filter(|x| x.is_none()).count();
    writeln!(
        out,
        "{} accepted, {} rejected, {left} still pending{}",
        count(Decision::Accept),
        count(Decision::Reject),
        if count(Decision::Accept) + count(Decision::Reject) > 0 {
            format!(
                "; logged in {}",
                shown(&config, &store.dir.join(review::LOG_FILE))
            )
        } else {
            String::new()
        }
    )?;
    Ok(exit_code::OK)
}

fn show_change(
    out: &mut dyn Write,
    config: &Config,
    index: usize,
    total: usize,
    change: &Change,
    alike: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{BOLD}[{}/{total}] {}{BOLD:#} {DIM}({} run, pending in {}){DIM:#}",
        index + 1,
        change.pending.label,
        change.pending.change.provenance.source,
        shown(config, &change.pending.pending_dir)
    )?;
    let mut any = false;
    for output in change.comparison.outputs.iter().filter(|o| o.total > 0) {
        any = true;
        writeln!(
            out,
            "{BOLD}--- golden/{}\n+++ pending/{}{BOLD:#}",
            output.output, output.output
        )?;
        let shown_differences: Vec<_> = output.differences.iter().take(SHOWN).cloned().collect();
        human::write_differences(out, &shown_differences)?;
        if output.total > shown_differences.len() {
            writeln!(
                out,
                "{DIM}… {} more{DIM:#}",
                output.total - shown_differences.len()
            )?;
        }
    }
    for note in &change.comparison.notes {
        writeln!(out, "{DIM}note: {note}{DIM:#}")?;
    }
    if !any {
        writeln!(
            out,
            "{DIM}no difference under the rules (the change is in what the rules hide, or in the exit status){DIM:#}"
        )?;
    }
    if alike > 1 {
        writeln!(
            out,
            "{DIM}{} pending have these same differences{DIM:#}",
            plural(alike, "change")
        )?;
    }
    Ok(())
}

/// Where answers come from: single keypresses at a terminal, lines from a script.
enum Answers {
    Keys(console::Term),
    Lines(std::io::StdinLock<'static>),
}

impl Answers {
    fn open() -> Self {
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            Answers::Keys(console::Term::stdout())
        } else {
            Answers::Lines(std::io::stdin().lock())
        }
    }

    /// The next answer; `None` at the end of the input (or Ctrl-C/Ctrl-D at a terminal).
    fn next(&mut self) -> std::io::Result<Option<String>> {
        match self {
            Answers::Keys(term) => match term.read_char() {
                Ok('\u{3}' | '\u{4}') => Ok(None),
                Ok(key) => Ok(Some(key.to_string())),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(None),
                Err(e) => Err(e),
            },
            Answers::Lines(stdin) => {
                let mut line = String::new();
                Ok((stdin.read_line(&mut line)? > 0).then_some(line))
            }
        }
    }

    /// Whether the answer must be printed (a keypress is not echoed).
    fn echoes(&self) -> bool {
        matches!(self, Answers::Keys(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(parse_key("a\n"), Some(Key::Accept));
        assert_eq!(parse_key("R"), Some(Key::RejectAlike));
        assert_eq!(parse_key("\n"), Some(Key::Skip));
        assert_eq!(parse_key("x"), None);
    }
}

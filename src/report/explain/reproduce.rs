//! The `reproduce.sh` of a bundle (`parity explain --bundle DIR`): both sides' commands exactly
//! as the run recorded them (argv, variables, working directory), on the bundle's copy of the
//! fixture (`input/`), each into a fresh `rerun/` directory; then `parity diff` of their
//! outputs under the configuration's rules; then the line that reruns the case in the project.
//!
//! The recorded commands name the run's paths: the fixture, and `{out}` and `{state}` under the
//! run's report directory. [`plan`] finds those paths in the commands and the script writes
//! each as the bundle's own (`"$B"/input`, `"$B"/rerun/legacy/out`), so the bundle runs from
//! wherever it is copied to. Bundle layout, per step for a scenario:
//!
//! ```text
//! input/                   the fixture (a file fixture as input/<its name>)
//! legacy/ candidate/       the run's kept outputs: out/, stdout, stderr
//! golden/                  the golden's outputs, when the case was compared with goldens only
//! rerun/<side>/            what reproduce.sh ran: out/, stdout, stderr; rerun/state/<side>
//! ```

use crate::outcome::CaseOutcome;
use crate::report::shell::{command_line_with, shell_quote};
use crate::runner::SideRun;

/// Where the run put a case, as its commands name it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The fixture's path (a scenario's steps are under it).
    pub fixture: String,
    /// True for a file fixture: it is copied to `input/<file name>`.
    pub fixture_is_file: bool,
    /// The case's run directory (`<report dir>/outputs/<suite>/<fixture>`): each side's `{out}`
    /// and `{state}` are under it.
    pub case_dir: String,
}

/// One run the script makes.
#[derive(Debug, Clone)]
pub struct SidePlan {
    pub side: &'static str,
    pub run: SideRun,
    /// Its directory in the bundle: `rerun/legacy`, `rerun/<step>/legacy`.
    pub dir: String,
}

/// The runs of one step (or of a case without steps) and what the script compares.
#[derive(Debug, Clone)]
pub struct StepPlan {
    pub step: Option<String>,
    pub runs: Vec<SidePlan>,
    /// The reference's outputs in the bundle: the legacy's rerun, or the golden's copy when
    /// the case was compared with goldens only; `None` when there is none.
    pub reference: Option<String>,
    /// The candidate's rerun outputs.
    pub compared: Option<String>,
}

/// The whole script's inputs.
#[derive(Debug, Clone)]
pub struct Script {
    pub label: String,
    /// The parity binary to call when `PARITY` is not set (the one that wrote the bundle).
    pub parity: String,
    /// The configuration whose rules `parity diff` applies.
    pub config: String,
    /// The command that reruns the case in the project.
    pub rerun: String,
    /// What the run's paths become in the bundle, longest first.
    pub replace: Vec<(String, String)>,
    pub steps: Vec<StepPlan>,
}

/// The bundle's path for the fixture: `input`, or `input/<file name>` for a file fixture.
pub fn input_path(origin: &Origin) -> String {
    if origin.fixture_is_file {
        let name = origin
            .fixture
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("fixture");
        format!("input/{name}")
    } else {
        "input".to_owned()
    }
}

/// What the run's paths become in the bundle, longest first: the case's run directory becomes
/// `rerun` (so `{out}` is `rerun/<side>/out` and `{state}` is `rerun/state/<side>`), the
/// fixture becomes [`input_path`] (a step's input under it too).
pub fn replacements(origin: &Origin) -> Vec<(String, String)> {
    let mut replace = vec![
        (origin.case_dir.clone(), "rerun".to_owned()),
        (origin.fixture.clone(), input_path(origin)),
    ];
    replace.retain(|(from, _)| !from.is_empty());
    replace.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    replace
}

/// Each step's runs (one step for a case without steps); `golden(step)` gives the bundle's
/// copy of a step's golden outputs, for a case compared with goldens only.
pub fn steps(case: &CaseOutcome, golden: &dyn Fn(Option<&str>) -> Option<String>) -> Vec<StepPlan> {
    let step = |name: Option<&str>, legacy: Option<&SideRun>, candidate: Option<&SideRun>| {
        let dir = |side: &str| match name {
            Some(step) => format!("rerun/{step}/{side}"),
            None => format!("rerun/{side}"),
        };
        let mut runs = Vec::new();
        if let Some(run) = legacy {
            runs.push(SidePlan {
                side: "legacy",
                run: run.clone(),
                dir: dir("legacy"),
            });
        }
        if let Some(run) = candidate {
            runs.push(SidePlan {
                side: "candidate",
                run: run.clone(),
                dir: dir("candidate"),
            });
        }
        StepPlan {
            step: name.map(str::to_owned),
            reference: match legacy {
                Some(_) => Some(format!("{}/out", dir("legacy"))),
                None => golden(name),
            },
            compared: candidate.map(|_| format!("{}/out", dir("candidate"))),
            runs,
        }
    };
    if case.steps.is_empty() {
        return vec![step(None, case.legacy.as_ref(), Some(&case.candidate))];
    }
    case.steps
        .iter()
        .filter(|s| s.legacy.is_some() || s.candidate.is_some())
        .map(|s| step(Some(&s.step), s.legacy.as_ref(), s.candidate.as_ref()))
        .collect()
}

/// `text` as one shell word in which each of the run's paths is the bundle's
/// (`--out="$B"/rerun/legacy/out`).
pub(super) fn relocated(text: &str, replace: &[(String, String)]) -> String {
    let mut word = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = replace
            .iter()
            .filter_map(|(from, to)| rest.find(from.as_str()).map(|at| (at, from, to)))
            .min_by_key(|(at, from, _)| (*at, std::cmp::Reverse(from.len())));
        let Some((at, from, to)) = next else {
            word.push_str(&shell_quote(rest));
            break;
        };
        if at > 0 {
            word.push_str(&shell_quote(&rest[..at]));
        }
        word.push_str(&bundle_path(to));
        rest = &rest[at + from.len()..];
    }
    if word.is_empty() {
        word.push_str("''");
    }
    word
}

/// A path inside the bundle as a shell word: `"$B"/rerun/legacy/out`.
fn bundle_path(relative: &str) -> String {
    format!("\"$B\"{}", shell_quote(&format!("/{relative}")))
}

/// `printf '%s\n' TEXT`, for a line the script prints.
fn say(text: &str) -> String {
    format!("printf '%s\\n' {}\n", shell_quote(text))
}

/// The script.
pub fn render(script: &Script) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "#!/bin/sh\n\
         # Reproduces {label}, written by `parity explain --bundle`.\n\
         # Runs both sides' commands as the run recorded them (argv, variables, working\n\
         # directory) on the copy of the fixture in input/, each into a fresh rerun/ directory,\n\
         # then `parity diff` of their outputs under the [[compare]] rules of\n\
         # {config}\n\
         # Waivers, [[stage]] pairing and the verdict are `parity run`'s: the line printed last\n\
         # reruns the case in the project. Set PARITY to choose the parity binary.\n\
         set -eu\n\
         B=$(CDPATH= cd -- \"$(dirname -- \"$0\")\" && pwd)\n\
         PARITY=${{PARITY:-{parity}}}\n\
         command -v \"$PARITY\" >/dev/null 2>&1 || PARITY=parity\n\
         rm -rf \"$B/rerun\"\n\
         mkdir -p \"$B/rerun/state/legacy\" \"$B/rerun/state/candidate\"\n\
         worst=0\n",
        label = one_line(&script.label),
        config = one_line(&script.config),
        parity = shell_quote(&script.parity),
    ));
    for step in &script.steps {
        let prefix = step
            .step
            .as_ref()
            .map(|s| format!("step {s}, "))
            .unwrap_or_default();
        for side in &step.runs {
            let command = command_line_with(
                Some(&side.run.cwd),
                &side.run.env,
                &side.run.argv,
                &|word| relocated(word, &script.replace),
            );
            let dir = bundle_path(&side.dir);
            out.push_str(&format!(
                "\n# {prefix}{side}: recorded {status}\n\
                 mkdir -p {dir}/out\n\
                 status=0\n\
                 ( {command} ) </dev/null >{dir}/stdout 2>{dir}/stderr || status=$?\n\
                 printf '%s\\n' {what}\"$status\"{was}\n",
                side = side.side,
                status = one_line(&side.run.status.describe()),
                what = shell_quote(&format!("{prefix}{}: exit ", side.side)),
                was = shell_quote(&format!(
                    " (the run: {}; stdout, stderr and out/ in {})",
                    side.run.status.describe(),
                    side.dir
                )),
            ));
        }
        match (&step.reference, &step.compared) {
            (Some(left), Some(right)) => out.push_str(&format!(
                "\n{}found=0\n\
                 \"$PARITY\" diff {} {} --config {} || found=$?\n\
                 [ \"$found\" -le \"$worst\" ] || worst=$found\n",
                say(&format!("== {prefix}parity diff {left} {right}")),
                bundle_path(left),
                bundle_path(right),
                shell_quote(&script.config),
            )),
            _ => out.push_str(&format!(
                "\n{}",
                say(&format!(
                    "== {prefix}nothing to compare: the case has no reference outputs here"
                ))
            )),
        }
    }
    out.push_str(&format!(
        "\n{}{}exit \"$worst\"\n",
        say("\nto rerun the case in the project, judged as the run judged it:"),
        say(&format!("  {}", script.rerun)),
    ));
    out
}

/// Text for a comment: one line, control characters escaped.
fn one_line(text: &str) -> String {
    crate::report::inert::inert_line(text).into_owned()
}

/// The case's run directory as its recorded commands name it: `<results dir>/outputs/<suite>/
/// <fixture>` when they name that (results.json read where the run wrote it), else the
/// directory they do name ending in `/outputs/<suite>/<fixture>` (results.json copied or
/// moved since), else the former.
pub fn case_dir_in_commands(results_dir: &str, case: &CaseOutcome) -> String {
    let tail = format!("/outputs/{}/{}", case.id.suite, case.id.dir_name());
    let expected = format!("{}{tail}", results_dir.trim_end_matches('/'));
    let runs = case.runs().into_iter().map(|(_, r)| r).chain(
        case.steps
            .iter()
            .flat_map(|s| s.legacy.iter().chain(&s.candidate)),
    );
    let texts: Vec<&str> = runs
        .flat_map(|r| {
            r.argv
                .iter()
                .map(String::as_str)
                .chain(r.env.iter().map(|(_, v)| v.as_str()))
                .chain([r.cwd.as_str()])
        })
        .collect();
    let within = format!("{tail}/");
    if texts.iter().any(|t| t.contains(&format!("{expected}/"))) {
        return expected;
    }
    for text in texts {
        let Some(at) = text.find(&within) else {
            continue;
        };
        let before = &text[..at];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace() || matches!(c, '=' | '"' | '\'' | ':' | ','))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let root = &before[start..];
        if root.starts_with('/') {
            return format!("{root}{tail}");
        }
    }
    expected
}

//! The one-line command that reruns just one case of a past run:
//!
//! ```text
//! parity run --config parity.toml --suite regressions --fixture override_then_newer_scan --against both
//! ```
//!
//! Every report that shows a failing case shows it ([`rerun_command`]). The fixture id is
//! escaped so that, as a `--fixture` glob, it matches that fixture and no other; the variant,
//! what the candidate was compared against and, for a case that failed only its performance
//! budget, `--bench`, are named, so the rerun judges the case the way the run did.

use std::path::Path;

use super::shell::shell_words;
use crate::bench::BudgetVerdict;
use crate::outcome::{CaseOutcome, Reference, RunResults};

/// `parity run --config … --suite … --fixture … [--variant …] --against … [--bench]`, each
/// argument shell-quoted, with the configuration's path relative to the current directory when
/// it lies under it.
pub fn rerun_command(results: &RunResults, case: &CaseOutcome) -> String {
    let cwd = std::env::current_dir().ok();
    shell_words(&rerun_args(results, case, cwd.as_deref()))
}

/// The arguments of [`rerun_command`] (without shell quoting), with the configuration's path
/// relative to `cwd` when it lies under it, else as recorded.
pub fn rerun_args(results: &RunResults, case: &CaseOutcome, cwd: Option<&Path>) -> Vec<String> {
    let config = Path::new(&results.config.path);
    let config = cwd
        .and_then(|cwd| config.strip_prefix(cwd).ok())
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or(config);
    let mut args: Vec<String> = vec![
        "parity".into(),
        "run".into(),
        "--config".into(),
        config.to_string_lossy().into_owned(),
        "--suite".into(),
        case.id.suite.clone(),
        "--fixture".into(),
        glob_escape(&case.id.fixture),
    ];
    if let Some(variant) = &case.id.variant {
        args.extend(["--variant".into(), variant.clone()]);
    }
    args.extend(["--against".into(), against(case).into()]);
    if over_budget(case) {
        args.push("--bench".into());
    }
    args
}

/// `text` as a `--fixture` glob that matches exactly `text`: each glob metacharacter (`*`, `?`,
/// `[`, `]`, `{`, `}`) and the backslash (an escape in globs) in a class of its own (`[*]`).
pub fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            escaped.push('[');
            escaped.push(c);
            escaped.push(']');
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// What the case was compared against, as `--against` names it. A case that ran without its
/// legacy was compared with goldens only, even when it found none.
fn against(case: &CaseOutcome) -> &'static str {
    let legacy = case.against.contains(&Reference::Legacy)
        || case.legacy.is_some()
        || case.steps.iter().any(|s| s.legacy.is_some());
    let golden = case.against.contains(&Reference::Golden);
    match (legacy, golden) {
        (true, true) => "both",
        (true, false) => "legacy",
        (false, _) => "golden",
    }
}

/// True when the case's outputs agree but a gating metric exceeded its budget: only a rerun
/// with `--bench` sees that failure again.
fn over_budget(case: &CaseOutcome) -> bool {
    case.verdict.is_success()
        && case.benches().iter().any(|(_, bench)| {
            bench
                .metrics
                .values()
                .any(|m| m.judgement.gating && m.judgement.verdict == BudgetVerdict::Exceeded)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn an_escaped_id_matches_itself_and_nothing_else() {
        let ids = [
            "plain.json",
            "a*b.json",
            "what?.json",
            "[x].json",
            "x].json",
            "{a,b}.json",
            "dir/sub/case",
            "back\\slash",
            "!bang",
            "[!a]",
            "a-b[0-9]",
            "日本.json",
        ];
        for id in ids {
            let glob = globset::Glob::new(&glob_escape(id))
                .unwrap_or_else(|e| panic!("{id}: {e}"))
                .compile_matcher();
            for other in ids {
                assert_eq!(glob.is_match(other), other == id, "{id} vs {other}");
            }
            for near in ["a.json", "x.json", "a,b}.json", "ab.json", "what.json", "b"] {
                assert!(!glob.is_match(near) || near == id, "{id} matched {near}");
            }
        }
        assert_eq!(glob_escape("a*b?[c]{d}"), "a[*]b[?][[]c[]][{]d[}]");
    }

    #[test]
    fn reruns_one_case_against_what_it_was_compared_with() {
        let mut results = sample();
        let case = &mut results.cases[2];
        case.id.fixture = "it's [v2]*.json".into();
        case.id.variant = Some("services-off".into());
        let case = results.cases[2].clone();
        assert_eq!(
            shell_words(&rerun_args(&results, &case, Some(Path::new("/elsewhere")))),
            "parity run --config /repo/parity.toml --suite main --fixture 'it'\\''s [[]v2[]][*].json' \
             --variant services-off --against legacy"
        );
        assert_eq!(
            rerun_args(&results, &case, Some(Path::new("/repo")))[3],
            "parity.toml"
        );
        let mut golden_only = case.clone();
        golden_only.legacy = None;
        golden_only.against = vec![Reference::Golden];
        assert_eq!(
            rerun_args(&results, &golden_only, None)
                .last()
                .map(String::as_str),
            Some("golden")
        );
        let mut both = case;
        both.against = vec![Reference::Legacy, Reference::Golden];
        assert!(rerun_command(&results, &both).ends_with("--against both"));
    }
}

//! `parity report`: re-render a past run from its results.json.

use std::io::Write;

use super::ReportArgs;
use crate::exit_code;
use anyhow::Context;

use crate::report::view::RunView;
use crate::report::{Render, ReportFormat, github, read_results, write_atomic};

pub fn report(args: ReportArgs) -> anyhow::Result<i32> {
    let results = read_results(&args.results)?;
    if args.format == ReportFormat::Github {
        return github(&results, &args);
    }
    let text = args.format.renderer().render(&results)?;
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => crate::cli::output::raw_stdout().write_all(text.as_bytes())?,
    }
    Ok(exit_code::OK)
}

/// `--format github`: the annotations on stdout, and the step summary to `--out FILE`, else
/// appended to `$GITHUB_STEP_SUMMARY` when set, else on stdout after them.
fn github(results: &crate::outcome::RunResults, args: &ReportArgs) -> anyhow::Result<i32> {
    let view = RunView::of(results);
    let mut stdout = crate::cli::output::raw_stdout();
    for line in github::annotations(&view) {
        writeln!(stdout, "{}", crate::report::inert::inert_line(&line))?;
    }
    let summary_file = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty());
    match (&args.out, summary_file) {
        (Some(path), _) => {
            let text = github::Github.render(results)?;
            write_atomic(path, text.as_bytes())?;
        }
        (None, Some(path)) => github::append_summary(std::path::Path::new(&path), &view)
            .with_context(|| format!("cannot append to {}", path.to_string_lossy()))?,
        (None, None) => stdout.write_all(github::Github.render(results)?.as_bytes())?,
    }
    Ok(exit_code::OK)
}

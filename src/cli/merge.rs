//! `parity merge`: the shards' results.json files become the whole run's results and every
//! report, gated as the unsharded run would have been (see [`crate::flow::merge`]).

use std::io::Write;

use anyhow::Context;

use super::{MergeArgs, Printed};
use crate::report::{self, Render, json::Json, terminal};

pub fn merge(args: MergeArgs) -> anyhow::Result<i32> {
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let results = crate::flow::merge::merge(&args.results, args.allow_partial)?;
    let out = cwd.join(&args.out);
    let files = report::write_all(&out, &results)?;
    if let Err(e) = report::github::publish(&results, &mut std::io::stderr()) {
        anstream::eprintln!("warning: cannot write the GitHub step summary: {e}");
    }
    terminal::write_rule_warnings(&mut anstream::stderr().lock(), &results)?;
    match args.format {
        Printed::Human => {
            terminal::write_summary(&mut crate::cli::output::stdout(), &results, &files)?
        }
        Printed::Json => {
            terminal::write_summary(&mut anstream::stderr().lock(), &results, &files)?;
            crate::cli::output::raw_stdout().write_all(Json.render(&results)?.as_bytes())?;
        }
    }
    notify(&results, &out);
    Ok(results.summary.exit_code)
}

/// `[report] on_finish` of the run's configuration, when it is here and unchanged.
fn notify(results: &crate::outcome::RunResults, out: &std::path::Path) {
    let path = std::path::Path::new(&results.config.path);
    let Ok(config) = crate::config::load(path) else {
        return;
    };
    if config.hash != results.config.hash {
        return;
    }
    if let Some(cmd) = &config.report.on_finish
        && let Some(warning) =
            crate::flow::notify::on_finish(cmd, &config.base_dir, out, results.summary.exit_code)
    {
        anstream::eprintln!("warning: {warning}; the run's result stands");
    }
}

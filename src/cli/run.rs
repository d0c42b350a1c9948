//! `parity run` and `parity bench`: the flags become a [`Request`], [`flow::run`] does the rest,
//! and the summary is printed (on stdout, or on stderr when stdout carries results.json).

use std::io::Write;

use anyhow::Context;

use super::{Printed, RunArgs};
use crate::flow::{self, Request};
use crate::report::{Render, json::Json, terminal};

pub fn run(args: RunArgs) -> anyhow::Result<i32> {
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let request = Request {
        config: args.cases.config.clone(),
        selection: args.cases.selection(),
        jobs: args.cases.jobs,
        out: args.out.clone(),
        keep_outputs: args.keep_outputs,
        against: args.against,
        bench: args.bench.then(|| args.bench_flags.clone()),
        resume: args.resume,
        shard: args.shard,
    };
    let finished = flow::run(request, &cwd)?;
    let (results, files) = (&finished.results, &finished.reports);
    terminal::write_rule_warnings(&mut anstream::stderr().lock(), results)?;
    match args.format {
        Printed::Human => {
            terminal::write_summary(&mut crate::cli::output::stdout(), results, files)?
        }
        Printed::Json => {
            terminal::write_summary(&mut anstream::stderr().lock(), results, files)?;
            crate::cli::output::raw_stdout().write_all(Json.render(results)?.as_bytes())?;
        }
    }
    Ok(results.summary.exit_code)
}

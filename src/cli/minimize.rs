//! `parity minimize`: the flags become a [`Request`], [`crate::minimize::minimize`] does the
//! rest, and the result is printed on stdout.

use std::io::Write;

use anyhow::Context;

use super::MinimizeArgs;
use crate::minimize::{self, Request, human};

pub fn minimize(args: MinimizeArgs) -> anyhow::Result<i32> {
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let request = Request {
        results: args.results,
        case: args.case,
        out: args.out,
        cluster: args.cluster,
        jobs: crate::flow::plan::jobs(args.jobs),
        max_runs: args.max_runs,
        force: args.force,
    };
    let minimized = minimize::minimize(&request, &cwd)?;
    crate::cli::output::stdout().write_all(human::summary(&minimized).as_bytes())?;
    Ok(minimized.exit_code())
}

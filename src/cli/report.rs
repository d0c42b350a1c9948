//! `parity report`: re-render a past run from its results.json.

use std::io::Write;

use super::ReportArgs;
use crate::exit_code;
use crate::report::{read_results, write_atomic};

pub fn report(args: ReportArgs) -> anyhow::Result<i32> {
    let results = read_results(&args.results)?;
    let text = args.format.renderer().render(&results)?;
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => crate::cli::output::raw_stdout().write_all(text.as_bytes())?,
    }
    Ok(exit_code::OK)
}

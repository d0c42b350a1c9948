//! The `parity` binary: dispatches the measuring helper before anything else exists (see
//! `parity::runner::measure`), then hands over to the CLI.

use std::ffi::OsStr;

use parity::runner::measure::{MEASURE_ARG, measure_main};

fn main() {
    let mut args = std::env::args_os();
    if args.nth(1).as_deref() == Some(OsStr::new(MEASURE_ARG)) {
        let rest: Vec<_> = args.collect();
        std::process::exit(measure_main(&rest));
    }
    std::process::exit(parity::cli::main());
}

//! Exit codes: a contract, documented in the README and `--help`.
//!
//! They follow diff(1) for 0/1/2 and nextest for 4 ("no tests to run"), and stay clear of 101
//! (Rust panic), 124/137 (timeout, kill) and 126/127 (shell), so a crash is never read as a verdict.

/// Every fixture identical, equivalent or waived, every budget within (or not measured).
pub const OK: i32 = 0;
/// At least one fixture differs, a side failed where the other did not, or a golden mismatches.
pub const DIFFERENT: i32 = 1;
/// Usage, configuration or harness error: nothing trustworthy could be compared.
pub const TROUBLE: i32 = 2;
/// Outputs agree but a performance budget is exceeded.
pub const OVER_BUDGET: i32 = 3;
/// No fixture matched the selection.
pub const NOTHING_SELECTED: i32 = 4;

/// The table shown by `--help`.
pub const HELP: &str = "\
Exit codes:
  0  every fixture identical, equivalent or waived (and within budget)
  1  a fixture differs, a side failed where the other did not, or a golden mismatches
  2  usage, configuration or harness error: nothing trustworthy was compared
  3  outputs agree but a performance budget is exceeded
  4  no fixture matched the selection";

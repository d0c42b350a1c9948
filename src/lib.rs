//! parity: a side-by-side validation harness for migrations.
//!
//! Data flows one way: [`cli`] parses arguments, [`config`] loads and validates `parity.toml`,
//! [`fixture`] discovers what to run, [`runner`] runs both sides of every fixture, [`compare`]
//! turns two runs into compared outputs using the [`diff`] engine, [`outcome`] holds the verdicts
//! every report is rendered from, and [`report`] writes them. [`exit_code`] is the contract.
//! [`calibrate`] runs each side against itself to measure what varies between runs.

pub mod bench;
pub mod calibrate;
pub mod cli;
pub mod compare;
pub mod config;
pub mod diff;
pub mod exit_code;
pub mod fixture;
pub mod golden;
pub mod judge;
pub mod outcome;
pub mod report;
pub mod runner;
pub mod style;
pub mod units;

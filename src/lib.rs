//! parity: a side-by-side validation harness for migrations.
//!
//! Data flows one way: [`cli`] parses arguments and hands a run to [`flow`], which owns it:
//! [`config`] loads and validates `parity.toml`, [`fixture`] discovers what to run, [`runner`]
//! runs both sides of every fixture, [`compare`] turns two runs into compared outputs using the
//! [`diff`] engine, [`golden`] keeps the references, [`bench`] holds the performance gate's
//! statistics, [`outcome`] holds the verdicts every report is rendered from, and [`report`]
//! writes them. [`exit_code`] is the contract. [`calibrate`] runs each side against itself to
//! measure what varies between runs. [`scaffold`] writes a first `parity.toml` for
//! `parity init`. [`units`] and [`style`] are leaves every module may use.

pub mod bench;
pub mod calibrate;
pub mod cli;
pub mod compare;
pub mod config;
pub mod diff;
pub mod exit_code;
pub mod fixture;
pub mod flow;
pub mod golden;
pub mod minimize;
pub mod outcome;
pub mod report;
pub mod runner;
pub mod scaffold;
pub mod shard;
pub mod style;
pub mod units;

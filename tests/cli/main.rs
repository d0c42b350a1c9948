//! Integration tests: the real `parity` binary against real child processes.

mod bench;
mod browser;
mod calibrate;
mod config_errors;
mod convert;
mod diff;
mod example;
mod explain;
mod github;
mod golden;
mod init;
mod launchers;
mod measure;
mod minimize;
mod moved;
mod pipelines;
mod provenance;
mod run;
mod shard;
mod support;
mod trust;
mod verdicts;
mod warehouse;

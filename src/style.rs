//! The terminal's colours, in one place, named for what they mean. Output goes through
//! `anstream`, which drops them when `NO_COLOR` is set, `CLICOLOR=0`, or the stream is not a
//! terminal. A leaf module.

use anstyle::{AnsiColor, Style};

/// A failure: a verdict that fails the gate, an expired waiver, `✗`.
pub const FAIL: Style = AnsiColor::Red.on_default().bold();
/// A pass: `PASS`, a budget within, a new golden.
pub const PASS: Style = AnsiColor::Green.on_default().bold();
/// Something to look at that does not fail the run by itself.
pub const WARN: Style = AnsiColor::Yellow.on_default();
/// A value only the left (legacy, golden) side has.
pub const REMOVED: Style = AnsiColor::Red.on_default();
/// A value only the right (candidate) side has.
pub const ADDED: Style = AnsiColor::Green.on_default();
/// A value both sides have in another form (order, count, spelling).
pub const CHANGED: Style = AnsiColor::Cyan.on_default();
/// Context: paths, counts, notes.
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();

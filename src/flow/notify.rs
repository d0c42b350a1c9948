//! `[report] on_finish`: a command run once after the reports are written (a chat message, an
//! upload, a dashboard), told the result through its environment: `PARITY_EXIT_CODE`,
//! `PARITY_VERDICT` (`pass` or `fail`), `PARITY_REPORT_DIR` and `PARITY_RESULTS`. It runs in the
//! configuration's directory with parity's stderr as its stdout and stderr (parity's stdout
//! may be results.json). Its failure is a warning: it never changes parity's exit code, which
//! is the verdict.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report::ReportFormat;

/// How long the hook may run before it is killed (with its process group).
const HOOK_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs `cmd` for a run that ends with `exit_code`, its reports in `report_dir`; `None` when
/// it went well, else the warning to print.
pub fn on_finish(
    cmd: &[String],
    base_dir: &Path,
    report_dir: &Path,
    exit_code: i32,
) -> Option<String> {
    let (program, args) = cmd.split_first()?;
    let verdict = if exit_code == crate::exit_code::OK {
        "pass"
    } else {
        "fail"
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(base_dir)
        .env("PARITY_EXIT_CODE", exit_code.to_string())
        .env("PARITY_VERDICT", verdict)
        .env("PARITY_REPORT_DIR", report_dir)
        .env(
            "PARITY_RESULTS",
            report_dir.join(ReportFormat::Json.file_name()),
        )
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .stderr(std::io::stderr())
        .process_group(0);
    let shown = cmd.join(" ");
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Some(format!("on_finish `{shown}` could not be started: {e}")),
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return None,
            Ok(Some(status)) => return Some(format!("on_finish `{shown}` failed ({status})")),
            Ok(None) if started.elapsed() > HOOK_TIMEOUT => {
                // SAFETY: signalling the process group of a child we started in its own group.
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                let _ = child.wait();
                return Some(format!(
                    "on_finish `{shown}` was killed after {}",
                    crate::units::format_ms(HOOK_TIMEOUT.as_millis() as f64)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Some(format!("on_finish `{shown}`: cannot wait for it: {e}")),
        }
    }
}

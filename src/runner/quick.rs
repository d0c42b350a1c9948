//! Short commands parity runs for itself, not as a side: a side's `version_cmd`, a suite's
//! `requires`. Each runs in its own process group with stdin closed and its output in temporary
//! files (a full pipe never blocks it), and is killed with its group when it outlives its time,
//! or when parity dies.

use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long such a command may take.
pub const QUICK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `cmd` in `dir`; its stdout, trimmed, when it succeeds, else why not, for a person
/// (`what` names the command in messages: "`version_cmd`").
pub fn run_quick(
    cmd: &[String],
    dir: &Path,
    what: &str,
    timeout: Duration,
) -> Result<String, String> {
    let mut out =
        tempfile::tempfile().map_err(|e| format!("cannot run {what}: no temporary file: {e}"))?;
    run_into(cmd, dir, what, timeout, &mut out)?;
    Ok(read_start(&mut out))
}

/// The first 64 KiB of `file`, trimmed.
fn read_start(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.take(64 * 1024).read_to_string(&mut text);
    text.trim().to_owned()
}

/// The last lines of `file` (at most 5, from its last 64 KiB), trimmed: where a failing
/// command says why (a traceback ends with the error).
fn read_end(file: &mut std::fs::File) -> String {
    const TAIL: u64 = 64 * 1024;
    let length = file.metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::new();
    if file
        .seek(std::io::SeekFrom::Start(length.saturating_sub(TAIL)))
        .is_ok()
    {
        let _ = file.take(TAIL).read_to_end(&mut bytes);
    }
    super::capture::last_lines(&bytes, 5).trim().to_owned()
}

/// Runs `cmd` in `dir` with its stdout written to `out` (streamed there, never held in
/// memory); when it fails, why, with the end of its stderr (else of its stdout).
pub fn run_into(
    cmd: &[String],
    dir: &Path,
    what: &str,
    timeout: Duration,
    out: &mut std::fs::File,
) -> Result<(), String> {
    let (program, args) = cmd.split_first().ok_or(format!("{what} is empty"))?;
    let mut err =
        tempfile::tempfile().map_err(|e| format!("cannot run {what}: no temporary file: {e}"))?;
    let pipes = out.try_clone().and_then(|o| Ok((o, err.try_clone()?)));
    let (stdout, stderr) = pipes.map_err(|e| format!("cannot run {what}: {e}"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    // It dies with parity, even a parity killed with SIGKILL: the death signal follows the
    // thread that starts it, and that thread waits for it below until it ends.
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec the closure makes two system calls and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // parity died before the signal was armed
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {what} (`{program}`): {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) | Err(_) => break None,
        }
    };
    // Whatever it started goes with it.
    let group = child.id() as libc::pid_t;
    // SAFETY: kill has no memory-safety preconditions; the group is the child's own.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "{what} (`{program}`) did not finish within {} s; parity killed it",
            timeout.as_secs()
        ));
    };
    if !status.success() {
        let stderr = read_end(&mut err);
        let stderr = if stderr.is_empty() {
            read_end(out)
        } else {
            stderr
        };
        let described = match status.code() {
            Some(code) => format!("exited with {code}"),
            None => "was killed by a signal".to_owned(),
        };
        let tail = if stderr.is_empty() {
            String::new()
        } else {
            format!(": {stderr}")
        };
        return Err(format!("{what} (`{program}`) {described}{tail}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn gives_stdout_or_says_why_not() {
        let dir = std::env::temp_dir();
        assert_eq!(
            run_quick(&sh("echo ' v1 '"), &dir, "`x`", QUICK_TIMEOUT),
            Ok("v1".into())
        );
        let failed = run_quick(
            &sh("echo no server >&2; exit 2"),
            &dir,
            "`x`",
            QUICK_TIMEOUT,
        );
        assert_eq!(failed, Err("`x` (`sh`) exited with 2: no server".into()));
        let missing = run_quick(&["/nonexistent/prog".into()], &dir, "`x`", QUICK_TIMEOUT);
        assert!(missing.is_err_and(|e| e.starts_with("cannot run `x` (`/nonexistent/prog`)")));
    }

    #[test]
    fn a_hanging_command_and_what_it_started_are_killed() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let hung = run_quick(
            &sh("sleep 30 & echo $! > child; wait"),
            dir.path(),
            "`x`",
            Duration::from_millis(300),
        );
        assert!(hung.is_err_and(|e| e.contains("did not finish within")));
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid: libc::pid_t = std::fs::read_to_string(dir.path().join("child"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // Gone, or a zombie waiting for whoever adopted it to reap it.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let running = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'));
        assert!(!running, "the command's child outlived it: {state}");
    }
}

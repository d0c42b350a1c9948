//! Starting a side's command from the measuring helper the way `posix_spawn` does it — a
//! `clone(CLONE_VM | CLONE_VFORK)` child that borrows the helper's memory until it calls
//! `execve`, with the helper suspended meanwhile — plus what `posix_spawn` cannot do: set
//! `PR_SET_PDEATHSIG`, so the command dies with its helper. `std::process::Command` with a
//! `pre_exec` hook forks instead: the helper's page tables are copied and then torn down by the
//! `exec`, and its pages are copied on write after the fork. Measured on the project's machine
//! with `scripts/overhead.py`: ~0.12 ms of CPU per run, and most of a run's wall time when the
//! helper and the side share one CPU.
//!
//! The child runs on its own small stack in the helper's address space, so it only makes
//! system calls on data prepared before the `clone` (no allocation, no lock). Before the
//! `clone` every signal is blocked, so no handler of the helper can run in the child; the child
//! sets the dispositions the helper changed back to the default (handlers, and `SIGPIPE`, which
//! Rust ignores; found once per helper), clears the mask, and `exec`s. What it does is what `Command::spawn` did:
//! `PR_SET_PDEATHSIG` (and a check that the helper did not die before it was armed), a new
//! process group, stdin, stdout and stderr, the working directory, then `execvp`'s search of
//! `PATH` (from the command's own environment) with its fallback to `/bin/sh` for a script
//! without `#!`. A failure before the `exec` is written back through the shared memory and
//! the child is reaped.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

/// The child's stack: it only makes system calls.
const STACK: usize = 64 * 1024;
/// `execvp`'s search path when the environment has no `PATH` (glibc's `_CS_PATH`).
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// What a helper keeps across the runs it starts: the child's stack and its own environment,
/// made once (the helper's environment never changes), so a run costs no allocation of either.
pub struct Spawner {
    stack: Vec<u8>,
    /// The helper's environment, by name.
    vars: BTreeMap<OsString, OsString>,
    /// The same as `NAME=value` strings, for a run that adds no variable.
    envp: Vec<CString>,
}

impl Spawner {
    pub fn new() -> io::Result<Spawner> {
        let vars: BTreeMap<OsString, OsString> = std::env::vars_os().collect();
        let envp = env_strings(&vars)?;
        Ok(Spawner {
            stack: vec![0u8; STACK],
            vars,
            envp,
        })
    }

    /// Starts `argv` with the helper's environment plus `env`, in `cwd`, with `stdio` as its
    /// stdin, stdout and stderr, as the leader of a new process group, `SIGKILL` as its death
    /// signal. Returns its pid.
    pub fn spawn(
        &mut self,
        argv: &[OsString],
        env: &[(OsString, OsString)],
        cwd: &Path,
        stdio: [RawFd; 3],
    ) -> io::Result<libc::pid_t> {
        // The environment as `Command` builds it: the helper's, then the run's variables (a
        // later one of the same name wins).
        let merged = if env.is_empty() {
            None
        } else {
            let mut vars = self.vars.clone();
            vars.extend(env.iter().cloned());
            Some(vars)
        };
        let owned = merged.as_ref().map(env_strings).transpose()?;
        let envp = owned.as_deref().unwrap_or(&self.envp);
        let path = merged
            .as_ref()
            .unwrap_or(&self.vars)
            .get(OsStr::new("PATH"))
            .map(|p| p.as_bytes());
        let mut plan = Plan::new(argv, envp, path, cwd, stdio)?;
        clone_and_exec(&mut self.stack, &mut plan)
    }
}

/// `NAME=value` for each variable.
fn env_strings(vars: &BTreeMap<OsString, OsString>) -> io::Result<Vec<CString>> {
    vars.iter()
        .map(|(k, v)| {
            let mut entry = k.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(v.as_bytes());
            c_string(OsStr::from_bytes(&entry))
        })
        .collect()
}

/// Everything the child needs, prepared by the helper: C strings and the pointer arrays
/// `execve` takes.
struct Plan {
    /// Where to look for the program, in `execvp`'s order.
    candidates: Vec<CString>,
    /// Owns what `argv_ptrs` points at.
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    /// `/bin/sh`, a slot for the script, then the arguments: for a file `execve` finds
    /// executable but not a binary (ENOEXEC).
    sh_ptrs: Vec<*const libc::c_char>,
    /// Points into the caller's environment strings, which outlive the plan.
    envp_ptrs: Vec<*const libc::c_char>,
    cwd: CString,
    stdio: [RawFd; 3],
    /// The signals whose disposition goes back to the default in the child.
    reset: &'static [libc::c_int],
    /// The helper's pid, for the death-signal race check.
    parent: libc::pid_t,
    /// Written by the child when it fails before `exec`.
    error: libc::c_int,
}

const SH: &std::ffi::CStr = c"/bin/sh";

/// Runs the child on `stack` (the top of it, 16-byte aligned) until it has called `execve`
/// or exited; its pid, or why it could not start.
fn clone_and_exec(stack: &mut [u8], plan: &mut Plan) -> io::Result<libc::pid_t> {
    // SAFETY: the stack grows down from its (16-byte aligned) top, inside `stack`, which
    // outlives the child's use of it: CLONE_VFORK suspends this thread until the child has
    // called execve or exited. `plan` outlives it the same way; the child only reads it and
    // writes `plan.error`. Every signal is blocked around the clone (see the module's doc) and
    // the mask is restored after it.
    unsafe {
        let top = stack.as_mut_ptr().add(stack.len());
        let top = top.sub(top as usize % 16);
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            child,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (plan as *mut Plan).cast(),
        );
        let clone_error = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return Err(clone_error);
        }
        let error = std::ptr::read_volatile(&plan.error);
        if error != 0 {
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            return Err(io::Error::from_raw_os_error(error));
        }
        Ok(pid)
    }
}

impl Plan {
    fn new(
        argv: &[OsString],
        envp: &[CString],
        path: Option<&[u8]>,
        cwd: &Path,
        stdio: [RawFd; 3],
    ) -> io::Result<Plan> {
        let program = argv
            .first()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| io::Error::other("the command is empty"))?;
        let argv: Vec<CString> = argv
            .iter()
            .map(|a| c_string(a))
            .collect::<io::Result<_>>()?;
        let candidates = candidates(program.as_bytes(), path.unwrap_or(DEFAULT_PATH))?;
        let argv_ptrs = pointers(&argv);
        let mut sh_ptrs = vec![SH.as_ptr(), std::ptr::null()];
        sh_ptrs.extend(argv.iter().skip(1).map(|a| a.as_ptr()));
        sh_ptrs.push(std::ptr::null());
        Ok(Plan {
            candidates,
            _argv: argv,
            argv_ptrs,
            sh_ptrs,
            envp_ptrs: pointers(envp),
            cwd: c_string(cwd.as_os_str())?,
            stdio,
            reset: signals_to_reset(),
            // SAFETY: getpid has no preconditions.
            parent: unsafe { libc::getpid() },
            error: 0,
        })
    }
}

/// Every signal the helper handles (Rust's stack-overflow handlers), and SIGPIPE (Rust
/// ignores it; a command expects the default); other ignored signals stay ignored, as with
/// `Command`. Looked up once: the helper never changes a disposition after it starts.
fn signals_to_reset() -> &'static [libc::c_int] {
    static RESET: OnceLock<Vec<libc::c_int>> = OnceLock::new();
    RESET.get_or_init(|| {
        (1..=libc::SIGRTMAX())
            .filter(|&signal| {
                // SAFETY: sigaction is plain old data (zeroed is valid), and sigaction with no
                // new action only reads the current one into it.
                let (known, current) = unsafe {
                    let mut current: libc::sigaction = std::mem::zeroed();
                    let known = libc::sigaction(signal, std::ptr::null(), &mut current) == 0;
                    (known, current)
                };
                let handled =
                    current.sa_sigaction != libc::SIG_DFL && current.sa_sigaction != libc::SIG_IGN;
                known && (handled || signal == libc::SIGPIPE)
            })
            .collect()
    })
}

/// The paths `execvp` tries for `program`: itself when it names a path, else each directory
/// of `path` (an empty one is the working directory).
fn candidates(program: &[u8], path: &[u8]) -> io::Result<Vec<CString>> {
    if program.contains(&b'/') {
        return Ok(vec![c_string(OsStr::from_bytes(program))?]);
    }
    path.split(|b| *b == b':')
        .map(|dir| {
            let mut full = dir.to_vec();
            if !full.is_empty() {
                full.push(b'/');
            }
            full.extend_from_slice(program);
            c_string(OsStr::from_bytes(&full))
        })
        .collect()
}

fn c_string(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} holds a NUL byte", s.to_string_lossy()),
        )
    })
}

/// Null-terminated pointers to `strings`.
fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    let mut ptrs: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    ptrs
}

/// The child, between `clone` and `execve`: system calls only, on prepared data.
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the helper's `Plan`, alive and otherwise untouched until this child
    // has exec'd or exited (CLONE_VFORK). Every call below is a plain system call wrapper on
    // prepared, null-terminated data; errno lives in the (suspended) helper thread's TLS.
    unsafe {
        let plan = &mut *arg.cast::<Plan>();
        let errno = || *libc::__errno_location();
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        for &signal in plan.reset {
            libc::sigaction(signal, &default, std::ptr::null_mut());
        }
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
            return fail(plan, errno());
        }
        // A helper that died before the death signal was armed is noticed here.
        if libc::getppid() != plan.parent {
            return fail(plan, libc::ESRCH);
        }
        if libc::setpgid(0, 0) != 0 {
            return fail(plan, errno());
        }
        for (target, fd) in plan.stdio.into_iter().enumerate() {
            let target = target as RawFd;
            let done = if fd == target {
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, target)
            };
            if done < 0 {
                return fail(plan, errno());
            }
        }
        if libc::chdir(plan.cwd.as_ptr()) != 0 {
            return fail(plan, errno());
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        // execvp's search: go on past a directory without it; remember EACCES; a file that is
        // executable but no binary runs with /bin/sh; any other error ends the search.
        let mut error = libc::ENOENT;
        let mut denied = false;
        for candidate in &plan.candidates {
            libc::execve(
                candidate.as_ptr(),
                plan.argv_ptrs.as_ptr(),
                plan.envp_ptrs.as_ptr(),
            );
            match errno() {
                libc::ENOEXEC => {
                    plan.sh_ptrs[1] = candidate.as_ptr();
                    libc::execve(SH.as_ptr(), plan.sh_ptrs.as_ptr(), plan.envp_ptrs.as_ptr());
                    error = errno();
                    break;
                }
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ESTALE | libc::ENOTDIR | libc::ENODEV | libc::ETIMEDOUT => {}
                other => {
                    error = other;
                    break;
                }
            }
        }
        fail(plan, if denied { libc::EACCES } else { error })
    }
}

/// Reports `error` to the helper and ends the child.
///
/// # Safety
/// Only from the child, with `plan` the helper's.
unsafe fn fail(plan: &mut Plan, error: libc::c_int) -> libc::c_int {
    // SAFETY: the helper is suspended until this child exits; a volatile write keeps the
    // store, which the compiler cannot see being read.
    unsafe {
        std::ptr::write_volatile(&mut plan.error, error.max(1));
        libc::_exit(127)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spawn(
        argv: &[OsString],
        env: &[(OsString, OsString)],
        cwd: &Path,
        stdio: [RawFd; 3],
    ) -> io::Result<libc::pid_t> {
        Spawner::new()?.spawn(argv, env, cwd, stdio)
    }

    #[test]
    fn the_search_follows_execvp() {
        let found = candidates(b"true", b"/usr/local/bin::/bin").unwrap();
        let found: Vec<&[u8]> = found.iter().map(|c| c.as_bytes()).collect();
        assert_eq!(found, [&b"/usr/local/bin/true"[..], b"true", b"/bin/true"]);
        let direct = candidates(b"./run.sh", b"/bin").unwrap();
        assert_eq!(direct[0].as_bytes(), b"./run.sh");
    }

    fn wait(pid: libc::pid_t) -> i32 {
        let mut status = 0;
        // SAFETY: pid is this test's unreaped child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        status
    }

    #[test]
    fn a_command_starts_in_its_own_group_with_its_environment_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let file = std::fs::File::create(&out).unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsRawFd;
        let argv: Vec<OsString> = [
            "sh",
            "-c",
            r#"echo "$PARITY_T $(pwd) $(($$ == $(cut -d' ' -f5 /proc/$$/stat)))""#,
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let env = vec![(OsString::from("PARITY_T"), OsString::from("set"))];
        let stdio = [null.as_raw_fd(), file.as_raw_fd(), file.as_raw_fd()];
        let pid = spawn(&argv, &env, dir.path(), stdio).unwrap();
        assert_eq!(wait(pid), 0);
        let text = std::fs::read_to_string(&out).unwrap();
        let cwd = dir.path().canonicalize().unwrap();
        assert_eq!(text.trim(), format!("set {} 1", cwd.display()));
    }

    #[test]
    fn the_command_dies_with_the_thread_that_started_it() {
        // PR_SET_PDEATHSIG fires when the thread that forked the command ends (the helper's
        // only thread, in real use).
        let pid = std::thread::spawn(|| {
            let null = std::fs::File::open("/dev/null").unwrap();
            use std::os::fd::AsRawFd;
            let fd = null.as_raw_fd();
            let argv: Vec<OsString> = ["sleep", "100"].iter().map(OsString::from).collect();
            spawn(&argv, &[], Path::new("/"), [fd, fd, fd]).unwrap()
        })
        .join()
        .unwrap();
        let status = wait(pid);
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
            "status {status}"
        );
    }

    #[test]
    fn a_script_without_a_shebang_runs_with_sh_and_sigpipe_is_not_ignored() {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("plain");
        std::fs::write(&script, "grep SigIgn /proc/$$/status\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = dir.path().join("out");
        let file = std::fs::File::create(&out).unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        let argv = vec![OsString::from("./plain")];
        let stdio = [null.as_raw_fd(), file.as_raw_fd(), file.as_raw_fd()];
        let pid = spawn(&argv, &[], dir.path(), stdio).unwrap();
        assert_eq!(wait(pid), 0);
        let text = std::fs::read_to_string(&out).unwrap();
        let ignored = u64::from_str_radix(text.trim().trim_start_matches("SigIgn:").trim(), 16)
            .unwrap_or_else(|_| panic!("{text}"));
        assert_eq!(ignored & (1 << (libc::SIGPIPE - 1)), 0, "{text}");
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_child() {
        let null = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsRawFd;
        let fd = null.as_raw_fd();
        let argv = vec![OsString::from("parity-no-such-program")];
        let error = spawn(&argv, &[], Path::new("/"), [fd, fd, fd]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
    }
}

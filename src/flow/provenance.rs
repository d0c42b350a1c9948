//! Collecting a run's sign-off provenance, once, as its plan is resolved: each side's
//! `version_cmd` per suite ([`versions`]), and [`Origin`]: the git repository holding the
//! configuration (through the `git` command line), who ran it, and the configuration's path
//! relative to the repository. Nothing here fails a run: what cannot be known is a warning and
//! an `unknown`, or absent.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::{Config, Side, SideSpec, Suite};
use crate::outcome::{CiJob, MAX_CHANGES, Provenance, Repository, RunBy};

/// A side's version: what its `version_cmd` printed, or why it could not be had.
pub type Version = Result<String, String>;

/// Both sides' versions in one suite; `None`: the side has no `version_cmd` (or its legacy does
/// not run this time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuiteVersions {
    pub legacy: Option<Version>,
    pub candidate: Option<Version>,
}

impl SuiteVersions {
    /// A version as results.json records it: `unknown (why)` when it could not be had.
    pub fn recorded(version: Option<&Version>) -> Option<String> {
        version.map(|v| match v {
            Ok(version) => version.clone(),
            Err(why) => format!("unknown ({why})"),
        })
    }
}

/// Longest reason kept in an `unknown (…)` version.
const MAX_WHY: usize = 200;

/// Each suite's sides' versions, by suite: every `version_cmd` runs once per run in the
/// configuration's directory (a command several suites share runs once), the legacy's only
/// where `legacy_runs` says it runs. A command that fails is a warning on stderr.
pub fn versions<'c>(
    config: &Config,
    suites: impl Iterator<Item = &'c Suite>,
    legacy_runs: impl Fn(&str) -> bool,
) -> BTreeMap<String, SuiteVersions> {
    let mut ran: BTreeMap<Vec<String>, Version> = BTreeMap::new();
    let mut version_of = |side: Side, spec: Option<&SideSpec>| {
        let cmd = spec?.version_cmd.as_ref()?;
        let version = ran.entry(cmd.clone()).or_insert_with(|| {
            let version = crate::runner::version_of(cmd, &config.base_dir)
                .and_then(|v| {
                    if v.is_empty() {
                        Err("`version_cmd` printed nothing".to_owned())
                    } else {
                        Ok(v)
                    }
                })
                .map_err(|why| shorten(&why));
            if let Err(why) = &version {
                anstream::eprintln!(
                    "warning: the {side}'s `version_cmd` ({}): {why}; its version is recorded as unknown",
                    cmd.join(" ")
                );
            }
            version
        });
        Some(version.clone())
    };
    suites
        .map(|suite| {
            let legacy = if legacy_runs(&suite.name) {
                version_of(Side::Legacy, suite.legacy.spec())
            } else {
                None
            };
            let candidate = version_of(Side::Candidate, Some(&suite.candidate));
            (suite.name.clone(), SuiteVersions { legacy, candidate })
        })
        .collect()
}

/// The first line of `why`, at most [`MAX_WHY`] characters.
fn shorten(why: &str) -> String {
    let line = why.lines().next().unwrap_or_default().trim_end();
    match line.char_indices().nth(MAX_WHY) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// Where a run comes from: its provenance, and the configuration's path for people.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub provenance: Provenance,
    /// The configuration's path relative to the repository's top (else to `cwd`).
    pub config_relative: String,
}

impl Origin {
    /// Looks at the repository holding `config` (the report directory `report_dir` aside),
    /// the environment and the user, from `cwd`.
    pub fn collect(config: &Config, report_dir: &Path, cwd: &Path) -> Origin {
        let repository = repository(&config.base_dir, report_dir);
        let config_path = canonical(&config.path);
        let base = match &repository {
            Some(repo) => PathBuf::from(&repo.root),
            None => canonical(cwd),
        };
        let config_relative = relative(&config_path, &base).to_string_lossy().into_owned();
        let env = |name: &str| std::env::var(name).ok();
        Origin {
            provenance: Provenance {
                repository,
                run_by: RunBy {
                    user: user(&env, account_name, current_uid()),
                    ci: CiJob::from_env(&env),
                },
            },
            config_relative,
        }
    }
}

/// Why a git command gave nothing.
enum GitError {
    /// git is not installed.
    Missing,
    /// It ran and failed: its stderr.
    Failed(String),
}

/// What `git ARGS` prints on stdout (trailing newline trimmed), run in `dir`. Optional locks
/// are off, so a run never contends with the user's own git for the index.
fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = Command::new("git")
        .arg("--no-optional-locks")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => GitError::Missing,
            _ => GitError::Failed(e.to_string()),
        })?;
    if !output.status.success() {
        return Err(GitError::Failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

/// The git repository holding `dir`, its state as of now; `None` outside one or without git.
fn repository(dir: &Path, report_dir: &Path) -> Option<Repository> {
    let root = match git(dir, &["rev-parse", "--show-toplevel"]) {
        Ok(root) => root,
        Err(GitError::Missing) => return None,
        Err(GitError::Failed(why)) => {
            if !why.contains("not a git repository") {
                anstream::eprintln!(
                    "warning: cannot tell which git repository holds {}: {}; results.json records none",
                    dir.display(),
                    shorten(&why)
                );
            }
            return None;
        }
    };
    let commit = git(dir, &["rev-parse", "--verify", "--quiet", "HEAD"]).ok();
    let branch = git(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"]).ok();
    let mut args = vec![
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=normal",
        "--",
        ":(top)",
    ];
    let root_path = PathBuf::from(&root);
    let exclude = canonical(report_dir)
        .strip_prefix(&root_path)
        .ok()
        .filter(|rel| !rel.as_os_str().is_empty())
        .map(|rel| format!(":(top,exclude,literal){}", rel.to_string_lossy()));
    if let Some(exclude) = &exclude {
        args.push(exclude);
    }
    let (dirty, changes) = match git(dir, &args) {
        Ok(porcelain) => {
            let changes = porcelain_changes(&porcelain);
            (!changes.is_empty(), changes)
        }
        Err(GitError::Missing | GitError::Failed(_)) => {
            anstream::eprintln!(
                "warning: `git status` failed in {root}; results.json records the tree as dirty"
            );
            (true, Vec::new())
        }
    };
    Some(Repository {
        root,
        commit,
        branch,
        dirty,
        changes: changes.into_iter().take(MAX_CHANGES).collect(),
    })
}

/// The entries of `git status --porcelain=v1 -z`, as `git status --short` shows them: `M
/// parity.toml`, `?? notes.txt`, `R new.py (from old.py)` (a rename or copy carries its source
/// in the next field).
pub fn porcelain_changes(porcelain: &str) -> Vec<String> {
    let mut fields = porcelain.split('\0').filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let Some(entry) = fields.next() {
        let (Some(code), Some(path)) = (entry.get(..2), entry.get(3..)) else {
            changes.push(entry.to_owned());
            continue;
        };
        let code = code.trim();
        if code.contains(['R', 'C'])
            && let Some(from) = fields.next()
        {
            changes.push(format!("{code} {path} (from {from})"));
        } else {
            changes.push(format!("{code} {path}"));
        }
    }
    changes
}

/// `path` with symbolic links resolved, as far as it exists (a report directory may not yet).
fn canonical(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut existing = path;
    loop {
        if let Ok(found) = existing.canonicalize() {
            return rest.iter().rev().fold(found, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

/// `path` relative to `base`, both absolute and free of `.` and `..`: `a/b.toml`, or
/// `../other/parity.toml` when `path` is not under `base`.
pub fn relative(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Who runs parity: `$USER`, else `$LOGNAME` (empty counts as unset), else the account name of
/// `uid` (`account`), else the uid itself.
pub fn user(
    env: &dyn Fn(&str) -> Option<String>,
    account: impl FnOnce(u32) -> Option<String>,
    uid: u32,
) -> String {
    ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|name| env(name).filter(|v| !v.is_empty()))
        .or_else(|| account(uid))
        .unwrap_or_else(|| uid.to_string())
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The account name of `uid`: `getent passwd UID`, else `id -un`.
fn account_name(uid: u32) -> Option<String> {
    let run = |program: &str, args: &[&str]| {
        let output = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let uid = uid.to_string();
    run("getent", &["passwd", &uid])
        .and_then(|entry| entry.split(':').next().map(str::to_owned))
        .or_else(|| run("id", &["-un"]))
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_entries() {
        let cases: [(&str, &[&str]); 6] = [
            ("", &[]),
            (" M parity.toml\0", &["M parity.toml"]),
            (
                "?? notes.txt\0MM src/a b.py\0",
                &["?? notes.txt", "MM src/a b.py"],
            ),
            (
                "R  new.py\0old.py\0 D gone.txt\0",
                &["R new.py (from old.py)", "D gone.txt"],
            ),
            ("C  copy.py\0orig.py\0", &["C copy.py (from orig.py)"]),
            ("x\0", &["x"]),
        ];
        for (porcelain, want) in cases {
            assert_eq!(porcelain_changes(porcelain), want, "{porcelain:?}");
        }
    }

    #[test]
    fn relative_paths() {
        let cases = [
            ("/repo/parity.toml", "/repo", "parity.toml"),
            (
                "/repo/services/advisory/parity.toml",
                "/repo",
                "services/advisory/parity.toml",
            ),
            (
                "/elsewhere/parity.toml",
                "/repo/sub",
                "../../elsewhere/parity.toml",
            ),
            ("/repo/parity.toml", "/repo/sub", "../parity.toml"),
            ("/repo", "/repo", "."),
        ];
        for (path, base, want) in cases {
            assert_eq!(
                relative(Path::new(path), Path::new(base)),
                Path::new(want),
                "{path} from {base}"
            );
        }
    }

    #[test]
    fn the_user_is_the_first_known_name() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let named = |_: u32| Some("alice".to_owned());
        let nameless = |_: u32| None;
        assert_eq!(
            user(&env(&[("USER", "jane"), ("LOGNAME", "j")]), named, 1000),
            "jane"
        );
        assert_eq!(
            user(&env(&[("USER", ""), ("LOGNAME", "j")]), named, 1000),
            "j"
        );
        assert_eq!(user(&env(&[]), named, 1000), "alice");
        assert_eq!(user(&env(&[]), nameless, 1000), "1000");
    }

    #[test]
    fn unknown_versions_say_why_in_one_short_line() {
        assert_eq!(
            SuiteVersions::recorded(Some(&Err(shorten(
                "`version_cmd` failed (exit status: 1): boom\nmore"
            )))),
            Some("unknown (`version_cmd` failed (exit status: 1): boom)".to_owned())
        );
        assert_eq!(
            SuiteVersions::recorded(Some(&Ok("1.2.3".to_owned()))),
            Some("1.2.3".into())
        );
        assert_eq!(SuiteVersions::recorded(None), None);
        let long = "x".repeat(MAX_WHY + 10);
        assert_eq!(shorten(&long).chars().count(), MAX_WHY + 1);
    }
}

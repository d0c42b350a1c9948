//! Run directories (`<case>/<side>/` holding `out/`, `stdout` and `stderr`): made fresh for
//! every run, and recycled rather than removed when a case passes.
//!
//! Making and removing directories is the dearest thing parity does per run on some
//! filesystems: ext4 without a journal (the project's CI machine) scans past every recently
//! deleted inode to allocate one (~180 µs per `mkdir` there) and, mounted with `discard`, trims
//! each freed directory block synchronously (~3 ms per `rmdir`), which made a case's five
//! directories cost more than running both sides. So when a case passes, its directory is
//! emptied of what the sides wrote and set aside as a spare ([`recycle`]): its run directories,
//! whose `out/` is left empty, and the case directory itself. The next case renames spares into
//! place ([`prepare`]), and a spare run directory's capture files are truncated when they are
//! opened for the run. Spares live in `.parity-spare/` in the outputs directory, removed at
//! the end of the pass ([`clear_spares`]).
//!
//! A spare never carries anything into a run: its `out/` is checked empty when it is taken, and
//! only what parity itself made is recycled (a run directory holding exactly `out/`, `stdout`
//! and `stderr`, `out/` with the mode a fresh `mkdir` gives, no symlink anywhere). Anything
//! else is removed as before.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where spares wait, in the outputs directory.
const SPARE_DIR: &str = ".parity-spare";
/// What a run directory holds.
const OUT: &str = "out";
const CAPTURES: [&str; 2] = ["stdout", "stderr"];

/// Spares of every outputs directory this process works in.
static SPARES: Mutex<Vec<Spares>> = Mutex::new(Vec::new());
/// Numbers the spares' names.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// The spares of one outputs directory.
#[derive(Debug)]
struct Spares {
    work_dir: PathBuf,
    /// Run directories: an empty `out/`, and capture files.
    runs: Vec<PathBuf>,
    /// Empty directories (cases, steps).
    dirs: Vec<PathBuf>,
    /// The permission bits a fresh `mkdir` gives `out/` (the umask applied), once seen.
    out_mode: Option<u32>,
}

fn with_spares<T>(work_dir: &Path, f: impl FnOnce(&mut Spares) -> T) -> T {
    let mut all = SPARES.lock().unwrap_or_else(|e| e.into_inner());
    let index = match all.iter().position(|s| s.work_dir == work_dir) {
        Some(index) => index,
        None => {
            all.push(Spares {
                work_dir: work_dir.to_owned(),
                runs: Vec::new(),
                dirs: Vec::new(),
                out_mode: None,
            });
            all.len() - 1
        }
    };
    f(&mut all[index])
}

/// Makes `dir` (inside `work_dir`) a fresh run directory with an empty `out/`: a spare renamed
/// into place, or made anew. Whatever was at `dir` before (a stopped run's) is removed.
pub fn prepare(work_dir: &Path, dir: &Path) -> io::Result<()> {
    if fs::symlink_metadata(dir).is_ok() {
        fs::remove_dir_all(dir)?;
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(work_dir, parent)?;
    }
    while let Some(spare) = with_spares(work_dir, |s| s.runs.pop()) {
        if fs::rename(&spare, dir).is_ok() {
            if is_empty_dir(&dir.join(OUT)) {
                return Ok(());
            }
            fs::remove_dir_all(dir)?;
            break;
        }
        let _ = fs::remove_dir_all(&spare);
    }
    fs::create_dir(dir)?;
    let out = dir.join(OUT);
    fs::create_dir(&out)?;
    if with_spares(work_dir, |s| s.out_mode.is_none()) {
        let mode = fs::symlink_metadata(&out)?.mode() & 0o7777;
        with_spares(work_dir, |s| s.out_mode = Some(mode));
    }
    Ok(())
}

/// Makes sure directory `dir` exists, taking an empty spare for it (or its missing parents)
/// when there is one.
fn ensure_dir(work_dir: &Path, dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if !dir.starts_with(work_dir) || dir == work_dir {
        return fs::create_dir_all(dir);
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(work_dir, parent)?;
    }
    while let Some(spare) = with_spares(work_dir, |s| s.dirs.pop()) {
        if fs::rename(&spare, dir).is_ok() {
            return Ok(());
        }
        let _ = fs::remove_dir_all(&spare);
    }
    match fs::create_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

/// Sets aside the directory of a case that passed: its run directories, emptied, and itself,
/// empty, become spares; anything else in it is removed. Falls back to removing it all when it
/// is not in an outputs directory this process made runs in, or when something in it is not
/// as parity made it.
pub fn recycle(dir: &Path) -> io::Result<()> {
    let known = {
        let all = SPARES.lock().unwrap_or_else(|e| e.into_inner());
        all.iter()
            .filter(|s| dir.starts_with(&s.work_dir) && dir != s.work_dir)
            .find_map(|s| Some((s.work_dir.clone(), s.out_mode?)))
    };
    let Some((work_dir, out_mode)) = known else {
        return fs::remove_dir_all(dir);
    };
    let work_dir = work_dir.as_path();
    let spare_dir = work_dir.join(SPARE_DIR);
    if fs::create_dir_all(&spare_dir).is_err() {
        return fs::remove_dir_all(dir);
    }
    let spare =
        |kind: &str| spare_dir.join(format!("{kind}{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if empty_run_dir(&path, out_mode) {
            let target = spare("run");
            if fs::rename(&path, &target).is_ok() {
                with_spares(work_dir, |s| s.runs.push(target));
                continue;
            }
        }
        fs::remove_dir_all(&path)?;
    }
    let target = spare("dir");
    match fs::rename(dir, &target) {
        Ok(()) => with_spares(work_dir, |s| s.dirs.push(target)),
        Err(_) => fs::remove_dir_all(dir)?,
    }
    Ok(())
}

/// Removes the spares of `work_dir`, at the end of a pass.
pub fn clear_spares(work_dir: &Path) {
    with_spares(work_dir, |s| {
        s.runs.clear();
        s.dirs.clear();
    });
    let _ = fs::remove_dir_all(work_dir.join(SPARE_DIR));
}

/// Empties `dir`'s `out/` and its capture files when it is a run directory as parity made it;
/// true when it is then fit to be a spare.
fn empty_run_dir(dir: &Path, out_mode: u32) -> bool {
    let is_real_dir = |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_dir());
    if !is_real_dir(dir) {
        return false;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut seen = 0;
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let name = entry.file_name();
        let Ok(meta) = entry.metadata() else {
            return false;
        };
        let fits = if name == OUT {
            meta.file_type().is_dir() && meta.permissions().mode() & 0o7777 == out_mode
        } else {
            CAPTURES.iter().any(|c| name == *c) && meta.file_type().is_file()
        };
        if !fits {
            return false;
        }
        seen += 1;
    }
    let out = dir.join(OUT);
    if seen != 3 || !is_real_dir(&out) {
        return false;
    }
    let Ok(entries) = fs::read_dir(&out) else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(kind) if kind.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(e) => Err(e),
        };
        if removed.is_err() {
            return false;
        }
    }
    // Their bytes are of no use any more: give the space back now, not at the next run.
    CAPTURES.iter().all(|c| {
        let path = dir.join(c);
        fs::symlink_metadata(&path).is_ok_and(|m| m.len() == 0)
            || fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(0))
                .is_ok()
    }) && is_empty_dir(&out)
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_dir(dir: &Path) {
        fs::create_dir_all(dir.join(OUT)).unwrap();
        for c in CAPTURES {
            fs::write(dir.join(c), "captured").unwrap();
        }
    }

    #[test]
    fn a_passing_case_becomes_the_next_cases_fresh_directories() {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        let first = work.join("suite/a.json");
        for side in ["legacy", "candidate"] {
            prepare(work, &first.join(side)).unwrap();
            for c in CAPTURES {
                fs::write(first.join(side).join(c), "captured").unwrap();
            }
            fs::create_dir(first.join(side).join("out/sub")).unwrap();
            fs::write(first.join(side).join("out/sub/r.json"), "{}").unwrap();
        }
        recycle(&first).unwrap();
        assert!(!first.exists());
        let second = work.join("suite/b.json");
        for side in ["legacy", "candidate"] {
            let dir = second.join(side);
            prepare(work, &dir).unwrap();
            assert!(is_empty_dir(&dir.join(OUT)), "{side}: out/ is not empty");
            for c in CAPTURES {
                assert_eq!(fs::metadata(dir.join(c)).unwrap().len(), 0);
            }
        }
        let spares = work.join(SPARE_DIR);
        assert!(is_empty_dir(&spares), "every spare was taken");
        clear_spares(work);
        assert!(!spares.exists());
    }

    #[test]
    fn what_parity_did_not_make_is_removed_not_recycled() {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        prepare(work, &work.join("s/seed/legacy")).unwrap();
        let case = work.join("s/a.json");
        run_dir(&case.join("legacy"));
        fs::write(case.join("legacy/extra"), "x").unwrap();
        run_dir(&case.join("candidate"));
        fs::remove_dir(case.join("candidate/out")).unwrap();
        std::os::unix::fs::symlink("/", case.join("candidate/out")).unwrap();
        fs::create_dir_all(case.join("state/legacy")).unwrap();
        recycle(&case).unwrap();
        assert!(!case.exists());
        let spares: Vec<_> = fs::read_dir(work.join(SPARE_DIR)).unwrap().collect();
        assert_eq!(spares.len(), 1, "only the emptied case directory is kept");
        assert!(
            Path::new("/etc").exists(),
            "a symlink out of the tree is never followed"
        );
        clear_spares(work);
    }

    #[test]
    fn a_spare_whose_out_is_not_empty_is_never_used() {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        prepare(work, &work.join("s/a.json/legacy")).unwrap();
        run_dir(&work.join("s/a.json/legacy"));
        recycle(&work.join("s/a.json")).unwrap();
        // Something wrote into the spare after it was set aside.
        let spare = with_spares(work, |s| s.runs.last().cloned()).unwrap();
        fs::write(spare.join("out/late.json"), "{}").unwrap();
        let dir = work.join("s/b.json/legacy");
        prepare(work, &dir).unwrap();
        assert!(is_empty_dir(&dir.join(OUT)));
        clear_spares(work);
    }
}

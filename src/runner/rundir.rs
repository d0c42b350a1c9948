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
//! A spare never carries anything into a run: when it is set aside, everything a run writes
//! besides `out/` and the capture files is removed (the converted outputs in `converted/`, what
//! is left of its converters' and teardown's runs), and when it is taken its `out/` must be
//! empty and `converted/` absent (what a run reads). Only what parity itself made is recycled
//! (a run directory holding `out/`, with the mode a fresh `mkdir` gives, the capture files and
//! parity's own directories, no symlink anywhere); anything else is removed as before. Only a
//! quiet case is recycled (no note: every process of its sides had ended when they were
//! reaped), so nothing of it can write into a spare afterwards.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CONVERTED_DIR, CONVERTER_RUNS, TEARDOWN_RUN};

/// Where spares wait, in the outputs directory.
const SPARE_DIR: &str = ".parity-spare";
/// What a run directory holds.
const OUT: &str = "out";
const CAPTURES: [&str; 2] = ["stdout", "stderr"];
/// What else parity writes in a run directory, all of it removed before it becomes a spare.
const RUN_WRITES: [&str; 3] = [CONVERTED_DIR, CONVERTER_RUNS, TEARDOWN_RUN];

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
    /// Whether `.parity-spare/` has been made.
    spare_dir_made: bool,
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
                spare_dir_made: false,
            });
            all.len() - 1
        }
    };
    f(&mut all[index])
}

/// Makes `dir` (inside `work_dir`) a fresh run directory with an empty `out/`: a spare renamed
/// into place, or made anew. Whatever was at `dir` before (a stopped run's) is removed.
///
/// Every system call counts here (a few µs each, ~15 µs for a rename or a directory read on
/// the project's machine, per run): a spare is renamed into place first, and its parent made
/// or what was in its place removed only when the rename says so.
pub fn prepare(work_dir: &Path, dir: &Path) -> io::Result<()> {
    while let Some(spare) = with_spares(work_dir, |s| s.runs.pop()) {
        match move_into_place(work_dir, &spare, dir) {
            Ok(()) if is_clean_spare(dir) => return Ok(()),
            Ok(()) => {
                fs::remove_dir_all(dir)?;
                break;
            }
            Err(_) => {
                let _ = fs::remove_dir_all(&spare);
            }
        }
    }
    if let Ok(meta) = fs::symlink_metadata(dir) {
        remove(dir, meta.is_dir())?;
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(work_dir, parent)?;
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

/// Renames `spare` to `dir`, making `dir`'s parent when that is what the rename missed, and
/// removing what stands at `dir` (a stopped run's directory, a file) when that is what stopped
/// it. A rename replaces an empty directory by itself.
fn move_into_place(work_dir: &Path, spare: &Path, dir: &Path) -> io::Result<()> {
    match fs::rename(spare, dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent() {
                ensure_dir(work_dir, parent)?;
            }
            fs::rename(spare, dir)
        }
        Err(e) => {
            let Ok(meta) = fs::symlink_metadata(dir) else {
                return Err(e);
            };
            remove(dir, meta.is_dir())?;
            fs::rename(spare, dir)
        }
    }
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
    let Some((work_dir, out_mode)) = known_work_dir(dir) else {
        return fs::remove_dir_all(dir);
    };
    let work_dir = work_dir.as_path();
    if !spare_dir_ready(work_dir) {
        return fs::remove_dir_all(dir);
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // The entry's type as the directory read gave it (links are links): no `stat`.
        let is_dir = entry.file_type()?.is_dir();
        if !(is_dir && set_aside(work_dir, &path, out_mode)) {
            remove(&path, is_dir)?;
        }
    }
    let target = spare_path(work_dir, "dir");
    match fs::rename(dir, &target) {
        Ok(()) => with_spares(work_dir, |s| s.dirs.push(target)),
        Err(_) => fs::remove_dir_all(dir)?,
    }
    Ok(())
}

/// Sets aside one run directory whose run ended quietly (a converter's, a teardown's), as
/// [`recycle`] does with a case's; removes it when it is not as parity made it.
pub fn recycle_run(dir: &Path) -> io::Result<()> {
    let set = known_work_dir(dir).is_some_and(|(work_dir, out_mode)| {
        spare_dir_ready(&work_dir) && set_aside(&work_dir, dir, out_mode)
    });
    if set { Ok(()) } else { fs::remove_dir_all(dir) }
}

/// Makes `.parity-spare/` in `work_dir` once; false when it cannot be made.
fn spare_dir_ready(work_dir: &Path) -> bool {
    if with_spares(work_dir, |s| s.spare_dir_made) {
        return true;
    }
    let made = fs::create_dir_all(work_dir.join(SPARE_DIR)).is_ok();
    with_spares(work_dir, |s| s.spare_dir_made = made);
    made
}

/// Removes a directory with what it holds, or anything else that is not one.
fn remove(path: &Path, is_dir: bool) -> io::Result<()> {
    if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// The outputs directory this process made runs in that holds `dir`, and the mode of a fresh
/// `out/` there.
fn known_work_dir(dir: &Path) -> Option<(PathBuf, u32)> {
    let all = SPARES.lock().unwrap_or_else(|e| e.into_inner());
    all.iter()
        .filter(|s| dir.starts_with(&s.work_dir) && dir != s.work_dir)
        .find_map(|s| Some((s.work_dir.clone(), s.out_mode?)))
}

/// A new name in the spares' directory.
fn spare_path(work_dir: &Path, kind: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    work_dir.join(SPARE_DIR).join(format!("{kind}{n}"))
}

/// Empties run directory `dir` and moves it among the spares; false when it is not a run
/// directory as parity made it, or could not be moved (it is left for the caller to remove).
fn set_aside(work_dir: &Path, dir: &Path, out_mode: u32) -> bool {
    if !empty_run_dir(dir, out_mode) {
        return false;
    }
    let target = spare_path(work_dir, "run");
    let moved = fs::rename(dir, &target).is_ok();
    if moved {
        with_spares(work_dir, |s| s.runs.push(target));
    }
    moved
}

/// Removes the spares of `work_dir`, at the end of a pass.
pub fn clear_spares(work_dir: &Path) {
    with_spares(work_dir, |s| {
        s.runs.clear();
        s.dirs.clear();
    });
    let _ = fs::remove_dir_all(work_dir.join(SPARE_DIR));
}

/// Empties `dir`'s `out/` and its capture files, and removes what else a run wrote there
/// ([`RUN_WRITES`]), when it is a run directory as parity made it; true when it is then fit to
/// be a spare. Types come from the directory reads (a link is a link, never followed); only
/// `out/`'s mode and the capture files' sizes take a `stat`.
fn empty_run_dir(dir: &Path, out_mode: u32) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut has_out = false;
    let mut captures = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let Ok(kind) = entry.file_type() else {
            return false;
        };
        let name = entry.file_name();
        let fits = if name == OUT {
            has_out = kind.is_dir()
                && entry
                    .metadata()
                    .is_ok_and(|m| m.permissions().mode() & 0o7777 == out_mode);
            has_out
        } else if CAPTURES.iter().any(|c| name == *c) {
            captures.push(entry.path());
            kind.is_file()
        } else if RUN_WRITES.iter().any(|w| name == *w) && kind.is_dir() {
            // `remove_dir_all` never follows a link inside what it removes.
            fs::remove_dir_all(entry.path()).is_ok()
        } else {
            false
        };
        if !fits {
            return false;
        }
    }
    if !has_out || !empty_dir(&dir.join(OUT)) {
        return false;
    }
    // Their bytes are of no use any more: give the space back now, not at the next run.
    captures
        .iter()
        .all(|path| match fs::symlink_metadata(path) {
            Ok(meta) if meta.len() == 0 => true,
            Ok(_) => fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(0))
                .is_ok(),
            Err(_) => false,
        })
}

/// Removes everything in directory `dir` (links themselves, never what they point to); true
/// when it is empty then.
fn empty_dir(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let removed = entry
            .file_type()
            .and_then(|kind| remove(&entry.path(), kind.is_dir()));
        if removed.is_err() {
            return false;
        }
    }
    // What a finished, quiet run left has been removed; nothing else writes there.
    true
}

/// Whether a spare, just taken, holds nothing a run could see: an empty `out/`, no converted
/// outputs. (It was emptied when it was set aside, by a run whose every process had ended;
/// this is the check that nothing wrote into it since. Capture files are truncated when the
/// run opens them; converters' and teardown's directories are made fresh for each run.)
fn is_clean_spare(dir: &Path) -> bool {
    is_empty_dir(&dir.join(OUT))
        && fs::symlink_metadata(dir.join(CONVERTED_DIR))
            .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
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
    fn a_recycled_run_directory_keeps_nothing_a_run_wrote() {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        let case = work.join("s/a.json");
        let side = case.join("legacy");
        prepare(work, &side).unwrap();
        run_dir(&side);
        fs::write(side.join("out/result.db"), "rows").unwrap();
        fs::create_dir_all(side.join("converted/sub")).unwrap();
        fs::write(side.join("converted/result.db#t"), "id\n1\n").unwrap();
        fs::write(side.join("converted/sub/x.db"), "id\n").unwrap();
        fs::create_dir_all(side.join("convert/1/out")).unwrap();
        fs::write(side.join("convert/1/stderr"), "oops").unwrap();
        fs::create_dir_all(side.join("teardown/out")).unwrap();
        recycle(&case).unwrap();
        assert_eq!(
            with_spares(work, |s| s.runs.len()),
            1,
            "the run directory is recycled, not removed"
        );
        let next = work.join("s/b.json/legacy");
        prepare(work, &next).unwrap();
        let mut left: Vec<String> = fs::read_dir(&next)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["out", "stderr", "stdout"]);
        assert!(is_empty_dir(&next.join(OUT)));
        clear_spares(work);
    }

    #[test]
    fn a_spare_that_gained_outputs_is_never_used() {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        for (n, late) in ["converted/result.db#t", "out/late.json"]
            .iter()
            .enumerate()
        {
            let case = work.join(format!("s/{n}.json"));
            prepare(work, &case.join("legacy")).unwrap();
            run_dir(&case.join("legacy"));
            recycle(&case).unwrap();
            let spare = with_spares(work, |s| s.runs.last().cloned()).unwrap();
            let path = spare.join(late);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "from another case").unwrap();
            let dir = work.join(format!("s/next{n}.json/legacy"));
            prepare(work, &dir).unwrap();
            assert!(!dir.join(late).exists(), "{late} reached the next run");
            assert!(is_empty_dir(&dir.join(OUT)));
        }
        clear_spares(work);
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
    fn a_spare_replaces_what_a_stopped_run_left_and_makes_its_parents() {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        for n in 0..2 {
            let case = work.join(format!("s/{n}.json"));
            prepare(work, &case.join("legacy")).unwrap();
            run_dir(&case.join("legacy"));
            recycle(&case).unwrap();
        }
        // A stopped run's directory with outputs in it, and a file where a run goes.
        let stopped = work.join("s/stopped.json/legacy");
        run_dir(&stopped);
        fs::write(stopped.join("out/old.json"), "{}").unwrap();
        fs::write(work.join("s/stopped.json/candidate"), "not a directory").unwrap();
        for side in ["legacy", "candidate"] {
            let dir = work.join("s/stopped.json").join(side);
            prepare(work, &dir).unwrap();
            assert!(is_empty_dir(&dir.join(OUT)), "{side}");
        }
        // A case in a suite directory that does not exist yet.
        let fresh = work.join("new-suite/deep/a.json/legacy");
        prepare(work, &fresh).unwrap();
        assert!(is_empty_dir(&fresh.join(OUT)));
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

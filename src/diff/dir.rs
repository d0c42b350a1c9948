//! Pairing the files of two directory trees by relative path.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// One relative path and where it exists on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePair {
    /// Relative path with `/` separators.
    pub relative: String,
    pub left: Option<PathBuf>,
    pub right: Option<PathBuf>,
}

/// Every regular file under either root, paired by relative path, in sorted order. A missing
/// root counts as empty.
pub fn pair_files(left: &Path, right: &Path) -> io::Result<Vec<FilePair>> {
    let mut pairs: BTreeMap<String, FilePair> = BTreeMap::new();
    for (root, is_left) in [(left, true), (right, false)] {
        for (relative, path) in list_files(root)? {
            let pair = pairs.entry(relative.clone()).or_insert_with(|| FilePair {
                relative,
                left: None,
                right: None,
            });
            if is_left {
                pair.left = Some(path);
            } else {
                pair.right = Some(path);
            }
        }
    }
    Ok(pairs.into_values().collect())
}

/// Files under `root` (symlinks to files included, symlinked directories not entered), as
/// (relative, absolute), sorted.
pub fn list_files(root: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(io::Error::other)?;
        // A symlink to a file counts as that file; directories are walked, not compared.
        let is_file =
            entry.file_type().is_file() || (entry.path_is_symlink() && entry.path().is_file());
        if !is_file {
            continue;
        }
        let relative = entry
            .path()
            .strip_prefix(root)
            .map_err(io::Error::other)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.push((relative, entry.into_path()));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_by_relative_path() {
        let l = tempfile::tempdir().unwrap();
        let r = tempfile::tempdir().unwrap();
        std::fs::create_dir(l.path().join("sub")).unwrap();
        std::fs::write(l.path().join("sub/a.json"), "1").unwrap();
        std::fs::write(l.path().join("b.csv"), "x").unwrap();
        std::fs::write(r.path().join("b.csv"), "x").unwrap();
        std::fs::write(r.path().join("c.txt"), "x").unwrap();
        let pairs = pair_files(l.path(), r.path()).unwrap();
        let summary: Vec<_> = pairs
            .iter()
            .map(|p| (p.relative.as_str(), p.left.is_some(), p.right.is_some()))
            .collect();
        assert_eq!(
            summary,
            [
                ("b.csv", true, true),
                ("c.txt", false, true),
                ("sub/a.json", true, false)
            ]
        );
    }
}

//! Pairing the entries of two directory trees by relative path.
//!
//! Every entry is seen and none is followed: a symbolic link is an entry of its own (its target
//! is its content), a FIFO, socket or device is reported as such, and a directory that cannot be
//! listed is an entry too. Nothing a side leaves under `{out}` is skipped, so nothing can make a
//! comparison pass by hiding from it.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::text::display_bytes;

/// One entry of a tree, as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file: compared by content.
    File(PathBuf),
    /// A symbolic link, never followed: compared by its target, shown as text.
    Symlink { path: PathBuf, target: String },
    /// A FIFO, socket or device: cannot be compared.
    Special { path: PathBuf, kind: &'static str },
    /// A directory that could not be listed, or an entry that could not be examined.
    Unreadable { path: PathBuf, error: String },
}

impl Entry {
    /// What it is, for people: `file`, `symbolic link`, `FIFO`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::File(_) => "file",
            Entry::Symlink { .. } => "symbolic link",
            Entry::Special { kind, .. } => kind,
            Entry::Unreadable { .. } => "unreadable entry",
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Entry::File(path)
            | Entry::Symlink { path, .. }
            | Entry::Special { path, .. }
            | Entry::Unreadable { path, .. } => path,
        }
    }

    /// A short JSON description, as a difference's value: `{"bytes": 12}`,
    /// `{"symlink": "/etc/passwd"}`, `{"fifo": true}`.
    pub fn describe(&self) -> serde_json::Value {
        match self {
            Entry::File(path) => {
                serde_json::json!({ "bytes": std::fs::symlink_metadata(path).map_or(0, |m| m.len()) })
            }
            Entry::Symlink { target, .. } => serde_json::json!({ "symlink": target }),
            Entry::Special { kind, .. } => serde_json::json!({ "special": kind }),
            Entry::Unreadable { error, .. } => serde_json::json!({ "unreadable": error }),
        }
    }
}

/// One relative path and what each side has there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePair {
    /// Relative path with `/` separators; bytes that are not UTF-8 are shown as `\xNN`.
    pub relative: String,
    pub left: Option<Entry>,
    pub right: Option<Entry>,
}

/// Every entry under either root that is not a directory, paired by relative path, in sorted
/// order. A missing root counts as empty.
pub fn pair_files(left: &Path, right: &Path) -> Vec<FilePair> {
    let mut pairs: BTreeMap<String, FilePair> = BTreeMap::new();
    for (root, is_left) in [(left, true), (right, false)] {
        for (relative, entry) in list_entries(root) {
            let pair = pairs.entry(relative.clone()).or_insert_with(|| FilePair {
                relative,
                left: None,
                right: None,
            });
            if is_left {
                pair.left = Some(entry);
            } else {
                pair.right = Some(entry);
            }
        }
    }
    pairs.into_values().collect()
}

/// Every entry under `root` but directories, as (relative path, entry), sorted. Links are not
/// followed; directories that cannot be listed are entries of their own.
pub fn list_entries(root: &Path) -> Vec<(String, Entry)> {
    if std::fs::symlink_metadata(root).is_err() {
        return Vec::new();
    }
    let mut entries = Vec::new();
    for walked in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = match walked {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_owned();
                let reason = error
                    .io_error()
                    .map_or_else(|| error.to_string(), ToString::to_string);
                let entry = Entry::Unreadable {
                    path: path.clone(),
                    error: format!("cannot list or examine it: {reason}"),
                };
                entries.push((relative(root, &path), entry));
                continue;
            }
        };
        let kind = entry.file_type();
        let path = entry.path().to_owned();
        let found = if kind.is_dir() {
            continue;
        } else if kind.is_file() {
            Entry::File(path.clone())
        } else if kind.is_symlink() {
            match std::fs::read_link(&path) {
                Ok(target) => Entry::Symlink {
                    path: path.clone(),
                    target: display_bytes(target.as_os_str().as_bytes()).into_owned(),
                },
                Err(e) => Entry::Unreadable {
                    path: path.clone(),
                    error: format!("cannot read the link: {e}"),
                },
            }
        } else {
            let special = if kind.is_fifo() {
                "FIFO"
            } else if kind.is_socket() {
                "socket"
            } else if kind.is_char_device() {
                "character device"
            } else if kind.is_block_device() {
                "block device"
            } else {
                "special file"
            };
            Entry::Special {
                path: path.clone(),
                kind: special,
            }
        };
        entries.push((relative(root, &path), found));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// `path` relative to `root`, with `/` separators and non-UTF-8 bytes escaped.
pub fn relative(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| display_bytes(c.as_os_str().as_bytes()).into_owned())
        .collect();
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
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
        let pairs = pair_files(l.path(), r.path());
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

    #[test]
    fn links_and_special_files_are_entries_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let entries = list_entries(dir.path());
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].1,
            Entry::Symlink {
                path: dir.path().join("link"),
                target: "/etc/passwd".into()
            }
        );
        assert_eq!(entries[1].1.kind(), "FIFO");
    }

    #[test]
    fn names_that_are_not_utf8_stay_apart() {
        let dir = tempfile::tempdir().unwrap();
        for name in [&b"caf\xe9"[..], &b"caf\xe8"[..]] {
            std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), "x").unwrap();
        }
        let names: Vec<String> = list_entries(dir.path()).into_iter().map(|e| e.0).collect();
        assert_eq!(names, ["caf\\xe8", "caf\\xe9"]);
    }
}

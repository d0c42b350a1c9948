//! A fixture as the records `parity minimize` may remove: [`Input`] reads a fixture file or
//! directory (every file under it, so a scenario's steps too), cuts each file into records by
//! its format ([`super::records`]), and writes any subset of the records back as a fixture laid
//! out like the original: the same directories and file names, each file with the records kept
//! in their original order. A file whose records all go stays, in its empty form (a JSON
//! wrapper with an empty array, a CSV header, an empty text). Files not cut (bytes, files
//! that do not parse as their format says) are kept whole; symbolic links stay links.

use std::path::{Path, PathBuf};

use super::records::{self, Split};
use crate::diff::Format;

/// Why a fixture could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("failed to read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to list {}", path.display())]
    Walk {
        path: PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error("{} is not a file, directory or symbolic link: parity minimize cannot copy it", path.display())]
    Special { path: PathBuf },
    #[error("failed to write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One entry of a fixture, by its path relative to the fixture (empty for a file fixture).
#[derive(Debug)]
enum Entry {
    Dir,
    File {
        text: Vec<u8>,
        format: Format,
        /// `None`: kept whole.
        split: Option<Split>,
    },
    Link(PathBuf),
}

/// One removable record: the file (an index into the entries) and the record in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unit {
    pub file: usize,
    pub record: usize,
}

/// How one file of a fixture was cut, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecords {
    /// Its index among the fixture's entries ([`Unit::file`]).
    pub index: usize,
    /// Relative to the fixture (a file fixture's own name).
    pub path: String,
    pub format: Format,
    /// `None`: kept whole.
    pub records: Option<usize>,
}

/// A fixture read into records.
#[derive(Debug)]
pub struct Input {
    /// The fixture's file name.
    name: String,
    entries: Vec<(PathBuf, Entry)>,
}

impl Input {
    /// Reads the fixture at `path` (a file or a directory).
    pub fn read(path: &Path) -> Result<Input, InputError> {
        let meta = std::fs::symlink_metadata(path).map_err(|source| InputError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut entries = Vec::new();
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(path).min_depth(1).sort_by_file_name() {
                let entry = entry.map_err(|source| InputError::Walk {
                    path: path.to_owned(),
                    source,
                })?;
                let relative = entry
                    .path()
                    .strip_prefix(path)
                    .unwrap_or(entry.path())
                    .to_owned();
                entries.push((relative, read_entry(entry.path(), &entry.file_type())?));
            }
        } else {
            entries.push((PathBuf::new(), read_entry(path, &meta.file_type())?));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Input { name, entries })
    }

    /// Every record of every file, in file order, then record order.
    pub fn units(&self) -> Vec<Unit> {
        self.entries
            .iter()
            .enumerate()
            .flat_map(|(file, (_, entry))| {
                let records = match entry {
                    Entry::File {
                        split: Some(split), ..
                    } => split.records(),
                    Entry::File { split: None, .. } | Entry::Dir | Entry::Link(_) => 0,
                };
                (0..records).map(move |record| Unit { file, record })
            })
            .collect()
    }

    /// Each file and how it was cut.
    pub fn files(&self) -> Vec<FileRecords> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(index, (path, entry))| match entry {
                Entry::File { format, split, .. } => Some(FileRecords {
                    index,
                    path: if path.as_os_str().is_empty() {
                        self.name.clone()
                    } else {
                        path.to_string_lossy().into_owned()
                    },
                    format: *format,
                    records: split.as_ref().map(Split::records),
                }),
                Entry::Dir | Entry::Link(_) => None,
            })
            .collect()
    }

    /// Writes the fixture with only the records `kept` (in any order) to `dest`, which must not
    /// exist: a directory for a directory fixture, else a file (its parents are created).
    pub fn write(&self, kept: &[Unit], dest: &Path) -> Result<(), InputError> {
        let mut keep: Vec<Vec<bool>> = self
            .entries
            .iter()
            .map(|(_, entry)| match entry {
                Entry::File {
                    split: Some(split), ..
                } => vec![false; split.records()],
                Entry::File { split: None, .. } | Entry::Dir | Entry::Link(_) => Vec::new(),
            })
            .collect();
        for unit in kept {
            if let Some(slot) = keep.get_mut(unit.file).and_then(|f| f.get_mut(unit.record)) {
                *slot = true;
            }
        }
        let is_dir_fixture = self
            .entries
            .first()
            .is_none_or(|(p, _)| !p.as_os_str().is_empty());
        if is_dir_fixture {
            create_dir(dest)?;
        } else if let Some(parent) = dest.parent() {
            create_dir(parent)?;
        }
        for ((relative, entry), keep) in self.entries.iter().zip(&keep) {
            let path = dest.join(relative);
            let path = if relative.as_os_str().is_empty() {
                dest.to_owned()
            } else {
                path
            };
            let written = match entry {
                Entry::Dir => {
                    create_dir(&path)?;
                    continue;
                }
                Entry::Link(target) => std::os::unix::fs::symlink(target, &path),
                Entry::File { text, split, .. } => match split {
                    Some(split) => std::fs::write(&path, split.join(text, |i| keep[i])),
                    None => std::fs::write(&path, text),
                },
            };
            written.map_err(|source| InputError::Write { path, source })?;
        }
        Ok(())
    }
}

fn create_dir(path: &Path) -> Result<(), InputError> {
    std::fs::create_dir_all(path).map_err(|source| InputError::Write {
        path: path.to_owned(),
        source,
    })
}

fn read_entry(path: &Path, kind: &std::fs::FileType) -> Result<Entry, InputError> {
    let read_error = |source| InputError::Read {
        path: path.to_owned(),
        source,
    };
    if kind.is_dir() {
        Ok(Entry::Dir)
    } else if kind.is_symlink() {
        Ok(Entry::Link(std::fs::read_link(path).map_err(read_error)?))
    } else if kind.is_file() {
        let text = std::fs::read(path).map_err(read_error)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let format = Format::detect(&name, &text);
        let split = records::split(format, &text);
        Ok(Entry::File {
            text,
            format,
            split,
        })
    } else {
        Err(InputError::Special {
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &Path) -> Vec<(String, String)> {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
            let entry = entry.expect("entry");
            let relative = entry.path().strip_prefix(dir).expect("under dir");
            let content = if entry.file_type().is_file() {
                std::fs::read_to_string(entry.path()).expect("read")
            } else {
                "<dir>".to_owned()
            };
            files.push((relative.to_string_lossy().into_owned(), content));
        }
        files
    }

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            let path = dir.path().join("case").join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
            std::fs::write(path, text).expect("write");
        };
        write("observations.json", "[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n");
        write("osv.json", "{\"vulns\": [{\"id\": \"x\"}]}");
        write("overrides.csv", "id,state\n1,fixed\n");
        write("2-step/log.txt", "one\ntwo\n");
        write("blob.bin", "\u{0}\u{1}");
        std::fs::create_dir_all(dir.path().join("case/empty")).expect("empty dir");
        dir
    }

    #[test]
    fn every_file_is_cut_by_its_format() {
        let dir = fixture();
        let input = Input::read(&dir.path().join("case")).expect("read");
        let files: Vec<(String, Option<usize>)> = input
            .files()
            .into_iter()
            .map(|f| (f.path, f.records))
            .collect();
        assert_eq!(
            files,
            [
                ("2-step/log.txt".to_owned(), Some(2)),
                ("blob.bin".to_owned(), None),
                ("observations.json".to_owned(), Some(2)),
                ("osv.json".to_owned(), Some(1)),
                ("overrides.csv".to_owned(), Some(1)),
            ]
        );
        assert_eq!(input.units().len(), 6);
    }

    #[test]
    fn all_records_kept_is_the_same_fixture_and_none_kept_empties_every_file() {
        let dir = fixture();
        let input = Input::read(&dir.path().join("case")).expect("read");
        input
            .write(&input.units(), &dir.path().join("all"))
            .expect("write");
        assert_eq!(
            tree(&dir.path().join("all")),
            tree(&dir.path().join("case"))
        );
        input.write(&[], &dir.path().join("none")).expect("write");
        let none: Vec<(String, String)> = tree(&dir.path().join("none"));
        let of = |name: &str| {
            none.iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| c.as_str())
        };
        assert_eq!(of("observations.json"), Some("[\n]\n"));
        assert_eq!(of("osv.json"), Some("{\"vulns\": []}"));
        assert_eq!(of("overrides.csv"), Some("id,state\n"));
        assert_eq!(of("2-step/log.txt"), Some(""));
        assert_eq!(of("blob.bin"), Some("\u{0}\u{1}"));
        assert_eq!(of("empty"), Some("<dir>"));
    }

    #[test]
    fn a_file_fixture_is_written_as_a_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data.ndjson");
        std::fs::write(&path, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n").expect("write");
        let input = Input::read(&path).expect("read");
        let units = input.units();
        assert_eq!(units.len(), 3);
        let out = dir.path().join("out.ndjson");
        input.write(&units[1..2], &out).expect("write");
        assert_eq!(std::fs::read_to_string(out).expect("read"), "{\"n\":2}\n");
    }
}

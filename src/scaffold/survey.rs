//! Finding the fixture directories under a directory, and what their fixtures look like.
//!
//! A directory is a fixture directory when its name says so ([`FIXTURE_DIR_NAMES`]), at most
//! [`MAX_DEPTH`] levels down, outside build output, dependencies and version control
//! ([`SKIPPED`], and every hidden directory). One whose entries are all directories of
//! directories (`fixtures/main/<fixture>/`, `fixtures/regressions/<fixture>/`) is a group: each
//! entry becomes a suite. Everything is read in name order, so the same tree always gives the
//! same survey.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::{FoundSuite, Shape, Survey};
use crate::diff::Format;

/// Names (compared case-insensitively) of directories that hold fixtures.
const FIXTURE_DIR_NAMES: [&str; 14] = [
    "fixtures",
    "fixture",
    "test_fixtures",
    "test-fixtures",
    "testdata",
    "test_data",
    "test-data",
    "testcases",
    "test_cases",
    "test-cases",
    "samples",
    "sample_data",
    "sample-data",
    "golden_inputs",
];

/// Path components that do not tell one suite from another, left out of suite names.
const GENERIC: [&str; 9] = [
    "tests",
    "test",
    "examples",
    "example",
    "src",
    "data",
    "resources",
    "testing",
    "spec",
];

/// Directories never searched (hidden ones neither): build output, dependencies, environments,
/// and parity's own reports and goldens.
const SKIPPED: [&str; 9] = [
    "target",
    "node_modules",
    "venv",
    "env",
    "__pycache__",
    "reports",
    "golden",
    "dist",
    "build",
];

/// How many levels below the surveyed directory a fixture directory may be
/// (`examples/NAME/tests/fixtures` is four).
const MAX_DEPTH: usize = 4;

/// How deep inside a suite files are looked at to guess formats.
const FORMAT_DEPTH: usize = 6;

/// How many files per suite are looked at to guess formats.
const MAX_FILES_SAMPLED: usize = 10_000;

/// Looks at `dir`: its fixture directories and the formats of their files. Only `dir` itself
/// must be readable; a subdirectory that cannot be read is passed over.
pub fn survey(dir: &Path) -> io::Result<Survey> {
    std::fs::read_dir(dir)?;
    let mut candidates = Vec::new();
    find_candidates(dir, 1, &mut candidates);
    let mut roots = Vec::new();
    for candidate in candidates {
        let listing = list(&candidate);
        if is_group(&candidate, &listing) {
            roots.extend(
                listing
                    .dirs
                    .iter()
                    .map(|d| (candidate.join(d), Some(d.clone()))),
            );
        } else {
            roots.push((candidate, None));
        }
    }
    let names = names(dir, &roots);
    let mut suites: Vec<FoundSuite> = Vec::new();
    let mut counts = BTreeMap::new();
    for ((root, _), name) in roots.into_iter().zip(names) {
        count_formats(&root, &mut counts);
        suites.push(FoundSuite {
            name,
            root: relative(dir, &root),
            shape: examine(&root),
        });
    }
    let mut formats: Vec<(Format, usize)> = counts.into_iter().collect();
    formats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Survey {
        suites,
        formats: formats.into_iter().map(|(format, _)| format).collect(),
    })
}

/// The entries of a directory that matter, each list in name order: hidden entries and notes
/// (README, LICENSE, CHANGELOG) are left out; a symbolic link counts as what it points to.
#[derive(Debug, Default)]
struct Listing {
    dirs: Vec<String>,
    files: Vec<String>,
}

fn list(dir: &Path) -> Listing {
    let mut listing = Listing::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return listing;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') || is_note(&name) {
            continue;
        }
        match std::fs::metadata(entry.path()) {
            Ok(meta) if meta.is_dir() => listing.dirs.push(name),
            Ok(_) => listing.files.push(name),
            Err(_) => {}
        }
    }
    listing.dirs.sort();
    listing.files.sort();
    listing
}

fn is_note(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["readme", "license", "changelog"]
        .iter()
        .any(|note| lower.starts_with(note))
}

/// Pushes the fixture directories under `dir` (at `depth` levels below the surveyed one) onto
/// `found`, in path order. A fixture directory is not searched further: what is inside it is
/// fixture content. Symbolic links are not followed.
fn find_candidates(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect();
    dirs.sort();
    for (name, path) in dirs {
        let lower = name.to_ascii_lowercase();
        if name.starts_with('.') || SKIPPED.contains(&lower.as_str()) {
            continue;
        }
        if FIXTURE_DIR_NAMES.contains(&lower.as_str()) {
            found.push(path);
        } else if depth < MAX_DEPTH {
            find_candidates(&path, depth + 1, found);
        }
    }
}

/// A directory of suites rather than of fixtures: it holds only directories, each of which
/// holds only directories that are not steps. Fixtures sharing one inner layout (each with
/// `input/` and `expected/`) are fixtures, not suites; so is a lone directory with one entry.
fn is_group(dir: &Path, listing: &Listing) -> bool {
    if !listing.files.is_empty() || listing.dirs.is_empty() {
        return false;
    }
    let mut layouts = Vec::new();
    for child in &listing.dirs {
        let inner = list(&dir.join(child));
        let steps = inner.dirs.iter().any(|d| is_step_name(d));
        if inner.dirs.is_empty() || !inner.files.is_empty() || steps {
            return false;
        }
        layouts.push(inner.dirs);
    }
    match layouts.as_slice() {
        [only] => only.len() > 1,
        _ => layouts.windows(2).any(|pair| pair[0] != pair[1]),
    }
}

/// What the fixtures of the suite rooted at `root` are: its directories when there are at least
/// as many of them as files, else its files of the most common extension.
fn examine(root: &Path) -> Shape {
    let listing = list(root);
    if !listing.dirs.is_empty() && listing.dirs.len() >= listing.files.len() {
        return Shape::Dirs {
            count: listing.dirs.len(),
            files: listing.files.len(),
            steps: steps(root, &listing.dirs),
        };
    }
    let mut by_extension: BTreeMap<String, usize> = BTreeMap::new();
    for file in &listing.files {
        let extension = Path::new(file)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        *by_extension.entry(extension.to_owned()).or_default() += 1;
    }
    // The most common; of equals, the first by name.
    let mut best: Option<(String, usize)> = None;
    for (extension, count) in by_extension {
        if best.as_ref().is_none_or(|(_, most)| count > *most) {
            best = Some((extension, count));
        }
    }
    match best {
        // `*` selects every file, whatever its extension.
        Some((extension, _)) if extension.is_empty() => Shape::Files {
            extension,
            count: listing.files.len(),
            others: listing.dirs.len(),
        },
        Some((extension, count)) => Shape::Files {
            others: listing.files.len() - count + listing.dirs.len(),
            extension,
            count,
        },
        None => Shape::Empty,
    }
}

/// The step directories of the fixture with the most (the first of equals), when most fixture
/// directories consist of numbered steps (`1-baseline/`, `2-override/`, …).
fn steps(root: &Path, fixtures: &[String]) -> Option<Vec<String>> {
    let mut with_steps = 0;
    let mut longest: Option<Vec<String>> = None;
    for fixture in fixtures {
        let inner = list(&root.join(fixture));
        if !inner.dirs.is_empty() && inner.dirs.iter().all(|d| is_step_name(d)) {
            with_steps += 1;
            if longest.as_ref().is_none_or(|l| inner.dirs.len() > l.len()) {
                longest = Some(inner.dirs);
            }
        }
    }
    if with_steps * 2 > fixtures.len() {
        longest
    } else {
        None
    }
}

/// `1-baseline`, `02_import`, `3.fix`, `4`: digits, then nothing or a separator.
fn is_step_name(name: &str) -> bool {
    let digits = name.chars().take_while(char::is_ascii_digit).count();
    digits > 0
        && name[digits..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, '-' | '_' | '.' | ' '))
}

/// Adds the formats of the files under `root` (by extension; bytes left out) to `counts`.
fn count_formats(root: &Path, counts: &mut BTreeMap<Format, usize>) {
    let files = walkdir::WalkDir::new(root)
        .max_depth(FORMAT_DEPTH)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !(name.starts_with('.') || is_note(&name))
        })
        .flatten()
        .filter(|e| e.file_type().is_file())
        .take(MAX_FILES_SAMPLED);
    for file in files {
        match Format::from_extension(&file.file_name().to_string_lossy()) {
            Some(Format::Bytes) | None => {}
            Some(format) => *counts.entry(format).or_default() += 1,
        }
    }
}

/// `path` relative to `base`, with `/` separators.
fn relative(base: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A unique name for each suite root (`(path, name of its group entry)`), in the same order.
/// A group's entry is named as it is (`fixtures/regressions` → `regressions`); another fixture
/// directory by the parts of its path that tell it apart (`examples/billing/fixtures` →
/// `billing`), else `main`, else its own name (`testdata`). Repeats get `-2`, `-3`, ….
fn names(dir: &Path, roots: &[(PathBuf, Option<String>)]) -> Vec<String> {
    let explicit: Vec<Option<String>> = roots
        .iter()
        .map(|(root, entry)| match entry {
            Some(entry) => Some(sanitize(entry)),
            None => telling_name(&relative(dir, root)),
        })
        .collect();
    let mut names: Vec<String> = Vec::new();
    for ((root, _), name) in roots.iter().zip(&explicit) {
        let base = name.clone().unwrap_or_else(|| {
            let main_free = !explicit.iter().flatten().any(|n| n == "main")
                && !names.iter().any(|n| n == "main");
            if main_free {
                "main".to_owned()
            } else {
                let own = root.file_name().map(|n| n.to_string_lossy());
                sanitize(own.as_deref().unwrap_or("main"))
            }
        });
        names.push(unique(base, &names));
    }
    names
}

/// The parts of a fixture directory's path that tell it from others (`examples/billing/fixtures`
/// → `billing`), if any.
fn telling_name(relative: &str) -> Option<String> {
    let telling: Vec<&str> = relative
        .split('/')
        .filter(|part| {
            let lower = part.to_ascii_lowercase();
            !FIXTURE_DIR_NAMES.contains(&lower.as_str()) && !GENERIC.contains(&lower.as_str())
        })
        .collect();
    (!telling.is_empty()).then(|| sanitize(&telling.join("-")))
}

/// A valid TOML bare key: ASCII letters, digits, `-` and `_`; anything else becomes `-`.
fn sanitize(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let key = key.trim_matches('-');
    if key.is_empty() {
        "main".to_owned()
    } else {
        key.to_owned()
    }
}

/// `base`, or `base-2`, `base-3`, … when one of `names` is that already.
fn unique(base: String, names: &[String]) -> String {
    let taken = |name: &str| names.iter().any(|n| n == name);
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| !taken(name))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Creates `paths` under a temp dir: a path ending in `/` is a directory, others files.
    fn tree(paths: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for path in paths {
            let full = dir.path().join(path);
            if path.ends_with('/') {
                std::fs::create_dir_all(&full).expect("dir");
            } else {
                std::fs::create_dir_all(full.parent().expect("parent")).expect("dir");
                std::fs::write(&full, "{}").expect("file");
            }
        }
        dir
    }

    fn survey_of(paths: &[&str]) -> Survey {
        let dir = tree(paths);
        survey(dir.path()).expect("survey")
    }

    #[test]
    fn directories_inside_fixtures_are_fixtures() {
        let found = survey_of(&[
            "fixtures/a/in.json",
            "fixtures/b/in.json",
            "fixtures/README.md",
        ]);
        assert_eq!(
            found.suites,
            [FoundSuite {
                name: "main".into(),
                root: "fixtures".into(),
                shape: Shape::Dirs {
                    count: 2,
                    files: 0,
                    steps: None
                },
            }]
        );
        assert_eq!(found.formats, [Format::Json]);
        assert_eq!(found.suites[0].shape.include(), "*/");
    }

    #[test]
    fn files_inside_testdata_are_fixtures_by_their_most_common_extension() {
        let found = survey_of(&[
            "testdata/a.csv",
            "testdata/b.csv",
            "testdata/c.csv",
            "testdata/notes.txt",
        ]);
        let shape = &found.suites[0].shape;
        assert_eq!(
            *shape,
            Shape::Files {
                extension: "csv".into(),
                count: 3,
                others: 1
            }
        );
        assert_eq!(shape.include(), "*.csv");
        assert_eq!(found.formats, [Format::Csv, Format::Text]);
    }

    #[test]
    fn numbered_subdirectories_are_steps() {
        let found = survey_of(&[
            "tests/fixtures/night_a/1-baseline/in.json",
            "tests/fixtures/night_a/2-override/in.json",
            "tests/fixtures/night_b/1-baseline/in.json",
            "tests/fixtures/night_b/2-override/in.ndjson",
        ]);
        assert_eq!(found.suites.len(), 1, "{found:?}");
        assert_eq!(found.suites[0].root, "tests/fixtures");
        assert_eq!(
            found.suites[0].shape,
            Shape::Dirs {
                count: 2,
                files: 0,
                steps: Some(vec!["1-baseline".into(), "2-override".into()])
            }
        );
        assert_eq!(found.formats, [Format::Json, Format::Ndjson]);
    }

    #[test]
    fn nothing_found_in_an_empty_or_unrelated_tree() {
        assert_eq!(
            survey_of(&[]),
            Survey {
                suites: vec![],
                formats: vec![]
            }
        );
        let found = survey_of(&["src/main.rs", "docs/guide.md", "target/fixtures/a/x.json"]);
        assert!(found.suites.is_empty(), "{found:?}");
    }

    #[test]
    fn build_output_dependencies_and_hidden_directories_are_skipped() {
        let found = survey_of(&[
            ".git/fixtures/a/x",
            "node_modules/pkg/fixtures/a.json",
            ".venv/lib/testdata/a.json",
            "__pycache__/fixtures/a.json",
            "reports/latest/fixtures/a.json",
            "pkg/testdata/a.json",
        ]);
        let roots: Vec<&str> = found.suites.iter().map(|s| s.root.as_str()).collect();
        assert_eq!(roots, ["pkg/testdata"]);
        assert_eq!(found.suites[0].name, "pkg");
    }

    #[test]
    fn a_directory_of_suites_gives_one_suite_each() {
        let found = survey_of(&[
            "examples/shop/fixtures/main/small/in.json",
            "examples/shop/fixtures/main/large/in.json",
            "examples/shop/fixtures/regressions/bug_1/in.json",
            "examples/shop/fixtures/history/week/1-monday/in.csv",
            "examples/shop/fixtures/history/week/2-tuesday/in.csv",
        ]);
        let names: Vec<(&str, &str)> = found
            .suites
            .iter()
            .map(|s| (s.name.as_str(), s.root.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("history", "examples/shop/fixtures/history"),
                ("main", "examples/shop/fixtures/main"),
                ("regressions", "examples/shop/fixtures/regressions"),
            ]
        );
        assert!(matches!(
            &found.suites[0].shape,
            Shape::Dirs { steps: Some(steps), .. } if steps == &["1-monday", "2-tuesday"]
        ));
    }

    #[test]
    fn fixtures_sharing_one_inner_layout_are_not_suites() {
        let found = survey_of(&[
            "fixtures/a/input/x.json",
            "fixtures/a/expected/x.json",
            "fixtures/b/input/x.json",
            "fixtures/b/expected/x.json",
        ]);
        assert_eq!(found.suites.len(), 1);
        assert_eq!(found.suites[0].shape.count(), 2);
    }

    #[test]
    fn names_are_unique_bare_keys() {
        let found = survey_of(&[
            "fixtures/a.json",
            "tests/fixtures/b.json",
            "my app/samples/c.json",
        ]);
        let names: Vec<&str> = found.suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["main", "my-app", "fixtures"]);
    }

    #[test]
    fn fixture_directories_deeper_than_the_limit_are_not_looked_for() {
        let found = survey_of(&["a/b/c/d/fixtures/x.json", "a/b/c/fixtures/x.json"]);
        let roots: Vec<&str> = found.suites.iter().map(|s| s.root.as_str()).collect();
        assert_eq!(roots, ["a/b/c/fixtures"]);
    }

    #[test]
    fn step_names() {
        for good in ["1-baseline", "02_import", "3.fix", "4", "10 late"] {
            assert!(is_step_name(good), "{good}");
        }
        for bad in ["baseline", "v1", "1a", "", "-1"] {
            assert!(!is_step_name(bad), "{bad}");
        }
    }

    #[test]
    fn files_without_an_extension_are_all_included() {
        let found = survey_of(&["samples/a", "samples/b", "samples/c.json"]);
        assert_eq!(
            found.suites[0].shape,
            Shape::Files {
                extension: String::new(),
                count: 3,
                others: 0
            }
        );
        assert_eq!(found.suites[0].shape.include(), "*");
    }

    #[test]
    fn an_empty_fixture_directory_is_kept() {
        let found = survey_of(&["fixtures/"]);
        assert_eq!(found.suites[0].shape, Shape::Empty);
        assert_eq!(found.suites[0].shape.include(), "*/");
    }

    #[test]
    fn the_surveyed_directory_must_exist() {
        let dir = tree(&[]);
        assert!(survey(&dir.path().join("missing")).is_err());
    }
}

//! `parity diff DIR DIR --config`: a file a `[[compare]]` block converts (a database) is
//! converted on each side, once per table, and the converters' outputs are compared, as
//! `parity run` does. There is no run here, so only `{file}`, `{table}` and `{side}` (`legacy`
//! for the left directory, `candidate` for the right) have values; the converter runs in the
//! config's directory with parity's environment, in its own process group, under the block's
//! `convert_timeout` (else the default side timeout). A conversion that fails is a
//! `convert_failed` difference, never a pass.

use anyhow::Context;

use super::{Compared, DiffArgs, Flags, compare_file};
use crate::compare::{How, finish_found};
use crate::config::{self, CompareBlock, Config, DEFAULT_TIMEOUT, TABLE_SEPARATOR};
use crate::diff::dir::{Entry, FilePair};
use crate::diff::{DiffKind, Difference, Findings, NoWaivers};

/// The comparisons of `pair`'s file converted by `block`: one per table (or one).
pub fn compare(
    args: &DiffArgs,
    flags: &Flags,
    config: &Config,
    block: &CompareBlock,
    pair: &FilePair,
) -> anyhow::Result<Vec<Compared>> {
    let Some(convert) = &block.convert else {
        return Ok(Vec::new());
    };
    let tables: Vec<Option<&str>> = if convert.tables.is_empty() {
        vec![None]
    } else {
        convert.tables.iter().map(|t| Some(t.as_str())).collect()
    };
    let mut compared = Vec::new();
    for table in tables {
        let name = match table {
            Some(table) => format!("{}{TABLE_SEPARATOR}{table}", pair.relative),
            None => pair.relative.clone(),
        };
        let mut failures = Vec::new();
        let mut files = Vec::new();
        for (label, side, entry) in [
            ("left", "legacy", pair.left.as_ref()),
            ("right", "candidate", pair.right.as_ref()),
        ] {
            let converted = match entry {
                None => Ok(None),
                Some(Entry::File(path)) => {
                    convert_one(config, convert, path, table, side).map(Some)
                }
                Some(other) => Err(format!(
                    "the converter was not run: there is a {} there, and parity converts regular \
                     files only",
                    other.kind()
                )),
            };
            match converted {
                Ok(file) => files.push(file),
                Err(why) => {
                    failures.push(format!(
                        "the {label} side's `{name}` was not converted: {why}"
                    ));
                    files.push(None);
                }
            }
        }
        if !failures.is_empty() {
            let how = How::by_block(&name, Some(block));
            let mut findings = Findings::new(&name, &NoWaivers, args.max_differences);
            for failure in failures {
                findings.push(Difference::new("$", DiffKind::ConvertFailed).note(failure));
            }
            let (output, summary, _) = finish_found(how, findings);
            compared.push(Compared::of(Some(name), None, output, summary));
            continue;
        }
        let entries: Vec<Option<Entry>> = files
            .iter()
            .map(|f| f.as_ref().map(|f| Entry::File(f.path().to_owned())))
            .collect();
        compared.push(compare_file(
            args,
            flags,
            Some(block),
            Some(name),
            entries[0].as_ref(),
            entries[1].as_ref(),
        )?);
    }
    Ok(compared)
}

/// Runs the converter on one side's file; the file holding its stdout, or why it failed.
fn convert_one(
    config: &Config,
    convert: &config::Convert,
    path: &std::path::Path,
    table: Option<&str>,
    side: &str,
) -> Result<tempfile::NamedTempFile, String> {
    let vars = config::RunVars {
        side: side.to_owned(),
        ..config::RunVars::default()
    };
    // The converter runs in the config's directory: a path given relative to here would
    // name another file there.
    let path = std::path::absolute(path)
        .map_err(|e| format!("the converter was not run: `{}`: {e}", path.display()))?;
    let file = path.to_string_lossy();
    let vars = vars.with(&file, table.unwrap_or(""));
    let argv: Vec<String> = convert.argv.iter().map(|t| t.render(&vars)).collect();
    let mut out = tempfile::NamedTempFile::new()
        .context("no temporary file")
        .map_err(|e| format!("the converter was not run: {e:#}"))?;
    crate::runner::run_into(
        &argv,
        &config.base_dir,
        &format!("the converter `{}`", argv.join(" ")),
        convert.timeout.unwrap_or(DEFAULT_TIMEOUT),
        out.as_file_mut(),
    )?;
    Ok(out)
}

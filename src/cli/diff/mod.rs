//! `parity diff LEFT RIGHT`: the diff engine on two files or two directories, with rules given
//! as flags (or, for directories, the `[[compare]]` blocks of a parity.toml). Exit codes follow
//! diff(1): 0 same under the rules, 1 different, 2 trouble (including input that does not
//! parse, reported with file, line and column).

mod convert;
mod flags;
mod print;

use anyhow::{Context, bail};

use super::{DiffArgs, Printed};
use crate::compare::{How, Labels, compare_entries};
use crate::config;
use crate::diff::dir::{Entry, pair_files};
use crate::diff::{DiffKind, DiffSpec, Findings, FindingsSummary, Format, NoWaivers, OutputStatus};
use crate::exit_code;
use flags::Flags;
use print::{print_human, print_json};

/// One compared file.
struct Compared {
    /// Relative path in directory mode.
    name: Option<String>,
    format: Option<Format>,
    status: OutputStatus,
    summary: FindingsSummary,
}

pub fn diff(args: DiffArgs) -> anyhow::Result<i32> {
    let flags = Flags::parse(&args)?;
    let config = match &args.config {
        Some(path) => Some(config::load(path)?),
        None => None,
    };
    let (lmeta, rmeta) = (
        std::fs::metadata(&args.left)
            .with_context(|| format!("cannot read `{}`", args.left.display()))?,
        std::fs::metadata(&args.right)
            .with_context(|| format!("cannot read `{}`", args.right.display()))?,
    );
    let compared = match (lmeta.is_dir(), rmeta.is_dir()) {
        (false, false) => vec![compare_file(
            &args,
            &flags,
            None,
            None,
            Some(&Entry::File(args.left.clone())),
            Some(&Entry::File(args.right.clone())),
        )?],
        (true, true) => {
            let mut compared = Vec::new();
            for p in pair_files(&args.left, &args.right) {
                let block = config.as_ref().and_then(|c| c.block_for(&p.relative));
                match (config.as_ref(), block) {
                    (Some(config), Some(block)) if block.convert.is_some() => {
                        compared.extend(convert::compare(&args, &flags, config, block, &p)?);
                    }
                    _ => compared.push(compare_file(
                        &args,
                        &flags,
                        block,
                        Some(p.relative.clone()),
                        p.left.as_ref(),
                        p.right.as_ref(),
                    )?),
                }
            }
            compared
        }
        _ => bail!("cannot compare a file with a directory: give two files or two directories"),
    };
    let malformed: Vec<String> = compared
        .iter()
        .flat_map(|c| &c.summary.differences)
        .filter(|d| {
            matches!(
                d.kind,
                DiffKind::ParseError | DiffKind::Unreadable | DiffKind::SpecialFile
            )
        })
        .filter_map(|d| d.note.clone())
        .collect();
    match args.output {
        Printed::Human => print_human(&args, &compared)?,
        Printed::Json => print_json(&args, &compared)?,
    }
    if !malformed.is_empty() {
        for note in &malformed {
            anstream::eprintln!("error: {}", crate::report::inert::inert_line(note));
        }
        return Ok(exit_code::TROUBLE);
    }
    let different = compared.iter().any(|c| !c.status.is_success());
    Ok(if different {
        exit_code::DIFFERENT
    } else {
        exit_code::OK
    })
}

fn compare_file(
    args: &DiffArgs,
    flags: &Flags,
    block: Option<&config::CompareBlock>,
    name: Option<String>,
    left: Option<&Entry>,
    right: Option<&Entry>,
) -> anyhow::Result<Compared> {
    let (lname, rname) = match &name {
        Some(name) => (name.clone(), name.clone()),
        None => (
            args.left.to_string_lossy().into_owned(),
            args.right.to_string_lossy().into_owned(),
        ),
    };
    let format = match (left, block.and_then(|b| b.format).or(flags.format)) {
        (_, Some(format)) => Some(format),
        (Some(Entry::File(path)), None) if matches!(right, Some(Entry::File(_))) => Some(
            Format::detect_file(&lname, path).with_context(|| format!("cannot read `{lname}`"))?,
        ),
        _ => None,
    };
    let flag_spec;
    let spec = match block {
        Some(block) => &block.spec,
        None => {
            // Without a format nothing is compared by content (a file on one side only, a
            // link): the flags' rules have nothing to apply to.
            flag_spec = match format {
                Some(format) => flags.spec(format)?,
                None => DiffSpec::default(),
            };
            &flag_spec
        }
    };
    let findings = Findings::new(lname.clone(), &NoWaivers, args.max_differences);
    let how = How {
        name: &lname,
        files: Some((&lname, &rname)),
        compare: block.map(|b| b.index),
        format,
        spec,
    };
    let labels = Labels {
        left: "left",
        right: "right",
    };
    let (output, summary, trouble) = compare_entries(labels, how, left, right, findings);
    if let Some(trouble) = trouble {
        bail!("cannot compare `{lname}` and `{rname}`: {trouble}");
    }
    Ok(Compared::of(name, format, output, summary))
}

impl Compared {
    /// One compared file from the engine's record of it (`format` when it names none).
    fn of(
        name: Option<String>,
        format: Option<Format>,
        output: crate::outcome::OutputComparison,
        mut summary: FindingsSummary,
    ) -> Self {
        // The stored differences and notes moved into the output record.
        summary.differences = output.differences;
        summary.notes = output.notes;
        Compared {
            name,
            format: output.format.or(format),
            status: output.status,
            summary,
        }
    }
}

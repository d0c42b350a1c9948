//! `parity diff LEFT RIGHT`: the diff engine on two files or two directories, with rules given
//! as flags (or, for directories, the `[[compare]]` blocks of a parity.toml). Exit codes follow
//! diff(1): 0 same under the rules, 1 different, 2 trouble (including input that does not
//! parse, reported with file, line and column).

mod flags;
mod print;

use std::path::Path;

use anyhow::{Context, bail};

use super::{DiffArgs, DiffOutput};
use crate::compare::block_for;
use crate::config;
use crate::diff::dir::pair_files;
use crate::diff::stream::StreamInput;
use crate::diff::{self, DiffKind, Findings, FindingsSummary, Format, NoWaivers, OutputStatus};
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
    /// Both texts, kept for a unified diff when the format is text.
    texts: Option<(String, String)>,
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
            Some(&args.left),
            Some(&args.right),
        )?],
        (true, true) => pair_files(&args.left, &args.right)
            .context("cannot list the directories")?
            .iter()
            .map(|p| {
                let block = config.as_ref().and_then(|c| block_for(c, &p.relative));
                compare_file(
                    &args,
                    &flags,
                    block,
                    Some(p.relative.clone()),
                    p.left.as_deref(),
                    p.right.as_deref(),
                )
            })
            .collect::<anyhow::Result<_>>()?,
        _ => bail!("cannot compare a file with a directory: give two files or two directories"),
    };
    let malformed: Vec<String> = compared
        .iter()
        .flat_map(|c| &c.summary.differences)
        .filter(|d| d.kind == DiffKind::ParseError)
        .filter_map(|d| d.note.clone())
        .collect();
    match args.output {
        DiffOutput::Human => print_human(&args, &compared)?,
        DiffOutput::Json => print_json(&args, &compared)?,
    }
    if !malformed.is_empty() {
        for note in &malformed {
            anstream::eprintln!("error: {note}");
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
    left: Option<&Path>,
    right: Option<&Path>,
) -> anyhow::Result<Compared> {
    let mut findings = Findings::new(
        name.clone().unwrap_or_default(),
        &NoWaivers,
        args.max_differences,
    );
    let (Some(left), Some(right)) = (left, right) else {
        let (kind, side) = if left.is_some() {
            (DiffKind::MissingFile, "left")
        } else {
            (DiffKind::ExtraFile, "right")
        };
        findings
            .push(diff::Difference::new("$", kind).note(format!("only in the {side} directory")));
        return Ok(Compared {
            name,
            format: None,
            status: OutputStatus::Different,
            summary: findings.finish(),
            texts: None,
        });
    };
    let (lname, rname) = (left.to_string_lossy(), right.to_string_lossy());
    let format = match block.and_then(|b| b.format).or(flags.format) {
        Some(format) => format,
        None => {
            Format::detect_file(&lname, left).with_context(|| format!("cannot read `{lname}`"))?
        }
    };
    let flag_spec;
    let spec = match block {
        Some(block) => &block.spec,
        None => {
            flag_spec = flags.spec(format)?;
            &flag_spec
        }
    };
    let (_, status) = diff::compare_files(
        Some(format),
        spec,
        &StreamInput {
            side: "left",
            name: &lname,
            path: left,
        },
        &StreamInput {
            side: "right",
            name: &rname,
            path: right,
        },
        &mut findings,
    )
    .with_context(|| format!("cannot compare `{lname}` and `{rname}`"))?;
    let read_text =
        |path: &Path| std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned());
    let texts = if format == Format::Text && status == OutputStatus::Different {
        Some((read_text(left)?, read_text(right)?))
    } else {
        None
    };
    Ok(Compared {
        name,
        format: Some(format),
        status,
        summary: findings.finish(),
        texts,
    })
}

//! Validation of `[[stage]]` blocks: intermediate outputs (a monolith's dumped intermediates, a
//! pipeline's checkpoints) that both sides write, each compared like a `[[compare]]` block (the
//! format and rules go through [`Validator::block`]) so a case can name its first divergent
//! stage. Stages are declared in the order they run: `after` names only stages above.

use std::ops::Range;

use toml::Spanned;

use super::raw::RawStage;
use super::validate::Validator;
use super::{CompareBlock, OutputSelector, RuleInfo, Stage};

/// Characters that would make a stage path a glob: a stage names one file.
const GLOB_CHARACTERS: [char; 6] = ['*', '?', '[', ']', '{', '}'];

impl Validator<'_> {
    /// The `[[stage]]` blocks in declaration order. Their compare blocks are numbered from
    /// `first_block` (after the `[[compare]]` blocks) and their rules appended to `rules`.
    pub(super) fn stages(
        &mut self,
        raw: Vec<Spanned<RawStage>>,
        first_block: usize,
        rules: &mut Vec<RuleInfo>,
    ) -> Vec<Stage> {
        let names: Vec<Option<String>> = raw
            .iter()
            .map(|stage| stage.get_ref().name.as_ref().map(|n| n.get_ref().clone()))
            .collect();
        raw.into_iter()
            .enumerate()
            .filter_map(|(position, stage)| {
                self.stage(position, stage, &names, first_block + position, rules)
            })
            .collect()
    }

    /// The stage at `position`; `names` are every stage's name (`None`: missing, reported).
    fn stage(
        &mut self,
        position: usize,
        stage: Spanned<RawStage>,
        names: &[Option<String>],
        index: usize,
        rules: &mut Vec<RuleInfo>,
    ) -> Option<Stage> {
        let table = stage.span();
        let raw = stage.into_inner();
        let above = &names[..position];
        let name = raw
            .name
            .as_ref()
            .and_then(|name| self.stage_name(name, above));
        let label = match &name {
            Some(name) => format!("stage `{name}`"),
            None => format!("`stage[{position}]`"),
        };
        let paths = self.stage_paths(&raw, table, &label);
        let after = match &raw.after {
            // The stage declared just above, if any.
            None => Some(position.checked_sub(1).into_iter().collect()),
            Some(after) => self.after(after, &label, names, position),
        };
        // Without a usable name (already reported) the block is still checked.
        let output = format!("stage:{}", name.as_deref().unwrap_or_default());
        let (format, spec) = self.block(index, output, &raw.block, rules);
        let (name, (legacy, candidate), after) = (name?, paths?, after?);
        Some(Stage {
            block: CompareBlock {
                index,
                output: OutputSelector::Stage { name: name.clone() },
                format,
                spec,
                convert: None,
            },
            name,
            legacy,
            candidate,
            after,
        })
    }

    /// `name`: letters, digits, `_`, `.` or `-`, and not the name of a stage above.
    fn stage_name(&mut self, name: &Spanned<String>, above: &[Option<String>]) -> Option<String> {
        let text = name.get_ref();
        let valid = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            self.error(
                name.span(),
                format!("invalid stage name `{text}`: a stage name is letters, digits, `_`, `.` or `-`, e.g. `name = \"ingest\"`"),
            );
            return None;
        }
        if above.iter().flatten().any(|other| other == text) {
            self.error(
                name.span(),
                format!("stage `{text}` is declared twice: stage names must be unique"),
            );
            return None;
        }
        Some(text.clone())
    }

    /// The paths under each side's `{out}`: `output` for both, or `legacy` and `candidate`.
    fn stage_paths(
        &mut self,
        raw: &RawStage,
        table: Range<usize>,
        label: &str,
    ) -> Option<(String, String)> {
        let either = "give either `output = \"path\"` (both sides write the same path) or both `legacy` and `candidate`";
        if let Some(output) = &raw.output {
            let mut extra = false;
            for (key, value) in [("legacy", &raw.legacy), ("candidate", &raw.candidate)] {
                if let Some(value) = value {
                    self.error(
                        value.span(),
                        format!("{label} has `output`, so `{key}` is one path too many: {either}"),
                    );
                    extra = true;
                }
            }
            let path = self.stage_path(output, "output")?;
            return (!extra).then(|| (path.clone(), path));
        }
        let legacy = raw.legacy.as_ref().map(|p| self.stage_path(p, "legacy"));
        let candidate = raw
            .candidate
            .as_ref()
            .map(|p| self.stage_path(p, "candidate"));
        // A key whose value could not be read is reported already, not also missing.
        let missing = |key: &str, value: &Option<Option<String>>| {
            value.is_none() && !raw.broken.contains(&key) && !raw.broken.contains(&"output")
        };
        match (missing("legacy", &legacy), missing("candidate", &candidate)) {
            (true, true) => self.error(
                table,
                format!("{label} needs the file it compares: {either}, e.g. `legacy = \"stages/ingest.json\"` and `candidate = \"checkpoints/01-ingest.json\"`"),
            ),
            (legacy_missing @ true, false) | (legacy_missing @ false, true) => {
                let (key, other) = if legacy_missing {
                    ("legacy", "candidate")
                } else {
                    ("candidate", "legacy")
                };
                self.error(
                    table,
                    format!("{label} has `{other}` but no `{key}`: give the path under the {key}'s `{{out}}` too, or `output = \"path\"` alone when both sides write the same path"),
                );
            }
            (false, false) => {}
        }
        Some((legacy??, candidate??))
    }

    /// A path under a side's `{out}`: relative, inside it, one file (no glob, no trailing `/`),
    /// not a stream.
    fn stage_path(&mut self, path: &Spanned<String>, key: &str) -> Option<String> {
        let text = path.get_ref();
        let problem = if text.is_empty() {
            format!(
                "`{key}` is empty: write a file path under the side's `{{out}}`, e.g. \"stages/ingest.json\""
            )
        } else if matches!(text.as_str(), "stdout" | "stderr" | "exit") {
            format!(
                "`{key} = \"{text}\"`: a stage compares a file under `{{out}}`; streams and the exit status are compared by `[[compare]]` blocks"
            )
        } else if text.starts_with('/') {
            format!(
                "stage path `{text}` is absolute: write it relative to the side's `{{out}}`, e.g. \"checkpoints/01-ingest.json\""
            )
        } else if text.split('/').any(|part| part == "..") {
            format!(
                "stage path `{text}` leaves the side's `{{out}}` (`..`): write a path inside it"
            )
        } else if text.ends_with('/') {
            format!("stage path `{text}` names a directory: a stage names one file under `{{out}}`")
        } else if text.contains(GLOB_CHARACTERS) {
            format!(
                "stage path `{text}` has glob characters: a stage names one file under `{{out}}` (no `*`, `?`, `[`, `]`, `{{`, `}}`)"
            )
        } else {
            return Some(text.clone());
        };
        self.error(path.span(), problem);
        None
    }

    /// `after`: stages declared above the one at `position`, each once, as indices.
    fn after(
        &mut self,
        after: &Spanned<Vec<Spanned<String>>>,
        label: &str,
        names: &[Option<String>],
        position: usize,
    ) -> Option<Vec<usize>> {
        let above: Vec<String> = names[..position]
            .iter()
            .flatten()
            .map(|name| format!("`{name}`"))
            .collect();
        let allowed = if above.is_empty() {
            "none, it is the first stage (`after = []`, or no `after`)".to_owned()
        } else {
            above.join(", ")
        };
        let order = format!(
            "stages are declared in the order they run, so `after` names stages above {label}: {allowed}"
        );
        let mut indices = Vec::new();
        let mut valid = true;
        for entry in after.get_ref() {
            let text = entry.get_ref();
            let found = names.iter().position(|n| n.as_deref() == Some(text));
            let problem = match found {
                Some(i) if i < position && indices.contains(&i) => {
                    Some(format!("`after` names `{text}` twice"))
                }
                Some(i) if i < position => {
                    indices.push(i);
                    None
                }
                Some(i) if i == position => Some(format!("{label} cannot run after itself")),
                Some(_) => Some(format!(
                    "`after` names `{text}`, which is declared below {label}; {order}"
                )),
                None => Some(format!(
                    "`after` names `{text}`, which is not a stage; {order}"
                )),
            };
            if let Some(problem) = problem {
                self.error(entry.span(), problem);
                valid = false;
            }
        }
        valid.then_some(indices)
    }
}

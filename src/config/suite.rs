//! Validation of `[suites.NAME]`: the fixture root, the globs that select fixtures, the steps
//! inside each fixture of a scenario suite, and the suite's sides (its own `[suites.NAME.legacy]`
//! and `[suites.NAME.candidate]`, which replace the top-level ones for it, or those).

use globset::GlobBuilder;
use toml::Spanned;

use super::raw::RawSuite;
use super::read;
use super::validate::Validator;
use super::{EntryPattern, Legacy, SideSpec, Suite};

impl Validator<'_> {
    /// A suite, with its sides resolved: its own `[suites.NAME.legacy]` and
    /// `[suites.NAME.candidate]`, else `legacy` and `candidate` from the top level (`None`: no
    /// top-level candidate, already reported).
    pub(super) fn suite(
        &mut self,
        name: String,
        suite: Spanned<RawSuite>,
        legacy: &Legacy,
        candidate: Option<&SideSpec>,
    ) -> Option<Suite> {
        let span = suite.span();
        let mut raw = suite.into_inner();
        let table = read::child("suites", &name);
        let own_legacy = raw.legacy.is_some();
        let legacy = match raw.legacy.take() {
            Some(own) => self.legacy(Some(own), &format!("{table}.legacy")),
            None => legacy.clone(),
        };
        let own_candidate = raw.candidate.is_some();
        let candidate = match raw.candidate.take() {
            Some(own) => self.candidate(
                own,
                &format!("{table}.candidate"),
                &format!("{table}.legacy"),
            ),
            None => candidate.cloned(),
        };
        let root = raw.root.as_ref().map(|text| {
            let root = self.base_dir.join(text.get_ref());
            if !root.is_dir() {
                self.error(
                    text.span(),
                    format!(
                        "suite `{name}`: root `{}` is not a directory (resolved to {})",
                        text.get_ref(),
                        root.display()
                    ),
                );
            }
            root
        });
        let exclude = raw
            .exclude
            .iter()
            .filter_map(|p| self.entry_pattern(p))
            .collect();
        let Some(include) = raw.include else {
            if !raw.broken.contains(&"include") {
                self.error(
                    span,
                    format!("suite `{name}` needs `include`: e.g. `include = [\"*/\"]` (each directory is a fixture) or `[\"*.json\"]` (each file is one)"),
                );
            }
            return None;
        };
        let steps = raw.steps.as_ref().and_then(|steps| self.steps(steps));
        if raw.steps.is_some() {
            for pattern in include
                .get_ref()
                .iter()
                .filter(|p| !p.get_ref().ends_with('/'))
            {
                self.error(
                    pattern.span(),
                    format!(
                        "suite `{name}` has `steps`, so each fixture must be a directory of steps, but `{}` selects files: end the pattern with `/`, e.g. `include = [\"*/\"]`",
                        pattern.get_ref()
                    ),
                );
            }
        }
        if include.get_ref().is_empty() {
            self.error(
                include.span(),
                "`include` is empty, so the suite has no fixtures",
            );
        }
        let include = include
            .get_ref()
            .iter()
            .filter_map(|p| self.entry_pattern(p))
            .collect();
        let teardown = raw
            .teardown
            .as_ref()
            .and_then(|t| self.argv(t, "teardown"))
            .map(|argv| argv.iter().filter_map(|a| self.template(a)).collect());
        let requires = raw
            .requires
            .as_ref()
            .and_then(|r| self.argv(r, "requires"))
            .map(|argv| argv.iter().map(|a| a.get_ref().clone()).collect());
        Some(Suite {
            name,
            root: root?,
            include,
            exclude,
            default: raw.default.unwrap_or(true),
            steps,
            legacy,
            candidate: candidate?,
            own_legacy,
            own_candidate,
            teardown,
            requires,
        })
    }

    /// A command named by `key`: a non-empty array whose first element names the program.
    fn argv<'a>(
        &mut self,
        argv: &'a Spanned<Vec<Spanned<String>>>,
        key: &str,
    ) -> Option<&'a [Spanned<String>]> {
        match argv.get_ref().first() {
            Some(program) if !program.get_ref().trim().is_empty() => Some(argv.get_ref()),
            _ => {
                self.error(
                    argv.span(),
                    format!("`{key}` must name a program: `{key} = [\"program\", \"arg\", ...]`"),
                );
                None
            }
        }
    }

    /// `steps`: a glob over the names of the entries directly inside a fixture directory.
    fn steps(&mut self, steps: &Spanned<String>) -> Option<EntryPattern> {
        let text = steps.get_ref();
        let name = text.strip_suffix('/').unwrap_or(text);
        if name.is_empty() {
            self.error(
                steps.span(),
                "`steps` is empty: write a glob over the entries inside each fixture, e.g. `steps = \"*/\"` (each directory is one step)",
            );
            return None;
        }
        if name.contains('/') {
            self.error(
                steps.span(),
                format!("`steps` names entries directly inside each fixture directory, so `/` may only end it (then it selects directories): `{text}` looks deeper; e.g. `steps = \"*/\"`"),
            );
            return None;
        }
        self.entry_pattern(steps)
    }

    fn entry_pattern(&mut self, pattern: &Spanned<String>) -> Option<EntryPattern> {
        let text = pattern.get_ref();
        let dirs = text.ends_with('/');
        let glob = text.trim_end_matches('/');
        match GlobBuilder::new(glob).literal_separator(true).build() {
            Ok(g) => Some(EntryPattern {
                text: text.clone(),
                dirs,
                matcher: g.compile_matcher(),
            }),
            Err(e) => {
                self.error(
                    pattern.span(),
                    format!("invalid glob `{text}`: {}", e.kind()),
                );
                None
            }
        }
    }
}

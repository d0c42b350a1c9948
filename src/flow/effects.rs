//! Applying what the judge called for ([`Effect`]): writing pending golden updates and removing
//! the outputs of passing cases. What happened is written into the outcome (where a pending
//! update is, or why it could not be written), so nothing is lost and nothing is silent.

use super::judge::{Effect, Judged};
use crate::config::Config;
use crate::golden::GoldenStore;

/// Applies `judged`'s effects, in order, and empties them.
pub fn apply(config: &Config, store: &GoldenStore, judged: &mut Judged) {
    for effect in std::mem::take(&mut judged.effects) {
        let outcome = &mut judged.outcome;
        match effect {
            Effect::WritePending {
                dir,
                run,
                provenance,
            } => match store.write(config, &dir, &run, *provenance) {
                Ok(()) => {
                    let shown = dir
                        .strip_prefix(&config.base_dir)
                        .unwrap_or(&dir)
                        .to_string_lossy()
                        .into_owned();
                    if let Some(golden) = &mut outcome.golden {
                        golden.pending = Some(shown);
                    }
                }
                Err(e) => outcome
                    .notes
                    .push(format!("could not write the pending golden update: {e}")),
            },
            Effect::RemoveOutputs { dir } => {
                // A case whose sides left nothing behind gives its directories to the next
                // cases (a directory made and removed per run was the dearest part of a run on
                // some filesystems); one with a note (processes killed, a pipe held open) is
                // removed, so nothing that might still write reaches another case.
                let quiet = outcome.runs().iter().all(|(_, run)| run.notes.is_empty());
                let removed = if quiet {
                    crate::runner::recycle(&dir)
                } else {
                    std::fs::remove_dir_all(&dir)
                };
                // Asked only on failure: a `stat` per case is not free.
                if let Err(e) = removed
                    && dir.exists()
                {
                    outcome.notes.push(format!(
                        "could not remove outputs in {}: {e}",
                        dir.display()
                    ));
                }
            }
        }
    }
}

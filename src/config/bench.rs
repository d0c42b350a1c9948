//! Validation of `[bench]`: pair counts, budgets like `"5%"`, confidence, gating metrics.

use toml::Spanned;

use super::raw::RawBench;
use super::validate::Validator;
use crate::bench::{BenchSettings, MIN_RUNS, Metric, confidence_ok};

/// Parses a budget written as a percentage: `"5%"` is 0.05.
pub fn parse_budget(text: &str) -> Option<f64> {
    let number: f64 = text.trim().strip_suffix('%')?.trim().parse().ok()?;
    (number.is_finite() && number >= 0.0).then_some(number / 100.0)
}

impl Validator<'_> {
    /// `[bench]` as settings (seed aside), and the seed if the file fixes one.
    pub(super) fn bench(&mut self, raw: RawBench) -> (BenchSettings, Option<u64>) {
        let mut settings = BenchSettings::default();
        let count = |value: &Option<Spanned<i64>>,
                     name: &str,
                     min: i64,
                     this: &mut Self|
         -> Option<usize> {
            let value = value.as_ref()?;
            if *value.get_ref() < min {
                this.error(value.span(), format!("`{name}` must be at least {min}"));
                return None;
            }
            usize::try_from(*value.get_ref()).ok()
        };
        if let Some(runs) = count(&raw.runs, "runs", MIN_RUNS as i64, self) {
            settings.runs = runs;
        }
        if let Some(max) = count(&raw.max_runs, "max_runs", MIN_RUNS as i64, self) {
            settings.max_runs = max;
        }
        if let Some(warmup) = count(&raw.warmup, "warmup", 0, self) {
            settings.warmup = warmup;
        }
        if settings.max_runs < settings.runs
            && let Some(max) = &raw.max_runs
        {
            self.error(
                max.span(),
                format!(
                    "`max_runs` ({}) must be at least `runs` ({})",
                    settings.max_runs, settings.runs
                ),
            );
        }
        if let Some(budgets) = &raw.budget {
            for (name, value) in budgets.get_ref() {
                let Some(metric) = Metric::parse(name) else {
                    self.error(
                        budgets.span(),
                        format!(
                            "unknown metric `{name}` in `budget`; use `wall`, `cpu` or `memory`"
                        ),
                    );
                    continue;
                };
                match parse_budget(value.get_ref()) {
                    Some(budget) => {
                        settings.budgets.insert(metric, budget);
                    }
                    None => self.error(
                        value.span(),
                        format!(
                            "invalid budget `{}`: write a percentage such as \"5%\"",
                            value.get_ref()
                        ),
                    ),
                }
            }
        }
        if let Some(confidence) = &raw.confidence {
            let c = *confidence.get_ref();
            if confidence_ok(c) {
                settings.confidence = c;
            } else {
                self.error(
                    confidence.span(),
                    "`confidence` is a probability between 0.5 and 1, e.g. 0.95",
                );
            }
        }
        if let Some(gate) = &raw.gate {
            let mut metrics = std::collections::BTreeSet::new();
            for name in gate.get_ref() {
                match Metric::parse(name.get_ref()) {
                    Some(metric) => {
                        metrics.insert(metric);
                    }
                    None => self.error(
                        name.span(),
                        format!(
                            "unknown metric `{}`; use `wall`, `cpu` or `memory`",
                            name.get_ref()
                        ),
                    ),
                }
            }
            if metrics.is_empty() {
                self.error(
                    gate.span(),
                    "`gate` needs at least one metric: `wall`, `cpu` or `memory`",
                );
            } else {
                settings.gate = metrics;
            }
        }
        let seed = raw.seed.as_ref().map(|s| *s.get_ref() as u64);
        (settings, seed)
    }
}

//! Stages in the results: how each `[[stage]]` of a case (or step) compared ([`StageOutcome`])
//! and its first divergent stage ([`Stages`]), as results.json carries them.

use serde::{Deserialize, Serialize};

use super::OutputComparison;

/// How one `[[stage]]` of a case compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageOutcome {
    pub name: String,
    pub status: StageStatus,
    /// For `blocked`: the divergent stage upstream that its differences follow from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// Differences no waiver covers (the output `stage:NAME` lists them).
    pub differences: usize,
}

/// How a stage compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageStatus {
    /// Both sides wrote it and it agrees (identical, equivalent or waived).
    Agree,
    /// It differs while every stage it depends on agrees: a cause.
    Diverged,
    /// It differs, and a stage it depends on differs too: a consequence.
    Blocked,
    /// Neither side wrote it: nothing to compare.
    Missing,
}

impl StageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Agree => "agree",
            StageStatus::Diverged => "diverged",
            StageStatus::Blocked => "blocked",
            StageStatus::Missing => "missing",
        }
    }
}

/// The stages of a case (or step) and its first divergent one, as results.json carries them:
/// `stages` and `first_divergence` (a stage name, or null when none diverged), both absent
/// when the configuration has no stages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stages {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageOutcome>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub first_divergence: Option<Option<String>>,
}

impl Stages {
    /// The first divergent stage, if any.
    pub fn first(&self) -> Option<&str> {
        self.first_divergence.as_ref()?.as_deref()
    }

    /// `first divergence: decide (3 differences); 1 later stage and 2 outputs blocked`, for a
    /// case (or step) with a divergent stage.
    pub fn lead(&self, outputs: &[OutputComparison]) -> Option<String> {
        let first = self.first()?;
        let stage = self.stages.iter().find(|s| s.name == first)?;
        let stages = self
            .stages
            .iter()
            .filter(|s| s.status == StageStatus::Blocked)
            .count();
        let outputs = outputs
            .iter()
            .filter(|o| o.blocked_by.is_some() && !o.output.starts_with(STAGE_PREFIX))
            .count();
        let mut blocked = Vec::new();
        if stages > 0 {
            blocked.push(crate::units::plural(stages, "later stage"));
        }
        if outputs > 0 {
            blocked.push(crate::units::plural(outputs, "output"));
        }
        let tail = if blocked.is_empty() {
            String::new()
        } else {
            format!("; {} blocked", blocked.join(" and "))
        };
        let others: Vec<&str> = self
            .stages
            .iter()
            .filter(|s| s.status == StageStatus::Diverged && s.name != first)
            .map(|s| s.name.as_str())
            .collect();
        let also = if others.is_empty() {
            String::new()
        } else {
            format!("; also diverged on its own: {}", others.join(", "))
        };
        Some(format!(
            "first divergence: {first} ({}){tail}{also}",
            crate::units::plural(stage.differences, "difference")
        ))
    }
}

/// How a stage's compared output is named: `stage:decide`.
pub const STAGE_PREFIX: &str = "stage:";

/// A field present in the file keeps its `null` (`Some(None)`); an absent one is `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

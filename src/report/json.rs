//! `results.json`: the run as data, pretty-printed with a stable key order.

use super::{Render, ReportError};
use crate::outcome::RunResults;

pub struct Json;

impl Render for Json {
    fn render(&self, results: &RunResults) -> Result<String, ReportError> {
        let mut text = serde_json::to_string_pretty(results)?;
        text.push('\n');
        Ok(text)
    }
}

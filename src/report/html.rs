//! `report.html`: one self-contained file for the engineer investigating a difference and the
//! person signing off — the causes first, each linking to its cases, then every case with its
//! differing fields side by side, its steps and stages, the performance chart as inline SVG,
//! and the goldens, waivers and rules. Laid out from the [`RunView`] by a template embedded in
//! the binary (minijinja, escaping every value for HTML by default); no network, no external
//! asset (a Content-Security-Policy forbids any), readable without JavaScript (a small script
//! adds filtering by verdict). Cases' sections are collapsed `<details>` once there are many,
//! so 10,000 cases stay one scroll away from the causes.

use minijinja::value::{Serde, Value};
use minijinja::{Environment, context};

use super::view::RunView;
use super::{Render, ReportError};
use crate::outcome::RunResults;

/// The template, embedded.
const TEMPLATE: &str = include_str!("templates/report.html");
/// Up to this many detailed cases, failing ones are shown open.
const OPEN_DETAILS: usize = 50;
/// Past this many detailed cases the page is crowded: each output shows its first
/// [`CROWDED_ROWS`] differences, and outputs blocked by a divergent stage (consequences) only
/// their counts, so 10,000 cases with 2,500 failing stay a page a browser loads in seconds;
/// results.json and `parity explain` have every difference.
const CROWDED: usize = 200;
const CROWDED_ROWS: usize = 5;

pub struct Html;

impl Render for Html {
    fn render(&self, results: &RunResults) -> Result<String, ReportError> {
        let view = RunView::of(results);
        let charts: Vec<Value> = view
            .performance
            .iter()
            .flat_map(|p| p.charts.iter())
            .map(|chart| Value::from_safe_string(super::svg::chart(chart)))
            .collect();
        let mut env = Environment::new();
        // A `.html` name turns on HTML escaping for every value the template prints.
        env.add_template("report.html", TEMPLATE)?;
        let html = env.get_template("report.html")?.render(context! {
            v => Value::from(Serde(&view)),
            charts => charts,
            open_details => view.details.len() <= OPEN_DETAILS,
            crowded => view.details.len() > CROWDED,
            row_limit => if view.details.len() > CROWDED { CROWDED_ROWS } else { super::view::MAX_ROWS + super::view::MAX_WAIVED_ROWS },
        })?;
        // No control character of the programs' reaches the page either.
        Ok(super::inert::inert(&html).into_owned())
    }
}

//! Charts as inline SVG for report.html: the performance ratios of each measured unit with
//! their intervals, against the line at 1 (as fast as the legacy) and the budget's line. Plain
//! `<line>`, `<circle>` and `<text>` with `<title>` tooltips, styled by the report's CSS;
//! deterministic bytes (fixed precision), so snapshots hold. No fonts, no scripts, no links.

use std::fmt::Write;

use super::view::Chart;

/// Width of the plot area, in SVG units.
const PLOT: f64 = 520.0;
/// Width reserved for the labels on the left.
const LABELS: f64 = 300.0;
/// Height of one row.
const ROW: f64 = 22.0;
/// Margins above (axis values) and below.
const TOP: f64 = 24.0;
const BOTTOM: f64 = 8.0;

/// One chart: a row per unit, its ratio as a dot, its interval as a line.
pub fn chart(chart: &Chart) -> String {
    let limit = 1.0 + chart.budget;
    let finite = |x: f64| x.is_finite().then_some(x);
    let lo = chart
        .rows
        .iter()
        .filter_map(|r| finite(r.low))
        .fold(1.0f64.min(limit), f64::min)
        * 0.98;
    let hi = chart
        .rows
        .iter()
        .filter_map(|r| finite(r.high))
        .fold(limit.max(1.0), f64::max)
        * 1.02;
    let x = |v: f64| {
        let v = if v.is_finite() { v } else { hi };
        LABELS + (v.clamp(lo, hi) - lo) / (hi - lo) * PLOT
    };
    let height = TOP + ROW * chart.rows.len() as f64 + BOTTOM;
    let width = LABELS + PLOT + 16.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" role="img" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" xmlns="http://www.w3.org/2000/svg"><title>{} ratio (candidate / legacy) by case, budget {:.0}%</title>"#,
        escape(&chart.metric),
        chart.budget * 100.0
    );
    for (value, class, label) in [(1.0, "one", "1.00"), (limit, "budget", "budget")] {
        let at = x(value);
        let _ = write!(
            out,
            r#"<line class="{class}" x1="{at:.1}" y1="{:.1}" x2="{at:.1}" y2="{:.1}"/><text class="axis" x="{at:.1}" y="14" text-anchor="middle">{label} {value:.2}</text>"#,
            TOP - 4.0,
            height - BOTTOM
        );
    }
    for (i, row) in chart.rows.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let over = row.low > limit;
        let class = if over { "row over" } else { "row" };
        let _ = write!(
            out,
            r#"<g class="{class}"><title>{}: {:.3} [{:.3}, {:.3}]</title><text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><line class="interval" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><circle class="ratio" cx="{:.1}" cy="{y:.1}" r="4"/></g>"#,
            escape(&row.label),
            row.ratio,
            row.low,
            row.high,
            LABELS - 8.0,
            y + 4.0,
            escape(&shorten(&row.label, 44)),
            x(row.low),
            x(row.high),
            x(row.ratio),
        );
    }
    out.push_str("</svg>");
    out
}

/// Text safe in SVG (XML) content and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, the start elided: case labels differ at their end.
fn shorten(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let tail: String = text.chars().skip(count - (max - 1)).collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::view::ChartRow;

    #[test]
    fn a_hostile_label_stays_text() {
        let svg = chart(&Chart {
            metric: "cpu".into(),
            budget: 0.05,
            rows: vec![ChartRow {
                label: "main/<script>alert(1)</script>".into(),
                ratio: 1.2,
                low: 1.1,
                high: f64::INFINITY,
            }],
        });
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert!(svg.contains(r#"class="row over""#), "{svg}");
    }
}

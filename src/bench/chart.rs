//! A text chart of ratios and their intervals, for Markdown and terminals: one row per fixture,
//! the interval drawn as `├──●──┤` on a common scale with the budget line marked `┊`.
//!
//! ```text
//! large        1.02 [0.99, 1.04] │     ├─●─┤ ┊          │
//! ```

/// Characters between the scale's ends.
const WIDTH: usize = 40;

/// One row: a label and an interval.
pub struct Row<'a> {
    pub label: &'a str,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
}

/// Draws `rows` on a scale that holds every interval, 1.0 and `1 + budget`.
pub fn draw(rows: &[Row<'_>], budget: f64) -> String {
    let limit = 1.0 + budget;
    let finite = |x: f64| x.is_finite().then_some(x);
    let lo = rows
        .iter()
        .filter_map(|r| finite(r.low))
        .fold(1.0f64.min(limit), f64::min)
        * 0.98;
    let hi = rows
        .iter()
        .filter_map(|r| finite(r.high))
        .fold(limit.max(1.0), f64::max)
        * 1.02;
    let at = |x: f64| {
        (((x - lo) / (hi - lo)) * (WIDTH - 1) as f64)
            .round()
            .clamp(0.0, (WIDTH - 1) as f64) as usize
    };
    let label_width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for row in rows {
        let mut cells = vec![' '; WIDTH];
        cells[at(1.0)] = '│';
        cells[at(limit)] = '┊';
        let (l, h, p) = (at(row.low), at(row.high), at(row.ratio));
        for cell in cells.iter_mut().take(h).skip(l + 1) {
            *cell = '─';
        }
        cells[l] = '├';
        cells[h] = '┤';
        cells[p] = '●';
        let bar: String = cells.into_iter().collect();
        let line = format!(
            "{:<label_width$}  {:>5.3} [{:.3}, {:.3}]  {bar}",
            row.label, row.ratio, row.low, row.high
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    // Everything before the bar: the label, two spaces, `r.rrr [l.lll, h.hhh]`, two spaces.
    let prefix = label_width + 24;
    let scale = format!(
        "{:>prefix$}{lo:<half$.2}{hi:>rest$.2}",
        "scale: ",
        half = WIDTH / 2,
        rest = WIDTH - WIDTH / 2
    );
    out.push_str(scale.trim_end());
    out.push('\n');
    out.push_str(&format!(
        "{:>prefix$}│ = 1.0 (no change), ┊ = 1 + budget ({limit:.2})\n",
        ""
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_intervals_on_one_scale() {
        let rows = [
            Row {
                label: "small",
                ratio: 1.0,
                low: 0.98,
                high: 1.02,
            },
            Row {
                label: "large",
                ratio: 1.2,
                low: 1.15,
                high: 1.25,
            },
        ];
        let chart = draw(&rows, 0.05);
        insta::assert_snapshot!(chart);
    }
}

//! Charts for the workbench and the learning simulation, drawn on the
//! server as SVG: each bar or point says its value when the pointer rests
//! on it (its SVG title, which screen readers read too), and each series
//! can be hidden with a checkbox above the chart, in CSS alone, so the
//! charts work offline and without script.

use maud::{Markup, PreEscaped, html};

use crate::format::{count, money};

/// Okabe and Ito's colours, told apart with any colour vision.
const COLOURS: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999999",
];

/// A series of a bar chart: its name and a value per group.
pub(super) struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 30.0;
const TOP: f64 = 10.0;

/// A round step for about five ticks over `span`.
fn step(span: f64) -> f64 {
    let raw = span / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

/// The vertical scale for values from `lo` to `hi`, widened to round
/// ticks: where a value is drawn, and the ticks.
fn scale(lo: f64, hi: f64) -> (impl Fn(f64) -> f64, Vec<f64>) {
    let tick = step((hi - lo).max(1.0));
    let (lo, hi) = ((lo / tick).floor() * tick, (hi / tick).ceil() * tick);
    let ticks = (0..=((hi - lo) / tick).round() as i64)
        .map(|i| lo + i as f64 * tick)
        .collect();
    let plot_h = HEIGHT - TOP - BOTTOM;
    (
        move |v: f64| TOP + (hi - v) / (hi - lo).max(tick) * plot_h,
        ticks,
    )
}

/// The value axis: a line at each tick, darker at zero, each labelled
/// with `value`.
fn grid(ticks: &[f64], y: &impl Fn(f64) -> f64, value: fn(f64) -> String) -> Markup {
    html! {
        @for t in ticks {
            line x1=(LEFT) x2=(WIDTH - 10.0) y1=(y(*t)) y2=(y(*t)) stroke=(if *t == 0.0 { "#333" } else { "#e2e2e2" }) {}
            text x=(LEFT - 6.0) y=(y(*t) + 4.0) text-anchor="end" font-size="11" { (value(*t)) }
        }
    }
}

/// Grouped bars in £ (`groups` along the bottom, a bar per series in each),
/// with a zero line; `id` names the chart's checkboxes; `label` is what the
/// chart shows, for its caption and for screen readers.
pub(super) fn bars(id: &str, label: &str, groups: &[String], series: &[Series]) -> Markup {
    let all = series.iter().flat_map(|s| s.values.iter().copied());
    let (lo, hi) = all.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (y, ticks) = scale(lo, hi);
    let group_w = (WIDTH - LEFT - 10.0) / groups.len().max(1) as f64;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    html! {
        div.chart {
            (keys(id, &names))
            figure {
                svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
                    (grid(&ticks, &y, money))
                    @for (g, name) in groups.iter().enumerate() {
                        text x=(LEFT + (g as f64 + 0.5) * group_w) y=(HEIGHT - 10.0) text-anchor="middle" font-size="11" { (name) }
                        @for (i, s) in series.iter().enumerate() {
                            @if let Some(v) = s.values.get(g) {
                                rect class=(format!("{id}-{i}"))
                                    x=(LEFT + g as f64 * group_w + group_w * 0.1 + i as f64 * bar_w)
                                    y=(y(v.max(0.0)))
                                    width=(bar_w * 0.9)
                                    height=((y(v.min(0.0)) - y(v.max(0.0))).max(0.5))
                                    fill=(COLOURS[i % COLOURS.len()]) {
                                    title { (s.name) ", " (name) ": " (money(*v)) }
                                }
                            }
                        }
                    }
                }
                figcaption.note { (label) }
            }
        }
    }
}

/// A line over the months of the horizon, with its 90% band.
pub(super) struct Line {
    pub name: String,
    /// The mean across replicates, a value a month.
    pub mean: Vec<f64>,
    /// The 5th percentile, a value a month.
    pub p5: Vec<f64>,
    /// The 95th percentile, a value a month.
    pub p95: Vec<f64>,
}

/// The checkboxes that hide a chart's series, and the CSS that hides them:
/// CSS's sibling selector reaches the chart that follows the boxes.
fn keys(id: &str, names: &[&str]) -> Markup {
    let css: String = (0..names.len())
        .map(|i| format!("#{id}-{i}:not(:checked)~figure .{id}-{i}{{display:none}}"))
        .collect();
    html! {
        style { (PreEscaped(css)) }
        @for (i, name) in names.iter().enumerate() {
            input type="checkbox" id=(format!("{id}-{i}")) checked;
            label.key for=(format!("{id}-{i}")) {
                span.swatch style=(format!("background:{}", COLOURS[i % COLOURS.len()])) {}
                (name)
            }
        }
    }
}

/// An SVG path through `values`, the `i`th at (`x(i)`, `y(value)`).
fn trace(values: &[f64], x: &impl Fn(usize) -> f64, y: &impl Fn(f64) -> f64) -> String {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x(i), y(*v)))
        .collect()
}

/// A line's 90% band as a closed SVG path: along its 95th percentiles and
/// back along its 5th.
fn band(l: &Line, x: &impl Fn(usize) -> f64, y: &impl Fn(f64) -> f64) -> String {
    let back: String =
        l.p5.iter()
            .enumerate()
            .rev()
            .map(|(i, v)| format!("L{:.1},{:.1}", x(i), y(*v)))
            .collect();
    format!("{}{back}Z", trace(&l.p95, x, y))
}

/// Counts over the months (years marked along the bottom): each line with
/// its 90% band shaded, and a point at each year's end that gives its
/// value and band when the pointer rests on it.
pub(super) fn lines(id: &str, label: &str, lines: &[Line]) -> Markup {
    let months = lines.iter().map(|l| l.mean.len()).max().unwrap_or(0);
    let all = lines
        .iter()
        .flat_map(|l| l.p5.iter().chain(&l.p95).chain(&l.mean).copied());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if months == 0 || !lo.is_finite() || !hi.is_finite() {
        return html! {};
    }
    let (y, ticks) = scale(lo, hi);
    let x = |m: usize| LEFT + (m as f64 + 0.5) / months as f64 * (WIDTH - LEFT - 10.0);
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    html! {
        div.chart {
            (keys(id, &names))
            figure {
                svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
                    @for t in &ticks {
                        line x1=(LEFT) x2=(WIDTH - 10.0) y1=(y(*t)) y2=(y(*t)) stroke="#e2e2e2" {}
                        text x=(LEFT - 6.0) y=(y(*t) + 4.0) text-anchor="end" font-size="11" { (count(*t)) }
                    }
                    @for year in (12..=months).step_by(12) {
                        text x=(x(year - 1)) y=(HEIGHT - 10.0) text-anchor="middle" font-size="11" { "Y" (year / 12) }
                    }
                    @for (i, l) in lines.iter().enumerate() {
                        g class=(format!("{id}-{i}")) {
                            path d=(band(l, &x, &y)) fill=(COLOURS[i % COLOURS.len()]) fill-opacity="0.15" stroke="none" {}
                            path d=(trace(&l.mean, &x, &y)) fill="none" stroke=(COLOURS[i % COLOURS.len()]) stroke-width="2" {}
                            @for year in (12..=months).step_by(12) {
                                circle cx=(x(year - 1)) cy=(y(l.mean[year - 1])) r="4" fill=(COLOURS[i % COLOURS.len()]) {
                                    title { (l.name) ", end of year " (year / 12) " (month " (year) "): " (count(l.mean[year - 1])) " (90%: " (count(l.p5[year - 1])) " to " (count(l.p95[year - 1])) ")" }
                                }
                            }
                        }
                    }
                }
                figcaption.note { (label) }
            }
        }
    }
}

/// A figure at the end of each round against no change (the zero line):
/// a line per series with its 90% band shaded, a point at each round that
/// gives its value and band when the pointer rests on it; `value` writes
/// the figures. A series may have fewer points than there are rounds (a
/// team whose results stop early); none has more.
pub(super) fn rounds(
    id: &str,
    label: &str,
    rounds: &[String],
    lines: &[Line],
    value: fn(f64) -> String,
) -> Markup {
    let all = lines
        .iter()
        .flat_map(|l| l.p5.iter().chain(&l.p95).chain(&l.mean).copied());
    // Zero is always drawn: it is no change, what every figure is against.
    let (lo, hi) = all.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if rounds.is_empty() || !lo.is_finite() || !hi.is_finite() {
        return html! {};
    }
    let (y, ticks) = scale(lo, hi);
    let x = |r: usize| LEFT + (r as f64 + 0.5) / rounds.len() as f64 * (WIDTH - LEFT - 10.0);
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    html! {
        div.chart {
            (keys(id, &names))
            figure {
                svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
                    (grid(&ticks, &y, value))
                    // Above the zero line, or below it when it is the top of the plot.
                    text x=(WIDTH - 12.0) y=(if y(0.0) < TOP + 12.0 { y(0.0) + 13.0 } else { y(0.0) - 4.0 }) text-anchor="end" font-size="11" fill="#333" { "no change" }
                    @for (r, name) in rounds.iter().enumerate() {
                        text x=(x(r)) y=(HEIGHT - 10.0) text-anchor="middle" font-size="11" { (name) }
                    }
                    @for (i, l) in lines.iter().enumerate() {
                        g class=(format!("{id}-{i}")) {
                            path d=(band(l, &x, &y)) fill=(COLOURS[i % COLOURS.len()]) fill-opacity="0.15" stroke="none" {}
                            path d=(trace(&l.mean, &x, &y)) fill="none" stroke=(COLOURS[i % COLOURS.len()]) stroke-width="2" {}
                            @for (r, v) in l.mean.iter().enumerate() {
                                circle cx=(x(r)) cy=(y(*v)) r="4" fill=(COLOURS[i % COLOURS.len()]) {
                                    title { (l.name) ", " (rounds.get(r).map_or("", |s| s.as_str())) ": " (value(*v)) " (90%: " (value(l.p5[r])) " to " (value(l.p95[r])) ")" }
                                }
                            }
                        }
                    }
                }
                figcaption.note { (label) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_spans_the_values_with_round_ticks_top_to_bottom() {
        let (y, ticks) = scale(7_830.0, 8_810.0);
        assert_eq!(ticks.first(), Some(&7_800.0));
        assert_eq!(ticks.last(), Some(&9_000.0));
        assert!(ticks.windows(2).all(|w| w[1] - w[0] == 200.0));
        // The highest tick at the top of the plot, the lowest at its foot.
        assert_eq!(y(9_000.0), TOP);
        assert_eq!(y(7_800.0), HEIGHT - BOTTOM);
        assert!(y(8_000.0) > y(8_500.0));
    }

    #[test]
    fn a_round_chart_puts_each_point_at_its_value_with_no_change_at_zero() {
        let line = Line {
            name: "Team A".into(),
            mean: vec![-50_000.0, 100_000.0],
            p5: vec![-80_000.0, 20_000.0],
            p95: vec![-10_000.0, 190_000.0],
        };
        let svg = rounds("npv", "NPV", &["R1".into(), "R2".into()], &[line], money).into_string();
        // Ticks from -£100k to £200k in £100k steps: the zero line is at
        // two-thirds of the plot's height.
        let (y, _) = scale(-80_000.0, 190_000.0);
        assert!((y(0.0) - (TOP + (HEIGHT - TOP - BOTTOM) * 2.0 / 3.0)).abs() < 1e-9);
        assert!(svg.contains(&format!("cy=\"{}\"", y(100_000.0))));
        assert!(svg.contains(&format!("cy=\"{}\"", y(-50_000.0))));
        assert!(svg.contains("Team A, R2: £100k (90%: £20k to £190k)"));
        assert!(svg.contains("no change"));
        // Nothing to draw, no chart.
        assert!(rounds("x", "x", &[], &[], money).into_string().is_empty());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(step(1_000_000.0), 200_000.0);
        assert_eq!(step(900.0), 200.0);
        assert_eq!(step(12_000.0), 2_500.0);
    }
}

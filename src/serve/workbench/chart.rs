//! The workbench's charts, drawn on the server as SVG: each bar says its
//! value when the pointer rests on it (its SVG title, which screen readers
//! read too), and each series can be hidden with a checkbox above the
//! chart, in CSS alone: the pages run no script.

use maud::{Markup, PreEscaped, html};

use crate::format::money;

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

/// Grouped bars in £ (`groups` along the bottom, a bar per series in each),
/// with a zero line; `id` names the chart's checkboxes; `label` is what the
/// chart shows, for its caption and for screen readers.
pub(super) fn bars(id: &str, label: &str, groups: &[String], series: &[Series]) -> Markup {
    let all = series.iter().flat_map(|s| s.values.iter().copied());
    let (lo, hi) = all.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = (hi - lo).max(1.0);
    let tick = step(span);
    let (lo, hi) = ((lo / tick).floor() * tick, (hi / tick).ceil() * tick);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + (hi - v) / (hi - lo).max(tick) * plot_h;
    let group_w = (WIDTH - LEFT - 10.0) / groups.len().max(1) as f64;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    let ticks: Vec<f64> = (0..=((hi - lo) / tick).round() as i64)
        .map(|i| lo + i as f64 * tick)
        .collect();
    // A series hidden by its checkbox: CSS's sibling selector reaches the
    // chart that follows the boxes.
    let css: String = (0..series.len())
        .map(|i| format!("#{id}-{i}:not(:checked)~figure .{id}-{i}{{display:none}}"))
        .collect();
    html! {
        div.chart {
            style { (PreEscaped(css)) }
            @for (i, s) in series.iter().enumerate() {
                input type="checkbox" id=(format!("{id}-{i}")) checked;
                label.key for=(format!("{id}-{i}")) {
                    span.swatch style=(format!("background:{}", COLOURS[i % COLOURS.len()])) {}
                    (s.name)
                }
            }
            figure {
                svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
                    @for t in &ticks {
                        line x1=(LEFT) x2=(WIDTH - 10.0) y1=(y(*t)) y2=(y(*t)) stroke=(if *t == 0.0 { "#333" } else { "#e2e2e2" }) {}
                        text x=(LEFT - 6.0) y=(y(*t) + 4.0) text-anchor="end" font-size="11" { (money(*t)) }
                    }
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

#[cfg(test)]
mod tests {
    use super::step;

    #[test]
    fn ticks_are_round() {
        assert_eq!(step(1_000_000.0), 200_000.0);
        assert_eq!(step(900.0), 200.0);
        assert_eq!(step(12_000.0), 2_500.0);
    }
}

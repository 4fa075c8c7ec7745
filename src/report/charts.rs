//! Chart descriptions and their drawing with plotters, to SVG (inlined in the
//! report) and PNG (for slides and papers). A chart is data plus words; this
//! module alone decides how it looks: a colour-blind-safe palette, a legend
//! beside the plot rather than over it, £ with thousands separators and
//! financial years on the time axis.

use std::error::Error;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ReportError;
use super::data::Timeline;
use crate::format::{decimal, pounds, signed, thousands};

type Drawn = Result<(), Box<dyn Error + Send + Sync>>;

const FONT: &str = "sans-serif";
const LEGEND_WIDTH: u32 = 290;
/// Most financial-year ticks on a full-width time axis.
const TICKS: usize = 12;
const GRID_LINE: RGBColor = RGBColor(232, 232, 232);
const AXIS: RGBColor = RGBColor(90, 90, 90);
const INK: RGBColor = RGBColor(30, 30, 30);

/// A colour as red, green and blue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Colour(pub u8, pub u8, pub u8);

impl Colour {
    fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// Okabe and Ito's palette, distinguishable with every common colour-vision
/// deficiency; the baseline is black. Yellow comes last: it is faint on white.
pub(crate) const SCENARIO_COLOURS: [Colour; 8] = [
    Colour(0, 0, 0),
    Colour(230, 159, 0),
    Colour(86, 180, 233),
    Colour(0, 158, 115),
    Colour(0, 114, 178),
    Colour(213, 94, 0),
    Colour(204, 121, 167),
    Colour(240, 228, 66),
];

/// Paul Tol's "muted" palette, for stacked layers.
pub(crate) const LAYER_COLOURS: [Colour; 10] = [
    Colour(204, 102, 119),
    Colour(221, 204, 119),
    Colour(17, 119, 51),
    Colour(136, 204, 238),
    Colour(136, 34, 85),
    Colour(68, 170, 153),
    Colour(153, 153, 51),
    Colour(170, 68, 153),
    Colour(221, 221, 221),
    Colour(51, 34, 136),
];

/// How an axis's numbers read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Unit {
    Money,
    Count,
    Index,
}

impl Unit {
    /// A tick label with as many decimals as the tick spacing needs, so
    /// neighbouring labels differ.
    fn tick(self, v: f64, step: f64) -> String {
        let decimals = if step > 0.0 && step < 1.0 {
            ((-step.log10()).ceil() as usize).min(6)
        } else {
            0
        };
        match self {
            Unit::Money => money_tick(v, step),
            Unit::Count if decimals == 0 => thousands(v),
            Unit::Count | Unit::Index => decimal(v, decimals),
        }
    }
}

/// A money tick as a board paper writes it: £k or £m once ticks are that far
/// apart (£2.5m, not £2,500,000), with the decimals the spacing needs.
fn money_tick(v: f64, step: f64) -> String {
    let (scale, suffix) = if step >= 1e5 {
        (1e6, "m")
    } else if step >= 100.0 {
        (1e3, "k")
    } else {
        return pounds(v);
    };
    let s = step / scale;
    let decimals = if s < 1.0 {
        ((-s.log10()).ceil() as usize).min(3)
    } else {
        0
    };
    // Zero at the decimals shown, with no sign.
    if format!("{:.*}", decimals, v.abs() / scale)
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        return "£0".into();
    }
    let body = format!("£{}{suffix}", thousands_with(v.abs() / scale, decimals));
    if v < 0.0 { format!("−{body}") } else { body }
}

/// `v` with thousands separators and `decimals` places.
fn thousands_with(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    let (whole, frac) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(w, f)| (w, f));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// One line of a time chart, with its 90% band if it has one.
pub(crate) struct Line {
    pub label: String,
    pub colour: Colour,
    pub mean: Vec<f64>,
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    pub dashed: bool,
}

/// A month marked on a time chart, with the range around it shaded.
pub(crate) struct Marker {
    pub label: String,
    pub month: f64,
    pub span: (f64, f64),
}

/// One curve of a [`Curves`] chart: its points, left to right.
pub(crate) struct Curve {
    pub label: String,
    pub colour: Colour,
    pub points: Vec<(f64, f64)>,
}

/// Chances (0 to 1) against an amount of money: an acceptability curve's
/// chance a scenario is worth it against the price put on its outcome.
pub(crate) struct Curves {
    pub x_desc: String,
    /// Money on a square-root scale, where points crowd near £0 and the
    /// scale runs far: ticked at 0, 1%, 5%, 10%, 25%, 50% and all of the
    /// top (a round number, so the ticks are too).
    pub x_sqrt: bool,
    pub y_desc: String,
    pub curves: Vec<Curve>,
    pub note: String,
}

pub(crate) struct Lines {
    pub y_desc: String,
    pub unit: Unit,
    pub lines: Vec<Line>,
    pub zero_line: bool,
    pub marker: Option<Marker>,
}

/// Mean with its 90% range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Value {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

pub(crate) struct BarGroup {
    pub label: String,
    pub colour: Colour,
    pub values: Vec<Value>,
}

pub(crate) struct Bars {
    pub y_desc: String,
    /// What the bars and whiskers are, under the legend.
    pub note: String,
    /// What the values are, for the axis's labels.
    pub unit: Unit,
    pub categories: Vec<String>,
    pub groups: Vec<BarGroup>,
}

/// A table of coloured cells: rows by columns, on a diverging scale where
/// negative is blue and positive orange.
pub(crate) struct Grid {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// Small print above each column.
    pub column_notes: Vec<String>,
    pub values: Vec<Vec<f64>>,
    /// What the values are, for the cells' labels.
    pub unit: Unit,
    pub x_desc: String,
    pub scale_desc: String,
    pub negative_means: String,
    pub positive_means: String,
}

impl Grid {
    /// A cell's value as the grid writes it: money as £, else signed with
    /// one decimal.
    fn cell(&self, v: f64) -> String {
        match self.unit {
            Unit::Money => crate::format::money(v),
            _ => signed(v, 1),
        }
    }
}

/// One bar of a tornado: a figure with one parameter at each end of its
/// range.
pub(crate) struct Swing {
    pub label: String,
    pub low: f64,
    pub high: f64,
}

/// A tornado: each parameter's swing about the central figure, the largest
/// first.
pub(crate) struct Tornado {
    pub x_desc: String,
    pub centre: f64,
    pub rows: Vec<Swing>,
}

/// What a bar chart's bars and whiskers are, unless it says otherwise.
pub(crate) const BARS_NOTE: &str = "Bars are means across replicates; whiskers are the 90% range.";

/// One parameter of a Morris screen: how much it matters (μ*) and how
/// much that depends on the others (σ).
pub(crate) struct Screened {
    pub label: String,
    pub mu_star: f64,
    pub sigma: f64,
}

/// A Morris screen: each parameter a point at (μ*, σ), the first `labelled`
/// named beside their points.
pub(crate) struct Screening {
    pub x_desc: String,
    pub y_desc: String,
    pub points: Vec<Screened>,
    pub labelled: usize,
}

pub(crate) enum Body {
    Lines(Lines),
    Bars(Bars),
    Grid(Grid),
    Tornado(Tornado),
    Screening(Screening),
    Curves(Curves),
}

pub(crate) struct Chart {
    /// File name without extension, also the figure's id in the report.
    pub file: String,
    pub title: String,
    /// What the chart shows, for readers who cannot see it.
    pub alt: String,
    pub size: (u32, u32),
    pub timeline: Timeline,
    pub body: Body,
}

fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The bundled DejaVu Sans: no system font lookup, the same
        // rendering on every machine.
        for (style, bytes) in [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
        ] {
            plotters::style::register_font(FONT, style, bytes)
                .unwrap_or_else(|_| panic!("the bundled font is valid"));
        }
    });
}

fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

/// Wraps a drawing error with the chart it happened in.
fn failed(chart: &Chart) -> impl Fn(Box<dyn Error + Send + Sync>) -> ReportError + '_ {
    |source| ReportError::Chart {
        file: chart.file.clone(),
        source,
    }
}

/// Renders a chart as an SVG document.
pub(crate) fn svg(chart: &Chart) -> Result<String, ReportError> {
    register_fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, chart.size).into_drawing_area();
        draw(&root, chart)
            .and_then(|_| root.present().map_err(Into::into))
            .map_err(failed(chart))?;
    }
    Ok(out)
}

/// Renders a chart as a PNG image of `chart.size` pixels.
pub(crate) fn png(chart: &Chart) -> Result<Vec<u8>, ReportError> {
    register_fonts();
    let (w, h) = chart.size;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, chart.size).into_drawing_area();
        draw(&root, chart)
            .and_then(|_| root.present().map_err(Into::into))
            .map_err(failed(chart))?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&pixels))
        .map_err(|e| failed(chart)(e.into()))?;
    Ok(bytes)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    // A margin above keeps the title clear of the image's top edge.
    let area = root.margin(14, 0, 0, 0).titled(
        &chart.title,
        (FONT, 26).into_font().style(FontStyle::Bold).color(&INK),
    )?;
    match &chart.body {
        Body::Lines(c) => draw_lines(&area, c, &chart.timeline),
        Body::Bars(c) => draw_bars(&area, c),
        Body::Grid(c) => draw_grid(&area, c),
        Body::Tornado(c) => draw_tornado(&area, c),
        Body::Screening(c) => draw_screening(&area, c),
        Body::Curves(c) => draw_curves(&area, c),
    }
}

enum Mark {
    Line(Colour, bool),
    Band(Colour),
    Block(Colour),
}

/// The legend, in its own column to the right of the plot so it never
/// covers the data. Long labels wrap.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Mark, String)],
    note: &str,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let style = text(16).pos(Pos::new(HPos::Left, VPos::Center));
    let width = area.dim_in_pixel().0 as i32 - 44;
    let mut y = 26;
    for (mark, label) in entries {
        match mark {
            Mark::Line(c, dashed) => {
                let s = c.rgb().stroke_width(3);
                if *dashed {
                    for x in [6, 16, 26] {
                        area.draw(&PathElement::new(vec![(x, y), (x + 6, y)], s))?;
                    }
                } else {
                    area.draw(&PathElement::new(vec![(6, y), (32, y)], s))?;
                }
            }
            Mark::Band(c) => {
                area.draw(&Rectangle::new(
                    [(6, y - 7), (32, y + 7)],
                    c.rgb().mix(0.2).filled(),
                ))?;
                area.draw(&PathElement::new(
                    vec![(6, y), (32, y)],
                    c.rgb().stroke_width(3),
                ))?;
            }
            Mark::Block(c) => {
                area.draw(&Rectangle::new([(8, y - 7), (30, y + 7)], c.rgb().filled()))?;
            }
        }
        for line in wrap(area, label, &style, width) {
            area.draw(&Text::new(line, (40, y), style.clone()))?;
            y += 20;
        }
        y += 8;
    }
    if !note.is_empty() {
        let small = text(14).pos(Pos::new(HPos::Left, VPos::Center));
        y += 6;
        for line in wrap(area, note, &small, width + 34) {
            area.draw(&Text::new(line, (6, y), small.clone()))?;
            y += 18;
        }
    }
    Ok(())
}

fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle,
    width: i32,
) -> Vec<String> {
    let fits = |t: &str| {
        area.estimate_text_size(t, style)
            .map(|(w, _)| w as i32 <= width)
            .unwrap_or(true)
    };
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in s.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if fits(&candidate) || current.is_empty() {
            current = candidate;
        } else {
            lines.push(std::mem::replace(&mut current, word.to_string()));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// A range that shows every value, padded, with a tick step for labels.
fn y_range(values: impl Iterator<Item = f64>, include_zero: bool) -> (f64, f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-9 {
        let pad = if hi.abs() > 0.0 { hi.abs() * 0.05 } else { 1.0 };
        (lo, hi) = (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.06;
    let (lo, hi) = (lo - pad, hi + pad);
    // Plotters chooses about ten ticks; the step tells labels how many
    // decimals they need.
    (lo, hi, (hi - lo) / 10.0)
}

/// A numeric axis ticked only where we say: at financial-year starts, or at
/// each bar's category.
struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Ticked {
        Ticked {
            inner: range.into(),
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

/// The time axis: months on the horizon, ticked at the start of each
/// financial year. Month m is drawn at m − ½, so a tick sits on the boundary.
/// At most `most` ticks: every year, or every other year and so on.
fn year_ticks(t: &Timeline, months: usize, most: usize) -> Vec<f64> {
    let starts = t.year_starts(months as u32);
    let every = starts.len().div_ceil(most.max(1)).max(1);
    starts
        .into_iter()
        .step_by(every)
        .map(|m| (m - 1) as f64)
        .collect()
}

fn year_label(t: &Timeline, x: f64) -> String {
    t.fy_of_month(x.round() as u32 + 1)
}

fn draw_lines<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Lines, t: &Timeline) -> Drawn
where
    DB::ErrorType: 'static,
{
    let months = c.lines.first().map_or(1, |l| l.mean.len());
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
    let all = c.lines.iter().flat_map(|l| {
        let band = l.band.iter().flat_map(|(lo, hi)| lo.iter().chain(hi));
        l.mean.iter().chain(band).copied()
    });
    let (lo, hi, step) = y_range(all, c.zero_line);
    let mut chart = ChartBuilder::on(&plot)
        .margin(14)
        .x_label_area_size(56)
        .y_label_area_size(120)
        .build_cartesian_2d(
            Ticked::new(0f64..months as f64, year_ticks(t, months, TICKS)),
            lo..hi,
        )?;
    chart
        .configure_mesh()
        .x_desc("Financial year (ticks at the start of each)")
        .y_desc(c.y_desc.as_str())
        .x_label_formatter(&|x| year_label(t, *x))
        .y_label_formatter(&|v| c.unit.tick(*v, step))
        .label_style(text(15))
        .axis_desc_style(text(17))
        .axis_style(AXIS)
        .bold_line_style(GRID_LINE)
        .max_light_lines(0)
        .draw()?;
    let x = |m: usize| m as f64 + 0.5;
    if let Some(mk) = &c.marker {
        let (a, b) = mk.span;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a, lo), (b, hi)],
            RGBColor(120, 120, 120).mix(0.12).filled(),
        )))?;
        chart.draw_series(DashedLineSeries::new(
            [(mk.month, lo), (mk.month, hi)],
            6,
            4,
            INK.stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            mk.label.clone(),
            (mk.month, hi),
            text(15).pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    if c.zero_line {
        chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (months as f64, 0.0)],
            INK.stroke_width(1),
        ))?;
    }
    for l in &c.lines {
        if let Some((blo, bhi)) = &l.band {
            let mut pts: Vec<(f64, f64)> =
                blo.iter().enumerate().map(|(m, v)| (x(m), *v)).collect();
            pts.extend(bhi.iter().enumerate().rev().map(|(m, v)| (x(m), *v)));
            chart.draw_series(std::iter::once(Polygon::new(
                pts,
                l.colour.rgb().mix(0.18).filled(),
            )))?;
        }
    }
    for l in &c.lines {
        let pts = l.mean.iter().enumerate().map(|(m, v)| (x(m), *v));
        let style = l.colour.rgb().stroke_width(2);
        if l.dashed {
            chart.draw_series(DashedLineSeries::new(pts, 8, 5, style))?;
        } else {
            chart.draw_series(LineSeries::new(pts, style))?;
        }
    }
    let entries: Vec<(Mark, String)> = c
        .lines
        .iter()
        .map(|l| {
            let mark = if l.band.is_some() {
                Mark::Band(l.colour)
            } else {
                Mark::Line(l.colour, l.dashed)
            };
            (mark, l.label.clone())
        })
        .collect();
    let note = if c.lines.iter().any(|l| l.band.is_some()) {
        "Lines are means across replicates; shading is the 90% range (5th to 95th percentile)."
    } else {
        "Lines are means across replicates."
    };
    draw_legend(&legend, &entries, note)
}

fn draw_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Bars) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
    let n = c.categories.len().max(1);
    let values = c
        .groups
        .iter()
        .flat_map(|g| g.values.iter().flat_map(|v| [v.mean, v.lo, v.hi]));
    let (lo, hi, step) = y_range(values, true);
    let centres: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut chart = ChartBuilder::on(&plot)
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(120)
        .build_cartesian_2d(Ticked::new(-0.5f64..n as f64 - 0.5, centres), lo..hi)?;
    chart
        .configure_mesh()
        .y_desc(c.y_desc.as_str())
        .x_label_formatter(&|x| {
            c.categories
                .get(x.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default()
        })
        .y_label_formatter(&|v| c.unit.tick(*v, step))
        .label_style(text(15))
        .axis_desc_style(text(17))
        .axis_style(AXIS)
        .bold_line_style(GRID_LINE)
        .max_light_lines(0)
        .disable_x_mesh()
        .draw()?;
    let g = c.groups.len().max(1) as f64;
    let slot = 0.8 / g;
    for (k, group) in c.groups.iter().enumerate() {
        for (i, v) in group.values.iter().enumerate() {
            let x0 = i as f64 - 0.4 + k as f64 * slot + slot * 0.06;
            let x1 = x0 + slot * 0.88;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, v.mean)],
                group.colour.rgb().filled(),
            )))?;
            let xm = (x0 + x1) / 2.0;
            let cap = slot * 0.2;
            for path in [
                vec![(xm, v.lo), (xm, v.hi)],
                vec![(xm - cap, v.lo), (xm + cap, v.lo)],
                vec![(xm - cap, v.hi), (xm + cap, v.hi)],
            ] {
                chart.draw_series(std::iter::once(PathElement::new(path, INK.stroke_width(1))))?;
            }
        }
    }
    chart.draw_series(LineSeries::new(
        [(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
        INK.stroke_width(1),
    ))?;
    let entries: Vec<(Mark, String)> = c
        .groups
        .iter()
        .map(|g| (Mark::Block(g.colour), g.label.clone()))
        .collect();
    draw_legend(&legend, &entries, &c.note)
}

/// The low end blue and the high end orange (PuOr's ends, as the grid's).
const LOW_END: Colour = Colour(84, 39, 136);
const HIGH_END: Colour = Colour(230, 97, 1);

fn draw_tornado<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Tornado) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
    let n = c.rows.len().max(1);
    let values = c
        .rows
        .iter()
        .flat_map(|r| [r.low, r.high])
        .chain([c.centre]);
    let (lo, hi, step) = y_range(values, false);
    // The largest swing at the top.
    let at = |i: usize| (n - 1 - i) as f64;
    let rows: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut chart = ChartBuilder::on(&plot)
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(430)
        .build_cartesian_2d(lo..hi, Ticked::new(-0.5f64..n as f64 - 0.5, rows))?;
    chart
        .configure_mesh()
        .x_desc(c.x_desc.as_str())
        .x_label_formatter(&|v| Unit::Money.tick(*v, step))
        .y_label_formatter(&|y| {
            let i = n as i64 - 1 - y.round() as i64;
            usize::try_from(i)
                .ok()
                .and_then(|i| c.rows.get(i))
                .map(|r| r.label.clone())
                .unwrap_or_default()
        })
        .label_style(text(15))
        .axis_desc_style(text(17))
        .axis_style(AXIS)
        .bold_line_style(GRID_LINE)
        .max_light_lines(0)
        .disable_y_mesh()
        .draw()?;
    for (i, r) in c.rows.iter().enumerate() {
        let y = at(i);
        for (end, colour) in [(r.low, LOW_END), (r.high, HIGH_END)] {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(c.centre, y - 0.35), (end, y + 0.35)],
                colour.rgb().filled(),
            )))?;
        }
    }
    chart.draw_series(LineSeries::new(
        [(c.centre, -0.5), (c.centre, n as f64 - 0.5)],
        INK.stroke_width(2),
    ))?;
    draw_legend(
        &legend,
        &[
            (Mark::Block(LOW_END), "At the low end of its range".into()),
            (Mark::Block(HIGH_END), "At the high end of its range".into()),
        ],
        "Each bar is the figure with one parameter at an end of its range and every other at its value, the same luck as the central run; the line is the central run.",
    )
}

fn draw_screening<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Screening) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
    let (x_lo, x_hi, x_step) = y_range(c.points.iter().map(|p| p.mu_star), true);
    let (y_lo, y_hi, y_step) = y_range(c.points.iter().map(|p| p.sigma), true);
    let mut chart = ChartBuilder::on(&plot)
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(120)
        .build_cartesian_2d(x_lo.max(0.0)..x_hi, y_lo.max(0.0)..y_hi)?;
    chart
        .configure_mesh()
        .x_desc(c.x_desc.as_str())
        .y_desc(c.y_desc.as_str())
        .x_label_formatter(&|v| Unit::Money.tick(*v, x_step))
        .y_label_formatter(&|v| Unit::Money.tick(*v, y_step))
        .label_style(text(15))
        .axis_desc_style(text(17))
        .axis_style(AXIS)
        .bold_line_style(GRID_LINE)
        .max_light_lines(0)
        .draw()?;
    chart.draw_series(
        c.points
            .iter()
            .map(|p| Circle::new((p.mu_star, p.sigma), 5, HIGH_END.rgb().filled())),
    )?;
    for p in c.points.iter().take(c.labelled) {
        chart.draw_series(std::iter::once(Text::new(
            p.label.clone(),
            (p.mu_star, p.sigma),
            text(13).pos(Pos::new(HPos::Right, VPos::Bottom)),
        )))?;
    }
    draw_legend(
        &legend,
        &[(Mark::Block(HIGH_END), "A parameter".into())],
        "Right: the parameter moves the figure more (μ*, the mean size of its elementary effects). Up: how much it moves it depends on the other parameters (σ). The largest are named.",
    )
}

fn draw_curves<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Curves) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
    let top = c
        .curves
        .iter()
        .flat_map(|k| k.points.iter().map(|p| p.0))
        .fold(0.0, f64::max)
        .max(1.0);
    // Drawn at x (a square root, or the amount itself); labelled in £.
    let at = |w: f64| if c.x_sqrt { w.max(0.0).sqrt() } else { w };
    let amount = |x: f64| if c.x_sqrt { x * x } else { x };
    let ticks: Vec<f64> = if c.x_sqrt {
        [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0]
            .iter()
            .map(|f| at(top * f))
            .collect()
    } else {
        (0..=5).map(|i| top * i as f64 / 5.0).collect()
    };
    let x_step = top / 100.0;
    let mut chart = ChartBuilder::on(&plot)
        .margin(14)
        .x_label_area_size(56)
        .y_label_area_size(90)
        .build_cartesian_2d(Ticked::new(0f64..at(top) * 1.02, ticks), 0f64..1.02)?;
    chart
        .configure_mesh()
        .x_desc(c.x_desc.as_str())
        .y_desc(c.y_desc.as_str())
        .x_label_formatter(&|v| Unit::Money.tick(amount(*v), x_step))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .label_style(text(15))
        .axis_desc_style(text(17))
        .axis_style(AXIS)
        .bold_line_style(GRID_LINE)
        .max_light_lines(0)
        .draw()?;
    for k in &c.curves {
        let style = k.colour.rgb().stroke_width(2);
        let points = k.points.iter().map(|&(w, p)| (at(w), p));
        chart.draw_series(LineSeries::new(points.clone(), style))?;
        chart.draw_series(points.map(|p| Circle::new(p, 3, k.colour.rgb().filled())))?;
    }
    let entries: Vec<(Mark, String)> = c
        .curves
        .iter()
        .map(|k| (Mark::Line(k.colour, false), k.label.clone()))
        .collect();
    draw_legend(&legend, &entries, &c.note)
}

/// Blue for negative, orange for positive, white at zero: readable with
/// every common colour-vision deficiency (ColorBrewer's PuOr ends).
fn diverging(v: f64, scale: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(200, 200, 200);
    }
    let t = if scale > 0.0 {
        (v / scale).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let end = if t < 0.0 {
        (33.0, 102.0, 172.0)
    } else {
        (179.0, 88.0, 6.0)
    };
    let a = t.abs();
    let mix = |e: f64| (255.0 + (e - 255.0) * a).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

fn draw_grid<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Grid) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
    let (w, _) = plot.dim_in_pixel();
    let label_w = 250;
    let top = 44;
    let cols = c.columns.len().max(1) as i32;
    let cell_w = ((w as i32 - label_w - 10) / cols).max(8);
    let cell_h = 40;
    let scale = c
        .values
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let centred = |size| text(size).pos(Pos::new(HPos::Center, VPos::Center));
    for (j, (name, note)) in c.columns.iter().zip(&c.column_notes).enumerate() {
        let cx = label_w + j as i32 * cell_w + cell_w / 2;
        plot.draw(&Text::new(note.clone(), (cx, 12), centred(13)))?;
        plot.draw(&Text::new(name.clone(), (cx, 31), centred(14)))?;
    }
    for (i, (row, values)) in c.rows.iter().zip(&c.values).enumerate() {
        let y0 = top + i as i32 * cell_h;
        let label = text(15).pos(Pos::new(HPos::Right, VPos::Center));
        let shown = wrap(&plot, row, &label, label_w - 12);
        let first = y0 + cell_h / 2 - (shown.len() as i32 - 1) * 9;
        for (k, line) in shown.iter().enumerate() {
            plot.draw(&Text::new(
                line.clone(),
                (label_w - 8, first + k as i32 * 18),
                label.clone(),
            ))?;
        }
        for (j, v) in values.iter().enumerate() {
            let x0 = label_w + j as i32 * cell_w;
            let fill = diverging(*v, scale);
            plot.draw(&Rectangle::new(
                [(x0, y0), (x0 + cell_w - 1, y0 + cell_h - 1)],
                fill.filled(),
            ))?;
            let dark = scale > 0.0 && v.abs() / scale > 0.6;
            let ink = if dark { WHITE } else { INK };
            let shown = if v.is_finite() {
                c.cell(*v)
            } else {
                "n/a".into()
            };
            plot.draw(&Text::new(
                shown,
                (x0 + cell_w / 2, y0 + cell_h / 2),
                centred(13).color(&ink),
            ))?;
        }
    }
    let bottom = top + c.rows.len() as i32 * cell_h + 22;
    plot.draw(&Text::new(
        c.x_desc.clone(),
        (label_w + cols * cell_w / 2, bottom),
        centred(16),
    ))?;
    // The colour scale, from the largest fall to the largest rise.
    let (bar_x, bar_y, bar_h) = (10, 30, 160);
    for k in 0..bar_h {
        let v = scale * (1.0 - 2.0 * k as f64 / (bar_h - 1) as f64);
        legend.draw(&Rectangle::new(
            [(bar_x, bar_y + k), (bar_x + 24, bar_y + k + 1)],
            diverging(v, scale).filled(),
        ))?;
    }
    let left = text(14).pos(Pos::new(HPos::Left, VPos::Center));
    for (v, y) in [
        (scale, bar_y),
        (0.0, bar_y + bar_h / 2),
        (-scale, bar_y + bar_h),
    ] {
        legend.draw(&Text::new(c.cell(v), (bar_x + 32, y), left.clone()))?;
    }
    let mut y = bar_y + bar_h + 26;
    for s in [&c.scale_desc, &c.positive_means, &c.negative_means] {
        for line in wrap(&legend, s, &left, LEGEND_WIDTH as i32 - 20) {
            legend.draw(&Text::new(line, (bar_x, y), left.clone()))?;
            y += 18;
        }
        y += 6;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_ticks_read_in_thousands_or_millions() {
        assert_eq!(money_tick(12_000_000.0, 2_000_000.0), "£12m");
        assert_eq!(money_tick(2_500_000.0, 500_000.0), "£2.5m");
        assert_eq!(money_tick(-1_500_000.0, 500_000.0), "−£1.5m");
        assert_eq!(money_tick(1_448_000_000.0, 100_000_000.0), "£1,448m");
        assert_eq!(money_tick(350_000.0, 50_000.0), "£350k");
        assert_eq!(money_tick(0.0, 50_000.0), "£0");
        assert_eq!(money_tick(-0.0001, 1e6), "£0");
        assert_eq!(money_tick(40.0, 10.0), "£40");
    }
}

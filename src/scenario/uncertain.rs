//! Parameter uncertainty: a range and a distribution on any number a
//! scenario writes as `{ value = … }`, default ranges by confidence grade
//! from the scenario's `[uncertainty]` table, and one draw of every
//! uncertain parameter for each replicate.
//!
//! Contract: a parameter's draw in replicate `r` is its distribution's
//! quantile at [`parameter_uniform`]`(Crn::new(seed, r), name)`, so every
//! scenario of a run that has the parameter draws the same quantile (their
//! differences stay paired), and the same seed gives the same draws on any
//! thread count. A list's elements move together, at one quantile. A whole
//! number stays whole. Only the simulation's inputs are drawn: a range that
//! would move a money convention (`[economics]`, an intervention's capital
//! or financing) is refused, and sizes (capacities, budgets, caseloads) are
//! decisions, not evidence, so no default width applies to them.

use serde::Serialize;
use statrs::distribution::{Beta, ContinuousCDF, Normal};

use super::locate::{dotted, locate, split_path};
use super::schema::{Confidence, SIZES, Scenario};
use super::{Built, Invalid, Recipe, ScenarioError, SourceFile};
use crate::rng::{Crn, parameter_uniform};

/// The standard normal's 95th percentile: a lognormal's `range` is its 5th
/// and 95th percentiles.
const Z95: f64 = 1.644_853_626_951_472_2;

/// A distribution over a parameter's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Lowest at the range's ends, highest at `value` (the default).
    Triangular,
    /// Every value in the range equally likely.
    Uniform,
    /// Beta-PERT: a smooth hump on the range, its mode at `value`.
    Pert,
    /// The range is the 5th and 95th percentiles, the median their
    /// geometric mean; unbounded above.
    Lognormal,
}

impl Shape {
    const NAMES: &'static str = "`triangular`, `uniform`, `pert` (or `beta`) or `lognormal`";

    /// The shape a name (as a scenario writes it) stands for.
    pub fn parse(text: &str) -> Option<Shape> {
        match text {
            "triangular" => Some(Shape::Triangular),
            "uniform" => Some(Shape::Uniform),
            "pert" | "beta" => Some(Shape::Pert),
            "lognormal" => Some(Shape::Lognormal),
            _ => None,
        }
    }

    /// The name the outputs use.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Triangular => "triangular",
            Shape::Uniform => "uniform",
            Shape::Pert => "pert",
            Shape::Lognormal => "lognormal",
        }
    }

    /// The quantile at `u` of this shape on `[lo, hi]` with its mode (or,
    /// for a lognormal, nothing) at `mode`.
    pub fn quantile(self, lo: f64, mode: f64, hi: f64, u: f64) -> f64 {
        let width = hi - lo;
        if width <= 0.0 {
            return mode;
        }
        match self {
            Shape::Uniform => lo + u * width,
            Shape::Triangular => {
                let left = (mode - lo) / width;
                if u < left {
                    lo + (u * width * (mode - lo)).sqrt()
                } else {
                    hi - ((1.0 - u) * width * (hi - mode)).sqrt()
                }
            }
            Shape::Pert => {
                let a = 1.0 + 4.0 * (mode - lo) / width;
                let b = 1.0 + 4.0 * (hi - mode) / width;
                let beta = Beta::new(a, b).expect("both shapes at least 1");
                lo + width * beta.inverse_cdf(u)
            }
            Shape::Lognormal => {
                let median = (lo * hi).sqrt();
                let sigma = (hi / lo).ln() / (2.0 * Z95);
                let z = Normal::standard().inverse_cdf(u);
                median * (sigma * z).exp()
            }
        }
    }
}

impl Shape {
    /// The chance that a value drawn from this shape on `[lo, hi]` with its
    /// mode at `mode` is at most `x`: the inverse of [`Shape::quantile`].
    pub fn cdf(self, lo: f64, mode: f64, hi: f64, x: f64) -> f64 {
        let width = hi - lo;
        if width <= 0.0 {
            return if x < mode { 0.0 } else { 1.0 };
        }
        match self {
            Shape::Uniform => ((x - lo) / width).clamp(0.0, 1.0),
            Shape::Triangular => {
                if x <= lo {
                    0.0
                } else if x < mode {
                    (x - lo).powi(2) / (width * (mode - lo))
                } else if x < hi {
                    1.0 - (hi - x).powi(2) / (width * (hi - mode))
                } else {
                    1.0
                }
            }
            Shape::Pert => {
                let a = 1.0 + 4.0 * (mode - lo) / width;
                let b = 1.0 + 4.0 * (hi - mode) / width;
                let beta = Beta::new(a, b).expect("both shapes at least 1");
                beta.cdf(((x - lo) / width).clamp(0.0, 1.0))
            }
            Shape::Lognormal => {
                if x <= 0.0 || lo <= 0.0 {
                    return 0.0;
                }
                let sigma = (hi / lo).ln() / (2.0 * Z95);
                let median = (lo * hi).sqrt();
                Normal::standard().cdf((x / median).ln() / sigma)
            }
        }
    }
}

/// Where a parameter's range comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written beside its value.
    Stated,
    /// The `[uncertainty]` table's default width for the parameter's own
    /// confidence grade.
    DefaultWidth(Confidence),
}

impl Origin {
    /// Where the range comes from, in words, given the scenario's default
    /// widths (high, medium, low).
    pub fn describe(self, widths: Option<[f64; 3]>) -> String {
        match self {
            Origin::Stated => "stated".into(),
            Origin::DefaultWidth(grade) => {
                let w = widths.map_or(0.0, |w| w[grade as usize]);
                let name = match grade {
                    Confidence::High => "high",
                    Confidence::Medium => "medium",
                    Confidence::Low => "low",
                };
                format!(
                    "default width for {name} confidence (±{}%)",
                    (w * 100.0 * 1e6).round() / 1e6
                )
            }
        }
    }
}

/// One uncertain parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Uncertain {
    /// Dotted path, as the assumptions list names it.
    pub parameter: String,
    /// `value` as written: the figure used when nothing is drawn.
    pub central: Vec<f64>,
    /// The range's low end, element by element.
    pub low: Vec<f64>,
    /// The range's high end, element by element.
    pub high: Vec<f64>,
    /// The distribution over the range.
    pub shape: Shape,
    /// Stated beside the value, or a default width.
    pub origin: Origin,
    #[serde(skip)]
    path: Vec<String>,
    /// Written as a list (a one-element list is still a list).
    #[serde(skip)]
    list: bool,
    /// Every element written as a whole number.
    #[serde(skip)]
    whole: bool,
}

impl Uncertain {
    /// The parameter's values at quantile `u`, element by element.
    pub fn quantile(&self, u: f64) -> Vec<f64> {
        (0..self.central.len())
            .map(|i| {
                let x = self
                    .shape
                    .quantile(self.low[i], self.central[i], self.high[i], u);
                if self.whole { x.round() } else { x }
            })
            .collect()
    }

    /// The parameter's values a share `x` (0 to 1) of the way from the low
    /// end of its range to the high end, element by element, whatever its
    /// distribution: a screening design's levels.
    pub fn at_share(&self, x: f64) -> Vec<f64> {
        (0..self.central.len())
            .map(|i| {
                let v = if x >= 1.0 {
                    self.high[i]
                } else {
                    self.low[i] + x * (self.high[i] - self.low[i])
                };
                if self.whole { v.round() } else { v }
            })
            .collect()
    }

    /// The range cut where it crosses 1 on either side of the value (a
    /// chance above 1, a premium below it), if it does.
    fn stopped_at_one(&self) -> Option<Uncertain> {
        let mut cut = self.clone();
        for i in 0..self.central.len() {
            if cut.low[i] < 1.0 && 1.0 <= cut.central[i] {
                cut.low[i] = 1.0;
            }
            if cut.central[i] <= 1.0 && 1.0 < cut.high[i] {
                cut.high[i] = 1.0;
            }
        }
        (cut != *self).then_some(cut)
    }

    /// `values` (this parameter's, element by element) as the outputs
    /// write them: a number, or a list as `[a, b]`.
    pub fn written(&self, values: &[f64]) -> String {
        let one = |x: &f64| {
            if *x == 0.0 {
                "0".to_string()
            } else {
                format!("{x}")
            }
        };
        if self.list {
            let inner: Vec<String> = values.iter().map(one).collect();
            format!("[{}]", inner.join(", "))
        } else {
            one(&values[0])
        }
    }

    /// Whether it is written as a list (a one-element list is still one).
    pub fn is_list(&self) -> bool {
        self.list
    }

    /// Whether every element is written as a whole number, so stays one.
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// The values replicate `crn` draws.
    pub fn draw(&self, crn: Crn) -> Vec<f64> {
        self.quantile(parameter_uniform(crn, &self.parameter))
    }

    /// `values` as TOML, written as the scenario wrote `value`.
    fn toml(&self, values: &[f64]) -> toml::Value {
        let one = |x: f64| {
            if self.whole {
                toml::Value::Integer(x.round() as i64)
            } else {
                toml::Value::Float(x)
            }
        };
        if self.list {
            toml::Value::Array(values.iter().map(|&x| one(x)).collect())
        } else {
            one(values[0])
        }
    }

    /// Sets this parameter to `values` in `merged`.
    pub(super) fn set(&self, merged: &mut toml::Table, values: &[f64]) {
        if let Some(slot) = value_of(merged, &self.path) {
            *slot = self.toml(values);
        }
    }
}

/// An uncertain parameter given a new value and range, as a calibration
/// restates it from what a place observed.
#[derive(Clone, Debug, PartialEq)]
pub struct Restated {
    /// Dotted path, as the assumptions list names it.
    pub parameter: String,
    /// The new `value`, element by element.
    pub value: Vec<f64>,
    /// The new range's low end.
    pub low: Vec<f64>,
    /// The new range's high end.
    pub high: Vec<f64>,
    /// The distribution over the new range.
    pub shape: Shape,
    /// Where the new figures come from.
    pub source: String,
}

impl Uncertain {
    /// `r` as the `{ value, range, distribution, source }` a file writes,
    /// whole numbers and lists as this parameter's `value` is written.
    pub(super) fn restated(&self, r: &Restated) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("value".into(), self.toml(&r.value));
        t.insert(
            "range".into(),
            toml::Value::Array(vec![self.toml(&r.low), self.toml(&r.high)]),
        );
        t.insert("distribution".into(), r.shape.name().into());
        t.insert("source".into(), r.source.clone().into());
        t
    }

    /// The path of segments to the parameter's value.
    pub(super) fn path(&self) -> &[String] {
        &self.path
    }
}

/// A parameter with a grade that takes no default width, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldFixed {
    /// Dotted path.
    pub parameter: String,
    /// Why no range is drawn.
    pub reason: String,
}

/// A rank correlation the scenario states between uncertain parameters:
/// every pair of those named is correlated alike (Spearman's rank
/// correlation), so a rank of 1 moves a group together.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Correlation {
    /// The parameters' dotted names.
    pub parameters: Vec<String>,
    /// Their rank correlation, −1 to 1.
    pub rank: f64,
    /// Where it comes from, if the scenario says.
    pub source: Option<String>,
}

/// The Gaussian copula that gives correlated parameters their quantiles:
/// each one's independent quantile turned into a standard normal, mixed by
/// the lower Cholesky factor of the normal correlations that give the
/// stated rank correlations (`2 sin(π r / 6)`), and turned back. The mix
/// reads only the parameters' names, so every scenario of a run draws the
/// same quantile for a parameter in the same replicate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Copula {
    names: Vec<String>,
    lower: Vec<Vec<f64>>,
}

impl Copula {
    /// The copula for `correlations`, or why they cannot hold together.
    fn of(correlations: &[Correlation]) -> Result<Copula, String> {
        let mut names: Vec<String> = Vec::new();
        for c in correlations {
            for p in &c.parameters {
                if !names.contains(p) {
                    names.push(p.clone());
                }
            }
        }
        let n = names.len();
        let mut r = vec![vec![0.0; n]; n];
        for (i, row) in r.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        for c in correlations {
            // Exactly ±1 at the ends, where rounding would leave a group
            // that should move together a hair apart.
            let rho = if c.rank.abs() == 1.0 {
                c.rank
            } else {
                2.0 * (std::f64::consts::PI * c.rank / 6.0).sin()
            };
            for a in &c.parameters {
                for b in &c.parameters {
                    let (i, j) = (index(&names, a), index(&names, b));
                    if i != j {
                        r[i][j] = rho;
                    }
                }
            }
        }
        let lower = cholesky(&r).ok_or_else(|| {
            "these correlations cannot all hold at once (their matrix is not positive semi-definite): loosen one".to_string()
        })?;
        Ok(Copula { names, lower })
    }

    /// Parameter `name`'s quantile in replicate `crn`.
    pub fn quantile(&self, crn: Crn, name: &str) -> f64 {
        let Some(k) = self.names.iter().position(|n| n == name) else {
            return parameter_uniform(crn, name);
        };
        let normal = Normal::standard();
        let z: f64 = self.lower[k]
            .iter()
            .zip(&self.names)
            .map(|(l, n)| l * normal.inverse_cdf(parameter_uniform(crn, n)))
            .sum();
        // Within (0, 1), as an independent draw is.
        normal.cdf(z).clamp(1e-16, 1.0 - 1e-16)
    }
}

/// Whether `correlations` can all hold at once (their normal correlation
/// matrix is positive semi-definite), so a scenario may state them.
pub fn correlations_hold(correlations: &[Correlation]) -> bool {
    Copula::of(correlations).is_ok()
}

fn index(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .expect("collected above")
}

/// The lower Cholesky factor of a correlation matrix, allowing it to be
/// only semi-definite (a group moving together); `None` if it is not.
fn cholesky(r: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = r.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = r[i][i] - sum;
                if d < -1e-9 {
                    return None;
                }
                l[i][j] = d.max(0.0).sqrt();
            } else if l[j][j] > 1e-12 {
                l[i][j] = (r[i][j] - sum) / l[j][j];
            } else if (r[i][j] - sum).abs() > 1e-9 {
                return None;
            }
        }
    }
    Some(l)
}

/// A scenario's uncertain parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Uncertainty {
    /// The default half-widths, as shares of the value, for high, medium
    /// and low confidence, if the scenario states them.
    pub default_width: Option<[f64; 3]>,
    /// Every parameter drawn under `--uncertainty`, in the merged file's
    /// key order.
    pub parameters: Vec<Uncertain>,
    /// Parameters with their own grade that the default widths leave
    /// fixed, and why.
    pub held_fixed: Vec<HeldFixed>,
    /// Rank correlations between the parameters, as stated.
    pub correlations: Vec<Correlation>,
    /// The copula the correlations are drawn by.
    #[serde(skip)]
    pub copula: Copula,
}

/// A parameter's range as the outputs write it: every field empty when it
/// has none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeText {
    /// The low end: a number, or a list as `[a, b]`.
    pub low: String,
    /// The high end.
    pub high: String,
    /// The distribution's name.
    pub distribution: String,
    /// Where the range comes from, or why a graded parameter has none
    /// ("held fixed: …").
    pub uncertainty: String,
}

impl Uncertainty {
    /// Parameter `u`'s quantile in replicate `crn`: its own, or, if it is
    /// correlated with others, the copula's.
    pub fn quantile_of(&self, crn: Crn, u: &Uncertain) -> f64 {
        self.copula.quantile(crn, &u.parameter)
    }

    /// The values replicate `crn` draws of parameter `u`.
    pub fn draw(&self, crn: Crn, u: &Uncertain) -> Vec<f64> {
        u.quantile(self.quantile_of(crn, u))
    }

    /// These parameters drawn with `other`'s correlations (a run's
    /// baseline's, which every scenario of the run takes).
    pub fn with_correlations_of(mut self, other: &Uncertainty) -> Uncertainty {
        self.correlations = other.correlations.clone();
        self.copula = other.copula.clone();
        self
    }

    /// The range of the parameter named `parameter`, as text.
    pub fn range_of(&self, parameter: &str) -> RangeText {
        if let Some(u) = self.parameters.iter().find(|u| u.parameter == parameter) {
            let mut uncertainty = u.origin.describe(self.default_width);
            for c in self
                .correlations
                .iter()
                .filter(|c| c.parameters.iter().any(|p| p == parameter))
            {
                let others: Vec<&str> = c
                    .parameters
                    .iter()
                    .filter(|p| *p != parameter)
                    .map(String::as_str)
                    .collect();
                uncertainty.push_str(&format!(
                    "; rank correlation {} with {}",
                    c.rank,
                    others.join(", ")
                ));
            }
            return RangeText {
                low: u.written(&u.low),
                high: u.written(&u.high),
                distribution: u.shape.name().into(),
                uncertainty,
            };
        }
        RangeText {
            uncertainty: self
                .held_fixed
                .iter()
                .find(|h| h.parameter == parameter)
                .map(|h| format!("held fixed: {}", h.reason))
                .unwrap_or_default(),
            ..RangeText::default()
        }
    }
}

/// The `value` slot at `path`: a `{ value = … }` table's value, or the
/// number itself.
fn value_of<'a>(table: &'a mut toml::Table, path: &[String]) -> Option<&'a mut toml::Value> {
    let (first, rest) = path.split_first()?;
    let mut v = table.get_mut(first)?;
    for seg in rest {
        v = match v {
            toml::Value::Table(t) => t.get_mut(seg)?,
            toml::Value::Array(a) => a.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match v {
        toml::Value::Table(t) => t.get_mut("value"),
        other => Some(other),
    }
}

/// Sets the number (or list of numbers) at `path` in `merged` to `values`,
/// element by element, kept in the form it was written in: a whole number
/// stays whole. Returns the values as written there, or `None` when `path`
/// holds no number or a list of another length.
pub(super) fn set_numbers(
    merged: &mut toml::Table,
    path: &[String],
    values: &[f64],
) -> Option<Vec<f64>> {
    let slot = value_of(merged, path)?;
    let (now, list, whole) = numbers(slot)?;
    if now.len() != values.len() {
        return None;
    }
    let set: Vec<f64> = values
        .iter()
        .map(|&x| if whole { x.round() } else { x })
        .collect();
    let one = |x: f64| {
        if whole {
            toml::Value::Integer(x as i64)
        } else {
            toml::Value::Float(x)
        }
    };
    *slot = if list {
        toml::Value::Array(set.iter().map(|&x| one(x)).collect())
    } else {
        one(set[0])
    };
    Some(set)
}

/// The number (or list of numbers) at `path` in `merged`, if it holds one.
pub(super) fn numbers_at(merged: &toml::Table, path: &[String]) -> Option<Vec<f64>> {
    let mut copy = merged.clone();
    numbers(value_of(&mut copy, path)?).map(|(v, _, _)| v)
}

/// Sets the number or list at `path` in `merged` to the list `values`, of
/// any length, each rounded to a whole number: a budget by year. `None`
/// when `path` holds no number.
pub(super) fn replace_numbers(
    merged: &mut toml::Table,
    path: &[String],
    values: &[f64],
) -> Option<()> {
    let slot = value_of(merged, path)?;
    numbers(slot)?;
    *slot = toml::Value::Array(
        values
            .iter()
            .map(|&x| toml::Value::Integer(x.round() as i64))
            .collect(),
    );
    Some(())
}

/// Numbers from a value: a number, or a list of numbers; and whether it is
/// a list and every element whole.
fn numbers(v: &toml::Value) -> Option<(Vec<f64>, bool, bool)> {
    let one = |v: &toml::Value| match v {
        toml::Value::Integer(i) => Some((*i as f64, true)),
        toml::Value::Float(x) => Some((*x, false)),
        _ => None,
    };
    match v {
        toml::Value::Array(items) if !items.is_empty() => {
            let xs: Option<Vec<(f64, bool)>> = items.iter().map(one).collect();
            let xs = xs?;
            let whole = xs.iter().all(|x| x.1);
            Some((xs.into_iter().map(|x| x.0).collect(), true, whole))
        }
        other => one(other).map(|(x, whole)| (vec![x], false, whole)),
    }
}

/// The number (or list) at `path` in `merged` as a parameter with no
/// range yet (both ends at its value), for a range to be stated for it;
/// `None` if `path` holds no number.
pub(super) fn plain(merged: &toml::Table, path: &[String]) -> Option<Uncertain> {
    let mut copy = merged.clone();
    let (central, list, whole) = numbers(value_of(&mut copy, path)?)?;
    Some(Uncertain {
        parameter: dotted(path),
        low: central.clone(),
        high: central.clone(),
        central,
        shape: Shape::Triangular,
        origin: Origin::Stated,
        path: path.to_vec(),
        list,
        whole,
    })
}

/// Takes every `range` and `distribution` written beside a `value` out of
/// `merged` (so the rest of loading sees plain parameters) and returns
/// them, checked.
pub(super) fn stated(merged: &mut toml::Table) -> Result<Vec<Uncertain>, Invalid> {
    let mut out = Vec::new();
    walk(merged, &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn walk(
    table: &mut toml::Table,
    path: &mut Vec<String>,
    out: &mut Vec<Uncertain>,
) -> Result<(), Invalid> {
    for (k, v) in table.iter_mut() {
        path.push(k.clone());
        match v {
            toml::Value::Table(t) if t.contains_key("value") => {
                if let Some(u) = take(t, path)? {
                    out.push(u);
                }
            }
            toml::Value::Table(t) => walk(t, path, out)?,
            toml::Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let toml::Value::Table(t) = item {
                        path.push(i.to_string());
                        walk(t, path, out)?;
                        path.pop();
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
    Ok(())
}

/// The range and distribution beside one `value`, removed from its table.
fn take(t: &mut toml::Table, path: &[String]) -> Result<Option<Uncertain>, Invalid> {
    let range = t.remove("range");
    let distribution = t.remove("distribution");
    let at = |key: &str| {
        let mut p = path.to_vec();
        p.push(key.to_string());
        dotted(&p)
    };
    let Some(range) = range else {
        return match distribution {
            Some(_) => Err(Invalid {
                path: at("distribution"),
                message: "a distribution needs a `range` beside it: write `range = [low, high]`"
                    .into(),
            }),
            None => Ok(None),
        };
    };
    let parameter = dotted(path);
    let Some((central, list, whole)) = numbers(&t["value"]) else {
        return Err(Invalid {
            path: at("range"),
            message: format!(
                "a range needs a number or a list of numbers as `value`, found {}",
                t["value"].type_str()
            ),
        });
    };
    let n = central.len();
    let expected = if list {
        format!("`range = [[{n} low values], [{n} high values]]`, the low and high end of each")
    } else {
        "`range = [low, high]`".to_string()
    };
    let ends: Option<(Vec<f64>, Vec<f64>)> = match &range {
        toml::Value::Array(e) if e.len() == 2 => match (numbers(&e[0]), numbers(&e[1])) {
            (Some((lo, l1, _)), Some((hi, l2, _))) if l1 == list && l2 == list => {
                (lo.len() == n && hi.len() == n).then_some((lo, hi))
            }
            _ => None,
        },
        _ => None,
    };
    let Some((low, high)) = ends else {
        return Err(Invalid {
            path: at("range"),
            message: format!("expected {expected}, found {range}"),
        });
    };
    let shape = match &distribution {
        None => Shape::Triangular,
        Some(toml::Value::String(s)) => Shape::parse(s).ok_or_else(|| Invalid {
            path: at("distribution"),
            message: format!("unknown distribution \"{s}\", expected {}", Shape::NAMES),
        })?,
        Some(other) => {
            return Err(Invalid {
                path: at("distribution"),
                message: format!("expected {}, found {}", Shape::NAMES, other.type_str()),
            });
        }
    };
    Ok(Some(Uncertain {
        parameter,
        central,
        low,
        high,
        shape,
        origin: Origin::Stated,
        path: path.to_vec(),
        list,
        whole,
    }))
}

/// A scenario's uncertain parameters: those it states a range for, then
/// those its `[uncertainty]` table's default widths reach. A stated range
/// the scenario refuses at either end, or one that would move its money,
/// is an error; a default range that would is left out, and said why.
pub(super) fn of(
    default_width: Option<[f64; 3]>,
    recipe: &Recipe,
    central: &Built,
    files: &[SourceFile],
    stated: Vec<Uncertain>,
) -> Result<Uncertainty, ScenarioError> {
    let mut parameters = Vec::new();
    for u in stated {
        if let Err(why) = around_its_value(&u).and_then(|()| holds(recipe, files, central, &u)) {
            let mut path = u.path.clone();
            path.push("range".into());
            return Err(locate(files, &path, why));
        }
        parameters.push(u);
    }
    let mut held_fixed = Vec::new();
    if let Some(widths) = default_width {
        for u in defaulted(&recipe.merged, widths, &parameters) {
            let Err(reason) = holds(recipe, files, central, &u) else {
                parameters.push(u);
                continue;
            };
            // Most refusals are a share or a chance pushed past 1, or a
            // premium below it: the range stops at 1 instead.
            match u.stopped_at_one() {
                Some(cut) if holds(recipe, files, central, &cut).is_ok() => parameters.push(cut),
                _ => held_fixed.push(HeldFixed {
                    parameter: u.parameter,
                    reason,
                }),
            }
        }
    }
    Ok(Uncertainty {
        default_width,
        parameters,
        held_fixed,
        correlations: Vec::new(),
        copula: Copula::default(),
    })
}

/// `uncertainty` with the `[uncertainty]` table's correlations, each
/// checked: two or more distinct uncertain parameters of the scenario, a
/// rank from −1 to 1, and all of them able to hold at once.
pub(super) fn correlated(
    mut uncertainty: Uncertainty,
    scenario: &Scenario,
    files: &[SourceFile],
) -> Result<Uncertainty, ScenarioError> {
    let Some(u) = &scenario.uncertainty else {
        return Ok(uncertainty);
    };
    let at = |i: usize, field: &str, message: String| {
        locate(
            files,
            &split_path(&format!("uncertainty.correlations.{i}.{field}")),
            message,
        )
    };
    let mut correlations = Vec::new();
    for (i, c) in u.correlations.iter().enumerate() {
        let mut names: Vec<String> = Vec::new();
        for p in &c.parameters {
            // One the default widths hold fixed is not drawn: its
            // correlation has nothing to move, and is no error.
            let known = uncertainty.parameters.iter().any(|u| &u.parameter == p)
                || uncertainty.held_fixed.iter().any(|h| &h.parameter == p);
            if !known {
                return Err(at(
                    i,
                    "parameters",
                    format!(
                        "\"{}\" is not an uncertain parameter of this scenario: name one with a range or a default width (`upstream check` lists them)",
                        crate::input::quote(p)
                    ),
                ));
            }
            if !names.contains(p) {
                names.push(p.clone());
            }
        }
        if names.len() < 2 {
            return Err(at(
                i,
                "parameters",
                "expected two or more different uncertain parameters".into(),
            ));
        }
        if !(c.rank.is_finite() && (-1.0..=1.0).contains(&c.rank)) {
            return Err(at(
                i,
                "rank",
                format!(
                    "expected a rank correlation from −1 to 1 (1 moves them together), found {}",
                    c.rank
                ),
            ));
        }
        correlations.push(Correlation {
            parameters: names,
            rank: c.rank,
            source: c.source.clone(),
        });
    }
    uncertainty.copula = Copula::of(&correlations)
        .map_err(|why| locate(files, &split_path("uncertainty.correlations"), why))?;
    uncertainty.correlations = correlations;
    Ok(uncertainty)
}

/// The `[uncertainty]` table's default widths (high, medium, low), if the
/// scenario has one, each checked to be a share from 0 to 1.
pub(super) fn widths(
    scenario: &Scenario,
    files: &[SourceFile],
) -> Result<Option<[f64; 3]>, ScenarioError> {
    let Some(u) = &scenario.uncertainty else {
        return Ok(None);
    };
    let w = &u.default_width;
    let widths = [w.high.value, w.medium.value, w.low.value];
    for (grade, x) in ["high", "medium", "low"].iter().zip(widths) {
        if !(0.0..=1.0).contains(&x) {
            let path = split_path(&format!("uncertainty.default_width.{grade}"));
            return Err(locate(
                files,
                &path,
                format!(
                    "expected a share from 0 to 1 (0.25 is a range of ±25% around the value), found {x}"
                ),
            ));
        }
    }
    Ok(Some(widths))
}

/// Why `u`'s range cannot be drawn, if it cannot: the scenario refuses one
/// of its ends (a lognormal's, its 0.5th and 99.5th percentiles), or the
/// money moves with it.
fn holds(
    recipe: &Recipe,
    files: &[SourceFile],
    central: &Built,
    u: &Uncertain,
) -> Result<(), String> {
    let ends = match u.shape {
        Shape::Lognormal => [u.quantile(0.005), u.quantile(0.995)],
        _ => [u.low.clone(), u.high.clone()],
    };
    for (name, v) in ["low", "high"].iter().zip(ends) {
        let shown = u.written(&v);
        let built = recipe.at(files, &[(u, &v)]).map_err(|e| {
            let field = e.field.map(|f| format!("`{f}`: ")).unwrap_or_default();
            format!(
                "at its range's {name} end ({shown}) the scenario is refused: {field}{}",
                e.message
            )
        })?;
        if built.conventions != central.conventions
            || built.intervention_money != central.intervention_money
        {
            return Err("a range here would move the money conventions or an intervention's capital or financing, which are not yet drawn: only the simulation's inputs are".into());
        }
    }
    Ok(())
}

/// Refuses a stated range that does not hold its value, or a lognormal
/// one that reaches 0. Checked once the value itself has passed, so a bad
/// value is named as one.
fn around_its_value(u: &Uncertain) -> Result<(), String> {
    for i in 0..u.central.len() {
        let (lo, c, hi) = (u.low[i], u.central[i], u.high[i]);
        let which = if u.list {
            format!(" (element {})", i + 1)
        } else {
            String::new()
        };
        if !(lo.is_finite() && hi.is_finite() && lo <= c && c <= hi) {
            return Err(format!(
                "expected a range whose low end is at most `value` and whose high end at least{which}, found [{lo}, {hi}] around {c}"
            ));
        }
        if u.shape == Shape::Lognormal && lo <= 0.0 {
            return Err(format!(
                "a lognormal range is its 5th and 95th percentiles, so both must be above 0{which}, found [{lo}, {hi}]"
            ));
        }
    }
    Ok(())
}

/// Whether `path` is a size (a decision: a capacity, a budget, a caseload).
fn is_size(path: &[String]) -> bool {
    SIZES.iter().any(|s| {
        let pattern: Vec<&str> = s.split('.').collect();
        pattern.len() == path.len()
            && pattern
                .iter()
                .zip(path)
                .all(|(p, seg)| *p == "*" || p == seg)
    })
}

/// Parameters that take a default width: every `{ value = … }` with its own
/// `confidence` and no range, a number or a list of numbers, outside
/// `[economics]` and `[uncertainty]`, and not a size; and every
/// intervention effect's `multiplier`, by its effect's grade. Their ranges
/// are `value × (1 ± width)`, triangular; an effect's stops at 1 (no
/// effect), so a default never turns help into harm.
pub(super) fn defaulted(
    merged: &toml::Table,
    widths: [f64; 3],
    stated: &[Uncertain],
) -> Vec<Uncertain> {
    let grade_of = |t: &toml::Table| {
        t.get("confidence")
            .and_then(|c| Confidence::from_text(c.as_str()?))
    };
    // (path, grade, value, whether it is an effect's multiplier)
    let mut found: Vec<(Vec<String>, Confidence, toml::Value, bool)> = Vec::new();
    collect_graded(merged, &mut Vec::new(), &mut |path, t| {
        if let Some(grade) = grade_of(t) {
            found.push((path.to_vec(), grade, t["value"].clone(), false));
        }
    });
    let interventions = merged.get("interventions").and_then(|v| v.as_table());
    for (id, x) in interventions.into_iter().flatten() {
        let effects = x.get("effects").and_then(|e| e.as_array());
        for (i, e) in effects.into_iter().flatten().enumerate() {
            let Some(e) = e.as_table() else { continue };
            if let (Some(grade), Some(m)) = (grade_of(e), e.get("multiplier"))
                && !m.is_table()
            {
                let path = ["interventions", id, "effects", &i.to_string(), "multiplier"];
                found.push((path.map(String::from).to_vec(), grade, m.clone(), true));
            }
        }
    }
    let mut out = Vec::new();
    for (path, grade, value, effect) in found {
        if matches!(path[0].as_str(), "economics" | "uncertainty")
            || is_size(&path)
            || stated.iter().any(|u| u.path == path)
        {
            continue;
        }
        let Some((central, list, whole)) = numbers(&value) else {
            continue;
        };
        let w = widths[grade as usize];
        // To 12 significant figures, so that ±25% of 0.15 reads 0.1875,
        // not 0.18750000000000003, in every output.
        let tidy = |x: f64| format!("{x:.11e}").parse::<f64>().unwrap_or(x);
        let ends = |sign: f64| -> Vec<f64> {
            central.iter().map(|c| tidy(c * (1.0 + sign * w))).collect()
        };
        let (a, b) = (ends(-1.0), ends(1.0));
        // A negative value's "low" end is its more negative one.
        let low = a.iter().zip(&b).map(|(x, y)| x.min(*y)).collect();
        let high = a.iter().zip(&b).map(|(x, y)| x.max(*y)).collect();
        let u = Uncertain {
            parameter: dotted(&path),
            central,
            low,
            high,
            shape: Shape::Triangular,
            origin: Origin::DefaultWidth(grade),
            path,
            list,
            whole,
        };
        out.push(if effect {
            u.stopped_at_one().unwrap_or(u)
        } else {
            u
        });
    }
    out
}

fn collect_graded(
    table: &toml::Table,
    path: &mut Vec<String>,
    found: &mut dyn FnMut(&[String], &toml::Table),
) {
    for (k, v) in table {
        path.push(k.clone());
        match v {
            toml::Value::Table(t) if t.contains_key("value") => found(path, t),
            toml::Value::Table(t) => collect_graded(t, path, found),
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let toml::Value::Table(t) = item {
                        path.push(i.to_string());
                        collect_graded(t, path, found);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parameter the default widths leave fixed says why where its range
    /// would be written; one neither drawn nor held says nothing.
    #[test]
    fn a_parameter_held_fixed_says_why_in_place_of_its_range() {
        let u = Uncertainty {
            held_fixed: vec![HeldFixed {
                parameter: "need.recovery_per_month".into(),
                reason: "its range would pass 1".into(),
            }],
            ..Uncertainty::default()
        };
        let held = u.range_of("need.recovery_per_month");
        assert_eq!(held.uncertainty, "held fixed: its range would pass 1");
        assert_eq!((held.low.as_str(), held.high.as_str()), ("", ""));
        assert_eq!(u.range_of("population.residents"), RangeText::default());
    }

    /// Each shape's chance of a value at most x undoes its quantile, so a
    /// range fitted through the one is drawn by the other.
    #[test]
    fn each_shape_s_cdf_is_the_inverse_of_its_quantile() {
        for shape in [
            Shape::Uniform,
            Shape::Triangular,
            Shape::Pert,
            Shape::Lognormal,
        ] {
            for (lo, mode, hi) in [(0.2, 0.5, 2.0), (10.0, 11.0, 30.0), (1.0, 1.0, 4.0)] {
                for u in [0.01, 0.05, 0.3, 0.5, 0.77, 0.95, 0.999] {
                    let x = shape.quantile(lo, mode, hi, u);
                    let back = shape.cdf(lo, mode, hi, x);
                    assert!(
                        (back - u).abs() < 1e-9,
                        "{shape:?} {lo} {mode} {hi} {u}: {back}"
                    );
                }
            }
            // Below and above its support (a lognormal has none below 0).
            assert_eq!(shape.cdf(1.0, 2.0, 3.0, -1.0), 0.0, "{shape:?}");
        }
        assert_eq!(Shape::Pert.cdf(1.0, 2.0, 3.0, 3.5), 1.0);
    }

    fn parse(text: &str) -> Result<(Vec<Uncertain>, toml::Table), Invalid> {
        let mut t: toml::Table = toml::from_str(text).unwrap();
        stated(&mut t).map(|u| (u, t))
    }

    #[test]
    fn a_range_is_taken_out_and_read() {
        let (u, rest) = parse(
            "[need]\nescalation = { value = [0.03, 0.02], range = [[0.02, 0.01], [0.04, 0.03]], distribution = \"uniform\" }\nplain = { value = 3 }\n",
        )
        .unwrap();
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].parameter, "need.escalation");
        assert_eq!(
            (u[0].low.clone(), u[0].high.clone()),
            (vec![0.02, 0.01], vec![0.04, 0.03])
        );
        assert_eq!(u[0].shape, Shape::Uniform);
        assert_eq!(rest["need"]["escalation"].as_table().unwrap().len(), 1);
        let mid = u[0].quantile(0.5);
        assert!((mid[0] - 0.03).abs() < 1e-15 && (mid[1] - 0.02).abs() < 1e-15);
    }

    #[test]
    fn bad_ranges_say_what_was_expected() {
        let e = |text: &str| parse(text).unwrap_err();
        let (u, _) = parse("a = { value = 0.5, range = [0.6, 0.9] }").unwrap();
        assert!(
            around_its_value(&u[0])
                .unwrap_err()
                .contains("at most `value`")
        );
        let (u, _) =
            parse("a = { value = 1, range = [0, 2], distribution = \"lognormal\" }").unwrap();
        assert!(around_its_value(&u[0]).unwrap_err().contains("above 0"));
        assert!(
            e("a = { value = 0.5, range = [0.1] }")
                .message
                .contains("`range = [low, high]`")
        );
        assert!(
            e("a = { value = [1, 2], range = [0, 3] }")
                .message
                .contains("2 low values")
        );
        let x = e("a = { value = 0.5, range = [0.1, 0.9], distribution = \"normal\" }");
        assert_eq!(x.path, "a.distribution");
        assert!(x.message.contains("`lognormal`"));
        assert_eq!(
            e("a = { value = 0.5, distribution = \"uniform\" }").path,
            "a.distribution"
        );
        assert!(
            e("a = { value = \"x\", range = [0, 2] }")
                .message
                .contains("found string")
        );
    }

    /// Each shape's quantiles against its closed form: the ends, the mode's
    /// share, a lognormal's percentiles.
    #[test]
    fn quantiles_match_their_distributions() {
        let q = |s: Shape, u: f64| s.quantile(2.0, 3.0, 6.0, u);
        assert_eq!(q(Shape::Uniform, 0.25), 3.0);
        // Triangular: a quarter of the mass lies below the mode.
        assert!((q(Shape::Triangular, 0.25) - 3.0).abs() < 1e-12);
        assert!((q(Shape::Triangular, 0.0) - 2.0).abs() < 1e-12);
        assert!((q(Shape::Triangular, 1.0) - 6.0).abs() < 1e-12);
        // PERT with its mode at the middle is symmetric about it.
        let p = |u: f64| Shape::Pert.quantile(2.0, 4.0, 6.0, u);
        assert!((p(0.5) - 4.0).abs() < 1e-9);
        assert!((p(0.1) + p(0.9) - 8.0).abs() < 1e-9);
        assert!(p(0.001) > 2.0 && p(0.999) < 6.0);
        // Lognormal, its range the 5th to 95th percentiles; not starting at
        // 1, where a ratio and a product of the ends are one number.
        let l = |u: f64| Shape::Lognormal.quantile(2.0, 4.0, 8.0, u);
        assert!((l(0.05) - 2.0).abs() < 1e-6 && (l(0.95) - 8.0).abs() < 1e-6);
        assert!((l(0.5) - 4.0).abs() < 1e-9);
        // No width, no spread.
        assert_eq!(Shape::Pert.quantile(5.0, 5.0, 5.0, 0.9), 5.0);
    }

    /// Draws from one replicate's key follow the distribution: 4,000
    /// replicates' uniform draws pass a Kolmogorov–Smirnov test at 1%.
    #[test]
    fn replicates_draw_the_stated_distribution() {
        let (u, _) =
            parse("a = { value = 300.0, range = [200.0, 400.0], distribution = \"uniform\" }")
                .unwrap();
        let n = 4_000;
        let mut xs: Vec<f64> = (0..n).map(|r| u[0].draw(Crn::new(7, r))[0]).collect();
        xs.sort_by(f64::total_cmp);
        let d = xs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let f = (x - 200.0) / 200.0;
                (f - i as f64 / n as f64)
                    .abs()
                    .max(((i + 1) as f64 / n as f64 - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.63 / (n as f64).sqrt(), "KS distance {d}");
    }

    #[test]
    fn whole_numbers_stay_whole_and_lists_move_together() {
        let (u, _) = parse("a = { value = [10, 20], range = [[5, 10], [15, 30]] }").unwrap();
        let x = u[0].quantile(0.8);
        assert!(x.iter().all(|v| v.fract() == 0.0));
        assert!(x[0] > 10.0 && x[1] > 20.0);
        let mut t: toml::Table = toml::from_str("a = { value = [10, 20] }").unwrap();
        u[0].set(&mut t, &x);
        assert_eq!(
            t["a"]["value"],
            toml::Value::try_from(vec![x[0] as i64, x[1] as i64]).unwrap()
        );
    }

    #[test]
    fn default_widths_apply_to_graded_evidence_only() {
        let t: toml::Table = toml::from_str(
            "[a]\nrate = { value = 0.2, confidence = \"low\" }\ncost = { value = 100, confidence = \"high\" }\nungraded = { value = 1.0 }\nfixed = { value = 0.5, confidence = \"low\", range = [0.5, 0.5] }\n\
             [episodes.x]\ncapacity = { value = 40, confidence = \"low\" }\n[economics]\ndiscount_rate = { value = 0.035, confidence = \"low\" }\n",
        )
        .unwrap();
        let mut stripped = t.clone();
        let stated = stated(&mut stripped).unwrap();
        let d = defaulted(&stripped, [0.1, 0.25, 0.5], &stated);
        let names: Vec<&str> = d.iter().map(|u| u.parameter.as_str()).collect();
        assert_eq!(names, ["a.cost", "a.rate"]);
        assert!((d[0].low[0] - 90.0).abs() < 1e-9 && (d[0].high[0] - 110.0).abs() < 1e-9);
        assert!((d[1].low[0] - 0.1).abs() < 1e-12 && (d[1].high[0] - 0.3).abs() < 1e-12);
        assert_eq!(d[1].origin, Origin::DefaultWidth(Confidence::Low));
        // An effect's multiplier takes its effect's grade, and its range
        // stops at 1: help never turns into harm.
        let t: toml::Table = toml::from_str(
            "[interventions.x]\neffects = [{ on = \"escalation\", multiplier = 0.8, confidence = \"low\" }, { on = \"recovery\", multiplier = 1.5 }]\n",
        )
        .unwrap();
        let d = defaulted(&t, [0.1, 0.25, 0.5], &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].parameter, "interventions.x.effects[0].multiplier");
        assert_eq!((d[0].low[0], d[0].high[0]), (0.4, 1.0));
        let mut set = t.clone();
        d[0].set(&mut set, &[0.5]);
        assert_eq!(
            set["interventions"]["x"]["effects"][0]["multiplier"].as_float(),
            Some(0.5)
        );
    }
}

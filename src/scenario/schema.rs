//! The scenario file's schema, as serde types. Every table rejects unknown
//! fields. Any number (or list of numbers) may be written plainly or as
//! `{ value = …, source = "…", confidence = "high" | "medium" | "low" }`.

use std::collections::BTreeMap;

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};

use crate::model::{NeedLevel, Overflow, Payer, RiskFactor, Unit};

/// How sure we are of an assumption. `A`, `B` and `C` (the grades of the UK
/// unit-cost notes) are accepted for high, medium and low, in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    /// The grade a text names, as a scenario may write it.
    pub fn from_text(text: &str) -> Option<Confidence> {
        match text.trim().to_lowercase().as_str() {
            "high" | "a" => Some(Confidence::High),
            "medium" | "b" => Some(Confidence::Medium),
            "low" | "c" => Some(Confidence::Low),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Confidence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Confidence::from_text(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown variant `{text}`, expected one of `high`, `medium`, `low` (or `A`, `B`, `C`)"
            ))
        })
    }
}

/// `T` from a TOML value; a single number stands for a list of one where a
/// list is expected (a by-year list's last value repeats, so it means every
/// year).
fn value_of<T: serde::de::DeserializeOwned>(v: toml::Value) -> Result<T, toml::de::Error> {
    T::deserialize(v.clone()).or_else(|e| match v {
        toml::Value::Integer(_) | toml::Value::Float(_) => {
            T::deserialize(toml::Value::Array(vec![v])).map_err(|_| e)
        }
        _ => Err(e),
    })
}

/// A parameter with its evidence.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Param<T> {
    pub value: T,
    pub source: Option<String>,
    pub confidence: Option<Confidence>,
    /// What `value` is counted per: the place, or 1,000 of its residents,
    /// children or households (sizes only; see [`PER_KEYS`]).
    pub per: Per,
}

/// What a size is counted per.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Per {
    /// The whole place: the value as written.
    #[default]
    Place,
    /// 1,000 residents.
    Residents,
    /// 1,000 children (under 18).
    Children,
    /// 1,000 households.
    Households,
}

/// The keys that may stand in place of `value` in a size, and what each
/// counts per.
pub(super) const PER_KEYS: [(&str, Per); 3] = [
    ("per_1000_residents", Per::Residents),
    ("per_1000_children", Per::Children),
    ("per_1000_households", Per::Households),
];

/// Where a size may be written per 1,000: `*` stands for any one key.
pub(super) const SIZES: [&str; 6] = [
    "episodes.*.capacity",
    "interventions.*.annual_budget",
    "interventions.*.caseload",
    "interventions.*.burn_in_budget",
    "economics.budgets.*.envelope",
    "economics.budgets.*.savings_target",
];

impl<T> Param<T> {
    pub(super) fn plain(value: T) -> Self {
        Param {
            value,
            source: None,
            confidence: None,
            per: Per::Place,
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Param<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        let per_keys: Vec<(&str, Per)> = match &v {
            toml::Value::Table(t) => PER_KEYS
                .iter()
                .copied()
                .filter(|(k, _)| t.contains_key(*k))
                .collect(),
            _ => Vec::new(),
        };
        match v {
            toml::Value::Table(t) if t.contains_key("value") || !per_keys.is_empty() => {
                let given = per_keys.len() + usize::from(t.contains_key("value"));
                if given > 1 {
                    return Err(D::Error::custom(
                        "give one of `value`, `per_1000_residents`, `per_1000_children` or \
                         `per_1000_households`, not several",
                    ));
                }
                let (key, per) = per_keys.first().copied().unwrap_or(("value", Per::Place));
                for k in t.keys() {
                    if !matches!(k.as_str(), "source" | "confidence") && k != key {
                        return Err(D::Error::custom(format!(
                            "unknown field `{k}` beside `{key}`, expected `source` or `confidence` (or, beside `value`, `range` and `distribution`)"
                        )));
                    }
                }
                let value =
                    value_of::<T>(t[key].clone()).map_err(|e| D::Error::custom(e.message()))?;
                let source = match t.get("source") {
                    None => None,
                    Some(toml::Value::String(s)) => Some(s.clone()),
                    Some(other) => {
                        return Err(D::Error::custom(format!(
                            "`source` should be text, found {}",
                            other.type_str()
                        )));
                    }
                };
                let confidence =
                    match t.get("confidence") {
                        None => None,
                        Some(c) => Some(Confidence::deserialize(c.clone()).map_err(|e| {
                            D::Error::custom(format!("`confidence`: {}", e.message()))
                        })?),
                    };
                Ok(Param {
                    value,
                    source,
                    confidence,
                    per,
                })
            }
            other => value_of::<T>(other)
                .map(Param::plain)
                .map_err(|e| D::Error::custom(e.message())),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub extends: Option<String>,
    /// First month of the horizon, "YYYY-MM".
    pub start: String,
    pub horizon_years: u32,
    /// Months before the horizon; by `Config::steady_burn_in` when not given.
    #[serde(default)]
    pub burn_in_months: Option<u32>,
    /// Start episode services at equilibrium rather than empty.
    #[serde(default = "default_true")]
    pub warm_start: bool,
    pub population: PopulationIn,
    pub need: NeedIn,
    pub risk_factors: RiskFactorsIn,
    pub household: HouseholdIn,
    pub assets: AssetsIn,
    #[serde(default)]
    pub events: BTreeMap<String, EventIn>,
    #[serde(default)]
    pub episodes: BTreeMap<String, EpisodeIn>,
    pub handoff: HandoffIn,
    #[serde(default)]
    pub interventions: BTreeMap<String, InterventionIn>,
    #[serde(default)]
    pub shocks: BTreeMap<String, ShockIn>,
    #[serde(default)]
    pub provider_failures: BTreeMap<String, ProviderFailureIn>,
    #[serde(default)]
    pub risk_score: Option<RiskScoreIn>,
    #[serde(default)]
    pub economics: Option<EconomicsIn>,
    #[serde(default)]
    pub uncertainty: Option<UncertaintyIn>,
    #[serde(default)]
    pub optimise: Option<OptimiseIn>,
}

/// A prevention budget to split across some of the scenario's
/// interventions (`upstream optimise`), and the limits on the split.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OptimiseIn {
    /// £ a year to split, every year of the horizon.
    pub budget: f64,
    /// The interventions the budget may go to, by their key.
    pub levers: Vec<String>,
    /// The share of the budget the split moves in.
    #[serde(default)]
    pub step: Option<f64>,
    /// Shares of the budget at which the best split is found again, for
    /// the frontier of spend against outcome.
    #[serde(default)]
    pub frontier: Option<Vec<f64>>,
    /// The most, £ a year, each payer may put in across the levers.
    #[serde(default)]
    pub payer_limits: BTreeMap<String, f64>,
    /// The least, £ a year, a funded lever must spend in each neighbourhood
    /// it reaches.
    #[serde(default)]
    pub minimum_per_neighbourhood: Option<f64>,
    /// Other neighbourhoods a lever may reach, beside its own targeting.
    #[serde(default)]
    pub reach: BTreeMap<String, Vec<NeighbourhoodsIn>>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
}

/// Parameter uncertainty: how wide a range a parameter with its own grade
/// and no range of its own takes, as a share of its value either side.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UncertaintyIn {
    pub default_width: ByGradeIn,
    /// Rank correlations between uncertain parameters.
    #[serde(default)]
    pub correlations: Vec<CorrelationIn>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub confidence: Option<Confidence>,
}

/// A rank correlation between uncertain parameters, every pair of those
/// named alike: 1 moves them together.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CorrelationIn {
    pub parameters: Vec<String>,
    pub rank: f64,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub confidence: Option<Confidence>,
}

fn default_cuts() -> [u8; 3] {
    [18, 65, 85]
}
fn default_true() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PopulationIn {
    pub residents: u32,
    pub neighbourhoods: u32,
    #[serde(default)]
    pub deprivation_deciles: Option<Vec<u8>>,
    #[serde(default)]
    pub neighbourhood_names: Option<Vec<String>>,
    /// Residents of each neighbourhood, adding up to `residents`; split
    /// evenly when not given.
    #[serde(default)]
    pub neighbourhood_residents: Option<Vec<u32>>,
    #[serde(default = "default_cuts")]
    pub age_band_cuts: [u8; 3],
    pub household_size_shares: Param<Vec<f64>>,
    pub reference_age_edges: Vec<u8>,
    pub reference_age_shares: Param<Vec<f64>>,
    pub partner_share: Param<f64>,
    pub max_parent_age: u8,
    pub mortality_per_year: Param<[f64; 4]>,
    pub mortality_need_multiplier: Param<[f64; 4]>,
    pub move_out_per_year: Param<f64>,
    #[serde(default = "default_true")]
    pub turnover: bool,
    /// A CSV of residents to start from instead of synthesising them.
    #[serde(default)]
    pub starting_state: Option<String>,
    /// A declared trend in residents by age, year by year.
    #[serde(default)]
    pub trend: Option<TrendIn>,
}

/// `[population.trend]`: residents by age band at the start of each year, as
/// a population projection gives them. Only each band's change from the
/// first row is used.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TrendIn {
    /// Where the figures come from (for example an ONS projection's table);
    /// read, with `confidence`, by the assumptions list from the merged
    /// table.
    #[serde(default)]
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub confidence: Option<Confidence>,
    /// The first age of each band, starting at 0.
    pub age_bands: Vec<u8>,
    /// One row a year from the scenario's start year: the year, then the
    /// residents in each band.
    pub years: Vec<Vec<f64>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NeedIn {
    pub escalation_per_month: Param<[f64; 3]>,
    pub recovery_per_month: Param<[f64; 3]>,
    pub age_escalation_multiplier: Param<[f64; 4]>,
    pub utility: Param<[f64; 4]>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskIn {
    pub prevalence_most_deprived: Param<f64>,
    pub prevalence_least_deprived: Param<f64>,
    pub escalation_multiplier: Param<f64>,
    pub recovery_multiplier: Param<f64>,
    pub persistence_months: Param<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskFactorsIn {
    pub low_income: RiskIn,
    pub insecure_housing: RiskIn,
    pub isolation: RiskIn,
    pub long_term_condition: RiskIn,
    pub family_stress: RiskIn,
}

/// A multiplier per risk factor; factors not named multiply by 1.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskMultIn {
    pub low_income: Option<Param<f64>>,
    pub insecure_housing: Option<Param<f64>>,
    pub isolation: Option<Param<f64>>,
    pub long_term_condition: Option<Param<f64>>,
    pub family_stress: Option<Param<f64>>,
}

impl RiskMultIn {
    pub(super) fn by_factor(&self) -> [(&'static str, Option<f64>); 5] {
        let v = |p: &Option<Param<f64>>| p.as_ref().map(|p| p.value);
        [
            ("low_income", v(&self.low_income)),
            ("insecure_housing", v(&self.insecure_housing)),
            ("isolation", v(&self.isolation)),
            ("long_term_condition", v(&self.long_term_condition)),
            ("family_stress", v(&self.family_stress)),
        ]
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HouseholdIn {
    pub crisis_stress_multiplier: Param<[f64; 3]>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssetsIn {
    pub base_places_per_1000: Param<f64>,
    pub connect_per_month: Param<f64>,
    pub isolated_uptake_multiplier: Param<f64>,
    pub disconnect_per_month: Param<f64>,
    pub escalation_multiplier: Param<f64>,
    pub growth_per_month: Param<f64>,
    pub decline_per_month: Param<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum AgeBandName {
    Children,
    WorkingAge,
    Older,
    Oldest,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventIn {
    pub name: String,
    pub payer: Payer,
    pub unit_cost: Param<f64>,
    pub rate_per_month: Param<[f64; 4]>,
    #[serde(default)]
    pub age_multiplier: Option<Param<[f64; 4]>>,
    #[serde(default)]
    pub risk_multiplier: Option<RiskMultIn>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub confidence: Option<Confidence>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum DistributionName {
    Exponential,
    Lognormal,
    Fixed,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DurationIn {
    pub distribution: DistributionName,
    pub mean_months: Param<f64>,
    #[serde(default)]
    pub sd_months: Option<Param<f64>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EpisodeIn {
    pub name: String,
    pub payer: Payer,
    #[serde(default)]
    pub unit: Unit,
    pub eligible_age_bands: Vec<AgeBandName>,
    pub entry_per_month: Param<[f64; 4]>,
    #[serde(default)]
    pub household_multiplier: Option<Param<[f64; 4]>>,
    #[serde(default)]
    pub risk_multiplier: Option<RiskMultIn>,
    pub duration: DurationIn,
    pub weekly_cost: Param<f64>,
    pub capacity: Param<f64>,
    pub overflow: Overflow,
    #[serde(default)]
    pub spot_premium: Option<Param<f64>>,
    #[serde(default)]
    pub recovered_per_week: Option<Param<f64>>,
    #[serde(default)]
    pub recovered_from: Option<Payer>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub confidence: Option<Confidence>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HandoffIn {
    pub window_months: u32,
    pub cost_per_extra_service: Param<f64>,
    pub payer: Payer,
    #[serde(default)]
    pub integration: Option<Param<f64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum KindIn {
    Caseload,
    Assets,
    Places,
}

/// Which neighbourhoods: `"all"`, `"most_deprived:N"`, `"least_deprived:N"`
/// or a list of names.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum NeighbourhoodsIn {
    All,
    MostDeprived(u32),
    LeastDeprived(u32),
    Named(Vec<String>),
}

impl<'de> Deserialize<'de> for NeighbourhoodsIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const EXPECTED: &str = "expected \"all\", \"most_deprived:N\", \"least_deprived:N\" or a list of neighbourhood names";
        let v = toml::Value::deserialize(d)?;
        match v {
            toml::Value::String(s) => {
                let count = |rest: &str| {
                    rest.trim().parse::<u32>().map_err(|_| {
                        D::Error::custom(format!(
                            "`{s}`: the count after `:` must be a whole number; {EXPECTED}"
                        ))
                    })
                };
                if s == "all" {
                    Ok(NeighbourhoodsIn::All)
                } else if let Some(rest) = s.strip_prefix("most_deprived:") {
                    Ok(NeighbourhoodsIn::MostDeprived(count(rest)?))
                } else if let Some(rest) = s.strip_prefix("least_deprived:") {
                    Ok(NeighbourhoodsIn::LeastDeprived(count(rest)?))
                } else {
                    Err(D::Error::custom(format!("found \"{s}\", {EXPECTED}")))
                }
            }
            toml::Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    toml::Value::String(s) => Ok(s),
                    other => Err(D::Error::custom(format!(
                        "found {} in the list, {EXPECTED}",
                        other.type_str()
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(NeighbourhoodsIn::Named),
            other => Err(D::Error::custom(format!(
                "found {}, {EXPECTED}",
                other.type_str()
            ))),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TargetingIn {
    #[serde(default)]
    pub neighbourhoods: Option<NeighbourhoodsIn>,
    #[serde(default)]
    pub age_bands: Option<Vec<AgeBandName>>,
    #[serde(default)]
    pub need_at_least: Option<NeedLevel>,
    #[serde(default)]
    pub with_children: bool,
    #[serde(default)]
    pub unit: Unit,
    #[serde(default)]
    pub risk_top_n: Option<u32>,
    #[serde(default)]
    pub risk_top_share: Option<Param<f64>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpandIn {
    pub from_year: u32,
    pub neighbourhoods: NeighbourhoodsIn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum EffectOn {
    Escalation,
    Recovery,
    RiskFactor,
    EventRate,
    EpisodeEntry,
    EpisodeDuration,
    HandoffCost,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EffectIn {
    pub on: EffectOn,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub factor: Option<RiskFactor>,
    pub multiplier: Param<f64>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InterventionIn {
    pub name: String,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub description: Option<String>,
    pub kind: KindIn,
    pub payer: Payer,
    #[serde(default)]
    pub start_month: Option<u32>,
    #[serde(default)]
    pub annual_budget: Option<Param<Vec<f64>>>,
    #[serde(default)]
    pub caseload: Option<Param<Vec<f64>>>,
    #[serde(default)]
    pub unit_cost_per_month: Option<Param<f64>>,
    #[serde(default)]
    pub cost_per_place_per_year: Option<Param<f64>>,
    #[serde(default)]
    pub targeting: Option<TargetingIn>,
    #[serde(default)]
    pub expand: Vec<ExpandIn>,
    #[serde(default)]
    pub engagement: Option<Param<f64>>,
    #[serde(default)]
    pub dropout_per_month: Option<Param<f64>>,
    #[serde(default)]
    pub support_months: Option<u16>,
    #[serde(default)]
    pub ramp_up_months: Option<u32>,
    #[serde(default)]
    pub effect_half_life_months: Option<Param<f64>>,
    #[serde(default)]
    pub effects: Vec<EffectIn>,
    #[serde(default)]
    pub existing: bool,
    #[serde(default)]
    pub burn_in_budget: Option<Param<f64>>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub places: Option<Param<Vec<u32>>>,
    #[serde(default)]
    pub capital_cost_per_place: Option<Param<f64>>,
    #[serde(default)]
    pub financing: Option<FinancingIn>,
    #[serde(default)]
    pub residual_value_share: Option<Param<f64>>,
    #[serde(default)]
    pub land_share: Option<Param<f64>>,
    #[serde(default)]
    pub running_cost_per_place_week: Option<Param<f64>>,
    #[serde(default)]
    pub rent_per_week: Option<Param<f64>>,
    #[serde(default)]
    pub rent_paid_by: Option<Payer>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShockIn {
    pub name: String,
    pub from_month: u32,
    pub to_month: u32,
    pub factor: RiskFactor,
    pub prevalence_multiplier: Param<f64>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub confidence: Option<Confidence>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderFailureIn {
    pub name: String,
    /// The episode service that loses places, by id.
    pub service: String,
    pub from_month: u32,
    pub to_month: u32,
    /// Share of its in-house places lost.
    pub places_lost: Param<f64>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub source: Option<String>,
    #[serde(default)]
    // Accepted here; read from the TOML by the assumptions walk.
    #[allow(dead_code)]
    pub confidence: Option<Confidence>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskScoreIn {
    pub need_weights: [u8; 4],
    pub factor_weights: [u8; 5],
}

/// How a capital purchase is paid for out of revenue.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FinancingIn {
    pub method: FinancingMethodIn,
    /// Interest rate a year, as a fraction.
    pub rate: Param<f64>,
    /// Loan term (annuity) or asset life (minimum revenue provision), years.
    pub years: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum FinancingMethodIn {
    Annuity,
    Mrp,
}

/// The money conventions: each has a default, shown in the outputs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EconomicsIn {
    /// Financial year the scenario's money is priced in, "2023/24".
    #[serde(default)]
    pub price_base: Option<String>,
    /// Calendar month a financial year starts: 4 (April) in UK public bodies.
    #[serde(default)]
    pub financial_year_start_month: Option<u32>,
    /// A flat discount rate a year in place of the Green Book schedule.
    #[serde(default)]
    pub discount_rate: Option<Param<f64>>,
    /// A flat rate for quality-adjusted life years in place of the Green
    /// Book's health schedule.
    #[serde(default)]
    pub health_discount_rate: Option<Param<f64>>,
    /// GDP deflator growth a year.
    #[serde(default)]
    pub general_inflation: Option<Param<f64>>,
    /// Unit-cost inflation a year by service or intervention id, or `default`.
    #[serde(default)]
    pub inflation: BTreeMap<String, Param<f64>>,
    #[serde(default)]
    pub optimism_bias: Option<OptimismBiasIn>,
    /// Cashable share of avoided cost by service id (or `handoff`), or `default`.
    #[serde(default)]
    pub cashable: BTreeMap<String, Param<f64>>,
    #[serde(default)]
    pub pools: BTreeMap<String, PoolIn>,
    /// By payer's name. Text, not [`Payer`], so that an error inside one
    /// names its payer: a map's key read as an enum is lost from the path.
    #[serde(default)]
    pub budgets: BTreeMap<String, BudgetIn>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OptimismBiasIn {
    pub cost_uplift: ByGradeIn,
    pub savings_haircut: ByGradeIn,
}

/// One value for each confidence grade.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ByGradeIn {
    pub high: Param<f64>,
    pub medium: Param<f64>,
    pub low: Param<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PoolIn {
    pub name: String,
    pub payers: Vec<Payer>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BudgetIn {
    /// Revenue budget envelope, nominal £ by financial year (last repeats).
    #[serde(default)]
    pub envelope: Option<Param<Vec<f64>>>,
    /// Savings the medium-term financial strategy needs against the
    /// baseline, nominal £ by financial year (last repeats).
    #[serde(default)]
    pub savings_target: Option<Param<Vec<f64>>>,
}

//! The model's vocabulary and its validated configuration.
//!
//! [`Config`] is what the engine runs: every number already checked, costs in
//! integer pence, hazards per month. It is built from a scenario file by
//! `scenario::compile`, or directly in code by tests and benches. Nothing here
//! knows about files, terminals or charts.

pub mod hazards;
pub mod population;

use serde::{Deserialize, Serialize};

pub const NEED_LEVELS: usize = 4;
pub const AGE_BANDS: usize = 4;
pub const RISK_FACTORS: usize = 5;
/// Event and episode services together (the handoff window keeps one bit each).
pub const MAX_SERVICES: usize = 16;
/// Interventions in one scenario (a resident's record keeps the index in 6 bits).
pub const MAX_INTERVENTIONS: usize = 63;

/// The ordered need scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedLevel {
    Thriving = 0,
    Coping = 1,
    Struggling = 2,
    Crisis = 3,
}

impl NeedLevel {
    pub const ALL: [NeedLevel; NEED_LEVELS] = [
        NeedLevel::Thriving,
        NeedLevel::Coping,
        NeedLevel::Struggling,
        NeedLevel::Crisis,
    ];
    pub fn name(self) -> &'static str {
        ["thriving", "coping", "struggling", "crisis"][self as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFactor {
    LowIncome = 0,
    InsecureHousing = 1,
    Isolation = 2,
    LongTermCondition = 3,
    FamilyStress = 4,
}

impl RiskFactor {
    pub const ALL: [RiskFactor; RISK_FACTORS] = [
        RiskFactor::LowIncome,
        RiskFactor::InsecureHousing,
        RiskFactor::Isolation,
        RiskFactor::LongTermCondition,
        RiskFactor::FamilyStress,
    ];
    pub fn name(self) -> &'static str {
        [
            "low_income",
            "insecure_housing",
            "isolation",
            "long_term_condition",
            "family_stress",
        ][self as usize]
    }
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Who pays: the partners whose budgets the model keeps apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    AdultSocialCare,
    ChildrensServices,
    Housing,
    Nhs,
    Police,
    VoluntarySector,
}

impl Payer {
    pub const ALL: [Payer; 6] = [
        Payer::AdultSocialCare,
        Payer::ChildrensServices,
        Payer::Housing,
        Payer::Nhs,
        Payer::Police,
        Payer::VoluntarySector,
    ];
    pub fn name(self) -> &'static str {
        [
            "adult_social_care",
            "childrens_services",
            "housing",
            "nhs",
            "police",
            "voluntary_sector",
        ][self as usize]
    }
    pub fn label(self) -> &'static str {
        [
            "Adult social care",
            "Children's services",
            "Housing",
            "NHS",
            "Police",
            "Voluntary sector",
        ][self as usize]
    }
}

/// Whom an intervention or an episode counts as one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    #[default]
    Resident,
    Household,
}

/// What happens when an episode service is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Buy a place on the spot market at a premium.
    Spot,
    /// Wait for an in-house place, first come first served.
    Queue,
}

/// Age bands used for rates and multipliers: four bands cut at three ages
/// (for example 18, 65 and 85: children, working age, older, oldest).
#[derive(Clone, Debug, PartialEq)]
pub struct AgeBands {
    pub cuts: [u8; AGE_BANDS - 1],
    /// Band of every possible age, precomputed (a fixed size, so lookups need
    /// no bounds check).
    pub of_age: [u8; 256],
}

pub const MAX_AGE: u8 = 110;

impl AgeBands {
    pub fn new(cuts: [u8; AGE_BANDS - 1]) -> Self {
        let mut of_age = [0u8; 256];
        for (a, band) in of_age.iter_mut().enumerate() {
            *band = cuts.iter().filter(|&&c| a >= c as usize).count() as u8;
        }
        AgeBands { cuts, of_age }
    }
    #[inline(always)]
    pub fn band(&self, age: u8) -> usize {
        self.of_age[age as usize] as usize
    }
    pub fn label(&self, band: usize) -> String {
        let lo = if band == 0 { 0 } else { self.cuts[band - 1] };
        if band == AGE_BANDS - 1 {
            format!("{lo}+")
        } else {
            format!("{lo}-{}", self.cuts[band] - 1)
        }
    }
}

#[derive(Clone, Debug)]
pub struct Neighbourhood {
    pub name: String,
    /// 1 = most deprived tenth of places, 10 = least.
    pub decile: u8,
}

/// A resident read from a starting-state file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartingResident {
    pub age: u8,
    pub need: u8,
    /// Risk factors held (see `RiskFactor::bit`).
    pub risk_mask: u8,
}

/// A household read from a starting-state file; its first member is the
/// household's reference person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartingHousehold {
    pub neighbourhood: usize,
    pub members: Vec<StartingResident>,
}

#[derive(Clone, Debug)]
pub struct PopulationSpec {
    pub residents: u32,
    /// Residents as given, instead of synthesised: households in
    /// neighbourhood order.
    pub starting: Option<Vec<StartingHousehold>>,
    pub neighbourhoods: Vec<Neighbourhood>,
    /// Share of households with 1, 2, 3, 4, 5 and 6 members.
    pub household_size_shares: Vec<f64>,
    /// Age of the household's reference person: band edges (n+1) and shares (n).
    pub reference_age_edges: Vec<u8>,
    pub reference_age_shares: Vec<f64>,
    /// Chance that a second member of a household is the reference person's
    /// partner rather than a child (when a child is possible).
    pub partner_share: f64,
    /// The oldest a reference person can be and still have children at home.
    pub max_parent_age: u8,
    /// Deaths per resident-year by age band.
    pub mortality: [f64; AGE_BANDS],
    /// Mortality multiplier by need level.
    pub mortality_need_multiplier: [f64; NEED_LEVELS],
    /// Moves out of the place per resident-year.
    pub move_out_per_year: f64,
    /// Chance that a vacated child's place is refilled by a birth rather than
    /// by a child moving in.
    pub birth_share: f64,
    pub turnover: bool,
}

#[derive(Clone, Debug)]
pub struct NeedSpec {
    /// Escalation hazard per month from thriving, coping, struggling.
    pub escalation: [f64; NEED_LEVELS - 1],
    /// Recovery hazard per month from coping, struggling, crisis.
    pub recovery: [f64; NEED_LEVELS - 1],
    pub age_escalation_multiplier: [f64; AGE_BANDS],
    /// Quality-of-life utility weight per need level (1 = full health).
    pub utility: [f64; NEED_LEVELS],
}

#[derive(Clone, Debug)]
pub struct RiskSpec {
    pub prevalence_most_deprived: f64,
    pub prevalence_least_deprived: f64,
    pub escalation_multiplier: f64,
    pub recovery_multiplier: f64,
    /// Mean months a resident keeps the factor once they have it.
    pub persistence_months: f64,
}

impl PopulationSpec {
    /// Whether two specifications synthesise the same households in the same
    /// slots (what pairing scenarios resident by resident relies on).
    pub fn same_households(&self, other: &PopulationSpec) -> bool {
        self.residents == other.residents
            && self.neighbourhoods.len() == other.neighbourhoods.len()
            && self
                .neighbourhoods
                .iter()
                .zip(&other.neighbourhoods)
                .all(|(a, b)| a.name == b.name && a.decile == b.decile)
            && self.household_size_shares == other.household_size_shares
            && self.reference_age_edges == other.reference_age_edges
            && self.reference_age_shares == other.reference_age_shares
            && self.partner_share == other.partner_share
            && self.max_parent_age == other.max_parent_age
            && self.starting == other.starting
    }
}

impl RiskSpec {
    /// Prevalence in a neighbourhood of the given deprivation decile, linear
    /// between the most (1) and least (10) deprived.
    pub fn prevalence(&self, decile: u8) -> f64 {
        let t = (decile.clamp(1, 10) - 1) as f64 / 9.0;
        self.prevalence_most_deprived
            + t * (self.prevalence_least_deprived - self.prevalence_most_deprived)
    }
}

#[derive(Clone, Debug)]
pub struct AssetSpec {
    /// Places (connected residents) per 1,000 residents without extra funding.
    pub base_places_per_1000: f64,
    pub connect_per_month: f64,
    pub isolated_uptake_multiplier: f64,
    pub disconnect_per_month: f64,
    /// Escalation multiplier for connected residents.
    pub escalation_multiplier: f64,
    /// Share of the gap to funded capacity closed each month while funded.
    pub growth_per_month: f64,
    /// Share of the excess over funded capacity lost each month (slower).
    pub decline_per_month: f64,
}

#[derive(Clone, Debug)]
pub struct EventService {
    pub id: String,
    pub name: String,
    pub payer: Payer,
    pub unit_cost_pence: i64,
    pub rate_per_month: [f64; NEED_LEVELS],
    pub age_multiplier: [f64; AGE_BANDS],
    pub risk_multiplier: [f64; RISK_FACTORS],
}

#[derive(Clone, Debug)]
pub enum Duration {
    /// Geometric in months with this mean (memoryless).
    Exponential {
        mean_months: f64,
    },
    LogNormal {
        mean_months: f64,
        sd_months: f64,
    },
    Fixed {
        months: u16,
    },
}

#[derive(Clone, Debug)]
pub struct EpisodeService {
    pub id: String,
    pub name: String,
    pub payer: Payer,
    pub unit: Unit,
    /// Which age bands can enter.
    pub eligible_bands: [bool; AGE_BANDS],
    pub entry_per_month: [f64; NEED_LEVELS],
    /// Entry multiplier by the highest need among the household's adults.
    pub household_multiplier: [f64; NEED_LEVELS],
    pub risk_multiplier: [f64; RISK_FACTORS],
    pub duration: Duration,
    /// Cost of an occupied in-house place for a month, in pence.
    pub monthly_cost_pence: i64,
    /// Cost of a spot-purchased place for a month, in pence.
    pub spot_monthly_cost_pence: i64,
    pub capacity: u32,
    pub overflow: Overflow,
}

#[derive(Clone, Debug)]
pub struct HandoffSpec {
    pub window_months: u32,
    pub cost_per_extra_service_pence: i64,
    pub payer: Payer,
    /// Share of handoff cost removed by integrated working, 0..=1.
    pub integration: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EffectTarget {
    Escalation,
    Recovery,
    /// Onset of a risk factor.
    RiskFactor(RiskFactor),
    EventRate(usize),
    EpisodeEntry(usize),
    EpisodeDuration(usize),
    HandoffCost,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub target: EffectTarget,
    pub multiplier: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targeting {
    /// Indices of targeted neighbourhoods (all when empty).
    pub neighbourhoods: Vec<usize>,
    /// Neighbourhoods added in later years: (first month, indices).
    pub expansions: Vec<(u32, Vec<usize>)>,
    /// Age bands targeted (for households: any member in them).
    pub age_bands: Option<[bool; AGE_BANDS]>,
    pub need_at_least: Option<NeedLevel>,
    pub with_children: bool,
    pub unit: Unit,
    /// Risk-stratified: only the top N (or top share) by risk score.
    pub risk_top_n: Option<u32>,
    pub risk_top_share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// Enrol residents or households into support.
    Caseload {
        /// Cases that can be supported at once, by scenario year (last repeats).
        places_by_year: Vec<u32>,
        targeting: Targeting,
        engagement: f64,
        dropout_per_month: f64,
        support_months: u16,
        ramp_up_months: u32,
        half_life_months: f64,
        effects: Vec<Effect>,
        /// Already running before the horizon starts (active in burn-in, mature).
        existing: bool,
        burn_in_places: u32,
    },
    /// Fund community assets in the targeted neighbourhoods.
    Assets {
        neighbourhoods: Vec<usize>,
        places_by_year: Vec<f64>,
    },
    /// Add in-house places to an episode service (for example homes bought).
    Places {
        service: usize,
        places_by_year: Vec<u32>,
        capital_cost_per_place_pence: i64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    pub id: String,
    pub name: String,
    pub payer: Payer,
    /// First month (1-based) of the horizon in which it runs.
    pub start_month: u32,
    /// Revenue spend per month, in pence, by scenario year (last repeats).
    pub monthly_spend_by_year: Vec<i64>,
    pub delivery: Delivery,
}

impl Intervention {
    pub fn monthly_spend(&self, month: u32) -> i64 {
        if month < self.start_month {
            return 0;
        }
        by_year(&self.monthly_spend_by_year, month)
            .copied()
            .unwrap_or(0)
    }
}

/// The value for the scenario year containing `month` (1-based); the last value
/// repeats after the list ends.
pub fn by_year<T>(values: &[T], month: u32) -> Option<&T> {
    let year = (month.max(1) - 1) / 12;
    values.get((year as usize).min(values.len().saturating_sub(1)))
}

#[derive(Clone, Debug)]
pub struct Shock {
    pub name: String,
    pub from_month: u32,
    pub to_month: u32,
    pub factor: RiskFactor,
    pub prevalence_multiplier: f64,
}

#[derive(Clone, Debug)]
pub struct RiskScore {
    pub need_weights: [u8; NEED_LEVELS],
    pub factor_weights: [u8; RISK_FACTORS],
}

impl RiskScore {
    #[inline]
    pub fn score(&self, need: u8, mask: u8) -> u32 {
        let mut s = self.need_weights[need as usize] as u32;
        for f in 0..RISK_FACTORS {
            if mask & (1 << f) != 0 {
                s += self.factor_weights[f] as u32;
            }
        }
        s
    }
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub name: String,
    pub months: u32,
    pub burn_in_months: u32,
    pub age_bands: AgeBands,
    pub population: PopulationSpec,
    pub need: NeedSpec,
    pub risks: [RiskSpec; RISK_FACTORS],
    /// Escalation multiplier by the number of other adults in the household in
    /// crisis: none, one, two or more.
    pub household_stress: [f64; 3],
    pub assets: AssetSpec,
    pub events: Vec<EventService>,
    pub episodes: Vec<EpisodeService>,
    pub handoff: HandoffSpec,
    pub interventions: Vec<Intervention>,
    pub shocks: Vec<Shock>,
    pub risk_score: RiskScore,
}

impl Config {
    pub fn services(&self) -> usize {
        self.events.len() + self.episodes.len()
    }
}

//! The model's vocabulary and its validated configuration.
//!
//! [`Config`] is what the engine runs: every number already checked, costs in
//! integer pence, hazards per month. It is built from a scenario file by
//! `scenario::compile`, or directly in code by tests and benches. Nothing here
//! knows about files, terminals or charts.

pub mod demography;
pub mod hazards;
pub mod population;
pub mod scaled;
pub mod trend;

use serde::{Deserialize, Serialize};

/// Need levels: thriving, coping, struggling, crisis.
pub const NEED_LEVELS: usize = 4;
/// Age bands for rates and multipliers (see [`AgeBands`]).
pub const AGE_BANDS: usize = 4;
/// Risk factors a resident may hold (see [`RiskFactor`]).
pub const RISK_FACTORS: usize = 5;
/// Event and episode services together (the handoff window keeps one bit each).
pub const MAX_SERVICES: usize = 16;
/// Interventions in one scenario (a resident's record keeps the index in 6 bits).
pub const MAX_INTERVENTIONS: usize = 63;

/// The ordered need scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedLevel {
    /// The lowest need (level 0).
    Thriving = 0,
    /// Level 1.
    Coping = 1,
    /// Level 2.
    Struggling = 2,
    /// The highest need (level 3).
    Crisis = 3,
}

impl NeedLevel {
    /// Every level, lowest need first.
    pub const ALL: [NeedLevel; NEED_LEVELS] = [
        NeedLevel::Thriving,
        NeedLevel::Coping,
        NeedLevel::Struggling,
        NeedLevel::Crisis,
    ];
    /// The level's name in scenario files and outputs, such as `struggling`.
    pub fn name(self) -> &'static str {
        ["thriving", "coping", "struggling", "crisis"][self as usize]
    }
}

/// A risk factor a resident may hold: it multiplies their escalation and
/// recovery hazards, and may change the services they use. Its prevalence
/// depends on the neighbourhood's deprivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFactor {
    /// Low income (bit 0 of a risk mask).
    LowIncome = 0,
    /// Insecure housing (bit 1).
    InsecureHousing = 1,
    /// Social isolation (bit 2); it does not act on need while the resident
    /// is connected to a community asset.
    Isolation = 2,
    /// A long-term condition (bit 3).
    LongTermCondition = 3,
    /// Family stress (bit 4).
    FamilyStress = 4,
}

impl RiskFactor {
    /// Every factor, in bit order.
    pub const ALL: [RiskFactor; RISK_FACTORS] = [
        RiskFactor::LowIncome,
        RiskFactor::InsecureHousing,
        RiskFactor::Isolation,
        RiskFactor::LongTermCondition,
        RiskFactor::FamilyStress,
    ];
    /// The factor's name in scenario files and outputs, such as
    /// `low_income`.
    pub fn name(self) -> &'static str {
        [
            "low_income",
            "insecure_housing",
            "isolation",
            "long_term_condition",
            "family_stress",
        ][self as usize]
    }
    /// The factor's bit in a resident's risk mask.
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Who pays: the partners whose budgets the model keeps apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    /// The council's adult social care.
    AdultSocialCare,
    /// The council's children's services.
    ChildrensServices,
    /// The council's housing service.
    Housing,
    /// The NHS.
    Nhs,
    /// The police.
    Police,
    /// Voluntary and community sector organisations.
    VoluntarySector,
    /// The Department for Work and Pensions, which pays housing benefit:
    /// the subsidy a council recovers on temporary accommodation and the
    /// rent of homes let to tenants on benefit.
    Dwp,
}

impl Payer {
    /// Every payer, in the order the outputs list them.
    pub const ALL: [Payer; 7] = [
        Payer::AdultSocialCare,
        Payer::ChildrensServices,
        Payer::Housing,
        Payer::Nhs,
        Payer::Police,
        Payer::VoluntarySector,
        Payer::Dwp,
    ];
    /// Whether the payer is part of the council, whose General Fund pays
    /// for adult social care, children's services and housing.
    pub fn council(self) -> bool {
        matches!(
            self,
            Payer::AdultSocialCare | Payer::ChildrensServices | Payer::Housing
        )
    }

    /// The payer's id in scenario files and outputs, such as
    /// `adult_social_care`.
    pub fn name(self) -> &'static str {
        [
            "adult_social_care",
            "childrens_services",
            "housing",
            "nhs",
            "police",
            "voluntary_sector",
            "dwp",
        ][self as usize]
    }
    /// The payer's name for people, such as "Adult social care".
    pub fn label(self) -> &'static str {
        [
            "Adult social care",
            "Children's services",
            "Housing",
            "NHS",
            "Police",
            "Voluntary sector",
            "DWP (housing benefit)",
        ][self as usize]
    }
}

/// Whom an intervention or an episode counts as one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Each resident is a case.
    #[default]
    Resident,
    /// A whole household is one case.
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
    /// The first age of the second, third and fourth bands, increasing.
    cuts: [u8; AGE_BANDS - 1],
    /// Band of every possible age, precomputed (a fixed size, so lookups need
    /// no bounds check).
    of_age: [u8; 256],
}

/// The oldest a resident can be, in years: ageing stops here.
pub const MAX_AGE: u8 = 110;

impl AgeBands {
    /// Bands cut at `cuts`, which must increase.
    pub fn new(cuts: [u8; AGE_BANDS - 1]) -> Self {
        let mut of_age = [0u8; 256];
        for (a, band) in of_age.iter_mut().enumerate() {
            *band = cuts.iter().filter(|&&c| a >= c as usize).count() as u8;
        }
        AgeBands { cuts, of_age }
    }

    /// The first age of the second, third and fourth bands.
    pub fn cuts(&self) -> [u8; AGE_BANDS - 1] {
        self.cuts
    }

    /// The band (0 to 3) of a resident aged `age`.
    #[inline(always)]
    pub fn band(&self, age: u8) -> usize {
        self.of_age[age as usize] as usize
    }
    /// The band's ages for people, such as `18-64` or `85+`.
    pub fn label(&self, band: usize) -> String {
        let lo = if band == 0 { 0 } else { self.cuts[band - 1] };
        if band == AGE_BANDS - 1 {
            format!("{lo}+")
        } else {
            format!("{lo}-{}", self.cuts[band] - 1)
        }
    }
}

/// A neighbourhood of the place.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbourhood {
    /// Its name, unique in the scenario (N01, N02, … when not given).
    pub name: String,
    /// 1 = most deprived tenth of places, 10 = least.
    pub decile: u8,
    /// Residents who live there (the place's residents split evenly unless
    /// the scenario says).
    pub residents: u32,
}

/// A resident read from a starting-state file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartingResident {
    /// Age in years, 0 to [`MAX_AGE`].
    pub age: u8,
    /// Need level, 0 (thriving) to 3 (crisis).
    pub need: u8,
    /// Risk factors held (see `RiskFactor::bit`).
    pub risk_mask: u8,
}

/// A household read from a starting-state file; its first member is the
/// household's reference person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartingHousehold {
    /// Index of its neighbourhood (0-based, in the config's order).
    pub neighbourhood: usize,
    /// Its residents, the reference person first.
    pub members: Vec<StartingResident>,
}

/// The population: residents, neighbourhoods and household make-up to
/// synthesise (or a starting state to read), and yearly turnover.
#[derive(Clone, Debug, PartialEq)]
pub struct PopulationSpec {
    /// Residents in the place at the start (1 to 50,000,000); constant over
    /// a run unless a trend is declared.
    pub residents: u32,
    /// Residents as given, instead of synthesised: households in
    /// neighbourhood order.
    pub starting: Option<Vec<StartingHousehold>>,
    /// The neighbourhoods; elsewhere a neighbourhood is an index into this
    /// list.
    pub neighbourhoods: Vec<Neighbourhood>,
    /// Share of households with 1, 2, 3, 4, 5 and 6 members.
    pub household_size_shares: Vec<f64>,
    /// Age of the household's reference person: band edges (n+1) and shares (n).
    pub reference_age_edges: Vec<u8>,
    /// Share of reference persons aged from each edge to just below the
    /// next.
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
    /// Whether residents die and move away each year (everyone still ages).
    pub turnover: bool,
    /// A declared trend in residents by age; without one the place holds
    /// its starting size and ages.
    pub trend: Option<trend::Trend>,
}

/// How need moves between levels, and what each level is worth in quality
/// of life.
#[derive(Clone, Debug, PartialEq)]
pub struct NeedSpec {
    /// Escalation hazard per month from thriving, coping, struggling.
    pub escalation: [f64; NEED_LEVELS - 1],
    /// Recovery hazard per month from coping, struggling, crisis.
    pub recovery: [f64; NEED_LEVELS - 1],
    /// Escalation multiplier by age band.
    pub age_escalation_multiplier: [f64; AGE_BANDS],
    /// Quality-of-life utility weight per need level (1 = full health).
    pub utility: [f64; NEED_LEVELS],
}

/// One risk factor: how common it is, how long it lasts, and how it moves
/// need.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskSpec {
    /// Share of residents holding it in the most deprived neighbourhoods
    /// (decile 1); at most 0.95.
    pub prevalence_most_deprived: f64,
    /// Share holding it in the least deprived (decile 10); at most 0.95.
    pub prevalence_least_deprived: f64,
    /// Multiplies the escalation hazard of residents who hold it.
    pub escalation_multiplier: f64,
    /// Multiplies the recovery hazard of residents who hold it.
    pub recovery_multiplier: f64,
    /// Mean months a resident keeps the factor once they have it.
    pub persistence_months: f64,
}

impl PopulationSpec {
    /// Residents to place in each neighbourhood: its own `residents` when
    /// they add up to the place's, else `residents` split in proportion to
    /// them (largest remainders first), so a place resized by setting
    /// `residents` alone keeps its neighbourhoods' shares.
    pub fn quotas(&self) -> Vec<u32> {
        let given: Vec<u64> = self
            .neighbourhoods
            .iter()
            .map(|n| n.residents as u64)
            .collect();
        let sum: u64 = given.iter().sum();
        let total = self.residents as u64;
        if sum == total {
            return self.neighbourhoods.iter().map(|n| n.residents).collect();
        }
        let n = given.len().max(1) as u64;
        let weights: Vec<u64> = if sum == 0 {
            vec![1; given.len()]
        } else {
            given
        };
        let wsum: u64 = weights.iter().sum();
        let mut quotas: Vec<u64> = weights.iter().map(|w| total * w / wsum).collect();
        let mut order: Vec<usize> = (0..quotas.len()).collect();
        // Largest remainder first; ties to the earlier neighbourhood.
        order.sort_by_key(|&i| (std::cmp::Reverse(total * weights[i] % wsum), i));
        let short = total - quotas.iter().sum::<u64>();
        for &i in order.iter().take(short.min(n) as usize) {
            quotas[i] += 1;
        }
        quotas.into_iter().map(|q| q as u32).collect()
    }

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
            && self.quotas() == other.quotas()
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

/// Community assets: places in each neighbourhood that residents connect
/// to, changing their escalation while connected.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetSpec {
    /// Places (connected residents) per 1,000 residents without extra funding.
    pub base_places_per_1000: f64,
    /// Monthly hazard that a resident who is not connected connects, while
    /// the neighbourhood has places free.
    pub connect_per_month: f64,
    /// Multiplies that hazard for residents with the isolation risk factor.
    pub isolated_uptake_multiplier: f64,
    /// Chance each month that a connected resident disconnects (raised
    /// while connected residents outnumber places).
    pub disconnect_per_month: f64,
    /// Escalation multiplier for connected residents.
    pub escalation_multiplier: f64,
    /// Share of the gap to funded capacity closed each month while funded.
    pub growth_per_month: f64,
    /// Share of the excess over funded capacity lost each month (slower).
    pub decline_per_month: f64,
}

/// A reactive service that counts contacts (an A&E attendance, a police
/// incident), each at a unit cost.
#[derive(Clone, Debug, PartialEq)]
pub struct EventService {
    /// Its id, unique across event and episode services; its metrics are
    /// `service.{id}.…`.
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// Who pays for it.
    pub payer: Payer,
    /// Cost of one contact, in pence.
    pub unit_cost_pence: i64,
    /// Contacts per resident per month, by need level.
    pub rate_per_month: [f64; NEED_LEVELS],
    /// Multiplier on the rate by age band (1 when not given).
    pub age_multiplier: [f64; AGE_BANDS],
    /// Multiplier on the rate for each risk factor held (1 when not given);
    /// several held multiply together.
    pub risk_multiplier: [f64; RISK_FACTORS],
}

/// How long an episode lasts, in whole months (at least 1), drawn when the
/// stay begins.
#[derive(Clone, Debug, PartialEq)]
pub enum Duration {
    /// Geometric in months with this mean (memoryless).
    Exponential {
        /// Mean stay in months (1 to 1,200).
        mean_months: f64,
    },
    /// Log-normal with this mean and standard deviation, rounded to whole
    /// months.
    LogNormal {
        /// Mean stay in months (1 to 1,200).
        mean_months: f64,
        /// Standard deviation in months.
        sd_months: f64,
    },
    /// The same stay for everyone.
    Fixed {
        /// The stay in months.
        months: u16,
    },
}

impl Duration {
    /// The mean stay in months, as the engine draws stays.
    pub fn mean_months(&self) -> f64 {
        match *self {
            Duration::Exponential { mean_months } => mean_months.max(1.0),
            Duration::LogNormal { mean_months, .. } => mean_months,
            Duration::Fixed { months } => months as f64,
        }
    }
}

/// A reactive service that holds residents or households in places for a
/// stay (residential care, a children's placement, temporary
/// accommodation), at a monthly cost per place.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeService {
    /// Its id, unique across event and episode services; its metrics are
    /// `service.{id}.…`.
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// Who pays for it.
    pub payer: Payer,
    /// Whether a place holds a resident or a household (then only the
    /// household's first member enters, for all of it).
    pub unit: Unit,
    /// Which age bands can enter.
    pub eligible_bands: [bool; AGE_BANDS],
    /// Entry rate per eligible resident per month, by need level.
    pub entry_per_month: [f64; NEED_LEVELS],
    /// Entry multiplier by the highest need among the household's adults.
    pub household_multiplier: [f64; NEED_LEVELS],
    /// Multiplier on the entry rate for each risk factor held (1 when not
    /// given).
    pub risk_multiplier: [f64; RISK_FACTORS],
    /// Length of stay.
    pub duration: Duration,
    /// Cost of an occupied in-house place for a month, in pence.
    pub monthly_cost_pence: i64,
    /// Cost of a spot-purchased place for a month, in pence.
    pub spot_monthly_cost_pence: i64,
    /// Part of each occupied place's monthly cost (in-house or spot, not an
    /// owned home) that the service's payer recovers from another payer, in
    /// pence, and from whom: housing benefit subsidy on temporary
    /// accommodation. A transfer between payers: it moves money between
    /// budgets and leaves every payer's total together unchanged.
    pub recovered: Option<(Payer, i64)>,
    /// In-house places at the start (a places intervention may add more).
    pub capacity: u32,
    /// What happens to an entry when the in-house places are full.
    pub overflow: Overflow,
}

/// Failure demand: the coordination cost of a resident touching several
/// services within a window.
#[derive(Clone, Debug, PartialEq)]
pub struct HandoffSpec {
    /// The window's length in months; windows are fixed blocks counted from
    /// the first burn-in month, the same for every resident.
    pub window_months: u32,
    /// Cost of each service touched after the first in a window, in pence,
    /// before integration.
    pub cost_per_extra_service_pence: i64,
    /// Who bears the cost.
    pub payer: Payer,
    /// Share of handoff cost removed by integrated working, 0..=1.
    pub integration: f64,
}

/// What an intervention's effect multiplies.
#[derive(Clone, Debug, PartialEq)]
pub enum EffectTarget {
    /// The escalation hazard (moving up a need level).
    Escalation,
    /// The recovery hazard (moving down a need level).
    Recovery,
    /// Onset of a risk factor.
    RiskFactor(RiskFactor),
    /// An event service's contact rate; the service by index among event
    /// services (0-based).
    EventRate(usize),
    /// An episode service's entry rate; the service by index among episode
    /// services (0-based).
    EpisodeEntry(usize),
    /// The length of stay drawn on entering an episode service straight
    /// into a place (not on admission from a waiting list); the service by
    /// index among episode services (0-based).
    EpisodeDuration(usize),
    /// The cost of each extra service touched in a handoff window.
    HandoffCost,
}

/// One effect of a caseload intervention's support.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    /// What it multiplies.
    pub target: EffectTarget,
    /// The multiplier at full strength (below 1 reduces); effects on the
    /// same target multiply together.
    pub multiplier: f64,
}

/// Whom a caseload intervention offers its places to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targeting {
    /// Indices of targeted neighbourhoods (all when empty).
    pub neighbourhoods: Vec<usize>,
    /// Neighbourhoods added in later years: (first month, indices).
    pub expansions: Vec<(u32, Vec<usize>)>,
    /// Age bands targeted (for households: any member in them).
    pub age_bands: Option<[bool; AGE_BANDS]>,
    /// Only residents at this need level or above (for households: any
    /// member).
    pub need_at_least: Option<NeedLevel>,
    /// Only households with a child under 18 (for residents: those living
    /// in one).
    pub with_children: bool,
    /// Whether a case is a resident or a whole household.
    pub unit: Unit,
    /// Risk-stratified: only the top N (or top share) by risk score.
    pub risk_top_n: Option<u32>,
    /// The top share (above 0, up to 1) of those eligible by risk score, in
    /// place of `risk_top_n`.
    pub risk_top_share: Option<f64>,
}

/// How an intervention's money is delivered.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// Enrol residents or households into support.
    Caseload {
        /// Cases that can be supported at once, by scenario year (last repeats).
        places_by_year: Vec<u32>,
        /// Whom it offers places to.
        targeting: Targeting,
        /// Chance that an offer is taken up (1 when not given).
        engagement: f64,
        /// Chance each month that a case leaves support early.
        dropout_per_month: f64,
        /// Months of support each case gets (1 to 600).
        support_months: u16,
        /// Months from `start_month` over which the effects grow linearly to
        /// full strength (0: full at once; `existing` ones start mature).
        ramp_up_months: u32,
        /// Half-life in months of the effects once support ends (0: they end
        /// with support).
        half_life_months: f64,
        /// What support changes, at full strength.
        effects: Vec<Effect>,
        /// Already running before the horizon starts (active in burn-in, mature).
        existing: bool,
        /// Cases it can hold during burn-in: the first year's unless a
        /// burn-in budget is given, and 0 unless `existing`.
        burn_in_places: u32,
    },
    /// Fund community assets in the targeted neighbourhoods.
    Assets {
        /// Indices of the funded neighbourhoods (all unless the scenario
        /// names some).
        neighbourhoods: Vec<usize>,
        /// Places funded on top of the base places (residents kept
        /// connected), by scenario year (last repeats), shared equally among
        /// the neighbourhoods.
        places_by_year: Vec<f64>,
    },
    /// Add in-house places to an episode service (for example homes bought).
    Places {
        /// Index of the episode service (0-based, among episode services).
        service: usize,
        /// In-house places held, by scenario year (last repeats); never falls.
        places_by_year: Vec<u32>,
        /// Purchase cost of each place added, in pence, counted in the month
        /// it is added (0 if none).
        capital_cost_per_place_pence: i64,
        /// Rent each occupied place earns its payer a month, in pence, and
        /// who pays it (housing benefit): a transfer between payers. An
        /// occupied owned place costs the service nothing; its running costs
        /// are the intervention's spend.
        rent: Option<(Payer, i64)>,
    },
}

/// A programme a scenario funds: who pays, when it starts, what it costs
/// and how it is delivered.
#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    /// Its id, unique in the scenario; it also keys its random-number
    /// stream, so renaming it changes its draws.
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// Who funds it.
    pub payer: Payer,
    /// First month (1-based) of the horizon in which it runs.
    pub start_month: u32,
    /// Revenue spend per month, in pence, by scenario year (last repeats).
    pub monthly_spend_by_year: Vec<i64>,
    /// How the money is delivered.
    pub delivery: Delivery,
}

impl Intervention {
    /// Whether it does anything before month 1. Only a programme already
    /// running does: every other intervention starts in the horizon
    /// (`start_month` is at least 1, and a caseload programme not
    /// `existing` holds no places in burn-in).
    pub fn acts_in_burn_in(&self) -> bool {
        matches!(self.delivery, Delivery::Caseload { existing: true, .. })
    }

    /// Revenue spend in pence in scenario month `month` (1-based); 0 before
    /// `start_month`.
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

/// A period in which a risk factor's prevalence is multiplied, such as a
/// rise in living costs.
#[derive(Clone, Debug, PartialEq)]
pub struct Shock {
    /// Its name for people.
    pub name: String,
    /// First scenario month affected (1-based).
    pub from_month: u32,
    /// Last scenario month affected (inclusive).
    pub to_month: u32,
    /// The risk factor affected.
    pub factor: RiskFactor,
    /// Multiplies the factor's prevalence in every neighbourhood (capped at
    /// 0.95); shocks on the same factor at the same time multiply together.
    pub prevalence_multiplier: f64,
}

/// A period in which a provider fails and an episode service loses a share
/// of its in-house places. Residents already placed stay until they leave;
/// no one new takes a lost place, so entries overflow as the service says
/// (spot purchase or the waiting list) until the places come back.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderFailure {
    /// Its name for people.
    pub name: String,
    /// The episode service affected (index into [`Config::episodes`]).
    pub service: usize,
    /// First scenario month affected (1-based).
    pub from_month: u32,
    /// Last scenario month affected (inclusive).
    pub to_month: u32,
    /// Share of the service's in-house places lost (more than 0, at most
    /// 1); failures at the same time add up, to at most every place.
    pub places_lost: f64,
}

impl ProviderFailure {
    /// Whether the failure acts in scenario month `m` (1-based; burn-in
    /// months are 0 and below).
    pub fn acts_in(&self, m: i64) -> bool {
        (self.from_month as i64..=self.to_month as i64).contains(&m)
    }
}

/// How residents are ranked for risk-stratified offers: points for their
/// need level plus points for each risk factor held.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskScore {
    /// Points by need level (0, 1, 3 and 6 unless the scenario sets them).
    pub need_weights: [u8; NEED_LEVELS],
    /// Points for each risk factor held (1 each unless the scenario sets
    /// them).
    pub factor_weights: [u8; RISK_FACTORS],
}

impl RiskScore {
    /// The score of a resident at need level `need` (0 to 3) holding the
    /// risk factors in `mask` (see [`RiskFactor::bit`]).
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
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The scenario's name; each scenario in a run has its own.
    pub name: String,
    /// Months in the horizon (12 to 360).
    pub months: u32,
    /// Months simulated before the horizon so the population settles; not
    /// recorded (0 to 240).
    pub burn_in_months: u32,
    /// Whether episode services start the burn-in holding about the residents
    /// they would hold at equilibrium (otherwise empty).
    pub warm_start: bool,
    /// The age bands rates and multipliers use.
    pub age_bands: AgeBands,
    /// The population and its turnover.
    pub population: PopulationSpec,
    /// How need moves between levels.
    pub need: NeedSpec,
    /// The risk factors, in [`RiskFactor::ALL`] order.
    pub risks: [RiskSpec; RISK_FACTORS],
    /// Escalation multiplier by the number of other adults in the household in
    /// crisis: none, one, two or more.
    pub household_stress: [f64; 3],
    /// Community assets.
    pub assets: AssetSpec,
    /// Event services, in id order.
    pub events: Vec<EventService>,
    /// Episode services, in id order.
    pub episodes: Vec<EpisodeService>,
    /// Failure demand between services.
    pub handoff: HandoffSpec,
    /// Interventions, in id order.
    pub interventions: Vec<Intervention>,
    /// Shocks, in id order.
    pub shocks: Vec<Shock>,
    /// Provider failures, in id order.
    pub provider_failures: Vec<ProviderFailure>,
    /// The ranking for risk-stratified offers.
    pub risk_score: RiskScore,
    /// Residents each simulated resident stands for: 1 for the place
    /// itself, `k` for the place simulated at a `k`th of its size
    /// ([`Config::standing_for`]), whose every count and pound is then
    /// multiplied by `k`.
    pub stands_for: u32,
}

impl Config {
    /// Whether `self` and `other` run the same burn-in, month for month and
    /// resident for resident, so one burn-in can serve both. They may differ
    /// only in their names and in interventions that do nothing before
    /// month 1 ([`Intervention::acts_in_burn_in`]); every other setting must
    /// be equal, even one the burn-in does not read (a unit cost, a shock in
    /// the horizon), so the rule errs towards running a burn-in twice.
    pub fn shares_burn_in_with(&self, other: &Config) -> bool {
        // Written out field by field so a new setting cannot be left out.
        let Config {
            name: _,
            months,
            burn_in_months,
            warm_start,
            age_bands,
            population,
            need,
            risks,
            household_stress,
            assets,
            events,
            episodes,
            handoff,
            interventions,
            shocks,
            provider_failures,
            risk_score,
            stands_for,
        } = self;
        fn acting(list: &[Intervention]) -> Vec<&Intervention> {
            list.iter().filter(|i| i.acts_in_burn_in()).collect()
        }
        *months == other.months
            && *burn_in_months == other.burn_in_months
            && *warm_start == other.warm_start
            && *age_bands == other.age_bands
            && *population == other.population
            && *need == other.need
            && *risks == other.risks
            && *household_stress == other.household_stress
            && *assets == other.assets
            && *events == other.events
            && *episodes == other.episodes
            && *handoff == other.handoff
            && *shocks == other.shocks
            && *provider_failures == other.provider_failures
            && *risk_score == other.risk_score
            && *stands_for == other.stands_for
            && acting(interventions) == acting(&other.interventions)
    }

    /// Burn-in months that bring a place to equilibrium when a scenario
    /// gives none: with a warm start, 24 months for need, risk factors and
    /// connections to settle, or, if longer, an existing programme's support
    /// and effect half-life plus the longest mean stay, for its effect to
    /// reach the services (the warm start cannot know it); without a warm
    /// start, three times the longest mean stay for services to fill. In
    /// whole years.
    pub fn steady_burn_in(&self) -> u32 {
        let longest_stay = self
            .episodes
            .iter()
            .map(|e| e.duration.mean_months())
            .fold(0.0, f64::max);
        let months = if self.warm_start {
            let programme = self
                .interventions
                .iter()
                .filter_map(|i| match &i.delivery {
                    Delivery::Caseload {
                        existing: true,
                        support_months,
                        half_life_months,
                        ..
                    } => Some(*support_months as f64 + half_life_months + longest_stay),
                    _ => None,
                })
                .fold(0.0, f64::max);
            programme.max(24.0)
        } else {
            (3.0 * longest_stay).max(24.0)
        };
        (months / 12.0).ceil() as u32 * 12
    }

    /// Event and episode services together.
    pub fn services(&self) -> usize {
        self.events.len() + self.episodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_council_pays_for_social_care_childrens_services_and_housing() {
        let council: Vec<Payer> = Payer::ALL.into_iter().filter(|p| p.council()).collect();
        assert_eq!(
            council,
            [
                Payer::AdultSocialCare,
                Payer::ChildrensServices,
                Payer::Housing
            ]
        );
    }
}

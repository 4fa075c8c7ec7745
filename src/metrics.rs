//! What is recorded each month, and its aggregation across replicates.
//!
//! The engine writes integers (counts and pence) into a flat month × metric
//! table, so sums are exact and independent of the order of work. Derived
//! figures (pounds, the quality-of-life index) are computed once a replicate is
//! finished, and aggregation across replicates runs in replicate order, so the
//! output is the same bytes whatever the thread count.

use crate::model::{Config, Delivery, NEED_LEVELS, NeedLevel, Payer, RiskFactor};

/// How a metric adds up over the horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A count at the end of each month (residents, occupancy): the horizon
    /// figure is the monthly average.
    Stock,
    /// Something that happens during a month (events, spend): the horizon
    /// figure is the sum.
    Flow,
}

/// What a reactive service's metric counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceMeasure {
    /// Contacts with an event service.
    Events,
    /// Cost of the month's contacts or occupied places.
    Cost,
    /// Residents or households entering an episode service.
    Entries,
    /// Entries that found the in-house places full and were bought on the
    /// spot market (so spot entries over entries is the blocking probability).
    SpotEntries,
    /// Places occupied at the end of the month, in-house and spot.
    Occupancy,
    /// Spot places occupied at the end of the month.
    SpotPlaces,
    /// Residents or households waiting for a place at the end of the month.
    Waiting,
    /// Part of the month's cost of occupied places (in-house and spot, not
    /// owned homes) that the service's payer recovers from another payer
    /// (housing benefit subsidy). Laid out only for a service that has it.
    Recovered,
}

/// What an intervention's metric counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterventionMeasure {
    /// Revenue spend.
    Spend,
    /// Capital purchases.
    Capital,
    /// Residents newly enrolled.
    PeopleReached,
    /// Cases held at the end of the month.
    Caseload,
    /// Rent the occupied places earn the intervention's payer from another
    /// payer (housing benefit). Laid out only for an intervention that
    /// charges rent.
    Rent,
}

/// What a payer's metric counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayerMeasure {
    /// Reactive services' cost (and handoff) the payer bears.
    ReactiveCost,
    /// Intervention revenue spend the payer funds.
    PreventionSpend,
    /// Capital purchases the payer funds.
    Capital,
}

/// A metric's identity, typed, so code names a metric by what it measures
/// rather than by rebuilding its text. [`Metric::name`] is the one place a
/// metric's name (as the output files print it) is made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Residents at the end of the month.
    Residents,
    /// Residents at a need level.
    Need(NeedLevel),
    /// Residents who entered crisis this month.
    CrisisEntries,
    /// Residents with a risk factor.
    Risk(RiskFactor),
    /// Mean quality-of-life utility weight.
    QolIndex,
    /// Quality-adjusted life years lived this month.
    Qalys,
    /// A reactive service's measure, by the service's id.
    Service(String, ServiceMeasure),
    /// Coordination cost of residents touching several services.
    HandoffCost,
    /// Residents connected to a community asset.
    AssetsConnected,
    /// Community asset places.
    AssetPlaces,
    /// Births this month (turnover runs once a year, so other months are 0).
    Births,
    /// Deaths this month (once a year).
    Deaths,
    /// Residents moving in this month (once a year).
    MovesIn,
    /// Residents moving away this month (once a year).
    MovesOut,
    /// Reactive services' cost and handoff, every payer.
    ReactiveCost,
    /// Intervention revenue spend, every payer.
    PreventionSpend,
    /// Capital purchases, every payer (kept apart from revenue).
    CapitalSpend,
    /// Revenue cost: reactive services, handoff and prevention.
    TotalCost,
    /// An intervention's measure, by the intervention's id.
    Intervention(String, InterventionMeasure),
    /// A payer's measure.
    Payer(Payer, PayerMeasure),
}

impl Metric {
    /// A service's measure.
    pub fn service(id: &str, measure: ServiceMeasure) -> Metric {
        Metric::Service(id.to_string(), measure)
    }

    /// An intervention's measure.
    pub fn intervention(id: &str, measure: InterventionMeasure) -> Metric {
        Metric::Intervention(id.to_string(), measure)
    }

    /// The metric's name in the output files, such as `need.crisis` or
    /// `service.gp_appointment.cost_gbp`.
    pub fn name(&self) -> String {
        use InterventionMeasure as I;
        use ServiceMeasure as S;
        match self {
            Metric::Residents => "residents".into(),
            Metric::Need(l) => format!("need.{}", l.name()),
            Metric::CrisisEntries => "need.crisis_entries".into(),
            Metric::Risk(f) => format!("risk.{}", f.name()),
            Metric::QolIndex => "qol.index".into(),
            Metric::Qalys => "qol.qalys".into(),
            Metric::Service(id, m) => {
                let measure = match m {
                    S::Events => "events",
                    S::Cost => "cost_gbp",
                    S::Entries => "entries",
                    S::SpotEntries => "spot_entries",
                    S::Occupancy => "occupancy",
                    S::SpotPlaces => "spot_places",
                    S::Waiting => "waiting",
                    S::Recovered => "recovered_gbp",
                };
                format!("service.{id}.{measure}")
            }
            Metric::HandoffCost => "handoff.cost_gbp".into(),
            Metric::AssetsConnected => "assets.connected".into(),
            Metric::AssetPlaces => "assets.places".into(),
            Metric::Births => "population.births".into(),
            Metric::Deaths => "population.deaths".into(),
            Metric::MovesIn => "population.moves_in".into(),
            Metric::MovesOut => "population.moves_out".into(),
            Metric::ReactiveCost => "cost.reactive_gbp".into(),
            Metric::PreventionSpend => "cost.prevention_gbp".into(),
            Metric::CapitalSpend => "cost.capital_gbp".into(),
            Metric::TotalCost => "cost.total_gbp".into(),
            Metric::Intervention(id, m) => {
                let measure = match m {
                    I::Spend => "spend_gbp",
                    I::Capital => "capital_gbp",
                    I::PeopleReached => "people_reached",
                    I::Caseload => "caseload",
                    I::Rent => "rent_gbp",
                };
                format!("intervention.{id}.{measure}")
            }
            Metric::Payer(p, m) => {
                let measure = match m {
                    PayerMeasure::ReactiveCost => "reactive_cost_gbp",
                    PayerMeasure::PreventionSpend => "prevention_spend_gbp",
                    PayerMeasure::Capital => "capital_gbp",
                };
                format!("payer.{}.{measure}", p.name())
            }
        }
    }

    /// How the metric adds up over the horizon.
    pub fn kind(&self) -> Kind {
        use ServiceMeasure as S;
        match self {
            Metric::Residents
            | Metric::Need(_)
            | Metric::Risk(_)
            | Metric::QolIndex
            | Metric::AssetsConnected
            | Metric::AssetPlaces
            | Metric::Service(_, S::Occupancy | S::SpotPlaces | S::Waiting)
            | Metric::Intervention(_, InterventionMeasure::Caseload) => Kind::Stock,
            _ => Kind::Flow,
        }
    }

    /// Whether the engine counts it in pence (it is reported in pounds).
    pub fn pence(&self) -> bool {
        matches!(
            self,
            Metric::Service(_, ServiceMeasure::Cost | ServiceMeasure::Recovered)
                | Metric::HandoffCost
                | Metric::ReactiveCost
                | Metric::PreventionSpend
                | Metric::CapitalSpend
                | Metric::TotalCost
                | Metric::Intervention(
                    _,
                    InterventionMeasure::Spend
                        | InterventionMeasure::Capital
                        | InterventionMeasure::Rent
                )
                | Metric::Payer(..)
        )
    }
}

/// A metric of a layout: its identity and, made once, its name.
#[derive(Clone, Debug)]
pub struct MetricDef {
    /// What it measures.
    pub metric: Metric,
    /// Its name in the output files ([`Metric::name`]).
    pub name: String,
    /// How it adds up over the horizon.
    pub kind: Kind,
    /// Stored in pence, reported in pounds.
    pub pence: bool,
}

/// Indices into a month's row of metrics, laid out from a config.
///
/// Each index field is where a metric, or the first of a block of metrics,
/// sits in the row; a block holds one metric per need level, risk factor,
/// service, intervention or payer, in the order of [`NeedLevel::ALL`],
/// [`RiskFactor::ALL`], the config's lists, or [`Payer::ALL`].
#[derive(Clone, Debug)]
pub struct Layout {
    /// Every metric, in row order.
    pub defs: Vec<MetricDef>,
    /// Service and intervention ids in the config's order, to find their
    /// metrics by id.
    event_ids: Vec<String>,
    episode_ids: Vec<String>,
    intervention_ids: Vec<String>,
    /// Residents.
    pub residents: usize,
    /// Residents at each need level (four metrics).
    pub need: usize,
    /// Residents entering crisis.
    pub crisis_entries: usize,
    /// Residents with each risk factor (five metrics).
    pub risk: usize,
    /// Mean quality-of-life utility weight.
    pub qol_index: usize,
    /// Quality-adjusted life years lived.
    pub qalys: usize,
    /// Contacts, one metric per event service.
    pub event_count: usize,
    /// Contacts' cost, one metric per event service.
    pub event_cost: usize,
    /// Entries, one metric per episode service.
    pub episode_entries: usize,
    /// Entries that found the in-house places full and were bought on the
    /// spot market (so spot_entries / entries is the blocking probability).
    pub episode_spot_entries: usize,
    /// Places occupied, in-house and spot, one metric per episode service.
    pub episode_occupancy: usize,
    /// Spot places occupied, one metric per episode service.
    pub episode_spot: usize,
    /// Residents or households waiting, one metric per episode service.
    pub episode_waiting: usize,
    /// Cost of occupied places, one metric per episode service.
    pub episode_cost: usize,
    /// Where each episode service's recovered money is, for the services
    /// that recover some.
    pub episode_recovered: Vec<Option<usize>>,
    /// Handoff (failure demand) cost.
    pub handoff_cost: usize,
    /// Revenue spend, one metric per intervention.
    pub iv_spend: usize,
    /// Capital purchases, one metric per intervention.
    pub iv_capital: usize,
    /// Residents newly enrolled, one metric per intervention.
    pub iv_reached: usize,
    /// Cases held, one metric per intervention.
    pub iv_caseload: usize,
    /// Where each intervention's rent is, for the places interventions
    /// that charge rent.
    pub iv_rent: Vec<Option<usize>>,
    /// Residents connected to a community asset.
    pub connected: usize,
    /// Community asset places.
    pub asset_places: usize,
    /// Births.
    pub births: usize,
    /// Deaths.
    pub deaths: usize,
    /// Residents moving in.
    pub moves_in: usize,
    /// Residents moving away.
    pub moves_out: usize,
    /// Reactive services' and handoff cost, one metric per payer.
    pub payer_reactive: usize,
    /// Intervention revenue spend, one metric per payer.
    pub payer_prevention: usize,
    /// Capital purchases, one metric per payer.
    pub payer_capital: usize,
    /// Reactive services' and handoff cost, every payer.
    pub reactive_cost: usize,
    /// Intervention revenue spend, every payer.
    pub prevention_spend: usize,
    /// Capital purchases, every payer.
    pub capital_spend: usize,
    /// Revenue cost: reactive, handoff and prevention.
    pub total_cost: usize,
}

impl Layout {
    /// Lays out every metric a scenario records, in a fixed order:
    /// population and need, event services, episode services, handoff,
    /// assets, turnover, cost totals, interventions, payers.
    pub fn new(config: &Config) -> Layout {
        use ServiceMeasure as S;
        let event_ids: Vec<String> = config.events.iter().map(|s| s.id.clone()).collect();
        let episode_ids: Vec<String> = config.episodes.iter().map(|s| s.id.clone()).collect();
        let intervention_ids: Vec<String> =
            config.interventions.iter().map(|s| s.id.clone()).collect();
        let services = |ids: &[String], m| {
            ids.iter()
                .map(|id| Metric::service(id, m))
                .collect::<Vec<_>>()
        };
        let interventions = |m| {
            intervention_ids
                .iter()
                .map(|id| Metric::intervention(id, m))
                .collect::<Vec<_>>()
        };
        let payers = |m| Payer::ALL.map(|p| Metric::Payer(p, m)).to_vec();
        let mut defs: Vec<MetricDef> = Vec::new();
        // Adds metrics in order and returns the index of the first.
        let mut add = |metrics: Vec<Metric>| {
            let start = defs.len();
            defs.extend(metrics.into_iter().map(|metric| MetricDef {
                name: metric.name(),
                kind: metric.kind(),
                pence: metric.pence(),
                metric,
            }));
            start
        };
        let residents = add(vec![Metric::Residents]);
        let need = add(NeedLevel::ALL.map(Metric::Need).to_vec());
        let crisis_entries = add(vec![Metric::CrisisEntries]);
        let risk = add(RiskFactor::ALL.map(Metric::Risk).to_vec());
        let qol_index = add(vec![Metric::QolIndex]);
        let qalys = add(vec![Metric::Qalys]);
        let event_count = add(services(&event_ids, S::Events));
        let event_cost = add(services(&event_ids, S::Cost));
        let episode_entries = add(services(&episode_ids, S::Entries));
        let episode_spot_entries = add(services(&episode_ids, S::SpotEntries));
        let episode_occupancy = add(services(&episode_ids, S::Occupancy));
        let episode_spot = add(services(&episode_ids, S::SpotPlaces));
        let episode_waiting = add(services(&episode_ids, S::Waiting));
        let episode_cost = add(services(&episode_ids, S::Cost));
        let episode_recovered = config
            .episodes
            .iter()
            .map(|e| {
                e.recovered
                    .is_some()
                    .then(|| add(vec![Metric::service(&e.id, S::Recovered)]))
            })
            .collect();
        let handoff_cost = add(vec![Metric::HandoffCost]);
        let connected = add(vec![Metric::AssetsConnected]);
        let asset_places = add(vec![Metric::AssetPlaces]);
        let births = add(vec![Metric::Births]);
        let deaths = add(vec![Metric::Deaths]);
        let moves_in = add(vec![Metric::MovesIn]);
        let moves_out = add(vec![Metric::MovesOut]);
        let reactive_cost = add(vec![Metric::ReactiveCost]);
        let prevention_spend = add(vec![Metric::PreventionSpend]);
        let capital_spend = add(vec![Metric::CapitalSpend]);
        let total_cost = add(vec![Metric::TotalCost]);
        let iv_spend = add(interventions(InterventionMeasure::Spend));
        let iv_capital = add(interventions(InterventionMeasure::Capital));
        let iv_reached = add(interventions(InterventionMeasure::PeopleReached));
        let iv_caseload = add(interventions(InterventionMeasure::Caseload));
        let iv_rent = config
            .interventions
            .iter()
            .map(|iv| {
                matches!(iv.delivery, Delivery::Places { rent: Some(_), .. }).then(|| {
                    add(vec![Metric::intervention(
                        &iv.id,
                        InterventionMeasure::Rent,
                    )])
                })
            })
            .collect();
        let payer_reactive = add(payers(PayerMeasure::ReactiveCost));
        let payer_prevention = add(payers(PayerMeasure::PreventionSpend));
        let payer_capital = add(payers(PayerMeasure::Capital));
        Layout {
            defs,
            event_ids,
            episode_ids,
            intervention_ids,
            residents,
            need,
            crisis_entries,
            risk,
            qol_index,
            qalys,
            event_count,
            event_cost,
            episode_entries,
            episode_spot_entries,
            episode_occupancy,
            episode_spot,
            episode_waiting,
            episode_cost,
            episode_recovered,
            handoff_cost,
            iv_spend,
            iv_capital,
            iv_reached,
            iv_caseload,
            iv_rent,
            connected,
            asset_places,
            births,
            deaths,
            moves_in,
            moves_out,
            payer_reactive,
            payer_prevention,
            payer_capital,
            reactive_cost,
            prevention_spend,
            capital_spend,
            total_cost,
        }
    }

    /// Metrics in a month's row.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// Whether the row holds no metrics.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Where `metric` is in a month's row, if this layout has it (a
    /// scenario's own intervention is not in the baseline's layout).
    pub fn find(&self, metric: &Metric) -> Option<usize> {
        use InterventionMeasure as I;
        use ServiceMeasure as S;
        let of = |ids: &[String], id: &str| ids.iter().position(|x| x == id);
        Some(match metric {
            Metric::Residents => self.residents,
            Metric::Need(l) => self.need + *l as usize,
            Metric::CrisisEntries => self.crisis_entries,
            Metric::Risk(f) => self.risk + *f as usize,
            Metric::QolIndex => self.qol_index,
            Metric::Qalys => self.qalys,
            Metric::Service(id, m) => match (of(&self.event_ids, id), m) {
                (Some(s), S::Events) => self.event_count + s,
                (Some(s), S::Cost) => self.event_cost + s,
                (Some(_), _) => return None,
                (None, m) => {
                    let block = match m {
                        S::Events => return None,
                        S::Cost => self.episode_cost,
                        S::Entries => self.episode_entries,
                        S::SpotEntries => self.episode_spot_entries,
                        S::Occupancy => self.episode_occupancy,
                        S::SpotPlaces => self.episode_spot,
                        S::Waiting => self.episode_waiting,
                        S::Recovered => {
                            return self.episode_recovered[of(&self.episode_ids, id)?];
                        }
                    };
                    block + of(&self.episode_ids, id)?
                }
            },
            Metric::HandoffCost => self.handoff_cost,
            Metric::AssetsConnected => self.connected,
            Metric::AssetPlaces => self.asset_places,
            Metric::Births => self.births,
            Metric::Deaths => self.deaths,
            Metric::MovesIn => self.moves_in,
            Metric::MovesOut => self.moves_out,
            Metric::ReactiveCost => self.reactive_cost,
            Metric::PreventionSpend => self.prevention_spend,
            Metric::CapitalSpend => self.capital_spend,
            Metric::TotalCost => self.total_cost,
            Metric::Intervention(id, m) => {
                let block = match m {
                    I::Spend => self.iv_spend,
                    I::Capital => self.iv_capital,
                    I::PeopleReached => self.iv_reached,
                    I::Caseload => self.iv_caseload,
                    I::Rent => return self.iv_rent[of(&self.intervention_ids, id)?],
                };
                block + of(&self.intervention_ids, id)?
            }
            Metric::Payer(p, m) => {
                let block = match m {
                    PayerMeasure::ReactiveCost => self.payer_reactive,
                    PayerMeasure::PreventionSpend => self.payer_prevention,
                    PayerMeasure::Capital => self.payer_capital,
                };
                block + *p as usize
            }
        })
    }
}

/// Totals kept per neighbourhood over the horizon (`by_neighbourhood.csv`),
/// in the engine's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighbourhoodMetric {
    /// Residents counted at the end of each month, summed.
    ResidentMonths,
    /// Resident-months in crisis.
    CrisisMonths,
    /// Resident-months struggling.
    StrugglingMonths,
    /// Contacts with event services.
    ServiceEvents,
    /// Entries into episode services: straight into a place (in-house or
    /// spot) or, later, from a waiting list.
    EpisodeEntries,
    /// Reactive cost, in pence while running and pounds once reported.
    ReactiveCost,
    /// Residents newly enrolled in an intervention.
    PeopleReached,
    /// Residents connected to a community asset at the end of each month,
    /// summed.
    ConnectedMonths,
}

impl NeighbourhoodMetric {
    /// Every neighbourhood metric, in the engine's order.
    pub const ALL: [NeighbourhoodMetric; 8] = [
        NeighbourhoodMetric::ResidentMonths,
        NeighbourhoodMetric::CrisisMonths,
        NeighbourhoodMetric::StrugglingMonths,
        NeighbourhoodMetric::ServiceEvents,
        NeighbourhoodMetric::EpisodeEntries,
        NeighbourhoodMetric::ReactiveCost,
        NeighbourhoodMetric::PeopleReached,
        NeighbourhoodMetric::ConnectedMonths,
    ];
    /// How many there are: the length of a neighbourhood's totals.
    pub const COUNT: usize = Self::ALL.len();

    /// The column's name in `by_neighbourhood.csv`.
    pub fn name(self) -> &'static str {
        [
            "resident_months",
            "crisis_months",
            "struggling_months",
            "service_events",
            "episode_entries",
            "reactive_cost_gbp",
            "people_reached",
            "connected_months",
        ][self as usize]
    }

    /// Whether the engine counts it in pence (it is reported in pounds).
    pub fn pence(self) -> bool {
        self == NeighbourhoodMetric::ReactiveCost
    }
}

/// Fills the derived columns of one finished month (costs by payer and the
/// cost totals) from the raw counts the engine wrote. The quality-of-life
/// columns stay 0 here: [`Series::from_raw`] fills them.
pub(crate) fn derive_month(config: &Config, layout: &Layout, row: &mut [i64]) {
    let mut payer_reactive = [0i64; Payer::ALL.len()];
    let mut payer_prevention = [0i64; Payer::ALL.len()];
    let mut payer_capital = [0i64; Payer::ALL.len()];
    for (s, svc) in config.events.iter().enumerate() {
        payer_reactive[svc.payer as usize] += row[layout.event_cost + s];
    }
    for (e, svc) in config.episodes.iter().enumerate() {
        payer_reactive[svc.payer as usize] += row[layout.episode_cost + e];
    }
    payer_reactive[config.handoff.payer as usize] += row[layout.handoff_cost];
    for (i, iv) in config.interventions.iter().enumerate() {
        payer_prevention[iv.payer as usize] += row[layout.iv_spend + i];
        payer_capital[iv.payer as usize] += row[layout.iv_capital + i];
    }
    for p in 0..Payer::ALL.len() {
        row[layout.payer_reactive + p] = payer_reactive[p];
        row[layout.payer_prevention + p] = payer_prevention[p];
        row[layout.payer_capital + p] = payer_capital[p];
    }
    let reactive: i64 = payer_reactive.iter().sum();
    let prevention: i64 = payer_prevention.iter().sum();
    row[layout.reactive_cost] = reactive;
    row[layout.prevention_spend] = prevention;
    row[layout.capital_spend] = payer_capital.iter().sum();
    // Revenue cost: reactive services, handoff and prevention. Capital is kept
    // apart (the economics layer finances it).
    row[layout.total_cost] = reactive + prevention;
}

/// One replicate's finished series, in reporting units (pounds, not pence).
/// `values[month * n_metrics + metric]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Months of the horizon recorded.
    pub months: usize,
    /// Every month's row, one after another.
    pub values: Vec<f64>,
}

impl Series {
    /// The first `months` months of a replicate's raw integers
    /// (`raw[month * layout.len() + metric]`), with pence turned into
    /// pounds and the quality-of-life metrics filled in. A place simulated
    /// at a fraction of its size has every count and pound multiplied by
    /// the residents each simulated resident stands for, so the series is
    /// the whole place's.
    pub fn from_raw(config: &Config, layout: &Layout, raw: &[i64], months: usize) -> Series {
        let n = layout.len();
        let k = config.stands_for.max(1) as f64;
        let mut values = Vec::with_capacity(raw.len());
        for m in 0..months {
            let row = &raw[m * n..(m + 1) * n];
            for (i, def) in layout.defs.iter().enumerate() {
                values.push(if def.pence {
                    row[i] as f64 / 100.0 * k
                } else {
                    row[i] as f64 * k
                });
            }
            // Quality of life: mean utility weight, and QALYs lived this month.
            let residents = row[layout.residents] as f64;
            let utility: f64 = (0..NEED_LEVELS)
                .map(|l| row[layout.need + l] as f64 * config.need.utility[l])
                .sum();
            let base = m * n;
            values[base + layout.qol_index] = if residents > 0.0 {
                utility / residents
            } else {
                0.0
            };
            values[base + layout.qalys] = utility / 12.0 * k;
        }
        Series { months, values }
    }

    /// The figure of the metric at index `metric` in month `month` (0-based);
    /// `n_metrics` is the layout's length.
    pub fn get(&self, n_metrics: usize, month: usize, metric: usize) -> f64 {
        self.values[month * n_metrics + metric]
    }

    /// The horizon figure: sum of a flow, average of a stock.
    pub fn total(&self, layout: &Layout, metric: usize) -> f64 {
        let n = layout.len();
        let sum: f64 = (0..self.months).map(|m| self.values[m * n + metric]).sum();
        match layout.defs[metric].kind {
            Kind::Flow => sum,
            Kind::Stock => sum / self.months.max(1) as f64,
        }
    }
}

/// Reads a number that JSON wrote as `null` because it was not a number
/// (a band over no replicates) back as NaN.
pub(crate) fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Mean and percentile band across replicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Band {
    /// Mean across replicates (NaN over none).
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean: f64,
    /// 5th percentile.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p5: f64,
    /// Median.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p50: f64,
    /// 95th percentile.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p95: f64,
}

impl Band {
    /// From values in replicate order. Percentiles interpolate linearly between
    /// order statistics (the common "type 7" definition).
    pub fn of(values: &[f64]) -> Band {
        if values.is_empty() {
            return Band {
                mean: f64::NAN,
                p5: f64::NAN,
                p50: f64::NAN,
                p95: f64::NAN,
            };
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Band {
            mean,
            p5: quantile(&sorted, 0.05),
            p50: quantile(&sorted, 0.50),
            p95: quantile(&sorted, 0.95),
        }
    }

    /// The band of the values negated: a cost read as a saving.
    pub fn negated(self) -> Band {
        Band {
            mean: -self.mean,
            p5: -self.p95,
            p50: -self.p50,
            p95: -self.p5,
        }
    }
}

/// The `q` quantile (0 to 1) of values sorted in increasing order,
/// interpolating linearly between order statistics. Panics on an empty
/// slice.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_found_where_its_layout_puts_it_and_named_once() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hubs.toml");
        let config = crate::scenario::load(&path).unwrap().config;
        let layout = Layout::new(&config);
        // Every kind of metric: events, episodes and interventions.
        assert!(!config.events.is_empty() && !config.episodes.is_empty());
        assert!(!config.interventions.is_empty());
        let mut names = std::collections::BTreeSet::new();
        for (k, def) in layout.defs.iter().enumerate() {
            assert_eq!(layout.find(&def.metric), Some(k), "{}", def.name);
            assert!(names.insert(def.name.clone()), "{} twice", def.name);
        }
        // Measures a service of the other kind does not have are not found.
        let event = &config.events[0].id;
        let episode = &config.episodes[0].id;
        assert_eq!(
            layout.find(&Metric::service(event, ServiceMeasure::Occupancy)),
            None
        );
        assert_eq!(
            layout.find(&Metric::service(episode, ServiceMeasure::Events)),
            None
        );
        assert_eq!(
            layout.find(&Metric::service("nowhere", ServiceMeasure::Cost)),
            None
        );
        assert_eq!(
            layout.find(&Metric::intervention("nowhere", InterventionMeasure::Spend)),
            None
        );
    }

    #[test]
    fn band_percentiles_interpolate() {
        let v: Vec<f64> = (0..=100).map(|x| x as f64).collect();
        let b = Band::of(&v);
        assert_eq!(b.mean, 50.0);
        assert_eq!(b.p5, 5.0);
        assert_eq!(b.p50, 50.0);
        assert_eq!(b.p95, 95.0);
        let b = Band::of(&[3.0, 1.0]);
        assert_eq!((b.p5, b.p50, b.p95), (1.1, 2.0, 2.9));
    }
}

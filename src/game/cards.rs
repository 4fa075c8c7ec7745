//! What a team reads about each lever before funding it: what £100k a year
//! buys, whom it reaches and where more money stops buying anything, how
//! soon it acts, how sure the evidence is, and who funds it within what
//! limit. Every figure is read from the game's own scenario at the game's
//! size, so a card and the simulation never disagree.

use super::{Game, Lever};
use crate::economics::Grade;
use crate::model::{Delivery, Targeting, Unit};

/// £ a year a card prices its places at: "what £100k buys".
pub const CARD_POUNDS: f64 = 100_000.0;

/// A lever's card.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    /// The lever.
    pub lever: Lever,
    /// £ a case costs a month, where the scenario states it.
    pub unit_cost_per_month: Option<f64>,
    /// Whether a case is a household or a resident.
    pub unit: Unit,
    /// Cases [`CARD_POUNDS`] a year supports at once.
    pub places: Option<u32>,
    /// Months of support each case gets.
    pub support_months: u16,
    /// Cases its targeting reaches in the game's place at the start: for
    /// a risk-stratified lever, those on its register.
    pub reach: Option<usize>,
    /// Whether it reaches only those at highest risk (a register).
    pub register: bool,
    /// £ a year that gives every case reached a place: beyond it, places
    /// stand empty while the budget is charged in full.
    pub enough: Option<f64>,
    /// Neighbourhoods it works in, of the place's.
    pub neighbourhoods: (usize, usize),
    /// Months over which its effects grow to full strength.
    pub ramp_up_months: u32,
    /// Half-life in months of its effects once support ends (0: they end
    /// with support).
    pub half_life_months: f64,
    /// How sure the evidence for its effects is (the weakest stated).
    pub evidence: Grade,
    /// The most its payer may put in a round, across its levers.
    pub payer_limit: Option<f64>,
}

impl Game {
    /// The levers' cards, in lever order; worked out once (it synthesises
    /// the starting place to count whom each lever reaches).
    pub fn cards(&self) -> &[Card] {
        self.cards.get_or_init(|| self.work_out_cards())
    }

    fn work_out_cards(&self) -> Vec<Card> {
        let config = &self.scenario.config;
        let reach = crate::engine::reach_at_start(config);
        let all = config.population.neighbourhoods.len();
        self.levers()
            .into_iter()
            .map(|lever| {
                let i = config
                    .interventions
                    .iter()
                    .position(|iv| iv.id == lever.id)
                    .expect("a lever is an intervention");
                let unit_cost = self.scenario.assumptions.iter().find_map(|a| {
                    (a.parameter == format!("interventions.{}.unit_cost_per_month", lever.id))
                        .then(|| a.value.replace('_', "").parse::<f64>().ok())
                        .flatten()
                        .filter(|v| *v > 0.0)
                });
                let Delivery::Caseload {
                    targeting,
                    support_months,
                    ramp_up_months,
                    half_life_months,
                    ..
                } = &config.interventions[i].delivery
                else {
                    unreachable!("a lever is a caseload intervention, checked when loaded")
                };
                let reached = if targeting.neighbourhoods.is_empty() {
                    all
                } else {
                    targeting.neighbourhoods.len()
                };
                let evidence = self
                    .scenario
                    .intervention_money
                    .iter()
                    .find(|m| m.id == lever.id)
                    .map_or(Grade::Low, |m| m.effect_grade);
                let payer_limit = self
                    .table()
                    .payer_limits
                    .iter()
                    .find(|(p, _)| *p == lever.payer)
                    .map(|&(_, limit)| limit);
                Card {
                    unit_cost_per_month: unit_cost,
                    unit: targeting.unit,
                    // Whole places, as the scenario buys them.
                    places: unit_cost.map(|u| (CARD_POUNDS / 12.0 / u).floor() as u32),
                    support_months: *support_months,
                    reach: reach[i].map(|r| on_register(targeting, r)),
                    register: targeting.risk_top_n.is_some() || targeting.risk_top_share.is_some(),
                    enough: unit_cost
                        .zip(reach[i])
                        .map(|(u, r)| u * 12.0 * on_register(targeting, r) as f64),
                    neighbourhoods: (reached, all),
                    ramp_up_months: *ramp_up_months,
                    half_life_months: *half_life_months,
                    evidence,
                    payer_limit,
                    lever,
                }
            })
            .collect()
    }
}

/// Of `eligible` cases, those a risk-stratified targeting puts on its
/// register (the top N, or the top share rounded up, as the engine
/// enrols); all of them otherwise.
fn on_register(targeting: &Targeting, eligible: usize) -> usize {
    match (targeting.risk_top_n, targeting.risk_top_share) {
        (Some(n), _) => (n as usize).min(eligible),
        (None, Some(share)) => ((share * eligible as f64).ceil() as usize).min(eligible),
        _ => eligible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Payer;

    #[test]
    fn a_card_prices_a_lever_from_the_games_own_scenario() {
        let game = super::super::small_game();
        let cards = game.cards();
        assert_eq!(cards.len(), 2);
        let [strong, none] = cards else {
            unreachable!()
        };
        assert_eq!(
            (strong.lever.name.as_str(), strong.lever.payer),
            ("Strong help", Payer::Housing)
        );
        // £100k a year at £100 a household a month: 83 whole places.
        assert_eq!(strong.unit_cost_per_month, Some(100.0));
        assert_eq!(strong.places, Some(83));
        assert_eq!((strong.unit, strong.support_months), (Unit::Household, 12));
        // Places for every household it reaches cost their unit cost a
        // year each.
        let reach = strong.reach.expect("a caseload lever reaches someone");
        assert!(reach > 0);
        assert_eq!(strong.enough, Some(100.0 * 12.0 * reach as f64));
        assert_eq!(strong.neighbourhoods.0, strong.neighbourhoods.1);
        assert_eq!((strong.ramp_up_months, strong.half_life_months), (0, 24.0));
        // Its effects' confidence is stated for one effect only: the
        // others count as low.
        assert_eq!(strong.evidence, Grade::Low);
        // Housing may put in £90k a round; the police have no limit.
        assert_eq!(strong.payer_limit, Some(90_000.0));
        assert_eq!((none.lever.payer, none.payer_limit), (Payer::Police, None));
        // A game of another size scales the limit, not the unit cost.
        let bigger = super::super::small_game_sized(12_000);
        let big = bigger.cards();
        assert_eq!(big[0].payer_limit, Some(180_000.0));
        assert_eq!(big[0].places, Some(83));
        assert!(big[0].reach.unwrap() > reach);
        assert!(!strong.register);
    }

    #[test]
    fn a_risk_stratified_lever_reaches_its_register_only() {
        let top = |n: Option<u32>, share: Option<f64>| Targeting {
            risk_top_n: n,
            risk_top_share: share,
            ..Targeting::default()
        };
        assert_eq!(on_register(&top(None, None), 1_000), 1_000);
        assert_eq!(on_register(&top(None, Some(0.02)), 15_420), 309);
        assert_eq!(on_register(&top(Some(250), None), 15_420), 250);
        assert_eq!(on_register(&top(Some(250), None), 100), 100);
        assert_eq!(on_register(&top(None, Some(1.0)), 7), 7);
    }
}

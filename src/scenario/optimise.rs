//! A scenario's `[optimise]` table, checked: the prevention budget
//! `upstream optimise` splits, the interventions it may go to, and the
//! limits on the split; and the scenario at one split.

use serde::Serialize;

use super::compile::checks::cost;
use super::schema::{self, NeighbourhoodsIn};
use super::{Invalid, Loaded, ScenarioError, locate, split_path, typed};
use crate::model::{Config, Delivery, Payer};

/// The step a split moves in when the table gives none: a tenth of the
/// budget.
pub const DEFAULT_STEP: f64 = 0.1;

/// The shares of the budget the frontier is found at when the table gives
/// none.
pub const DEFAULT_FRONTIER: [f64; 4] = [0.25, 0.5, 0.75, 1.0];

/// A budget to split, checked against the scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Budget {
    /// £ a year to split, every year of the horizon.
    pub budget: f64,
    /// The interventions it may go to, in the order the table lists them.
    pub levers: Vec<Lever>,
    /// The split moves in steps of `1 / units` of the amount split.
    pub units: u32,
    /// Shares of the budget the frontier is found at, rising, the last 1.
    pub frontier: Vec<f64>,
    /// The most, £ a year, a payer may put in across the levers.
    pub payer_limits: Vec<(Payer, f64)>,
    /// The least, £ a year, a funded lever must spend in each neighbourhood
    /// it reaches.
    pub minimum_per_neighbourhood: f64,
}

/// One intervention the budget may go to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lever {
    /// Its key under `[interventions]`.
    pub intervention: String,
    /// Its name for people.
    pub name: String,
    /// Who funds it.
    pub payer: Payer,
    /// The neighbourhoods it may reach: its own targeting first, then the
    /// table's `reach` options.
    pub reach: Vec<Reach>,
}

/// Neighbourhoods a lever may reach.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reach {
    /// As the scenario writes it: `most_deprived:2`, `all`, or names.
    pub label: String,
    /// How many neighbourhoods that is in this place.
    pub neighbourhoods: usize,
    #[serde(skip)]
    written: Option<toml::Value>,
    /// Which neighbourhoods, by index, in order.
    #[serde(skip)]
    which: Vec<usize>,
}

impl Reach {
    /// A reach option for tests of the search, written nowhere.
    #[cfg(test)]
    pub(crate) fn new(label: String, neighbourhoods: usize) -> Reach {
        Reach {
            label,
            neighbourhoods,
            written: None,
            which: (0..neighbourhoods).collect(),
        }
    }
}

impl Budget {
    /// The limit on `payer`'s part, if the table sets one.
    pub fn payer_limit(&self, payer: Payer) -> Option<f64> {
        self.payer_limits
            .iter()
            .find(|(p, _)| *p == payer)
            .map(|(_, l)| *l)
    }
}

fn label(n: &NeighbourhoodsIn) -> (String, toml::Value) {
    match n {
        NeighbourhoodsIn::All => ("all".into(), toml::Value::String("all".into())),
        NeighbourhoodsIn::MostDeprived(k) => {
            let t = format!("most_deprived:{k}");
            (t.clone(), toml::Value::String(t))
        }
        NeighbourhoodsIn::LeastDeprived(k) => {
            let t = format!("least_deprived:{k}");
            (t.clone(), toml::Value::String(t))
        }
        NeighbourhoodsIn::Named(names) => (
            names.join(", "),
            toml::Value::Array(names.iter().cloned().map(toml::Value::String).collect()),
        ),
    }
}

/// The neighbourhoods intervention `id` reaches with its targeting written
/// as the value given, or why it cannot.
pub(super) type ReachOf<'a> = dyn Fn(&str, &toml::Value) -> Result<Vec<usize>, String> + 'a;

/// Checks the `[optimise]` table (if any) against the compiled scenario.
/// `reach_count` compiles the scenario with intervention `id` reaching
/// `written` and says how many neighbourhoods that is, or why it cannot.
pub(super) fn budget(
    scenario: &schema::Scenario,
    config: &Config,
    merged: &toml::Table,
    reach_count: &ReachOf<'_>,
) -> Result<Option<Budget>, Invalid> {
    let Some(o) = &scenario.optimise else {
        return Ok(None);
    };
    if cost("optimise.budget", o.budget)? == 0.0 {
        return Err(bad(
            "budget",
            "expected a budget above £0 a year, found 0".into(),
        ));
    }
    if o.levers.is_empty() {
        return Err(bad(
            "levers",
            "expected at least one intervention to split the budget across".into(),
        ));
    }
    let mut levers: Vec<Lever> = Vec::new();
    for (i, id) in o.levers.iter().enumerate() {
        let field = format!("levers[{i}]");
        if levers.iter().any(|l| &l.intervention == id) {
            return Err(bad(&field, format!("`{id}` is listed twice")));
        }
        levers.push(lever(scenario, config, merged, reach_count, &field, id)?);
    }
    if let Some(k) = o.reach.keys().find(|k| !o.levers.contains(k)) {
        return Err(bad(
            &format!("reach.{k}"),
            format!("`{k}` is not one of the levers ({})", o.levers.join(", ")),
        ));
    }
    let units = units(o.step.unwrap_or(DEFAULT_STEP))?;
    let frontier = frontier(o.frontier.clone().unwrap_or(DEFAULT_FRONTIER.to_vec()))?;
    let payer_limits = payer_limits(o, &levers)?;
    let found = Budget {
        budget: o.budget,
        levers,
        units,
        frontier,
        payer_limits,
        minimum_per_neighbourhood: cost(
            "optimise.minimum_per_neighbourhood",
            o.minimum_per_neighbourhood.unwrap_or(0.0),
        )?,
    };
    // The whole budget must be spendable within the payers' limits.
    let mut room = 0.0;
    for p in Payer::ALL {
        if found.levers.iter().any(|l| l.payer == p) {
            room += found
                .payer_limit(p)
                .map_or(found.budget, |l| l.min(found.budget));
        }
    }
    if room < found.budget {
        return Err(bad(
            "payer_limits",
            format!(
                "the payers' limits let the levers spend £{} of the £{} budget; raise a limit or lower the budget",
                crate::format::thousands(room),
                crate::format::thousands(found.budget)
            ),
        ));
    }
    Ok(Some(found))
}

/// A fault in the `[optimise]` table's `field`.
fn bad(field: &str, message: String) -> Invalid {
    Invalid {
        path: format!("optimise.{field}"),
        message,
    }
}

/// The lever for intervention `id`, listed at `field`: a caseload
/// intervention with a budget in £, and its reach options.
fn lever(
    scenario: &schema::Scenario,
    config: &Config,
    merged: &toml::Table,
    reach_count: &ReachOf<'_>,
    field: &str,
    id: &String,
) -> Result<Lever, Invalid> {
    let Some(iv) = config.interventions.iter().find(|iv| &iv.id == id) else {
        let known: Vec<&str> = config.interventions.iter().map(|i| i.id.as_str()).collect();
        let hint = super::nearest(id, &known)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        return Err(bad(
            field,
            format!(
                "`{id}` is not an intervention of this scenario (it has {}){hint}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let Delivery::Caseload { targeting, .. } = &iv.delivery else {
        return Err(bad(
            field,
            format!(
                "`{id}` is not a caseload intervention; a budget is split across caseload interventions, whose annual_budget buys places"
            ),
        ));
    };
    let budget_at = ["interventions", id.as_str(), "annual_budget"].map(String::from);
    if super::uncertain::numbers_at(merged, &budget_at).is_none() {
        return Err(bad(
            field,
            format!(
                "`{id}` has no annual_budget in £ to set (one written per 1,000 residents cannot be split); write it as `annual_budget = [amount]`"
            ),
        ));
    }
    let own = scenario.interventions[id]
        .targeting
        .as_ref()
        .and_then(|t| t.neighbourhoods.clone())
        .unwrap_or(NeighbourhoodsIn::All);
    let mut reach = vec![{
        let (label, _) = label(&own);
        let which = every_or(&targeting.neighbourhoods, config);
        Reach {
            label,
            neighbourhoods: which.len(),
            written: None,
            which,
        }
    }];
    let options = scenario.optimise.as_ref().and_then(|o| o.reach.get(id));
    if let Some(options) = options {
        if !targeting.expansions.is_empty() {
            return Err(bad(
                &format!("reach.{id}"),
                format!(
                    "`{id}` widens its reach by year (`expand`), so the optimiser cannot choose it; remove one or the other"
                ),
            ));
        }
        for (j, n) in options.iter().enumerate() {
            let (text, written) = label(n);
            let which =
                reach_count(id, &written).map_err(|why| bad(&format!("reach.{id}[{j}]"), why))?;
            if let Some(same) = reach.iter().find(|r| r.which == which) {
                return Err(bad(
                    &format!("reach.{id}[{j}]"),
                    format!(
                        "`{text}` reaches the same neighbourhoods as `{}` (a lever's own targeting is always an option)",
                        same.label
                    ),
                ));
            }
            reach.push(Reach {
                label: text,
                neighbourhoods: which.len(),
                written: Some(written),
                which,
            });
        }
    }
    Ok(Lever {
        intervention: id.clone(),
        name: iv.name.clone(),
        payer: iv.payer,
        reach,
    })
}

/// The steps of `step` that make up the whole budget.
fn units(step: f64) -> Result<u32, Invalid> {
    // A whole number of steps from 1 to 100 that make up the whole; a step
    // of 0, below 0 or not a number makes none.
    let units = (1.0 / step).round();
    if !((1.0..=100.0).contains(&units) && (units * step - 1.0).abs() <= 1e-9) {
        return Err(bad(
            "step",
            format!(
                "expected a share of the budget that divides it evenly, from 0.01 to 1 (such as 0.1, 0.2 or 0.25), found {step}"
            ),
        ));
    }
    Ok(units as u32)
}

/// The frontier's shares of the budget, checked: above 0, rising, the
/// last 1.
fn frontier(frontier: Vec<f64>) -> Result<Vec<f64>, Invalid> {
    let rising = frontier.windows(2).all(|w| w[0] < w[1]);
    if frontier.is_empty() || !rising || frontier[0] <= 0.0 || frontier.last() != Some(&1.0) {
        return Err(bad(
            "frontier",
            format!(
                "expected shares of the budget above 0, rising, the last 1 (such as [0.25, 0.5, 0.75, 1]), found {frontier:?}"
            ),
        ));
    }
    Ok(frontier)
}

/// Each payer's limit, checked: a payer by name, an amount in £, and a
/// lever the payer pays for.
fn payer_limits(o: &schema::OptimiseIn, levers: &[Lever]) -> Result<Vec<(Payer, f64)>, Invalid> {
    let mut payer_limits = Vec::new();
    for (name, &limit) in &o.payer_limits {
        let field = format!("payer_limits.{name}");
        let Some(p) = Payer::ALL.into_iter().find(|p| p.name() == name) else {
            let names = Payer::ALL.map(Payer::name);
            let hint = super::nearest(name, &names)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(bad(
                &field,
                format!("`{name}` is not a payer ({}){hint}", names.join(", ")),
            ));
        };
        cost(&format!("optimise.{field}"), limit)?;
        if !levers.iter().any(|l| l.payer == p) {
            return Err(bad(&field, format!("no lever is paid for by {}", p.name())));
        }
        payer_limits.push((p, limit));
    }
    Ok(payer_limits)
}

/// What a split gives one lever: £ a year, and which of its reach options
/// (an index into [`Lever::reach`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Funding {
    /// £ a year; 0 leaves the lever out.
    pub amount: f64,
    /// Which reach option.
    pub reach: usize,
}

impl Loaded {
    /// The scenario with its `[optimise]` levers funded as `funding` says
    /// (in the table's lever order), named `name`: a lever given £0 is
    /// left out, as if the scenario did not have it, so its grades and
    /// uncertain parameters play no part.
    pub fn with_funding(&self, name: &str, funding: &[Funding]) -> Result<Loaded, ScenarioError> {
        let budget = self
            .optimise
            .as_ref()
            .expect("with_funding is for a scenario with an [optimise] table");
        let mut merged = self.recipe.merged.clone();
        let mut left_out = Vec::new();
        let interventions = merged
            .get_mut("interventions")
            .and_then(|v| v.as_table_mut())
            .expect("a lever is an intervention");
        for (lever, f) in budget.levers.iter().zip(funding) {
            let id = lever.intervention.as_str();
            if f.amount <= 0.0 {
                interventions.remove(id);
                left_out.push(format!("interventions.{id}."));
                continue;
            }
            let table = interventions
                .get_mut(id)
                .and_then(|v| v.as_table_mut())
                .expect("a lever is an intervention");
            let path = ["annual_budget".to_string()];
            let years = super::uncertain::numbers_at(table, &path)
                .expect("checked when loaded")
                .len();
            super::uncertain::set_numbers(table, &path, &vec![f.amount.round(); years])
                .expect("checked when loaded");
            if let Some(written) = &lever.reach[f.reach].written {
                let targeting = table
                    .entry("targeting")
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let Some(t) = targeting.as_table_mut() {
                    t.insert("neighbourhoods".into(), written.clone());
                }
            }
        }
        self.rebuilt(name, merged, &left_out)
    }

    /// The scenario with its `[optimise]` levers given `by_year[i]` (£ a
    /// year by scenario year, the last repeating; the table's lever order).
    /// Unlike [`Loaded::with_funding`], a lever at £0 is kept, so the
    /// scenario has the same interventions whatever the amounts: the
    /// learning simulation resumes one year's state under the next year's
    /// amounts.
    pub fn with_lever_budgets(
        &self,
        name: &str,
        by_year: &[Vec<f64>],
    ) -> Result<Loaded, ScenarioError> {
        let budget = self
            .optimise
            .as_ref()
            .expect("with_lever_budgets is for a scenario with an [optimise] table");
        assert_eq!(by_year.len(), budget.levers.len(), "one list per lever");
        let mut merged = self.recipe.merged.clone();
        for (lever, years) in budget.levers.iter().zip(by_year) {
            let path = [
                "interventions",
                lever.intervention.as_str(),
                "annual_budget",
            ]
            .map(String::from);
            super::uncertain::replace_numbers(&mut merged, &path, years)
                .expect("a lever's annual_budget was checked when loaded");
        }
        self.rebuilt(name, merged, &[])
    }

    /// The scenario rebuilt from `merged`, named `name`, its levers' budgets
    /// set by the caller and not drawn, and the uncertain parameters of the
    /// interventions under `left_out` (`interventions.{id}.`) dropped.
    fn rebuilt(
        &self,
        name: &str,
        merged: toml::Table,
        left_out: &[String],
    ) -> Result<Loaded, ScenarioError> {
        let budget = self.optimise.as_ref().expect("levers come from [optimise]");
        let scenario = typed(&merged, &self.files)?;
        let (mut built, _) = super::build(&scenario, &self.files, self.recipe.starting.clone())?;
        built.config.burn_in_months = self.recipe.burn_in_months;
        built.config.name = name.to_string();
        let mut at = self.clone();
        at.config = built.config;
        at.intervention_money = built.intervention_money;
        // A lever's budget is the caller's to set, not a draw's.
        let budgets: Vec<String> = budget
            .levers
            .iter()
            .map(|l| format!("interventions.{}.annual_budget", l.intervention))
            .collect();
        at.uncertainty.parameters.retain(|u| {
            !left_out.iter().any(|p| u.parameter.starts_with(p.as_str()))
                && !budgets.contains(&u.parameter)
        });
        at.recipe.merged = merged;
        Ok(at)
    }
}

/// A targeting's neighbourhoods by index, in order: every one when it
/// names none.
fn every_or(named: &[usize], config: &Config) -> Vec<usize> {
    let mut which = if named.is_empty() {
        (0..config.population.neighbourhoods.len()).collect()
    } else {
        named.to_vec()
    };
    which.sort_unstable();
    which.dedup();
    which
}

/// The neighbourhoods (by index, in order) intervention `id` reaches in
/// `merged` with its targeting set to `written`, by compiling it.
pub(super) fn count_reach(
    merged: &toml::Table,
    files: &[super::SourceFile],
    starting: Option<Vec<crate::model::StartingHousehold>>,
    id: &str,
    written: &toml::Value,
) -> Result<Vec<usize>, String> {
    let mut m = merged.clone();
    let table = m
        .get_mut("interventions")
        .and_then(|v| v.get_mut(id))
        .and_then(|v| v.as_table_mut())
        .ok_or_else(|| format!("`{id}` is not an intervention"))?;
    let targeting = table
        .entry("targeting")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(t) = targeting.as_table_mut() {
        t.insert("neighbourhoods".into(), written.clone());
    }
    let scenario = typed(&m, files).map_err(|e| e.message)?;
    let (built, _) = super::build(&scenario, files, starting).map_err(|e| e.message)?;
    let iv = built
        .config
        .interventions
        .iter()
        .find(|iv| iv.id == id)
        .expect("the intervention compiled");
    Ok(match &iv.delivery {
        Delivery::Caseload { targeting, .. } => every_or(&targeting.neighbourhoods, &built.config),
        _ => every_or(&[], &built.config),
    })
}

/// Locates an [`Invalid`] from the `[optimise]` table in the files.
pub(super) fn located(files: &[super::SourceFile], inv: Invalid) -> ScenarioError {
    locate(files, &split_path(&inv.path), inv.message)
}

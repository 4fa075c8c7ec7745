//! Every refusal, generated from the schema. A scenario that sets every field
//! the schema accepts (tests/fixtures/every_field.toml, on the bundled
//! baseline) is changed in one place at a time: a misspelt field in each of
//! its tables, and each of its numbers just outside its declared range or not
//! finite, both where it is set and in each table of its kind that leaves it
//! out; and each of its texts, and each name it chooses for a service or
//! the like, just longer than its declared limit or holding a control
//! character. Each change must be refused
//! in one line naming the file, the line and the field; each number at the
//! edge of its range, and each free text at its limit, must be accepted.
//!
//! Nothing here lists the schema's fields. The refusals of misspelt fields
//! list what each table accepts, and every such field must appear in the
//! complete scenario; every number in it must have a range below. So a field
//! added to the schema fails here until it is set in the fixture and, if it
//! is a number, its range is declared and enforced.
//!
//! The fixture and what it extends are merged and written out as one file
//! (keeping its `extends`), so that every field is set in the file the errors
//! must name. Only loading is timed, never a run.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use toml::{Table, Value};
use upstream::scenario::{self, Overrides, ScenarioError};

/// Tables whose keys are names the scenario chooses (ids), not fields: a new
/// key is a new entry, so there is nothing to misspell.
const FREE_NAMES: [&str; 6] = [
    "events",
    "episodes",
    "interventions",
    "shocks",
    "provider_failures",
    "economics.pools",
];

/// Tables whose keys must name a service, an intervention or a payer: a
/// misspelt name is refused, though not as an unknown field.
const CHECKED_NAMES: [&str; 5] = [
    "economics.inflation",
    "economics.cashable",
    "economics.budgets",
    "optimise.payer_limits",
    "optimise.reach",
];

// Declared ranges, read from src/scenario/compile and src/scenario/money.rs.

/// Whole numbers are probed with whole numbers, so that a refusal is the
/// range check's and not the type's.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Num {
    Whole,
    Real,
}

#[derive(Clone, Copy, Debug)]
enum Bound {
    /// No bound on this side (beyond the type's, for whole numbers).
    Open,
    /// The bound itself is allowed.
    Incl(f64),
    /// Only values strictly beyond the bound are allowed.
    Excl(f64),
    /// A multiple of a field beside it in the same table, allowed.
    Sibling(&'static str, f64),
}
use Bound::{Excl, Incl, Open, Sibling};

#[derive(Clone, Copy, Debug)]
struct Range {
    num: Num,
    lo: Bound,
    hi: Bound,
    /// Why the edges of the range cannot be reached without changing
    /// another field too; they are then not probed from inside.
    coupled: Option<&'static str>,
}

impl Range {
    const fn real(lo: Bound, hi: Bound) -> Range {
        Range {
            num: Num::Real,
            lo,
            hi,
            coupled: None,
        }
    }
    const fn whole(lo: Bound, hi: Bound) -> Range {
        Range {
            num: Num::Whole,
            lo,
            hi,
            coupled: None,
        }
    }
    const fn coupled(self, why: &'static str) -> Range {
        Range {
            coupled: Some(why),
            ..self
        }
    }

    /// As an interval: `[0, 1]`, `(0, 100 × mean_months]`, `[1, ∞)`.
    fn shown(&self) -> String {
        let x = |b: Bound| match b {
            Open => "∞".to_string(),
            Incl(x) | Excl(x) => x.to_string(),
            Sibling(name, 1.0) => name.to_string(),
            Sibling(name, t) => format!("{t} × {name}"),
        };
        let closed = |b: Bound| matches!(b, Incl(_) | Sibling(..));
        let l = if closed(self.lo) { "[" } else { "(" };
        let r = if closed(self.hi) { "]" } else { ")" };
        let lo = match self.lo {
            Open => "-∞".to_string(),
            b => x(b),
        };
        format!("{l}{lo}, {}{r}", x(self.hi))
    }
}

// The shared checks of compile/checks.rs and money.rs.
const PROBABILITY: Range = Range::real(Incl(0.0), Incl(1.0));
const HAZARD: Range = Range::real(Incl(0.0), Incl(50.0));
const MULTIPLIER: Range = Range::real(Incl(0.0), Incl(1000.0));
const COST: Range = Range::real(Incl(0.0), Incl(1e12));
const NON_NEGATIVE: Range = Range::real(Incl(0.0), Open);
const PLACES: Range = Range::whole(Incl(0.0), Incl(10_000_000.0));
const PREVALENCE: Range = Range::real(Incl(0.0), Incl(0.95));
const RATE: Range = Range::real(Incl(0.0), Excl(1.0));
const INFLATION: Range = Range::real(Incl(-0.5), Excl(1.0));
const U32: f64 = u32::MAX as f64;

/// Each number's range by its field's dotted path; `*` stands for any one
/// name, and list items share their list's range.
const RANGES: &[(&str, Range)] = &[
    ("horizon_years", Range::whole(Incl(1.0), Incl(30.0))),
    ("burn_in_months", Range::whole(Incl(0.0), Incl(240.0))),
    (
        "population.residents",
        Range::whole(Incl(1.0), Incl(50_000_000.0)).coupled("the starting state fixes the count"),
    ),
    (
        "population.neighbourhoods",
        Range::whole(Incl(1.0), Incl(1000.0))
            .coupled("the deciles and names are one per neighbourhood"),
    ),
    (
        "population.deprivation_deciles",
        Range::whole(Incl(1.0), Incl(10.0)),
    ),
    (
        "population.neighbourhood_residents",
        Range::whole(Incl(0.0), Incl(50_000_000.0))
            .coupled("they add up to `residents` and match the starting state"),
    ),
    (
        "population.age_band_cuts",
        Range::whole(Incl(1.0), Incl(110.0)).coupled("the cuts increase"),
    ),
    ("population.household_size_shares", NON_NEGATIVE),
    (
        "population.reference_age_edges",
        Range::whole(Incl(18.0), Incl(111.0)).coupled("the edges increase"),
    ),
    ("population.reference_age_shares", NON_NEGATIVE),
    ("population.partner_share", PROBABILITY),
    (
        "population.max_parent_age",
        Range::whole(Incl(18.0), Incl(255.0)),
    ),
    (
        "population.trend.age_bands",
        Range::whole(Incl(0.0), Incl(110.0)).coupled("the bands start at 0 and increase"),
    ),
    (
        "population.trend.years",
        Range::real(Excl(0.0), Open).coupled(
            "each row starts with its year, and each band stays within three times its first count",
        ),
    ),
    ("population.mortality_per_year", PROBABILITY),
    ("population.mortality_need_multiplier", MULTIPLIER),
    ("population.move_out_per_year", PROBABILITY),
    ("need.escalation_per_month", HAZARD),
    ("need.recovery_per_month", HAZARD),
    ("need.age_escalation_multiplier", MULTIPLIER),
    ("need.utility", Range::real(Incl(-1.0), Incl(1.0))),
    ("risk_factors.*.prevalence_most_deprived", PREVALENCE),
    ("risk_factors.*.prevalence_least_deprived", PREVALENCE),
    ("risk_factors.*.escalation_multiplier", MULTIPLIER),
    ("risk_factors.*.recovery_multiplier", MULTIPLIER),
    (
        "risk_factors.*.persistence_months",
        Range::real(Incl(1.0), Open),
    ),
    ("household.crisis_stress_multiplier", MULTIPLIER),
    ("assets.base_places_per_1000", NON_NEGATIVE),
    ("assets.connect_per_month", HAZARD),
    ("assets.isolated_uptake_multiplier", MULTIPLIER),
    ("assets.disconnect_per_month", PROBABILITY),
    ("assets.escalation_multiplier", MULTIPLIER),
    ("assets.growth_per_month", PROBABILITY),
    ("assets.decline_per_month", PROBABILITY),
    ("events.*.unit_cost", COST),
    ("events.*.rate_per_month", HAZARD),
    ("events.*.age_multiplier", MULTIPLIER),
    ("events.*.risk_multiplier.*", MULTIPLIER),
    ("episodes.*.entry_per_month", HAZARD),
    ("episodes.*.household_multiplier", MULTIPLIER),
    ("episodes.*.risk_multiplier.*", MULTIPLIER),
    (
        "episodes.*.duration.mean_months",
        Range::real(Incl(1.0), Incl(1200.0)),
    ),
    (
        "episodes.*.duration.sd_months",
        Range::real(Excl(0.0), Sibling("mean_months", 100.0)),
    ),
    (
        "episodes.*.weekly_cost",
        COST.coupled("`recovered_per_week` is at most it"),
    ),
    ("episodes.*.capacity", PLACES),
    (
        "episodes.*.spot_premium",
        Range::real(Incl(1.0), Incl(1000.0)),
    ),
    (
        "episodes.*.recovered_per_week",
        Range::real(Incl(0.0), Sibling("weekly_cost", 1.0)),
    ),
    ("handoff.window_months", Range::whole(Incl(1.0), Incl(U32))),
    ("handoff.cost_per_extra_service", COST),
    ("handoff.integration", PROBABILITY),
    (
        "interventions.*.start_month",
        Range::whole(Incl(1.0), Incl(360.0)),
    ),
    ("interventions.*.annual_budget", COST),
    ("interventions.*.caseload", PLACES),
    (
        "interventions.*.unit_cost_per_month",
        Range::real(Excl(0.0), Incl(1e12)),
    ),
    (
        "interventions.*.cost_per_place_per_year",
        Range::real(Incl(1.0), Incl(1e12)),
    ),
    ("interventions.*.burn_in_budget", COST),
    ("interventions.*.engagement", PROBABILITY),
    ("interventions.*.dropout_per_month", PROBABILITY),
    (
        "interventions.*.support_months",
        Range::whole(Incl(1.0), Incl(600.0)),
    ),
    (
        "interventions.*.ramp_up_months",
        Range::whole(Incl(0.0), Incl(U32)),
    ),
    ("interventions.*.effect_half_life_months", NON_NEGATIVE),
    ("interventions.*.effects.multiplier", MULTIPLIER),
    (
        "interventions.*.targeting.risk_top_n",
        Range::whole(Incl(1.0), Incl(U32)),
    ),
    (
        "interventions.*.targeting.risk_top_share",
        Range::real(Excl(0.0), Incl(1.0)),
    ),
    (
        "interventions.*.expand.from_year",
        Range::whole(Incl(1.0), Incl(30.0)),
    ),
    (
        "interventions.*.places",
        PLACES.coupled("places held only grow from year to year"),
    ),
    ("interventions.*.capital_cost_per_place", COST),
    ("interventions.*.financing.rate", RATE),
    (
        "interventions.*.financing.years",
        Range::whole(Incl(1.0), Incl(100.0)),
    ),
    ("interventions.*.residual_value_share", PROBABILITY),
    ("interventions.*.land_share", PROBABILITY),
    ("interventions.*.running_cost_per_place_week", COST),
    ("interventions.*.rent_per_week", COST),
    (
        "shocks.*.from_month",
        Range::whole(Incl(1.0), Incl(360.0)).coupled("`to_month` is at or after it"),
    ),
    (
        "shocks.*.to_month",
        Range::whole(Sibling("from_month", 1.0), Incl(360.0)),
    ),
    ("shocks.*.prevalence_multiplier", MULTIPLIER),
    (
        "provider_failures.*.from_month",
        Range::whole(Incl(1.0), Incl(360.0)).coupled("`to_month` is at or after it"),
    ),
    (
        "provider_failures.*.to_month",
        Range::whole(Sibling("from_month", 1.0), Incl(360.0)),
    ),
    (
        "provider_failures.*.places_lost",
        Range::real(Excl(0.0), Incl(1.0)),
    ),
    (
        "risk_score.need_weights",
        Range::whole(Incl(0.0), Incl(100.0)),
    ),
    (
        "risk_score.factor_weights",
        Range::whole(Incl(0.0), Incl(100.0)),
    ),
    (
        "economics.financial_year_start_month",
        Range::whole(Incl(1.0), Incl(12.0)),
    ),
    ("economics.discount_rate", RATE),
    ("economics.health_discount_rate", RATE),
    ("economics.general_inflation", INFLATION),
    ("economics.inflation.*", INFLATION),
    (
        "economics.optimism_bias.cost_uplift.*",
        Range::real(Incl(0.0), Incl(5.0)),
    ),
    (
        "economics.optimism_bias.savings_haircut.*",
        Range::real(Incl(0.0), Incl(1.0)),
    ),
    ("economics.cashable.*", PROBABILITY),
    ("uncertainty.default_width.*", PROBABILITY),
    (
        "uncertainty.correlations.rank",
        Range::real(Incl(-1.0), Incl(1.0)),
    ),
    (
        "interventions.*.engagement.range",
        PROBABILITY.coupled("a range's low end is at most its value and its high end at least"),
    ),
    ("economics.budgets.*.envelope", COST),
    ("economics.budgets.*.savings_target", COST),
    (
        "optimise.budget",
        Range::real(Excl(0.0), Incl(1e12))
            .coupled("the payers' limits must let the levers spend it"),
    ),
    (
        "optimise.step",
        Range::real(Incl(0.01), Incl(1.0)).coupled("it must divide the budget into whole steps"),
    ),
    (
        "optimise.frontier",
        Range::real(Excl(0.0), Incl(1.0)).coupled("the shares rise and the last is 1"),
    ),
    (
        "optimise.payer_limits.*",
        COST.coupled("the limits must let the levers spend the budget"),
    ),
    ("optimise.minimum_per_neighbourhood", COST),
];

// Declared limits on text, read from src/scenario/text.rs: by the key the
// text is written under, and a name's limit for every other text.

/// Keys whose text may be longer than a name's.
const LONG_TEXT: [&str; 4] = ["description", "source", "extends", "starting_state"];
const NAME_LIMIT: usize = 200;
const LONG_LIMIT: usize = 2_000;
/// Texts that nothing else refers to, so any text up to the limit will do.
const FREE_TEXT: [&str; 3] = ["name", "description", "source"];

fn range_of(pattern: &str) -> Option<Range> {
    let matches = |declared: &str| {
        let (d, p): (Vec<&str>, Vec<&str>) =
            (declared.split('.').collect(), pattern.split('.').collect());
        d.len() == p.len() && d.iter().zip(&p).all(|(d, p)| d == p || *d == "*")
    };
    RANGES
        .iter()
        .find(|(declared, _)| matches(declared))
        .map(|(_, r)| *r)
}

// The complete scenario as a tree, and the places in it to change.

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    At(usize),
}

/// As the scenario's errors write paths: `interventions.hubs.effects[1].multiplier`.
fn dotted(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => s.push_str(&format!(".{k}")),
            Seg::At(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn joined(pattern: &str, name: &str) -> String {
    if pattern.is_empty() {
        name.to_string()
    } else {
        format!("{pattern}.{name}")
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()).expect("the path was walked"),
        Seg::At(i) => v.get_mut(*i).expect("the path was walked"),
    })
}

fn at<'a>(v: &'a Value, path: &[Seg]) -> &'a Value {
    path.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => &v[k.as_str()],
        Seg::At(i) => &v[*i],
    })
}

/// `{ value = …, source = …, confidence = … }`: a number with its evidence
/// (a size may give `per_1000_…` in place of `value`).
fn is_evidence(t: &Table) -> bool {
    t.keys().any(|k| is_value_key(k))
}

fn is_value_key(k: &str) -> bool {
    k == "value" || k.starts_with("per_1000_")
}

struct TableSite {
    /// Where it is in the tree.
    at: Vec<Seg>,
    /// The field it is, as errors name it.
    field: Vec<Seg>,
    /// Its field with names as `*`: every event's table is one kind.
    pattern: String,
    evidence: bool,
}

struct Leaf {
    at: Vec<Seg>,
    /// As errors name it: the `value` of a number with evidence is the number.
    field: Vec<Seg>,
    pattern: String,
    /// The table the field is in, for ranges relative to a field beside it.
    holder: Vec<Seg>,
}

#[derive(Default)]
struct Sites {
    tables: Vec<TableSite>,
    /// Numbers.
    leaves: Vec<Leaf>,
    /// Text.
    texts: Vec<Leaf>,
}

impl Sites {
    fn walk(&mut self, v: &Value, at: Vec<Seg>, field: Vec<Seg>, pattern: &str, holder: &[Seg]) {
        match v {
            Value::Table(t) => {
                let evidence = is_evidence(t);
                let names = FREE_NAMES.contains(&pattern) || CHECKED_NAMES.contains(&pattern);
                self.tables.push(TableSite {
                    at: at.clone(),
                    field: field.clone(),
                    pattern: pattern.to_string(),
                    evidence,
                });
                let holder = if evidence {
                    holder.to_vec()
                } else {
                    at.clone()
                };
                for (k, child) in t {
                    let key = |p: &[Seg]| [p, &[Seg::Key(k.clone())]].concat();
                    if evidence && is_value_key(k) {
                        self.walk(child, key(&at), field.clone(), pattern, &holder);
                    } else {
                        let name = if names { "*" } else { k.as_str() };
                        self.walk(
                            child,
                            key(&at),
                            key(&field),
                            &joined(pattern, name),
                            &holder,
                        );
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let item = |p: &[Seg]| [p, &[Seg::At(i)]].concat();
                    self.walk(child, item(&at), item(&field), pattern, holder);
                }
            }
            Value::Integer(_) | Value::Float(_) => self.leaves.push(Leaf {
                at,
                field,
                pattern: pattern.to_string(),
                holder: holder.to_vec(),
            }),
            Value::String(_) => self.texts.push(Leaf {
                at,
                field,
                pattern: pattern.to_string(),
                holder: holder.to_vec(),
            }),
            _ => {}
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Table(t) => t.get("value").and_then(number),
        _ => None,
    }
}

/// A slip of the fingers: the last two letters swapped.
fn misspelt(key: &str, taken: &Table) -> String {
    let mut c: Vec<char> = key.chars().collect();
    let n = c.len();
    if n >= 2 {
        c.swap(n - 2, n - 1);
    }
    let s: String = c.into_iter().collect();
    if s != key && !taken.contains_key(&s) {
        s
    } else {
        format!("{key}x")
    }
}

/// The names in backquotes after "expected" in a refusal of an unknown field.
fn expected_names(message: &str) -> Vec<String> {
    let Some((_, list)) = message
        .split_once("the fields here are")
        .or_else(|| message.split_once("expected"))
    else {
        return Vec::new();
    };
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Tables merge key by key, anything else is replaced: as `extends` merges.
fn merge(base: &mut Table, over: Table) {
    // A value given in any form replaces the form the base gave.
    if over.keys().any(|k| is_value_key(k)) {
        base.retain(|k, _| !is_value_key(k));
    }
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

struct Probe {
    /// Where the complete scenario is read from; what it extends is read from
    /// disk beside it.
    file: PathBuf,
    complete: Value,
    loads: usize,
}

impl Probe {
    fn new() -> Probe {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/every_field.toml");
        // The fixture merged with what it extends, keeping its `extends`: one
        // text that sets every field itself, so errors name it.
        let mut chain = Vec::new();
        let mut next = Some(file.clone());
        while let Some(p) = next.take() {
            let t: Table = toml::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
            next = t
                .get("extends")
                .and_then(Value::as_str)
                .map(|e| p.parent().unwrap().join(e));
            chain.push(t);
        }
        let mut complete = Table::new();
        for t in chain.into_iter().rev() {
            merge(&mut complete, t);
        }
        Probe {
            file,
            complete: Value::Table(complete),
            loads: 0,
        }
    }

    /// Loads the complete scenario with one change; returns its text too.
    fn load(&mut self, change: impl FnOnce(&mut Value)) -> (String, Result<(), ScenarioError>) {
        let mut tree = self.complete.clone();
        change(&mut tree);
        let text = toml::to_string(tree.as_table().unwrap()).expect("a table is TOML");
        let read = |p: &Path| {
            if p == self.file {
                Ok(text.clone())
            } else {
                fs::read_to_string(p)
            }
        };
        let result = scenario::load_from(&self.file, &Overrides::default(), &read).map(|_| ());
        self.loads += 1;
        (text, result)
    }

    /// Whether a refusal is one line naming this file, one of `fields`, and
    /// a line that says `key`.
    fn names_the_place(
        &self,
        text: &str,
        e: &ScenarioError,
        fields: &[String],
        key: &str,
    ) -> Result<(), String> {
        let shown = e.to_string();
        if shown.contains('\n') || shown.trim().is_empty() {
            return Err(format!("an unclear error: {shown:?}"));
        }
        if e.file != self.file {
            return Err(format!("the error names another file: {shown}"));
        }
        if !e.field.as_ref().is_some_and(|f| fields.contains(f)) {
            return Err(format!("the error does not name `{}`: {shown}", fields[0]));
        }
        let line = e.line.and_then(|l| text.lines().nth(l - 1));
        if !line.is_some_and(|l| l.contains(key)) {
            return Err(format!(
                "the error's line is not where `{key}` is written ({line:?}): {shown}"
            ));
        }
        Ok(())
    }
}

#[test]
fn the_complete_scenario_loads() {
    let mut probe = Probe::new();
    if let Err(e) = scenario::load(&probe.file) {
        panic!("tests/fixtures/every_field.toml is refused: {e}");
    }
    let (text, result) = probe.load(|_| {});
    if let Err(e) = result {
        panic!("the complete scenario is refused: {e}\n{text}");
    }
}

#[test]
fn every_misspelt_field_is_refused_and_every_field_is_in_the_complete_scenario() {
    let mut probe = Probe::new();
    let mut sites = Sites::default();
    sites.walk(&probe.complete, Vec::new(), Vec::new(), "", &[]);
    let mut fails = Vec::new();
    // What each kind of table accepts, and the fields set in any of its
    // instances; numbers with evidence are all one kind.
    let mut accepted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut present: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for site in &sites.tables {
        if FREE_NAMES.contains(&site.pattern.as_str()) {
            continue;
        }
        let table = at(&probe.complete, &site.at).as_table().unwrap();
        let checked = CHECKED_NAMES.contains(&site.pattern.as_str());
        let kind = if site.evidence {
            "{ value = …, source = …, confidence = … }".to_string()
        } else if site.pattern.is_empty() {
            "the top level".to_string()
        } else {
            site.pattern.clone()
        };
        present
            .entry(kind.clone())
            .or_default()
            .extend(table.keys().cloned());
        // Misspell a field holding a plain value where there is one, keeping
        // its value: if the misspelling were ignored, the scenario would load.
        let original = table
            .iter()
            .find(|(_, v)| !v.is_table())
            .or_else(|| table.iter().next())
            .map(|(k, _)| k.clone())
            .expect("no empty tables");
        let typo = misspelt(&original, table);
        let copy = table[&original].clone();
        let (text, result) = probe.load(|tree| {
            let t = at_mut(tree, &site.at).as_table_mut().unwrap();
            t.insert(typo.clone(), copy);
        });
        let place = dotted(&site.field);
        let Err(e) = result else {
            fails.push(format!(
                "`{typo}` (for `{original}`) in `{place}` was accepted: a misspelt field is silently ignored"
            ));
            continue;
        };
        // A number with evidence names itself, and the misspelt key in words.
        let (field, key) = if site.evidence {
            let own = match site.field.last() {
                Some(Seg::Key(k)) => k.clone(),
                _ => place.clone(),
            };
            (place.clone(), own)
        } else {
            let with = [site.field.clone(), vec![Seg::Key(typo.clone())]].concat();
            (dotted(&with), typo.clone())
        };
        if let Err(why) = probe.names_the_place(&text, &e, std::slice::from_ref(&field), &key) {
            fails.push(format!("misspelt `{typo}` in `{place}`: {why}"));
            continue;
        }
        if checked {
            continue;
        }
        if !e.message.contains(&format!("unknown field `{typo}`")) {
            fails.push(format!(
                "misspelt `{typo}` in `{place}` is not refused as an unknown field: {e}"
            ));
            continue;
        }
        let names = accepted.entry(kind).or_default();
        names.extend(expected_names(&e.message));
        if site.evidence {
            names.insert("value".into());
        }
    }
    // The refusals must keep listing what a table accepts, or this check
    // would pass by seeing nothing.
    let top = accepted.get("the top level").map_or(0, |n| n.len());
    assert!(
        top > 15,
        "only {top} top-level fields read from the refusals"
    );
    for (kind, names) in &accepted {
        for name in names.difference(&present[kind]) {
            fails.push(format!(
                "field `{name}` of table `{kind}` is not covered by the complete scenario: add it to tests/fixtures/every_field.toml"
            ));
        }
    }
    eprintln!("{} tables given a misspelt field", probe.loads);
    report(&fails);
}

/// The values just outside a range (to be refused) and at its edges, or just
/// inside an open edge (to be accepted): a step of one for whole numbers, one
/// part in a million for the rest. `sibling` reads a field beside the number.
fn edges(range: Range, sibling: impl Fn(&str) -> f64) -> (Vec<f64>, Vec<f64>) {
    let step = |x: f64| match range.num {
        Num::Whole => 1.0,
        Num::Real => 1e-6 * x.abs().max(1.0),
    };
    let (mut outside, mut inside) = (Vec::new(), Vec::new());
    for (bound, dir) in [(range.lo, -1.0), (range.hi, 1.0)] {
        let (x, allowed) = match bound {
            Open => continue,
            Incl(x) => (x, true),
            Excl(x) => (x, false),
            Sibling(name, times) => (sibling(name) * times, true),
        };
        if allowed {
            outside.push(x + dir * step(x));
            inside.push(x);
        } else {
            outside.push(x);
            inside.push(x - dir * step(x));
        }
    }
    (outside, inside)
}

fn literal(range: Range, x: f64) -> Value {
    match range.num {
        Num::Whole => Value::Integer(x as i64),
        Num::Real => Value::Float(x),
    }
}

/// The fields an error about a number may name (itself, or the list it is an
/// item of), and the key written on the number's line.
fn blamed(leaf: &Leaf) -> (Vec<String>, String) {
    let list = leaf
        .field
        .iter()
        .rposition(|s| matches!(s, Seg::Key(_)))
        .expect("every number is in a table");
    let Seg::Key(key) = &leaf.field[list] else {
        unreachable!()
    };
    (
        vec![dotted(&leaf.field), dotted(&leaf.field[..=list])],
        key.clone(),
    )
}

#[test]
fn every_number_out_of_range_is_refused() {
    let mut probe = Probe::new();
    let mut sites = Sites::default();
    sites.walk(&probe.complete, Vec::new(), Vec::new(), "", &[]);
    let mut fails = Vec::new();
    for leaf in &sites.leaves {
        let field = dotted(&leaf.field);
        let Some(range) = range_of(&leaf.pattern) else {
            fails.push(format!(
                "field `{}` ({field}) has no declared range: declare it in RANGES in tests/refusals.rs",
                leaf.pattern
            ));
            continue;
        };
        let (fields, key) = blamed(leaf);
        let holder = at(&probe.complete, &leaf.holder);
        let (outside, inside) = edges(range, |name| {
            number(&holder[name]).unwrap_or_else(|| panic!("`{name}` beside `{field}`"))
        });
        // A refusal for the value's type will not do for a number of the
        // field's own kind: only its range may refuse that.
        let mut probes: Vec<(Value, bool)> = outside
            .iter()
            .map(|&x| (literal(range, x), false))
            .collect();
        probes.extend(
            [f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
                .map(|x| (Value::Float(x), range.num == Num::Whole)),
        );
        for (v, type_may_refuse) in probes {
            let shown = v.to_string();
            let (text, result) = probe.load(|tree| *at_mut(tree, &leaf.at) = v);
            match result {
                Ok(()) => fails.push(format!(
                    "`{field} = {shown}` was accepted; its declared range is {}",
                    range.shown()
                )),
                Err(e) => {
                    if let Err(why) = probe.names_the_place(&text, &e, &fields, &key) {
                        fails.push(format!("`{field} = {shown}`: {why}"));
                    } else if !type_may_refuse && refused_for_its_type(&e.message) {
                        fails.push(format!(
                            "`{field} = {shown}` is refused for its type, not its range: is it declared {:?} by mistake? {e}",
                            range.num
                        ));
                    }
                }
            }
        }
        // A whole number's declaration is checked too: a fraction is refused
        // for its type.
        if range.num == Num::Whole {
            let x = inside.first().copied().unwrap_or(0.0) + 0.5;
            let (_, result) = probe.load(|tree| *at_mut(tree, &leaf.at) = Value::Float(x));
            if !result.is_err_and(|e| refused_for_its_type(&e.message)) {
                fails.push(format!(
                    "`{field} = {x}` is not refused as a fraction: is it declared whole by mistake?"
                ));
            }
        }
        // The edges are accepted, so the declared range is the one enforced,
        // not a wider one.
        if range.coupled.is_some() {
            continue;
        }
        for x in inside {
            let v = literal(range, x);
            let shown = v.to_string();
            let (_, result) = probe.load(|tree| *at_mut(tree, &leaf.at) = v);
            if let Err(e) = result {
                fails.push(format!(
                    "`{field} = {shown}` is in its declared range {} but refused: {e}",
                    range.shown()
                ));
            }
        }
    }
    eprintln!(
        "{} numbers probed in {} loads",
        sites.leaves.len(),
        probe.loads
    );
    report(&fails);
}

/// A field that one table of a kind sets and another leaves out is written
/// into the other too, out of range: a number must be refused wherever the
/// schema lets it be written, not only where it is used.
#[test]
fn every_number_out_of_range_is_refused_wherever_it_may_be_written() {
    let mut probe = Probe::new();
    let mut sites = Sites::default();
    sites.walk(&probe.complete, Vec::new(), Vec::new(), "", &[]);
    let of_fields = |t: &&TableSite| {
        !t.evidence
            && !FREE_NAMES.contains(&t.pattern.as_str())
            && !CHECKED_NAMES.contains(&t.pattern.as_str())
    };
    let tables: Vec<&TableSite> = sites.tables.iter().filter(of_fields).collect();
    let mut fails = Vec::new();
    let mut done = BTreeSet::new();
    for leaf in &sites.leaves {
        let Some(range) = range_of(&leaf.pattern) else {
            continue; // reported by every_number_out_of_range_is_refused
        };
        let holder = at(&probe.complete, &leaf.holder);
        let (outside, _) = edges(range, |name| number(&holder[name]).unwrap());
        let bad = outside
            .first()
            .map_or(Value::Float(f64::NAN), |&x| literal(range, x));
        // Each table the number is in, and the key leading to it there.
        for (depth, seg) in leaf.at.iter().enumerate() {
            let Seg::Key(key) = seg else { continue };
            let Some(own) = tables.iter().find(|t| t.at == leaf.at[..depth]) else {
                continue;
            };
            let below = &leaf.at[depth + 1..];
            // One list item stands for the rest.
            if below.iter().any(|s| matches!(s, Seg::At(i) if *i > 0)) {
                continue;
            }
            for other in tables.iter().filter(|t| t.pattern == own.pattern) {
                let table = at(&probe.complete, &other.at).as_table().unwrap();
                if table.contains_key(key)
                    || !done.insert((dotted(&other.at), key.clone(), dotted(below)))
                {
                    continue;
                }
                let mut written = at(&probe.complete, &leaf.at[..=depth]).clone();
                *at_mut(&mut written, below) = bad.clone();
                let place = dotted(&[other.field.clone(), vec![Seg::Key(key.clone())]].concat());
                let shown = format!("{place} = {written}");
                let (_, result) = probe.load(|tree| {
                    let t = at_mut(tree, &other.at).as_table_mut().unwrap();
                    t.insert(key.clone(), written);
                });
                match result {
                    Ok(()) => fails.push(format!(
                        "`{shown}` was accepted: `{}` is out of its range {}, unchecked where it is not used",
                        leaf.pattern,
                        range.shown()
                    )),
                    Err(e) => {
                        // A rule between two fields names one, the other in words.
                        let named = e.field.as_ref().is_some_and(|f| {
                            f == &place
                                || f.starts_with(&format!("{place}."))
                                || f.starts_with(&format!("{place}["))
                        }) || e.message.contains(&format!("`{key}`"));
                        if e.file != probe.file || e.line.is_none() || !named {
                            fails.push(format!("`{shown}`: the error does not name it: {e}"));
                        }
                    }
                }
            }
        }
    }
    eprintln!("{} numbers written where left out", probe.loads);
    report(&fails);
}

/// A limit as the errors write it: "2,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A text one character beyond its limit must be refused as too long, where
/// it is written; a free text at its limit must be accepted. So must a name
/// the scenario chooses (an intervention's id, say), written as a key.
#[test]
fn every_text_too_long_is_refused() {
    let mut probe = Probe::new();
    let mut sites = Sites::default();
    sites.walk(&probe.complete, Vec::new(), Vec::new(), "", &[]);
    let mut fails = Vec::new();
    for leaf in &sites.texts {
        let field = dotted(&leaf.field);
        let (fields, key) = blamed(leaf);
        let limit = if LONG_TEXT.contains(&key.as_str()) {
            LONG_LIMIT
        } else {
            NAME_LIMIT
        };
        let said = format!("at most {} characters", thousands(limit));
        let (text, result) = probe.load(|tree| {
            *at_mut(tree, &leaf.at) = Value::String("x".repeat(limit + 1));
        });
        match result {
            Ok(()) => fails.push(format!(
                "`{field}` of {} characters was accepted; its limit is {limit}",
                limit + 1
            )),
            Err(e) => {
                if let Err(why) = probe.names_the_place(&text, &e, &fields, &key) {
                    fails.push(format!("`{field}` too long: {why}"));
                } else if !e.message.contains(&said) || !e.message.contains("may be up to") {
                    // The limit found, and the rule that sets it.
                    fails.push(format!("`{field}` too long is not refused as such: {e}"));
                }
            }
        }
        if FREE_TEXT.contains(&key.as_str()) {
            let (_, result) = probe.load(|tree| {
                *at_mut(tree, &leaf.at) = Value::String("x".repeat(limit));
            });
            if let Err(e) = result {
                fails.push(format!("`{field}` of {limit} characters is refused: {e}"));
            }
        }
    }
    let long = "k".repeat(NAME_LIMIT + 1);
    let mut keys = 0;
    for site in &sites.tables {
        if !FREE_NAMES.contains(&site.pattern.as_str())
            && !CHECKED_NAMES.contains(&site.pattern.as_str())
        {
            continue;
        }
        keys += 1;
        let place = dotted(&site.field);
        let (text, result) = probe.load(|tree| {
            let t = at_mut(tree, &site.at).as_table_mut().unwrap();
            let first = t.keys().next().unwrap().clone();
            let v = t.remove(&first).unwrap();
            t.insert(long.clone(), v);
        });
        match result {
            Ok(()) => fails.push(format!(
                "a name of 201 characters in `{place}` was accepted"
            )),
            Err(e) => {
                if let Err(why) =
                    probe.names_the_place(&text, &e, std::slice::from_ref(&place), &long)
                {
                    fails.push(format!("a name too long in `{place}`: {why}"));
                } else if !e.message.contains("at most 200 characters") || e.message.contains(&long)
                {
                    fails.push(format!(
                        "a name too long in `{place}` is not refused as such, in brief: {e}"
                    ));
                }
            }
        }
    }
    eprintln!(
        "{} texts and the names of {keys} tables probed in {} loads",
        sites.texts.len(),
        probe.loads
    );
    report(&fails);
}

/// A control character (NUL, escape) in any text, or in a name the scenario
/// chooses, must be refused where it is written; a line break or a tab only
/// outside a description or source. In a description or source they are
/// accepted.
#[test]
fn every_text_with_a_control_character_is_refused() {
    let mut probe = Probe::new();
    let mut sites = Sites::default();
    sites.walk(&probe.complete, Vec::new(), Vec::new(), "", &[]);
    let mut fails = Vec::new();
    for leaf in &sites.texts {
        let field = dotted(&leaf.field);
        let (fields, key) = blamed(leaf);
        let prose = matches!(key.as_str(), "description" | "source");
        let original = at(&probe.complete, &leaf.at).as_str().unwrap().to_string();
        let mut probes = vec![
            ("\0", "U+0000"),
            ("\u{1b}[2J", "U+001B"),
            ("\u{7f}", "U+007F"),
        ];
        if !prose {
            probes.extend([("\n", "U+000A"), ("\t", "U+0009")]);
        }
        for (inserted, said) in probes {
            let changed = format!("{original}{inserted}more");
            let (text, result) =
                probe.load(|tree| *at_mut(tree, &leaf.at) = Value::String(changed));
            let shown = inserted.escape_debug();
            match result {
                Ok(()) => fails.push(format!("`{field}` holding \"{shown}\" was accepted")),
                Err(e) => {
                    if let Err(why) = probe.names_the_place(&text, &e, &fields, &key) {
                        fails.push(format!("`{field}` holding \"{shown}\": {why}"));
                    } else if !e.message.contains("control characters") || !e.message.contains(said)
                    {
                        fails.push(format!(
                            "`{field}` holding \"{shown}\" is not refused for it: {e}"
                        ));
                    }
                }
            }
        }
        if prose {
            let changed = format!("{original}\n\tmore,\r\non lines of their own");
            let (_, result) = probe.load(|tree| *at_mut(tree, &leaf.at) = Value::String(changed));
            if let Err(e) = result {
                fails.push(format!("`{field}` over several lines is refused: {e}"));
            }
        }
    }
    let mut keys = 0;
    for site in &sites.tables {
        if !FREE_NAMES.contains(&site.pattern.as_str())
            && !CHECKED_NAMES.contains(&site.pattern.as_str())
        {
            continue;
        }
        keys += 1;
        let place = dotted(&site.field);
        let (text, result) = probe.load(|tree| {
            let t = at_mut(tree, &site.at).as_table_mut().unwrap();
            let first = t.keys().next().unwrap().clone();
            let v = t.remove(&first).unwrap();
            t.insert(format!("bad\0{first}"), v);
        });
        match result {
            Ok(()) => fails.push(format!("a name holding NUL in `{place}` was accepted")),
            Err(e) => {
                if let Err(why) =
                    probe.names_the_place(&text, &e, std::slice::from_ref(&place), "bad")
                {
                    fails.push(format!("a name holding NUL in `{place}`: {why}"));
                } else if !e.message.contains("U+0000") || e.message.contains('\0') {
                    fails.push(format!(
                        "a name holding NUL in `{place}` is not refused for it, or is printed: {e:?}"
                    ));
                }
            }
        }
    }
    eprintln!(
        "{} texts and the names of {keys} tables probed in {} loads",
        sites.texts.len(),
        probe.loads
    );
    report(&fails);
}

fn report(fails: &[String]) {
    let s = if fails.len() == 1 { "" } else { "s" };
    assert!(
        fails.is_empty(),
        "{} problem{s}:\n{}",
        fails.len(),
        fails.join("\n")
    );
}

/// Whether a message refuses a value for its type (a fraction where a whole
/// number belongs, text where a number does), in the words errors now use.
fn refused_for_its_type(message: &str) -> bool {
    message.contains(", found the number") || message.contains(", found the text")
}

//! The commissioner's workbench as data, for `upstream serve`'s second
//! door: a place from the bundled places table and a policy designed on a
//! form, written as the scenario files the command line runs
//! (`upstream run place.toml policy.toml`). A run made in the browser runs
//! those same files, so it gives the same bytes as the command line.
//!
//! The interventions a policy can take are those of the library's policy
//! scenarios, each as its scenario writes it: its effects, evidence grades,
//! sources, unit cost and payer kept, with only its size by year, its
//! neighbourhoods and its need level set on the form.

use std::path::Path;

use crate::place::{self, Activity, NeighbourhoodRow, PlaceError};
use crate::region::PlaceRow;
use crate::scenario::{FileSet, Loaded, Overrides, ScenarioError};

/// The baseline every workbench place extends, as the library names it.
pub const BASELINE_FILE: &str = "baseline.toml";
/// The place's scenario: the comparison's baseline.
pub const PLACE_FILE: &str = "place.toml";
/// The policy's scenario, extending the place.
pub const POLICY_FILE: &str = "policy.toml";
/// The places table a place is chosen from, within the library.
pub const PLACES_TABLE: &str = "places/england.csv";
/// The most interventions one policy may take.
pub const MAX_CHOSEN: usize = 12;
/// The age groups a programme may be aimed at, by their scenario names, in
/// the order of the baseline's age bands.
pub const AGE_GROUPS: [&str; crate::model::AGE_BANDS] =
    ["children", "working_age", "older", "oldest"];

/// Why a design cannot be written or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// A field of the design is refused before any file is written.
    #[error("{field}: {text}")]
    Field {
        /// The field, as the form names it.
        field: String,
        /// What was expected.
        text: String,
    },
    /// A written scenario does not load: the command line's own words.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The place could not be set up.
    #[error(transparent)]
    Place(#[from] PlaceError),
    /// The places table.
    #[error(transparent)]
    Region(#[from] crate::region::Error),
}

fn field(field: impl Into<String>, text: impl Into<String>) -> DesignError {
    DesignError::Field {
        field: field.into(),
        text: text.into(),
    }
}

/// How an intervention is sized, by the key its scenario writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizing {
    /// `annual_budget`: £ a year.
    Budget,
    /// `caseload`: people supported at a time.
    Caseload,
    /// `places`: places (homes, beds) held.
    Places,
}

impl Sizing {
    /// The key a scenario writes.
    pub fn key(self) -> &'static str {
        match self {
            Sizing::Budget => "annual_budget",
            Sizing::Caseload => "caseload",
            Sizing::Places => "places",
        }
    }

    /// What each figure is, for a refusal: "an amount in £".
    pub fn figure(self) -> &'static str {
        match self {
            Sizing::Budget => "an amount in £",
            Sizing::Caseload => "a number of people",
            Sizing::Places => "a number of places",
        }
    }

    /// What a figure of this size is, for a form's label.
    pub fn unit(self) -> &'static str {
        match self {
            Sizing::Budget => "£ a year",
            Sizing::Caseload => "people supported at a time",
            Sizing::Places => "places held",
        }
    }
}

/// A stated figure: its value as written, with its source and grade.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stated {
    /// The value, as the scenario writes it.
    pub value: String,
    /// Where it comes from.
    pub source: Option<String>,
    /// How sure: high, medium or low.
    pub confidence: Option<String>,
}

/// An intervention a policy can take from the library.
#[derive(Clone, Debug)]
pub struct Offered {
    /// Its id (`hubs`).
    pub id: String,
    /// The library file it comes from.
    pub file: String,
    /// Its name.
    pub name: String,
    /// What its scenario says it is.
    pub description: String,
    /// Its kind (caseload, assets, places).
    pub kind: String,
    /// Who pays for it.
    pub payer: String,
    /// How it is sized.
    pub sizing: Sizing,
    /// Its size by year, as its scenario writes it (the last year's
    /// carried on).
    pub size: Vec<f64>,
    /// Where its size comes from.
    pub size_stated: Stated,
    /// The most deprived neighbourhoods it reaches, when its scenario
    /// writes it so.
    pub most_deprived: Option<u32>,
    /// The lowest need level it takes, when its scenario says.
    pub need_at_least: Option<String>,
    /// The age groups it is aimed at ([`AGE_GROUPS`]'s names), when its
    /// scenario aims it at some.
    pub ages: Option<Vec<String>>,
    /// Its unit cost, where its scenario states one.
    pub unit_cost: Option<(String, Stated)>,
    /// Each effect, in words, with its source and grade.
    pub effects: Vec<(String, Stated)>,
    /// Its scenario's table, written again with the form's settings.
    table: toml::Table,
}

impl Offered {
    /// The weakest grade among its effects (how sure its benefit is).
    pub fn grade(&self) -> &str {
        const ORDER: [&str; 3] = ["low", "medium", "high"];
        self.effects
            .iter()
            .filter_map(|(_, s)| s.confidence.as_deref())
            .min_by_key(|c| ORDER.iter().position(|o| o == c).unwrap_or(0))
            .unwrap_or("not graded")
    }
}

/// The interventions offered, and the files every design is written
/// beside.
#[derive(Clone, Debug)]
pub struct Library {
    /// The interventions, in the order of their files.
    pub offered: Vec<Offered>,
    /// The places a place can be chosen from, in the table's order.
    pub places: Vec<PlaceRow>,
    baseline: String,
    baseline_config: crate::model::Config,
}

/// A number from a TOML value (integer or float).
fn number(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

/// A stated value: a plain value, or `{ value = …, source, confidence }`.
fn stated(v: &toml::Value) -> Stated {
    match v.as_table().filter(|t| t.contains_key("value")) {
        Some(t) => Stated {
            value: t["value"].to_string(),
            source: t.get("source").and_then(|s| s.as_str()).map(str::to_string),
            confidence: t
                .get("confidence")
                .and_then(|s| s.as_str())
                .map(str::to_string),
        },
        None => Stated {
            value: v.to_string(),
            ..Stated::default()
        },
    }
}

/// The value inside a stated value.
fn inner(v: &toml::Value) -> &toml::Value {
    v.as_table().and_then(|t| t.get("value")).unwrap_or(v)
}

/// An effect in words: "episode_entry (childrens_placement) × 0.5".
fn effect_words(e: &toml::Table) -> String {
    let on = e.get("on").and_then(|v| v.as_str()).unwrap_or("?");
    let of = e
        .get("service")
        .or_else(|| e.get("factor"))
        .and_then(|v| v.as_str())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let by = e
        .get("multiplier")
        .map(|m| format!(" × {}", inner(m)))
        .unwrap_or_default();
    format!("{}{of}{by}", on.replace('_', " "))
}

const UNIT_COSTS: [&str; 4] = [
    "unit_cost_per_month",
    "cost_per_place_per_year",
    "capital_cost_per_place",
    "running_cost_per_place_week",
];

/// The intervention `id` of file `file` as offered, if the workbench can
/// size it.
fn offered(id: &str, file: &str, description: &str, table: &toml::Table) -> Option<Offered> {
    let sizing = [Sizing::Budget, Sizing::Caseload, Sizing::Places]
        .into_iter()
        .find(|s| table.contains_key(s.key()))?;
    let size_value = &table[sizing.key()];
    let size: Vec<f64> = match inner(size_value) {
        toml::Value::Array(a) => a.iter().filter_map(number).collect(),
        v => number(v).into_iter().collect(),
    };
    if size.is_empty() {
        // Written per 1,000 residents: not a figure to set by year.
        return None;
    }
    let text = |k: &str| {
        table
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let targeting = table.get("targeting").and_then(|t| t.as_table());
    let most_deprived = targeting
        .and_then(|t| t.get("neighbourhoods"))
        .and_then(|v| v.as_str())
        .and_then(|s| s.strip_prefix("most_deprived:"))
        .and_then(|n| n.parse().ok());
    let need_at_least = targeting
        .and_then(|t| t.get("need_at_least"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let ages = targeting
        .and_then(|t| t.get("age_bands"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        });
    let unit_cost = UNIT_COSTS
        .iter()
        .find_map(|k| table.get(*k).map(|v| (k.replace('_', " "), stated(v))));
    let effects = table
        .get("effects")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_table())
        .map(|e| {
            let s = Stated {
                source: e.get("source").and_then(|v| v.as_str()).map(str::to_string),
                confidence: e
                    .get("confidence")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                value: String::new(),
            };
            (effect_words(e), s)
        })
        .collect();
    Some(Offered {
        id: id.to_string(),
        file: file.to_string(),
        name: text("name"),
        description: description.to_string(),
        kind: text("kind"),
        payer: text("payer"),
        sizing,
        size,
        size_stated: stated(size_value),
        most_deprived,
        need_at_least,
        ages,
        unit_cost,
        effects,
        table: table.clone(),
    })
}

/// The keys a library scenario may hold for its interventions to be
/// offered alone: anything else (an `[optimise]` table, a changed service)
/// would be lost if one intervention were taken without it.
const POLICY_ONLY: [&str; 4] = ["name", "description", "extends", "interventions"];

impl Library {
    /// The library from the scenario files in `files`: every intervention
    /// of a policy scenario that extends [`BASELINE_FILE`] directly and
    /// changes nothing else, each checked to load over the baseline alone
    /// (an id offered by two files is offered once, from the first), and
    /// the places of [`PLACES_TABLE`].
    pub fn new(files: &FileSet) -> Result<Library, DesignError> {
        let baseline = files
            .iter()
            .find(|(n, _)| *n == BASELINE_FILE)
            .map(|(_, t)| t.to_string())
            .ok_or_else(|| field("scenarios", format!("the library has no {BASELINE_FILE}")))?;
        let baseline_config = files.load(BASELINE_FILE, &Overrides::default())?.config;
        let read = |p: &Path| files.read(p);
        let places = crate::region::read_places(Path::new(PLACES_TABLE), &read)?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let mut library = Library {
            offered: Vec::new(),
            places,
            baseline,
            baseline_config,
        };
        for (name, text) in files.iter() {
            if !name.ends_with(".toml") || name.contains('/') || name == BASELINE_FILE {
                continue;
            }
            let Ok(table) = text.parse::<toml::Table>() else {
                continue;
            };
            let extends_baseline =
                table.get("extends").and_then(|v| v.as_str()) == Some(BASELINE_FILE);
            if !extends_baseline || table.keys().any(|k| !POLICY_ONLY.contains(&k.as_str())) {
                continue;
            }
            let description = table
                .get("description")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let interventions = table.get("interventions").and_then(|v| v.as_table());
            for (id, t) in interventions.into_iter().flatten() {
                let Some(o) = t.as_table().and_then(|t| offered(id, name, description, t)) else {
                    continue;
                };
                if library.offered.iter().any(|x| x.id == o.id) {
                    continue;
                }
                let alone = Design {
                    name: o.name.clone(),
                    chosen: vec![Chosen::as_offered(&o)],
                    ..Design::default()
                };
                let mut set = FileSet::new();
                set.insert(BASELINE_FILE, library.baseline.clone())
                    .expect("a plain name");
                set.insert(PLACE_FILE, format!("extends = \"{BASELINE_FILE}\"\n"))
                    .expect("a plain name");
                if let Ok(text) = alone.policy_text(&library.offered_with(&o))
                    && set.insert(POLICY_FILE, text).is_ok()
                    && set.load(POLICY_FILE, &Overrides::default()).is_ok()
                {
                    library.offered.push(o);
                }
            }
        }
        Ok(library)
    }

    /// The library's offer with `o` added (for checking it alone).
    fn offered_with(&self, o: &Offered) -> Vec<Offered> {
        let mut all = self.offered.clone();
        all.push(o.clone());
        all
    }

    /// The place called `name`, if the table lists it.
    pub fn place(&self, name: &str) -> Option<&PlaceRow> {
        self.places.iter().find(|p| p.name == name)
    }

    /// The age group `i`'s ages, as the baseline cuts them ("18-64").
    pub fn ages_of(&self, i: usize) -> String {
        self.baseline_config.age_bands.label(i)
    }

    /// The intervention `id`, if offered.
    pub fn intervention(&self, id: &str) -> Option<&Offered> {
        self.offered.iter().find(|o| o.id == id)
    }

    /// The scenario files of `design` for the place `row`: the baseline,
    /// the place (laid out as `upstream new-place --place` lays it out,
    /// over the design's horizon) and the policy. Each is loaded before it
    /// is returned, with its warnings, so a design that does not load is
    /// refused in the command line's own words. Also what was set from the
    /// place's own figures, one line each, as `upstream new-place` says it.
    pub fn files(
        &self,
        place: &Place,
        design: &Design,
    ) -> Result<(FileSet, Vec<Loaded>, Vec<String>), DesignError> {
        let mut set = FileSet::new();
        set.insert(BASELINE_FILE, self.baseline.clone())
            .expect("a plain name");
        let figures = match place {
            Place::Table(row) => {
                crate::region::figures(row, &self.baseline_config, design.own.clone())
            }
            Place::Own {
                name,
                neighbourhoods,
            } => place::PlaceFigures {
                name: name.clone(),
                neighbourhoods: neighbourhoods.clone(),
                activity: design.own.clone(),
                horizon_years: None,
            },
        };
        let figures = place::PlaceFigures {
            horizon_years: design.years,
            ..figures
        };
        let (place_text, notes) = place::place_scenario(
            &figures,
            Path::new(BASELINE_FILE),
            Path::new(PLACE_FILE),
            &|p: &Path| set.read(p),
        )?;
        set.insert(PLACE_FILE, place_text).expect("a plain name");
        set.insert(POLICY_FILE, design.policy_text(&self.offered)?)
            .expect("a plain name");
        let read = |p: &Path| set.read(p);
        let loaded = [PLACE_FILE, POLICY_FILE]
            .iter()
            .map(|f| crate::app::load_through(Path::new(f), &Overrides::default(), &read))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((set, loaded, notes))
    }
}

/// The place a design is for: a row of the places table, or a place of
/// the user's own neighbourhoods (as `upstream new-place
/// --neighbourhoods` takes them).
#[derive(Clone, Debug)]
pub enum Place {
    /// A place of the bundled table.
    Table(PlaceRow),
    /// A place of its own neighbourhoods.
    Own {
        /// Its name.
        name: String,
        /// Its neighbourhoods.
        neighbourhoods: Vec<NeighbourhoodRow>,
    },
}

impl Place {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Place::Table(row) => &row.name,
            Place::Own { name, .. } => name,
        }
    }

    /// Its residents.
    pub fn residents(&self) -> u64 {
        match self {
            Place::Table(row) => row.residents as u64,
            Place::Own { neighbourhoods, .. } => {
                neighbourhoods.iter().map(|n| n.residents as u64).sum()
            }
        }
    }
}

/// An intervention as the form sets it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Chosen {
    /// The offered intervention's id.
    pub id: String,
    /// Its size by year (the last carried on), in its sizing's unit.
    pub size: Vec<f64>,
    /// The most deprived neighbourhoods it reaches; `None` keeps its
    /// scenario's targeting, 0 reaches every neighbourhood.
    pub most_deprived: Option<u32>,
    /// The lowest need level it takes; `None` keeps its scenario's.
    pub need_at_least: Option<String>,
    /// The age groups it is aimed at ([`AGE_GROUPS`]'s names; all four
    /// aim it at every age); `None` keeps its scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ages: Option<Vec<String>>,
    /// Who pays for it (a payer's id, `housing`); `None` keeps its
    /// scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
}

impl Chosen {
    /// The intervention as its scenario writes it.
    pub fn as_offered(o: &Offered) -> Chosen {
        Chosen {
            id: o.id.clone(),
            size: o.size.clone(),
            most_deprived: None,
            need_at_least: None,
            ages: None,
            payer: None,
        }
    }
}

/// A policy designed on the form.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Design {
    /// The policy's name.
    pub name: String,
    /// The horizon in years; `None` keeps the baseline's.
    pub years: Option<u32>,
    /// The interventions it takes.
    pub chosen: Vec<Chosen>,
    /// The place's own figures for last year, where given: the place's
    /// rates are scaled so its residents expect them, as `upstream
    /// new-place` scales them.
    #[serde(default)]
    pub own: Activity,
    /// The place's own neighbourhoods table (CSV), for a place not in the
    /// places table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbourhoods: Option<String>,
}

/// A TOML string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Design {
    /// The policy's scenario text: each chosen intervention's table as its
    /// scenario writes it, with the design's size, neighbourhoods and need
    /// level, extending [`PLACE_FILE`].
    pub fn policy_text(&self, offered: &[Offered]) -> Result<String, DesignError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(field("name", "a policy needs a name of 1 to 80 characters"));
        }
        if self.chosen.is_empty() {
            return Err(field(
                "interventions",
                "choose at least one intervention for the policy",
            ));
        }
        if self.chosen.len() > MAX_CHOSEN {
            return Err(field(
                "interventions",
                format!("a policy takes at most {MAX_CHOSEN} interventions"),
            ));
        }
        let mut text = format!(
            "# Designed on Upstream's workbench. Run it with\n\
             # `upstream run {PLACE_FILE} {POLICY_FILE}` in this folder.\n\
             name = {}\n\
             description = {}\n\
             extends = {}\n",
            quoted(name),
            quoted(&format!(
                "{} over the place's baseline.",
                self.chosen
                    .iter()
                    .map(|c| offered
                        .iter()
                        .find(|o| o.id == c.id)
                        .map_or(c.id.as_str(), |o| o.name.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            quoted(PLACE_FILE)
        );
        for c in &self.chosen {
            let o = offered.iter().find(|o| o.id == c.id).ok_or_else(|| {
                field(
                    format!("interventions.{}", c.id),
                    "expected one of the interventions offered",
                )
            })?;
            if c.size.is_empty() || c.size.len() > crate::scenario::MAX_YEARS as usize {
                return Err(field(
                    format!("interventions.{}.{}", c.id, o.sizing.key()),
                    format!(
                        "expected 1 to {} figures, one a year",
                        crate::scenario::MAX_YEARS
                    ),
                ));
            }
            let mut t = o.table.clone();
            let mut size = toml::Table::new();
            let values = c
                .size
                .iter()
                .map(|v| {
                    if v.fract() == 0.0 && v.abs() < 9e15 {
                        toml::Value::Integer(*v as i64)
                    } else {
                        toml::Value::Float(*v)
                    }
                })
                .collect();
            size.insert("value".into(), toml::Value::Array(values));
            if c.size == o.size {
                if let Some(s) = &o.size_stated.source {
                    size.insert("source".into(), toml::Value::String(s.clone()));
                }
                if let Some(s) = &o.size_stated.confidence {
                    size.insert("confidence".into(), toml::Value::String(s.clone()));
                }
            } else {
                size.insert(
                    "source".into(),
                    toml::Value::String("Set on the workbench".into()),
                );
            }
            t.insert(o.sizing.key().into(), toml::Value::Table(size));
            let targeting = t
                .entry("targeting")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let Some(targeting) = targeting.as_table_mut() {
                if let Some(n) = c.most_deprived {
                    let reach = if n == 0 {
                        "all".to_string()
                    } else {
                        format!("most_deprived:{n}")
                    };
                    targeting.insert("neighbourhoods".into(), toml::Value::String(reach));
                }
                if let Some(need) = &c.need_at_least {
                    targeting.insert("need_at_least".into(), toml::Value::String(need.clone()));
                }
                match &c.ages {
                    // Every age group is no aim by age.
                    Some(a) if AGE_GROUPS.iter().all(|g| a.iter().any(|x| x == g)) => {
                        targeting.remove("age_bands");
                    }
                    Some(a) => {
                        let names = a.iter().map(|g| toml::Value::String(g.clone())).collect();
                        targeting.insert("age_bands".into(), toml::Value::Array(names));
                    }
                    None => {}
                }
                if targeting.is_empty() {
                    t.remove("targeting");
                }
            }
            if let Some(payer) = &c.payer {
                t.insert("payer".into(), toml::Value::String(payer.clone()));
            }
            if c.most_deprived.is_some() {
                // Reach set on the form is the reach, every year.
                t.remove("expand");
            }
            text.push_str(&format!("\n[interventions.{}]\n", c.id));
            // What it is and how big first, then the rest as its scenario
            // has them (in name order); a list of tables one to a line.
            let first = ["name", "kind", "payer", o.sizing.key(), "targeting"];
            let rest = t.keys().filter(|k| !first.contains(&k.as_str()));
            for k in first.iter().copied().chain(rest.map(String::as_str)) {
                let Some(v) = t.get(k) else { continue };
                match v.as_array() {
                    Some(a) if a.iter().all(toml::Value::is_table) && !a.is_empty() => {
                        text.push_str(&format!("{k} = [\n"));
                        for item in a {
                            text.push_str(&format!("  {item},\n"));
                        }
                        text.push_str("]\n");
                    }
                    _ => text.push_str(&format!("{k} = {v}\n")),
                }
            }
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Library {
        let dir = crate::app::bundled_dir();
        let mut files = FileSet::new();
        for name in [
            "baseline.toml",
            "hubs.toml",
            "early_help_families.toml",
            "prevention_portfolio.toml",
            "places/england.csv",
        ] {
            files
                .insert(name, std::fs::read_to_string(dir.join(name)).unwrap())
                .unwrap();
        }
        Library::new(&files).unwrap()
    }

    #[test]
    fn the_library_offers_each_policy_scenarios_interventions_once() {
        let l = library();
        let ids: Vec<&str> = l.offered.iter().map(|o| o.id.as_str()).collect();
        // The portfolio has an [optimise] table: its interventions are not
        // offered alone, and none is offered twice.
        assert_eq!(ids, ["family_early_help", "hubs"]);
        let hubs = l.intervention("hubs").unwrap();
        assert_eq!(hubs.sizing, Sizing::Budget);
        assert_eq!(hubs.size, [350_000.0]);
        assert_eq!(hubs.most_deprived, Some(2));
        assert_eq!(hubs.payer, "housing");
        assert_eq!(hubs.grade(), "low");
        assert_eq!(hubs.effects.len(), 6);
        assert!(l.place("Doncaster").is_some());
    }

    #[test]
    fn a_design_as_offered_writes_the_scenarios_own_intervention() {
        let l = library();
        let row = l.place("Rutland").unwrap().clone();
        let design = Design {
            name: "Hubs".into(),
            years: Some(3),
            chosen: vec![Chosen::as_offered(l.intervention("hubs").unwrap())],
            ..Design::default()
        };
        let (_, loaded, notes) = l.files(&Place::Table(row.clone()), &design).unwrap();
        assert!(notes.is_empty());
        assert_eq!(loaded[0].config.name, "Rutland");
        assert_eq!(loaded[1].config.months, 36);
        // The hubs as the bundled scenario writes them, over the bundled
        // baseline.
        let mut bundled = FileSet::new();
        let dir = crate::app::bundled_dir();
        for name in ["baseline.toml", "hubs.toml"] {
            bundled
                .insert(name, std::fs::read_to_string(dir.join(name)).unwrap())
                .unwrap();
        }
        let stated = bundled.load("hubs.toml", &Overrides::default()).unwrap();
        let ours = &loaded[1].config.interventions;
        let theirs = &stated.config.interventions;
        assert_eq!(ours.len(), theirs.len());
        assert_eq!(
            format!("{:?}", ours.last().unwrap()),
            format!("{:?}", theirs.last().unwrap())
        );
    }

    #[test]
    fn the_form_sets_size_reach_and_need() {
        let l = library();
        let row = l.place("Doncaster").unwrap().clone();
        let design = Design {
            name: "Early help, wider".into(),
            years: None,
            chosen: vec![Chosen {
                id: "family_early_help".into(),
                size: vec![1_000_000.0, 2_000_000.0],
                most_deprived: Some(5),
                need_at_least: Some("struggling".into()),
                ages: Some(vec!["children".into(), "working_age".into()]),
                payer: Some("nhs".into()),
            }],
            own: Activity {
                looked_after_children: Some(600.0),
                ..Activity::default()
            },
            neighbourhoods: None,
        };
        let (files, loaded, notes) = l.files(&Place::Table(row.clone()), &design).unwrap();
        // The place's own figure scales its rates, as new-place says.
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("600 looked-after children"),
            "{notes:?}"
        );
        let policy: toml::Table = files
            .iter()
            .find(|(n, _)| *n == POLICY_FILE)
            .unwrap()
            .1
            .parse()
            .unwrap();
        let t = policy["interventions"]["family_early_help"]
            .as_table()
            .unwrap();
        assert_eq!(
            t["annual_budget"]["value"].as_array().unwrap().len(),
            2,
            "{t:?}"
        );
        assert_eq!(
            t["targeting"]["neighbourhoods"].as_str(),
            Some("most_deprived:5")
        );
        assert_eq!(t["targeting"]["need_at_least"].as_str(), Some("struggling"));
        assert!(!t.contains_key("expand"));
        assert_eq!(loaded[1].config.name, "Early help, wider");
        // The ages and the payer set on the form are the intervention's.
        let help = loaded[1]
            .config
            .interventions
            .iter()
            .find(|i| i.id == "family_early_help")
            .unwrap();
        assert_eq!(help.payer, crate::model::Payer::Nhs);
        let crate::model::Delivery::Caseload { targeting, .. } = &help.delivery else {
            panic!("early help is a caseload");
        };
        assert_eq!(targeting.age_bands, Some([true, true, false, false]));
        // Every age group ticked is no aim by age.
        let every_age = Design {
            chosen: vec![Chosen {
                ages: Some(AGE_GROUPS.iter().map(|g| g.to_string()).collect()),
                ..design.chosen[0].clone()
            }],
            ..design.clone()
        };
        let (files, _, _) = l.files(&Place::Table(row.clone()), &every_age).unwrap();
        let policy = files.iter().find(|(n, _)| *n == POLICY_FILE).unwrap().1;
        assert!(!policy.contains("age_bands"), "{policy}");
        // An unknown intervention and an empty policy are refused by field.
        let bad = Design {
            chosen: vec![Chosen {
                id: "nothing".into(),
                ..design.chosen[0].clone()
            }],
            ..design.clone()
        };
        let e = l
            .files(&Place::Table(row.clone()), &bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("interventions.nothing:"), "{e}");
        let empty = Design {
            chosen: vec![],
            ..design
        };
        let e = l
            .files(&Place::Table(row.clone()), &empty)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("interventions:"), "{e}");
    }
}

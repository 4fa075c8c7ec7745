//! Setting up a place: a scenario for a commissioner's own place from the
//! figures they have to hand (its neighbourhoods with their deprivation
//! deciles and residents, and, if known, last year's activity), extending the
//! bundled baseline. Sizes come in proportion (the baseline writes them per
//! 1,000), and where the user gives a count, the base rate behind it is
//! scaled so the place reproduces that count at the start; everything else
//! is the baseline's national default, and the file says which is which.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::engine::expected_at_start;
use crate::format::count;
use crate::input;
use crate::model::Config;
use crate::scenario::{self, Overrides, ScenarioError};

/// One neighbourhood as the user gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct NeighbourhoodRow {
    /// Its name (unique).
    pub name: String,
    /// Index of Multiple Deprivation decile: 1 most deprived, 10 least.
    pub decile: u8,
    /// Residents who live there.
    pub residents: u32,
}

/// Last year's activity in the place, as far as the user knows it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Activity {
    /// A&E attendances in the year.
    pub ae_attendances: Option<f64>,
    /// Unplanned (emergency) hospital admissions in the year.
    pub unplanned_admissions: Option<f64>,
    /// Children looked after, on a day.
    pub looked_after_children: Option<f64>,
    /// Households in temporary accommodation, on a day.
    pub households_in_temporary_accommodation: Option<f64>,
    /// Council-funded residents of care homes, on a day.
    pub care_home_residents: Option<f64>,
}

/// What the user gives for a new place.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaceFigures {
    /// The place's name.
    pub name: String,
    /// Its neighbourhoods.
    pub neighbourhoods: Vec<NeighbourhoodRow>,
    /// Last year's activity, where known.
    pub activity: Activity,
    /// The horizon in years, when the place sets its own rather than the
    /// baseline's.
    pub horizon_years: Option<u32>,
}

/// Why a place could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlaceError {
    /// The neighbourhoods file cannot be read or has a bad row.
    #[error("{}{}: {message}", file.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Neighbourhoods {
        /// The file.
        file: PathBuf,
        /// The line at fault, if one.
        line: Option<usize>,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A figure that cannot be used.
    #[error("{0}")]
    Figure(String),
    /// The scenario written for the place does not load (a fault, or a
    /// baseline that cannot be extended).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The file would replace another, or cannot be written.
    #[error(transparent)]
    NewFile(#[from] crate::output::NewFileError),
}

/// Reads neighbourhoods from a CSV with the columns `neighbourhood`,
/// `imd_decile` and `residents`.
pub fn read_neighbourhoods(path: &Path) -> Result<Vec<NeighbourhoodRow>, PlaceError> {
    let text = crate::input::read(path).map_err(|e| PlaceError::Neighbourhoods {
        file: path.to_path_buf(),
        line: None,
        message: format!("cannot read it: {e}"),
    })?;
    neighbourhoods_from(path, &text)
}

/// Neighbourhoods from `text`, a CSV as [`read_neighbourhoods`] reads it
/// (an upload's, say); errors name `path`.
pub fn neighbourhoods_from(path: &Path, text: &str) -> Result<Vec<NeighbourhoodRow>, PlaceError> {
    let err = |line: Option<usize>, message: String| PlaceError::Neighbourhoods {
        file: path.to_path_buf(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err(Some(1), format!("not a CSV file: {e}")))?
        .clone();
    // Named in any case, as spreadsheets often capitalise a header.
    let headers: csv::StringRecord = headers.iter().map(str::to_ascii_lowercase).collect();
    let columns = ["neighbourhood", "imd_decile", "residents"];
    input::check_header(&headers, &columns, &columns, "a neighbourhoods table")
        .map_err(|f| err(Some(1), f.message))?;
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .expect("checked above")
    };
    let (ni, di, ri) = (
        column("neighbourhood"),
        column("imd_decile"),
        column("residents"),
    );
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| err(Some(line), e.to_string()))?;
        let name = record.get(ni).unwrap_or("").to_string();
        if name.is_empty() {
            return Err(err(Some(line), "the neighbourhood has no name".into()));
        }
        if let Some(why) = input::text_fault(&name, input::TextKind::Name) {
            return Err(err(Some(line), format!("neighbourhood: {why}")));
        }
        if rows.iter().any(|r: &NeighbourhoodRow| r.name == name) {
            return Err(err(
                Some(line),
                format!("\"{}\" is listed twice", input::quote(&name)),
            ));
        }
        let decile = record
            .get(di)
            .and_then(|d| d.parse::<u8>().ok())
            .filter(|d| (1..=10).contains(d))
            .ok_or_else(|| {
                err(
                    Some(line),
                    format!(
                        "imd_decile: expected a whole number from 1 (most deprived) to 10, found \"{}\"",
                        input::quote(record.get(di).unwrap_or(""))
                    ),
                )
            })?;
        let raw = record.get(ri).unwrap_or("");
        let residents = raw
            .replace(['_', ','], "")
            .parse::<u32>()
            .ok()
            .filter(|&r| r > 0)
            .ok_or_else(|| {
                err(
                    Some(line),
                    format!(
                        "residents: expected a whole number above 0, found \"{}\"",
                        input::quote(raw)
                    ),
                )
            })?;
        rows.push(NeighbourhoodRow {
            name,
            decile,
            residents,
        });
    }
    if rows.is_empty() {
        return Err(err(None, "it lists no neighbourhoods".into()));
    }
    Ok(rows)
}

/// A figure the user may give, the service it sets, and how it is counted.
struct Target {
    flag: &'static str,
    what: &'static str,
    service: &'static str,
    /// An event service's contacts a year, or an episode service's residents
    /// (or households) on a day.
    episode: bool,
}

const TARGETS: [Target; 5] = [
    Target {
        flag: "--ae-attendances",
        what: "A&E attendances a year",
        service: "ae_attendance",
        episode: false,
    },
    Target {
        flag: "--unplanned-admissions",
        what: "unplanned admissions a year",
        service: "unplanned_admission",
        episode: false,
    },
    Target {
        flag: "--looked-after-children",
        what: "looked-after children",
        service: "childrens_placement",
        episode: true,
    },
    Target {
        flag: "--households-in-temporary-accommodation",
        what: "households in temporary accommodation",
        service: "temporary_accommodation",
        episode: true,
    },
    Target {
        flag: "--care-home-residents",
        what: "council-funded care-home residents",
        service: "adult_residential_care",
        episode: true,
    },
];

impl Activity {
    /// Each figure by its name (a places table's column) and what it
    /// counts, for a form.
    pub const FIGURES: [(&'static str, &'static str); 5] = [
        ("ae_attendances", "A&E attendances in the year"),
        (
            "unplanned_admissions",
            "Unplanned hospital admissions in the year",
        ),
        ("looked_after_children", "Children looked after, on a day"),
        (
            "households_in_temporary_accommodation",
            "Households in temporary accommodation, on a day",
        ),
        (
            "care_home_residents",
            "Council-funded residents of care homes, on a day",
        ),
    ];

    /// The figure called `name` (one of [`Activity::FIGURES`]), to read or
    /// set.
    pub fn named(&mut self, name: &str) -> Option<&mut Option<f64>> {
        Some(match name {
            "ae_attendances" => &mut self.ae_attendances,
            "unplanned_admissions" => &mut self.unplanned_admissions,
            "looked_after_children" => &mut self.looked_after_children,
            "households_in_temporary_accommodation" => {
                &mut self.households_in_temporary_accommodation
            }
            "care_home_residents" => &mut self.care_home_residents,
            _ => return None,
        })
    }

    /// The service the figure called `name` sets, and whether it counts
    /// places held on a day (an episode service's mean occupancy over the
    /// year) rather than contacts in the year: as `new-place` reads it.
    pub fn service_of(name: &str) -> Option<(&'static str, bool)> {
        let service = match name {
            "ae_attendances" => "ae_attendance",
            "unplanned_admissions" => "unplanned_admission",
            "looked_after_children" => "childrens_placement",
            "households_in_temporary_accommodation" => "temporary_accommodation",
            "care_home_residents" => "adult_residential_care",
            _ => return None,
        };
        TARGETS
            .iter()
            .find(|t| t.service == service)
            .map(|t| (t.service, t.episode))
    }

    /// Each count given here, else `other`'s.
    pub fn or(self, other: &Activity) -> Activity {
        Activity {
            ae_attendances: self.ae_attendances.or(other.ae_attendances),
            unplanned_admissions: self.unplanned_admissions.or(other.unplanned_admissions),
            looked_after_children: self.looked_after_children.or(other.looked_after_children),
            households_in_temporary_accommodation: self
                .households_in_temporary_accommodation
                .or(other.households_in_temporary_accommodation),
            care_home_residents: self.care_home_residents.or(other.care_home_residents),
        }
    }

    fn get(&self, service: &str) -> Option<f64> {
        match service {
            "ae_attendance" => self.ae_attendances,
            "unplanned_admission" => self.unplanned_admissions,
            "childrens_placement" => self.looked_after_children,
            "temporary_accommodation" => self.households_in_temporary_accommodation,
            "adult_residential_care" => self.care_home_residents,
            _ => None,
        }
    }
}

/// Writes a scenario for the place to `out` (refusing to replace a file),
/// extending `baseline`; returns what it set from the user's figures, one
/// line each.
pub fn new_place(
    figures: &PlaceFigures,
    baseline: &Path,
    out: &Path,
) -> Result<Vec<String>, PlaceError> {
    if out.exists() {
        return Err(crate::output::NewFileError::Exists(out.to_path_buf()).into());
    }
    let (text, notes) = place_scenario(figures, baseline, out, &crate::input::read)?;
    crate::output::write_new(out, &text)?;
    Ok(notes)
}

/// The scenario's text, to be written at `out`, and what it set from the
/// user's figures; every other file (the baseline and what it extends) is
/// read through `read`.
pub fn place_scenario(
    figures: &PlaceFigures,
    baseline: &Path,
    out: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<(String, Vec<String>), PlaceError> {
    let residents = check_figures(figures)?;
    let dir = out.parent().unwrap_or(Path::new(""));
    let mut text = population_text(figures, residents, &crate::output::relative(baseline, dir));
    let load = |text: &str| -> Result<Config, PlaceError> {
        let read = |p: &Path| {
            if p == out {
                Ok(text.to_string())
            } else {
                read(p)
            }
        };
        Ok(scenario::load_from(out, &Overrides::default(), &read)?.config)
    };
    // Base rates: each figure given scales its service's rate so the place's
    // residents, by their own hazards, expect that count at the start.
    let mut config = load(&text)?;
    let given: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| figures.activity.get(t.service).is_some())
        .collect();
    let mut calibrated = given
        .iter()
        .map(|t| Calibrated::of(&config, t, figures.activity.get(t.service).expect("given")))
        .collect::<Result<Vec<_>, _>>()?;
    scale_by_hazards(&mut config, &given, &mut calibrated);
    // Then by running the place's first year (after its burn-in), twice:
    // households, stress and programmes move counts the hazards alone do
    // not see. Skipped for a place too large to run in seconds.
    let simulated = residents <= SIMULATE_UP_TO;
    if simulated && !given.is_empty() {
        for _ in 0..2 {
            let first_year = crate::present::first_year(&config, 4, 1, None)
                .expect("a thread pool for a short run");
            for (t, c) in given.iter().zip(calibrated.iter_mut()) {
                let seen = if t.episode {
                    first_year.occupancy[c.index]
                } else {
                    12.0 * first_year.contacts_per_month[c.index]
                };
                if seen > 0.0 {
                    c.factor *= c.target / seen;
                }
                c.apply(&mut config, t.episode);
            }
        }
    }
    let (sections, notes) = rates_text(figures, &given, &calibrated, simulated);
    text.push_str(&sections);
    // The file as written must load.
    load(&text)?;
    Ok((text, notes))
}

/// The place's residents, once its figures are checked: 1 to 50,000,000
/// of them, and every activity count 0 or more.
fn check_figures(figures: &PlaceFigures) -> Result<u64, PlaceError> {
    let residents: u64 = figures
        .neighbourhoods
        .iter()
        .map(|r| r.residents as u64)
        .sum();
    if !(1..=50_000_000).contains(&residents) {
        return Err(PlaceError::Figure(format!(
            "the neighbourhoods' residents add up to {residents}; a place has 1 to 50,000,000"
        )));
    }
    for t in &TARGETS {
        if let Some(v) = figures.activity.get(t.service)
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(PlaceError::Figure(format!(
                "{}: expected a count of 0 or more, found {v}",
                t.flag
            )));
        }
    }
    Ok(residents)
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The scenario's opening: what it is, what it extends, and the place's
/// neighbourhoods.
fn population_text(figures: &PlaceFigures, residents: u64, extends: &Path) -> String {
    let rows = &figures.neighbourhoods;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# {}: set up with `upstream new-place`. It extends the baseline, whose\n\
         # sizes are written per 1,000 residents, children or households, so this\n\
         # place gets them in proportion.\n\
         # From you: the neighbourhoods (names, deprivation deciles, residents){}.\n\
         # Everything else is the baseline's national default: replace what you know.",
        figures.name,
        if TARGETS
            .iter()
            .any(|t| figures.activity.get(t.service).is_some())
        {
            "\n# and last year's activity (below)"
        } else {
            ""
        }
    );
    let _ = writeln!(text, "name = {}", quoted(&figures.name));
    let _ = writeln!(text, "extends = {}", quoted(&extends.to_string_lossy()));
    if let Some(years) = figures.horizon_years {
        let _ = writeln!(text, "horizon_years = {years}");
    }
    text.push('\n');
    let _ = writeln!(text, "[population]\n# From you.");
    let _ = writeln!(text, "residents = {residents}");
    let _ = writeln!(text, "neighbourhoods = {}", rows.len());
    let list =
        |f: &dyn Fn(&NeighbourhoodRow) -> String| rows.iter().map(f).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        text,
        "neighbourhood_names = [{}]",
        list(&|r| quoted(&r.name))
    );
    let _ = writeln!(
        text,
        "deprivation_deciles = [{}]",
        list(&|r| r.decile.to_string())
    );
    let _ = writeln!(
        text,
        "neighbourhood_residents = [{}]",
        list(&|r| r.residents.to_string())
    );
    text
}

/// Scales each given service's rates by the residents' own hazards: exact
/// for contacts; for places, by bisection, as occupancy rises less than in
/// proportion to entries.
fn scale_by_hazards(config: &mut Config, given: &[&Target], calibrated: &mut [Calibrated]) {
    let expected = expected_at_start(config);
    for (t, c) in given.iter().zip(calibrated.iter_mut()) {
        if t.episode {
            c.default = expected.occupancy[c.index];
            let e = c.index;
            let base = c.base;
            let mut occupancy = |k: f64| {
                config.episodes[e].entry_per_month = base.map(|r| r * k);
                expected_at_start(config).occupancy[e]
            };
            let (mut lo, mut hi) = (0.0, 1.0);
            while occupancy(hi) < c.target && hi < 1e4 {
                lo = hi;
                hi *= 2.0;
            }
            for _ in 0..30 {
                let mid = 0.5 * (lo + hi);
                if occupancy(mid) < c.target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            c.factor = 0.5 * (lo + hi);
        } else {
            c.default = 12.0 * expected.contacts_per_month[c.index];
            c.factor = if c.default > 0.0 {
                c.target / c.default
            } else {
                1.0
            };
        }
        c.apply(config, t.episode);
    }
}

/// Each scaled service's table for the scenario, with where its rates came
/// from, and a line for the user on each.
fn rates_text(
    figures: &PlaceFigures,
    given: &[&Target],
    calibrated: &[Calibrated],
    simulated: bool,
) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut sections = String::new();
    for (t, c) in given.iter().zip(calibrated) {
        let rates = c.base.map(|r| r * c.factor);
        let (table, field, what) = if t.episode {
            ("episodes", "entry_per_month", "entry rate")
        } else {
            ("events", "rate_per_month", "rate")
        };
        let _ = writeln!(
            sections,
            "\n[{table}.{}]\n# From you: {} {}. The national default expects about {}; every need\n# level's {what} is scaled by {:.3}, keeping the default's pattern{}.\n{field} = {{ value = {}, source = {}, confidence = \"medium\" }}",
            t.service,
            count(c.target),
            t.what,
            count(c.default),
            c.factor,
            if simulated {
                " (checked on a run of the place's first year)"
            } else {
                ""
            },
            floats(&rates),
            quoted(&format!(
                "Scaled to {} {} at the start ({})",
                count(c.target),
                t.what,
                figures.name
            )),
        );
        notes.push(format!(
            "{} {} (the national default expects about {}; {what}s ×{:.3})",
            count(c.target),
            t.what,
            count(c.default),
            c.factor
        ));
    }
    (sections, notes)
}

/// Places up to this size are checked on a run of their first year.
const SIMULATE_UP_TO: u64 = 2_000_000;

/// A service's rates scaled to the user's figure.
struct Calibrated {
    target: f64,
    index: usize,
    base: [f64; crate::model::NEED_LEVELS],
    factor: f64,
    /// What the national default rates expect.
    default: f64,
}

impl Calibrated {
    /// Service `t`'s rates in `config`, to be scaled to `target`.
    fn of(config: &Config, t: &Target, target: f64) -> Result<Calibrated, PlaceError> {
        let index = if t.episode {
            service(
                &config.episodes.iter().map(|e| &e.id).collect::<Vec<_>>(),
                t,
            )?
        } else {
            service(&config.events.iter().map(|e| &e.id).collect::<Vec<_>>(), t)?
        };
        let base = if t.episode {
            config.episodes[index].entry_per_month
        } else {
            config.events[index].rate_per_month
        };
        Ok(Calibrated {
            target,
            index,
            base,
            factor: 1.0,
            default: 0.0,
        })
    }

    fn apply(&self, config: &mut Config, episode: bool) {
        let rates = self.base.map(|r| r * self.factor);
        if episode {
            config.episodes[self.index].entry_per_month = rates;
        } else {
            config.events[self.index].rate_per_month = rates;
        }
    }
}

fn service(ids: &[&String], t: &Target) -> Result<usize, PlaceError> {
    ids.iter().position(|id| *id == t.service).ok_or_else(|| {
        PlaceError::Figure(format!(
            "{} sets the service `{}`, which the baseline does not have",
            t.flag, t.service
        ))
    })
}

/// A list of rates as TOML, each to the precision it needs.
fn floats(v: &[f64]) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|x| format!("{}", crate::format::significant(*x, 6)))
        .collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn each_figure_sets_its_own_service_counted_as_its_words_say() {
        let expected = [
            ("ae_attendances", ("ae_attendance", false)),
            ("unplanned_admissions", ("unplanned_admission", false)),
            ("looked_after_children", ("childrens_placement", true)),
            (
                "households_in_temporary_accommodation",
                ("temporary_accommodation", true),
            ),
            ("care_home_residents", ("adult_residential_care", true)),
        ];
        for ((name, words), (named, service)) in Activity::FIGURES.iter().zip(expected) {
            assert_eq!(*name, named);
            assert_eq!(Activity::service_of(name), Some(service), "{name}");
            // A count on a day is places held; a count in the year, contacts.
            assert_eq!(service.1, words.ends_with("on a day"), "{words}");
        }
        assert_eq!(Activity::service_of("ae_attendance"), None);
    }

    #[test]
    fn a_file_that_appears_before_the_write_is_kept_and_named() {
        // Another process may write the file after `new_place` looked for
        // it: the link into place fails, the other file is kept, and the
        // error says the file exists, leaving no temporary file behind.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("northtown.toml");
        fs::write(&path, "theirs").unwrap();
        let e = crate::output::write_new(&path, "ours").unwrap_err();
        assert!(
            matches!(&e, crate::output::NewFileError::Exists(p) if *p == path),
            "{e}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "theirs");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
        // Where nothing is in the way, the text is written whole.
        let fresh = tmp.path().join("easton.toml");
        crate::output::write_new(&fresh, "ours").unwrap();
        assert_eq!(fs::read_to_string(&fresh).unwrap(), "ours");
    }
    #[test]
    fn a_count_that_is_negative_or_not_a_number_is_refused_before_anything_is_read() {
        let figures = |v: f64| PlaceFigures {
            name: "Northtown".into(),
            neighbourhoods: vec![NeighbourhoodRow {
                name: "Centre".into(),
                decile: 1,
                residents: 5_000,
            }],
            activity: Activity {
                looked_after_children: Some(v),
                ..Activity::default()
            },
            horizon_years: None,
        };
        let never = |_: &Path| -> std::io::Result<String> {
            panic!("read before the figures were checked")
        };
        for bad in [-5.0, f64::NAN, f64::INFINITY] {
            let e = place_scenario(
                &figures(bad),
                Path::new("b.toml"),
                Path::new("o.toml"),
                &never,
            )
            .unwrap_err();
            assert!(
                e.to_string().contains("expected a count of 0 or more"),
                "{bad}: {e}"
            );
        }
    }
}

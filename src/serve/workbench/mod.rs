//! The commissioner's workbench, `upstream serve`'s second door: choose a
//! place from the bundled places table, design a policy from the library's
//! interventions on a form, queue its run, watch it, and open its board
//! page, workbook and files, or share a read-only link to them.
//!
//! Access: each analyst signs in to an account of their own, made once
//! with the server's key (the one facilitators use) ([`accounts`]); they
//! see their own runs and those colleagues share. A run's read-only link
//! needs only its own token. A design becomes the scenario
//! files the command line runs ([`crate::workbench`]); each run is kept in
//! the database with those files, and run by [`queue`]'s workers as the
//! command line runs them, so the files a run writes are the command
//! line's, byte for byte.

pub(super) mod accounts;
pub(super) mod live;
mod pages;
pub(super) mod queue;
mod results;

use std::path::{Component, Path, PathBuf};

use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;

use super::store::{Kind, RunRow, State as RunState};
use super::{Fields, Problem, Shared, refused, same};
use crate::workbench::{Chosen, Design, DesignError, Library, Place};
use accounts::{analyst, owned_run, seen_run};
use results::{beside, by_payer, headline, outcomes, series};

/// The most replicates a workbench run may ask for.
pub(super) const MAX_REPLICATES: u32 = 100;
/// Replicates a design runs unless the form says otherwise.
const DEFAULT_REPLICATES: u32 = 16;
/// The most bytes of one run's output file served.
const MOST_SERVED: u64 = 256 << 20;

/// The workbench's part of the server: its library and where its runs go.
pub(super) struct Bench {
    /// The interventions and places offered, or why there are none.
    pub library: Result<Library, String>,
    /// The runs' folder.
    pub runs: PathBuf,
    /// Rung when a run is queued.
    pub bell: std::sync::Arc<queue::Bell>,
}

impl Bench {
    fn library(&self) -> Result<&Library, Problem> {
        self.library.as_ref().map_err(|why| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the workbench is not available from this server's scenarios: {why}"),
                "/",
            )
        })
    }
}

#[derive(serde::Deserialize)]
pub(super) struct KeyQuery {
    #[serde(default)]
    key: Option<String>,
}

/// The workbench's first page: the key, asked for once; then choosing a
/// place, and the runs so far.
pub(super) async fn home(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<KeyQuery>,
) -> Result<Response, Problem> {
    let me = match (analyst(&app, &headers), q.key.as_deref()) {
        (Ok(me), _) => me,
        (Err(_), None) => return Ok(pages::key(None).into_response()),
        // The link printed when the server started: an account can be
        // made with its key.
        (Err(_), Some(k)) if same(k.trim(), &app.key) => {
            return Ok(pages::key(Some(k.trim())).into_response());
        }
        (Err(_), Some(_)) => return Err(accounts::not_the_key()),
    };
    let library = app.bench.library()?;
    let runs = app.store.runs(&me, 200)?;
    Ok(pages::home(library, &runs, &me).into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct DesignQuery {
    place: String,
    #[serde(default)]
    from: Option<i64>,
}

/// The design form for a place, empty or filled in from an earlier run.
pub(super) async fn design(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<DesignQuery>,
) -> Result<Markup, Problem> {
    let me = analyst(&app, &headers)?;
    let library = app.bench.library()?;
    let mut fields = match q.from {
        Some(id) => fields_of(&seen_run(&app, id, &me)?),
        None => Fields::new(),
    };
    fields.insert("place".into(), q.place.clone());
    let place = place_of(library, &fields)?;
    let carried = fields.remove("neighbourhoods");
    fields.remove("place");
    Ok(pages::design(
        &place,
        carried.as_deref(),
        library,
        &fields,
        None,
        None,
    ))
}

/// The most bytes of a place's own neighbourhoods table.
const MOST_NEIGHBOURHOODS_BYTES: usize = 1 << 20;

/// The place a form is for: its own neighbourhoods when it carries them
/// (an uploaded place), else the places table's row it names.
fn place_of(library: &Library, f: &Fields) -> Result<Place, Problem> {
    let name = f.get("place").map(|s| s.trim()).unwrap_or("");
    match f.get("neighbourhoods").filter(|t| !t.trim().is_empty()) {
        Some(text) => own_place(name, text)
            .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e, "/workbench")),
        None => place_row(library, name).map(|r| Place::Table(r.clone())),
    }
}

/// A place of its own neighbourhoods, from their table's text, or why not
/// (naming the table's line and column).
fn own_place(name: &str, text: &str) -> Result<Place, String> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err("place: your place needs a name of 1 to 80 characters".into());
    }
    if let Some(why) = crate::input::text_fault(name, crate::input::TextKind::Name) {
        return Err(format!("place: {why}"));
    }
    if text.len() > MOST_NEIGHBOURHOODS_BYTES {
        return Err(format!(
            "neighbourhoods: the table is over {} kB; a place's neighbourhoods take far less",
            MOST_NEIGHBOURHOODS_BYTES >> 10
        ));
    }
    let neighbourhoods = crate::place::neighbourhoods_from(Path::new(NEIGHBOURHOODS_FILE), text)
        .map_err(|e| e.to_string())?;
    Ok(Place::Own {
        name: name.to_string(),
        neighbourhoods,
    })
}

/// The name an uploaded neighbourhoods table goes by in refusals.
const NEIGHBOURHOODS_FILE: &str = "neighbourhoods.csv";

/// Starts a design from the user's own place: its name and its
/// neighbourhoods table, uploaded (`neighbourhood`, `imd_decile`,
/// `residents`, as `upstream new-place --neighbourhoods` reads it).
pub(super) async fn upload_place(
    State(app): State<Shared>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Result<Response, Problem> {
    analyst(&app, &headers)?;
    let library = app.bench.library()?;
    let bad = |t: String| Problem::new(StatusCode::BAD_REQUEST, t, "/workbench");
    let (mut name, mut text) = (String::new(), None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| bad("the upload could not be read as a form with a file".into()))?
    {
        match field.name() {
            Some("place") => {
                name = field
                    .text()
                    .await
                    .map_err(|_| bad("place: not text".into()))?;
            }
            Some("neighbourhoods") => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| bad("neighbourhoods: the file could not be read".into()))?;
                text = Some(String::from_utf8(bytes.to_vec()).map_err(|_| {
                    bad(format!(
                        "{NEIGHBOURHOODS_FILE}: expected a CSV file of text (UTF-8)"
                    ))
                })?);
            }
            _ => {}
        }
    }
    let text =
        text.ok_or_else(|| bad("neighbourhoods: choose your neighbourhoods table".into()))?;
    let place = own_place(name.trim(), &text).map_err(bad)?;
    Ok(pages::design(&place, Some(&text), library, &Fields::new(), None, None).into_response())
}

fn place_row<'a>(library: &'a Library, name: &str) -> Result<&'a crate::region::PlaceRow, Problem> {
    library.place(name).ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            format!(
                "place: no place in the table is called \"{}\"",
                crate::input::quote(name)
            ),
            "/workbench",
        )
    })
}

fn no_such_run() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "there is no such run", "/workbench")
}

/// The form's fields as run `run` set them, to design its next version.
fn fields_of(run: &RunRow) -> Fields {
    let d = &run.design;
    let mut f = Fields::new();
    f.insert("name".into(), d.name.clone());
    if let Some(text) = &d.neighbourhoods {
        f.insert("neighbourhoods".into(), text.clone());
    }
    if let Some(y) = d.years {
        f.insert("years".into(), y.to_string());
    }
    f.insert("replicates".into(), run.replicates.to_string());
    let mut own = d.own.clone();
    for (name, _) in crate::place::Activity::FIGURES {
        if let Some(Some(v)) = own.named(name).map(|v| *v) {
            f.insert(format!("own.{name}"), pages::figures(&[v]));
        }
    }
    for c in &d.chosen {
        f.insert(format!("take.{}", c.id), "1".into());
        f.insert(format!("size.{}", c.id), pages::figures(&c.size));
        if let Some(n) = c.most_deprived {
            f.insert(format!("reach.{}", c.id), n.to_string());
        }
        if let Some(n) = &c.need_at_least {
            f.insert(format!("need.{}", c.id), n.clone());
        }
        if let Some(p) = &c.payer {
            f.insert(format!("payer.{}", c.id), p.clone());
        }
        if let Some(ages) = &c.ages {
            f.insert(format!("ages.{}", c.id), "shown".into());
            for g in ages {
                f.insert(format!("age.{}.{g}", c.id), "1".into());
            }
        }
    }
    f
}

/// The design and replicates the form asks for, or the field refused and
/// why.
fn design_from(library: &Library, f: &Fields) -> Result<(Design, u32), DesignError> {
    let text = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let bad = |field: &str, text: String| DesignError::Field {
        field: field.into(),
        text,
    };
    let whole = |k: &str, lo: u32, hi: u32| -> Result<Option<u32>, DesignError> {
        match text(k) {
            "" => Ok(None),
            t => match t.replace(',', "").parse::<u32>() {
                Ok(v) if (lo..=hi).contains(&v) => Ok(Some(v)),
                _ => Err(bad(
                    k,
                    format!(
                        "expected a whole number from {lo} to {hi}, found \"{}\"",
                        crate::input::quote(t)
                    ),
                )),
            },
        }
    };
    let years = whole("years", 1, crate::scenario::MAX_YEARS)?;
    let replicates = whole("replicates", 1, MAX_REPLICATES)?.unwrap_or(DEFAULT_REPLICATES);
    let mut chosen = Vec::new();
    for o in &library.offered {
        if text(&format!("take.{}", o.id)) != "1" {
            continue;
        }
        let size_field = format!("size.{}", o.id);
        let size = crate::input::amounts(text(&size_field)).map_err(|w| {
            bad(
                &size_field,
                format!(
                    "expected {} for each year, as \"600k; 600k; 1.5m\", found \"{w}\"",
                    o.sizing.figure()
                ),
            )
        })?;
        if size.is_empty() {
            return Err(bad(
                &size_field,
                format!("expected {} for at least the first year", o.sizing.figure()),
            ));
        }
        let reach_field = format!("reach.{}", o.id);
        let most_deprived = match text(&reach_field) {
            "" => None,
            "all" => Some(0),
            _ => whole(&reach_field, 1, 100_000)?,
        };
        let need_at_least = match text(&format!("need.{}", o.id)) {
            "" => None,
            n if pages::NEED_LEVELS.iter().any(|(k, _)| *k == n) => Some(n.to_string()),
            n => {
                return Err(bad(
                    &format!("need.{}", o.id),
                    format!(
                        "expected a need level, found \"{}\"",
                        crate::input::quote(n)
                    ),
                ));
            }
        };
        let payer = match text(&format!("payer.{}", o.id)) {
            "" => None,
            p if p == o.payer => None,
            p if crate::model::Payer::ALL.iter().any(|x| x.name() == p) => Some(p.to_string()),
            p => {
                return Err(bad(
                    &format!("payer.{}", o.id),
                    format!("expected a payer, found \"{}\"", crate::input::quote(p)),
                ));
            }
        };
        let ages = if text(&format!("ages.{}", o.id)) == "shown" {
            let ticked: Vec<String> = crate::workbench::AGE_GROUPS
                .iter()
                .filter(|g| text(&format!("age.{}.{g}", o.id)) == "1")
                .map(|g| g.to_string())
                .collect();
            if ticked.is_empty() {
                return Err(bad(
                    &format!("ages.{}", o.id),
                    "tick at least one age group it takes".into(),
                ));
            }
            let as_library = o.ages.clone().unwrap_or_else(|| {
                crate::workbench::AGE_GROUPS
                    .iter()
                    .map(|g| g.to_string())
                    .collect()
            });
            (ticked != as_library).then_some(ticked)
        } else {
            None
        };
        chosen.push(Chosen {
            id: o.id.clone(),
            size,
            most_deprived,
            need_at_least,
            ages,
            payer,
        });
    }
    let mut own = crate::place::Activity::default();
    for (name, _) in crate::place::Activity::FIGURES {
        let key = format!("own.{name}");
        let given = match text(&key) {
            "" => None,
            t => Some(
                crate::input::amount(t)
                    .filter(|v| *v >= 0.0)
                    .ok_or_else(|| {
                        bad(
                            &key,
                            format!(
                                "expected a count of 0 or more, found \"{}\"",
                                crate::input::quote(t)
                            ),
                        )
                    })?,
            ),
        };
        *own.named(name).expect("one of the figures") = given;
    }
    Ok((
        Design {
            name: text("name").to_string(),
            years,
            chosen,
            own,
            neighbourhoods: f
                .get("neighbourhoods")
                .filter(|t| !t.trim().is_empty())
                .cloned(),
        },
        replicates,
    ))
}

/// A design the form asks for, written as scenario files that load: what
/// its run would queue.
struct Designed {
    design: Design,
    replicates: u32,
    files: crate::scenario::FileSet,
    /// The loader's warnings, as the command line gives them.
    warnings: Vec<crate::scenario::ScenarioError>,
    /// What was set from the place's own figures.
    notes: Vec<String>,
}

/// The design form `f` asks for, for `place`, loaded off the server's
/// threads; or why it is refused.
async fn designed(
    app: &Shared,
    place: &Place,
    f: &Fields,
) -> Result<Result<Designed, DesignError>, Problem> {
    app.bench.library()?;
    let (app, f, place) = (app.clone(), f.clone(), place.clone());
    tokio::task::spawn_blocking(move || {
        let library = app.bench.library.as_ref().expect("checked above");
        design_from(library, &f).and_then(|(design, replicates)| {
            let (files, loaded, notes) = library.files(&place, &design)?;
            Ok(Designed {
                design,
                replicates,
                files,
                warnings: loaded.into_iter().flat_map(|l| l.warnings).collect(),
                notes,
            })
        })
    })
    .await
    .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), "/"))
}

/// Checks a design and, unless only a check was asked for, queues its
/// run. A refusal is shown on the form, with what was typed kept.
pub(super) async fn submit(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    let me = analyst(&app, &headers)?;
    let library = app.bench.library()?;
    let place = place_of(library, &f)?;
    let carried = f.get("neighbourhoods").map(String::as_str);
    let d = match designed(&app, &place, &f).await? {
        Ok(d) => d,
        Err(e) => {
            let page = pages::design(&place, carried, library, &f, Some(&e.to_string()), None);
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    if f.get("go").map(String::as_str) == Some("check") {
        let warnings: Vec<String> = d.warnings.iter().map(|w| w.to_string()).collect();
        let checked = pages::Checked {
            warnings: &warnings,
            notes: &d.notes,
        };
        return Ok(
            pages::design(&place, carried, library, &f, None, Some(checked)).into_response(),
        );
    }
    let id = app
        .store
        .queue_run(&me, place.name(), &d.design, &d.files, d.replicates)
        .map_err(refused("/workbench"))?;
    app.bench.bell.ring();
    Ok(Redirect::to(&format!("/workbench/runs/{id}")).into_response())
}

/// A run's page: its progress while it runs, its results when done.
pub(super) async fn run_page(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Markup, Problem> {
    let me = analyst(&app, &headers)?;
    let run = seen_run(&app, id, &me)?;
    let files = outputs(&app.bench.runs, &run);
    let mut experiments = app.store.experiments(id)?;
    experiments.retain(|e| e.seen_by(&me));
    let series = series(&app.bench.runs, &run);
    let seen = pages::Seen {
        files: &files,
        headline: &headline(&app.bench.runs, &run),
        by_payer: &by_payer(&app.bench.runs, &run),
        outcomes: &series.as_ref().map(outcomes).unwrap_or_default(),
        beside: &series.as_ref().map(|s| beside(s, &run)).unwrap_or_default(),
        experiments: &experiments,
        library: app.bench.library.as_ref().ok(),
    };
    Ok(pages::run(&run, &seen, Some(&me)))
}

/// The most runs one comparison sets side by side.
const MOST_COMPARED: usize = 6;

/// Finished runs side by side: their headline, money bridge totals and who
/// pays, from the runs ticked on the workbench's first page.
pub(super) async fn compare(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Markup, Problem> {
    let me = analyst(&app, &headers)?;
    let mut ids: Vec<i64> = q
        .iter()
        .filter(|(k, _)| k == "run")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    ids.dedup();
    if ids.len() < 2 || ids.len() > MOST_COMPARED {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            format!("run: tick 2 to {MOST_COMPARED} finished runs to compare"),
            "/workbench",
        ));
    }
    let mut compared = Vec::new();
    for id in ids {
        let run = seen_run(&app, id, &me)?;
        if run.kind != Kind::Run || run.state != RunState::Done {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "run {id} ({}) is not a finished run of a design; only those compare",
                    run.name
                ),
                "/workbench",
            ));
        }
        let headline = headline(&app.bench.runs, &run);
        let by_payer = by_payer(&app.bench.runs, &run);
        let library = app.bench.library.as_ref().ok();
        let interventions = run
            .design
            .chosen
            .iter()
            .map(|c| {
                library
                    .and_then(|l| l.intervention(&c.id))
                    .map_or(c.id.clone(), |o| o.name.clone())
            })
            .collect::<Vec<_>>()
            .join("; ");
        compared.push(pages::Compared {
            run,
            interventions,
            headline,
            by_payer,
        });
    }
    Ok(pages::compare(&compared))
}

/// A run's read-only page, for a colleague given its link.
pub(super) async fn shared_page(
    State(app): State<Shared>,
    UrlPath(token): UrlPath<String>,
) -> Result<Markup, Problem> {
    let run = app
        .store
        .run_shared(&token)?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "there is no such shared run", "/"))?;
    let files = outputs(&app.bench.runs, &run);
    let series = series(&app.bench.runs, &run);
    let seen = pages::Seen {
        files: &files,
        headline: &headline(&app.bench.runs, &run),
        by_payer: &by_payer(&app.bench.runs, &run),
        outcomes: &series.as_ref().map(outcomes).unwrap_or_default(),
        beside: &series.as_ref().map(|s| beside(s, &run)).unwrap_or_default(),
        experiments: &[],
        library: None,
    };
    Ok(pages::run(&run, &seen, None))
}

pub(super) async fn cancel(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let me = analyst(&app, &headers)?;
    owned_run(&app, id, &me)?;
    app.store.cancel(id)?;
    Ok(Redirect::to(&format!("/workbench/runs/{id}")).into_response())
}

/// Starts an experiment from a finished run's result: which assumptions
/// decide it, how strong an effect must be, or the result across a range
/// of one intervention's size.
pub(super) async fn ask(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    let me = analyst(&app, &headers)?;
    let run = seen_run(&app, id, &me)?;
    let back = format!("/workbench/runs/{id}");
    let bad = |text: String| Problem::new(StatusCode::BAD_REQUEST, text, &back);
    if run.kind != Kind::Run || run.state != RunState::Done {
        return Err(bad(
            "an experiment starts from a finished run of a design".into()
        ));
    }
    let (kind, replicates, vary) = experiment_from(&app, &run, &f).map_err(bad)?;
    let started = app
        .store
        .queue_experiment(&me, id, kind, replicates, &vary)
        .map_err(refused(&back))?;
    app.bench.bell.ring();
    Ok(Redirect::to(&format!("/workbench/runs/{started}")).into_response())
}

/// The experiment the form asks for over `run`: its kind, replicates and,
/// for a sweep, what it varies (`interventions.hubs.annual_budget=x0.5:x2:5`),
/// or why not.
fn experiment_from(
    app: &super::App,
    run: &RunRow,
    f: &Fields,
) -> Result<(Kind, u32, String), String> {
    let text = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let kind = Kind::from_command(text("kind"))
        .filter(|k| Kind::EXPERIMENTS.contains(k))
        .ok_or_else(|| {
            format!(
                "kind: expected sensitivity, break-even or sweep, found \"{}\"",
                crate::input::quote(text("kind"))
            )
        })?;
    let replicates = match text("replicates").parse::<u32>() {
        Ok(r) if (1..=MAX_REPLICATES).contains(&r) => r,
        _ => {
            return Err(format!(
                "replicates: expected a whole number from 1 to {MAX_REPLICATES}, found \"{}\"",
                crate::input::quote(text("replicates"))
            ));
        }
    };
    if kind != Kind::Sweep {
        return Ok((kind, replicates, String::new()));
    }
    let chosen = text("intervention");
    let offered = app
        .bench
        .library
        .as_ref()
        .ok()
        .and_then(|l| l.intervention(chosen))
        .filter(|_| run.design.chosen.iter().any(|c| c.id == chosen))
        .ok_or_else(|| {
            format!(
                "intervention: expected one of the policy's interventions, found \"{}\"",
                crate::input::quote(chosen)
            )
        })?;
    let multiple = |k: &str| -> Result<f64, String> {
        match text(k).trim_start_matches(['x', '×']).parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Ok(v),
            _ => Err(format!(
                "{k}: expected a multiple from 0 to 100, found \"{}\"",
                crate::input::quote(text(k))
            )),
        }
    };
    let (from, to) = (multiple("from")?, multiple("to")?);
    let points = match text("points").parse::<u32>() {
        Ok(p) if (2..=11).contains(&p) => p,
        _ => {
            return Err(format!(
                "points: expected a whole number from 2 to 11, found \"{}\"",
                crate::input::quote(text("points"))
            ));
        }
    };
    let vary = format!(
        "interventions.{}.{}=x{from}:x{to}:{points}",
        offered.id,
        offered.sizing.key()
    );
    Ok((kind, replicates, vary))
}

/// A file a run wrote, by its name in the run's output folder.
pub(super) async fn run_file(
    State(app): State<Shared>,
    UrlPath((id, name)): UrlPath<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let me = analyst(&app, &headers)?;
    let run = seen_run(&app, id, &me)?;
    serve_output(&app.bench.runs, &run, &name)
}

/// A file a shared run wrote.
pub(super) async fn shared_file(
    State(app): State<Shared>,
    UrlPath((token, name)): UrlPath<(String, String)>,
) -> Result<Response, Problem> {
    let run = app
        .store
        .run_shared(&token)?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "there is no such shared run", "/"))?;
    serve_output(&app.bench.runs, &run, &name)
}

/// One of a run's scenario files, as the command line runs it.
pub(super) async fn scenario_file(
    State(app): State<Shared>,
    UrlPath((id, name)): UrlPath<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let me = analyst(&app, &headers)?;
    seen_run(&app, id, &me)?;
    let files = app.store.run_files(id)?;
    let text = files
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "the run has no such scenario file",
                "/workbench",
            )
        })?;
    Ok(download(
        &name,
        "text/plain; charset=utf-8",
        text.into_bytes(),
    ))
}

/// A file as a download named `name`.
fn download(name: &str, kind: &'static str, bytes: Vec<u8>) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// The kind of an output file, and whether it opens in the browser.
fn kind_of(name: &str) -> (&'static str, bool) {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => ("text/html; charset=utf-8", true),
        "svg" => ("image/svg+xml", true),
        "png" => ("image/png", true),
        "csv" => ("text/csv; charset=utf-8", false),
        "json" => ("application/json", false),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            false,
        ),
        "toml" => ("text/plain; charset=utf-8", false),
        _ => ("application/octet-stream", false),
    }
}

/// Output file `name` of a finished run: a name among the files its
/// folder holds (the folder is listed, and the name must be one of the
/// list), read up to [`MOST_SERVED`] bytes.
fn serve_output(runs: &Path, run: &RunRow, name: &str) -> Result<Response, Problem> {
    let missing = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            "the run has no such file",
            "/workbench",
        )
    };
    if run.state != RunState::Done || !outputs(runs, run).iter().any(|(n, _)| n == name) {
        return Err(missing());
    }
    let (_, out) = queue::folders(runs, run.id);
    let path = out.join(name);
    let bytes = crate::input::read_bytes(&path, MOST_SERVED).map_err(|_| missing())?;
    let (kind, inline) = kind_of(name);
    if inline {
        return Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static(kind))],
            bytes,
        )
            .into_response());
    }
    let file = name.rsplit('/').next().unwrap_or(name);
    Ok(download(file, kind, bytes))
}

/// A finished run's output files, by name (`charts/npv.svg`) and size, in
/// name order: the folder's files and its sub-folders' (one level), none
/// that is a link. Nothing before the run is done.
fn outputs(runs: &Path, run: &RunRow) -> Vec<(String, u64)> {
    if run.state != RunState::Done {
        return Vec::new();
    }
    let (_, out) = queue::folders(runs, run.id);
    let mut found = Vec::new();
    let mut look = |dir: &Path, prefix: &str, deeper: bool| -> Vec<PathBuf> {
        let mut more = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return more;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            let name = e.file_name().to_string_lossy().into_owned();
            if meta.is_file() {
                found.push((format!("{prefix}{name}"), meta.len()));
            } else if meta.is_dir() && deeper {
                more.push(e.path());
            }
        }
        more
    };
    for sub in look(&out, "", true) {
        let prefix = format!(
            "{}/",
            sub.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        look(&sub, &prefix, false);
    }
    found.retain(|(n, _)| {
        Path::new(n)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    });
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::kind_of;

    #[test]
    fn pages_open_in_the_browser_and_data_downloads() {
        assert!(kind_of("report.html").1);
        assert!(kind_of("charts/npv.svg").1);
        assert!(!kind_of("upstream.xlsx").1);
        assert!(!kind_of("budget.csv").1);
        assert_eq!(kind_of("x").0, "application/octet-stream");
    }
}

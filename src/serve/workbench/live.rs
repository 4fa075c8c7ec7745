//! What the workbench's pages do live, for a browser that runs its one
//! script (`/workbench/script.js`, served from the binary): the design
//! checked as it is typed, in the command line's words beside the field
//! at fault, and a run's progress streamed to its page. Every page works
//! without the script: Check and Run send the form, and a running run's
//! page refreshes itself.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Form, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Serialize;

use super::super::store::RunRow;
use super::{DesignError, Fields, Problem, Shared, analyst, designed, place_of, seen_run};

/// The script, as written in the source tree.
const SCRIPT: &str = include_str!("script.js");
/// How often a run's progress is read for its stream.
const PROGRESS_EVERY: Duration = Duration::from_millis(400);

/// The workbench's script.
pub(in crate::serve) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// One thing a check said, and the form's field it is about, where one is.
#[derive(Debug, PartialEq, Serialize)]
pub(in crate::serve) struct Said {
    /// The form field's name (`size.hubs`), when the words are about one.
    pub field: Option<String>,
    /// The words, as the command line gives them.
    pub text: String,
}

/// What a check of the design found, as the script shows it.
#[derive(Debug, Serialize)]
pub(in crate::serve) struct Check {
    /// Why the design is refused, if it is.
    pub refused: Option<Said>,
    /// The loader's warnings.
    pub warnings: Vec<Said>,
    /// What was set from the place's own figures.
    pub notes: Vec<String>,
}

/// The form field a scenario field is set from, if the form sets it:
/// `interventions.hubs.targeting.neighbourhoods` is `reach.hubs`.
pub(super) fn form_field(scenario_field: &str) -> Option<String> {
    let rest = scenario_field.strip_prefix("interventions.")?;
    let (id, key) = rest.split_once('.')?;
    let form = match key.split(['.', '[']).collect::<Vec<_>>().as_slice() {
        ["annual_budget" | "caseload" | "places", ..] => "size",
        ["targeting", "neighbourhoods", ..] => "reach",
        ["targeting", "need_at_least", ..] => "need",
        ["targeting", "age_bands", ..] => "ages",
        ["payer", ..] => "payer",
        _ => "take",
    };
    Some(format!("{form}.{id}"))
}

fn said(e: &crate::scenario::ScenarioError) -> Said {
    Said {
        field: e.field.as_deref().and_then(form_field),
        text: e.to_string(),
    }
}

/// Checks the design as typed, queueing nothing: the JSON the script
/// shows beside the form's fields.
pub(in crate::serve) async fn check(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Json<Check>, Problem> {
    analyst(&app, &headers)?;
    let place = place_of(app.bench.library()?, &f)?;
    Ok(Json(match designed(&app, &place, &f).await? {
        Ok(d) => Check {
            refused: None,
            warnings: d.warnings.iter().map(said).collect(),
            notes: d.notes,
        },
        Err(e) => Check {
            refused: Some(match &e {
                DesignError::Field { field, .. } => Said {
                    field: Some(field.clone()),
                    text: e.to_string(),
                },
                DesignError::Scenario(s) => said(s),
                _ => Said {
                    field: None,
                    text: e.to_string(),
                },
            }),
            warnings: Vec::new(),
            notes: Vec::new(),
        },
    }))
}

/// A run's progress as its stream sends it.
#[derive(Debug, PartialEq, Serialize)]
struct Progress {
    state: &'static str,
    done: u64,
    jobs: u64,
    words: String,
}

fn progress_of(r: &RunRow) -> Progress {
    Progress {
        state: r.state.db(),
        done: r.done,
        jobs: r.jobs,
        words: super::pages::state_words(r),
    }
}

/// A run's progress, streamed: an event each time it changes, and `end`
/// once the run is over, when the page loads its results.
pub(in crate::serve) async fn events(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Problem> {
    let me = analyst(&app, &headers)?;
    seen_run(&app, id, &me)?;
    Ok(follow(app, move |app| app.store.run(id).ok().flatten()))
}

/// A shared run's progress, for a colleague's read-only page.
pub(in crate::serve) async fn shared_events(
    State(app): State<Shared>,
    UrlPath(token): UrlPath<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Problem> {
    app.store
        .run_shared(&token)?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "there is no such shared run", "/"))?;
    Ok(follow(app, move |app| {
        app.store.run_shared(&token).ok().flatten()
    }))
}

/// The stream of a run read by `read`: nothing is sent while nothing
/// changes (but the keep-alive), and the stream ends after `end`.
fn follow(
    app: Shared,
    read: impl Fn(&Shared) -> Option<RunRow> + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = (app, read, None::<Progress>, false);
    let stream = stream::unfold(start, |(app, read, last, ended)| async move {
        if ended {
            return None;
        }
        loop {
            // A run gone from the database ends its stream as if over.
            let run = read(&app);
            let now = run.as_ref().map(progress_of);
            let over = run.as_ref().is_none_or(|r| !r.state.is_live());
            if over {
                let data = serde_json::to_string(&now).unwrap_or_default();
                let event = Event::default().event("end").data(data);
                return Some((Ok(event), (app, read, now, true)));
            }
            if now != last {
                let data = serde_json::to_string(&now).unwrap_or_default();
                let event = Event::default().event("progress").data(data);
                return Some((Ok(event), (app, read, now, false)));
            }
            tokio::time::sleep(PROGRESS_EVERY).await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_field_names_the_form_field_that_sets_it() {
        for (scenario, form) in [
            ("interventions.hubs.annual_budget", Some("size.hubs")),
            ("interventions.ta_homes.places[2]", Some("size.ta_homes")),
            (
                "interventions.family_early_help.targeting.neighbourhoods",
                Some("reach.family_early_help"),
            ),
            ("interventions.x.targeting.need_at_least", Some("need.x")),
            ("interventions.x.targeting.age_bands", Some("ages.x")),
            ("interventions.x.payer", Some("payer.x")),
            ("interventions.x.effects[0].multiplier", Some("take.x")),
            ("services.ae.capacity", None),
            ("interventions", None),
        ] {
            assert_eq!(form_field(scenario).as_deref(), form, "{scenario}");
        }
    }
}

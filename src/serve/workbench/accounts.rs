//! Who is at the workbench. Each analyst has an account of their own,
//! made with the server's key (so only the people given the key can make
//! one) and signed in to with their name and password after that. A run
//! belongs to whoever queued it; they see their own runs and the runs
//! their colleagues share, and nobody else's.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::super::store::{Analyst, Outcome, RunRow, SESSION_SECONDS};
use super::super::{Fields, Problem, Shared, cookie, same};

/// The cookie holding a signed-in analyst's session.
pub(super) const ANALYST_COOKIE: &str = "upstream_analyst";

/// Passwords hashed at once: each Argon2 hash holds 19 MB for tens of
/// milliseconds, so a flood of sign-ins waits its turn rather than taking
/// the server's memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// `work` (which hashes a password) off the server's threads, when its
/// turn comes.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Problem> {
    let _turn = HASHING
        .acquire()
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), "/"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), "/"))
}

/// The analyst signed in, or a refusal.
pub(super) fn analyst(app: &super::super::App, headers: &HeaderMap) -> Result<Analyst, Problem> {
    cookie(headers, ANALYST_COOKIE)
        .map(|token| app.store.analyst_of(token))
        .transpose()?
        .flatten()
        .ok_or_else(|| {
            Problem::new(
                StatusCode::FORBIDDEN,
                "sign in to the workbench first: with your name and password, or make an account with the server's key",
                "/workbench",
            )
        })
}

/// Run `id`, if `me` may see it. A run they may not see is answered as
/// one that does not exist, so nobody learns which runs there are.
pub(super) fn seen_run(app: &super::super::App, id: i64, me: &Analyst) -> Result<RunRow, Problem> {
    app.store
        .run(id)?
        .filter(|r| r.seen_by(me))
        .ok_or_else(super::no_such_run)
}

/// Run `id`, if `me` owns it: refused otherwise, for a change only its
/// owner may make.
pub(super) fn owned_run(app: &super::super::App, id: i64, me: &Analyst) -> Result<RunRow, Problem> {
    let run = seen_run(app, id, me)?;
    if !run.owned_by(me) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            format!(
                "only {} can change this run: start your own from its design",
                run.owner_name.as_deref().unwrap_or("its owner")
            ),
            format!("/workbench/runs/{id}"),
        ));
    }
    Ok(run)
}

/// The session's cookie, and the workbench.
fn signed_in(session: &str) -> Response {
    let cookie = format!(
        "{ANALYST_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}"
    );
    (
        [(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).expect("a token is plain ASCII"),
        )],
        Redirect::to("/workbench"),
    )
        .into_response()
}

fn text<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map(String::as_str).unwrap_or("")
}

/// The key refused, in the words the page and the link both use.
pub(super) fn not_the_key() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "that is not this server's key: it was printed when the server started (or given to it with --key)",
        "/workbench",
    )
}

/// Makes an account with the server's key, and signs it in.
pub(in crate::serve) async fn new_account(
    State(app): State<Shared>,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    if !same(text(&f, "key").trim(), &app.key) {
        return Err(not_the_key());
    }
    let (name, password) = (
        text(&f, "name").to_string(),
        text(&f, "password").to_string(),
    );
    let store = app.clone();
    let made = hashing(move || store.store.add_analyst(&name, &password)).await?;
    match made {
        Ok((_, session)) => Ok(signed_in(&session)),
        Err(Outcome::Refused(r)) => Err(Problem::new(StatusCode::BAD_REQUEST, r.0, "/workbench")),
        Err(Outcome::Store(e)) => Err(e.into()),
    }
}

/// Signs an analyst in with their name and password.
pub(in crate::serve) async fn sign_in(
    State(app): State<Shared>,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    let (name, password) = (
        text(&f, "name").to_string(),
        text(&f, "password").to_string(),
    );
    let store = app.clone();
    let session = hashing(move || store.store.sign_in(&name, &password)).await??;
    match session {
        Some((_, session)) => Ok(signed_in(&session)),
        None => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "that name and password do not match an account here; names are as you gave them when you made your account",
            "/workbench",
        )),
    }
}

/// Signs the analyst out: their session ends and its cookie is cleared.
pub(in crate::serve) async fn sign_out(
    State(app): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    if let Some(token) = cookie(&headers, ANALYST_COOKIE) {
        app.store.sign_out(token)?;
    }
    let clear = format!("{ANALYST_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok((
        [(
            header::SET_COOKIE,
            HeaderValue::from_str(&clear).expect("plain ASCII"),
        )],
        Redirect::to("/workbench"),
    )
        .into_response())
}

/// Shares a run with every colleague signed in, or stops sharing it; its
/// owner's choice alone.
pub(in crate::serve) async fn share(
    State(app): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    let me = analyst(&app, &headers)?;
    owned_run(&app, id, &me)?;
    app.store.set_shared(id, text(&f, "shared") == "1")?;
    Ok(Redirect::to(&format!("/workbench/runs/{id}")).into_response())
}

//! `upstream serve`: the learning simulation in the browser. A facilitator
//! sets up a game; teams join with a code, decide each round on a form, and
//! see their place's year within seconds of the facilitator playing it.
//!
//! Access: setting up a game needs the server's facilitator key (given
//! with `--key`, or made and printed at start); a team's pages and
//! decisions need the team's token, and a game's facilitator pages the
//! game's own facilitator token, each kept in a cookie (HttpOnly,
//! SameSite=Lax) set when the team joins or the game is set up. A form
//! posted from another site is refused (its Origin is checked), every
//! answer carries the usual security headers (a content security policy
//! that loads nothing from elsewhere, no framing, no sniffing, no referrer
//! to other sites), and what one person can make the server hold is bounded:
//! [`store::MAX_GAMES`] games, [`store::MAX_STORED_FILES`] of their files,
//! uploads of [`UPLOAD_BYTES`], and [`GAMES_IN_MEMORY`] games checked and
//! held in memory at once, idle ones released. Every
//! change goes through [`store::Store`], one transaction each, so a server
//! killed at any moment loses nothing submitted or computed; a round is
//! played outside the database lock, and recorded in one transaction.

mod chart;
mod pages;
mod reach;
mod standings;
pub mod store;
mod workbench;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;

use crate::game::{Explanation, Game, GameError, Setup, Shock};
use crate::scenario::FileSet;
use store::{NO_CHANGE, Outcome, Refusal, Store, StoreError};

/// Where and what to serve.
#[derive(Clone, Debug)]
pub struct Options {
    /// The address to listen on: 127.0.0.1 for this machine only, 0.0.0.0
    /// for a classroom network.
    pub address: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// The games database (created if missing).
    pub database: PathBuf,
    /// The folder of scenarios a facilitator can choose from.
    pub scenarios: PathBuf,
    /// The facilitator key: setting up a game needs it, and the
    /// workbench's pages (the analyst key).
    pub key: String,
    /// The folder the workbench keeps its runs' files in (created when the
    /// first run starts).
    pub runs: PathBuf,
    /// The `upstream` binary the workbench runs each design with.
    pub runner: PathBuf,
}

/// A facilitator key, made when none is given: 16 lower-case letters and
/// digits (about 79 bits), none that reads as another (no i, l, o, 0 or 1),
/// so it can be read out in a classroom.
pub fn new_key() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut n = rand::random::<u128>();
    let base = ALPHABET.len() as u128;
    (0..16)
        .map(|_| {
            let c = ALPHABET[(n % base) as usize] as char;
            n /= base;
            c
        })
        .collect()
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The database could not be opened.
    #[error("{}: {source}", path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The scenarios folder could not be read.
    #[error("{}: {source}", path.display())]
    Scenarios {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No scenario in the folder has levers to play.
    #[error("{}: no scenario here has an [optimise] table naming levers for teams to fund", .0.display())]
    NothingToPlay(PathBuf),
    /// The `upstream` binary, for the workbench's runs, cannot be found.
    #[error("cannot find the upstream program to run the workbench's runs with: {0}")]
    Runner(std::io::Error),
    /// The address could not be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

struct App {
    store: Arc<Store>,
    /// Every scenario file in the folder, for games to be set up from.
    library: FileSet,
    playable: Vec<pages::Playable>,
    /// The facilitator key.
    key: String,
    /// Games set up and checked, by number: a scenario takes milliseconds
    /// to check, so the games in play are kept, and idle ones released.
    games: Mutex<Recent<Arc<Game>>>,
    /// The commissioner's workbench.
    bench: workbench::Bench,
    /// Where other devices reach this server, for the class screen.
    reach: reach::Reach,
    /// Held while a debrief's explanation is worked out.
    explaining: Mutex<()>,
}

/// The most games held in memory at once, checked and ready to play.
pub const GAMES_IN_MEMORY: usize = 32;
/// How long a game held in memory may go unused before it is released.
const IDLE: Duration = Duration::from_secs(30 * 60);

/// Values by number, at most `most` of them, each released when unused
/// for longer than `idle` or when room is needed for a newer one (the
/// least recently used first). A released game is checked again from the
/// database when next asked for.
struct Recent<T> {
    most: usize,
    idle: Duration,
    held: HashMap<i64, (T, Instant)>,
}

impl<T: Clone> Recent<T> {
    fn new(most: usize, idle: Duration) -> Recent<T> {
        Recent {
            most,
            idle,
            held: HashMap::new(),
        }
    }

    fn get(&mut self, id: i64, now: Instant) -> Option<T> {
        let (value, used) = self.held.get_mut(&id)?;
        *used = now;
        Some(value.clone())
    }

    fn insert(&mut self, id: i64, value: T, now: Instant) {
        let idle = self.idle;
        self.held
            .retain(|_, (_, used)| now.saturating_duration_since(*used) <= idle);
        while self.held.len() >= self.most && !self.held.contains_key(&id) {
            let oldest = self
                .held
                .iter()
                .min_by_key(|(k, (_, used))| (*used, **k))
                .map(|(k, _)| *k)
                .expect("not empty");
            self.held.remove(&oldest);
        }
        self.held.insert(id, (value, now));
    }
}

type Shared = Arc<App>;

/// Reads the scenario folder's files (TOML and CSV, one level of
/// sub-folders) into memory.
fn library(dir: &Path) -> Result<FileSet, std::io::Error> {
    let mut set = FileSet::new();
    let mut add = |path: &Path, name: String| -> Result<(), std::io::Error> {
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("toml" | "csv")
        ) {
            set.insert(&name, crate::input::read(path)?)?;
        }
        Ok(())
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type()?.is_dir() {
            let mut inner: Vec<_> = std::fs::read_dir(e.path())?.collect::<Result<_, _>>()?;
            inner.sort_by_key(|e| e.file_name());
            for f in inner {
                if f.file_type()?.is_file() {
                    add(
                        &f.path(),
                        format!("{name}/{}", f.file_name().to_string_lossy()),
                    )?;
                }
            }
        } else {
            add(&e.path(), name)?;
        }
    }
    Ok(set)
}

/// Where a started server can be opened.
pub struct Ready {
    /// An address to open it at on this machine (the one it listens on,
    /// or a loopback address when it listens on every interface).
    pub here: SocketAddr,
    /// The address teams' devices open, or why they cannot reach it.
    pub network: Result<String, String>,
}

/// Starts the server and serves until the process ends. `on_ready` is
/// told where it can be opened (useful when the port was 0).
pub fn run(options: &Options, on_ready: impl FnOnce(Ready)) -> Result<(), ServeError> {
    let store = Store::open(&options.database).map_err(|source| ServeError::Store {
        path: options.database.clone(),
        source,
    })?;
    let library = library(&options.scenarios).map_err(|source| ServeError::Scenarios {
        path: options.scenarios.clone(),
        source,
    })?;
    let playable: Vec<pages::Playable> = library
        .names()
        .filter(|n| n.ends_with(".toml") && !n.contains('/'))
        .filter_map(|n| {
            let l = library
                .load(n, &crate::scenario::Overrides::default())
                .ok()?;
            l.optimise.as_ref()?;
            Some(pages::Playable {
                file: n.to_string(),
                name: l.config.name.clone(),
                description: l.description.clone().unwrap_or_default(),
            })
        })
        .collect();
    if playable.is_empty() {
        return Err(ServeError::NothingToPlay(options.scenarios.clone()));
    }
    let store = Arc::new(store);
    let runs = std::path::absolute(&options.runs).map_err(|source| ServeError::Scenarios {
        path: options.runs.clone(),
        source,
    })?;
    let bench = workbench::Bench {
        library: crate::workbench::Library::new(&library).map_err(|e| e.to_string()),
        runs: runs.clone(),
        bell: Arc::default(),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (workers, threads) = workbench::queue::workers(cores);
    workbench::queue::start(
        workers,
        store.clone(),
        bench.bell.clone(),
        workbench::queue::Runner {
            program: options.runner.clone(),
            runs,
            threads,
        },
    );
    // Bound before the server is built, so the class screen knows where
    // other devices reach it (the port may have been 0: any free one).
    let address = SocketAddr::new(options.address, options.port);
    let listen = |source| ServeError::Listen { address, source };
    let listener = std::net::TcpListener::bind(address).map_err(listen)?;
    listener.set_nonblocking(true).map_err(listen)?;
    let bound = listener.local_addr().map_err(listen)?;
    let reach = reach::Reach::of(bound);
    let app: Shared = Arc::new(App {
        reach,
        store,
        bench,
        library,
        playable,
        key: options.key.clone(),
        games: Mutex::new(Recent::new(GAMES_IN_MEMORY, IDLE)),
        explaining: Mutex::new(()),
    });
    let router = router(app);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Listen { address, source })?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|source| ServeError::Listen { address, source })?;
        on_ready(Ready {
            here: match bound.ip() {
                ip if ip.is_unspecified() => SocketAddr::new(
                    if ip.is_ipv6() {
                        IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
                    } else {
                        IpAddr::from([127, 0, 0, 1])
                    },
                    bound.port(),
                ),
                _ => bound,
            },
            network: reach::join_address(None, reach),
        });
        axum::serve(listener, router)
            .await
            .map_err(|source| ServeError::Listen { address, source })
    })
}

/// Every page and form the server answers, each behind [`guard`].
fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/glossary", get(glossary))
        .route("/guide", get(guide))
        .route("/games", post(create))
        .route(
            "/games/upload",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_DRAINED)),
        )
        .route("/join", post(join))
        .route("/games/{id}", get(team_page))
        .route("/games/{id}/decision", post(decide))
        .route("/games/{id}/facilitate", get(facilitate))
        .route("/games/{id}/advance", post(advance))
        .route("/games/{id}/deadline", post(deadline))
        .route("/games/{id}/shock", post(shock))
        .route("/games/{id}/shock/withdraw", post(withdraw_shock))
        .route("/games/{id}/reveal", post(reveal))
        .route("/games/{id}/screen", get(class_screen))
        .route("/games/screen.js", get(standings::script))
        .route("/games/form.js", get(pages::form_script))
        .route("/games/{id}/debrief", get(debrief))
        .route("/games/{id}/debrief.html", get(debrief_file))
        .route("/workbench", get(workbench::home))
        .route("/workbench/key", post(workbench::accounts::new_account))
        .route("/workbench/sign-in", post(workbench::accounts::sign_in))
        .route("/workbench/sign-out", post(workbench::accounts::sign_out))
        .route(
            "/workbench/place",
            post(workbench::upload_place).layer(DefaultBodyLimit::max(4 << 20)),
        )
        .route(
            "/workbench/design",
            get(workbench::design).post(workbench::submit),
        )
        .route("/workbench/design/check", post(workbench::live::check))
        .route("/workbench/script.js", get(workbench::live::script))
        .route("/workbench/compare", get(workbench::compare))
        .route("/workbench/runs/{id}", get(workbench::run_page))
        .route("/workbench/runs/{id}/events", get(workbench::live::events))
        .route("/workbench/runs/{id}/cancel", post(workbench::cancel))
        .route(
            "/workbench/runs/{id}/share",
            post(workbench::accounts::share),
        )
        .route("/workbench/runs/{id}/ask", post(workbench::ask))
        .route(
            "/workbench/runs/{id}/files/{*name}",
            get(workbench::run_file),
        )
        .route(
            "/workbench/runs/{id}/scenario/{name}",
            get(workbench::scenario_file),
        )
        .route("/shared/{token}", get(workbench::shared_page))
        .route(
            "/shared/{token}/events",
            get(workbench::live::shared_events),
        )
        .route("/shared/{token}/files/{*name}", get(workbench::shared_file))
        .layer(axum::middleware::from_fn(guard))
        .with_state(app)
}

/// Every request passes here: a form posted from another site is refused
/// before it reaches a handler, and every answer gets the security headers.
async fn guard(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if request.method() == axum::http::Method::POST && !same_origin(request.headers()) {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "this form was sent from another site; open Upstream's own page and send it from there",
            "/",
        )
        .into_response();
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            // The pages load nothing from elsewhere; the only script is
            // the workbench's own, served from the binary.
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
             script-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // The facilitator's links carry keys: no other site sees them.
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether a POST comes from this server's own pages. A current browser
/// says so in `Sec-Fetch-Site`; an older one names the page's origin
/// (scheme, host and port) in `Origin`. A request with neither (a script, a
/// test) comes from no other site's page.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            let origin = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            origin == Some(host)
        }
        (Some(_), None) => false,
    }
}

/// A page that refuses or fails, with its status.
struct Problem {
    status: StatusCode,
    text: String,
    back: String,
}

impl Problem {
    fn new(status: StatusCode, text: impl Into<String>, back: impl Into<String>) -> Problem {
        Problem {
            status,
            text: text.into(),
            back: back.into(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let title = if self.status.is_server_error() {
            "Something went wrong"
        } else {
            "Not done"
        };
        (self.status, pages::message(title, &self.text, &self.back)).into_response()
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), "/")
    }
}

fn refused(back: &str) -> impl Fn(Outcome) -> Problem + '_ {
    move |o| match o {
        Outcome::Refused(Refusal(text)) => Problem::new(StatusCode::CONFLICT, text, back),
        Outcome::Store(e) => e.into(),
    }
}

/// Keeps `token` in cookie `name` and opens `to`: a link's token leaves
/// the address bar.
fn keep(name: &str, token: &str, to: &str) -> Response {
    ([set_cookie(name, token)], Redirect::to(to)).into_response()
}

/// The value of cookie `name` in the request, if sent.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn team_cookie(game: i64) -> String {
    format!("upstream_team_{game}")
}

fn facilitator_cookie(game: i64) -> String {
    format!("upstream_facilitator_{game}")
}

/// A cookie for this site only, out of scripts' reach; sent with another
/// site's links (so the facilitator's link works from an email) but not
/// with its forms.
fn set_cookie(name: &str, value: &str) -> (header::HeaderName, HeaderValue) {
    (
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000"
        ))
        .expect("a token is plain ASCII"),
    )
}

/// Whether two tokens are equal, taking the same time wherever they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

impl App {
    fn row(&self, id: i64) -> Result<store::GameRow, Problem> {
        self.store
            .game(id)?
            .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "there is no such game", "/"))
    }

    fn game(&self, row: &store::GameRow) -> Result<Arc<Game>, Problem> {
        if let Some(g) = self
            .games
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(row.id, Instant::now())
        {
            return Ok(g);
        }
        let files = self.store.files(row.id)?;
        let game = Game::new(&files, row.setup.clone())
            .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), "/"))?;
        let game = Arc::new(game);
        self.games.lock().unwrap_or_else(|e| e.into_inner()).insert(
            row.id,
            game.clone(),
            Instant::now(),
        );
        Ok(game)
    }

    /// The game, if the request carries its facilitator's token.
    fn facilitator(&self, id: i64, headers: &HeaderMap) -> Result<store::GameRow, Problem> {
        let row = self.row(id)?;
        match cookie(headers, &facilitator_cookie(id)) {
            Some(t) if same(t, &row.facilitator) => Ok(row),
            _ => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "this page is the facilitator's: open it from the link shown when the game was set up",
                "/",
            )),
        }
    }

    /// The game and the team whose token the request carries.
    fn team(&self, id: i64, headers: &HeaderMap) -> Result<(store::GameRow, store::Team), Problem> {
        let row = self.row(id)?;
        let forbidden = || {
            Problem::new(
                StatusCode::FORBIDDEN,
                "you are not a team of this game: join it with its code",
                "/",
            )
        };
        let token = cookie(headers, &team_cookie(id)).ok_or_else(forbidden)?;
        let team = self.store.team_by_token(id, token)?.ok_or_else(forbidden)?;
        Ok((row, team))
    }
}

#[derive(serde::Deserialize)]
struct HomeQuery {
    #[serde(default)]
    key: Option<String>,
    /// A game's code, from the class screen's QR code.
    #[serde(default)]
    code: Option<String>,
}

/// The home page: joining a game, and setting one up, the facilitator key
/// filled in when the page was opened with it (the link printed at start).
async fn home(State(app): State<Shared>, Query(q): Query<HomeQuery>) -> Markup {
    let key = q.key.filter(|k| same(k, &app.key));
    // Only a code's own letters are filled in: the link is anyone's.
    let code = q
        .code
        .filter(|c| c.len() <= 12 && c.chars().all(|c| c.is_ascii_alphanumeric()));
    pages::home(&app.playable, key.as_deref(), code.as_deref())
}

/// Refuses a set-up without the facilitator key.
fn facilitator_key(app: &App, given: Option<&str>) -> Result<(), Problem> {
    match given {
        Some(k) if same(k.trim(), &app.key) => Ok(()),
        _ => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "setting up a game needs the facilitator key, printed when the server started (or given to it with --key)",
            "/",
        )),
    }
}

async fn guide() -> Markup {
    pages::guide()
}

async fn glossary() -> Markup {
    pages::glossary()
}

type Fields = BTreeMap<String, String>;

/// A whole number from a form field, or a refusal naming the field.
fn whole(f: &Fields, name: &str, label: &str) -> Result<u32, Problem> {
    let text = f.get(name).map(|s| s.trim()).unwrap_or("");
    text.replace(',', "").parse().map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            format!(
                "{label}: expected a whole number, found \"{}\"",
                crate::input::quote(text)
            ),
            "/",
        )
    })
}

/// An amount in £ from a form field ("£150,000", "£750k", "1.5m"; blank
/// is nothing), or `None` when not an amount.
fn pounds(text: &str) -> Option<f64> {
    if text.trim().is_empty() {
        return Some(0.0);
    }
    crate::input::amount(text)
}

/// A game as the set-up form asks for it.
struct Asked {
    name: String,
    setup: Setup,
    practice: bool,
}

/// The game's name and settings from the set-up form, for scenario
/// `scenario`.
fn setup_from(f: &Fields, scenario: String) -> Result<Asked, Problem> {
    let bad = |t: String| Problem::new(StatusCode::BAD_REQUEST, t, "/");
    let name = f.get("name").map(|s| s.trim()).unwrap_or("");
    if name.is_empty() || name.chars().count() > 80 {
        return Err(bad("name: a game needs a name of 1 to 80 characters".into()));
    }
    let budget = match f.get("budget").map(|s| s.trim()).unwrap_or("") {
        "" => None,
        text => Some(pounds(text).ok_or_else(|| {
            bad(format!(
                "budget: expected an amount in £, found \"{}\"",
                crate::input::quote(text)
            ))
        })?),
    };
    let setup = Setup {
        scenario,
        rounds: whole(f, "rounds", "rounds")?,
        residents: whole(f, "residents", "residents")?,
        replicates: whole(f, "replicates", "replicates")?,
        budget,
        seed: rand::random::<u32>() as u64,
    };
    Ok(Asked {
        name: name.to_string(),
        setup,
        practice: f.get("practice").is_some_and(|v| v == "1"),
    })
}

/// Checks and records a game set up from `files`, and sends the
/// facilitator to its dashboard.
fn start_game(app: &App, asked: Asked, files: &FileSet) -> Result<Response, Problem> {
    let Asked {
        name,
        setup,
        practice,
    } = asked;
    let game = Game::new(files, setup.clone()).map_err(|e| match e {
        GameError::Setting(_) | GameError::Scenario(_) => {
            Problem::new(StatusCode::BAD_REQUEST, e.to_string(), "/")
        }
        other => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string(), "/"),
    })?;
    let id = app
        .store
        .create_game(&name, &setup, files, practice)
        .map_err(refused("/"))?;
    app.games
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, Arc::new(game), Instant::now());
    let row = app.row(id)?;
    Ok(Redirect::to(&format!("/games/{id}/facilitate?key={}", row.facilitator)).into_response())
}

async fn create(State(app): State<Shared>, Form(f): Form<Fields>) -> Result<Response, Problem> {
    facilitator_key(&app, f.get("key").map(String::as_str))?;
    let scenario = f.get("scenario").cloned().unwrap_or_default();
    if !app.playable.iter().any(|p| p.file == scenario) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            format!(
                "scenario: expected one of the scenarios offered, found \"{}\"",
                crate::input::quote(&scenario)
            ),
            "/",
        ));
    }
    start_game(&app, setup_from(&f, scenario)?, &app.library)
}

/// The most a facilitator may upload with a scenario, in bytes and files.
pub const UPLOAD_BYTES: usize = 16 << 20;
/// The most of an upload read before the connection is cut: an upload
/// over [`UPLOAD_BYTES`] is read to its end (up to this) and discarded, so
/// the browser shows the refusal rather than a broken connection.
const UPLOAD_DRAINED: usize = 4 * UPLOAD_BYTES;
const UPLOAD_FILES: usize = 50;

/// Sets up a game from scenario files uploaded with the form. The game's
/// files are the bundled scenarios with the uploaded ones laid over them
/// (so an upload may extend a bundled scenario): a scenario reaches no
/// file outside these, and an error names a file, line and field but
/// shows no file's contents.
async fn upload(State(app): State<Shared>, mut form: Multipart) -> Result<Response, Problem> {
    let bad = |t: String| Problem::new(StatusCode::BAD_REQUEST, t, "/");
    let mut fields = Fields::new();
    let mut uploaded: Vec<(String, String)> = Vec::new();
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is over the {} upload limit; upload the scenario and the files it reads, not a whole folder",
                crate::format::size(UPLOAD_BYTES as u64)
            ),
            "/",
        )
    };
    let unread = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            bad("the upload could not be read as a form with files".into())
        }
    };
    let (mut received, mut over) = (0usize, false);
    while let Some(mut field) = form.next_field().await.map_err(unread)? {
        let key = field.name().unwrap_or("").to_string();
        if key == "files" {
            // The key comes first in the form: nothing is held for a
            // set-up without it.
            facilitator_key(&app, fields.get("key").map(String::as_str))?;
        }
        // Browsers send a file's own name; some older ones its whole path.
        let name = field
            .file_name()
            .unwrap_or("")
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(unread)? {
            received += chunk.len();
            over |= received > UPLOAD_BYTES;
            if !over {
                bytes.extend_from_slice(&chunk);
            }
        }
        if over {
            continue;
        }
        if key != "files" {
            fields.insert(key, String::from_utf8_lossy(&bytes).into_owned());
            continue;
        }
        if name.is_empty() && bytes.is_empty() {
            continue; // the file box left empty
        }
        let shown = crate::input::quote(&name);
        if !(name.ends_with(".toml") || name.ends_with(".csv")) {
            return Err(bad(format!(
                "{shown}: expected scenario files ending .toml and data files ending .csv"
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| bad(format!("{shown}: expected a text file (UTF-8)")))?;
        if uploaded.iter().any(|(n, _)| *n == name) {
            return Err(bad(format!("{shown}: uploaded twice")));
        }
        uploaded.push((name, text));
    }
    if over {
        return Err(too_large());
    }
    facilitator_key(&app, fields.get("key").map(String::as_str))?;
    if uploaded.is_empty() {
        return Err(bad(
            "files: choose your scenario file (.toml) and any files it reads".into(),
        ));
    }
    if uploaded.len() > UPLOAD_FILES {
        return Err(bad(format!(
            "files: at most {UPLOAD_FILES} files, found {}",
            uploaded.len()
        )));
    }
    let mut files = app.library.clone();
    for (name, text) in &uploaded {
        files
            .insert(name, text.clone())
            .map_err(|e| bad(format!("{}: {e}", crate::input::quote(name))))?;
    }
    let scenarios: Vec<&str> = uploaded
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    let chosen = fields.get("scenario_file").map(|s| s.trim()).unwrap_or("");
    let scenario = if !chosen.is_empty() {
        if !scenarios.contains(&chosen) {
            return Err(bad(format!(
                "scenario file: expected one of the .toml files uploaded ({}), found \"{}\"",
                scenarios.join(", "),
                crate::input::quote(chosen)
            )));
        }
        chosen.to_string()
    } else {
        // The one uploaded scenario with levers to play; the others are
        // what it extends.
        let with_levers: Vec<&str> = scenarios
            .iter()
            .copied()
            .filter(|n| {
                files
                    .load(n, &crate::scenario::Overrides::default())
                    .is_ok_and(|l| l.optimise.is_some())
            })
            .collect();
        match (with_levers.as_slice(), scenarios.as_slice()) {
            ([one], _) | ([], [one]) => one.to_string(),
            ([], []) => {
                return Err(bad(
                    "files: no scenario (.toml) was uploaded, only data files".into(),
                ));
            }
            ([], _) => {
                return Err(bad(format!(
                    "files: none of {} loads with an [optimise] table naming the levers; name the game's scenario under \"Scenario file\" to see what is wrong with it",
                    scenarios.join(", ")
                )));
            }
            (many, _) => {
                return Err(bad(format!(
                    "scenario file: {} each have levers to play; name the one to play",
                    many.join(", ")
                )));
            }
        }
    };
    start_game(&app, setup_from(&fields, scenario)?, &files)
}

async fn join(State(app): State<Shared>, Form(f): Form<Fields>) -> Result<Response, Problem> {
    let code = f.get("code").map(|s| s.as_str()).unwrap_or("");
    let id = app.store.game_by_code(code)?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "no game has that code: check it with your facilitator",
            "/",
        )
    })?;
    let name = f.get("team").map(|s| s.as_str()).unwrap_or("");
    let (_, token) = app.store.join(id, name).map_err(refused("/"))?;
    Ok(keep(&team_cookie(id), &token, &format!("/games/{id}")))
}

#[derive(serde::Deserialize)]
struct Notice {
    #[serde(default)]
    saved: Option<u32>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    played: Option<u32>,
}

async fn team_page(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    Query(q): Query<Notice>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    // A team's own link (from another of its devices, or given back by the
    // facilitator) carries its token once, to set the cookie.
    if let Some(key) = q.key {
        if app.store.team_by_token(id, &key)?.is_none() {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "this team link is not right for this game: ask your facilitator for your team's link, or join with the game's code",
                "/",
            ));
        }
        return Ok(keep(&team_cookie(id), &key, &format!("/games/{id}")));
    }
    let notice = q
        .saved
        .map(|r| format!("Your decision for {} is saved.", store::round_name(r)));
    Ok(team_view(&app, id, &headers, notice.as_deref(), None)?.into_response())
}

/// A team's page: `notice` says what was just done; `typed` is a refused
/// decision's form as it was sent, shown again with why it was refused.
fn team_view(
    app: &App,
    id: i64,
    headers: &HeaderMap,
    notice: Option<&str>,
    typed: Option<&pages::Typed>,
) -> Result<Markup, Problem> {
    let (row, team) = app.team(id, headers)?;
    let game = app.game(&row)?;
    let shocks = app.store.shocks(id)?;
    let decisions = app.store.decisions(id)?;
    let results = app.store.results(id)?;
    let mine: Vec<_> = results
        .iter()
        .filter(|(t, _)| *t == team.id)
        .map(|(_, r)| r)
        .collect();
    let round = row.next_round();
    let current = decisions
        .iter()
        .find(|d| d.team == team.id && d.round == round);
    // The team's last decision it made itself, to start this round's from.
    let previous = decisions
        .iter()
        .filter(|d| d.team == team.id && d.round < round && d.submitted > 0)
        .max_by_key(|d| d.round);
    let token = cookie(headers, &team_cookie(id)).unwrap_or_default();
    let own_link = format!("{}games/{id}?key={token}", for_devices(app, headers));
    Ok(pages::team(
        &row,
        (&team, &own_link),
        game.cards(),
        game.budget_in(round, &shocks),
        (current, previous, typed),
        &shocks,
        &game.services_with_places(),
        &mine,
        notice,
    ))
}

/// The start of a link other devices can open: the class screen's join
/// address, else (a server they cannot reach) the address this page was
/// opened at, for another browser on this machine.
fn for_devices(app: &App, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    reach::join_address(host, app.reach)
        .unwrap_or_else(|_| format!("http://{}/", host.unwrap_or("localhost")))
}

async fn decide(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    match decision(&app, id, &headers, &f) {
        Ok(round) => Ok(Redirect::to(&format!("/games/{id}?saved={round}")).into_response()),
        // A refusal is shown on the form, with what was typed kept.
        Err(p) if matches!(p.status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT) => {
            let typed = pages::Typed {
                amounts: (0..app.game(&app.team(id, &headers)?.0)?.levers().len())
                    .map(|i| f.get(&format!("amount_{i}")).cloned().unwrap_or_default())
                    .collect(),
                expectation: f.get("expectation").cloned().unwrap_or_default(),
                refusal: p.text.clone(),
            };
            let page = team_view(&app, id, &headers, None, Some(&typed))?;
            Ok((p.status, page).into_response())
        }
        Err(p) => Err(p),
    }
}

/// Checks and saves a team's decision from its form; returns its round.
fn decision(app: &App, id: i64, headers: &HeaderMap, f: &Fields) -> Result<u32, Problem> {
    let (row, team) = app.team(id, headers)?;
    let back = format!("/games/{id}");
    let game = app.game(&row)?;
    let levers = game.levers();
    let bad = |t: String| Problem::new(StatusCode::BAD_REQUEST, t, back.clone());
    for k in f.keys() {
        let known = k == "round"
            || k == "expectation"
            || k.strip_prefix("amount_")
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| i < levers.len());
        if !known {
            return Err(bad(format!(
                "the form has a field \"{k}\" this game does not have; reload the page"
            )));
        }
    }
    let round = whole(f, "round", "round").map_err(|p| bad(p.text))?;
    let mut amounts = Vec::with_capacity(levers.len());
    for (i, l) in levers.iter().enumerate() {
        let text = f
            .get(&format!("amount_{i}"))
            .ok_or_else(|| bad(format!("{}: no amount was sent; reload the page", l.name)))?;
        amounts.push(pounds(text).ok_or_else(|| {
            bad(format!(
                "{}: expected an amount in £, found \"{}\"",
                l.name,
                text.trim()
            ))
        })?);
    }
    let expectation = f.get("expectation").map(|s| s.trim()).unwrap_or("");
    if expectation.chars().count() > 2_000 {
        return Err(bad("what you expect: at most 2,000 characters".into()));
    }
    app.store
        .decide(id, team.id, round, &amounts, expectation, |shocks| {
            game.check(round, shocks, &amounts)
                .map_err(|e| Refusal(e.to_string()))
        })
        .map_err(refused(&back))?;
    Ok(round)
}

async fn facilitate(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    Query(q): Query<Notice>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    // The link shown at set-up carries the token once, to set the cookie.
    if let Some(key) = q.key {
        let row = app.row(id)?;
        if !same(&key, &row.facilitator) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "this facilitator's link is not right for this game",
                "/",
            ));
        }
        return Ok(keep(
            &facilitator_cookie(id),
            &key,
            &format!("/games/{id}/facilitate"),
        ));
    }
    let row = app.facilitator(id, &headers)?;
    let game = app.game(&row)?;
    let teams = app.store.teams(id)?;
    let decisions = app.store.decisions(id)?;
    let results = app.store.results(id)?;
    let shocks = app.store.shocks(id)?;
    let round = row.next_round();
    let submitted = decided(&teams, &decisions, round);
    let latest: Vec<_> = teams
        .iter()
        .map(|t| {
            // The game so far: the practice round is set aside.
            results
                .iter()
                .rev()
                .find(|(team, r)| *team == t.id && r.round > 0)
                .map(|(_, r)| r)
        })
        .collect();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let link = format!(
        "http://{host}/games/{id}/facilitate?key={}",
        row.facilitator
    );
    let devices = for_devices(&app, &headers);
    let tokens = app.store.team_tokens(id)?;
    let team_links: Vec<String> = teams
        .iter()
        .map(|t| {
            tokens
                .iter()
                .find(|(team, _)| *team == t.id)
                .map_or_else(String::new, |(_, token)| {
                    format!("{devices}games/{id}?key={token}")
                })
        })
        .collect();
    let notice = q.played.map(|r| {
        format!(
            "{} is played: every team can see its results.",
            store::round_title(r)
        )
    });
    Ok(pages::facilitate(
        &row,
        &link,
        (&teams, &team_links),
        &submitted,
        &latest,
        &shocks,
        &game.services_with_places(),
        game.budget_in(round, &shocks),
        notice.as_deref(),
    )
    .into_response())
}

/// Whether each team has a decision for `round`.
fn decided(teams: &[store::Team], decisions: &[store::Decision], round: u32) -> Vec<bool> {
    teams
        .iter()
        .map(|t| decisions.iter().any(|d| d.team == t.id && d.round == round))
        .collect()
}

/// Plays the next round of game `id` for every team and records it.
fn play_next(
    store: &Store,
    game: &Game,
    id: i64,
    (round, anyway): (u32, bool),
) -> Result<u32, Outcome> {
    let round = store.close(id, round, anyway)?;
    // A fault in playing (a panic) is caught here, so the round is reopened
    // rather than left closed until the server restarts.
    let played = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        play_closed(store, game, id, round)
    }))
    .unwrap_or_else(|_| {
        Err(Outcome::Refused(Refusal(
            "the round could not be played: a fault in Upstream (please report it); decisions are open again"
                .into(),
        )))
    });
    if played.is_err() {
        // Nothing was recorded: let teams decide again and the facilitator
        // play the round again.
        store.reopen(id)?;
    }
    played.map(|_| round)
}

fn play_closed(store: &Store, game: &Game, id: i64, round: u32) -> Result<(), Outcome> {
    let fail =
        |e: GameError| Outcome::Refused(Refusal(format!("the round could not be played: {e}")));
    // The practice round (0) is a first year in a game of its own, before
    // any shock, set aside once played.
    let practice = round == 0;
    let practising;
    let (game, year) = if practice {
        practising = game.practice();
        (&practising, 1)
    } else {
        (game, round)
    };
    let teams = store.teams(id)?;
    let decisions = store.decisions(id)?;
    let shocks = if practice {
        Vec::new()
    } else {
        store.shocks(id)?
    };
    let levers = game.levers().len();
    let zeros = vec![vec![0.0; levers]; year as usize];
    let decided = if practice { 0..=0 } else { 1..=round };
    let amounts = paths(&teams, &decisions, decided, levers);
    let unfunded: Vec<(i64, Vec<f64>)> = teams
        .iter()
        .filter(|t| !decisions.iter().any(|d| d.team == t.id && d.round == round))
        .map(|t| (t.id, vec![0.0; levers]))
        .collect();
    let mut states = if year == 1 {
        let start = game.burn_in().map_err(fail)?;
        std::iter::once(NO_CHANGE)
            .chain(teams.iter().map(|t| t.id))
            .map(|p| (p, start.clone()))
            .collect()
    } else {
        store.states(id, round - 1)?
    };
    let mut paths = Vec::with_capacity(teams.len() + 1);
    for (p, a) in
        std::iter::once((NO_CHANGE, &zeros)).chain(teams.iter().map(|t| t.id).zip(&amounts))
    {
        let s = states.remove(&p).ok_or_else(|| {
            Refusal(format!(
                "the saved year of path {p} is missing; the round cannot be played"
            ))
        })?;
        paths.push((a.as_slice(), s));
    }
    let refs: Vec<(&[Vec<f64>], &crate::game::Snapshots)> =
        paths.iter().map(|(a, s)| (*a, s)).collect();
    let played = game.play(year, &shocks, &refs).map_err(fail)?;
    let mut results = Vec::with_capacity(teams.len());
    for (i, t) in teams.iter().enumerate() {
        let mut r = game
            .results(year, &shocks, &played[0], (&amounts[i], &played[i + 1]))
            .map_err(fail)?;
        r.round = round;
        results.push((t.id, r));
    }
    let saved: Vec<(i64, &crate::game::Snapshots)> = std::iter::once(NO_CHANGE)
        .chain(teams.iter().map(|t| t.id))
        .zip(played.iter().map(|p| &p.snapshots))
        .collect();
    let results: Vec<(i64, &crate::game::RoundResults)> =
        results.iter().map(|(t, r)| (*t, r)).collect();
    store.record_round(id, round, &saved, &results, &unfunded)?;
    Ok(())
}

/// Each team's amounts `[round][lever]` over `rounds`. A round a team did
/// not decide funds nothing: before it joined (its place was the no-change
/// place), or a round it did not submit, recorded as a decision of £0.
fn paths(
    teams: &[store::Team],
    decisions: &[store::Decision],
    rounds: std::ops::RangeInclusive<u32>,
    levers: usize,
) -> Vec<Vec<Vec<f64>>> {
    teams
        .iter()
        .map(|t| {
            rounds
                .clone()
                .map(|r| {
                    decisions
                        .iter()
                        .find(|d| d.team == t.id && d.round == r)
                        .map_or_else(|| vec![0.0; levers], |d| d.amounts.clone())
                })
                .collect()
        })
        .collect()
}

/// The debrief's explanation of the rounds played: worked out once, the
/// first time it is asked for, then kept. One is worked out at a time, so
/// a class opening the debrief together waits for one, not thirty.
fn explanation(
    app: &App,
    row: &store::GameRow,
    game: &Game,
) -> Result<Option<Explanation>, Problem> {
    if row.played == 0 {
        return Ok(None);
    }
    // One kept before a team joined (between rounds) does not explain it.
    let teams = app.store.teams(row.id)?;
    let current =
        |kept: &Option<Explanation>| kept.as_ref().is_some_and(|e| e.teams.len() == teams.len());
    let kept = app.store.explanation(row.id, row.played)?;
    if current(&kept) {
        return Ok(kept);
    }
    let _one = app.explaining.lock().unwrap_or_else(|e| e.into_inner());
    let kept = app.store.explanation(row.id, row.played)?;
    if current(&kept) {
        return Ok(kept);
    }
    let decisions = app.store.decisions(row.id)?;
    let amounts = paths(&teams, &decisions, 1..=row.played, game.levers().len());
    let explained = game
        .explain(row.played, &app.store.shocks(row.id)?, &amounts)
        .map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the debrief could not replay the game: {e}"),
                format!("/games/{}", row.id),
            )
        })?;
    app.store.keep_explanation(row.id, &explained)?;
    Ok(Some(explained))
}

/// Plays the round the facilitator's page names (`round`): a page out of
/// date plays nothing; with teams still to decide, only when `anyway`.
async fn advance(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    let row = app.facilitator(id, &headers)?;
    let game = app.game(&row)?;
    let back = format!("/games/{id}/facilitate");
    let round = whole(&f, "round", "round").map_err(|p| Problem {
        back: back.clone(),
        ..p
    })?;
    let anyway = f.get("anyway").is_some_and(|v| v == "1");
    let worker = app.clone();
    let round =
        tokio::task::spawn_blocking(move || play_next(&worker.store, &game, id, (round, anyway)))
            .await
            .map_err(|e| {
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.to_string(),
                    back.clone(),
                )
            })?
            .map_err(refused(&back))?;
    Ok(Redirect::to(&format!("/games/{id}/facilitate?played={round}")).into_response())
}

async fn deadline(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    app.facilitator(id, &headers)?;
    let back = format!("/games/{id}/facilitate");
    // Blank lifts the deadline; 0 closes decisions now.
    let at = if f.get("minutes").is_none_or(|m| m.trim().is_empty()) {
        None
    } else {
        let minutes = whole(&f, "minutes", "minutes").map_err(|p| Problem {
            back: back.clone(),
            ..p
        })?;
        if minutes > 240 {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                format!("minutes: expected 0 to 240, found {minutes}"),
                back,
            ));
        }
        Some(store::now() + 60 * minutes as i64)
    };
    app.store.set_deadline(id, at)?;
    Ok(Redirect::to(&back).into_response())
}

async fn shock(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    let row = app.facilitator(id, &headers)?;
    let back = format!("/games/{id}/facilitate");
    let bad = |t: String| Problem::new(StatusCode::BAD_REQUEST, t, back.clone());
    let percent = whole(&f, "percent", "size").map_err(|p| bad(p.text))?;
    let shock = match f.get("kind").map(|s| s.as_str()) {
        Some("cost_of_living") if (1..=100).contains(&percent) => Shock::CostOfLiving {
            multiplier: 1.0 + percent as f64 / 100.0,
        },
        Some("budget_cut") if (1..=100).contains(&percent) => Shock::BudgetCut {
            share: percent as f64 / 100.0,
        },
        Some("provider_failure") if (1..=100).contains(&percent) => {
            let service = f.get("service").cloned().unwrap_or_default();
            let services = app.game(&row)?.services_with_places();
            if !services.iter().any(|(id, _)| *id == service) {
                return Err(bad(format!(
                    "service: expected one of {}, found \"{service}\"",
                    services
                        .iter()
                        .map(|(id, _)| id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            Shock::ProviderFailure {
                service,
                share: percent as f64 / 100.0,
            }
        }
        Some("cost_of_living" | "budget_cut" | "provider_failure") => {
            return Err(bad(format!("size: expected 1 to 100%, found {percent}%")));
        }
        other => {
            return Err(bad(format!(
                "kind: expected cost_of_living, budget_cut or provider_failure, found \"{}\"",
                other.unwrap_or("")
            )));
        }
    };
    app.store.announce(id, &shock).map_err(refused(&back))?;
    Ok(Redirect::to(&back).into_response())
}

async fn withdraw_shock(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    app.facilitator(id, &headers)?;
    let back = format!("/games/{id}/facilitate");
    app.store.withdraw_shock(id).map_err(refused(&back))?;
    Ok(Redirect::to(&back).into_response())
}

async fn reveal(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Problem> {
    app.facilitator(id, &headers)?;
    app.store
        .reveal(id, f.get("revealed").is_some_and(|v| v == "1"))?;
    Ok(Redirect::to(&format!("/games/{id}/facilitate")).into_response())
}

/// The class screen, for the facilitator or any team of the game: read
/// only, it shows every team's standing and no one's private link.
async fn class_screen(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Markup, Problem> {
    let row = match app.facilitator(id, &headers) {
        Ok(row) => row,
        Err(refusal) => app.team(id, &headers).map_err(|_| refusal)?.0,
    };
    let game = app.game(&row)?;
    let teams = app.store.teams(id)?;
    let decisions = app.store.decisions(id)?;
    let results = app.store.results(id)?;
    let shocks = app.store.shocks(id)?;
    let round = row.next_round();
    let decided = decided(&teams, &decisions, round);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let services = game.services_with_places();
    let standings = standings::standings(&teams, &results);
    Ok(standings::screen(&standings::Screen {
        game: &row,
        join: reach::join_address(host, app.reach),
        standings: &standings,
        decided: &decided,
        news: shocks
            .iter()
            .map(|s| pages::shock_text(s, &services))
            .collect(),
    }))
}

/// The debrief, for the facilitator, or for a team once revealed.
fn debrief_page(app: &App, id: i64, headers: &HeaderMap) -> Result<Markup, Problem> {
    let row = match app.facilitator(id, headers) {
        Ok(row) => row,
        Err(refusal) => {
            let (row, _) = app.team(id, headers).map_err(|_| refusal)?;
            if !row.revealed {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "the facilitator has not shown the debrief to teams yet",
                    format!("/games/{id}"),
                ));
            }
            row
        }
    };
    let game = app.game(&row)?;
    let explained = explanation(app, &row, &game)?;
    Ok(pages::debrief(&pages::Debrief {
        game: &row,
        teams: &app.store.teams(id)?,
        levers: &game.levers(),
        decisions: &app.store.decisions(id)?,
        results: &app.store.results(id)?,
        shocks: &app.store.shocks(id)?,
        services: &game.services_with_places(),
        explained: explained.as_ref(),
    }))
}

/// The debrief page, worked out away from the server's event loop: the
/// first opening replays the game.
async fn debrief_off_loop(app: Shared, id: i64, headers: HeaderMap) -> Result<Markup, Problem> {
    tokio::task::spawn_blocking(move || debrief_page(&app, id, &headers))
        .await
        .map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.to_string(),
                format!("/games/{id}"),
            )
        })?
}

async fn debrief(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Markup, Problem> {
    debrief_off_loop(app, id, headers).await
}

async fn debrief_file(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let page = debrief_off_loop(app, id, headers).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("attachment; filename=\"debrief-game-{id}.html\""))
                .expect("plain ASCII"),
        )],
        page,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn games_in_memory_are_bounded_and_idle_ones_released() {
        let start = Instant::now();
        let mut recent = Recent::new(3, Duration::from_secs(60));
        for id in 0..3 {
            recent.insert(id, id * 10, start);
        }
        // Game 0 used again: game 1 is now the least recently used.
        let later = start + Duration::from_secs(1);
        assert_eq!(recent.get(0, later), Some(0));
        recent.insert(3, 30, later);
        assert_eq!(recent.held.len(), 3);
        assert_eq!(recent.get(1, later), None);
        assert_eq!(recent.get(0, later), Some(0));
        // Three hundred games set up one after another hold three.
        for id in 4..304 {
            recent.insert(id, id, later);
        }
        assert_eq!(recent.held.len(), 3);
        // Unused past the idle time: released when the next one comes.
        let idle = later + Duration::from_secs(61);
        recent.insert(1_000, 1, idle);
        assert_eq!(recent.held.len(), 1);
        assert_eq!(recent.get(1_000, idle), Some(1));
    }

    #[test]
    fn a_post_from_another_site_is_told_apart() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        let host = ("host", "10.0.0.5:8080");
        assert!(same_origin(&headers(&[host])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://10.0.0.5:8080")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://10.0.0.5:8081")
        ])));
        assert!(!same_origin(&headers(&[host, ("origin", "null")])));
        assert!(!same_origin(&headers(&[(
            "origin",
            "http://10.0.0.5:8080"
        )])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
    }

    #[test]
    fn a_made_key_is_long_and_readable() {
        let (a, b) = (new_key(), new_key());
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert!(!a.contains(['i', 'l', 'o', '0', '1']));
    }
}

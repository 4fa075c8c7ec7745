//! Games, teams, decisions, shocks, results and each path's saved year, in
//! one SQLite database. Every change is one transaction, committed before
//! the page that asked for it answers, with the journal in write-ahead mode
//! and synced in full: a server killed at any moment loses no submitted
//! decision and no computed round, and never holds half a round.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

pub mod analysts;
mod runs;

pub use analysts::{Analyst, SESSION_SECONDS};
pub use runs::{Kind, Lane, MAX_RUNS, RunRow, State};

use crate::game::{Announced, Explanation, RoundResults, Setup, Snapshots};
use crate::scenario::FileSet;

/// The no-change path's number among a game's paths; teams are numbered
/// from 1 by the database.
pub const NO_CHANGE: i64 = 0;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS games (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    facilitator TEXT NOT NULL,
    name TEXT NOT NULL,
    setup TEXT NOT NULL,
    files TEXT NOT NULL,
    played INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    deadline INTEGER,
    revealed INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    practice INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS teams (
    id INTEGER PRIMARY KEY,
    game INTEGER NOT NULL REFERENCES games(id),
    name TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    joined INTEGER NOT NULL DEFAULT 1,
    UNIQUE (game, name)
);
CREATE TABLE IF NOT EXISTS decisions (
    game INTEGER NOT NULL REFERENCES games(id),
    team INTEGER NOT NULL REFERENCES teams(id),
    round INTEGER NOT NULL,
    amounts TEXT NOT NULL,
    expectation TEXT NOT NULL,
    submitted INTEGER NOT NULL,
    PRIMARY KEY (team, round)
);
CREATE TABLE IF NOT EXISTS shocks (
    id INTEGER PRIMARY KEY,
    game INTEGER NOT NULL REFERENCES games(id),
    shock TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    game INTEGER NOT NULL REFERENCES games(id),
    round INTEGER NOT NULL,
    team INTEGER NOT NULL,
    results TEXT NOT NULL,
    PRIMARY KEY (game, round, team)
);
CREATE TABLE IF NOT EXISTS explanations (
    game INTEGER NOT NULL REFERENCES games(id),
    round INTEGER NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (game, round)
);
CREATE TABLE IF NOT EXISTS states (
    game INTEGER NOT NULL REFERENCES games(id),
    path INTEGER NOT NULL,
    replicate INTEGER NOT NULL,
    round INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (game, path, replicate)
);
";

/// The database could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused.
    #[error("the games database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value is not what this version of Upstream writes.
    #[error("the games database holds a value this version cannot read: {0}")]
    Json(#[from] serde_json::Error),
    /// A password could not be hashed.
    #[error("the workbench's accounts: {0}")]
    Password(String),
}

/// A request the game's rules refuse; nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The most games one database holds.
pub const MAX_GAMES: i64 = 500;
/// The most bytes of scenario files (the bundled ones each game keeps, and
/// any uploaded) one database holds: 256 MB.
pub const MAX_STORED_FILES: u64 = 256 << 20;

/// What a change can end in: done, refused by the rules, or failed.
#[derive(Debug, thiserror::Error)]
pub enum Outcome {
    /// The rules refuse it.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for Outcome {
    fn from(e: rusqlite::Error) -> Outcome {
        Outcome::Store(e.into())
    }
}

/// A game as stored.
#[derive(Clone, Debug)]
pub struct GameRow {
    /// Its number.
    pub id: i64,
    /// The code teams join with.
    pub code: String,
    /// The facilitator's token.
    pub facilitator: String,
    /// Its name for people.
    pub name: String,
    /// The facilitator's choices.
    pub setup: Setup,
    /// Rounds played so far.
    pub played: u32,
    /// Whether the next round has stopped taking decisions (it is being
    /// played).
    pub closed: bool,
    /// When the next round stops taking decisions, in seconds since 1970.
    pub deadline: Option<i64>,
    /// Whether teams may see the debrief.
    pub revealed: bool,
    /// Where the game's practice round stands.
    pub practice: Practice,
}

impl GameRow {
    /// The round teams decide now: 0 while a practice round is to be
    /// played, else the next round of the game.
    pub fn next_round(&self) -> u32 {
        next_round(self.practice, self.played)
    }
}

/// A practice round: played from the same place as round 1, shown to each
/// team, then set aside, so round 1 starts afresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Practice {
    /// The game has none.
    None,
    /// It comes before round 1 and has not been played.
    Pending,
    /// It has been played.
    Played,
}

impl Practice {
    fn from_db(v: i64) -> Practice {
        match v {
            1 => Practice::Pending,
            2 => Practice::Played,
            _ => Practice::None,
        }
    }
}

/// The practice round is round 0.
fn next_round(practice: Practice, played: u32) -> u32 {
    if practice == Practice::Pending {
        0
    } else {
        played + 1
    }
}

/// A round's name at the start of a sentence or as a heading: "The
/// practice round", "Round 3".
pub fn round_title(round: u32) -> String {
    if round == 0 {
        "The practice round".into()
    } else {
        format!("Round {round}")
    }
}

/// A round's name in a sentence: "the practice round", "round 3".
pub fn round_name(round: u32) -> String {
    if round == 0 {
        "the practice round".into()
    } else {
        format!("round {round}")
    }
}

/// A team as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    /// Its number in the database (1 or more).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The first round it played (1 unless it joined later; until then its
    /// place was the no-change place).
    pub joined: u32,
}

/// A team's decision for a round.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The team's number.
    pub team: i64,
    /// The round (1-based).
    pub round: u32,
    /// £ by lever.
    pub amounts: Vec<f64>,
    /// What the team expected would happen.
    pub expectation: String,
    /// When it was submitted, in seconds since 1970; 0 when the team
    /// submitted nothing and the round funded nothing for it.
    pub submitted: i64,
}

/// The games database.
pub struct Store {
    conn: Mutex<Connection>,
    /// The most games, and bytes of their files, it holds.
    limits: (i64, u64),
}

/// A fresh random token: 128 bits from the operating system's generator,
/// as hex.
pub fn token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A join code: six letters and digits that cannot be misread for one
/// another (no 0/O, 1/I/L).
fn join_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    (0..6)
        .map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char)
        .collect()
}

/// Scenario files as the database keeps them: a JSON object of each
/// file's text by its name.
fn files_json(files: &FileSet) -> Result<String, StoreError> {
    let files: BTreeMap<&str, &str> = files.iter().collect();
    Ok(serde_json::to_string(&files)?)
}

/// Scenario files as [`files_json`] kept them.
fn file_set(json: &str) -> Result<FileSet, StoreError> {
    let map: BTreeMap<String, String> = serde_json::from_str(json)?;
    let mut set = FileSet::new();
    for (name, text) in map {
        set.insert(&name, text)
            .expect("names were checked before they were kept");
    }
    Ok(set)
}

/// Seconds since 1970.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(analysts::SCHEMA)?;
        conn.execute_batch(runs::SCHEMA)?;
        // Databases from before late joining, practice rounds and the
        // workbench's accounts lack their columns.
        for (table, column) in [
            ("teams", "joined INTEGER NOT NULL DEFAULT 1"),
            ("games", "practice INTEGER NOT NULL DEFAULT 0"),
            ("runs", "owner INTEGER REFERENCES analysts(id)"),
            ("runs", "shared INTEGER NOT NULL DEFAULT 0"),
        ] {
            let name = column.split(' ').next().expect("a column");
            let has: bool = conn.query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1)"
                ),
                [name],
                |r| r.get(0),
            )?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column}"))?;
            }
        }
        // A round being played when the server stopped was not recorded
        // (recording is one transaction): open it to decisions again.
        conn.execute("UPDATE games SET closed = 0 WHERE closed = 1", [])?;
        conn.execute(runs::REQUEUE, [])?;
        Ok(Store {
            conn: Mutex::new(conn),
            limits: (MAX_GAMES, MAX_STORED_FILES),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each
        // change is a transaction), so the connection is still good.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new game, with a practice round before round 1 if
    /// `practice`, and returns its number.
    /// Refused when the store already holds [`MAX_GAMES`] games, or its
    /// games' files would come to more than [`MAX_STORED_FILES`] bytes.
    pub fn create_game(
        &self,
        name: &str,
        setup: &Setup,
        files: &FileSet,
        practice: bool,
    ) -> Result<i64, Outcome> {
        let files = files_json(files)?;
        let conn = self.conn();
        let (games, stored): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(files)), 0) FROM games",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (most_games, most_bytes) = self.limits;
        if games >= most_games {
            return Err(Refusal(format!(
                "this server holds {most_games} games, its limit; start it with a new --database for more"
            ))
            .into());
        }
        if stored as u64 + files.len() as u64 > most_bytes {
            return Err(Refusal(format!(
                "this server's games keep {} of scenario files, and this game's {} would pass the {} limit; start it with a new --database for more",
                crate::format::size(stored as u64),
                crate::format::size(files.len() as u64),
                crate::format::size(most_bytes)
            ))
            .into());
        }
        // A join code is unique among games; draw again on the rare clash.
        loop {
            let done = conn.execute(
                "INSERT INTO games (code, facilitator, name, setup, files, created, practice)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    join_code(),
                    token(),
                    name,
                    serde_json::to_string(setup).map_err(StoreError::from)?,
                    files,
                    now(),
                    i64::from(practice)
                ],
            );
            match done {
                Ok(_) => return Ok(conn.last_insert_rowid()),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Game `id`, if there is one.
    pub fn game(&self, id: i64) -> Result<Option<GameRow>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT id, code, facilitator, name, setup, played, closed, deadline, revealed,
                        practice
                 FROM games WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        GameRow {
                            id: r.get(0)?,
                            code: r.get(1)?,
                            facilitator: r.get(2)?,
                            name: r.get(3)?,
                            setup: Setup {
                                scenario: String::new(),
                                rounds: 0,
                                residents: 0,
                                replicates: 0,
                                budget: None,
                                seed: 0,
                            },
                            played: r.get(5)?,
                            closed: r.get(6)?,
                            deadline: r.get(7)?,
                            revealed: r.get(8)?,
                            practice: Practice::from_db(r.get(9)?),
                        },
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(mut g, setup)| {
            g.setup = serde_json::from_str(&setup)?;
            Ok(g)
        })
        .transpose()
    }

    /// The files game `id` was set up from.
    pub fn files(&self, id: i64) -> Result<FileSet, StoreError> {
        let text: String =
            self.conn()
                .query_row("SELECT files FROM games WHERE id = ?1", [id], |r| r.get(0))?;
        file_set(&text)
    }

    /// The game whose join code is `code` (any case, spaces ignored).
    pub fn game_by_code(&self, code: &str) -> Result<Option<i64>, StoreError> {
        let code: String = code
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        Ok(self
            .conn()
            .query_row("SELECT id FROM games WHERE code = ?1", [code], |r| r.get(0))
            .optional()?)
    }

    /// Adds team `name` to game `game` and returns its number and token.
    /// A team joins between rounds, not while one is played. A team that
    /// joins after round 1 carries on from the no-change place's last
    /// year, as a team that had funded nothing would: its figures so far
    /// count those years too.
    pub fn join(&self, game: i64, name: &str) -> Result<(i64, String), Outcome> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(Refusal("a team name needs 1 to 40 characters".into()).into());
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Progress {
            played,
            closed,
            rounds,
            ..
        } = progress(&tx, game)?;
        if played >= rounds {
            return Err(Refusal("this game is over: every round has been played".into()).into());
        }
        // A team joining while a round is played would have no year to
        // carry on from.
        if closed {
            return Err(Refusal(format!(
                "round {} is being played: join when it has been played",
                played + 1
            ))
            .into());
        }
        let teams: i64 =
            tx.query_row("SELECT COUNT(*) FROM teams WHERE game = ?1", [game], |r| {
                r.get(0)
            })?;
        if teams >= 30 {
            return Err(Refusal("this game already has 30 teams".into()).into());
        }
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM teams WHERE game = ?1 AND name = ?2)",
            params![game, name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(Refusal(format!(
                "a team called {name} has already joined; choose another name"
            ))
            .into());
        }
        let token = token();
        tx.execute(
            "INSERT INTO teams (game, name, token, joined) VALUES (?1, ?2, ?3, ?4)",
            params![game, name, token, played + 1],
        )?;
        let id = tx.last_insert_rowid();
        if played > 0 {
            let copied = tx.execute(
                "INSERT INTO states (game, path, replicate, round, bytes)
                 SELECT game, ?2, replicate, round, bytes FROM states
                 WHERE game = ?1 AND path = ?3 AND round = ?4",
                params![game, id, NO_CHANGE, played],
            )?;
            if copied == 0 {
                return Err(Refusal(format!(
                    "the no-change place's year {played} is missing, so no team can join now"
                ))
                .into());
            }
        }
        tx.commit()?;
        Ok((id, token))
    }

    /// The team of game `game` whose token is `token`.
    pub fn team_by_token(&self, game: i64, token: &str) -> Result<Option<Team>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, joined FROM teams WHERE game = ?1 AND token = ?2",
                params![game, token],
                |r| {
                    Ok(Team {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        joined: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Game `game`'s teams, in the order they joined.
    pub fn teams(&self, game: i64) -> Result<Vec<Team>, StoreError> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT id, name, joined FROM teams WHERE game = ?1 ORDER BY id")?;
        let rows = st.query_map([game], |r| {
            Ok(Team {
                id: r.get(0)?,
                name: r.get(1)?,
                joined: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records team `team`'s decision for `round`, replacing any it made
    /// before for that round. `check` applies the game's rules to the
    /// amounts under the shocks announced, inside the same transaction as
    /// the round's state and shocks are read, so a decision cannot slip in
    /// while the round is being played or past a budget cut.
    pub fn decide(
        &self,
        game: i64,
        team: i64,
        round: u32,
        amounts: &[f64],
        expectation: &str,
        check: impl FnOnce(&[Announced]) -> Result<(), Refusal>,
    ) -> Result<(), Outcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let at = progress(&tx, game)?;
        if at.played >= at.rounds {
            return Err(Refusal("the game is over: every round has been played".into()).into());
        }
        let (next, this) = (at.next(), round_name(round));
        if round != next {
            return Err(Refusal(format!(
                "this form was for {this}, but the game is at {}; your page was out of date and nothing was saved, so look again and resubmit",
                round_name(next)
            ))
            .into());
        }
        if at.closed {
            return Err(Refusal(format!(
                "{this} is being played; decisions for it are closed"
            ))
            .into());
        }
        if at.deadline.is_some_and(|d| now() >= d) {
            return Err(Refusal(format!(
                "the deadline for {this} has passed; your decision was not saved"
            ))
            .into());
        }
        check(&shocks_in(&tx, game)?)?;
        tx.execute(
            "INSERT INTO decisions (game, team, round, amounts, expectation, submitted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (team, round) DO UPDATE SET
                 amounts = excluded.amounts,
                 expectation = excluded.expectation,
                 submitted = excluded.submitted",
            params![
                game,
                team,
                round,
                serde_json::to_string(amounts).map_err(StoreError::from)?,
                expectation,
                now()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every decision of game `game`, by round then team.
    pub fn decisions(&self, game: i64) -> Result<Vec<Decision>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT team, round, amounts, expectation, submitted FROM decisions
             WHERE game = ?1 ORDER BY round, team",
        )?;
        let rows = st.query_map([game], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (team, round, amounts, expectation, submitted) = row?;
            out.push(Decision {
                team,
                round,
                amounts: serde_json::from_str(&amounts)?,
                expectation,
                submitted,
            });
        }
        Ok(out)
    }

    /// Announces `shock` for the next round of game `game`.
    pub fn announce(&self, game: i64, shock: &crate::game::Shock) -> Result<(), Outcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Progress {
            played,
            closed,
            rounds,
            ..
        } = progress(&tx, game)?;
        if played >= rounds || closed {
            return Err(Refusal("there is no round left to announce a shock for".into()).into());
        }
        if matches!(shock, crate::game::Shock::BudgetCut { .. }) {
            let decided: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM decisions WHERE game = ?1 AND round = ?2)",
                params![game, played + 1],
                |r| r.get(0),
            )?;
            if decided {
                return Err(Refusal(format!(
                    "teams have already decided round {}: announce a budget cut before they decide, or for the round after",
                    played + 1
                ))
                .into());
            }
        }
        let at = Announced {
            round: played + 1,
            shock: shock.clone(),
        };
        tx.execute(
            "INSERT INTO shocks (game, shock) VALUES (?1, ?2)",
            params![game, serde_json::to_string(&at).map_err(StoreError::from)?],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Withdraws the shock announced last for game `game`, while the round
    /// it was announced for has not been played; returns it.
    pub fn withdraw_shock(&self, game: i64) -> Result<Announced, Outcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Progress { played, closed, .. } = progress(&tx, game)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, shock FROM shocks WHERE game = ?1 ORDER BY id DESC LIMIT 1",
                [game],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, text)) = last else {
            return Err(Refusal("no shock has been announced".into()).into());
        };
        let at: Announced = serde_json::from_str(&text).map_err(StoreError::from)?;
        if at.round <= played || closed {
            return Err(Refusal(format!(
                "the last shock was for round {}, which has been played (or is being played): it cannot be withdrawn",
                at.round
            ))
            .into());
        }
        tx.execute("DELETE FROM shocks WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(at)
    }

    /// Each team of game `game` with its token, for the facilitator to give
    /// a team back its own link.
    pub fn team_tokens(&self, game: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT id, token FROM teams WHERE game = ?1 ORDER BY id")?;
        let rows = st.query_map([game], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Game `game`'s shocks, in the order announced.
    pub fn shocks(&self, game: i64) -> Result<Vec<Announced>, StoreError> {
        shocks_in(&self.conn(), game)
    }

    /// Sets (or, with `None`, lifts) the deadline for the next round.
    pub fn set_deadline(&self, game: i64, deadline: Option<i64>) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE games SET deadline = ?2 WHERE id = ?1",
            params![game, deadline],
        )?;
        Ok(())
    }

    /// Lets teams see the debrief (or not).
    pub fn reveal(&self, game: i64, revealed: bool) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE games SET revealed = ?2 WHERE id = ?1",
            params![game, revealed],
        )?;
        Ok(())
    }

    /// Stops `round` taking decisions, so it can be played; refused if the
    /// game is over, `round` is not the next (the facilitator's page was out
    /// of date), the round is already closed (being played), or, unless
    /// `anyway`, a team has not decided it.
    pub fn close(&self, game: i64, round: u32, anyway: bool) -> Result<u32, Outcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let at = progress(&tx, game)?;
        if at.played >= at.rounds {
            return Err(Refusal("the game is over: every round has been played".into()).into());
        }
        if round != at.next() {
            return Err(Refusal(format!(
                "this page was for {}, but the game is at {}: the page was out of date and nothing was played; look again",
                round_name(round),
                round_name(at.next())
            ))
            .into());
        }
        if at.closed {
            return Err(
                Refusal(format!("{} is already being played", round_name(at.next()))).into(),
            );
        }
        let teams: i64 =
            tx.query_row("SELECT COUNT(*) FROM teams WHERE game = ?1", [game], |r| {
                r.get(0)
            })?;
        if teams == 0 {
            return Err(Refusal("no team has joined yet: share the code first".into()).into());
        }
        let waiting: Vec<String> = {
            let mut st = tx.prepare(
                "SELECT name FROM teams WHERE game = ?1 AND id NOT IN
                     (SELECT team FROM decisions WHERE game = ?1 AND round = ?2)
                 ORDER BY id",
            )?;
            st.query_map(params![game, round], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        if !anyway && !waiting.is_empty() {
            let (who, verb) = match waiting.len() {
                1 => (waiting[0].clone(), "has"),
                _ => (waiting.join(", "), "have"),
            };
            return Err(Refusal(format!(
                "{who} {verb} not decided {}: nothing was played; wait, or play anyway and they fund nothing this round",
                round_name(round)
            ))
            .into());
        }
        tx.execute("UPDATE games SET closed = 1 WHERE id = ?1", [game])?;
        tx.commit()?;
        Ok(at.next())
    }

    /// Reopens the next round to decisions after playing it failed.
    pub fn reopen(&self, game: i64) -> Result<(), StoreError> {
        self.conn()
            .execute("UPDATE games SET closed = 0 WHERE id = ?1", [game])?;
        Ok(())
    }

    /// Each path's saved replicates at the end of `round`, by path number:
    /// empty when none are saved for that round.
    pub fn states(&self, game: i64, round: u32) -> Result<BTreeMap<i64, Snapshots>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT path, replicate, bytes FROM states
             WHERE game = ?1 AND round = ?2 ORDER BY path, replicate",
        )?;
        let rows = st.query_map(params![game, round], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(2)?))
        })?;
        let mut out: BTreeMap<i64, Snapshots> = BTreeMap::new();
        for row in rows {
            let (path, bytes) = row?;
            out.entry(path).or_default().push(bytes);
        }
        Ok(out)
    }

    /// Records a played round in one transaction: every path's saved
    /// replicates, every team's results, a decision of £0 for each team
    /// that made none, and the round as played (reopening decisions for
    /// the next). The practice round (0) keeps no replicates: round 1
    /// starts afresh.
    pub fn record_round(
        &self,
        game: i64,
        round: u32,
        states: &[(i64, &Snapshots)],
        results: &[(i64, &RoundResults)],
        unfunded: &[(i64, Vec<f64>)],
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Only the round that was closed is recorded, and only with a saved
        // year for every team.
        let at = progress(&tx, game)?;
        let teams: i64 =
            tx.query_row("SELECT COUNT(*) FROM teams WHERE game = ?1", [game], |r| {
                r.get(0)
            })?;
        assert!(
            at.next() == round && at.closed && states.len() as i64 == teams + 1,
            "a round is recorded once, after it is closed, with every path"
        );
        let kept = if round == 0 { &[][..] } else { states };
        for (path, snapshots) in kept {
            for (r, bytes) in snapshots.iter().enumerate() {
                tx.execute(
                    "INSERT INTO states (game, path, replicate, round, bytes)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (game, path, replicate) DO UPDATE SET
                         round = excluded.round, bytes = excluded.bytes",
                    params![game, path, r as i64, round, bytes],
                )?;
            }
        }
        for (team, r) in results {
            tx.execute(
                "INSERT INTO results (game, round, team, results) VALUES (?1, ?2, ?3, ?4)",
                params![game, round, team, serde_json::to_string(r)?],
            )?;
        }
        for (team, amounts) in unfunded {
            tx.execute(
                "INSERT INTO decisions (game, team, round, amounts, expectation, submitted)
                 VALUES (?1, ?2, ?3, ?4, '', 0)",
                params![game, team, round, serde_json::to_string(amounts)?],
            )?;
        }
        if round == 0 {
            tx.execute(
                "UPDATE games SET practice = 2, closed = 0, deadline = NULL WHERE id = ?1",
                [game],
            )?;
        } else {
            tx.execute(
                "UPDATE games SET played = ?2, closed = 0, deadline = NULL WHERE id = ?1",
                params![game, round],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The debrief's explanation of game `game` to the end of `round`,
    /// once worked out.
    pub fn explanation(&self, game: i64, round: u32) -> Result<Option<Explanation>, StoreError> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT explanation FROM explanations WHERE game = ?1 AND round = ?2",
                params![game, round],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    /// Keeps the debrief's explanation of game `game` to the end of its
    /// round, so it is worked out once.
    pub fn keep_explanation(&self, game: i64, explained: &Explanation) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO explanations (game, round, explanation) VALUES (?1, ?2, ?3)",
            params![game, explained.round, serde_json::to_string(explained)?],
        )?;
        Ok(())
    }

    /// Every team's results of game `game`, by round then team.
    pub fn results(&self, game: i64) -> Result<Vec<(i64, RoundResults)>, StoreError> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT team, results FROM results WHERE game = ?1 ORDER BY round, team")?;
        let rows = st.query_map([game], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (team, text) = row?;
            out.push((team, serde_json::from_str(&text)?));
        }
        Ok(out)
    }
}

/// Where a game stands.
struct Progress {
    played: u32,
    closed: bool,
    deadline: Option<i64>,
    rounds: u32,
    practice: Practice,
}

impl Progress {
    fn next(&self) -> u32 {
        next_round(self.practice, self.played)
    }
}

/// Where game `game` stands, read through `conn` (or a transaction).
fn progress(conn: &Connection, game: i64) -> Result<Progress, StoreError> {
    let (played, closed, deadline, setup, practice): (u32, bool, Option<i64>, String, i64) = conn
        .query_row(
        "SELECT played, closed, deadline, setup, practice FROM games WHERE id = ?1",
        [game],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    Ok(Progress {
        played,
        closed,
        deadline,
        rounds: serde_json::from_str::<Setup>(&setup)?.rounds,
        practice: Practice::from_db(practice),
    })
}

/// Game `game`'s shocks, in the order announced, read through `conn` (or a
/// transaction).
fn shocks_in(conn: &Connection, game: i64) -> Result<Vec<Announced>, StoreError> {
    let mut st = conn.prepare("SELECT shock FROM shocks WHERE game = ?1 ORDER BY id")?;
    let rows = st.query_map([game], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::Shock;

    fn store() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("games.sqlite")).unwrap();
        let setup = Setup {
            scenario: "prevention_portfolio.toml".into(),
            rounds: 2,
            residents: 5_000,
            replicates: 1,
            budget: None,
            seed: 1,
        };
        let id = store
            .create_game("Test", &setup, &FileSet::new(), false)
            .unwrap();
        (dir, store, id)
    }

    fn refused(o: Result<impl std::fmt::Debug, Outcome>) -> String {
        match o {
            Err(Outcome::Refused(Refusal(text))) => text,
            other => panic!("expected a refusal, found {other:?}"),
        }
    }

    #[test]
    fn games_and_their_files_are_limited_and_the_refusal_names_the_limit() {
        let (_dir, mut store, _) = store();
        store.limits = (3, 6_000);
        let setup = store.game(1).unwrap().unwrap().setup;
        let mut files = FileSet::new();
        files.insert("a.toml", "x".repeat(4_000)).unwrap();
        store.create_game("Two", &setup, &files, false).unwrap();
        let more = refused(store.create_game("Three", &setup, &files, false));
        assert!(more.contains("would pass the 0 MB limit"), "{more}");
        store
            .create_game("Three", &setup, &FileSet::new(), false)
            .unwrap();
        let more = refused(store.create_game("Four", &setup, &FileSet::new(), false));
        assert!(
            more.starts_with("this server holds 3 games, its limit"),
            "{more}"
        );
    }

    #[test]
    fn a_round_is_played_only_with_teams_and_none_joins_or_decides_while_it_plays() {
        let (_dir, store, id) = store();
        assert!(refused(store.close(id, 1, true)).starts_with("no team has joined yet"));
        let (team, _) = store.join(id, "Team A").unwrap();
        let (other, _) = store.join(id, "Team B").unwrap();
        store
            .decide(id, team, 1, &[0.0; 3], "", |_| Ok(()))
            .unwrap();
        // Asked first when a team has not decided; a page for another round
        // (a stale tab) plays nothing.
        let waiting = refused(store.close(id, 1, false));
        assert!(
            waiting.starts_with("Team B has not decided round 1"),
            "{waiting}"
        );
        let stale = refused(store.close(id, 2, true));
        assert!(
            stale.starts_with("this page was for round 2, but the game is at round 1"),
            "{stale}"
        );
        assert_eq!(store.close(id, 1, true).unwrap(), 1);
        assert!(refused(store.join(id, "Late")).starts_with("round 1 is being played"));
        let decided = store.decide(id, other, 1, &[0.0; 3], "", |_| Ok(()));
        assert!(refused(decided).starts_with("round 1 is being played"));
        assert!(refused(store.close(id, 1, true)).starts_with("round 1 is already being played"));
        assert!(
            refused(store.announce(id, &Shock::BudgetCut { share: 0.1 }))
                .starts_with("there is no round left")
        );
        assert_eq!(store.decisions(id).unwrap().len(), 1);
        // A server started again opens the round that was being played.
        drop(store);
        let store = Store::open(&_dir.path().join("games.sqlite")).unwrap();
        store
            .decide(id, team, 1, &[0.0; 3], "", |_| Ok(()))
            .unwrap();
        assert_eq!(store.teams(id).unwrap().len(), 2);
    }

    #[test]
    fn a_database_from_before_late_joining_and_practice_opens_with_teams_from_round_1_and_no_practice()
     {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let old = SCHEMA
            .replace("    joined INTEGER NOT NULL DEFAULT 1,\n", "")
            .replace(
                "    created INTEGER NOT NULL,\n    practice INTEGER NOT NULL DEFAULT 0\n",
                "    created INTEGER NOT NULL\n",
            );
        assert!(!old.contains("practice"));
        assert_ne!(old, SCHEMA);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&old).unwrap();
        conn.execute_batch(
            "INSERT INTO games (id, code, facilitator, name, setup, files, created)
             VALUES (1, 'ABCDEF', 'f', 'Old', '{\"scenario\":\"x.toml\",\"rounds\":2,\"residents\":5000,\"replicates\":1,\"budget\":null,\"seed\":1}', '{}', 0);
             INSERT INTO teams (game, name, token) VALUES (1, 'Team A', 't');",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.teams(1).unwrap()[0].joined, 1);
        assert_eq!(store.game(1).unwrap().unwrap().practice, Practice::None);
        let (_, token) = store.join(1, "Team B").unwrap();
        assert_eq!(store.team_by_token(1, &token).unwrap().unwrap().joined, 1);
    }

    #[test]
    fn a_budget_cut_comes_before_decisions_and_a_decision_is_checked_under_every_shock() {
        let (_dir, store, id) = store();
        let (team, _) = store.join(id, "Team A").unwrap();
        store
            .announce(id, &Shock::CostOfLiving { multiplier: 1.2 })
            .unwrap();
        let mut seen = Vec::new();
        store
            .decide(id, team, 1, &[1.0, 2.0, 3.0], "x", |shocks| {
                seen = shocks.to_vec();
                Ok(())
            })
            .unwrap();
        assert_eq!(seen.len(), 1);
        let cut = store.announce(id, &Shock::BudgetCut { share: 0.1 });
        assert!(refused(cut).starts_with("teams have already decided round 1"));
        assert_eq!(store.shocks(id).unwrap().len(), 1);
        // A refused check saves nothing.
        let no = store.decide(id, team, 1, &[9.0; 3], "y", |_| Err(Refusal("no".into())));
        assert_eq!(refused(no), "no");
        assert_eq!(store.decisions(id).unwrap()[0].amounts, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn the_last_shock_can_be_withdrawn_until_its_round_is_played() {
        let (_dir, store, id) = store();
        assert!(refused(store.withdraw_shock(id)).starts_with("no shock has been announced"));
        let (team, token) = store.join(id, "Team A").unwrap();
        assert_eq!(store.team_tokens(id).unwrap(), [(team, token)]);
        let rise = Shock::CostOfLiving { multiplier: 1.2 };
        let cut = Shock::BudgetCut { share: 0.1 };
        store.announce(id, &rise).unwrap();
        store.announce(id, &cut).unwrap();
        // The last first, then the one before.
        assert_eq!(store.withdraw_shock(id).unwrap().shock, cut);
        assert_eq!(store.shocks(id).unwrap().len(), 1);
        store.announce(id, &cut).unwrap();
        assert_eq!(store.withdraw_shock(id).unwrap().shock, cut);
        assert_eq!(store.withdraw_shock(id).unwrap().shock, rise);
        assert!(store.shocks(id).unwrap().is_empty());
        // Once its round is being played, it stays.
        store.announce(id, &rise).unwrap();
        store.close(id, 1, true).unwrap();
        let late = refused(store.withdraw_shock(id));
        assert!(
            late.starts_with("the last shock was for round 1, which has been played"),
            "{late}"
        );
        assert_eq!(store.shocks(id).unwrap().len(), 1);
    }
}

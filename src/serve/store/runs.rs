//! The workbench's runs: each design with its scenario files, its place of
//! the queue, its progress and how it ended, in the same database as the
//! games. A run is recorded done only once its files are all in place, so a
//! page never shows half a result; a run the server was running when it
//! stopped is queued again when it starts.

use rusqlite::{OptionalExtension, Row, params};

use super::{Outcome, Refusal, Store, StoreError, file_set, files_json, now, token};
use crate::scenario::FileSet;
use crate::workbench::Design;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    place TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    design TEXT NOT NULL,
    files TEXT NOT NULL,
    replicates INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    done INTEGER NOT NULL DEFAULT 0,
    jobs INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    share TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    finished INTEGER,
    kind TEXT NOT NULL DEFAULT 'run',
    parent INTEGER REFERENCES runs(id),
    vary TEXT NOT NULL DEFAULT ''
);
";

/// Runs the server was running when it stopped go back to the queue: the
/// run starts again from the start, into a fresh folder.
pub(super) const REQUEUE: &str =
    "UPDATE runs SET state = 'queued', done = 0, jobs = 0 WHERE state = 'running'";

/// The most runs one database holds.
pub const MAX_RUNS: i64 = 2_000;

/// What a run runs: the design itself, or an experiment started from its
/// result, each the command line's command of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `upstream run`: the place and the policy.
    Run,
    /// `upstream sensitivity`: which assumptions decide the result.
    Sensitivity,
    /// `upstream break-even`: how strong each effect must be to pay back.
    BreakEven,
    /// `upstream sweep`: the result across a range of one intervention's
    /// size.
    Sweep,
}

impl Kind {
    /// Every experiment a result can start.
    pub const EXPERIMENTS: [Kind; 3] = [Kind::Sensitivity, Kind::BreakEven, Kind::Sweep];

    /// The command line's command, also its name in the database.
    pub fn command(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sensitivity => "sensitivity",
            Kind::BreakEven => "break-even",
            Kind::Sweep => "sweep",
        }
    }

    /// The kind whose command is `name`.
    pub fn from_command(name: &str) -> Option<Kind> {
        [Kind::Run, Kind::Sensitivity, Kind::BreakEven, Kind::Sweep]
            .into_iter()
            .find(|k| k.command() == name)
    }

    /// The question it answers, for a page.
    pub fn question(self) -> &'static str {
        match self {
            Kind::Run => "What happens",
            Kind::Sensitivity => "Which assumptions decide this",
            Kind::BreakEven => "How strong must the effect be",
            Kind::Sweep => "What if the size were different",
        }
    }
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting for a worker.
    Queued,
    /// Being run.
    Running,
    /// Done: its files are all in place.
    Done,
    /// Stopped by an error; its message says which.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl State {
    fn from_db(s: &str) -> State {
        match s {
            "queued" => State::Queued,
            "running" => State::Running,
            "done" => State::Done,
            "cancelled" => State::Cancelled,
            _ => State::Failed,
        }
    }

    /// As the database keeps it: `queued`, `running`, `done`.
    pub fn db(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    /// In words, for a page.
    pub fn words(self) -> &'static str {
        match self {
            State::Queued => "waiting in the queue",
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    /// Whether the run may still change.
    pub fn is_live(self) -> bool {
        matches!(self, State::Queued | State::Running)
    }
}

/// Which runs a worker takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Any run: a design's run or an experiment.
    Any,
    /// Designs' runs only, never an experiment.
    Runs,
}

/// A run as stored.
#[derive(Clone, Debug)]
pub struct RunRow {
    /// Its number.
    pub id: i64,
    /// The place it runs.
    pub place: String,
    /// Its policy's name.
    pub name: String,
    /// Its version among the runs of the same policy name for the place.
    pub version: i64,
    /// The design.
    pub design: Design,
    /// Replicates per scenario.
    pub replicates: u32,
    /// Where it is.
    pub state: State,
    /// Replicates done of `jobs`.
    pub done: u64,
    /// Replicates to run (0 until it starts).
    pub jobs: u64,
    /// Why it failed, or its warnings.
    pub message: String,
    /// The token of its read-only link.
    pub share: String,
    /// When it was queued (seconds since 1970).
    pub created: i64,
    /// What it runs.
    pub kind: Kind,
    /// The run whose result started it, for an experiment.
    pub parent: Option<i64>,
    /// A sweep's `--vary` (NAME=FROM:TO:POINTS); empty otherwise.
    pub vary: String,
    /// The account that queued it; `None` for a run from before accounts,
    /// which is everyone's.
    pub owner: Option<i64>,
    /// The owner's name.
    pub owner_name: Option<String>,
    /// Whether its owner shares it with every colleague signed in.
    pub shared: bool,
}

impl RunRow {
    /// Whether `analyst` may change it (cancel it, share it): its owner.
    pub fn owned_by(&self, analyst: &super::Analyst) -> bool {
        self.owner.is_none_or(|o| o == analyst.id)
    }

    /// Whether `analyst` may see it: its owner, or anyone when shared.
    pub fn seen_by(&self, analyst: &super::Analyst) -> bool {
        self.shared || self.owned_by(analyst)
    }
}

const COLUMNS: &str = "id, place, name, version, design, replicates, state, done, jobs, message, \
                       share, created, kind, parent, vary, owner, shared, \
                       (SELECT name FROM analysts WHERE analysts.id = runs.owner)";

fn run_row(r: &Row) -> rusqlite::Result<(RunRow, String)> {
    Ok((
        RunRow {
            id: r.get(0)?,
            place: r.get(1)?,
            name: r.get(2)?,
            version: r.get(3)?,
            design: Design::default(),
            replicates: r.get(5)?,
            state: State::from_db(&r.get::<_, String>(6)?),
            done: r.get::<_, i64>(7)? as u64,
            jobs: r.get::<_, i64>(8)? as u64,
            message: r.get(9)?,
            share: r.get(10)?,
            created: r.get(11)?,
            kind: Kind::from_command(&r.get::<_, String>(12)?).unwrap_or(Kind::Run),
            parent: r.get(13)?,
            vary: r.get(14)?,
            owner: r.get(15)?,
            shared: r.get(16)?,
            owner_name: r.get(17)?,
        },
        r.get(4)?,
    ))
}

fn with_design((mut row, design): (RunRow, String)) -> Result<RunRow, StoreError> {
    row.design = serde_json::from_str(&design)?;
    Ok(row)
}

impl Store {
    /// Queues a run of `design` for `place` from `files`, and returns its
    /// number. Refused when the store holds [`MAX_RUNS`] runs, or its
    /// files would pass the stored files' limit.
    pub fn queue_run(
        &self,
        owner: &super::Analyst,
        place: &str,
        design: &Design,
        files: &FileSet,
        replicates: u32,
    ) -> Result<i64, Outcome> {
        let files = files_json(files)?;
        let conn = self.conn();
        self.room_for(&conn, files.len() as u64)?;
        let version: i64 = conn.query_row(
            "SELECT COUNT(*) + 1 FROM runs WHERE place = ?1 AND name = ?2 AND kind = 'run'",
            params![place, design.name],
            |r| r.get(0),
        )?;
        conn.execute(
            "INSERT INTO runs (place, name, version, design, files, replicates, share, created,
                               owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                place,
                design.name,
                version,
                serde_json::to_string(design).map_err(StoreError::from)?,
                files,
                replicates,
                token(),
                now(),
                owner.id
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Refuses another run of `bytes` of files when the store holds
    /// [`MAX_RUNS`] runs, or its runs' files would pass the stored files'
    /// limit.
    fn room_for(&self, conn: &rusqlite::Connection, bytes: u64) -> Result<(), Outcome> {
        let (runs, stored): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(files)), 0) FROM runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if runs >= MAX_RUNS {
            return Err(Refusal(format!(
                "this server holds {MAX_RUNS} runs, its limit; start it with a new --database for more"
            ))
            .into());
        }
        if stored as u64 + bytes > self.limits.1 {
            return Err(Refusal(format!(
                "this server's runs keep {} of scenario files, its limit; start it with a new --database for more",
                crate::format::size(stored as u64)
            ))
            .into());
        }
        Ok(())
    }

    /// Queues experiment `kind` over run `parent`'s files and design, with
    /// `replicates` and, for a sweep, `vary`; returns its number.
    pub fn queue_experiment(
        &self,
        owner: &super::Analyst,
        parent: i64,
        kind: Kind,
        replicates: u32,
        vary: &str,
    ) -> Result<i64, Outcome> {
        let conn = self.conn();
        let bytes: i64 = conn.query_row(
            "SELECT LENGTH(files) FROM runs WHERE id = ?1",
            [parent],
            |r| r.get(0),
        )?;
        self.room_for(&conn, bytes as u64)?;
        conn.execute(
            "INSERT INTO runs (place, name, version, design, files, replicates, share, created,
                               kind, parent, vary, owner)
             SELECT place, name, version, design, files, ?2, ?3, ?4, ?5, id, ?6, ?7
             FROM runs WHERE id = ?1",
            params![
                parent,
                replicates,
                token(),
                now(),
                kind.command(),
                vary,
                owner.id
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The experiments started from run `parent`, oldest first.
    pub fn experiments(&self, parent: i64) -> Result<Vec<RunRow>, StoreError> {
        let conn = self.conn();
        let mut q = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM runs WHERE parent = ?1 ORDER BY id"
        ))?;
        let rows = q
            .query_map([parent], run_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(with_design).collect()
    }

    /// Run `id`, if there is one.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                run_row,
            )
            .optional()?
            .map(with_design)
            .transpose()
    }

    /// The run whose read-only link carries `share`, if any.
    pub fn run_shared(&self, share: &str) -> Result<Option<RunRow>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE share = ?1"),
                [share],
                run_row,
            )
            .optional()?
            .map(with_design)
            .transpose()
    }

    /// The latest `most` runs `analyst` may see ([`RunRow::seen_by`]),
    /// newest first.
    pub fn runs(&self, analyst: &super::Analyst, most: u32) -> Result<Vec<RunRow>, StoreError> {
        let conn = self.conn();
        let mut q = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM runs WHERE owner IS NULL OR owner = ?1 OR shared = 1
             ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = q
            .query_map(params![analyst.id, most], run_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(with_design).collect()
    }

    /// The scenario files run `id` runs.
    pub fn run_files(&self, id: i64) -> Result<FileSet, StoreError> {
        let text: String =
            self.conn()
                .query_row("SELECT files FROM runs WHERE id = ?1", [id], |r| r.get(0))?;
        file_set(&text)
    }

    /// Takes the next queued run a worker of `lane` may run, marking it
    /// running: the run of the analyst with the fewest runs running, a
    /// design's run before an experiment, then the oldest. So one
    /// analyst's queue of experiments does not hold up everyone else's.
    pub fn take_queued(&self, lane: Lane) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "UPDATE runs SET state = 'running'
                 WHERE id = (
                     SELECT q.id FROM runs q
                     WHERE q.state = 'queued' AND (?1 = 0 OR q.kind = 'run')
                     ORDER BY (SELECT COUNT(*) FROM runs r
                               WHERE r.state = 'running' AND r.owner IS q.owner),
                              q.kind != 'run', q.id
                     LIMIT 1)
                 RETURNING id",
                [lane == Lane::Runs],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records a running run's progress.
    pub fn progress(&self, id: i64, done: u64, jobs: u64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE runs SET done = ?2, jobs = ?3 WHERE id = ?1 AND state = 'running'",
            params![id, done as i64, jobs as i64],
        )?;
        Ok(())
    }

    /// Records how a running run ended; a run cancelled meanwhile stays
    /// cancelled.
    pub fn finish(&self, id: i64, state: State, message: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE runs SET state = ?2, message = ?3, finished = ?4
             WHERE id = ?1 AND state = 'running'",
            params![id, state.db(), message, now()],
        )?;
        Ok(())
    }

    /// Cancels run `id` if it is queued or running; says whether it was.
    pub fn cancel(&self, id: i64) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE runs SET state = 'cancelled', finished = ?2
             WHERE id = ?1 AND state IN ('queued', 'running')",
            params![id, now()],
        )?;
        Ok(changed > 0)
    }

    /// Shares run `id` with every colleague, or stops sharing it.
    pub fn set_shared(&self, id: i64, shared: bool) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE runs SET shared = ?2 WHERE id = ?1",
            params![id, shared],
        )?;
        Ok(())
    }

    /// Whether run `id` has been cancelled.
    pub fn is_cancelled(&self, id: i64) -> Result<bool, StoreError> {
        let state: String =
            self.conn()
                .query_row("SELECT state FROM runs WHERE id = ?1", [id], |r| r.get(0))?;
        Ok(State::from_db(&state) == State::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Analyst;
    use super::*;

    #[test]
    fn workers_take_runs_fairly_between_analysts_and_designs_before_experiments() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("q.sqlite")).unwrap();
        let (ana, _): (Analyst, _) = store.add_analyst("Ana", "a long passphrase").unwrap();
        let (ben, _): (Analyst, _) = store.add_analyst("Ben", "a long passphrase").unwrap();
        let queue = |who: &Analyst, name: &str| {
            let design = Design {
                name: name.into(),
                ..Design::default()
            };
            store
                .queue_run(who, "Rutland", &design, &FileSet::new(), 1)
                .unwrap()
        };
        let first = queue(&ana, "first");
        assert_eq!(store.take_queued(Lane::Any).unwrap(), Some(first));
        // Ana has a run running; she queues an experiment and a run, then
        // Ben queues his run.
        let experiment = store
            .queue_experiment(&ana, first, Kind::Sensitivity, 1, "")
            .unwrap();
        let second = queue(&ana, "second");
        let bens = queue(&ben, "Ben's");
        // The lane for designs never takes an experiment.
        assert_eq!(store.take_queued(Lane::Runs).unwrap(), Some(bens));
        assert_eq!(store.take_queued(Lane::Runs).unwrap(), Some(second));
        assert_eq!(store.take_queued(Lane::Runs).unwrap(), None);
        assert_eq!(store.take_queued(Lane::Any).unwrap(), Some(experiment));
        // Ben's second run goes before Ana's older one: she has three
        // running, he has one.
        let anas = queue(&ana, "third");
        let bens_next = queue(&ben, "Ben's next");
        assert_eq!(store.take_queued(Lane::Any).unwrap(), Some(bens_next));
        assert_eq!(store.take_queued(Lane::Any).unwrap(), Some(anas));
        assert_eq!(store.take_queued(Lane::Any).unwrap(), None);
    }
}

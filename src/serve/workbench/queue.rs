//! The workbench's run queue: workers that take queued runs from the
//! database one at a time and run each as the command line runs it, as a
//! child `upstream run` over the run's own scenario files. A child is its
//! own process, so a run can be cancelled by stopping it, its memory is
//! given back when it ends, and its files are the command line's by
//! construction. A child dies with the server (on Linux), and a run the
//! server was running when it stopped is queued again when it starts.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::workbench::{PLACE_FILE, POLICY_FILE};

use super::super::store::{Kind, Lane, RunRow, State, Store};

/// The command line that gives run `row`'s files, after `upstream` (in
/// the folder of its scenario files; where its files go, its threads and
/// how it shows progress change no result).
pub(in crate::serve) fn arguments(row: &RunRow) -> Vec<String> {
    let mut args: Vec<String> = [row.kind.command(), PLACE_FILE, POLICY_FILE, "--replicates"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(row.replicates.to_string());
    if row.kind == Kind::Sweep {
        args.extend(["--vary".to_string(), row.vary.clone()]);
    }
    args
}

/// The folders of run `id` under `runs`: its scenario files, and its
/// outputs.
pub(in crate::serve) fn folders(runs: &Path, id: i64) -> (PathBuf, PathBuf) {
    let dir = runs.join(id.to_string());
    (dir.join("scenarios"), dir.join("out"))
}

/// The queue's bell: rung when a run is queued, so an idle worker starts
/// it at once rather than at its next look.
#[derive(Default)]
pub(in crate::serve) struct Bell {
    rung: Mutex<u64>,
    ring: Condvar,
}

impl Bell {
    pub(in crate::serve) fn ring(&self) {
        *self.rung.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.ring.notify_all();
    }

    fn wait(&self, most: Duration) {
        let guard = self.rung.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.ring.wait_timeout(guard, most);
    }
}

/// How the workers run: the binary to run, where runs' files go, and
/// threads per run.
#[derive(Clone, Debug)]
pub(in crate::serve) struct Runner {
    /// The `upstream` binary.
    pub program: PathBuf,
    /// The runs' folder.
    pub runs: PathBuf,
    /// Worker threads each run may use.
    pub threads: usize,
}

/// Workers for a machine with `cores`: one run at a time for each four
/// cores (at least one), each run with its share of the cores; [`start`]
/// adds one for designs' runs alone. A run is
/// already parallel within itself, so more runs at once would only share
/// the same cores.
pub(in crate::serve) fn workers(cores: usize) -> (usize, usize) {
    let workers = (cores / 4).max(1);
    (workers, (cores / workers).max(1))
}

/// Starts `count` workers, each taking any queued run for ever, and one
/// more that takes only designs' runs: a long experiment never holds up
/// the run a commissioner is waiting for. Each takes the next run
/// [`Store::take_queued`] gives it, fairly between analysts.
pub(in crate::serve) fn start(count: usize, store: Arc<Store>, bell: Arc<Bell>, runner: Runner) {
    let lanes = std::iter::repeat_n(Lane::Any, count).chain([Lane::Runs]);
    for (n, lane) in lanes.enumerate() {
        let (store, bell, runner) = (store.clone(), bell.clone(), runner.clone());
        std::thread::Builder::new()
            .name(format!("workbench-worker-{n}"))
            .spawn(move || {
                loop {
                    match store.take_queued(lane) {
                        Ok(Some(id)) => run_one(&store, &runner, id),
                        Ok(None) => bell.wait(Duration::from_secs(2)),
                        Err(_) => std::thread::sleep(Duration::from_secs(2)),
                    }
                }
            })
            .expect("a worker thread");
    }
}

/// Runs run `id`, recording its progress and how it ended.
fn run_one(store: &Store, runner: &Runner, id: i64) {
    let (state, message) = match attempt(store, runner, id) {
        Ok(ended) => ended,
        Err(e) => (State::Failed, e),
    };
    // A failure to record is seen on the page as a run still running; the
    // next start queues it again.
    let _ = store.finish(id, state, &message);
}

/// Lays out run `id`'s files and runs it; how it ended and what it said
/// (its warnings, or why it failed).
fn attempt(store: &Store, runner: &Runner, id: i64) -> Result<(State, String), String> {
    let row = store
        .run(id)
        .map_err(|e| e.to_string())?
        .ok_or("the run is gone")?;
    let files = store.run_files(id).map_err(|e| e.to_string())?;
    let (scenarios, out) = folders(&runner.runs, id);
    let dir = scenarios.parent().expect("a run's folder");
    // A run queued again after a stop starts afresh: nothing of the
    // stopped attempt is kept.
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&scenarios).map_err(|e| format!("{}: {e}", scenarios.display()))?;
    for (name, text) in files.iter() {
        let path = scenarios.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut command = Command::new(&runner.program);
    command
        .current_dir(&scenarios)
        .args(arguments(&row))
        .args(["--quiet", "--progress-lines"])
        .arg("--threads")
        .arg(runner.threads.to_string())
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    dies_with_the_server(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", runner.program.display()))?;
    let stderr = child.stderr.take().expect("piped");
    let said: Arc<Mutex<Vec<String>>> = Arc::default();
    let reader = {
        let said = said.clone();
        let store_progress = |done: u64, jobs: u64| store.progress(id, done, jobs);
        std::thread::scope(|scope| {
            let handle = scope.spawn(move || {
                // The child is Upstream's own: at most 200 lines are kept, each
                // cut to 64k characters.
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.strip_prefix("progress ") {
                        let mut n = rest.split(' ').filter_map(|x| x.parse::<u64>().ok());
                        if let (Some(done), Some(jobs)) = (n.next(), n.next()) {
                            let _ = store_progress(done, jobs);
                        }
                    } else {
                        let mut said = said.lock().unwrap_or_else(|e| e.into_inner());
                        if said.len() < 200 {
                            said.push(line.chars().take(65_536).collect());
                        }
                    }
                }
            });
            let status = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) => {}
                    Err(e) => break Err(e.to_string()),
                }
                if store.is_cancelled(id).unwrap_or(false) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(String::new());
                }
                std::thread::sleep(Duration::from_millis(200));
            };
            let _ = handle.join();
            status
        })
    };
    let said = said.lock().unwrap_or_else(|e| e.into_inner()).join("\n");
    match reader {
        Ok(status) if status.success() => Ok((State::Done, said)),
        Ok(_) => Ok((State::Failed, said)),
        Err(e) if e.is_empty() => Ok((State::Cancelled, String::new())),
        Err(e) => Err(e),
    }
}

/// On Linux, the child is killed when the thread that started it ends,
/// as it does when the server is killed: no run goes on writing after the
/// server that queued it.
fn dies_with_the_server(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only this child.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

#[cfg(test)]
mod tests {
    use super::workers;

    #[test]
    fn workers_share_the_cores() {
        assert_eq!(workers(1), (1, 1));
        assert_eq!(workers(2), (1, 2));
        assert_eq!(workers(8), (2, 4));
        assert_eq!(workers(16), (4, 4));
    }
}

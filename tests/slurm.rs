//! A run and an experiment on a real Slurm cluster:
//! `deploy/slurm/submit.sh` submits the shards as a job array and the merge
//! as a job that waits on it, and the merged files are the unsharded
//! run's, byte for byte. Needs a cluster:
//! `.ci/run` starts a one-node one on this machine with
//! `deploy/slurm/localhost.sh start` and runs this with `--ignored`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{every_file, upstream};

fn slurm(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `upstream COMMAND ARGS` whole, then on the cluster as `shards`
/// array tasks and a merge (`deploy/slurm/submit.sh`), and checks the
/// merged files are the whole run's, byte for byte.
fn on_slurm(command: &str, args: &[&str], shards: u32) {
    assert!(
        std::env::var_os("SLURM_CONF").is_some(),
        "start a cluster with `eval \"$(deploy/slurm/localhost.sh start)\"` first"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let mut all = vec![command, "-j", "1", "-q", "-o", whole.to_str().unwrap()];
    all.extend(args);
    let ran = upstream(&all);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );

    // The shards on the node's cores, one each, as a cluster would.
    let submitted = Command::new(root.join("deploy/slurm/submit.sh"))
        .args([&shards.to_string(), "parts", "merged", command])
        .args(args)
        .env("UPSTREAM", env!("CARGO_BIN_EXE_upstream"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&submitted.stdout);
    assert!(
        submitted.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    let ids: Vec<&str> = stdout.split_whitespace().collect();
    let [array, merge] = ids[..] else {
        panic!("submit.sh printed {stdout:?}, not two job ids")
    };
    let started = Instant::now();
    while !slurm("squeue", &["-h", "-j", &format!("{array},{merge}")])
        .trim()
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the jobs did not finish in five minutes"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let job = slurm("scontrol", &["show", "job", merge]);
    assert!(job.contains("JobState=COMPLETED"), "{job}");
    let parts: Vec<_> = std::fs::read_dir(tmp.path().join("parts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(parts.len(), shards as usize, "{parts:?}");
    let (expected, got) = (every_file(&whole), every_file(&tmp.path().join("merged")));
    assert!(
        expected.contains_key("report.html"),
        "{:?}",
        expected.keys()
    );
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &expected {
        assert!(&got[name] == bytes, "{name} differs");
    }
    eprintln!(
        "Slurm: upstream {command} in {shards} shards and their merge finished {:.1} s after submission",
        started.elapsed().as_secs_f64()
    );
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
#[ignore = "needs a Slurm cluster: deploy/slurm/localhost.sh start, then export SLURM_CONF"]
fn a_job_array_of_shards_and_its_merge_give_the_unsharded_files() {
    let (small, hubs) = (fixture("small.toml"), fixture("small_hubs.toml"));
    on_slurm(
        "run",
        &[&small, &hubs, "-r", "5", "--years", "2", "--seed", "23"],
        4,
    );
}

#[test]
#[ignore = "needs a Slurm cluster: deploy/slurm/localhost.sh start, then export SLURM_CONF"]
fn a_morris_screen_in_shards_on_slurm_gives_the_unsharded_files() {
    let (small, hubs) = (fixture("small.toml"), fixture("small_hubs.toml"));
    on_slurm(
        "sensitivity",
        &[
            &small, &hubs, "-r", "2", "--years", "1", "--morris", "2", "--only", "events.",
        ],
        3,
    );
}

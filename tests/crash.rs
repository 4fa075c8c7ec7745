//! Crash safety, end to end: a run of the command killed (SIGKILL) at a
//! moment leaves the output folder exactly as the previous run left it, or
//! exactly as the new run would, and never a half-written file.
//!
//! The write-out is a small part of a run, so kills at a few moments cannot
//! show that every moment is safe; the crash test in `src/output/atomic.rs`
//! does, stopping the writer between every two changes to the disk. This
//! test shows that the command writes through it, with a real run's files,
//! and that a run after a kill tidies up.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::every_file;

fn command(seed: &str, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_upstream"));
    c.args([
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "2",
        "--seed",
        seed,
        "-q",
        "-o",
    ])
    .arg(out)
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

fn run(seed: &str, out: &Path) -> Duration {
    let started = Instant::now();
    assert!(command(seed, out).status().unwrap().success());
    started.elapsed()
}

#[test]
fn a_run_killed_at_any_moment_leaves_the_old_folder_or_the_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    let out = work.join("out");
    run("1", &out);
    let old = every_file(&out);
    let reference = tmp.path().join("reference");
    let took = run("2", &reference);
    let new = every_file(&reference);
    assert_ne!(
        old, new,
        "the two runs must differ for the test to mean anything"
    );
    assert!(old.keys().any(|k| k.ends_with(".png")));

    let (mut kept_old, mut got_new) = (0, 0);
    // Kill at 0/16, 1/16, ... 24/16 of the reference run's time; if the
    // machine is busier now than when it was timed, go on killing later
    // until a kill has landed after the swap too.
    let mut k = 0u32;
    while k <= 24 || (got_new == 0 && k <= 24 * 8) {
        let at = k;
        k += if k < 24 { 1 } else { 4 };
        if every_file(&out) != old {
            fs::remove_dir_all(&out).unwrap();
            fs::create_dir_all(out.join("charts")).unwrap();
            for (name, bytes) in &old {
                fs::write(out.join(name), bytes).unwrap();
            }
        }
        let mut child = command("2", &out).spawn().unwrap();
        std::thread::sleep(took * at / 16);
        // SIGKILL on Unix: no chance to tidy up.
        let _ = child.kill();
        child.wait().unwrap();
        let now = every_file(&out);
        if now == old {
            kept_old += 1;
        } else if now == new {
            got_new += 1;
        } else {
            let differ: Vec<&String> = now
                .keys()
                .chain(old.keys())
                .filter(|n| now.get(*n) != old.get(*n) && now.get(*n) != new.get(*n))
                .collect();
            panic!("killed after {at}/16 of a run, the folder is neither run's: {differ:?}");
        }
        // Anything else a killed run leaves is hidden beside the folder.
        for e in fs::read_dir(&work).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(
                name == "out" || name.starts_with(".out.upstream-"),
                "left behind: {name}"
            );
        }
    }
    eprintln!("killed runs that left the old folder: {kept_old}; the new one: {got_new}");
    assert!(kept_old > 0 && got_new > 0, "old {kept_old}, new {got_new}");

    // The next run tidies whatever the killed ones left.
    run("2", &out);
    assert_eq!(every_file(&out), new);
    let left: Vec<String> = fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["out"]);
}

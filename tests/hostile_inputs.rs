//! A file someone shares cannot print the host's secrets, exhaust its
//! memory or hang a command: every input is a regular `.toml` or `.csv`
//! file within the stated limit, and errors quote at most a short, escaped
//! fragment of what they reject (issue 37, faults 1, 2 and 6).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A secret in the command's environment, which /proc/self/environ holds.
const SECRET: &str = "upstream-test-secret-3f9a";

/// Runs `upstream` with `args` in `dir`, a secret in its environment; kills
/// it after 60 seconds (a hang is a failure). Exit code and stderr.
fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_upstream"))
        .args(args)
        .current_dir(dir)
        .env("UPSTREAM_TEST_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("upstream {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn baseline() -> String {
    format!("{}/scenarios/baseline.toml", env!("CARGO_MANIFEST_DIR"))
}

/// Refused with exit 2, one line, nothing of the host's files in it.
fn refused(dir: &Path, args: &[&str], expect: &[&str]) -> String {
    let (code, stdout, stderr) = run_in(dir, args);
    assert_eq!(code, Some(2), "{args:?}: {stderr}");
    for leak in [SECRET, "root:", "/bin/", "PATH="] {
        assert!(
            !stderr.contains(leak) && !stdout.contains(leak),
            "{args:?} leaked {leak:?}: {stderr}"
        );
    }
    assert!(
        !stderr.contains('\u{1b}'),
        "{args:?}: raw escape in {stderr:?}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    for e in expect {
        assert!(stderr.contains(e), "{args:?}: expected {e:?} in {stderr}");
    }
    stderr
}

fn scenario(dir: &Path, name: &str, body: &str) -> String {
    let text = format!("name = \"hostile\"\nextends = \"{}\"\n{body}", baseline());
    fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

#[test]
fn a_starting_state_cannot_print_another_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::os::unix::fs::symlink("/proc/self/environ", d.join("environ.csv")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.join("passwd.csv")).unwrap();
    for (path, expect) in [
        ("/proc/self/environ", ".csv only"),
        ("/etc/passwd", ".csv only"),
        ("../../../../../../etc/passwd", ".csv only"),
        ("environ.csv", "not a starting-state table"),
        ("passwd.csv", "not a starting-state table"),
    ] {
        let s = scenario(
            d,
            "s.toml",
            &format!("[population]\nstarting_state = \"{path}\"\n"),
        );
        refused(d, &["run", &s, "-r", "1", "-o", "out"], &[expect]);
        refused(d, &["check", &s], &[expect]);
    }
    assert!(!d.join("out").exists());
}

#[test]
fn an_extended_file_that_is_not_a_scenario_is_not_quoted() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("keys.toml"), "[registry]\ntoken = \"hunter2\"\n").unwrap();
    for (extends, expect) in [
        ("/etc/passwd", ".toml"),
        ("/proc/self/environ", ".toml"),
        ("keys.toml", "not a scenario file"),
    ] {
        fs::write(
            d.join("s.toml"),
            format!("name = \"x\"\nextends = \"{extends}\"\n"),
        )
        .unwrap();
        let e = refused(d, &["check", "s.toml"], &[expect, "s.toml, line 2"]);
        assert!(!e.contains("registry") && !e.contains("hunter2"), "{e}");
    }
}

#[test]
fn devices_pipes_and_folders_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.csv")).unwrap();
    for name in ["pipe.toml", "pipe.csv"] {
        let c = std::ffi::CString::new(d.join(name).to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }
    fs::create_dir(d.join("folder.toml")).unwrap();
    let not_regular = "not a regular file";
    refused(d, &["check", "zero.toml"], &[not_regular]);
    refused(d, &["check", "pipe.toml"], &[not_regular]);
    refused(d, &["check", "folder.toml"], &["a folder"]);
    refused(d, &["check", "/dev/zero"], &[".toml"]);
    let s = scenario(d, "ext.toml", "");
    fs::write(
        d.join("ext.toml"),
        "name = \"x\"\nextends = \"zero.toml\"\n",
    )
    .unwrap();
    refused(d, &["check", &s], &[not_regular]);
    scenario(
        d,
        "start.toml",
        "[population]\nstarting_state = \"pipe.csv\"\n",
    );
    refused(d, &["check", "start.toml"], &[not_regular]);
    for table in ["zero.csv", "pipe.csv", "/dev/zero"] {
        refused(
            d,
            &[
                "run",
                &baseline(),
                "--places",
                table,
                "-r",
                "1",
                "-o",
                "out",
            ],
            &[table],
        );
        refused(
            d,
            &[
                "calibrate",
                &baseline(),
                "--observed",
                table,
                "-o",
                "out",
                "--candidates",
                "10",
                "--accept",
                "10",
            ],
            &[table],
        );
        refused(
            d,
            &["elicit", &baseline(), table, "-o", "ours.toml"],
            &[table],
        );
    }
    assert!(!d.join("out").exists());
    assert!(!d.join("ours.toml").exists());
}

#[test]
fn a_file_over_the_limit_is_refused_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let big = fs::File::create(d.join("big.toml")).unwrap();
    big.set_len(upstream::input::MAX_INPUT_BYTES + 1).unwrap();
    refused(d, &["check", "big.toml"], &["over the 64 MB limit"]);
}

#[test]
fn text_in_tables_follows_the_scenarios_rules_and_is_quoted_short() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let header = "place,residents,decile_1,decile_2,decile_3,decile_4,decile_5,decile_6,decile_7,decile_8,decile_9,decile_10";
    let deciles = "1,1,1,1,1,1,1,1,1,1";
    let base = baseline();
    let places = [
        "run",
        &base,
        "--places",
        "places.csv",
        "-r",
        "1",
        "-o",
        "out",
    ];
    let long = "N".repeat(1_000_000);
    for (name, expect) in [
        (long.as_str(), "at most 200 characters"),
        ("North\u{1b}[2Jtown", "U+001B"),
        ("North\u{0}town", "U+0000"),
        ("nwot\u{202E}North", "U+202E"),
    ] {
        fs::write(
            d.join("places.csv"),
            format!("{header}\n\"{name}\",5000,{deciles}\n"),
        )
        .unwrap();
        let e = refused(d, &places, &["places.csv, line 2, column `place`", expect]);
        assert!(e.len() < 1_000, "{} characters", e.len());
    }
    // A value that is not a number is quoted, but short and escaped.
    fs::write(
        d.join("places.csv"),
        format!("{header}\nX,{}\u{1b}[31m,{deciles}\n", "9".repeat(5_000)),
    )
    .unwrap();
    let e = refused(d, &places, &["column `residents`", "…"]);
    assert!(e.len() < 1_000, "{e}");
    // Observed counts: a metric or a source with an escape is refused.
    for row in [
        "service.ae_attendance.events\u{1b}[2J,2026/27,100,",
        "service.ae_attendance.events,2026/27,100,NHS\u{1b}[2J digital",
        "service.ae_attendance.events,2026/27,100,NHS \u{202E}latigid",
    ] {
        fs::write(
            d.join("observed.csv"),
            format!("metric,period,count,source\n{row}\n"),
        )
        .unwrap();
        refused(
            d,
            &[
                "calibrate",
                &baseline(),
                "--observed",
                "observed.csv",
                "-o",
                "out",
            ],
            &["observed.csv, line 2"],
        );
    }
    assert!(!d.join("out").exists());
    // Judgements: a parameter or an expert with an escape is refused, and a
    // file that is not a table of judgements is not quoted at all.
    for row in [
        "need.utility\u{1b}[2J,A,,1,2,3,",
        "events.ae_attendance.unit_cost,A\u{202E}B,,1,2,3,",
    ] {
        fs::write(
            d.join("judgements.csv"),
            format!("parameter,expert,p5,p25,median,p75,p95\n{row}\n"),
        )
        .unwrap();
        refused(
            d,
            &["elicit", &baseline(), "judgements.csv", "-o", "ours.toml"],
            &["judgements.csv, line 2"],
        );
    }
    fs::write(d.join("judgements.csv"), "root:x:0:0:secret\n").unwrap();
    let e = refused(
        d,
        &["elicit", &baseline(), "judgements.csv", "-o", "ours.toml"],
        &["this is not a table of judgements"],
    );
    assert!(!e.contains("secret"), "{e}");
    assert!(!d.join("ours.toml").exists());
}

#[test]
fn a_scenario_name_cannot_display_as_another() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(
        d.join("s.toml"),
        format!(
            "name = \"hubs\u{202E}enilesab\"\nextends = \"{}\"\n",
            baseline()
        ),
    )
    .unwrap();
    refused(d, &["check", "s.toml"], &["U+202E", "s.toml, line 1"]);
}

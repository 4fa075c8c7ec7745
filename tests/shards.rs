//! A run split into shards (`upstream run --shard K/N`) and merged
//! (`upstream merge`) writes every file of the unsharded run, byte for
//! byte, for any number of shards (more than the run has replicates too),
//! parts given in any order, and with parameters drawn; a merge refuses,
//! naming them, parts missing, given twice, from another run or damaged,
//! and writes nothing.

use std::fs;
use std::path::{Path, PathBuf};

use upstream::app::{Plan, Request};
use upstream::replicates::Shard;

use crate::common::{every_file, merge, merge_ok, ok, refused_merge, small_hubs_plan, upstream};

fn fixture(name: &str) -> String {
    format!("tests/fixtures/{name}")
}

/// `upstream run` of the small borough and its hubs, 5 replicates over 2
/// years, with `extra` arguments.
fn run(extra: &[&str]) {
    run_seeded("17", extra);
}

fn run_seeded(seed: &str, extra: &[&str]) {
    let mut args = vec![
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "5",
        "--years",
        "2",
        "--seed",
        seed,
        "-q",
    ];
    args.extend(extra);
    ok(&args);
}

/// Runs every shard of `count` into `parts` (shard k on `threads(k)`
/// threads) and returns the part files.
fn shards(parts: &Path, count: u32, threads: impl Fn(u32) -> u32, extra: &[&str]) -> Vec<PathBuf> {
    (1..=count)
        .map(|k| {
            let (shard, j) = (format!("{k}/{count}"), threads(k).to_string());
            let mut args = vec!["--shard", &shard, "-j", &j, "-o", parts.to_str().unwrap()];
            args.extend(extra);
            run(&args);
            parts.join(format!("shard-{k}-of-{count}.part"))
        })
        .collect()
}

#[test]
fn any_number_of_shards_in_any_order_merge_to_the_unsharded_files() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    run(&["-j", "2", "-o", whole.to_str().unwrap()]);
    let expected = every_file(&whole);
    // The report, its charts and the workbook are among them.
    assert!(expected.contains_key("report.html") && expected.contains_key("upstream.xlsx"));
    assert!(expected.len() > 20);
    // 5 replicates, so 7 shards leave two with nothing to do; shards run
    // on 1 or 2 threads, and the merged run says 2, the most any used.
    for count in [1, 2, 3, 7] {
        let parts = tmp.path().join(format!("parts-{count}"));
        let mut files = shards(&parts, count, |k| 1 + k % 2, &[]);
        files.reverse();
        files.rotate_left(1);
        let merged = tmp.path().join(format!("merged-{count}"));
        merge_ok(&files, &merged, &[]);
        let got = every_file(&merged);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &expected {
            assert!(&got[name] == bytes, "{name} differs with {count} shards");
        }
    }
}

#[test]
fn a_folder_of_parts_merges_as_its_files_do() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    run(&["-j", "1", "--no-report", "-o", whole.to_str().unwrap()]);
    let parts = tmp.path().join("parts");
    shards(&parts, 4, |_| 1, &["--no-report"]);
    let merged = tmp.path().join("merged");
    merge_ok(&[parts], &merged, &["--no-report"]);
    assert_eq!(every_file(&whole), every_file(&merged));
}

/// A probabilistic run: each replicate's draw and its re-run with every
/// parameter at its value travel together, so the variance split is the
/// same too.
#[test]
fn a_probabilistic_run_merges_to_the_unsharded_files() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let base = tmp.path().join("base.toml");
    fs::write(
        &base,
        format!(
            "name = \"Small borough\"\nextends = \"{}\"\n[uncertainty]\ndefault_width = {{ high = 0.1, medium = 0.2, low = 0.4 }}\n",
            fixtures.join("small.toml").display()
        ),
    )
    .unwrap();
    let hubs = fixtures.join("small_hubs.toml");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "run".to_string(),
            base.display().to_string(),
            hubs.display().to_string(),
            "--uncertainty".into(),
            "-r".into(),
            "4".into(),
            "--years".into(),
            "1".into(),
            "-j".into(),
            "2".into(),
            "-q".into(),
            "--no-report".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let whole = tmp.path().join("whole");
    let a = args(&["-o", whole.to_str().unwrap()]);
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let parts = tmp.path().join("parts");
    for k in [3, 1, 2] {
        let a = args(&["--shard", &format!("{k}/3"), "-o", parts.to_str().unwrap()]);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let merged = tmp.path().join("merged");
    merge_ok(&[parts], &merged, &["--no-report"]);
    let (w, m) = (every_file(&whole), every_file(&merged));
    assert!(String::from_utf8_lossy(&w["economics.json"]).contains("npv_variance"));
    assert_eq!(w, m);
}

/// A place simulated at a fraction of its size merges as a run of every
/// resident does, and a part at another scale is not of the same run.
#[test]
fn a_scaled_run_merges_to_the_unsharded_files_and_not_with_another_scale() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let scaled = ["--scale", "2", "--no-report"];
    let mut args = vec!["-o", whole.to_str().unwrap()];
    args.extend(scaled);
    run(&args);
    let parts = tmp.path().join("parts");
    let files = shards(&parts, 2, |_| 1, &scaled);
    let merged = tmp.path().join("merged");
    merge_ok(std::slice::from_ref(&parts), &merged, &["--no-report"]);
    let w = every_file(&whole);
    assert!(String::from_utf8_lossy(&w["summary.json"]).contains("\"stands_for\": 2"));
    assert_eq!(w, every_file(&merged));
    let other = tmp.path().join("other");
    let plain = shards(&other, 2, |_| 1, &["--no-report"]);
    refused(
        &[files[0].clone(), plain[1].clone()],
        &tmp.path().join("out"),
        &["has --scale"],
    );
}

/// The merge reads the scenarios from the parts, so a file changed after
/// the shards ran makes no difference, and a run needs no scenario file
/// where it is merged.
#[test]
fn the_merge_reads_the_scenarios_the_shards_read() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base.toml");
    let text = format!(
        "extends = \"{}\"\n",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/small.toml")
            .display()
    );
    fs::write(&base, &text).unwrap();
    let b = base.to_str().unwrap().to_string();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    let go = |extra: &[&str]| {
        let mut a = vec!["run", &b, "-r", "3", "--years", "1", "-q", "--no-report"];
        a.extend(extra);
        ok(&a);
    };
    go(&["-o", whole.to_str().unwrap()]);
    go(&["--shard", "1/2", "-o", parts.to_str().unwrap()]);
    go(&["--shard", "2/2", "-o", parts.to_str().unwrap()]);
    fs::remove_file(&base).unwrap();
    let merged = tmp.path().join("merged");
    merge_ok(&[parts], &merged, &["--no-report"]);
    let mut w = every_file(&whole);
    let mut m = every_file(&merged);
    // Threads: the unsharded run used every core, the shards too.
    w.remove("summary.json");
    m.remove("summary.json");
    assert_eq!(w, m);
}

/// A part names the files its run was given in full from its own folder,
/// so it holds no full path of the machine it ran on; moved to another
/// folder, the parts still merge to the run's files.
#[test]
fn a_part_holds_no_full_path_and_merges_where_it_is_moved() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let small = root.join("tests/fixtures/small.toml");
    let hubs = root.join("tests/fixtures/small_hubs.toml");
    let (small, hubs) = (small.to_str().unwrap(), hubs.to_str().unwrap());
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    let go = |extra: &[&str]| {
        let mut a = vec![
            "run",
            small,
            hubs,
            "-r",
            "3",
            "--years",
            "1",
            "-q",
            "--no-report",
        ];
        a.extend(extra);
        ok(&a);
    };
    go(&["-o", whole.to_str().unwrap()]);
    go(&["--shard", "1/2", "-o", parts.to_str().unwrap()]);
    go(&["--shard", "2/2", "-o", parts.to_str().unwrap()]);
    // A path the part names starts a JSON string.
    let names_no_full_path = |part: &Path| {
        let text = fs::read_to_string(part).unwrap();
        for full in [root.to_str().unwrap(), tmp.path().to_str().unwrap()] {
            assert!(
                !text.contains(&format!("\"{full}")),
                "{part:?} names {full}"
            );
        }
        assert!(text.contains("\"<part folder>/"), "{part:?}");
    };
    for part in ["shard-1-of-2.part", "shard-2-of-2.part"] {
        names_no_full_path(&parts.join(part));
    }
    // A run over places names its table so, and an experiment its settings.
    let places = root.join("tests/fixtures/places.csv");
    let (region, sweep) = (tmp.path().join("region"), tmp.path().join("sweep"));
    for (command, folder, extra) in [
        ("run", &region, vec!["--places", places.to_str().unwrap()]),
        (
            "sweep",
            &sweep,
            vec!["--vary", "interventions.hubs.engagement=0.5:0.9:2"],
        ),
    ] {
        let mut a = vec![command, small, hubs, "-r", "1", "--years", "1", "-q"];
        a.extend(extra);
        a.extend(["--shard", "1/2", "-o", folder.to_str().unwrap()]);
        ok(&a);
        names_no_full_path(&folder.join("shard-1-of-2.part"));
    }
    let moved = tmp.path().join("elsewhere/deeper/parts");
    fs::create_dir_all(moved.parent().unwrap()).unwrap();
    fs::rename(&parts, &moved).unwrap();
    let merged = tmp.path().join("merged");
    merge_ok(&[moved], &merged, &["--no-report"]);
    let mut w = every_file(&whole);
    let mut m = every_file(&merged);
    // Threads: the unsharded run used every core, the shards too.
    w.remove("summary.json");
    m.remove("summary.json");
    assert_eq!(w, m);
}

/// The library's own pieces: every way of splitting a run, parts put
/// together in any order, gives the run's files.
#[test]
fn shards_put_together_in_any_order_give_the_run() {
    let files = |plan: Plan| {
        let outcome = plan.run(&|| {}).unwrap();
        outcome.render().unwrap()
    };
    let whole = files(small_hubs_plan(6, 5, 2, 1));
    for count in 1..=8u32 {
        let plan = small_hubs_plan(6, 5, 2, 1);
        let mut parts: Vec<_> = (1..=count)
            .map(|k| {
                plan.run_shard(Shard::new(k, count).unwrap(), &|| {})
                    .unwrap()
            })
            .collect();
        // Each replicate once, in one shard.
        let held: usize = parts.iter().map(|p| p.run.results.len()).sum();
        assert_eq!(held, 2 * 6);
        parts.rotate_right(count as usize / 2);
        let outcome = plan.put_together(parts, 0.0).unwrap();
        assert!(outcome.render().unwrap() == whole, "{count} shards");
    }
    // Without one shard, the merge names what is missing.
    let plan = small_hubs_plan(6, 5, 2, 1);
    let parts = vec![plan.run_shard(Shard::new(1, 2).unwrap(), &|| {}).unwrap()];
    let err = plan.put_together(parts, 0.0).unwrap_err();
    assert!(
        err.to_string().contains("no shard holds replicate 2"),
        "{err}"
    );
}

/// A bad merge: exit code 2, one line naming the fault, and no output
/// folder.
fn refused(parts: &[PathBuf], out: &Path, expect: &[&str]) {
    refused_merge(parts, out, &["--no-report"], expect);
}

#[test]
fn parts_missing_twice_foreign_or_damaged_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = tmp.path().join("parts");
    let files = shards(&parts, 4, |_| 1, &["--no-report"]);
    let out = tmp.path().join("out");
    let name = |p: &PathBuf| p.display().to_string();

    refused(
        &files[..2],
        &out,
        &[
            "shards 3 and 4 of 4 are missing",
            "shard-3-of-4.part, shard-4-of-4.part",
        ],
    );
    let copy = tmp.path().join("copy.part");
    fs::copy(&files[1], &copy).unwrap();
    let mut twice = files.clone();
    twice.push(copy.clone());
    refused(
        &twice,
        &out,
        &[
            "shard 2 of 4 is given twice",
            &name(&files[1]),
            &name(&copy),
        ],
    );
    // The same file named twice (a folder and a file in it) is one part.
    let mut again = vec![parts.clone()];
    again.push(files[0].clone());
    let merged = tmp.path().join("merged");
    assert!(merge(&again, &merged, &["--no-report"]).status.success());

    // Another seed, another count of shards.
    let other = tmp.path().join("other");
    run_seeded("18", &["--shard", "1/4", "-o", other.to_str().unwrap()]);
    let foreign = other.join("shard-1-of-4.part");
    refused(
        &[files[1].clone(), foreign.clone()],
        &out,
        &[
            &name(&foreign),
            "belongs to another run",
            "has seed 18, not 17",
        ],
    );
    run(&["--shard", "1/3", "-o", other.to_str().unwrap()]);
    let of_three = other.join("shard-1-of-3.part");
    refused(
        &[files[1].clone(), of_three.clone()],
        &out,
        &["is one of 3 shards, not 4"],
    );

    // Cut short, tampered with, not a part at all.
    let bytes = fs::read(&files[2]).unwrap();
    let short = tmp.path().join("short.part");
    fs::write(&short, &bytes[..bytes.len() - 100]).unwrap();
    refused(
        std::slice::from_ref(&short),
        &out,
        &[&name(&short), "damaged or cut short"],
    );
    let text = String::from_utf8(bytes).unwrap();
    let tampered = tmp.path().join("tampered.part");
    let last = text.rfind("\"resident_months\":").unwrap();
    let mut t = text.clone();
    t.insert(last + "\"resident_months\":".len(), '1');
    fs::write(&tampered, t).unwrap();
    refused(&[tampered], &out, &["do not match their checksum"]);
    // A unit cost edited in the inputs every part holds (the £273 of an A&E
    // attendance made £999 with one `sed`): the merge would have published
    // £999 beside figures computed at £273.
    let edited_dir = tmp.path().join("edited");
    fs::create_dir(&edited_dir).unwrap();
    let edited: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            let text = fs::read_to_string(f).unwrap();
            let from = "unit_cost = { value = 273,";
            assert!(text.contains(from), "the part holds the baseline's text");
            let e = edited_dir.join(f.file_name().unwrap());
            fs::write(&e, text.replace(from, "unit_cost = { value = 999,")).unwrap();
            e
        })
        .collect();
    refused(
        &edited,
        &out,
        &[&name(&edited[0]), "edited after its shard ran"],
    );
    let csv = tmp.path().join("x.part");
    fs::write(&csv, "metric,period,count\n").unwrap();
    refused(
        &[csv],
        &out,
        &["is not a part written by an `upstream` command run with --shard"],
    );
    refused(
        &[tmp.path().join("absent.part")],
        &out,
        &["cannot read", "absent.part"],
    );
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    refused(&[empty], &out, &["no part files given"]);
}

#[test]
fn a_merge_never_replaces_the_folder_of_its_parts_and_bad_shards_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = tmp.path().join("parts");
    let files = shards(&parts, 2, |_| 1, &["--no-report"]);
    let got = merge(&files, &parts, &["--no-report"]);
    assert_eq!(got.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&got.stderr).contains("which Upstream did not write"));
    assert!(files.iter().all(|f| f.is_file()), "the parts are kept");

    for bad in ["0/3", "4/3", "3", "x/3"] {
        let got = upstream(&[
            "run",
            &fixture("small.toml"),
            "--shard",
            bad,
            "-o",
            tmp.path().join("bad").to_str().unwrap(),
        ]);
        assert_eq!(got.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&got.stderr).contains("--shard must be K/N"));
        assert!(!tmp.path().join("bad").exists());
    }
}

/// The starting state's CSV and every file extended travel in the part.
#[test]
fn a_shard_keeps_the_text_of_every_file_its_scenarios_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let request = Request {
        scenarios: vec![root.join("tests/fixtures/small_csv.toml")],
        replicates: 1,
        ..Request::default()
    };
    let (_, key) = upstream::shard::plan_keeping_inputs(&request, None).unwrap();
    let names: Vec<&str> = key
        .inputs
        .keys()
        .map(|k| Path::new(k).file_name().unwrap().to_str().unwrap())
        .collect();
    // small_csv.toml extends small.toml, which extends the bundled baseline.
    for f in [
        "small_csv.toml",
        "small.toml",
        "baseline.toml",
        "starting_state.csv",
    ] {
        assert!(names.contains(&f), "{f} in {names:?}");
    }
    assert_eq!(names.len(), 4, "{names:?}");
}

//! Every experiment split into shards (`upstream sweep … --shard K/N` and
//! the same for sensitivity with its Morris screen, break-even,
//! calibration and optimisation) merges to the files the experiment writes
//! unsharded, byte for byte, for several numbers of shards (more than it
//! has pieces of work too) and parts in any order; an experiment's pieces
//! are shared out as one list across its runs; and parts of another
//! experiment, or of the same one with other settings, are refused by
//! name.

use std::fs;
use std::path::{Path, PathBuf};

use upstream::replicates::{self, Runs, Shard};

use crate::common::{every_file, merge, ok, refused_merge, small_hubs_plan};

fn fixture(name: &str) -> String {
    format!("tests/fixtures/{name}")
}

/// Runs `upstream COMMAND ARGS` in `count` shards (shard k on 1 or 2
/// threads) into `parts`, and returns the part files.
fn shards(command: &str, args: &[&str], parts: &Path, count: u32) -> Vec<PathBuf> {
    (1..=count)
        .map(|k| {
            let (shard, j) = (format!("{k}/{count}"), (1 + k % 2).to_string());
            let mut all = vec![command];
            all.extend(args);
            all.extend(["--shard", &shard, "-j", &j, "-q", "-o"]);
            all.push(parts.to_str().unwrap());
            ok(&all);
            parts.join(format!("shard-{k}-of-{count}.part"))
        })
        .collect()
}

/// `upstream COMMAND ARGS` whole, then in each number of shards of
/// `counts`, merged from its parts in reverse order into the same folder
/// as the whole run wrote (a calibration's report names its folder): the
/// same files, byte for byte. Returns the whole run's files.
fn merges_to_the_whole(
    command: &str,
    args: &[&str],
    counts: &[u32],
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut whole = vec![command];
    whole.extend(args);
    whole.extend(["-j", "2", "-q", "-o", out.to_str().unwrap()]);
    ok(&whole);
    let expected = every_file(&out);
    fs::remove_dir_all(&out).unwrap();
    for &count in counts {
        let parts = tmp.path().join(format!("parts-{count}"));
        let mut files = shards(command, args, &parts, count);
        files.reverse();
        let merged = merge(&files, &out, &[]);
        assert!(
            merged.status.success(),
            "{command} in {count} shards: {}",
            String::from_utf8_lossy(&merged.stderr)
        );
        let got = every_file(&out);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{command} in {count} shards"
        );
        for (name, bytes) in &expected {
            assert!(
                &got[name] == bytes,
                "{name} differs: {command} in {count} shards"
            );
        }
        fs::remove_dir_all(&out).unwrap();
    }
    expected
}

#[test]
fn a_sweep_in_shards_merges_to_the_unsharded_files() {
    let (small, hubs) = (fixture("small.toml"), fixture("small_hubs.toml"));
    // 2 × 3 points of 2 replicates, each a piece (the two scenarios share
    // their burn-in): 12 pieces, so 40 shards leave most with nothing.
    let files = merges_to_the_whole(
        "sweep",
        &[
            &small,
            &hubs,
            "--vary",
            "interventions.hubs.engagement=0.5:0.9:3",
            "--vary",
            "events.police_incident.unit_cost=x0.5:x1.5:2",
            "-r",
            "2",
            "--years",
            "1",
        ],
        &[1, 2, 5, 40],
    );
    assert!(files.contains_key("sweep.csv") && files.contains_key("report.html"));
    // Each point's kept results too.
    assert_eq!(files.keys().filter(|k| k.starts_with("runs/")).count(), 6);
}

#[test]
fn a_sensitivity_analysis_and_its_morris_screen_in_shards_merge_to_the_unsharded_files() {
    let (small, hubs) = (fixture("small.toml"), fixture("small_hubs.toml"));
    let files = merges_to_the_whole(
        "sensitivity",
        &[
            &small, &hubs, "-r", "2", "--years", "1", "--only", "events.", "--morris", "2",
        ],
        &[2, 7],
    );
    for f in [
        "sensitivity.csv",
        "morris.csv",
        "upstream.xlsx",
        "report.html",
    ] {
        assert!(files.contains_key(f), "{f}");
    }
}

#[test]
fn break_even_calibration_and_optimisation_in_shards_merge_to_the_unsharded_files() {
    let (small, hubs) = (fixture("small.toml"), fixture("small_hubs.toml"));
    let files = merges_to_the_whole(
        "break-even",
        &[&small, &hubs, "-r", "2", "--years", "1"],
        &[3],
    );
    assert!(files.contains_key("break_even.csv"));
    // With the other parameters drawn: each replicate's draw, held at the
    // present, is the same in every shard.
    let files = merges_to_the_whole(
        "break-even",
        &[&small, &hubs, "-r", "2", "--years", "1", "--uncertainty"],
        &[2],
    );
    let page = String::from_utf8_lossy(&files["report.html"]);
    assert!(page.contains("uncertain parameters together"), "{page}");

    let tmp = tempfile::tempdir().unwrap();
    let observed = tmp.path().join("observed.csv");
    fs::write(
        &observed,
        "metric,period,count\nservice.ae_attendance.events,2026/27,2500\n",
    )
    .unwrap();
    let files = merges_to_the_whole(
        "calibrate",
        &[
            &small,
            "--observed",
            observed.to_str().unwrap(),
            "--candidates",
            "40",
            "--accept",
            "10",
            "-r",
            "1",
            "--fit",
            "events.ae_attendance",
        ],
        &[2, 3],
    );
    assert!(files.contains_key("calibrated.toml") && files.contains_key("candidates.csv"));

    // Parameters drawn, so each batch of splits runs twice.
    let files = merges_to_the_whole(
        "optimise",
        &[
            &small,
            &fixture("small_portfolio.toml"),
            "-r",
            "2",
            "--years",
            "1",
            "--uncertainty",
        ],
        &[4],
    );
    assert!(files.contains_key("splits.csv") && files.contains_key("frontier.csv"));
}

/// One run's pieces (each replicate of the scenarios sharing a burn-in)
/// after another's: shard k of N holds the experiment's pieces k, k + N,
/// …, counted across its runs, so N shards for N pieces hold one each,
/// whatever the runs' sizes; and put back together they are each run as
/// run whole.
#[test]
fn an_experiments_pieces_are_shared_out_as_one_list_across_its_runs() {
    let plan = small_hubs_plan(3, 9, 1, 1);
    let configs: Vec<_> = plan.scenarios().iter().map(|l| &l.config).collect();
    // Three runs: the pair (3 pieces: they share a burn-in), the baseline
    // alone (3), and the hubs alone (3).
    let runs: [Vec<_>; 3] = [configs.clone(), vec![configs[0]], vec![configs[1]]];
    let go = |r: &mut Runs| -> Vec<Option<replicates::Experiment>> {
        runs.iter()
            .map(|c| {
                r.run(c.len(), &|s, _| c[s], plan.settings(), &|| {})
                    .unwrap()
            })
            .collect()
    };
    let whole: Vec<_> = go(&mut Runs::whole()).into_iter().flatten().collect();
    let count = 9;
    let mut kept = Vec::new();
    for k in 1..=count {
        let mut r = Runs::shard(Shard::new(k, count).unwrap());
        assert!(go(&mut r).iter().all(Option::is_none));
        let parts = r.into_kept();
        assert_eq!(parts.len(), 3);
        let pieces: usize = parts
            .iter()
            .map(|p| {
                let mut reps: Vec<u32> = p.results.iter().map(|r| r.1).collect();
                reps.dedup();
                reps.len()
            })
            .sum();
        assert_eq!(pieces, 1, "shard {k} holds one piece");
        kept.push(parts);
    }
    kept.reverse();
    let mut merging = Runs::merge(kept);
    let merged: Vec<_> = go(&mut merging).into_iter().flatten().collect();
    merging.finish().unwrap();
    assert_eq!(merged.len(), 3);
    for (a, b) in whole.iter().zip(&merged) {
        assert_eq!(a.resident_months, b.resident_months);
        assert_eq!(a.burn_in_shared, b.burn_in_shared);
        for (x, y) in a.scenarios.iter().zip(&b.scenarios) {
            assert_eq!(x.replicates, y.replicates);
        }
    }
    // A merge given more runs than the experiment does says so.
    let one = Runs::shard(Shard::WHOLE);
    let mut one = one;
    go(&mut one);
    let mut short = Runs::merge(vec![one.into_kept()]);
    short
        .run(runs[0].len(), &|s, _| runs[0][s], plan.settings(), &|| {})
        .unwrap();
    let err = short.finish().unwrap_err().to_string();
    assert!(
        err.contains("hold 3 runs of the experiment, but it does 1"),
        "{err}"
    );
}

fn refused(parts: &[PathBuf], out: &Path, expect: &[&str]) {
    refused_merge(parts, out, &[], expect);
}

#[test]
fn parts_of_another_experiment_or_other_settings_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, hubs) = (fixture("small.toml"), fixture("small_hubs.toml"));
    let sweep = |vary: &str, parts: &Path, count| {
        shards(
            "sweep",
            &[&small, &hubs, "--vary", vary, "-r", "1", "--years", "1"],
            parts,
            count,
        )
    };
    let a = sweep(
        "interventions.hubs.engagement=0.5:0.9:2",
        &tmp.path().join("a"),
        2,
    );
    let b = sweep(
        "interventions.hubs.engagement=0.5:0.8:2",
        &tmp.path().join("b"),
        2,
    );
    let out = tmp.path().join("out");
    refused(
        &[a[0].clone(), b[1].clone()],
        &out,
        &[
            "belongs to another run",
            "has vary",
            "0.5:0.8:2",
            "0.5:0.9:2",
        ],
    );
    refused(&a[..1], &out, &["shard 2 of 2 is missing"]);
    let run = tmp.path().join("run");
    ok(&[
        "run",
        &small,
        &hubs,
        "-r",
        "1",
        "--years",
        "1",
        "--shard",
        "2/2",
        "-q",
        "-o",
        run.to_str().unwrap(),
    ]);
    refused(
        &[a[0].clone(), run.join("shard-2-of-2.part")],
        &out,
        &["is a shard of `upstream run`, not `upstream sweep`"],
    );
    // A shard writes no results of its own, and claims no folder.
    assert_eq!(fs::read_dir(tmp.path().join("a")).unwrap().count(), 2);
}

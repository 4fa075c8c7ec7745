//! The experiments as a library drives them: `experiments::drive` runs a
//! sweep whole, and as shards whose parts `experiments::merge` puts back
//! together, to the same files byte for byte, whatever the threads; the
//! settings a part stores are the experiment's own, typed, and read back
//! as such; and a shard writes only its part.

use std::path::{Path, PathBuf};

use upstream::experiments::{self, Compared, Experiment, How, Unwatched, sweep};
use upstream::replicates::Shard;
use upstream::shard::Merging;

use crate::common::every_file;

fn settings() -> sweep::Settings {
    sweep::Settings {
        compared: Compared {
            scenarios: vec![
                "tests/fixtures/small.toml".into(),
                "tests/fixtures/small_hubs.toml".into(),
            ],
            baseline: None,
            seed: 42,
            replicates: 2,
            years: Some(1),
        },
        vary: vec!["interventions.hubs.engagement=0.5:0.9:3".into()],
    }
}

fn how(out: &Path, shard: Option<Shard>, threads: usize) -> How {
    How {
        out: out.to_path_buf(),
        shard,
        memory_limit: None,
        threads: Some(threads),
    }
}

#[test]
fn a_sweep_driven_whole_sharded_and_merged_writes_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let said =
        experiments::drive::<sweep::Sweep>(settings(), &how(&whole, None, 2), &Unwatched).unwrap();
    assert!(said.out.contains("Wrote sweep.csv"), "{}", said.out);
    let expected = every_file(&whole);
    assert!(expected.contains_key("sweep.csv") && expected.contains_key("report.html"));
    assert_eq!(
        expected.keys().filter(|k| k.starts_with("runs/")).count(),
        3
    );

    for count in [1, 3] {
        let parts_dir = tmp.path().join(format!("parts-{count}"));
        let parts: Vec<PathBuf> = (1..=count)
            .map(|k| {
                let shard = Shard::new(k, count).unwrap();
                let said = experiments::drive::<sweep::Sweep>(
                    settings(),
                    &how(&parts_dir, Some(shard), 1 + k as usize % 2),
                    &Unwatched,
                )
                .unwrap();
                assert!(said.out.contains("Wrote shard"), "{}", said.out);
                parts_dir.join(format!("shard-{k}-of-{count}.part"))
            })
            .collect();
        // A shard writes its part and nothing else.
        let written: Vec<String> = every_file(&parts_dir).into_keys().collect();
        let names: Vec<String> = (1..=count)
            .map(|k| format!("shard-{k}-of-{count}.part"))
            .collect();
        assert_eq!(written, names);

        let Merging::Experiment(merging) = upstream::shard::merge(&parts).unwrap() else {
            panic!("a sweep's parts merge as an experiment's");
        };
        assert_eq!(merging.key.command, sweep::Sweep::NAME);
        // The part holds the sweep's own settings, which read back as them.
        let stored = serde_json::Value::Object(merging.key.settings.clone().into_iter().collect());
        let back: sweep::Settings = serde_json::from_value(stored).unwrap();
        assert_eq!(back.vary, settings().vary);
        assert_eq!(back.compared.replicates, 2);
        let merged = tmp.path().join(format!("merged-{count}"));
        experiments::merge(merging, &parts[0], &merged, &Unwatched).unwrap();
        let got = every_file(&merged);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{count} shards"
        );
        for (name, bytes) in &expected {
            assert!(got[name] == *bytes, "{name} differs with {count} shards");
        }
    }
}

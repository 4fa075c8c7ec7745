//! Scenarios loaded from a set of files held in memory (as a scenario
//! uploaded with its files is): the same scenario as from disk, and no file
//! outside the set is reached. A path that is absolute or climbs out of the
//! set's folder, in `extends` or `starting_state`, is refused naming the
//! field, and the error holds nothing of the file it names.

use std::path::Path;

use upstream::scenario::{self, FileSet, Overrides};

/// The small borough's files and the bundled baseline it extends, by their
/// paths in the repository.
const FILES: [&str; 4] = [
    "tests/fixtures/small.toml",
    "tests/fixtures/small_csv.toml",
    "tests/fixtures/starting_state.csv",
    "scenarios/baseline.toml",
];

fn text(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

/// The small borough from its starting-state file: every file it reads, in
/// a set under `folder`.
fn small_csv_set(folder: &str) -> FileSet {
    let mut set = FileSet::new();
    for name in FILES {
        set.insert(&format!("{folder}{name}"), text(name)).unwrap();
    }
    set
}

#[test]
fn a_scenario_from_a_set_of_files_is_the_scenario_from_disk() {
    let set = small_csv_set("");
    let from_set = set
        .load("tests/fixtures/small_csv.toml", &Overrides::default())
        .unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small_csv.toml");
    let from_disk = scenario::load(&path).unwrap();
    assert!(from_set.config.population.starting.is_some());
    assert_eq!(from_set.config, from_disk.config);
    // Named from a folder within the set, the files are found beside it.
    let nested = small_csv_set("up/");
    let loaded = nested
        .load("up/tests/./fixtures/small_csv.toml", &Overrides::default())
        .unwrap();
    assert_eq!(loaded.config, from_disk.config);
}

#[test]
fn a_path_out_of_the_set_is_refused_without_being_read() {
    // A file on disk that a scenario names: nothing of it may come back.
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("secret.csv");
    std::fs::write(&secret, "SECRET-LINE,household\nSECRET-ROW\n").unwrap();
    let climb = "../".repeat(Path::new(env!("CARGO_MANIFEST_DIR")).components().count() + 2)
        + secret.strip_prefix("/").unwrap().to_str().unwrap();
    let names = [
        secret.to_str().unwrap().to_string(),
        climb,
        "../../../secret.csv".into(),
    ];
    for name in &names {
        for (field, scenario) in [
            (
                "population.starting_state",
                text("tests/fixtures/small_csv.toml")
                    .replace("\"starting_state.csv\"", &format!("{name:?}")),
            ),
            (
                "extends",
                text("tests/fixtures/small_csv.toml")
                    .replace("\"small.toml\"", &format!("{name:?}")),
            ),
        ] {
            let mut set = small_csv_set("");
            set.insert("tests/fixtures/mine.toml", scenario).unwrap();
            let e = set
                .load("tests/fixtures/mine.toml", &Overrides::default())
                .unwrap_err();
            let shown = e.to_string();
            assert!(!shown.contains("SECRET"), "{field} {name}: {shown}");
            assert!(
                shown.contains("outside the files given with the scenario"),
                "{field} {name}: {shown}"
            );
            assert_eq!(e.field.as_deref(), Some(field), "{shown}");
            let line = if field == "extends" { 3 } else { 7 };
            assert_eq!(e.line, Some(line), "{shown}");
        }
    }
    // The same names cannot be given to the set either.
    for name in names {
        assert!(
            small_csv_set("").insert(&name, String::new()).is_err(),
            "{name}"
        );
    }
}

#[test]
fn a_file_missing_from_the_set_is_named_as_missing() {
    let mut set = FileSet::new();
    set.insert("small_csv.toml", text("tests/fixtures/small_csv.toml"))
        .unwrap();
    let e = set
        .load("small_csv.toml", &Overrides::default())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("not among the files given with the scenario"),
        "{e}"
    );
    assert_eq!(e.field.as_deref(), Some("extends"));
    assert_eq!(
        set.names().collect::<Vec<_>>(),
        ["small_csv.toml"],
        "the set holds what was given"
    );
}

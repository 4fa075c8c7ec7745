//! The library's modules import only the floors below them: the floors
//! from the random numbers up to the learning simulation's server form no
//! circle and never reach above, and the one circle left at the top (the
//! pipeline, its outputs and the experiments, bound together by the
//! top-level error and by writers and pages that know each experiment)
//! may shrink but not grow. Read from the source, as `crate::` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The floors, lowest first: a module imports only modules on floors
/// below its own.
const FLOORS: [&[&str]; 10] = [
    &["rng", "format"],
    &["model", "input"],
    &["metrics"],
    &["engine"],
    &["experiment"],
    &["aggregate", "economics"],
    &["scenario"],
    &["observed", "game"],
    &["serve"],
    // Above every floor: the one circle left, to be broken up (the
    // experiments as a family, an error for each layer).
    &[
        "published",
        "output",
        "report",
        "app",
        "error",
        "place",
        "region",
        "shard",
        "experiments",
    ],
];

/// The binary's own modules, outside the library.
const BINARY: [&str; 3] = ["main", "cli", "progress"];

/// Each top-level module of the library and the modules it names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.clone()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = p.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || BINARY.contains(&module.as_str()) {
            continue;
        }
        let text = fs::read_to_string(&p).unwrap();
        // A unit-test module may reach anywhere.
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let named = out.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `crate::Error` is the top-level error's module.
            let name = if name == "Error" {
                "error".into()
            } else {
                name
            };
            if name != module && !name.is_empty() {
                named.insert(name);
            }
        }
    }
    out
}

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

#[test]
fn every_module_imports_only_floors_below_it() {
    let graph = imports();
    let top = FLOORS.len() - 1;
    let mut faults = Vec::new();
    for (module, named) in &graph {
        let Some(own) = floor_of(module) else {
            faults.push(format!("{module} is on no floor: add it to FLOORS"));
            continue;
        };
        for n in named {
            match floor_of(n) {
                // A name not a module (a macro, a re-export) is not an arrow.
                None => {}
                Some(f) if f < own || (f == top && own == top) => {}
                Some(f) => faults.push(format!(
                    "{module} (floor {own}) imports {n} (floor {f}), not below it"
                )),
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
    // The modules the floors name all exist, so a floor left behind by a
    // move cannot hide a module.
    for f in FLOORS.iter().flat_map(|f| f.iter()) {
        assert!(graph.contains_key(*f), "{f} is on a floor but not in src/");
    }
}

//! The library's modules import only the floors below them, from the
//! random numbers up to the experiments and the union of their errors, so
//! the imports form no circle (checked again on its own). Read from the
//! source, as `crate::` paths, doc links included.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The floors, lowest first: a module imports only modules on floors
/// below its own.
const FLOORS: [&[&str]; 18] = [
    &["rng", "format"],
    &["model", "input"],
    &["metrics"],
    &["engine"],
    &["replicates"],
    &["aggregate", "economics", "present"],
    &["scenario"],
    &["observed", "game"],
    &["published"],
    &["output"],
    &["report", "place", "elicit"],
    &["app"],
    &["region"],
    &["shard", "workbench"],
    &["experiments"],
    &["run"],
    // The web server: the learning simulation and the workbench.
    &["serve"],
    // The union of every layer's error, for the command and embedders.
    &["error"],
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
                Some(f) if f < own => {}
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

/// The import graph has no circle, floors or none: a depth-first walk
/// from every module finds no module on its own path.
#[test]
fn the_imports_form_no_circle() {
    fn walk<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(i) = path.iter().position(|p| *p == m) {
            let mut circle = path[i..].to_vec();
            circle.push(m);
            return Some(circle.join(" -> "));
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for n in graph.get(m).into_iter().flatten() {
            if graph.contains_key(n)
                && let Some(c) = walk(n, graph, path, done)
            {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let graph = imports();
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(circle) = walk(m, &graph, &mut Vec::new(), &mut done) {
            panic!("the imports form a circle: {circle}");
        }
    }
}

//! Scenario files held in memory, such as those uploaded with a scenario:
//! a scenario loaded from them reaches no file outside them.
//!
//! Contract: files are named by paths relative to one folder. `extends` and
//! `starting_state` are followed by name within the set; a path that is
//! absolute, or climbs out of the folder with `..`, is refused without
//! anything being read, and an error never holds the text of a file outside
//! the set (it names the path as the scenario wrote it).

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path};

use super::{Loaded, Overrides, ScenarioError};

/// Files by their names within the set: `scenario.toml`,
/// `data/starting.csv`.
#[derive(Clone, Debug, Default)]
pub struct FileSet {
    files: BTreeMap<String, String>,
}

impl FileSet {
    /// An empty set.
    pub fn new() -> FileSet {
        FileSet::default()
    }

    /// Adds (or replaces) the file `name` with `text`. A name that does not
    /// stay inside the set's folder is refused.
    pub fn insert(&mut self, name: &str, text: String) -> Result<(), io::Error> {
        let key = inside(Path::new(name)).ok_or_else(|| outside(name))?;
        self.files.insert(key, text);
        Ok(())
    }

    /// The names held, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Each file's name and text, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Loads the scenario `name` (as [`super::load_with`]) from these files
    /// alone.
    pub fn load(&self, name: &str, overrides: &Overrides) -> Result<Loaded, ScenarioError> {
        super::load_from(Path::new(name), overrides, &|p| self.read(p))
    }

    /// The text of the file at `path`, if it is one of the set's.
    pub fn read(&self, path: &Path) -> io::Result<String> {
        let key = inside(path).ok_or_else(|| outside(&path.display().to_string()))?;
        self.files.get(&key).cloned().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "it is not among the files given with the scenario",
            )
        })
    }
}

/// `path` as a name within the set's folder (`a/b.csv`), or `None` if it is
/// absolute or climbs out of the folder. Worked out from the text alone: the
/// set is not on disk, so there is nothing to follow.
fn inside(path: &Path) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn outside(name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{name} is outside the files given with the scenario; name one of them, relative to the scenario's folder"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_folder() {
        assert_eq!(inside(Path::new("a.toml")).as_deref(), Some("a.toml"));
        assert_eq!(
            inside(Path::new("./x/../a.toml")).as_deref(),
            Some("a.toml")
        );
        assert_eq!(
            inside(Path::new("x/y/../b.csv")).as_deref(),
            Some("x/b.csv")
        );
        for bad in [
            "/etc/passwd",
            "../a.toml",
            "x/../../a.toml",
            "",
            ".",
            "x/..",
        ] {
            assert_eq!(inside(Path::new(bad)), None, "{bad}");
        }
    }
}

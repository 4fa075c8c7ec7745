//! Writing a set of output files so that a failed run never leaves a
//! half-written file or replaces good results with bad ones.
//!
//! Every file is first written in full to a temporary file in the destination
//! folder and synced to disk; only when all of them are written are they
//! renamed over their targets (atomic on POSIX), and the folder is synced so
//! the new names survive a crash.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot create the output folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not build the Excel workbook: {0}")]
    Workbook(String),
    #[error("cannot write to the output folder {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Checks early, before any simulation, that `dir` can be created and written.
/// Creates the folder if it is missing; writes and removes a probe file.
pub fn check_writable(dir: &Path) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    NamedTempFile::new_in(dir)
        .and_then(|mut f| f.write_all(b"probe").and_then(|_| f.flush()))
        .map_err(|source| OutputError::Write {
            path: dir.to_path_buf(),
            source,
        })
}

/// Writes all `files` (name, contents) into `dir`, all or nothing as far as
/// the file system allows.
pub fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), OutputError> {
    let err = |source| OutputError::Write {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut staged = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        // A name may sit in a subfolder (charts/…); its temporary file is
        // staged beside its target so the rename stays on one file system.
        let target = dir.join(name);
        let folder = target.parent().unwrap_or(dir);
        fs::create_dir_all(folder).map_err(|source| OutputError::CreateDir {
            path: folder.to_path_buf(),
            source,
        })?;
        let base = target
            .file_name()
            .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{base}."))
            .suffix(".partial")
            .tempfile_in(folder)
            .map_err(err)?;
        tmp.write_all(bytes).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        staged.push((tmp, target));
    }
    // Dropping a staged file that was not persisted deletes it, so an error
    // below leaves no temporary files behind.
    for (tmp, target) in staged {
        tmp.persist(&target).map_err(|e| err(e.error))?;
    }
    if let Ok(d) = fs::File::open(dir) {
        // Not every platform can sync a folder; the files are already safe.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes files in `dir/folder` that the latest write did not produce
/// (charts of scenarios a previous run had), so a folder never mixes runs.
/// `written` holds names relative to `dir`, as given to [`write_all`].
pub fn remove_stale(dir: &Path, folder: &str, written: &[String]) -> Result<(), OutputError> {
    let sub = dir.join(folder);
    let Ok(entries) = fs::read_dir(&sub) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = format!("{folder}/{}", entry.file_name().to_string_lossy());
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && !written.contains(&name) {
            fs::remove_file(entry.path()).map_err(|source| OutputError::Write {
                path: entry.path(),
                source,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_files_and_no_temporary_ones() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.csv"), "old").unwrap();
        // The second file cannot be staged (a NUL byte cannot be in a file
        // name), so the set fails before anything is renamed.
        let files = vec![
            ("a.csv".to_string(), b"new".to_vec()),
            ("b\0.csv".to_string(), b"new".to_vec()),
        ];
        assert!(write_all(dir.path(), &files).is_err());
        assert_eq!(fs::read_to_string(dir.path().join("a.csv")).unwrap(), "old");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["a.csv"]);
    }

    #[test]
    fn a_successful_write_replaces_every_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.csv"), "old").unwrap();
        let files = vec![
            ("a.csv".to_string(), b"new a".to_vec()),
            ("b.csv".to_string(), b"new b".to_vec()),
        ];
        write_all(dir.path(), &files).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("a.csv")).unwrap(),
            "new a"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("b.csv")).unwrap(),
            "new b"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn files_in_a_subfolder_are_written_and_stale_ones_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("charts")).unwrap();
        fs::write(dir.path().join("charts/old.svg"), "old").unwrap();
        let files = vec![("charts/new.svg".to_string(), b"new".to_vec())];
        write_all(dir.path(), &files).unwrap();
        let written: Vec<String> = files.into_iter().map(|f| f.0).collect();
        remove_stale(dir.path(), "charts", &written).unwrap();
        let names: Vec<String> = fs::read_dir(dir.path().join("charts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["new.svg"]);
    }
}

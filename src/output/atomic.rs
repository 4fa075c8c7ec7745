//! Replacing an output folder as one step, so a run that fails or is killed
//! at any moment leaves the previous folder exactly as it was and never a
//! half-written file.
//!
//! The new folder is written in full beside the old one (a hidden sibling,
//! `.NAME.upstream-new-…`), every file synced, and then swapped in: on Linux
//! by one atomic exchange of the two names (`renameat2` with
//! `RENAME_EXCHANGE`), elsewhere by two renames, with the old folder kept
//! under a hidden name until the new one is in place. Whatever a killed run
//! leaves behind is hidden, and the next run into the folder tidies it up
//! (putting an old folder back if the crash fell between the two renames).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// An output folder that cannot be written or replaced, or a workbook that
/// cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output folder's path cannot be resolved, or its parent folder
    /// cannot be created.
    #[error("cannot create the output folder {path}: {source}")]
    CreateDir {
        /// The output folder, as given.
        path: PathBuf,
        /// Why the system refused.
        source: std::io::Error,
    },
    /// The Excel workbook could not be built (a fault in Upstream, not in
    /// the input); the writer's message.
    #[error("could not build the Excel workbook: {0}")]
    Workbook(String),
    /// A file or folder could not be written, synced or swapped in.
    #[error("cannot write to the output folder {path}: {source}")]
    Write {
        /// The output folder, as given.
        path: PathBuf,
        /// Why the system refused.
        source: std::io::Error,
    },
    /// The output folder holds something Upstream did not write, which
    /// replacing the folder would lose.
    #[error(
        "the output folder {dir} holds {name}, which Upstream did not write; a run replaces the whole folder, so choose a new or empty folder with --out, or move that out first"
    )]
    Foreign {
        /// The output folder, as given.
        dir: PathBuf,
        /// The first such entry, relative to the folder (a folder ends in
        /// `/`).
        name: String,
    },
    /// The path names a file, or something with no parent folder, rather
    /// than a folder.
    #[error("the output folder {0} is not a folder")]
    NotAFolder(PathBuf),
}

const NEW: &str = "upstream-new";
const OLD: &str = "upstream-old";

/// The folder's parent and its own name, for folders given as `.` too.
fn split(dir: &Path) -> Result<(PathBuf, String), OutputError> {
    let absolute = if dir.exists() {
        fs::canonicalize(dir)
    } else {
        std::path::absolute(dir)
    }
    .map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    match (absolute.parent(), absolute.file_name()) {
        (Some(p), Some(n)) => Ok((p.to_path_buf(), n.to_string_lossy().into_owned())),
        _ => Err(OutputError::NotAFolder(dir.to_path_buf())),
    }
}

/// A hidden sibling name no other run uses.
fn sibling(parent: &Path, name: &str, tag: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    parent.join(format!(
        ".{name}.{tag}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Tidies what a killed run left beside `parent/name`: unfinished new
/// folders are removed; an old folder is put back if the folder is missing
/// (the crash fell between the two renames), otherwise removed.
fn tidy(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let target = parent.join(name);
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = n.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        if rest.starts_with(OLD) && !target.exists() {
            let _ = fs::rename(e.path(), &target);
        } else if rest.starts_with(NEW) || rest.starts_with(OLD) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Checks early, before any simulation, that `dir` can be replaced: its
/// parent can be created and written, and everything already in `dir` is
/// something Upstream writes (`ours`, given each entry's path relative to
/// `dir`), so replacing it loses nothing of the user's.
pub fn check_writable(dir: &Path, ours: &dyn Fn(&str) -> bool) -> Result<(), OutputError> {
    let (parent, name) = split(dir)?;
    fs::create_dir_all(&parent).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    tidy(&parent, &name);
    let target = parent.join(&name);
    if target.exists() {
        if !target.is_dir() {
            return Err(OutputError::NotAFolder(dir.to_path_buf()));
        }
        if let Some(foreign) = first_foreign(&target, "", ours) {
            return Err(OutputError::Foreign {
                dir: dir.to_path_buf(),
                name: foreign,
            });
        }
    }
    let probe = sibling(&parent, &name, NEW);
    fs::create_dir(&probe)
        .and_then(|_| fs::remove_dir(&probe))
        .map_err(|source| OutputError::Write {
            path: dir.to_path_buf(),
            source,
        })
}

fn first_foreign(dir: &Path, prefix: &str, ours: &dyn Fn(&str) -> bool) -> Option<String> {
    let entries = fs::read_dir(dir).ok()?;
    let mut names: Vec<(String, bool)> = entries
        .flatten()
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (
                format!("{prefix}{}", e.file_name().to_string_lossy()),
                is_dir,
            )
        })
        .collect();
    names.sort();
    for (n, is_dir) in names {
        if is_dir {
            if !ours(&format!("{n}/")) {
                return Some(format!("{n}/"));
            }
            if let Some(f) = first_foreign(&dir.join(n.rsplit('/').next()?), &format!("{n}/"), ours)
            {
                return Some(f);
            }
        } else if !ours(&n) {
            return Some(n);
        }
    }
    None
}

/// Removes a staged folder unless it was swapped in.
struct Staged(Option<PathBuf>);

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

fn sync_dir(path: &Path) {
    if let Ok(d) = fs::File::open(path) {
        // Not every platform can sync a folder; the files are already safe.
        let _ = d.sync_all();
    }
}

/// Swaps two paths in one step where the system can.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Replaces the folder `dir` with one holding exactly `files` (names
/// relative to `dir`, in subfolders where they have a `/`) and the files
/// named in `carry` from the current folder, all or nothing.
pub fn replace_folder(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    carry: &[String],
) -> Result<(), OutputError> {
    let (parent, name) = split(dir)?;
    let err = |source| OutputError::Write {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(&parent).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    tidy(&parent, &name);
    let target = parent.join(&name);
    let staging = sibling(&parent, &name, NEW);
    fs::create_dir(&staging).map_err(err)?;
    let mut staged = Staged(Some(staging.clone()));
    let mut folders = vec![staging.clone()];
    for c in carry {
        let to = staging.join(c);
        if let Some(f) = to.parent().filter(|f| !folders.iter().any(|x| x == f)) {
            fs::create_dir_all(f).map_err(err)?;
            folders.push(f.to_path_buf());
        }
        // Files are never changed in place, so the new folder can share them.
        if fs::hard_link(target.join(c), &to).is_err() {
            fs::copy(target.join(c), &to).map_err(err)?;
        }
    }
    for (n, bytes) in files {
        let to = staging.join(n);
        if let Some(f) = to.parent().filter(|f| !folders.iter().any(|x| x == f)) {
            fs::create_dir_all(f).map_err(err)?;
            folders.push(f.to_path_buf());
        }
        let mut file = fs::File::create(&to).map_err(err)?;
        file.write_all(bytes).map_err(err)?;
        file.sync_all().map_err(err)?;
    }
    for f in folders.iter().rev() {
        sync_dir(f);
    }
    if !target.exists() {
        fs::rename(&staging, &target).map_err(err)?;
        staged.0 = None;
    } else if exchange(&staging, &target).is_ok() {
        // The staged name now holds the old folder, which `staged` removes.
    } else {
        let old = sibling(&parent, &name, OLD);
        fs::rename(&target, &old).map_err(err)?;
        if let Err(e) = fs::rename(&staging, &target) {
            let _ = fs::rename(&old, &target);
            return Err(err(e));
        }
        staged.0 = Some(old);
    }
    sync_dir(&parent);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failed_write_leaves_the_old_folder_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("a.csv"), "old").unwrap();
        // The second file cannot be created (a NUL byte cannot be in a file
        // name), so the write fails after staging has begun.
        let files = vec![
            ("a.csv".to_string(), b"new".to_vec()),
            ("b\0.csv".to_string(), b"new".to_vec()),
        ];
        assert!(replace_folder(&dir, &files, &[]).is_err());
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "old");
        assert_eq!(names(tmp.path()), ["out"]);
        assert_eq!(names(&dir), ["a.csv"]);
    }

    #[test]
    fn a_successful_write_replaces_the_whole_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir_all(dir.join("charts")).unwrap();
        fs::write(dir.join("a.csv"), "old a").unwrap();
        fs::write(dir.join("keep.csv"), "kept").unwrap();
        fs::write(dir.join("charts/old.svg"), "old").unwrap();
        let files = vec![
            ("a.csv".to_string(), b"new a".to_vec()),
            ("charts/new.svg".to_string(), b"new".to_vec()),
        ];
        replace_folder(&dir, &files, &["keep.csv".to_string()]).unwrap();
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "new a");
        assert_eq!(fs::read_to_string(dir.join("keep.csv")).unwrap(), "kept");
        assert_eq!(names(&dir), ["a.csv", "charts", "keep.csv"]);
        assert_eq!(names(&dir.join("charts")), ["new.svg"]);
        assert_eq!(names(tmp.path()), ["out"], "nothing left beside it");
    }

    #[test]
    fn what_a_killed_run_left_is_tidied_and_a_lost_folder_put_back() {
        let tmp = tempfile::tempdir().unwrap();
        // A crash between the two renames: the folder is under its hidden
        // old name, and an unfinished new one lies beside it.
        let old = tmp.path().join(".out.upstream-old-1-0-0");
        fs::create_dir(&old).unwrap();
        fs::write(old.join("a.csv"), "old").unwrap();
        fs::create_dir(tmp.path().join(".out.upstream-new-1-1-0")).unwrap();
        check_writable(&tmp.path().join("out"), &|_| true).unwrap();
        assert_eq!(names(tmp.path()), ["out"]);
        assert_eq!(
            fs::read_to_string(tmp.path().join("out/a.csv")).unwrap(),
            "old"
        );
    }

    #[test]
    fn a_folder_holding_files_upstream_did_not_write_is_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("charts")).unwrap();
        fs::write(tmp.path().join("a.csv"), "").unwrap();
        fs::write(tmp.path().join("charts/notes.txt"), "").unwrap();
        let ours = |n: &str| n == "a.csv" || n == "charts/" || n.ends_with(".svg");
        let e = check_writable(tmp.path(), &ours).unwrap_err();
        assert!(e.to_string().contains("holds charts/notes.txt"), "{e}");
        fs::remove_file(tmp.path().join("charts/notes.txt")).unwrap();
        check_writable(tmp.path(), &ours).unwrap();
    }
}

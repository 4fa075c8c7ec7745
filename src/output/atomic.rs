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
//!
//! Only one run at a time may write a folder: each takes the folder's lock
//! first (see [`lock`]) and holds it until its files are in place, and all
//! tidying is done under it, so no run removes what another is writing.
//!
//! Every change to the disk is followed by a crash point, where a test
//! build can stop the process as a kill would. The crash test at the end of
//! this file stops a writer at each point in turn, on every path (the
//! other systems' too), then the next run at each point from each kind of
//! leftovers; that test, not a sample of kills, shows the promise above.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// An output folder that cannot be written or replaced, or a workbook that
/// cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// Another run (or `upstream report`) holds the output folder's lock.
    #[error(
        "another run is writing to {dir} (lock {lock}); wait for it to finish or choose another --out"
    )]
    Busy {
        /// The output folder, as given.
        dir: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
    },
}

const LOCK: &str = "upstream-lock";
const NEW: &str = "upstream-new";
const OLD: &str = "upstream-old";
/// A folder being removed: renamed first, so a removal cut short is never
/// mistaken for a whole old folder and put back.
const GONE: &str = "upstream-gone";

/// Marks a moment between two changes to the disk. Test builds can stop the
/// process at any one of them, as a kill would (see the crash test below);
/// other builds compile it to nothing.
#[cfg(not(test))]
#[inline(always)]
fn crash_point() {}

/// The crash test's settings for the test binary it runs as a child: stop
/// at this crash point (counted from 0)...
#[cfg(test)]
const CRASH_AT: &str = "UPSTREAM_CRASH_AT";
/// ...exiting with this code, which no test harness uses...
#[cfg(test)]
const CRASHED: i32 = 86;
/// ...and take these paths other systems take (a comma-separated list of
/// "renames", "copies"), so they are crash-tested on Linux too.
#[cfg(test)]
const FORCE: &str = "UPSTREAM_CRASH_FORCE";

#[cfg(test)]
fn crash_point() {
    use std::sync::OnceLock;
    static AT: OnceLock<Option<u32>> = OnceLock::new();
    static PASSED: AtomicU32 = AtomicU32::new(0);
    let at = AT.get_or_init(|| std::env::var(CRASH_AT).ok().and_then(|v| v.parse().ok()));
    if let Some(at) = *at
        && PASSED.fetch_add(1, Ordering::SeqCst) == at
    {
        // SAFETY: `_exit` ends the process at once: no unwinding, no
        // destructors, no buffers flushed, just as when it is killed.
        unsafe { libc::_exit(CRASHED) }
    }
}

/// Whether a test build takes another system's path (see [`FORCE`]).
#[cfg(test)]
fn forced(path: &str) -> bool {
    std::env::var(FORCE).is_ok_and(|v| v.split(',').any(|p| p == path))
}

#[cfg(not(test))]
#[inline(always)]
fn forced(_: &str) -> bool {
    false
}

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

/// Removes a folder and everything in it, a crash point after each entry.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    for e in fs::read_dir(path)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            remove_tree(&e.path())?;
        } else {
            fs::remove_file(e.path())?;
            crash_point();
        }
    }
    fs::remove_dir(path)?;
    crash_point();
    Ok(())
}

/// Removes the hidden folder `path` beside `parent/name`, renaming it first
/// so that a removal cut short leaves only something to tidy. Best effort:
/// whatever is left is tidied by the next run.
fn discard(parent: &Path, name: &str, path: &Path) {
    let gone = sibling(parent, name, GONE);
    if fs::rename(path, &gone).is_ok() {
        crash_point();
        let _ = remove_tree(&gone);
    }
}

/// Tidies what a killed run left beside `parent/name`: unfinished new
/// folders and folders being removed are removed; an old folder is put back
/// if the folder is missing (the crash fell between the two renames),
/// otherwise removed.
fn tidy(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let target = parent.join(name);
    // Read in full first, as the folder changes as it is tidied.
    let mut left: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let rest = n.strip_prefix(&format!(".{name}."))?.to_string();
            Some((rest, e.path()))
        })
        .collect();
    // A lost folder is put back before anything else is done.
    left.sort_by_key(|(rest, _)| !rest.starts_with(OLD));
    for (rest, path) in left {
        if rest.starts_with(OLD) && !target.exists() {
            if fs::rename(&path, &target).is_ok() {
                crash_point();
            }
        } else if rest.starts_with(GONE) {
            let _ = remove_tree(&path);
        } else if rest.starts_with(NEW) || rest.starts_with(OLD) {
            discard(parent, name, &path);
        }
    }
}

/// The right to replace one output folder, until it is dropped.
///
/// It is the system's advisory lock (`flock` on Unix) on a hidden file
/// beside the folder, `.NAME.upstream-lock`, held while the file is open:
/// the system releases it when the process ends, however it ends, so a
/// killed run's lock stops nobody. The file is removed on release; on
/// systems other than Unix it is left, unlocked, for the next run.
#[derive(Debug)]
pub(super) struct Lock {
    path: PathBuf,
    // Holds the lock while open.
    _file: fs::File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked: a run that opened it meanwhile sees
        // that the file it locked is no longer the lock file, and retries.
        #[cfg(unix)]
        if fs::remove_file(&self.path).is_ok() {
            crash_point();
        }
    }
}

/// Whether `file` is still the file at `path`.
#[cfg(unix)]
fn is_at(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_at(_: &fs::File, _: &Path) -> bool {
    // The lock file is never removed here, so it is always the same file.
    true
}

/// Takes the lock on replacing `dir` (creating its parent folder if need
/// be), or refuses at once if another process holds it.
pub(super) fn lock(dir: &Path) -> Result<Lock, OutputError> {
    let (parent, name) = split(dir)?;
    fs::create_dir_all(&parent).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = parent.join(format!(".{name}.{LOCK}"));
    let err = |source| OutputError::Write {
        path: dir.to_path_buf(),
        source,
    };
    loop {
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(err)?;
        crash_point();
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(OutputError::Busy {
                    dir: dir.to_path_buf(),
                    lock: path,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(err(e)),
        }
        // The run that held it may have removed the file as it finished.
        if is_at(&file, &path) {
            return Ok(Lock { path, _file: file });
        }
    }
}

/// Checks early, before any simulation, that `dir` can be replaced: its
/// parent can be created and written, and everything already in `dir` is
/// something Upstream writes (`ours`, given each entry's path relative to
/// `dir`), so replacing it loses nothing of the user's.
pub(super) fn check_writable(dir: &Path, ours: &dyn Fn(&str) -> bool) -> Result<(), OutputError> {
    let (parent, name) = split(dir)?;
    fs::create_dir_all(&parent).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    crash_point();
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
        .inspect(|_| crash_point())
        .and_then(|_| fs::remove_dir(&probe))
        .inspect(|_| crash_point())
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

/// A hidden folder beside `parent/name` that is removed when dropped: the
/// staged folder unless it was swapped in, or the old one once it was.
struct Staged {
    parent: PathBuf,
    name: String,
    path: Option<PathBuf>,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            discard(&self.parent, &self.name, &p);
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
pub(super) fn replace_folder(
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
    crash_point();
    tidy(&parent, &name);
    let target = parent.join(&name);
    let staging = sibling(&parent, &name, NEW);
    fs::create_dir(&staging).map_err(err)?;
    crash_point();
    let mut staged = Staged {
        parent: parent.clone(),
        name: name.clone(),
        path: Some(staging.clone()),
    };
    let mut folders = vec![staging.clone()];
    let mut folder_for = |to: &Path| -> std::io::Result<()> {
        if let Some(f) = to.parent().filter(|f| !folders.iter().any(|x| x == f)) {
            fs::create_dir_all(f)?;
            crash_point();
            folders.push(f.to_path_buf());
        }
        Ok(())
    };
    for c in carry {
        let to = staging.join(c);
        folder_for(&to).map_err(err)?;
        // Files are never changed in place, so the new folder can share them.
        if forced("copies") || fs::hard_link(target.join(c), &to).is_err() {
            fs::copy(target.join(c), &to).map_err(err)?;
            crash_point();
            fs::File::open(&to)
                .and_then(|f| f.sync_all())
                .map_err(err)?;
        }
        crash_point();
    }
    for (n, bytes) in files {
        let to = staging.join(n);
        folder_for(&to).map_err(err)?;
        let mut file = fs::File::create(&to).map_err(err)?;
        crash_point();
        file.write_all(bytes).map_err(err)?;
        crash_point();
        file.sync_all().map_err(err)?;
        crash_point();
    }
    for f in folders.iter().rev() {
        sync_dir(f);
        crash_point();
    }
    if !target.exists() {
        fs::rename(&staging, &target).map_err(err)?;
        staged.path = None;
    } else if !forced("renames") && exchange(&staging, &target).is_ok() {
        // The staged name now holds the old folder, which `staged` removes.
    } else {
        let old = sibling(&parent, &name, OLD);
        fs::rename(&target, &old).map_err(err)?;
        // Killed here, the folder is missing; the next run puts `old` back.
        crash_point();
        if let Err(e) = fs::rename(&staging, &target) {
            let _ = fs::rename(&old, &target);
            return Err(err(e));
        }
        staged.path = Some(old);
    }
    crash_point();
    sync_dir(&parent);
    crash_point();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::process::Command;

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

    #[test]
    fn one_writer_at_a_time_holds_the_lock_and_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let held = lock(&dir).unwrap();
        // Another thread, as another process: each open of the file is its
        // own claim on it.
        let other = std::thread::scope(|s| s.spawn(|| lock(&dir)).join().unwrap());
        match other {
            Err(OutputError::Busy { lock, .. }) => {
                assert_eq!(lock, tmp.path().join(".out.upstream-lock"));
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(names(tmp.path()).is_empty());
        drop(lock(&dir).unwrap());
    }

    // The crash test: a child process (this test binary running only
    // `child_of_the_crash_test`) writes a new folder over an old one and is
    // stopped at crash point 0, then 1, 2, ... until it finishes, so every
    // moment between two changes to the disk is tried, not a sample of them.

    /// Where the child writes...
    const CRASH_DIR: &str = "UPSTREAM_CRASH_DIR";
    /// ...and what: "run" (a run's files) or "report" (a rebuilt report,
    /// carrying the data files over).
    const CRASH_WRITE: &str = "UPSTREAM_CRASH_WRITE";

    const OLD_FILES: [(&str, &str); 6] = [
        ("timeseries.csv", "month,old\n"),
        ("summary.json", "{\"old\": 1}\n"),
        ("upstream.xlsx", "old workbook"),
        ("report.html", "<p>old</p>"),
        ("charts/a.svg", "<svg>old a</svg>"),
        ("charts/b.png", "old b"),
    ];
    /// A run's files; the last three are a rebuilt report's.
    const RUN_FILES: [(&str, &str); 6] = [
        ("timeseries.csv", "month,new\n"),
        ("summary.json", "{\"new\": 2}\n"),
        ("upstream.xlsx", "new workbook"),
        ("report.html", "<p>new</p>"),
        ("charts/a.svg", "<svg>new a</svg>"),
        ("charts/c.png", "new c"),
    ];

    fn owned(files: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        files
            .iter()
            .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
            .collect()
    }

    /// A folder as its files' bytes and its subfolders (ending in `/`), by
    /// path relative to it.
    type Tree = BTreeMap<String, Vec<u8>>;

    fn tree(files: &[(&str, &str)]) -> Tree {
        let mut t = Tree::new();
        for (n, b) in files {
            if let Some((folder, _)) = n.rsplit_once('/') {
                t.insert(format!("{folder}/"), Vec::new());
            }
            t.insert(n.to_string(), b.as_bytes().to_vec());
        }
        t
    }

    /// What is in `dir`, or `None` if there is no such folder.
    fn contents(dir: &Path) -> Option<Tree> {
        fn walk(dir: &Path, prefix: &str, t: &mut Tree) {
            for e in fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let n = format!("{prefix}{}", e.file_name().to_string_lossy());
                if e.file_type().unwrap().is_dir() {
                    walk(&e.path(), &format!("{n}/"), t);
                    t.insert(format!("{n}/"), Vec::new());
                } else {
                    t.insert(n, fs::read(e.path()).unwrap());
                }
            }
        }
        if !dir.is_dir() {
            return None;
        }
        let mut t = Tree::new();
        walk(dir, "", &mut t);
        Some(t)
    }

    /// How `now` differs from both the old folder and the new one, for a
    /// failure message.
    fn mixture(now: &Option<Tree>, old: &Option<Tree>, new: &Tree) -> String {
        let Some(now) = now else {
            return "the folder is missing".into();
        };
        let none = Tree::new();
        let old = old.as_ref().unwrap_or(&none);
        let mut said = BTreeMap::<&str, Vec<&str>>::new();
        let names: std::collections::BTreeSet<&String> =
            now.keys().chain(old.keys()).chain(new.keys()).collect();
        for n in names {
            let (is, was, will) = (now.get(n), old.get(n), new.get(n));
            let how = match (is == was, is == will, is.is_some()) {
                (true, true, _) => continue,
                (true, false, true) => "still old",
                (true, false, false) => "not yet written",
                (false, true, true) => "already new",
                (false, true, false) => "already removed",
                (false, false, _) => "half-written",
            };
            said.entry(how).or_default().push(n);
        }
        let said: Vec<String> = said
            .iter()
            .map(|(how, names)| format!("{} {how}", names.join(", ")))
            .collect();
        said.join("; ")
    }

    /// A writer in the crash test: what it writes ("run" or "report",
    /// given to the child) and which other systems' paths it takes (given
    /// to [`forced`]).
    struct Writer {
        write: &'static str,
        force: &'static str,
    }

    /// What was there before the writer began: the old folder or none, and
    /// what the same writer did to it when stopped at a crash point (the
    /// leftovers the next run tidies), if it was.
    #[derive(Clone, Copy, Debug)]
    struct Start {
        old: bool,
        stopped_at: Option<u32>,
    }

    /// What one crash test saw.
    #[derive(Debug, Default)]
    struct Tally {
        /// The crash points the writer passes when not stopped.
        points: u32,
        /// Stops that left the folder as it was (old, or none)...
        kept_old: u32,
        /// ...of which the folder was missing until the next run put it
        /// back...
        put_back: u32,
        /// ...and stops that left the new folder.
        got_new: u32,
        /// Each kind of hidden leftovers (their tags, `lock` for the lock
        /// file, and whether the folder was missing), with the first crash
        /// point to leave it.
        leftovers: BTreeMap<String, u32>,
    }

    /// A scratch folder. Syncing takes nearly all the time on a disk, and a
    /// killed process needs none of it (the system keeps what was written),
    /// so the crash test works in memory where it can.
    fn scratch() -> tempfile::TempDir {
        let memory = Path::new("/dev/shm");
        if memory.is_dir() {
            tempfile::tempdir_in(memory).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        }
    }

    impl Writer {
        /// The folder it writes.
        fn written(&self) -> Tree {
            if self.write == "report" {
                tree(&[&OLD_FILES[..3], &RUN_FILES[3..]].concat())
            } else {
                tree(&RUN_FILES)
            }
        }

        /// Runs the writer in a child process that is stopped at crash
        /// point `at`; false if it finished first.
        fn stopped_at(&self, dir: &Path, at: u32) -> bool {
            let (_, module) = module_path!().split_once("::").unwrap();
            let ran = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", &format!("{module}::child_of_the_crash_test")])
                .arg("--nocapture")
                .env(CRASH_AT, at.to_string())
                .env(FORCE, self.force)
                .env(CRASH_DIR, dir)
                .env(CRASH_WRITE, self.write)
                .output()
                .unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&ran.stdout),
                String::from_utf8_lossy(&ran.stderr)
            );
            match ran.status.code() {
                Some(CRASHED) => true,
                Some(0) if said.contains("1 passed") => false,
                _ => panic!("the writer failed before crash point {at}: {said}"),
            }
        }

        /// Sets up `start` around a folder `out`.
        fn set_up(&self, start: Start) -> (tempfile::TempDir, PathBuf) {
            let tmp = scratch();
            let dir = tmp.path().join("out");
            if start.old {
                for (n, b) in OLD_FILES {
                    fs::create_dir_all(dir.join(n).parent().unwrap()).unwrap();
                    fs::write(dir.join(n), b).unwrap();
                }
            }
            if let Some(at) = start.stopped_at {
                assert!(self.stopped_at(&dir, at), "never reached crash point {at}");
            }
            (tmp, dir)
        }

        /// Stops the writer at every crash point in turn. After each stop
        /// the folder must be the old one or the new one, whole, with
        /// nothing else in sight (or, between two renames, missing with
        /// the old one whole under a hidden name), and what the next run
        /// does first must leave it so and tidy the rest away.
        fn every_crash_point(&self, start: Start) -> Tally {
            let label = format!("{} [{}] from {start:?}", self.write, self.force);
            let new = self.written();
            // The folder as it was, for this writer; a stop that lost it
            // (see below) had the old folder, whole, under a hidden name.
            let old = match start.stopped_at {
                None => start.old.then(|| tree(&OLD_FILES)),
                Some(_) => {
                    contents(&self.set_up(start).1).or_else(|| start.old.then(|| tree(&OLD_FILES)))
                }
            };
            let mut tally = Tally::default();
            for at in 0u32.. {
                let (tmp, dir) = self.set_up(start);
                if !self.stopped_at(&dir, at) {
                    assert_eq!(contents(&dir), Some(new), "{label}: unstopped");
                    assert_eq!(names(tmp.path()), ["out"], "{label}: unstopped");
                    tally.points = at;
                    eprintln!("{label}: {tally:?}");
                    return tally;
                }
                let label = format!("{label}, stopped at crash point {at}");
                let now = contents(&dir);
                let hidden: Vec<String> = names(tmp.path())
                    .into_iter()
                    .filter(|n| n != "out")
                    .collect();
                for n in &hidden {
                    assert!(n.starts_with(".out.upstream-"), "{label}: {n} in sight");
                }
                if now == old {
                    tally.kept_old += 1;
                } else if now.as_ref() == Some(&new) {
                    tally.got_new += 1;
                } else if now.is_none()
                    && hidden.iter().any(|n| {
                        n.starts_with(".out.upstream-old") && contents(&tmp.path().join(n)) == old
                    })
                {
                    tally.kept_old += 1;
                    tally.put_back += 1;
                } else {
                    panic!(
                        "{label}: the folder is neither the old one nor the new one: {}",
                        mixture(&now, &old, &new)
                    );
                }
                if !hidden.is_empty() {
                    let mut kind: Vec<&str> = hidden
                        .iter()
                        .map(|n| n.split('-').nth(1).unwrap())
                        .collect();
                    kind.sort();
                    kind.dedup();
                    let missing = if now.is_none() { ", no folder" } else { "" };
                    let kind = format!("{}{missing}", kind.join(", "));
                    tally.leftovers.entry(kind).or_insert(at);
                }

                // What the next run does first.
                if let Err(e) = crate::output::check_writable(&dir) {
                    panic!("{label}: the next run cannot write: {e}");
                }
                let tidied = contents(&dir);
                assert!(
                    tidied == if now.is_none() { old.clone() } else { now },
                    "{label}: the next run found a folder that is neither the old one nor the new one: {}",
                    mixture(&tidied, &old, &new)
                );
                let left = names(tmp.path());
                assert!(
                    left == ["out"] || (left.is_empty() && tidied.is_none()),
                    "{label}: the next run left {left:?}"
                );
            }
            unreachable!()
        }

        /// As [`Writer::every_crash_point`], and then again from each kind
        /// of leftovers a stop leaves, so that the next run is stopped at
        /// every point of its tidying too, and seen to finish from each.
        fn every_crash_point_twice(&self, old: bool) -> Tally {
            let first = self.every_crash_point(Start {
                old,
                stopped_at: None,
            });
            assert!(
                first.kept_old > 0 && first.got_new > 0,
                "stopped both before and after the swap: {first:?}"
            );
            assert!(!first.leftovers.is_empty(), "{first:?}");
            for (kind, &at) in &first.leftovers {
                let second = self.every_crash_point(Start {
                    old,
                    stopped_at: Some(at),
                });
                // A killed run's lock file alone needs no tidying: the next
                // run takes it over as it is.
                if kind.split(", ").all(|t| t == "lock" || t == "no folder") {
                    continue;
                }
                assert!(
                    second.points > first.points,
                    "the next run's tidying has crash points: {second:?}"
                );
            }
            first
        }
    }

    fn child_writes(dir: &Path, write: &str) {
        if write == "report" {
            crate::output::write_report(dir, &owned(&RUN_FILES[3..])).unwrap();
        } else {
            crate::output::write(dir, &owned(&RUN_FILES)).unwrap();
        }
    }

    /// Not a test in itself but the child that the crash test runs, in a
    /// process of its own: it writes the new folder into `CRASH_DIR` and is
    /// stopped at a crash point. Run in any other way, it does nothing.
    #[test]
    fn child_of_the_crash_test() {
        let (Some(dir), Ok(write)) = (std::env::var_os(CRASH_DIR), std::env::var(CRASH_WRITE))
        else {
            return;
        };
        child_writes(Path::new(&dir), &write);
    }

    #[test]
    fn a_run_stopped_at_any_crash_point_leaves_the_old_folder_or_the_new_one() {
        let run = Writer {
            write: "run",
            force: "",
        };
        run.every_crash_point_twice(true);
    }

    #[test]
    fn a_first_run_stopped_at_any_crash_point_leaves_no_folder_or_the_new_one() {
        let run = Writer {
            write: "run",
            force: "",
        };
        run.every_crash_point_twice(false);
    }

    #[test]
    fn a_rebuilt_report_stopped_at_any_crash_point_leaves_the_old_folder_or_the_new_one() {
        let report = Writer {
            write: "report",
            force: "",
        };
        report.every_crash_point_twice(true);
    }

    /// Other systems swap the folders with two renames (losing the folder
    /// for a moment, until the next run puts it back), and some cannot
    /// hard-link the data files a rebuilt report carries over.
    #[test]
    fn without_an_exchange_or_hard_links_a_writer_stopped_at_any_crash_point_loses_nothing() {
        let run = Writer {
            write: "run",
            force: "renames",
        };
        let t = run.every_crash_point_twice(true);
        assert!(t.put_back > 0, "stopped between the two renames: {t:?}");
        let report = Writer {
            write: "report",
            force: "renames,copies",
        };
        let t = report.every_crash_point_twice(true);
        assert!(t.put_back > 0, "stopped between the two renames: {t:?}");
    }
}

//! Output directories written whole or not at all, and never over something a user made.
//!
//! Every file of a run is written into a hidden staging directory beside the destination
//! (`<parent>/.<name>.tradesim-<pid>`). Only when all are written is the staging directory
//! renamed to the destination. The rules, each a test below or in `tests/faults.rs`:
//!
//! - **Claimed at the start.** A run claims its destination with a lock file beside it
//!   (`<parent>/.<name>.tradesim-claim`, created exclusively, holding the process id and the
//!   machine's name). A second run into the same destination is refused at once, before any
//!   work, while the first one lives; a claim left by a killed process is taken over, and so is
//!   one made on another machine (a cluster node that failed, whose SLURM task runs again
//!   elsewhere), whose process cannot be checked from here.
//! - **Inputs are never a destination.** A destination that equals or contains one of the
//!   run's inputs (its scenario files, baseline directory, batch file, shard directories) is
//!   refused, with or without `--force`.
//! - **`--force` replaces only tradesim's own output.** Every committed directory carries a
//!   marker, `MARKER`, listing the files tradesim wrote. Without `force` a non-empty
//!   destination is refused. With `force` it is replaced only if it has the marker and holds
//!   nothing but the files the marker lists; anything else in it (a user's notes, a file
//!   created there during the run) makes the run refuse and leaves the directory untouched.
//! - **A file replaced in place keeps a user's edits.** The marker records the length and
//!   SHA-256 of the files tradesim later replaces one by one ([`FINGERPRINTED`]: the report,
//!   a SLURM job's scripts); one whose bytes no longer match was edited and is replaced only
//!   with `force`, one not listed never ([`check_replaceable`]). (A rerun of a SLURM job keeps
//!   an edited script or refuses: `crate::slurm::rewrite`. A SLURM job's merge, which replaces
//!   its `merged/` whole with `force` on its own, refuses a user's work there first,
//!   [`user_work`], and again at commit, [`OutputDir::keeping_edits`].)
//! - **Checked again at commit.** The destination is examined again just before the rename:
//!   if it changed since the start (files appeared), nothing is replaced and the run fails.
//! - A failed or interrupted run removes its staging directory and its claim (the binary's
//!   SIGINT/SIGTERM handler calls [`abandon_all`]); after a `kill -9` the hidden staging
//!   directory and the claim are left, and the next run into the same destination removes them.
//! - **The destination is never left missing.** With `force`, commit moves the earlier output
//!   aside (`<parent>/.<name>.tradesim-<pid>.old`), renames the staging directory in and removes
//!   the earlier output, all holding the lock the signal handler takes: Ctrl-C then waits for
//!   the new output to be in place (and after the handler nothing is committed). A run killed
//!   between the renames (`kill -9`, a node lost) leaves the earlier output aside; the next run
//!   into the destination puts it back when nothing replaced it (the destination is absent or
//!   empty), removes it only when its run's replacement is in place (that run's staging
//!   directory is gone and the destination holds a marker), and otherwise refuses, naming it
//!   ([`clear_leftovers`]). A directory aside is thus never deleted while it is the only copy.
//! - Single files written whole beside their destination (`crate::output::write_whole`: a
//!   hidden `.NAME.PID.tmp` renamed into place) are listed here too: the handler removes them,
//!   and a set of them being renamed into place is renamed whole before it does.
//! - **Ctrl-C says what was written.** The handler's message names the output directories and
//!   files this process put in place, each whole, before it ran (one put in place while it
//!   waited included); "no output was written" only when there are none.
//! - The marker is itself replaced whole when files are recorded in it later
//!   ([`record_files`], through `crate::output::write_all`).

use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// The marker file in every output directory tradesim commits: its first line says what the
/// directory is, the other lines name the files tradesim wrote there (sorted).
pub(crate) const MARKER: &str = ".tradesim-output";

// The marker file is written into the output directory, so its bytes are output (a user reads
// it beside the files, and reruns from the command line): it keeps naming the flag.
const MARKER_HEADER: &str =
    "# tradesim output directory; the files tradesim wrote here (--force replaces only these):";

/// The start of a marker line recording a file's fingerprint: `# as written: NAME: LEN bytes,
/// sha256 HEX`.
const FINGERPRINT_PREFIX: &str = "# as written: ";

/// The files tradesim replaces in place in an existing output directory without `--force`
/// (`tradesim report`'s `report.html`; a SLURM job directory's scripts, written again by a
/// rerun of some shards): the marker records their fingerprints, so that one changed after
/// tradesim wrote it (a user's edits) is not replaced without a word. The other files are
/// replaced only with the whole directory, with `--force`, and are not read back to be
/// fingerprinted (a batch's tables can be gigabytes).
const FINGERPRINTED: [&str; 3] = [
    crate::report::html::FILE,
    crate::slurm::SHARD_SCRIPT,
    crate::slurm::MERGE_SCRIPT,
];

/// Staging directories and claims in use, for the signal handler. [`OutputDir::commit`] holds
/// the lock from moving an earlier output aside until the new one is in place and the old one
/// removed, so the handler never finds the destination missing.
static ACTIVE: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

/// Temporary files being written beside the files they will replace (`.NAME.PID.tmp`, by
/// [`crate::output::write_whole`]), for the signal handler.
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The output directories and files this process has put in place, for the signal handler's
/// message.
static WRITTEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Set by [`abandon_all`]: no temporary file is made or renamed into place after it, and no
/// output directory committed.
static ABANDONED: AtomicBool = AtomicBool::new(false);

/// Set when [`abandon_all`] is called, before it waits for the locks: [`interrupted_now`].
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Whether the signal handler has started ([`abandon_all`]): a command that finishes then
/// (its output put in place while the handler waited) is not to exit on its own, but to leave
/// the exit (130) and the message to the handler.
pub fn interrupted_now() -> bool {
    SIGNALLED.load(Ordering::SeqCst)
}

/// Remove every staging directory, claim and temporary file in use (called on SIGINT/SIGTERM
/// before exiting). An output directory being put in place, and a set of temporary files
/// being renamed into place, are finished first (they hold the same locks); after this call
/// none is made, committed or renamed, so the process is to exit. Returns the output
/// directories and files this process had put in place (each whole), for the message.
pub fn abandon_all() -> Vec<PathBuf> {
    SIGNALLED.store(true, Ordering::SeqCst);
    {
        let active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        ABANDONED.store(true, Ordering::SeqCst);
        for (staging, claim) in active.iter() {
            let _ = std::fs::remove_dir_all(staging);
            let _ = std::fs::remove_file(claim);
        }
    }
    {
        let mut temporary = TEMPORARY.lock().unwrap_or_else(PoisonError::into_inner);
        for tmp in temporary.drain(..) {
            let _ = std::fs::remove_file(tmp);
        }
    }
    // The marker is the bookkeeping of the directory it is in; a path is listed once.
    let mut written = Vec::new();
    for p in WRITTEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        if p.file_name().is_some_and(|n| n != MARKER) && !written.contains(p) {
            written.push(p.clone());
        }
    }
    written
}

/// Record `path` (an output directory or file just put in place) for [`abandon_all`].
fn put_in_place(path: &Path) {
    WRITTEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(path.to_path_buf());
}

/// The environment variable of the test-only fault hook ([`test_pause`]).
const TEST_PAUSE: &str = "TRADESIM_TEST_PAUSE";

/// A fault hook for `tests/faults.rs`, not for use otherwise: with the environment variable
/// `TRADESIM_TEST_PAUSE` set to `point`, stop here for three seconds, so that a test can
/// interrupt or kill the process at this point (`commit`: an earlier output moved aside, the
/// new one not yet renamed in; `rename`: the first file of a set renamed into place, the
/// others not yet).
fn test_pause(point: &str) {
    if std::env::var_os(TEST_PAUSE).is_some_and(|v| v == point) {
        std::thread::sleep(std::time::Duration::from_secs(3));
    }
}

/// The error of a file not made or not put in place because the run was interrupted.
fn interrupted(path: &Path) -> Error {
    Error::io(
        path,
        std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "interrupted, so nothing was written",
        ),
    )
}

/// Create the temporary file `tmp`, listed for the signal handler in the same step (so that
/// Ctrl-C at any moment removes it); refused after [`abandon_all`]. `dest` is the file it
/// will replace, named in errors.
pub(crate) fn create_temporary(tmp: &Path, dest: &Path) -> Result<std::fs::File> {
    let mut temporary = TEMPORARY.lock().unwrap_or_else(PoisonError::into_inner);
    if ABANDONED.load(Ordering::SeqCst) {
        return Err(interrupted(dest));
    }
    let file = std::fs::File::create(tmp).map_err(|e| Error::io(dest, e))?;
    temporary.push(tmp.to_path_buf());
    Ok(file)
}

/// Rename each `(temporary, destination)` in turn and forget the temporaries. The signal
/// handler waits until all are renamed, so Ctrl-C never puts part of a set in place; after
/// it, none is. On an error the temporaries not renamed are left to [`remove_temporaries`].
pub(crate) fn rename_temporaries(staged: &[(PathBuf, PathBuf)]) -> Result<()> {
    let mut temporary = TEMPORARY.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, dest)) = staged.first().filter(|_| ABANDONED.load(Ordering::SeqCst)) {
        return Err(interrupted(dest));
    }
    for (k, (tmp, dest)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, dest) {
            if k == 0 {
                return Err(Error::io(dest, e));
            }
            let done: Vec<String> = staged[..k]
                .iter()
                .map(|(_, d)| d.display().to_string())
                .collect();
            return Err(Error::invalid(
                dest.display().to_string(),
                format!("could not be put in place ({e}), so it is as it was, but {} had been replaced before it; fix the cause and run again", done.join(", ")),
            ));
        }
        temporary.retain(|t| t != tmp);
        put_in_place(dest);
        if k + 1 < staged.len() {
            test_pause("rename");
        }
    }
    Ok(())
}

/// Remove the temporary files `tmps` (those renamed into place are gone already) and forget
/// them.
pub(crate) fn remove_temporaries<'a>(tmps: impl Iterator<Item = &'a PathBuf>) {
    let mut temporary = TEMPORARY.lock().unwrap_or_else(PoisonError::into_inner);
    for tmp in tmps {
        if temporary.contains(tmp) {
            let _ = std::fs::remove_file(tmp);
            temporary.retain(|t| t != tmp);
        }
    }
}

/// What was at the destination when the run started.
#[derive(Debug, Clone, PartialEq)]
enum Found {
    /// Nothing: the rename creates it.
    Absent,
    /// An empty directory: the rename replaces it.
    Empty,
    /// tradesim's output with these files (`--force`): moved aside and removed at commit.
    Output(BTreeSet<String>),
}

/// An output directory being written.
#[derive(Debug)]
pub struct OutputDir {
    staging: PathBuf,
    claim: PathBuf,
    dest: PathBuf,
    found: Found,
    committed: bool,
    /// Refuse at commit to replace a destination in which a file of [`FINGERPRINTED`] was
    /// changed after tradesim wrote it ([`OutputDir::keeping_edits`]).
    keep_edits: bool,
}

/// The parent directory and file name of `dest`.
fn split_dest(dest: &Path) -> Result<(PathBuf, String)> {
    let name = dest
        .file_name()
        .ok_or_else(|| {
            Error::invalid(
                dest.display().to_string(),
                "the output directory needs a name (not `/`); choose another `out`",
            )
        })?
        .to_string_lossy()
        .to_string();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The free space, in bytes, of the file system a new `path` would be made on, and the
/// existing directory it was measured at (the nearest existing ancestor of `path`), from POSIX
/// `df -Pk`; `None` when that cannot be told (no `df`, an output it does not parse).
pub(crate) fn free_space(path: &Path) -> Option<(PathBuf, u64)> {
    let abs = absolute(path);
    let dir = abs.ancestors().find(|a| a.is_dir())?.to_path_buf();
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(&dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    // `Filesystem 1024-blocks Used Available Capacity Mounted-on`, then one line per file
    // system (a long device name may not wrap with -P).
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1)?;
    let kb: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some((dir, kb.saturating_mul(1024)))
}

/// Names in `dir` (all of them, hidden ones included).
fn entries(dir: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        out.insert(e.file_name().to_string_lossy().to_string());
    }
    Ok(out)
}

/// The files a marker lists, or `None` when `dir` has no marker.
fn marker_files(dir: &Path) -> Result<Option<BTreeSet<String>>> {
    Ok(marker_entries(dir)?.map(|m| m.into_keys().collect()))
}

/// The files a marker lists, each with its fingerprint as tradesim wrote it (see
/// [`FINGERPRINTED`]; `None` for the others and in markers of older versions), or `None`
/// when `dir` has no marker.
fn marker_entries(dir: &Path) -> Result<Option<BTreeMap<String, Option<String>>>> {
    let p = dir.join(MARKER);
    let text = match std::fs::read_to_string(&p) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&p, e)),
    };
    let mut files: BTreeMap<String, Option<String>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| (l.to_string(), None))
        .collect();
    // Fingerprints are comment lines, so that older versions, which skip comments, read the
    // same list of files.
    for (name, print) in text
        .lines()
        .filter_map(|l| l.strip_prefix(FINGERPRINT_PREFIX)?.rsplit_once(": "))
    {
        if let Some(slot) = files.get_mut(name) {
            *slot = Some(print.to_string());
        }
    }
    Ok(Some(files))
}

fn marker_text(files: &BTreeMap<String, Option<String>>) -> String {
    let mut t = String::from(MARKER_HEADER);
    t.push('\n');
    for f in files.keys() {
        t.push_str(f);
        t.push('\n');
    }
    for (f, print) in files {
        if let Some(print) = print {
            t.push_str(&format!("{FINGERPRINT_PREFIX}{f}: {print}\n"));
        }
    }
    t
}

/// The fingerprint the marker of `dir` records for `name` as tradesim wrote it; `None` when
/// it records none (no marker, `name` not listed or not one of [`FINGERPRINTED`], or a marker
/// of an older version without fingerprints).
pub(crate) fn as_written(dir: &Path, name: &str) -> Result<Option<String>> {
    Ok(marker_entries(dir)?
        .and_then(|mut m| m.remove(name))
        .flatten())
}

/// The fingerprint of a file's bytes recorded in the marker: its length and SHA-256.
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    format!(
        "{} bytes, sha256 {}",
        bytes.len(),
        crate::scenario::inputs::sha256_hex(bytes)
    )
}

/// The fingerprint of `dir/name` if it is one of [`FINGERPRINTED`] and a regular file.
fn fingerprint_of(dir: &Path, name: &str) -> Result<Option<String>> {
    let p = dir.join(name);
    if !FINGERPRINTED.contains(&name) || !p.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
    Ok(Some(fingerprint(&bytes)))
}

/// Add `names` to the marker of a tradesim output directory (for files written into it
/// later, such as `tradesim report`'s `report.html`, recorded with its fingerprint); a
/// directory without a marker is left as it is.
pub(crate) fn record_files(dir: &Path, names: &[&str]) -> Result<()> {
    if let Some(mut files) = marker_entries(dir)? {
        for n in names {
            files.insert(n.to_string(), fingerprint_of(dir, n)?);
        }
        // Replaced whole: a full disk or Ctrl-C leaves the marker as it was.
        crate::output::write_all(dir, &[(MARKER, marker_text(&files).into_bytes())])?;
    }
    Ok(())
}

/// Refuse to write the single file `path` over an existing one unless `force`.
pub(crate) fn check_new_file(path: &Path, force: bool) -> Result<()> {
    // A directory first: `force` never replaces one, so it is not offered.
    if path.is_dir() {
        return Err(Error::invalid(
            path.display().to_string(),
            "is a directory; name a file to write",
        ));
    }
    if path.exists() && !force {
        return Err(Error::invalid(
            path.display().to_string(),
            "exists; choose another file name or pass `force` to replace it",
        ));
    }
    Ok(())
}

/// Refuse to replace `dir/name` when it exists and tradesim did not write it (it is not in
/// the directory's marker), or, unless `force`, when it was changed after tradesim wrote it:
/// its bytes no longer match the fingerprint in the marker, or, in a marker of an older
/// version without fingerprints, it is newer than the marker (which was written after it).
pub(crate) fn check_replaceable(dir: &Path, name: &str, force: bool) -> Result<()> {
    let p = dir.join(name);
    if !p.exists() {
        return Ok(());
    }
    let recorded = match marker_entries(dir)? {
        Some(mut files) if files.contains_key(name) => files.remove(name).flatten(),
        _ => {
            return Err(Error::invalid(
                p.display().to_string(),
                format!("exists and was not written by tradesim (it is not listed in {MARKER}); move it away to write a new one"),
            ))
        }
    };
    if force {
        return Ok(());
    }
    match how_changed(dir, name, recorded)? {
        None => Ok(()),
        Some(how) => Err(Error::invalid(
            p.display().to_string(),
            format!("was changed after tradesim wrote it ({how}), so it was not replaced; to keep your edits, move or rename it and run again, or pass `force` to replace it"),
        )),
    }
}

/// How `dir/name`, a file the marker of `dir` lists with the fingerprint `recorded`, shows it
/// was changed after tradesim wrote it, or `None` when it was not: its bytes no longer match
/// the fingerprint, or, without one (a marker of an older version), it is newer than the
/// marker (which was written after it).
fn how_changed(dir: &Path, name: &str, recorded: Option<String>) -> Result<Option<String>> {
    let p = dir.join(name);
    Ok(match recorded {
        Some(print) => {
            let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
            (fingerprint(&bytes) != print)
                .then(|| format!("its length and SHA-256 are no longer those {MARKER} records"))
        }
        None => {
            let modified = |f: &Path| {
                std::fs::metadata(f)
                    .and_then(|m| m.modified())
                    .map_err(|e| Error::io(f, e))
            };
            (modified(&p)? > modified(&dir.join(MARKER))?).then(|| {
                format!("it is newer than {MARKER}, written by an older tradesim without a fingerprint of it")
            })
        }
    })
}

/// What a user made in an output directory that tradesim replaces whole on its own (a SLURM
/// job's `merged/`, replaced by every merge of the job): [`user_work`].
#[derive(Debug, Default, PartialEq)]
pub(crate) struct UserWork {
    /// Files tradesim did not write (not listed in the marker; every file when there is
    /// none).
    pub(crate) foreign: Vec<String>,
    /// Files of [`FINGERPRINTED`] changed after tradesim wrote them, each with how that shows.
    pub(crate) edited: Vec<(String, String)>,
}

/// What a user made in `dir` ([`UserWork`]); nothing when `dir` is absent or not a directory
/// (replacing it is refused as it is anyway).
pub(crate) fn user_work(dir: &Path) -> Result<UserWork> {
    if !dir.is_dir() {
        return Ok(UserWork::default());
    }
    let present = entries(dir)?;
    let Some(listed) = marker_entries(dir)? else {
        return Ok(UserWork {
            foreign: present.into_iter().collect(),
            edited: Vec::new(),
        });
    };
    let names: BTreeSet<String> = listed.keys().cloned().collect();
    let mut edited = Vec::new();
    for (name, recorded) in listed {
        if FINGERPRINTED.contains(&name.as_str()) && dir.join(&name).is_file() {
            if let Some(how) = how_changed(dir, &name, recorded)? {
                edited.push((name, how));
            }
        }
    }
    Ok(UserWork {
        foreign: foreign_files(&present, &names),
        edited,
    })
}

/// `path` made absolute and free of `.`/`..` and symbolic links as far as it exists.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if let Ok(c) = path.canonicalize() {
        return c;
    }
    // Not there (yet): canonicalise the deepest existing ancestor and append the rest.
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(p), Some(n)) => {
                rest.push(n.to_os_string());
                cur = p;
            }
            _ => return abs,
        }
    }
}

/// Refuse a destination that equals or contains one of `inputs`.
fn check_inputs(dest: &Path, inputs: &[PathBuf]) -> Result<()> {
    let d = absolute(dest);
    for input in inputs {
        let i = absolute(input);
        if i == d || i.starts_with(&d) {
            let what = if i == d {
                "is".to_string()
            } else {
                format!("contains {}, which is", input.display())
            };
            return Err(Error::invalid(
                dest.display().to_string(),
                format!(
                    "the output directory {what} an input of this run; writing there would replace it. Choose an `out` outside the scenario's files, its baseline and the other inputs"
                ),
            ));
        }
    }
    Ok(())
}

/// Refuse a destination inside one of `shards` (the directories a merge reads): a shard's
/// directory holds that shard's files only, and a later run of the shard with `force` would
/// refuse to replace it, finding a directory it did not write.
pub(crate) fn check_not_inside(dest: &Path, shards: &[PathBuf]) -> Result<()> {
    let d = absolute(&follow_links(dest)?);
    for shard in shards {
        let s = absolute(shard);
        if d != s && d.starts_with(&s) {
            let beside = shard
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("merged"), |p| p.join("merged"));
            return Err(Error::invalid(
                dest.display().to_string(),
                format!(
                    "is inside the shard directory {}, which holds that shard's files only (a later run of the shard into it would find the merged directory there and refuse to replace it); choose another `out` beside the shards, such as {}",
                    shard.display(),
                    beside.display()
                ),
            ));
        }
    }
    Ok(())
}

/// The process id and machine written in a claim file (`None` if it cannot be read, after a
/// short wait for a claim being written this very instant; no machine in an older claim).
fn claim_holder(claim: &Path) -> Option<(u32, Option<String>)> {
    for _ in 0..5 {
        if let Some(holder) = std::fs::read_to_string(claim).ok().and_then(|t| {
            let mut words = t.split_whitespace();
            let pid = words.next()?.parse::<u32>().ok()?;
            Some((pid, words.next().map(str::to_string)))
        }) {
            return Some(holder);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

/// This machine's name, written in claims: a process id means something only on the machine
/// it runs on (a shared file system on a cluster is written from many).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// The error of making `path` (the claim, the staging directory or a parent of the output
/// directory `dest`): a directory that cannot be written names the directory and says to
/// choose another `out`, not the hidden file tradesim tried to make.
fn not_writable(path: &Path, dest: &Path, e: std::io::Error) -> Error {
    use std::io::ErrorKind::{PermissionDenied, ReadOnlyFilesystem};
    if !matches!(e.kind(), PermissionDenied | ReadOnlyFilesystem) {
        return Error::io(path, e);
    }
    // The directory that refused: the nearest ancestor of `path` that exists.
    let dir = path
        .ancestors()
        .skip(1)
        .find(|a| a.as_os_str().is_empty() || a.exists())
        .map_or_else(
            || PathBuf::from("."),
            |a| {
                if a.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    a.to_path_buf()
                }
            },
        );
    Error::invalid(
        dir.display().to_string(),
        format!(
            "this directory is not writable ({e}), so the output directory {} cannot be made in it; choose another `out` in a directory you can write",
            dest.display()
        ),
    )
}

/// Take the claim file exclusively; a claim of a process that no longer runs is taken over.
fn take_claim(claim: &Path, dest: &Path) -> Result<()> {
    let own = std::process::id();
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(claim)
        {
            Ok(mut f) => {
                writeln!(f, "{own} {}", host_name()).map_err(|e| Error::io(claim, e))?;
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = claim_holder(claim);
                let alive = match &holder {
                    // A claim made on another machine (a cluster node that failed, whose task
                    // SLURM runs again here) cannot be checked from here: taken over, as a claim
                    // whose process is gone.
                    Some((_, Some(host))) if *host != host_name() => false,
                    Some((pid, _)) if *pid == own => ACTIVE
                        .lock()
                        .map(|l| l.iter().any(|(_, c)| c == claim))
                        .unwrap_or(true),
                    Some((pid, _)) => pid_alive(*pid),
                    None => false,
                };
                if alive {
                    return Err(Error::invalid(
                        dest.display().to_string(),
                        format!(
                            "another tradesim run (process {}) is writing this output directory; wait for it to finish or choose another `out`",
                            holder.map_or(own, |(pid, _)| pid)
                        ),
                    ));
                }
                // Left by a killed run: take it over.
                let _ = std::fs::remove_file(claim);
            }
            Err(e) => return Err(not_writable(claim, dest, e)),
        }
    }
    Err(Error::invalid(
        claim.display().to_string(),
        "could not claim the output directory (its claim file keeps reappearing); another run may be starting: try again",
    ))
}

/// What is at `dest` now, and whether this run may replace it.
fn examine(dest: &Path, force: bool) -> Result<Found> {
    if !dest.exists() {
        return Ok(Found::Absent);
    }
    if !dest.is_dir() {
        return Err(Error::invalid(
            dest.display().to_string(),
            "exists and is not a directory; choose another `out`",
        ));
    }
    let present = entries(dest)?;
    if present.is_empty() {
        return Ok(Found::Empty);
    }
    if !force {
        return Err(Error::invalid(
            dest.display().to_string(),
            "the output directory exists and is not empty; choose another `out` or pass `force` to replace it",
        ));
    }
    let Some(listed) = marker_files(dest)? else {
        return Err(Error::invalid(
            dest.display().to_string(),
            format!(
                "this directory was not written by tradesim (it has no {MARKER} marker), so `force` does not replace it; choose another `out`, or move its contents away yourself"
            ),
        ));
    };
    let foreign = foreign_files(&present, &listed);
    if !foreign.is_empty() {
        return Err(Error::invalid(
            dest.display().to_string(),
            format!(
                "holds files tradesim did not write ({}); `force` replaces only tradesim's own files, so nothing was touched. Move them away or choose another `out`",
                foreign.join(", ")
            ),
        ));
    }
    Ok(Found::Output(listed))
}

fn foreign_files(present: &BTreeSet<String>, listed: &BTreeSet<String>) -> Vec<String> {
    present
        .iter()
        .filter(|n| n.as_str() != MARKER && !listed.contains(*n))
        .cloned()
        .collect()
}

/// `dest` with the symbolic links of its last component followed: a link (`latest ->
/// runs/2024-05`) names the directory it points to, whether it exists yet or not. Renaming
/// onto the link itself would replace the user's link with the output directory.
pub(crate) fn follow_links(dest: &Path) -> Result<PathBuf> {
    let mut cur = dest.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&cur) {
            Ok(md) if md.file_type().is_symlink() => {
                let target = std::fs::read_link(&cur).map_err(|e| Error::io(&cur, e))?;
                cur = match cur.parent() {
                    Some(p) if target.is_relative() => p.join(target),
                    _ => target,
                };
            }
            _ => return Ok(cur),
        }
    }
    Err(Error::invalid(
        dest.display().to_string(),
        "is a symbolic link that leads round in a loop (or through more than 40 links); give the directory to write as `out`",
    ))
}

/// A path beside `staging` that does not exist, for the directory being replaced:
/// `.NAME.tradesim-PID.old` (`.old1`, … if taken), which a later run recognises as this run's
/// ([`clear_leftovers`]).
fn free_aside(staging: &Path) -> PathBuf {
    let name = staging
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let base = staging.with_file_name(format!("{name}.old"));
    if !base.exists() {
        return base;
    }
    (1..)
        .map(|k| staging.with_file_name(format!("{name}.old{k}")))
        .find(|p| !p.exists())
        .expect("an unused name")
}

/// The process id of a run's staging directory (`PREFIX<pid>`), or of the directory it moved
/// aside (`PREFIX<pid>.old`, `.old1`, …) with `true`, named `name` in the destination's parent
/// (`prefix` is `.NAME.tradesim-`).
fn leftover(name: &str, prefix: &str) -> Option<(u32, bool)> {
    let rest = name.strip_prefix(prefix)?;
    let (pid, aside) = match rest.split_once('.') {
        None => (rest, false),
        Some((pid, old)) => {
            let k = old.strip_prefix("old")?;
            if !k.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (pid, true)
        }
    };
    pid.parse::<u32>().ok().map(|pid| (pid, aside))
}

/// Clear what stopped runs into `dest` left beside it, reading its parent once. First the
/// directories that runs stopped while committing (killed, or their machine down) moved
/// aside: an earlier output, which they were replacing. One whose run put its replacement in
/// place (its staging directory is gone and the destination is a tradesim output, with its
/// marker) is removed; any other is put back at the destination when that is absent or empty,
/// and otherwise the run is refused, naming it, so that nothing is lost or left hidden. Then
/// the staging directories of killed runs (their process is gone). Only the leftovers of
/// processes that no longer run (or of an earlier process with this one's id) are touched: the
/// caller holds the destination's claim.
fn clear_leftovers(parent: &Path, prefix: &str, dest: &Path) -> Result<()> {
    let own = std::process::id();
    let mut staged = BTreeMap::new();
    let mut asides = BTreeMap::new();
    if let Ok(list) = std::fs::read_dir(parent) {
        for e in list.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            match leftover(&n, prefix) {
                Some((pid, aside)) if pid == own || !pid_alive(pid) => {
                    if aside {
                        asides.insert(n, (pid, e.path()));
                    } else {
                        staged.insert(pid, e.path());
                    }
                }
                _ => {}
            }
        }
    }
    for (pid, aside) in asides.into_values() {
        let present = std::fs::symlink_metadata(dest).is_ok();
        if present && !staged.contains_key(&pid) && dest.join(MARKER).is_file() {
            // Replaced: the rest of a removal cut short.
            let _ = std::fs::remove_dir_all(&aside);
            continue;
        }
        let empty = !present || (dest.is_dir() && entries(dest)?.is_empty());
        if empty {
            std::fs::rename(&aside, dest).map_err(|e| Error::io(&aside, e))?;
            continue;
        }
        return Err(Error::invalid(
            dest.display().to_string(),
            format!(
                "a tradesim run was stopped while it replaced this output directory, and the earlier output is in {}, moved aside; nothing was touched. Move that directory back to {} (or away, if you do not need it) and run again",
                aside.display(),
                dest.display()
            ),
        ));
    }
    // This process's own staging (an earlier process with its id) is replaced by the caller.
    for (pid, staging) in staged {
        if pid != own {
            let _ = std::fs::remove_dir_all(staging);
        }
    }
    Ok(())
}

impl OutputDir {
    /// Start writing `dest`: refuses a destination that equals or contains one of `inputs`,
    /// one that another live run is writing, a non-empty one without `force`, and with `force`
    /// anything but a tradesim output directory holding only its own files. Creates the parent
    /// and the staging directory and removes staging left by killed runs.
    pub(crate) fn begin(dest: &Path, force: bool, inputs: &[PathBuf]) -> Result<OutputDir> {
        // A symbolic link names the directory it points to: the rules apply there, the link
        // stays.
        let linked = follow_links(dest)?;
        let dest = linked.as_path();
        // `.`, `..` or `dir/..` name the directory they resolve to.
        let resolved;
        let dest = if dest.file_name().is_none() {
            resolved = absolute(dest);
            resolved.as_path()
        } else {
            dest
        };
        let (parent, name) = split_dest(dest)?;
        check_inputs(dest, inputs)?;
        std::fs::create_dir_all(&parent).map_err(|e| not_writable(&parent, dest, e))?;
        let prefix = format!(".{name}.tradesim-");
        let claim = parent.join(format!("{prefix}claim"));
        take_claim(&claim, dest)?;
        let release = |e: Error| {
            let _ = std::fs::remove_file(&claim);
            e
        };
        // An earlier output that a run stopped while committing moved aside is put back first,
        // then the staging of runs that were killed is removed.
        clear_leftovers(&parent, &prefix, dest).map_err(release)?;
        let found = examine(dest, force).map_err(release)?;
        let staging = parent.join(format!("{prefix}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if ABANDONED.load(Ordering::SeqCst) {
            return Err(release(interrupted(dest)));
        }
        std::fs::create_dir(&staging)
            .map_err(|e| not_writable(&staging, dest, e))
            .map_err(release)?;
        active.push((staging.clone(), claim.clone()));
        drop(active);
        Ok(OutputDir {
            staging,
            claim,
            dest: dest.to_path_buf(),
            found,
            committed: false,
            keep_edits: false,
        })
    }

    /// With `keep`, refuse at commit to replace a destination in which a file of
    /// [`FINGERPRINTED`] was changed after tradesim wrote it (a user's edits made while the
    /// run was going; one replaced on its own with `force`, as a SLURM job's `merged/` by every
    /// merge, checks those found at the start itself: [`user_work`]).
    pub(crate) fn keeping_edits(mut self, keep: bool) -> OutputDir {
        self.keep_edits = keep;
        self
    }

    /// The files in `dir` that this run may not replace: those tradesim did not write (not
    /// in `listed`), and, when keeping edits, those changed after tradesim wrote them.
    fn in_the_way(&self, dir: &Path, listed: &BTreeSet<String>) -> Result<Vec<String>> {
        let mut names = foreign_files(&entries(dir)?, listed);
        if self.keep_edits {
            names.extend(
                user_work(dir)?
                    .edited
                    .into_iter()
                    .map(|(name, _)| format!("{name}, changed after tradesim wrote it")),
            );
        }
        Ok(names)
    }

    /// Where to write the file `name` now.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// Write a whole file.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let p = self.path(name);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, e))
    }

    /// Write the file `name` by streaming into it: `write(file, path)` writes the contents
    /// (`path` names the file in its errors), and the file is closed when it returns. For tables
    /// too large to hold whole in memory. Returns the file's path.
    pub(crate) fn write_with(
        &self,
        name: &str,
        write: impl FnOnce(&mut std::fs::File, &Path) -> Result<()>,
    ) -> Result<PathBuf> {
        let p = self.path(name);
        let mut file = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
        write(&mut file, &p)?;
        Ok(p)
    }

    /// The staging directory (for writers that take a directory).
    pub(crate) fn staging_dir(&self) -> &Path {
        &self.staging
    }

    /// Put the staged files in place, with the marker listing them. The destination is
    /// examined again first: if anything appeared in it since [`OutputDir::begin`], nothing is
    /// replaced and the error says what.
    pub(crate) fn commit(mut self) -> Result<()> {
        let mut written = BTreeMap::new();
        for name in entries(&self.staging)? {
            let print = fingerprint_of(&self.staging, &name)?;
            written.insert(name, print);
        }
        self.write(MARKER, marker_text(&written).as_bytes())?;
        // From moving an earlier output aside until the new one is in place and the old one
        // removed, the signal handler waits (it takes the same lock), so Ctrl-C never leaves the
        // destination missing; after the handler has run, nothing is committed.
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        let done = if ABANDONED.load(Ordering::SeqCst) {
            Err(interrupted(&self.dest))
        } else {
            self.replace()
        };
        if done.is_ok() || self.committed {
            active.retain(|(p, _)| p != &self.staging);
            let _ = std::fs::remove_file(&self.claim);
        }
        if done.is_ok() {
            put_in_place(&self.dest);
        }
        drop(active);
        done
    }

    /// [`OutputDir::commit`]'s renames, made holding the lock of [`ACTIVE`]: the destination
    /// examined again, an earlier output moved aside, the staging directory renamed into place
    /// and the earlier output removed. Sets `committed` when the new output is in place, and
    /// when the earlier output could not be put back after a failure (the staging directory is
    /// then kept, so that a later run puts the earlier output back: [`clear_leftovers`]).
    fn replace(&mut self) -> Result<()> {
        let changed = |what: String| {
            Error::invalid(
                self.dest.display().to_string(),
                format!("{what} while this run was going, so nothing was written or replaced; look at what is there and run again with another `out`"),
            )
        };
        let aside = match &self.found {
            Found::Absent | Found::Empty => {
                if self.dest.exists() {
                    let now = entries(&self.dest)?;
                    if !now.is_empty() {
                        let names: Vec<String> = now.into_iter().collect();
                        return Err(changed(format!(
                            "files appeared in the output directory ({})",
                            names.join(", ")
                        )));
                    }
                }
                // Renaming onto an empty directory replaces it; onto a non-empty one it fails.
                None
            }
            Found::Output(listed) => {
                let appeared = if self.keep_edits {
                    "files appeared or were edited in the output directory"
                } else {
                    "files appeared in the output directory"
                };
                let foreign = self.in_the_way(&self.dest, listed)?;
                if !foreign.is_empty() {
                    return Err(changed(format!("{appeared} ({})", foreign.join(", "))));
                }
                let aside = free_aside(&self.staging);
                std::fs::rename(&self.dest, &aside).map_err(|e| Error::io(&self.dest, e))?;
                // A file created (or edited) between the check and the move is in `aside` now:
                // put it back.
                let foreign = match self.in_the_way(&aside, listed) {
                    Ok(foreign) => foreign,
                    Err(e) => return Err(self.put_back(&aside, e)),
                };
                if !foreign.is_empty() {
                    return Err(self.put_back(
                        &aside,
                        changed(format!("{appeared} ({})", foreign.join(", "))),
                    ));
                }
                Some(aside)
            }
        };
        test_pause("commit");
        if let Err(e) = std::fs::rename(&self.staging, &self.dest) {
            let e = if e.kind() == std::io::ErrorKind::DirectoryNotEmpty {
                changed("files appeared in the output directory".to_string())
            } else {
                Error::io(&self.dest, e)
            };
            return Err(match &aside {
                Some(a) => self.put_back(a, e),
                None => e,
            });
        }
        self.committed = true;
        if let Some(a) = aside {
            let _ = std::fs::remove_dir_all(a);
        }
        Ok(())
    }

    /// Move the earlier output `aside` back to the destination after the commit failed with
    /// `e`; if that fails too, keep the staging directory (a later run into the destination
    /// then puts the earlier output back, or names it) and say where the earlier output is.
    fn put_back(&mut self, aside: &Path, e: Error) -> Error {
        match std::fs::rename(aside, &self.dest) {
            Ok(()) => e,
            Err(back) => {
                self.committed = true;
                Error::invalid(
                    self.dest.display().to_string(),
                    format!(
                        "{e}; and the earlier output, moved aside to {}, could not be put back ({back}): move it back to {} yourself",
                        aside.display(),
                        self.dest.display()
                    ),
                )
            }
        }
    }

    fn forget(&self) {
        if let Ok(mut l) = ACTIVE.lock() {
            l.retain(|(p, _)| p != &self.staging);
        }
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            let _ = std::fs::remove_file(&self.claim);
            self.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        entries(dir).unwrap().into_iter().collect()
    }

    #[test]
    fn free_space_is_measured_at_the_nearest_existing_directory() {
        let d = tempfile::tempdir().unwrap();
        let (at, free) = free_space(&d.path().join("not/yet/made")).expect("df -Pk works here");
        assert_eq!(at, absolute(d.path()));
        assert!(free > 0);
    }

    #[test]
    fn whole_or_nothing_and_force() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out");
        {
            let o = OutputDir::begin(&dest, false, &[]).unwrap();
            o.write("a.csv", b"x").unwrap();
            // Dropped without commit: nothing appears, no staging or claim is left.
        }
        assert!(!dest.exists());
        assert!(names(d.path()).is_empty());
        let o = OutputDir::begin(&dest, false, &[]).unwrap();
        o.write("a.csv", b"1").unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read(dest.join("a.csv")).unwrap(), b"1");
        assert_eq!(names(&dest), [MARKER, "a.csv"]);
        let e = OutputDir::begin(&dest, false, &[]).unwrap_err().to_string();
        assert!(e.contains("pass `force`"), "{e}");
        let o = OutputDir::begin(&dest, true, &[]).unwrap();
        o.write("b.csv", b"2").unwrap();
        o.commit().unwrap();
        assert!(!dest.join("a.csv").exists() && dest.join("b.csv").exists());
        assert_eq!(
            names(d.path()),
            ["out"],
            "no staging, claim or old directory"
        );
    }

    #[test]
    fn a_second_run_into_the_same_destination_is_refused_while_the_first_runs() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out");
        let first = OutputDir::begin(&dest, false, &[]).unwrap();
        first.write("a.csv", b"first").unwrap();
        for force in [false, true] {
            let e = OutputDir::begin(&dest, force, &[]).unwrap_err().to_string();
            assert!(e.contains("another tradesim run"), "{e}");
        }
        first.commit().unwrap();
        // Once the first has finished, a second without --force is refused, the output kept.
        assert!(OutputDir::begin(&dest, false, &[]).is_err());
        assert_eq!(std::fs::read(dest.join("a.csv")).unwrap(), b"first");
    }

    #[test]
    fn a_claim_made_on_another_machine_is_taken_over() {
        // A SLURM task run again on another node after its node failed: the lost run's claim
        // names a process of that node (pid 1 lives here, but there it means nothing).
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("shard-2");
        let claim = d.path().join(".shard-2.tradesim-claim");
        std::fs::write(&claim, "1 a-node-that-failed\n").unwrap();
        let o = OutputDir::begin(&dest, false, &[]).unwrap();
        let text = std::fs::read_to_string(&claim).unwrap();
        assert_eq!(text, format!("{} {}\n", std::process::id(), host_name()));
        drop(o);
        // The same process id claimed on this machine is a live run.
        std::fs::write(&claim, format!("1 {}\n", host_name())).unwrap();
        let e = OutputDir::begin(&dest, false, &[]).unwrap_err().to_string();
        assert!(e.contains("another tradesim run (process 1)"), "{e}");
    }

    #[test]
    fn files_that_appear_during_a_run_are_never_deleted() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out");
        // Destination absent at the start, a user's file there at the end.
        let o = OutputDir::begin(&dest, false, &[]).unwrap();
        o.write("a.csv", b"1").unwrap();
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("notes.txt"), "mine").unwrap();
        let e = o.commit().unwrap_err().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        assert_eq!(names(&dest), ["notes.txt"]);
        std::fs::remove_file(dest.join("notes.txt")).unwrap();
        // Replacing tradesim's output with --force while a user adds a file to it.
        let o = OutputDir::begin(&dest, false, &[]).unwrap();
        o.write("a.csv", b"1").unwrap();
        o.commit().unwrap();
        let o = OutputDir::begin(&dest, true, &[]).unwrap();
        o.write("b.csv", b"2").unwrap();
        std::fs::write(dest.join("notes.txt"), "mine").unwrap();
        let e = o.commit().unwrap_err().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        assert_eq!(names(&dest), [MARKER, "a.csv", "notes.txt"]);
        assert_eq!(names(d.path()), ["out"], "no staging or claim left");
    }

    #[test]
    fn force_replaces_only_tradesims_own_files() {
        let d = tempfile::tempdir().unwrap();
        let mine = d.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("thesis.tex"), "x").unwrap();
        let e = OutputDir::begin(&mine, true, &[]).unwrap_err().to_string();
        assert!(e.contains("not written by tradesim"), "{e}");
        assert!(mine.join("thesis.tex").exists());
        let out = d.path().join("out");
        let o = OutputDir::begin(&out, false, &[]).unwrap();
        o.write("a.csv", b"1").unwrap();
        o.commit().unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let e = OutputDir::begin(&out, true, &[]).unwrap_err().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        // Files tradesim adds later (a report) are recorded and replaced with the rest.
        std::fs::remove_file(out.join("notes.txt")).unwrap();
        std::fs::write(out.join("report.html"), "r").unwrap();
        record_files(&out, &["report.html"]).unwrap();
        let o = OutputDir::begin(&out, true, &[]).unwrap();
        o.write("b.csv", b"2").unwrap();
        o.commit().unwrap();
        assert_eq!(names(&out), [MARKER, "b.csv"]);
    }

    #[test]
    fn a_file_edited_after_tradesim_wrote_it_is_replaced_only_with_force() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let o = OutputDir::begin(&out, false, &[]).unwrap();
        o.write("a.csv", b"1").unwrap();
        o.write("report.html", b"<p>r</p>").unwrap();
        o.commit().unwrap();
        let marker = std::fs::read_to_string(out.join(MARKER)).unwrap();
        assert!(
            marker.ends_with(&format!(
                "{FINGERPRINT_PREFIX}report.html: {}\n",
                fingerprint(b"<p>r</p>")
            )),
            "{marker}"
        );
        // Older versions, which skip comment lines, read the same list of files.
        let listed: Vec<&str> = marker.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(listed, ["a.csv", "report.html"]);
        assert!(
            !marker.contains("a.csv:"),
            "only report.html is fingerprinted"
        );
        check_replaceable(&out, "report.html", false).unwrap();
        // Edited: even at the same length, refused without force.
        std::fs::write(out.join("report.html"), "<p>R</p>").unwrap();
        let e = check_replaceable(&out, "report.html", false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("report.html: was changed after tradesim wrote it")
                && e.contains("move or rename it")
                && e.contains("pass `force`"),
            "{e}"
        );
        check_replaceable(&out, "report.html", true).unwrap();
        // Recording the file again takes its new bytes.
        record_files(&out, &["report.html"]).unwrap();
        check_replaceable(&out, "report.html", false).unwrap();
        // A file not in the marker is never replaced, with or without force.
        std::fs::write(out.join("mine.html"), "x").unwrap();
        for force in [false, true] {
            let e = check_replaceable(&out, "mine.html", force)
                .unwrap_err()
                .to_string();
            assert!(e.contains("not written by tradesim"), "{e}");
        }
    }

    /// What a user made in an output directory replaced whole on its own (a SLURM job's
    /// merged/): files not in the marker, and a report.html edited since tradesim wrote it,
    /// which a run keeping edits also refuses at commit when it was edited while it ran.
    #[test]
    fn a_users_work_is_found_and_kept_by_a_run_keeping_edits() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        assert_eq!(user_work(&out).unwrap(), UserWork::default());
        let o = OutputDir::begin(&out, false, &[]).unwrap();
        o.write("a.csv", b"1").unwrap();
        o.write("report.html", b"<p>r</p>").unwrap();
        o.commit().unwrap();
        assert_eq!(user_work(&out).unwrap(), UserWork::default());
        // Edited while a run keeping edits was going: nothing replaced.
        let o = OutputDir::begin(&out, true, &[])
            .unwrap()
            .keeping_edits(true);
        o.write("b.csv", b"2").unwrap();
        std::fs::write(out.join("report.html"), "<p>mine</p>").unwrap();
        let work = user_work(&out).unwrap();
        assert!(work.foreign.is_empty(), "{work:?}");
        assert_eq!(work.edited.len(), 1, "{work:?}");
        assert_eq!(work.edited[0].0, "report.html");
        let e = o.commit().unwrap_err().to_string();
        assert!(
            e.contains("files appeared or were edited in the output directory (report.html, changed after tradesim wrote it)"),
            "{e}"
        );
        assert_eq!(names(&out), [MARKER, "a.csv", "report.html"]);
        assert_eq!(
            std::fs::read(out.join("report.html")).unwrap(),
            b"<p>mine</p>"
        );
        assert_eq!(
            names(d.path()),
            ["out"],
            "no staging, claim or old directory"
        );
        // A file of the user's is found; in a directory without a marker, every file is.
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        assert_eq!(user_work(&out).unwrap().foreign, ["notes.txt"]);
        std::fs::remove_file(out.join(MARKER)).unwrap();
        assert_eq!(
            user_work(&out).unwrap().foreign,
            ["a.csv", "notes.txt", "report.html"]
        );
        // Not keeping edits (`force`), the edited file is replaced with the rest.
        std::fs::remove_file(out.join("notes.txt")).unwrap();
        std::fs::write(
            out.join(MARKER),
            marker_text(&BTreeMap::from([
                ("a.csv".to_string(), None),
                ("report.html".to_string(), Some(fingerprint(b"<p>r</p>"))),
            ])),
        )
        .unwrap();
        assert_eq!(user_work(&out).unwrap().edited.len(), 1);
        let o = OutputDir::begin(&out, true, &[]).unwrap();
        o.write("b.csv", b"2").unwrap();
        o.commit().unwrap();
        assert_eq!(names(&out), [MARKER, "b.csv"]);
    }

    #[test]
    fn a_marker_without_fingerprints_compares_times() {
        // A marker of an older version: the names only, written after the report.
        let d = tempfile::tempdir().unwrap();
        let out = d.path();
        std::fs::write(out.join("report.html"), "r").unwrap();
        std::fs::write(out.join(MARKER), format!("{MARKER_HEADER}\nreport.html\n")).unwrap();
        // Times a minute ago, so that the edit below is newer on any file system's clock.
        let ago = |name: &str, secs: u64| {
            std::fs::File::options()
                .write(true)
                .open(out.join(name))
                .unwrap()
                .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs))
                .unwrap();
        };
        ago("report.html", 60);
        ago(MARKER, 59);
        check_replaceable(out, "report.html", false).unwrap();
        // Edited since the marker was written.
        std::fs::write(out.join("report.html"), "mine").unwrap();
        let e = check_replaceable(out, "report.html", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("newer than .tradesim-output"), "{e}");
        check_replaceable(out, "report.html", true).unwrap();
    }

    #[test]
    fn a_destination_holding_an_input_is_refused_even_with_force() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("work");
        std::fs::create_dir(&dir).unwrap();
        let scenario = dir.join("s.ron");
        std::fs::write(&scenario, "Scenario()").unwrap();
        let base = dir.join("base");
        std::fs::create_dir(&base).unwrap();
        let inputs = vec![scenario.clone(), base.clone()];
        // `cd work && --out ../work`: the same directory by another spelling.
        let spelled = dir.join("base").join("..");
        for dest in [dir.clone(), spelled, base.clone()] {
            for force in [false, true] {
                let e = OutputDir::begin(&dest, force, &inputs)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("input of this run"), "{}: {e}", dest.display());
            }
        }
        assert!(scenario.exists() && base.exists());
        // Beside the inputs is fine.
        let o = OutputDir::begin(&dir.join("out"), false, &inputs).unwrap();
        o.commit().unwrap();
    }

    #[test]
    fn stale_leftovers_of_killed_runs_do_not_block() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out");
        let o = OutputDir::begin(&dest, false, &[]).unwrap();
        o.commit().unwrap();
        // A claim and an `.old` directory left by processes that no longer run (pid 0 is
        // never a user process), and an `.old` directory named like this process's own.
        std::fs::write(d.path().join(".out.tradesim-claim"), "999999999\n").unwrap();
        std::fs::create_dir(d.path().join(".out.tradesim-999999999.old")).unwrap();
        let own_old = d
            .path()
            .join(format!(".out.tradesim-{}.old", std::process::id()));
        std::fs::create_dir(&own_old).unwrap();
        std::fs::write(own_old.join("x"), "x").unwrap();
        let o = OutputDir::begin(&dest, true, &[]).unwrap();
        o.write("b.csv", b"2").unwrap();
        o.commit().unwrap();
        assert_eq!(names(&dest), [MARKER, "b.csv"]);
        assert!(!d.path().join(".out.tradesim-claim").exists());
    }

    /// The directory a run stopped while committing (killed between its renames) moved aside:
    /// put back when nothing replaced it, removed when its replacement is in place, and named
    /// in a refusal when something else is at the destination now. It used to be left hidden
    /// (or, named as a run's leftovers, removed) and the destination missing.
    #[test]
    fn an_output_moved_aside_by_a_stopped_run_is_put_back() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out");
        let o = OutputDir::begin(&dest, false, &[]).unwrap();
        o.write("a.csv", b"earlier").unwrap();
        o.commit().unwrap();
        // Killed between the renames: the earlier output aside, the new one still staged.
        let aside = d.path().join(".out.tradesim-999999999.old");
        let staging = d.path().join(".out.tradesim-999999999");
        let stopped = || {
            std::fs::rename(&dest, &aside).unwrap();
            std::fs::create_dir(&staging).unwrap();
            std::fs::write(staging.join("a.csv"), "new").unwrap();
        };
        stopped();
        let e = OutputDir::begin(&dest, false, &[]).unwrap_err().to_string();
        assert!(e.contains("pass `force`"), "{e}");
        assert_eq!(std::fs::read(dest.join("a.csv")).unwrap(), b"earlier");
        assert_eq!(names(d.path()), ["out"], "put back; the staging removed");
        // The same with force: put back, then replaced.
        stopped();
        let o = OutputDir::begin(&dest, true, &[]).unwrap();
        o.write("b.csv", b"2").unwrap();
        o.commit().unwrap();
        assert_eq!(names(&dest), [MARKER, "b.csv"]);
        assert_eq!(names(d.path()), ["out"]);
        // Its replacement in place (killed while removing it): removed.
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("a.csv"), "earlier").unwrap();
        let o = OutputDir::begin(&d.path().join("out"), true, &[]).unwrap();
        drop(o);
        assert_eq!(names(d.path()), ["out"]);
        assert_eq!(names(&dest), [MARKER, "b.csv"]);
        // No replacement, and a directory of the user's at the destination: refused, naming
        // where the earlier output is, and nothing touched.
        std::fs::remove_dir_all(&dest).unwrap();
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("notes.txt"), "mine").unwrap();
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("a.csv"), "earlier").unwrap();
        std::fs::create_dir(&staging).unwrap();
        for force in [false, true] {
            let e = OutputDir::begin(&dest, force, &[]).unwrap_err().to_string();
            assert!(
                e.contains("a tradesim run was stopped while it replaced this output directory")
                    && e.contains(&format!("the earlier output is in {}", aside.display()))
                    && e.contains("Move that directory back"),
                "{e}"
            );
            assert_eq!(
                names(d.path()),
                [
                    ".out.tradesim-999999999",
                    ".out.tradesim-999999999.old",
                    "out"
                ]
            );
        }
        // The same without the staging directory (removed by hand): what is at the
        // destination is not tradesim's output, so the earlier output is not removed either.
        std::fs::remove_dir_all(&staging).unwrap();
        let e = OutputDir::begin(&dest, true, &[]).unwrap_err().to_string();
        assert!(e.contains("the earlier output is in"), "{e}");
        assert_eq!(names(d.path()), [".out.tradesim-999999999.old", "out"]);
        // The destination gone (moved away by the user): put back.
        std::fs::remove_dir_all(&dest).unwrap();
        let e = OutputDir::begin(&dest, false, &[]).unwrap_err().to_string();
        assert!(e.contains("pass `force`"), "{e}");
        assert_eq!(std::fs::read(dest.join("a.csv")).unwrap(), b"earlier");
        assert_eq!(names(d.path()), ["out"]);
    }

    /// The marker is replaced whole when files are recorded (a new file renamed over it), not
    /// rewritten in place, which a full disk or Ctrl-C could cut: a hard link to the old
    /// marker keeps its bytes.
    #[test]
    fn recording_files_replaces_the_marker_whole() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let o = OutputDir::begin(&out, false, &[]).unwrap();
        o.write("a.csv", b"1").unwrap();
        o.commit().unwrap();
        let before = std::fs::read(out.join(MARKER)).unwrap();
        let link = d.path().join("marker-before");
        std::fs::hard_link(out.join(MARKER), &link).unwrap();
        std::fs::write(out.join("report.html"), "r").unwrap();
        record_files(&out, &["report.html"]).unwrap();
        assert_eq!(
            std::fs::read(&link).unwrap(),
            before,
            "the old file untouched"
        );
        let now = std::fs::read_to_string(out.join(MARKER)).unwrap();
        assert!(now.contains("\nreport.html\n"), "{now}");
        assert_eq!(
            names(&out),
            [MARKER, "a.csv", "report.html"],
            "no temporary left"
        );
    }

    #[test]
    fn leftovers_are_told_by_their_names() {
        let p = ".out.v2.tradesim-";
        assert_eq!(leftover(".out.v2.tradesim-42", p), Some((42, false)));
        assert_eq!(leftover(".out.v2.tradesim-42.old", p), Some((42, true)));
        assert_eq!(leftover(".out.v2.tradesim-42.old3", p), Some((42, true)));
        for other in [
            ".out.v2.tradesim-claim",
            ".out.v2.tradesim-42.older",
            ".out.v2.tradesim-42.tmp",
            ".out.v2.old",
            "out.v2",
        ] {
            assert_eq!(leftover(other, p), None, "{other}");
        }
        let staging = Path::new("/x/.out.v2.tradesim-42");
        assert_eq!(free_aside(staging), Path::new("/x/.out.v2.tradesim-42.old"));
    }
}

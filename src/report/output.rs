//! Output directories written whole or not at all.
//!
//! Every file of a run is written into a hidden staging directory beside the destination
//! (`<parent>/.<name>.tradesim-<pid>`). Only when all are written is the staging directory
//! renamed to the destination. A destination that already holds files is replaced only with
//! `--force` (it is first moved aside, then removed after the rename). A failed or interrupted
//! run removes its staging directory (the binary's SIGINT/SIGTERM handler calls
//! [`abandon_all`]); after a `kill -9` the hidden staging directory is left and the next run
//! into the same destination removes it.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Staging directories in use, for the signal handler.
static ACTIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remove every staging directory in use (called on SIGINT/SIGTERM before exiting).
pub fn abandon_all() {
    if let Ok(list) = ACTIVE.lock() {
        for p in list.iter() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// An output directory being written.
#[derive(Debug)]
pub struct OutputDir {
    staging: PathBuf,
    dest: PathBuf,
    committed: bool,
}

fn staging_prefix(dest: &Path) -> Result<(PathBuf, String)> {
    let name = dest
        .file_name()
        .ok_or_else(|| {
            Error::invalid(
                dest.display().to_string(),
                "the output directory needs a name (not `.` or `/`)",
            )
        })?
        .to_string_lossy()
        .to_string();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, format!(".{name}.tradesim-")))
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

impl OutputDir {
    /// Start writing `dest`. Refuses a non-empty existing `dest` unless `force`; checks that
    /// the parent exists and is writable; removes staging left by killed runs.
    pub fn begin(dest: &Path, force: bool) -> Result<OutputDir> {
        let (parent, prefix) = staging_prefix(dest)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        if dest.exists() {
            if !dest.is_dir() {
                return Err(Error::invalid(
                    dest.display().to_string(),
                    "exists and is not a directory; choose another --out",
                ));
            }
            let non_empty = std::fs::read_dir(dest)
                .map_err(|e| Error::io(dest, e))?
                .next()
                .is_some();
            if non_empty && !force {
                return Err(Error::invalid(
                    dest.display().to_string(),
                    "the output directory exists and is not empty; choose another --out or pass --force to replace it",
                ));
            }
        }
        // Staging of runs that were killed (their process is gone).
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if let Some(pid) = n
                    .strip_prefix(&prefix)
                    .and_then(|p| p.split('.').next())
                    .and_then(|p| p.parse::<u32>().ok())
                {
                    if !pid_alive(pid) {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let staging = parent.join(format!("{prefix}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        if let Ok(mut l) = ACTIVE.lock() {
            l.push(staging.clone());
        }
        Ok(OutputDir {
            staging,
            dest: dest.to_path_buf(),
            committed: false,
        })
    }

    /// Where to write the file `name` now.
    pub fn path(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// Write a whole file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let p = self.path(name);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, e))
    }

    /// The staging directory (for writers that take a directory).
    pub fn staging_dir(&self) -> &Path {
        &self.staging
    }

    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Put the staged files in place.
    pub fn commit(mut self) -> Result<()> {
        let aside = if self.dest.exists() {
            let aside = self.staging.with_extension("old");
            std::fs::rename(&self.dest, &aside).map_err(|e| Error::io(&self.dest, e))?;
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.staging, &self.dest) {
            if let Some(a) = &aside {
                let _ = std::fs::rename(a, &self.dest);
            }
            return Err(Error::io(&self.dest, e));
        }
        if let Some(a) = aside {
            let _ = std::fs::remove_dir_all(a);
        }
        self.committed = true;
        self.forget();
        Ok(())
    }

    fn forget(&self) {
        if let Ok(mut l) = ACTIVE.lock() {
            l.retain(|p| p != &self.staging);
        }
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            self.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_or_nothing_and_force() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out");
        {
            let o = OutputDir::begin(&dest, false).unwrap();
            o.write("a.csv", b"x").unwrap();
            // Dropped without commit: nothing appears, no staging is left.
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        let o = OutputDir::begin(&dest, false).unwrap();
        o.write("a.csv", b"1").unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read(dest.join("a.csv")).unwrap(), b"1");
        let e = OutputDir::begin(&dest, false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        let o = OutputDir::begin(&dest, true).unwrap();
        o.write("b.csv", b"2").unwrap();
        o.commit().unwrap();
        assert!(!dest.join("a.csv").exists() && dest.join("b.csv").exists());
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            1,
            "no staging or old directory left"
        );
    }
}

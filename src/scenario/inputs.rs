//! The files a scenario or batch is made from, with the SHA-256 of their bytes, so that an
//! output can say which inputs made it and `merge` can refuse shards made from different ones
//! (a scenario edited between two shards, a baseline rebuilt).
//!
//! The inputs of a scenario ([`super::Scenario::inputs`]): every file of its `extends` chain,
//! the estimate files its elasticities, depth effects and investment block name, its FDI stocks
//! file, the files of the reference path it is compared with (`compared_with: Reference(..)`),
//! and its baseline directory, which stands for its `*.csv` files (all the loaders' files
//! are CSV; taking the whole directory keeps the list right when a loader learns a new optional
//! file). A batch adds its own file and its `from_estimate` file.
//!
//! SHA-256 (the `sha2` crate, RustCrypto) rather than a fast non-cryptographic hash such as
//! FNV or xxHash: the cost is negligible next to one solve (hundreds of MB/s; the built-in
//! world's files are 0.3 MB), and a collision-resistant digest means two different files can
//! never be taken for the same input, deliberately or not.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One input file and the digest of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// The file, absolute with symbolic links resolved (the same file has one spelling).
    pub path: String,
    /// SHA-256 of the file's bytes, in lowercase hexadecimal.
    pub sha256: String,
}

/// SHA-256 of `bytes` in lowercase hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The absolute, symlink-free spelling of an existing file.
pub(crate) fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize().map_err(|e| Error::io(path, e))
}

/// Read and hash one file.
pub(crate) fn hash_file(path: &Path) -> Result<InputFile> {
    let path = canonical(path)?;
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Ok(InputFile {
        path: path.display().to_string(),
        sha256: sha256_hex(&bytes),
    })
}

/// The files an input path stands for: a file itself; for a directory (a baseline's), its
/// `*.csv` files sorted by name; nothing for a path that does not exist (an estimate file named
/// by a file of the `extends` chain but overridden, so never read).
pub(crate) fn files_of(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "csv"))
            .collect();
        files.sort();
        Ok(files)
    } else if path.exists() {
        Ok(vec![path.to_path_buf()])
    } else {
        Ok(Vec::new())
    }
}

/// Hash the files the input paths stand for ([`files_of`]), each once (where it is first
/// named), in the order given.
pub(crate) fn hash_inputs(paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut out: Vec<InputFile> = Vec::new();
    for p in paths {
        for f in files_of(p)? {
            let f = hash_file(&f)?;
            if !out.iter().any(|x| x.path == f.path) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest of a file as it is now, or `None` when it cannot be read.
    fn current_sha256(path: &str) -> Option<String> {
        std::fs::read(path).ok().map(|b| sha256_hex(&b))
    }

    #[test]
    fn sha256_of_known_strings() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn files_are_hashed_once_under_one_spelling_and_absent_ones_skipped() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.ron");
        std::fs::write(&a, "abc").unwrap();
        let other = d.path().join("sub/../a.ron");
        std::fs::create_dir(d.path().join("sub")).unwrap();
        let h = hash_inputs(&[a.clone(), other, d.path().join("absent.json")]).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].sha256, sha256_hex(b"abc"));
        assert_eq!(current_sha256(&h[0].path), Some(h[0].sha256.clone()));
        std::fs::write(&a, "abd").unwrap();
        assert_ne!(current_sha256(&h[0].path), Some(h[0].sha256.clone()));
    }

    #[test]
    fn a_directory_stands_for_its_csv_files() {
        let d = tempfile::tempdir().unwrap();
        for f in ["b.csv", "a.csv", "README.md"] {
            std::fs::write(d.path().join(f), f).unwrap();
        }
        std::fs::create_dir(d.path().join("sub.csv")).unwrap();
        let names: Vec<String> = files_of(d.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["a.csv", "b.csv"]);
    }
}

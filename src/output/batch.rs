//! Batch outputs: the tables only a batch writes (`failures.csv`, `bilateral_summary.csv`,
//! `manifest.json`), the CSV files streamed into the staging directory while the batch runs
//! (`Staged`), and `merge`, which combines shard outputs into the files a single run writes.
//! The batch loop itself is [`crate::simulate::batch::run_batch`].
//!
//! Files: `economies.csv`, `solver.csv`, `failures.csv`, `quotas.csv` (per draw), `bilateral.csv`
//! (per `--bilateral`), `bilateral_summary.csv` (with `--bilateral summary`), `summary.csv`,
//! `manifest.json`. Everything is written under temporary names and renamed into place at the
//! end, so an interrupted or failed batch leaves no partial table.

use super::staging::OutputDir;
use super::summary::DrawSpill;
pub use super::summary::SummaryRow;
use super::{csv_header, to_csv, EconomyRow};
use crate::error::{Error, Result};
use crate::scenario::inputs::InputFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Bytes of per-draw values the summary holds at a time (it reads the spill file in chunks).
pub(crate) const SUMMARY_BUDGET: usize = 4 << 20;

/// What to keep of the per-draw bilateral tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BilateralMode {
    /// No bilateral table.
    None,
    /// The central run (draw 0) only.
    Central,
    /// The central run, and mean, sd, min and max over draws per cell (streaming).
    Summary,
    /// Every draw (large).
    All,
}

impl std::str::FromStr for BilateralMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(BilateralMode::None),
            "central" => Ok(BilateralMode::Central),
            "summary" => Ok(BilateralMode::Summary),
            "all" => Ok(BilateralMode::All),
            other => Err(format!("`{other}`: write none, central, summary or all")),
        }
    }
}

/// What a batch (or shard) directory holds, for `merge`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Manifest {
    pub batch: String,
    /// The version of tradesim that wrote the directory.
    #[serde(default)]
    pub tradesim_version: String,
    /// The batch file (absolute).
    #[serde(default)]
    pub batch_file: String,
    /// The files the batch was made from, with the SHA-256 of their bytes when it was loaded
    /// (`scenario::inputs`): shards are merged only when these agree.
    #[serde(default)]
    pub inputs: Vec<InputFile>,
    pub shard: usize,
    pub shards: usize,
    pub first_unit: usize,
    pub end_unit: usize,
    pub total_units: usize,
    pub draws: u32,
    pub seed: u64,
    pub scenarios: Vec<String>,
    /// Economy codes per scenario, in baseline order.
    pub economies: Vec<Vec<String>>,
    /// Per scenario, what its percent changes are against: `base_year` or `reference`
    /// (absent in manifests written before it existed: `base_year`).
    #[serde(default)]
    pub compared_with: Vec<String>,
    pub focus: Vec<String>,
    pub bilateral: String,
}

/// A row of `failures.csv`: a draw of a scenario that did not solve (the batch goes on with
/// the others; `summary.csv` counts it in `failed`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FailureRow {
    /// The scenario's name.
    pub scenario: String,
    /// The draw that failed (0: the central run).
    pub draw: u32,
    /// The error, as the command line prints it (what failed, where, how to fix it).
    pub reason: String,
}

/// A row of `bilateral_summary.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct BilateralSummaryRow {
    pub scenario: String,
    pub year: i32,
    pub exporter: String,
    pub importer: String,
    pub sector: String,
    pub draws: u64,
    pub mean_change_pct: f64,
    pub sd_change_pct: f64,
    pub min_change_pct: f64,
    pub max_change_pct: f64,
}

/// A CSV file of `R` rows being written into the staging directory. A file that got no row
/// still gets its header.
pub(crate) struct Staged<R> {
    name: &'static str,
    dest: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: usize,
    row_type: std::marker::PhantomData<R>,
}

impl<R: Serialize + Default> Staged<R> {
    pub(crate) fn new(out: &OutputDir, name: &'static str) -> Result<Staged<R>> {
        let dest = out.path(name);
        let f = File::create(&dest).map_err(|e| Error::io(&dest, e))?;
        Ok(Staged {
            name,
            dest,
            writer: csv::Writer::from_writer(BufWriter::new(f)),
            rows: 0,
            row_type: std::marker::PhantomData,
        })
    }
    /// Write a row: an `R`, or a row that serialises as one (a borrowed view of it).
    pub(crate) fn write<S: Serialize>(&mut self, r: &S) -> Result<()> {
        self.rows += 1;
        super::finite::check_row(self.name, self.rows, r)?;
        self.writer
            .serialize(r)
            .map_err(|e| Error::invalid(self.dest.display().to_string(), e.to_string()))
    }
    /// Flush the file (writing the header if no row came) and return its name.
    pub(crate) fn finish(mut self) -> Result<String> {
        let fail = |e: String| Error::invalid(self.dest.display().to_string(), e);
        if self.rows == 0 {
            self.writer
                .write_record(csv_header::<R>())
                .map_err(|e| fail(e.to_string()))?;
        }
        let mut inner = self.writer.into_inner().map_err(|e| fail(e.to_string()))?;
        std::io::Write::flush(&mut inner).map_err(|e| Error::io(&self.dest, e))?;
        Ok(self.name.to_string())
    }
}

/// What a finished batch (or a merge of its shards) reports.
#[derive(Debug)]
pub struct BatchReport {
    /// Count of units (scenario × draw) run: this shard's, or the whole batch's for a batch
    /// run whole or merged.
    pub units: usize,
    /// The draws that failed, the rows of `failures.csv`.
    pub failed: Vec<FailureRow>,
    /// The rows of `summary.csv`: percentiles over draws per scenario, year, economy and
    /// measure.
    pub summary: Vec<SummaryRow>,
    /// The names of the files written into the output directory.
    pub files: Vec<String>,
}

/// A shard of a batch run that has to be run again before the shards can be merged, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rerun {
    /// The shard number (1-based).
    pub shard: usize,
    /// The shard's output directory, as given to the merge.
    pub dir: PathBuf,
    /// Why: its directory holds no finished output (the shard failed, was cancelled or is still
    /// running), holds another shard or batch, or was run on other inputs than the rest.
    pub reason: String,
}

/// The JSON file `name` of `dir` as a `T`; when it is absent, an error on `dir` with
/// `missing` (what that means and what to do); when it does not parse, one that it is not `kind`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    missing: &str,
    kind: &str,
) -> Result<T> {
    let p = dir.join(name);
    let text = std::fs::read_to_string(&p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::invalid(dir.display().to_string(), missing)
        } else {
            Error::io(&p, e)
        }
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::invalid(p.display().to_string(), format!("not {kind}: {e}")))
}

/// The manifest of a shard directory; an error that says the shard did not finish when the
/// directory or its manifest is absent (a shard's directory appears only when it finishes).
fn read_manifest(dir: &Path) -> Result<Manifest> {
    read_json(
        dir,
        "manifest.json",
        "holds no manifest.json: not the output of a finished batch or shard (a shard's directory appears only when the shard has finished); run the shard again",
        "a tradesim manifest",
    )
}

/// The digests of a run's inputs by file.
fn digests(inputs: &[InputFile]) -> BTreeMap<&str, &str> {
    inputs
        .iter()
        .map(|i| (i.path.as_str(), i.sha256.as_str()))
        .collect()
}

/// The first 12 hexadecimal digits of a digest, enough to tell two apart in a message.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// How the run of `shard` differs from a reference run (tradesim's version and the digests of
/// its inputs, described by `of`: "now", "in shard 1"), or `None` when it does not.
fn input_difference(
    shard: &Manifest,
    version: &str,
    reference: &BTreeMap<&str, &str>,
    of: &str,
) -> Option<String> {
    if shard.inputs.is_empty() {
        return Some(
            "its manifest records no input digests (an older tradesim wrote it)".to_string(),
        );
    }
    if shard.tradesim_version != version {
        return Some(format!(
            "tradesim {} wrote it; tradesim {version} {of}",
            shard.tradesim_version
        ));
    }
    let mine = digests(&shard.inputs);
    for (path, h) in &mine {
        match reference.get(path) {
            Some(r) if r == h => {}
            Some(r) => {
                return Some(format!(
                    "input {path} differs: SHA-256 {}… in this shard, {}… {of}",
                    short(h),
                    short(r)
                ))
            }
            None => {
                return Some(format!(
                    "{path} was an input of this shard, but is not one {of}"
                ))
            }
        }
    }
    reference
        .keys()
        .find(|p| !mine.contains_key(*p))
        .map(|p| format!("{p} is an input {of}, but was not one of this shard"))
}

/// Shards whose inputs differ from the others'. When the shards disagree, the reference is
/// the batch's inputs as they are now (the batch file loaded again), so the shards named are
/// those a rerun would change; when the batch no longer loads, it is the lowest shard's.
/// Shards that all agree are merged even when a file has changed since they ran (the merged
/// manifest records the digests they were run with).
fn stale_shards(manifests: &[(PathBuf, Manifest)]) -> Vec<Rerun> {
    let Some((_, first)) = manifests.first() else {
        return Vec::new();
    };
    let agree = manifests.iter().all(|(_, m)| {
        !m.inputs.is_empty()
            && m.tradesim_version == first.tradesim_version
            && digests(&m.inputs) == digests(&first.inputs)
    });
    if agree {
        return Vec::new();
    }
    let now = crate::scenario::batch::load(Path::new(&first.batch_file))
        .ok()
        .map(|b| b.input_digests);
    let (reference, version, of) = match &now {
        Some(inputs) => (
            digests(inputs),
            env!("CARGO_PKG_VERSION").to_string(),
            "now".to_string(),
        ),
        None => match manifests.iter().find(|(_, m)| !m.inputs.is_empty()) {
            Some((_, m)) => (
                digests(&m.inputs),
                m.tradesim_version.clone(),
                format!("in shard {}", m.shard),
            ),
            None => (BTreeMap::new(), String::new(), String::new()),
        },
    };
    manifests
        .iter()
        .filter_map(|(d, m)| {
            input_difference(m, &version, &reference, &of).map(|reason| Rerun {
                shard: m.shard,
                dir: d.clone(),
                reason: format!("it was run on other inputs: {reason}"),
            })
        })
        .collect()
}

/// The shards of a batch run that must be run again before they can be merged: `dirs[k - 1]`
/// is the directory of shard k. A shard must be rerun when its directory holds no finished
/// output (it failed, was cancelled, or is still running), when it holds another shard or
/// batch, or when it was run on other inputs than the rest ([`stale_shards`]).
pub(crate) fn shards_to_rerun(dirs: &[PathBuf]) -> Vec<Rerun> {
    let n = dirs.len();
    let mut rerun = Vec::new();
    let mut done = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        let k = i + 1;
        let why = match read_manifest(d) {
            Err(_) if !d.join("manifest.json").exists() => {
                "it has not finished: its directory holds no complete output (it failed, was cancelled or timed out, or is still running)".to_string()
            }
            Err(e) => format!("its manifest cannot be read: {e}"),
            Ok(m) if m.shard != k || m.shards != n => format!(
                "its directory holds shard {} of {}, not shard {k} of {n}",
                m.shard, m.shards
            ),
            Ok(m) => {
                done.push((d.clone(), m));
                continue;
            }
        };
        rerun.push(Rerun {
            shard: k,
            dir: d.clone(),
            reason: why,
        });
    }
    rerun.extend(stale_shards(&done));
    rerun.sort_by_key(|r| r.shard);
    rerun
}

/// The shard numbers, compactly: `1-3,5`.
pub(crate) fn shard_list(shards: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < shards.len() {
        let mut j = i;
        while j + 1 < shards.len() && shards[j + 1] == shards[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}-{}", shards[i], shards[j])
        } else {
            shards[i].to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Merge shard directories into `out`: the same files a single run of the whole batch writes.
/// Refuses shards of different batches or runs, a shard missing or given twice, and shards
/// run on different inputs (naming the shard, the input and the fix).
pub(crate) fn merge(dirs: &[PathBuf], out: &OutputDir) -> Result<BatchReport> {
    if dirs.is_empty() {
        return Err(Error::invalid(
            "merge",
            "name the shard directories to merge",
        ));
    }
    let mut manifests = Vec::new();
    for d in dirs {
        manifests.push((d.clone(), read_manifest(d)?));
    }
    manifests.sort_by_key(|(_, m)| m.shard);
    let first = manifests[0].1.clone();
    for (d, m) in &manifests {
        if m.batch != first.batch
            || m.shards != first.shards
            || m.total_units != first.total_units
            || m.scenarios != first.scenarios
            || m.draws != first.draws
            || m.seed != first.seed
            || m.bilateral != first.bilateral
        {
            return Err(Error::invalid(d.display().to_string(), format!("this shard belongs to another batch or run (batch `{}`, {} shards) than {} (batch `{}`, {} shards)", m.batch, m.shards, manifests[0].0.display(), first.batch, first.shards)));
        }
    }
    let have: Vec<usize> = manifests.iter().map(|(_, m)| m.shard).collect();
    let want: Vec<usize> = (1..=first.shards).collect();
    if have != want {
        return Err(Error::invalid(
            "merge",
            format!(
                "shards {have:?} given; all of 1..={} are needed, once each",
                first.shards
            ),
        ));
    }
    let stale = stale_shards(&manifests);
    if !stale.is_empty() {
        let mut msg =
            "the shards were not all run on the same inputs, so their draws cannot be combined:"
                .to_string();
        for r in &stale {
            msg.push_str(&format!(
                "\n  shard {}/{} ({}): {}",
                r.shard,
                first.shards,
                r.dir.display(),
                r.reason
            ));
        }
        let list: Vec<usize> = stale.iter().map(|r| r.shard).collect();
        msg.push_str(&format!(
            "\nrun shard(s) {} of {} again on the inputs as they are now (the same command and shard number, replacing the shard's directory), then merge again",
            shard_list(&list),
            first.shards
        ));
        return Err(Error::invalid("merge", msg));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut spill = DrawSpill::create(&out.path(".draws.spill"), first.scenarios.len())?;
    let mut failures: Vec<FailureRow> = Vec::new();
    for name in [
        "economies.csv",
        "solver.csv",
        "quotas.csv",
        "failures.csv",
        "investment.csv",
        "bilateral.csv",
    ] {
        let mut body: Vec<u8> = Vec::new();
        let mut header: Option<Vec<u8>> = None;
        let mut present = false;
        for (d, _) in &manifests {
            let p = d.join(name);
            if !p.exists() {
                continue;
            }
            present = true;
            let text = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
            let nl = text
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |x| x + 1);
            let (h, rest) = text.split_at(nl);
            if header.is_none() || header.as_deref() == Some(b"\n".as_slice()) {
                header = Some(h.to_vec());
            }
            body.extend_from_slice(rest);
        }
        if !present {
            continue;
        }
        let mut all = header.unwrap_or_default();
        all.extend(body);
        if name == "economies.csv" {
            let mut rdr = csv::Reader::from_reader(all.as_slice());
            // Rows of one scenario × draw unit are consecutive; each unit goes to the spill.
            let mut unit: Vec<EconomyRow> = Vec::new();
            let mut unit_key: Option<(usize, u32)> = None;
            for (row, r) in rdr.deserialize::<EconomyRow>().enumerate() {
                let r = r.map_err(|e| {
                    Error::data(
                        out.dest().join(name),
                        row + 2,
                        format!("merged economies.csv: {e}"),
                    )
                })?;
                let s = first
                    .scenarios
                    .iter()
                    .position(|x| x == &r.scenario)
                    .ok_or_else(|| {
                        Error::data(
                            out.dest().join(name),
                            row + 2,
                            format!("scenario `{}` is not in the manifest", r.scenario),
                        )
                    })?;
                if unit_key.is_some_and(|k| k != (s, r.draw)) {
                    let (ks, kd) = unit_key.expect("checked");
                    spill.push(ks, kd, &unit)?;
                    unit.clear();
                }
                unit_key = Some((s, r.draw));
                unit.push(r);
            }
            if let Some((ks, kd)) = unit_key {
                spill.push(ks, kd, &unit)?;
            }
        }
        if name == "failures.csv" {
            let mut rdr = csv::Reader::from_reader(all.as_slice());
            for r in rdr.deserialize::<FailureRow>() {
                failures.push(r.map_err(|e| Error::invalid("failures.csv", e.to_string()))?);
            }
        }
        files.push((name.to_string(), all));
    }
    let failed_count: Vec<usize> = first
        .scenarios
        .iter()
        .map(|s| failures.iter().filter(|f| &f.scenario == s).count())
        .collect();
    let mut summary = spill.summarise(
        &first.scenarios,
        &first.economies,
        &failed_count,
        SUMMARY_BUDGET,
    )?;
    super::summary::label_comparisons(&mut summary, &first.scenarios, &first.compared_with);
    files.push(("summary.csv".into(), to_csv(&summary)?));
    let manifest = Manifest {
        shard: 1,
        shards: 1,
        first_unit: 0,
        end_unit: first.total_units,
        ..first.clone()
    };
    files.push((
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::invalid("manifest.json", e.to_string()))?,
    ));
    // The scenarios' settings for the report: the same in every shard (made from the same
    // inputs), so the first shard's.
    let meta = manifests[0].0.join(super::meta::FILE);
    if meta.exists() {
        let bytes = std::fs::read(&meta).map_err(|e| Error::io(&meta, e))?;
        files.push((super::meta::FILE.to_string(), bytes));
    }
    for (name, bytes) in &files {
        out.write(name, bytes)?;
    }
    Ok(BatchReport {
        units: first.total_units,
        failed: failures,
        summary,
        files: files.into_iter().map(|(n, _)| n).collect(),
    })
}

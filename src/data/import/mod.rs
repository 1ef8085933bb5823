//! Importers of the datasets economists use, each writing the documented tidy baseline format
//! (`docs/baseline-format.md`) or a file `tradesim estimate` reads (`docs/import.md`):
//!
//! - [`icio`]: the OECD Inter-Country Input-Output tables (2021 and 2023 edition CSV);
//! - [`baci`]: CEPII BACI (`t,i,j,k,v,q`, HS92 … HS22) with its country-code file;
//! - [`wits`]: WITS/TRAINS tariff downloads (MFN and preferential) into sector rates;
//! - [`gravity`]: the CEPII Gravity dataset's covariates for `tradesim estimate`.
//!
//! Mappings are plain files ([`SectorMap`]: HS or ICIO industry → sector; [`RegionMap`]:
//! economy → region, every other economy into `ROW`), with shipped defaults for the built-in
//! world's four sectors in `data/mappings/`. Importers never guess: an unmapped code, a
//! duplicate row, a value that is not a number or a file in another layout is an error naming
//! the file, the row and the fix. Large files stream ([`Stream`]): memory is bounded by the
//! output's size, not the input's, and progress is reported in bytes read.

pub(crate) mod baci;
pub(crate) mod gravity;
pub(crate) mod icio;
pub(crate) mod wits;

use super::csvio::{self, Table};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where the rest of the world goes.
pub(crate) const ROW: &str = "ROW";

/// A sector of the output with its trade elasticity (`sectors.csv` of a mapping directory).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SectorDef {
    pub code: String,
    pub name: String,
    pub theta: f64,
}

/// Reads `code,name,theta` (the output's sectors).
pub(crate) fn read_sectors(path: &Path) -> Result<Vec<SectorDef>> {
    let t = Table::read(path)?;
    let (c, n, th) = (t.column("code")?, t.column("name")?, t.column("theta")?);
    let mut out: Vec<SectorDef> = Vec::new();
    for row in &t.rows {
        let code = t.text(row, c)?.to_string();
        if out.iter().any(|s| s.code == code) {
            return Err(Error::data(
                &t.path,
                row.0,
                format!("sector `{code}` is declared twice; keep one row"),
            ));
        }
        let theta = t.number(row, th, "theta")?;
        if theta <= 0.0 {
            return Err(Error::data(&t.path, row.0, "theta must be positive"));
        }
        out.push(SectorDef {
            code,
            name: t.text(row, n)?.to_string(),
            theta,
        });
    }
    Ok(out)
}

/// Source code (HS prefix or ICIO industry) → sector. With `prefixes`, a code matches the
/// longest listed prefix (HS: a 2-digit chapter, a 4-digit heading or a 6-digit subheading);
/// otherwise codes match exactly.
#[derive(Debug, Clone)]
pub(crate) struct SectorMap {
    pub path: PathBuf,
    map: HashMap<String, usize>,
    prefixes: bool,
}

impl SectorMap {
    /// Reads a two-column file `KEY,sector` (KEY is `hs` or `industry`); every sector must be
    /// one of `sectors`.
    pub(crate) fn read(
        path: &Path,
        key: &str,
        sectors: &[SectorDef],
        prefixes: bool,
    ) -> Result<Self> {
        let t = Table::read(path)?;
        let (ck, cs) = (t.column(key)?, t.column("sector")?);
        let mut map = HashMap::new();
        for row in &t.rows {
            let k = t.text(row, ck)?.to_string();
            let s = t.text(row, cs)?;
            let j = sectors.iter().position(|d| d.code == s).ok_or_else(|| {
                Error::data(
                    &t.path,
                    row.0,
                    format!(
                        "sector `{s}` is not one of the output's sectors ({}); correct it or add it to sectors.csv",
                        sectors.iter().map(|d| d.code.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            if prefixes && !(k.len() == 2 || k.len() == 4 || k.len() == 6)
                || prefixes && !k.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    format!("HS code `{k}` must be 2, 4 or 6 digits (a chapter, heading or subheading, leading zeros kept)"),
                ));
            }
            if map.insert(k.clone(), j).is_some() {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    format!("`{k}` is mapped twice; keep one row"),
                ));
            }
        }
        Ok(SectorMap {
            path: path.to_path_buf(),
            map,
            prefixes,
        })
    }

    /// The sector of `code`, if mapped.
    pub(crate) fn get(&self, code: &str) -> Option<usize> {
        if !self.prefixes {
            return self.map.get(code).copied();
        }
        [6, 4, 2]
            .iter()
            .filter(|&&n| code.len() >= n)
            .find_map(|&n| self.map.get(&code[..n]).copied())
    }

    /// Whether some code maps to sector `j` (HS: whether `j` is a goods sector).
    pub(crate) fn maps_to(&self, j: usize) -> bool {
        self.map.values().any(|&k| k == j)
    }

    /// The error for an unmapped code at `file`, `row`.
    pub(crate) fn unmapped(&self, file: &Path, row: usize, code: &str) -> Error {
        Error::data(
            file,
            row,
            format!(
                "code `{code}` has no sector in {}; add a row for it (or its {}) there",
                self.path.display(),
                if self.prefixes {
                    "chapter or heading"
                } else {
                    "industry"
                }
            ),
        )
    }
}

/// Economy (ISO3) → region of the output; economies not listed go to `ROW`.
#[derive(Debug, Clone)]
pub(crate) struct RegionMap {
    pub path: PathBuf,
    map: HashMap<String, usize>,
    /// Region codes in output order (first appearance in the file), `ROW` last.
    pub regions: Vec<String>,
    /// Region names (the `name` column, or the code).
    pub names: Vec<String>,
    /// Every economy of the file with its line, in file order.
    rows: Vec<(String, usize)>,
}

impl RegionMap {
    /// Reads `economy,region` and optionally `name` (the region's name).
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let t = Table::read(path)?;
        let (ce, cr) = (t.column("economy")?, t.column("region")?);
        let cn = t.optional_column("name");
        let mut map = HashMap::new();
        let mut regions: Vec<String> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        for row in &t.rows {
            let e = t.text(row, ce)?.to_string();
            rows.push((e.clone(), row.0));
            let r = t.text(row, cr)?.to_string();
            if r == ROW {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    "every economy not listed goes to ROW; remove the row rather than mapping to ROW",
                ));
            }
            if r.is_empty() || r.contains(char::is_whitespace) {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    format!("region code `{r}` must be non-empty without spaces"),
                ));
            }
            let k = match regions.iter().position(|x| *x == r) {
                Some(k) => k,
                None => {
                    regions.push(r.clone());
                    names.push(match cn {
                        Some(c) if !t.text(row, c)?.is_empty() => t.text(row, c)?.to_string(),
                        _ => r.clone(),
                    });
                    regions.len() - 1
                }
            };
            if map.insert(e.clone(), k).is_some() {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    format!("economy `{e}` is mapped twice; keep one row"),
                ));
            }
        }
        regions.push(ROW.into());
        names.push("Rest of the world".into());
        Ok(RegionMap {
            path: path.to_path_buf(),
            map,
            regions,
            names,
            rows,
        })
    }

    /// Refuses an economy of the file that is not one of `known` (the codes of `source`, the
    /// country file or the table, with their names where `source` gives them): a mistyped code
    /// would leave its region without data and book the economy's trade to ROW. The error
    /// names the first such row and the codes meant most likely ([`RegionMap::meant`]), and
    /// lists every other such economy with its row, so that one run names all of them.
    pub(crate) fn check_economies(&self, known: &[(&str, &str)], source: &Path) -> Result<()> {
        let codes: Vec<&str> = known.iter().map(|k| k.0).collect();
        let missing: Vec<&(String, usize)> = self
            .rows
            .iter()
            .filter(|(e, _)| !codes.contains(&e.as_str()))
            .collect();
        // The others missing too, so that one run names every row to correct or remove.
        let others = match missing.get(1..) {
            Some(rest) if !rest.is_empty() => format!(
                " (also not in it: {})",
                rest.iter()
                    .map(|(e, row)| format!("`{e}` at row {row}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        if let Some((e, row)) = missing.first() {
            let meant = self.meant(e, known);
            let hint = if meant.is_empty() {
                let s = crate::error::suggestion(e, &codes, "codes");
                if s.ends_with('?') {
                    s
                } else {
                    format!("{s}.")
                }
            } else {
                format!(
                    "did you mean {}?",
                    meant
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            };
            return Err(Error::data(
                &self.path,
                *row,
                format!(
                    "economy `{e}` is not an ISO3 code of {}; {hint} Correct the code, or remove the row if the data do not cover this economy{others}",
                    source.display(),
                ),
            ));
        }
        Ok(())
    }

    /// The codes of `known` (code, name) that the unknown economy `e` most likely means, best
    /// first, at most three: its row's region when that is a known code (`JAP,JPN`), codes
    /// whose name starts with it (`JAP`: Japan), then codes a small edit away
    /// ([`crate::error::did_you_mean`]).
    fn meant<'k>(&self, e: &str, known: &[(&'k str, &'k str)]) -> Vec<&'k str> {
        let region = &self.regions[self.map[e]];
        let lower = e.to_lowercase();
        let mut meant: Vec<&str> = known
            .iter()
            .filter(|k| k.0 == region)
            .chain(
                known
                    .iter()
                    .filter(|k| !k.1.is_empty() && k.1.to_lowercase().starts_with(&lower)),
            )
            .map(|k| k.0)
            .collect();
        meant.extend(crate::error::did_you_mean(e, known.iter().map(|k| k.0)));
        let mut seen = std::collections::HashSet::new();
        meant.retain(|c| seen.insert(*c));
        meant.truncate(3);
        meant
    }

    /// Refuses an output region that receives none of `present` (the economies that have data
    /// in `source`): it would be written with no trade and no output of its own.
    pub(crate) fn check_filled(&self, present: &[&str], source: &Path) -> Result<()> {
        let mut filled = vec![false; self.len()];
        for e in present {
            filled[self.get(e)] = true;
        }
        let Some(r) = filled.iter().position(|f| !f) else {
            return Ok(());
        };
        let region = &self.regions[r];
        if region == ROW {
            return Err(Error::invalid(
                self.path.display().to_string(),
                format!(
                    "every economy with data in {} is listed here, so the output region ROW receives none; leave at least one economy out of the file (it goes to ROW)",
                    source.display()
                ),
            ));
        }
        let members: Vec<&(String, usize)> =
            self.rows.iter().filter(|(e, _)| self.get(e) == r).collect();
        Err(Error::data(
            &self.path,
            members.first().map_or(1, |m| m.1),
            format!(
                "region `{region}` receives no economy with data in {}: {} {} no row there; map an economy that has data to it, or remove the region's rows",
                source.display(),
                members.iter().map(|m| m.0.as_str()).collect::<Vec<_>>().join(", "),
                if members.len() == 1 { "has" } else { "have" }
            ),
        ))
    }
    /// The region index of an economy (ROW when not listed).
    pub(crate) fn get(&self, economy: &str) -> usize {
        self.map
            .get(economy)
            .copied()
            .unwrap_or(self.regions.len() - 1)
    }
    pub(crate) fn len(&self) -> usize {
        self.regions.len()
    }
}

/// A file read as a stream of CSV records, reporting bytes read to a progress callback.
pub(crate) struct Stream<'a> {
    pub path: PathBuf,
    pub header: Vec<String>,
    reader: csv::Reader<Counting<'a>>,
}

/// The file's bytes on their way to the CSV reader: counted for the progress callback, and
/// the line breaks among them kept until the record they precede is placed
/// ([`Counting::line_at`]).
struct Counting<'a> {
    inner: std::io::BufReader<std::fs::File>,
    progress: &'a dyn Fn(u64),
    /// Bytes handed to the CSV reader so far.
    offset: u64,
    /// Offsets of the line breaks (`\n`: true, `\r`: false) handed on and not yet placed.
    breaks: std::collections::VecDeque<(u64, bool)>,
    /// Newlines before the first of `breaks`.
    newlines: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for p in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            self.breaks
                .push_back((self.offset + p as u64, buf[p] == b'\n'));
        }
        self.offset += n as u64;
        (self.progress)(n as u64);
        Ok(n)
    }
}

impl Counting<'_> {
    /// The 1-based line of the record the CSV reader places at byte `start`: the line of the
    /// first byte from there on that is not a line break. (The reader places a record where it
    /// stood after the record before, so before the empty lines it skips.) Starts only grow:
    /// the breaks before `start` are counted and dropped.
    fn line_at(&mut self, start: u64) -> usize {
        let mut at = start;
        while let Some(&(p, newline)) = self.breaks.front() {
            if p > at {
                break;
            }
            if p == at {
                at += 1;
            }
            self.newlines += usize::from(newline);
            self.breaks.pop_front();
        }
        self.newlines + 1
    }
}

impl<'a> Stream<'a> {
    /// Opens `path` (comma-separated, header row, fields trimmed, quotes removed). A file that
    /// is not CSV text (UTF-16, gzip, zip: [`crate::data::csvio::not_csv_text`]), an empty
    /// file and a header separated by `;` or tabs are errors saying so and how to fix them.
    pub(crate) fn open(path: &Path, progress: &'a dyn Fn(u64)) -> Result<Self> {
        use std::io::BufRead as _;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut inner = std::io::BufReader::with_capacity(1 << 20, file);
        let head = inner.fill_buf().map_err(|e| Error::io(path, e))?;
        csvio::check_head(path, head)?;
        let counting = Counting {
            inner,
            progress,
            offset: 0,
            breaks: std::collections::VecDeque::new(),
            newlines: 0,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(counting);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| csvio::csv_error(path, e, 1))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(Error::invalid(
                path.display().to_string(),
                "the file is empty: it has no header row; pass the downloaded CSV file (or download it again)",
            ));
        }
        crate::error::check_separator(path, &header)?;
        Ok(Stream {
            path: path.to_path_buf(),
            header,
            reader,
        })
    }

    /// Requires exactly these columns in this order (the published layout); the error names
    /// the expected columns.
    pub(crate) fn expect_exact(&self, columns: &[&str], what: &str) -> Result<()> {
        if self
            .header
            .iter()
            .map(String::as_str)
            .ne(columns.iter().copied())
        {
            return Err(Error::data(
                &self.path,
                1,
                format!(
                    "this is not {what}: the header is `{}`, expected `{}`",
                    self.header.join(","),
                    columns.join(",")
                ),
            ));
        }
        Ok(())
    }

    /// The positions of required columns (any order, others allowed); the error names all
    /// expected columns.
    pub(crate) fn columns(&self, columns: &[&str], what: &str) -> Result<Vec<usize>> {
        columns
            .iter()
            .map(|c| {
                self.header.iter().position(|h| h == c).ok_or_else(|| {
                    Error::data(
                        &self.path,
                        1,
                        format!(
                            "this is not {what}: no column `{c}`; expected the columns {} (found: {})",
                            columns.join(", "),
                            self.header.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }

    /// The next record and its line in the file, or `None` at the end.
    pub(crate) fn next(&mut self, record: &mut csv::StringRecord) -> Result<Option<usize>> {
        match self.reader.read_record(record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let start = record.position().map_or(0, csv::Position::byte);
                let line = self.reader.get_mut().line_at(start);
                if record.len() != self.header.len() {
                    return Err(Error::data(
                        &self.path,
                        line,
                        format!(
                            "the row has {} fields but the header has {}; every row needs one value per column",
                            record.len(),
                            self.header.len()
                        ),
                    ));
                }
                Ok(Some(line))
            }
            Err(e) => {
                let start = e.position().map_or(0, csv::Position::byte);
                let line = self.reader.get_mut().line_at(start);
                Err(csvio::csv_error(&self.path, e, line))
            }
        }
    }
}

/// A finite non-negative number, or an error naming the file, row and column.
pub(crate) fn number(path: &Path, row: usize, column: &str, text: &str) -> Result<f64> {
    let v: f64 = text.parse().map_err(|_| {
        Error::data(
            path,
            row,
            format!("{column} `{text}` is not a number; fix the value (the published files have numbers here)"),
        )
    })?;
    if !v.is_finite() {
        return Err(Error::data(
            path,
            row,
            format!("{column} is `{text}`; it must be finite"),
        ));
    }
    Ok(v)
}

/// Units of money the importers convert from (the output is in US dollars).
pub(crate) fn unit_factor(path: &Path, row: usize, unit: &str) -> Result<f64> {
    match unit {
        "USD" => Ok(1.0),
        "thousand USD" => Ok(1e3),
        "million USD" => Ok(1e6),
        other => Err(Error::data(
            path,
            row,
            format!("unit `{other}` is not one of USD, thousand USD, million USD; write the unit the values are in"),
        )),
    }
}

/// Bilateral values by (sector, exporter region, importer region), in US dollars.
#[derive(Debug, Clone)]
pub(crate) struct Flows {
    pub regions: usize,
    pub value: Vec<f64>,
}

impl Flows {
    pub(crate) fn new(sectors: usize, regions: usize) -> Self {
        Flows {
            regions,
            value: vec![0.0; sectors * regions * regions],
        }
    }
    #[inline]
    pub(crate) fn idx(&self, j: usize, exporter: usize, importer: usize) -> usize {
        (j * self.regions + exporter) * self.regions + importer
    }
    #[inline]
    pub(crate) fn add(&mut self, j: usize, exporter: usize, importer: usize, v: f64) {
        let k = self.idx(j, exporter, importer);
        self.value[k] += v;
    }
    pub(crate) fn get(&self, j: usize, exporter: usize, importer: usize) -> f64 {
        self.value[self.idx(j, exporter, importer)]
    }
}

/// Sector tariff rates read from a `tariffs.csv` written by the WITS importer.
#[derive(Debug, Clone, Default)]
pub(crate) struct TariffTable {
    /// `(set, sector, exporter, importer) → rate` (fraction).
    pub rates: BTreeMap<(String, String, String, String), f64>,
    pub path: PathBuf,
}

impl TariffTable {
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let t = Table::read(path)?;
        let c: Vec<usize> = ["set", "sector", "exporter", "importer", "tariff"]
            .iter()
            .map(|c| t.column(c))
            .collect::<Result<_>>()?;
        let mut rates = BTreeMap::new();
        for row in &t.rows {
            let key = (
                t.text(row, c[0])?.to_string(),
                t.text(row, c[1])?.to_string(),
                t.text(row, c[2])?.to_string(),
                t.text(row, c[3])?.to_string(),
            );
            let v = t.non_negative(row, c[4], "tariff")?;
            if rates.insert(key, v).is_some() {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    "a second row for this set, sector and pair; keep one",
                ));
            }
        }
        Ok(TariffTable {
            rates,
            path: path.to_path_buf(),
        })
    }
}

/// What a baseline importer produced: the tables of the tidy format, as data.
#[derive(Debug, Clone)]
pub(crate) struct BaselineTables {
    pub regions: Vec<String>,
    pub region_names: Vec<String>,
    pub sectors: Vec<SectorDef>,
    /// Sectors with no international flow by construction (BACI: no HS code maps to them).
    pub non_traded: Vec<bool>,
    pub flows: Flows,
    /// `io[(n*J + j)*J + k]` = input `k`'s cost share in sector `j` of region `n`, and
    /// `va[n*J + j]` the value-added share (ICIO only).
    pub io: Option<(Vec<f64>, Vec<f64>)>,
    /// Final-demand shares `α_n^j`, `[n*J + j]` (ICIO only).
    pub final_demand: Option<Vec<f64>>,
    /// PROVENANCE.md text: sources, command, units, method.
    pub provenance: String,
    /// With tariffs: the sectors that are not goods by an HS mapping (ICIO only).
    pub not_goods: Option<NotGoods>,
}

/// The sectors no HS code maps to in the HS mapping `hs` (SRV by the default mapping).
/// WITS/TRAINS rates are HS goods lines, so a tariff file has no rate for these sectors;
/// [`render_baseline`] gives their international flows tariff 0 and says so.
#[derive(Debug, Clone)]
pub(crate) struct NotGoods {
    pub hs: PathBuf,
    pub sectors: Vec<bool>,
}

impl NotGoods {
    /// The sectors of `sectors` that no code of the HS mapping `hs` maps to.
    pub(crate) fn of(hs: &SectorMap, sectors: usize) -> Self {
        NotGoods {
            hs: hs.path.clone(),
            sectors: (0..sectors).map(|j| !hs.maps_to(j)).collect(),
        }
    }
}

/// A rendered baseline: its files and what the command prints about them.
#[derive(Debug, Clone)]
pub(crate) struct RenderedBaseline {
    pub files: Vec<(String, Vec<u8>)>,
    /// Lines for the printed summary (also written to PROVENANCE.md).
    pub notes: Vec<String>,
}

/// The note for sectors whose international flows got tariff 0 because no HS code maps to
/// them (the tariff file, from HS goods lines, has no rate for them).
fn zero_tariff_note(codes: &[&str], tariffs: &Path, hs: &Path) -> String {
    format!(
        "tariff 0 on the international flows of {} (not goods: no HS code maps to {} in {}, and WITS/TRAINS rates are HS goods lines, so {} has no MFN rate for {})",
        codes.join(", "),
        if codes.len() == 1 { "it" } else { "them" },
        hs.display(),
        tariffs.display(),
        if codes.len() == 1 { "it" } else { "them" },
    )
}

fn fmt(v: f64) -> String {
    format!("{v}")
}

/// Renders the baseline's files, applying `tariffs` (set `mfn` to `flows.csv`, other sets to
/// `tariff_sets.csv`). With tariffs, every international flow of a traded goods sector needs
/// an MFN rate; a missing one is an error naming the cell. A sector that is not goods
/// ([`BaselineTables::not_goods`]) without a rate gets tariff 0, named in the notes and in
/// PROVENANCE.md.
pub(crate) fn render_baseline(
    b: &BaselineTables,
    tariffs: Option<&TariffTable>,
) -> Result<RenderedBaseline> {
    let (nn, jj) = (b.regions.len(), b.sectors.len());
    let mut files = Vec::new();
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::invalid("CSV", e.to_string());
    w.write_record(["code", "name"]).map_err(csv_err)?;
    for (c, n) in b.regions.iter().zip(&b.region_names) {
        w.write_record([c, n]).map_err(csv_err)?;
    }
    files.push((
        "economies.csv".to_string(),
        w.into_inner()
            .map_err(|e| Error::invalid("CSV", e.to_string()))?,
    ));
    let mut s = String::from("code,name,theta,traded\n");
    for (j, d) in b.sectors.iter().enumerate() {
        let _ = writeln!(
            s,
            "{},\"{}\",{},{}",
            d.code,
            d.name.replace('"', "\"\""),
            d.theta,
            !b.non_traded[j]
        );
    }
    files.push(("sectors.csv".to_string(), s.into_bytes()));
    let mut s = String::from("sector,exporter,importer,value,tariff\n");
    let mut missing: Vec<String> = Vec::new();
    let mut zero_rated = vec![false; jj];
    let not_goods = |j: usize| b.not_goods.as_ref().is_some_and(|g| g.sectors[j]);
    for j in 0..jj {
        for i in 0..nn {
            for n in 0..nn {
                let v = b.flows.get(j, i, n);
                if v == 0.0 && i != n {
                    continue;
                }
                let rate = match tariffs {
                    Some(t) if i != n && !b.non_traded[j] => {
                        let key = (
                            "mfn".to_string(),
                            b.sectors[j].code.clone(),
                            b.regions[i].clone(),
                            b.regions[n].clone(),
                        );
                        match t.rates.get(&key) {
                            Some(r) => *r,
                            None if not_goods(j) => {
                                zero_rated[j] = true;
                                0.0
                            }
                            None => {
                                missing.push(format!("{} {}→{}", key.1, key.2, key.3));
                                0.0
                            }
                        }
                    }
                    _ => 0.0,
                };
                let _ = writeln!(
                    s,
                    "{},{},{},{},{}",
                    b.sectors[j].code,
                    b.regions[i],
                    b.regions[n],
                    fmt(v),
                    fmt(rate)
                );
            }
        }
    }
    if let (Some(t), Some(first)) = (tariffs, missing.first()) {
        return Err(Error::invalid(
            t.path.display().to_string(),
            format!(
                "no MFN rate (set mfn) for {first} ({} international flows without one); import tariffs for every importer of the output (tradesim data import wits) or drop --tariffs",
                missing.len()
            ),
        ));
    }
    files.push(("flows.csv".to_string(), s.into_bytes()));
    if let Some(t) = tariffs {
        let mut s = String::from("set,sector,exporter,importer,tariff\n");
        for ((set, sec, e, i), r) in &t.rates {
            if set != "mfn" && b.regions.contains(e) && b.regions.contains(i) {
                let _ = writeln!(s, "{set},{sec},{e},{i},{}", fmt(*r));
            }
        }
        files.push(("tariff_sets.csv".to_string(), s.into_bytes()));
    }
    if let Some((io, va)) = &b.io {
        let mut s = String::from("economy,sector,input,share\n");
        for n in 0..nn {
            for j in 0..jj {
                let _ = writeln!(
                    s,
                    "{},{},VA,{}",
                    b.regions[n],
                    b.sectors[j].code,
                    fmt(va[n * jj + j])
                );
                for k in 0..jj {
                    let _ = writeln!(
                        s,
                        "{},{},{},{}",
                        b.regions[n],
                        b.sectors[j].code,
                        b.sectors[k].code,
                        fmt(io[(n * jj + j) * jj + k])
                    );
                }
            }
        }
        files.push(("io.csv".to_string(), s.into_bytes()));
    }
    if let Some(fd) = &b.final_demand {
        let mut s = String::from("economy,sector,share\n");
        for n in 0..nn {
            for j in 0..jj {
                let _ = writeln!(
                    s,
                    "{},{},{}",
                    b.regions[n],
                    b.sectors[j].code,
                    fmt(fd[n * jj + j])
                );
            }
        }
        files.push(("final_demand.csv".to_string(), s.into_bytes()));
    }
    let mut notes = Vec::new();
    if let (Some(t), Some(g)) = (tariffs, &b.not_goods) {
        let codes: Vec<&str> = (0..jj)
            .filter(|&j| zero_rated[j])
            .map(|j| b.sectors[j].code.as_str())
            .collect();
        if !codes.is_empty() {
            notes.push(zero_tariff_note(&codes, &t.path, &g.hs));
        }
    }
    let mut provenance = b.provenance.clone();
    if !notes.is_empty() {
        provenance.push_str("\n## Tariffs\n\n");
    }
    for n in &notes {
        let _ = writeln!(provenance, "- {n}.");
    }
    files.push(("PROVENANCE.md".to_string(), provenance.into_bytes()));
    Ok(RenderedBaseline { files, notes })
}

/// Writes a baseline directory whole or not at all (never into one holding an input): the
/// files go into a staging directory,
/// which is loaded and validated as a tidy baseline ([`crate::data::tidy::load`]) before it
/// is renamed into place. Returns the loaded baseline.
pub(crate) fn commit_baseline(
    out: &Path,
    force: bool,
    inputs: &[PathBuf],
    files: &[(String, Vec<u8>)],
) -> Result<crate::data::Baseline> {
    let staged = crate::output::OutputDir::begin(out, force, inputs)?;
    for (name, bytes) in files {
        staged.write(name, bytes)?;
    }
    let staging = staged.staging_dir();
    let loaded = crate::data::tidy::load(staging).map_err(|e| {
        // the loader names the hidden staging directory: name the files being written instead
        let text = e
            .to_string()
            .replace(&format!("{}{}", staging.display(), std::path::MAIN_SEPARATOR), "")
            .replace(&staging.display().to_string(), &out.display().to_string());
        Error::invalid(
            out.display().to_string(),
            format!("the imported baseline does not pass the loader's checks, so nothing was written: {text}"),
        )
    })?;
    staged.commit()?;
    Ok(loaded)
}

/// Writes files whole or not at all into an output directory (never one holding `inputs`).
pub(crate) fn commit_files(
    out: &Path,
    force: bool,
    inputs: &[PathBuf],
    files: &[(String, Vec<u8>)],
) -> Result<()> {
    let staged = crate::output::OutputDir::begin(out, force, inputs)?;
    for (name, bytes) in files {
        staged.write(name, bytes)?;
    }
    staged.commit()
}

/// The provenance header every importer writes: what was read and how it was converted.
pub(crate) fn provenance(title: &str, inputs: &[(&str, &Path)], notes: &[String]) -> String {
    let mut s = format!(
        "# {title}\n\nWritten by `tradesim data import` (tradesim {}).\n\n## Inputs\n\n",
        env!("CARGO_PKG_VERSION")
    );
    for (what, p) in inputs {
        let _ = writeln!(s, "- {what}: `{}`", p.display());
    }
    s.push_str("\n## Method\n\n");
    for n in notes {
        let _ = writeln!(s, "- {n}");
    }
    s.push_str("\nMoney: US dollars (the source's unit converted). See docs/import.md.\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A baseline the loader refuses is named by the output being built and the file in it,
    /// never by the hidden staging directory.
    #[test]
    fn loader_errors_name_the_output_not_the_staging_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("b");
        let files: Vec<(String, Vec<u8>)> = [
            ("economies.csv", "code,name\nAAA,A\nBBB,B\n"),
            ("sectors.csv", "code,name,theta\nX,X,4\n"),
            (
                "flows.csv",
                "sector,exporter,importer,value,tariff\nX,AAA,AAA,inf,0\nX,BBB,BBB,1,0\n",
            ),
        ]
        .iter()
        .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
        .collect();
        let e = commit_baseline(&out, false, &[], &files)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("{}: the imported baseline", out.display()))
                && e.contains("nothing was written: flows.csv, row 2: value is inf"),
            "{e}"
        );
        assert!(!e.contains(".tradesim-"), "{e}");
        assert!(!out.exists());
    }

    #[test]
    fn hs_prefixes_match_the_longest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(&p, "hs,sector\n01,AGR\n0101,MAN\n27,FMN\n").unwrap();
        let secs: Vec<SectorDef> = ["AGR", "FMN", "MAN"]
            .iter()
            .map(|c| SectorDef {
                code: c.to_string(),
                name: c.to_string(),
                theta: 4.0,
            })
            .collect();
        let m = SectorMap::read(&p, "hs", &secs, true).unwrap();
        assert_eq!(m.get("010121"), Some(2));
        assert_eq!(m.get("010221"), Some(0));
        assert_eq!(m.get("270900"), Some(1));
        assert_eq!(m.get("990000"), None);
        std::fs::write(&p, "hs,sector\n1,AGR\n").unwrap();
        assert!(SectorMap::read(&p, "hs", &secs, true)
            .unwrap_err()
            .to_string()
            .contains("2, 4 or 6 digits"));
    }
}

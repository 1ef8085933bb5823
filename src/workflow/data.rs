//! Baselines and data sets (`tradesim data ...`): the built-in world from its sourced facts,
//! imports of ICIO, BACI, WITS and CEPII Gravity files, and synthetic worlds, FDI panels and
//! BACI years (made up, labelled so). Each returns the line the command prints.

use std::path::{Path, PathBuf};

use crate::data::import::{self as imp, BaselineTables, RegionMap, SectorMap};
use crate::error::{Error, Result};
use crate::output::{self, OutputDir};

/// Build the built-in world from the sourced facts in `facts` and `extra_facts`, at the applied
/// rates of the agreements of the scenario `agreements`, and write it into `out` (docs/world.md).
/// Files of the world's names in `out` that an earlier build did not write are replaced only
/// with `force` (checked before the build). Returns the build's summary and the directory
/// written.
pub fn build_world(
    facts: &Path,
    extra_facts: &Path,
    agreements: &Path,
    out: &Path,
    force: bool,
) -> Result<String> {
    crate::world::check_world_out(out, force)?;
    let world = crate::world::build(facts, extra_facts, agreements)?;
    world.write(out)?;
    Ok(format!("{}\nwrote {}", world.summary, out.display()))
}

/// Write a synthetic world of `economies` × `sectors` (made up; input-output links with
/// `io`) in the tidy baseline format into `out`, with `scenario.ron` beside it: a free-trade
/// agreement among the first (at most 20) economies from 2015. A world of more than
/// [`SYNTHETIC_LIMIT`] bytes is refused unless `large`, and one larger than the free
/// space where `out` goes always (before anything is made).
pub fn synthetic_world(
    out: &Path,
    economies: usize,
    sectors: usize,
    io: bool,
    seed: u64,
    force: bool,
    large: bool,
) -> Result<String> {
    if !(2..=999).contains(&economies) {
        return Err(Error::invalid("`economies`", "must be between 2 and 999"));
    }
    if !(1..=99).contains(&sectors) {
        return Err(Error::invalid("`sectors`", "must be between 1 and 99"));
    }
    check_synthetic_world_size(out, economies, sectors, io, large)?;
    let staged = OutputDir::begin(out, force, &[])?;
    let b = crate::data::synthetic::world(economies, sectors, io, seed);
    crate::data::tidy::write(&b, staged.staging_dir())?;
    let members: Vec<String> = b
        .economies
        .iter()
        .take(economies.min(20))
        .map(|e| format!("\"{}\"", e.code))
        .collect();
    let scenario = format!(
        "// A synthetic world made up by `tradesim data synthetic-world` (seed {seed}); not data.\n\
         Scenario(\n    name: \"synthetic-{economies}x{sectors}\",\n    baseline: Csv(\".\"),\n    base_year: 2014,\n    horizon: 2015,\n    agreements: [\n        (name: \"FTA\", entry_into_force: 2015, members: [{}]),\n    ],\n)\n",
        members.join(", ")
    );
    output::write_all(
        staged.staging_dir(),
        &[("scenario.ron", scenario.into_bytes())],
    )?;
    staged.commit()?;
    Ok(format!(
        "wrote a synthetic world of {economies} economies x {sectors} sectors{} (made up, seed {seed}) and scenario.ron to {}",
        if io { " with input-output links" } else { "" },
        out.display()
    ))
}

/// The most bytes `data synthetic-world` and `data synthetic-baci` write without `--large`:
/// 1 GB, forty times the benchmark worlds of docs/performance.md (77 × 45 and 150 × 20, under
/// 30 MB each) and more than twice a BACI-size year (10 million rows, about 0.4 GB).
pub const SYNTHETIC_LIMIT: u64 = 1_000_000_000;

/// About how many bytes a synthetic world of `n` economies and `j` sectors takes on disk, and
/// the rows of its flows.csv: every table's rows times its width per row measured on the 77 ×
/// 45 world (flows.csv 52.2 bytes, io.csv 34.4, final_demand.csv 29.7), rounded up.
pub fn synthetic_world_bytes(n: usize, j: usize, io: bool) -> (u64, u64) {
    let (n, j) = (n as u64, j as u64);
    // Every pair in each traded sector; the non-traded last sector (of several) domestic only.
    let flows = if j > 1 { n * n * (j - 1) + n } else { n * n };
    let io_rows = if io { n * j * (j + 1) } else { 0 };
    (
        flows * 53 + io_rows * 35 + n * j * 30 + n * 64 + j * 48 + 512,
        flows,
    )
}

/// Refuse a synthetic world larger than [`SYNTHETIC_LIMIT`] without `large`, and one
/// larger than the free space of the file system `out` goes on.
fn check_synthetic_world_size(
    out: &Path,
    economies: usize,
    sectors: usize,
    io: bool,
    large: bool,
) -> Result<()> {
    let (bytes, flow_rows) = synthetic_world_bytes(economies, sectors, io);
    let what = format!(
        "a synthetic world of {economies} economies x {sectors} sectors is about {} on disk ({flow_rows} rows in flows.csv)",
        gb(bytes)
    );
    check_output_size(
        out,
        bytes,
        &what,
        "Choose fewer economies or sectors (the benchmark worlds of docs/performance.md, 77 x 45 and 150 x 20, are under 30 MB)",
        "world",
        large,
    )
}

/// Bytes as gigabytes with one decimal (`5.5 GB`).
fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// Refuse synthetic output of about `bytes` bytes (`what` says what it is) into `out` above
/// [`SYNTHETIC_LIMIT`] without `large` (`fewer` says how to make it smaller; `kind` names it),
/// and above the free space where `out` goes (POSIX `df -Pk`; not checked when `df` cannot
/// tell) either way.
fn check_output_size(
    out: &Path,
    bytes: u64,
    what: &str,
    fewer: &str,
    kind: &str,
    large: bool,
) -> Result<()> {
    if bytes > SYNTHETIC_LIMIT && !large {
        return Err(Error::invalid(
            out.display().to_string(),
            format!("{what}; without --large tradesim writes at most {}, so nothing was written. {fewer}, or pass --large if a {kind} this size is meant", gb(SYNTHETIC_LIMIT)),
        ));
    }
    if let Some((dir, free)) = output::staging::free_space(out) {
        if bytes > free {
            return Err(Error::invalid(
                out.display().to_string(),
                format!("{what}, but {} has only {} free, so nothing was written; free some space, choose another --out, or make the {kind} smaller", dir.display(), gb(free)),
            ));
        }
    }
    Ok(())
}

/// Write a synthetic bilateral FDI panel of `economies` economies (every row labelled
/// `synthetic = 1`, generated with a PTA effect of ln 1.30) to the CSV file `out`.
pub fn synthetic_fdi(out: &Path, economies: usize, seed: u64, force: bool) -> Result<String> {
    output::staging::check_new_file(out, force)?;
    if !(2..=999).contains(&economies) {
        return Err(Error::invalid("`economies`", "must be between 2 and 999"));
    }
    let csv = crate::invest::synthetic::fdi_panel_csv(economies, seed);
    output::write_whole(
        vec![output::WholeFile::bytes(out.to_path_buf(), csv.as_bytes())],
        force,
    )?;
    Ok(format!(
        "wrote {} (synthetic: {economies} economies, years 2002-2014, PTA effect ln 1.30 = {:.4})",
        out.display(),
        crate::invest::synthetic::true_beta()
    ))
}

/// Write a synthetic BACI-like year file of `rows` rows and its country file into the
/// directory `out` (sectors from `data/mappings/sectors.csv`), whole or not at all; an
/// existing, non-empty `out` is replaced only with `force`, and only if tradesim wrote it.
/// Output of more than [`SYNTHETIC_LIMIT`] bytes is refused unless `large`, and output larger
/// than the free space where `out` goes always (before anything is made). `progress` counts
/// rows. Returns the files written.
pub fn synthetic_baci(
    out: &Path,
    rows: u64,
    seed: u64,
    force: bool,
    large: bool,
    progress: &dyn Fn(u64),
) -> Result<Vec<PathBuf>> {
    let max = crate::data::synthetic::BACI_MAX_ROWS;
    if !(1..=max).contains(&rows) {
        return Err(Error::invalid(
            format!("`rows` {rows}"),
            format!("must be between 1 and {max}, the most the synthetic year holds (each of its 200 x 199 pairs of economies trades each of its 5000 products once)"),
        ));
    }
    let sectors_csv = PathBuf::from("data/mappings/sectors.csv");
    let sectors: Vec<String> = imp::read_sectors(&sectors_csv)?
        .into_iter()
        .map(|s| s.code)
        .collect();
    let bytes = synthetic_baci_bytes(rows, sectors.len());
    check_output_size(
        out,
        bytes,
        &format!(
            "a synthetic BACI year of {rows} rows is about {} on disk",
            gb(bytes)
        ),
        "Choose fewer --rows (a real BACI year has about 10 million, the default, about 0.4 GB)",
        "year",
        large,
    )?;
    let staged = OutputDir::begin(out, force, &[sectors_csv])?;
    let files =
        crate::data::synthetic::baci_year(staged.staging_dir(), rows, seed, &sectors, progress)?;
    staged.commit()?;
    Ok(files
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| out.join(n))
        .collect())
}

/// About how many bytes `data synthetic-baci` writes for `rows` rows and `sectors` sectors:
/// 39 bytes a row of the year file (38.6 measured on 10 million rows), and the country,
/// region and domestic files.
pub fn synthetic_baci_bytes(rows: u64, sectors: usize) -> u64 {
    rows * 39 + 16_384 + sectors as u64 * 11 * 40
}

/// The mapping files and destination shared by the baseline importers.
#[derive(Debug, Clone, Copy)]
pub struct Mapping<'a> {
    /// The output's sectors (code,name,theta).
    pub sectors: &'a Path,
    /// Economy (ISO3) → output region (`economy,region[,name]`).
    pub regions: &'a Path,
    /// The output directory (a tidy baseline).
    pub out: &'a Path,
    /// Replace an existing output directory that tradesim wrote.
    pub force: bool,
    /// Sector tariff rates of [`import_wits`] (set mfn → flows.csv, the others →
    /// tariff_sets.csv).
    pub tariffs: Option<&'a Path>,
}

/// An imported baseline, read but not yet written: [`ImportedBaseline::commit`] writes it.
#[derive(Debug)]
pub struct ImportedBaseline {
    tables: BaselineTables,
    inputs: Vec<PathBuf>,
    /// What the source held (BACI: year, rows, products, value), to show before the commit.
    pub summary: Option<String>,
}

impl ImportedBaseline {
    /// Render the tidy baseline (with `map.tariffs`), check it with the baseline loader and
    /// rename it into `map.out`. Returns the line that says what was written.
    pub fn commit(&self, map: &Mapping) -> Result<String> {
        let tariffs = map.tariffs.map(imp::TariffTable::read).transpose()?;
        let rendered = imp::render_baseline(&self.tables, tariffs.as_ref())?;
        let mut inputs = self.inputs.clone();
        inputs.extend([map.sectors.to_path_buf(), map.regions.to_path_buf()]);
        inputs.extend(map.tariffs.map(Path::to_path_buf));
        let b = imp::commit_baseline(map.out, map.force, &inputs, &rendered.files)?;
        let notes: String = rendered
            .notes
            .iter()
            .map(|n| format!("note: {n}\n"))
            .collect();
        Ok(format!(
            "{notes}wrote {} ({} economies, {} sectors; checked by the baseline loader)",
            map.out.display(),
            b.n_economies(),
            b.n_sectors()
        ))
    }
}

/// Read one year of the OECD ICIO table (`edition` 2021 or 2023) into `map`'s sectors and
/// regions; `industries` maps ICIO industries to sectors (default
/// `data/mappings/icio-EDITION-industries.csv`). With `map.tariffs`, the HS mapping `hs` says
/// which sectors are goods: the others (no HS code maps to them) get tariff 0 where the
/// tariff file has no rate. `progress` counts bytes read.
pub fn import_icio(
    data: &Path,
    edition: &str,
    industries: Option<&Path>,
    hs: &Path,
    map: &Mapping,
    progress: &dyn Fn(u64),
) -> Result<ImportedBaseline> {
    let edition_v = imp::icio::Edition::parse(edition)?;
    let sectors = imp::read_sectors(map.sectors)?;
    let ind_path = industries.map_or_else(
        || PathBuf::from(format!("data/mappings/icio-{edition}-industries.csv")),
        Path::to_path_buf,
    );
    let ind = SectorMap::read(&ind_path, "industry", &sectors, false)?;
    let regions = RegionMap::read(map.regions)?;
    let o = imp::icio::IcioOptions {
        data,
        edition: edition_v,
        sectors: &sectors,
        industries: &ind,
        regions: &regions,
    };
    let not_goods = match map.tariffs {
        Some(_) => Some(imp::NotGoods::of(
            &SectorMap::read(hs, "hs", &sectors, true)?,
            sectors.len(),
        )),
        None => None,
    };
    let mut tables = imp::icio::import(&o, progress)?;
    tables.not_goods = not_goods;
    let mut inputs = vec![data.to_path_buf(), ind_path];
    inputs.extend(map.tariffs.map(|_| hs.to_path_buf()));
    Ok(ImportedBaseline {
        tables,
        inputs,
        summary: None,
    })
}

/// The files of a CEPII BACI import besides the mappings.
#[derive(Debug, Clone, Copy)]
pub struct BaciFiles<'a> {
    /// The BACI year CSV (t,i,j,k,v,q).
    pub data: &'a Path,
    /// BACI's country-code file of the same release.
    pub countries: &'a Path,
    /// Domestic sales per output region and sector (economy,sector,value,unit).
    pub domestic: &'a Path,
    /// The year the file holds (checked on every row).
    pub year: Option<i64>,
    /// HS code (2, 4 or 6 digits) → sector (hs,sector).
    pub hs: &'a Path,
}

/// Read a CEPII BACI year with domestic sales into `map`'s sectors and regions; `progress`
/// counts bytes read.
pub fn import_baci(
    f: &BaciFiles,
    map: &Mapping,
    progress: &dyn Fn(u64),
) -> Result<ImportedBaseline> {
    let sectors = imp::read_sectors(map.sectors)?;
    let hs = SectorMap::read(f.hs, "hs", &sectors, true)?;
    let regions = RegionMap::read(map.regions)?;
    let o = imp::baci::BaciOptions {
        data: f.data,
        countries: f.countries,
        year: f.year,
        sectors: &sectors,
        hs: &hs,
        regions: &regions,
        domestic: f.domestic,
    };
    let (tables, sum) = imp::baci::import(&o, progress)?;
    Ok(ImportedBaseline {
        tables,
        inputs: [f.data, f.countries, f.domestic, f.hs]
            .map(Path::to_path_buf)
            .to_vec(),
        summary: Some(format!(
            "BACI {}: {} rows, {} products, {:.6e} US$ ({} quantities NA)",
            sum.year, sum.rows, sum.products, sum.total_usd, sum.quantity_na
        )),
    })
}

/// A WITS/TRAINS tariff import: the files and the mappings.
#[derive(Debug, Clone, Copy)]
pub struct WitsFiles<'a> {
    /// MFN files (AVEMFN).
    pub mfn: &'a [PathBuf],
    /// Preferential files (AVEPref).
    pub preferential: &'a [PathBuf],
    /// Tariff year.
    pub year: i64,
    /// Numeric country code → ISO3.
    pub countries: &'a Path,
    /// Import-weight the HS6 rates with this BACI file of the same year (default: simple).
    pub weights: Option<&'a Path>,
    /// HS code → sector.
    pub hs: &'a Path,
    /// The output's sectors.
    pub sectors: &'a Path,
    /// Economy → output region.
    pub regions: &'a Path,
    /// Output directory (tariffs.csv).
    pub out: &'a Path,
    /// Replace an existing output directory that tradesim wrote.
    pub force: bool,
}

/// WITS/TRAINS tariff files → sector rates by pair of regions (`tariffs.csv` in `f.out`);
/// `progress` counts bytes of the import weights read. Returns the summary and the file.
pub fn import_wits(f: &WitsFiles, progress: &dyn Fn(u64)) -> Result<String> {
    let sectors = imp::read_sectors(f.sectors)?;
    let hs = SectorMap::read(f.hs, "hs", &sectors, true)?;
    let regions = RegionMap::read(f.regions)?;
    let o = imp::wits::WitsOptions {
        mfn: f.mfn,
        preferential: f.preferential,
        year: f.year,
        countries: f.countries,
        sectors: &sectors,
        hs: &hs,
        regions: &regions,
        weights: f.weights,
    };
    let (csv, summary) = imp::wits::import(&o, progress)?;
    let mut inputs: Vec<PathBuf> = f.mfn.iter().chain(f.preferential).cloned().collect();
    inputs.push(f.countries.to_path_buf());
    inputs.extend(f.weights.map(Path::to_path_buf));
    imp::commit_files(f.out, f.force, &inputs, &[("tariffs.csv".into(), csv)])?;
    Ok(format!(
        "{summary}\nwrote {}",
        f.out.join("tariffs.csv").display()
    ))
}

/// A CEPII Gravity import: which rows and columns to keep.
#[derive(Debug, Clone, Copy)]
pub struct GravityCovariates<'a> {
    /// Gravity_V202211.csv (or V202102).
    pub data: &'a Path,
    /// Years to keep.
    pub years: &'a [i64],
    /// ISO3 codes to keep (empty: all).
    pub economies: &'a [String],
    /// Columns of the dataset to keep (fta_wto is written as rta).
    pub covariates: &'a [String],
    /// Output directory (covariates.csv).
    pub out: &'a Path,
    /// Replace an existing output directory that tradesim wrote.
    pub force: bool,
}

/// CEPII Gravity dataset → bilateral covariates for estimation (`covariates.csv` in `g.out`);
/// `progress` counts bytes read. Returns the line that says what was written.
pub fn import_gravity(g: &GravityCovariates, progress: &dyn Fn(u64)) -> Result<String> {
    let o = imp::gravity::GravityOptions {
        data: g.data,
        years: g.years,
        economies: g.economies,
        covariates: g.covariates,
    };
    let (csv, rows) = imp::gravity::import(&o, progress)?;
    imp::commit_files(
        g.out,
        g.force,
        &[g.data.to_path_buf()],
        &[("covariates.csv".into(), csv)],
    )?;
    Ok(format!(
        "{rows} pairs; wrote {}",
        g.out.join("covariates.csv").display()
    ))
}

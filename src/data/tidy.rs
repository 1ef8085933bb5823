//! The tidy-CSV baseline format (`docs/baseline-format.md`): loader and validator.

use super::csvio::{Record, Records, Row, Table};
use super::{derived_final_shares, Baseline, BaselineProductGroup, Cube, Economy, Sector};
use crate::error::{Error, Result};
use crate::estimate::data::FxMap;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The columns tidy files have (required and optional), per file: a column of the header close
/// to one of these but not equal to any (a misspelling) is an error, since an optional column
/// that is not read changes results silently.
const COLUMNS: &[(&str, &[&str])] = &[
    ("economies.csv", &["code", "name", "value_added", "deficit"]),
    ("sectors.csv", &["code", "name", "theta", "traded"]),
    (
        "flows.csv",
        &["sector", "exporter", "importer", "value", "tariff", "flag"],
    ),
    ("io.csv", &["economy", "sector", "input", "share"]),
    ("final_demand.csv", &["economy", "sector", "share"]),
    (
        "tariff_sets.csv",
        &["set", "sector", "exporter", "importer", "tariff"],
    ),
];

/// Shares off one by more than this (but within the tolerance) are rescaled with a note.
const SHARE_NOTE: f64 = 1e-9;

/// Shares off one by no more than this are rounding of a written file and are kept to the last
/// bit (a world written by `write` loads back unchanged); the solver's tolerance (1e-10) is far
/// above it.
const SHARE_EXACT: f64 = 1e-12;

/// Read a tidy file, refusing misspelt column names.
fn read(dir: &Path, name: &str) -> Result<Table> {
    let (mut t, mut records) = stream(dir, name)?;
    let mut row: Row = (0, csv::StringRecord::new());
    while records.next(&mut row)? {
        t.rows.push(row.clone());
    }
    Ok(t)
}

/// [`read`] record by record: the header (misspelt column names refused) and the records,
/// for the large files whose rows are used once (`flows.csv`, `io.csv`).
fn stream(dir: &Path, name: &str) -> Result<(Table, Records)> {
    let (t, records) = Table::stream(&dir.join(name))?;
    let known = COLUMNS
        .iter()
        .find(|(f, _)| *f == name)
        .map_or(&[][..], |(_, c)| *c);
    t.check_column_spelling(known)?;
    Ok((t, records))
}

/// Load and validate a baseline directory in the tidy format.
pub fn load(dir: &Path) -> Result<Baseline> {
    load_noting(dir).map(|(b, _)| b)
}

/// [`load`], also returning what the loader adjusted or doubts (each note says what to do):
/// shares rescaled to sum to one exactly, tariffs above 100%.
pub(crate) fn load_noting(dir: &Path) -> Result<(Baseline, Vec<String>)> {
    let mut notes = Vec::new();
    if !dir.exists() {
        return Err(Error::invalid(
            dir.display().to_string(),
            "does not exist; a tidy baseline is a directory holding economies.csv, sectors.csv and flows.csv (tradesim data import writes one): correct the path",
        ));
    }
    if !dir.is_dir() {
        return Err(Error::invalid(
            dir.display().to_string(),
            "is not a directory; a tidy baseline is a directory holding economies.csv, sectors.csv and flows.csv",
        ));
    }
    let econ = read(dir, "economies.csv")?;
    let (c_code, c_name) = (econ.column("code")?, econ.column("name")?);
    let c_va = econ.optional_column("value_added");
    let c_def = econ.optional_column("deficit");
    let mut economies = Vec::new();
    let mut e_index: FxMap<String, usize> = FxMap::default();
    let mut va_given = Vec::new();
    let mut def_given = Vec::new();
    for row in &econ.rows {
        let code = econ.text(row, c_code)?.to_string();
        check_code(&econ, row.0, &code, "economy code")?;
        if e_index.insert(code.clone(), economies.len()).is_some() {
            return Err(Error::data(
                &econ.path,
                row.0,
                format!("economy `{code}` is declared twice; keep one row"),
            ));
        }
        economies.push(Economy {
            code,
            name: econ.text(row, c_name)?.to_string(),
        });
        va_given.push(optional_number(&econ, row, c_va, "value_added", true)?);
        def_given.push(optional_number(&econ, row, c_def, "deficit", false)?);
    }
    if economies.len() < 2 {
        return Err(Error::data(
            &econ.path,
            1,
            "a baseline needs at least two economies",
        ));
    }

    let sec = read(dir, "sectors.csv")?;
    let (s_code, s_name, s_theta) = (
        sec.column("code")?,
        sec.column("name")?,
        sec.column("theta")?,
    );
    let s_traded = sec.optional_column("traded");
    let mut sectors = Vec::new();
    let mut s_index: FxMap<String, usize> = FxMap::default();
    for row in &sec.rows {
        let code = sec.text(row, s_code)?.to_string();
        check_code(&sec, row.0, &code, "sector code")?;
        if code == "VA" {
            return Err(Error::data(
                &sec.path,
                row.0,
                "the sector code `VA` is reserved: in io.csv, input `VA` is value added; give the sector another code (e.g. `VAD`)",
            ));
        }
        if s_index.insert(code.clone(), sectors.len()).is_some() {
            return Err(Error::data(
                &sec.path,
                row.0,
                format!("sector `{code}` is declared twice; keep one row"),
            ));
        }
        let theta = sec.number(row, s_theta, "theta")?;
        if let Err(msg) = super::check_theta(theta) {
            return Err(Error::data(&sec.path, row.0, msg));
        }
        let traded = match s_traded {
            None => true,
            Some(c) => match sec.text(row, c)? {
                "true" | "1" | "yes" | "" => true,
                "false" | "0" | "no" => false,
                other => {
                    return Err(Error::data(
                        &sec.path,
                        row.0,
                        format!("traded is `{other}`; write true or false"),
                    ))
                }
            },
        };
        sectors.push(Sector {
            code,
            name: sec.text(row, s_name)?.to_string(),
            theta,
            traded,
        });
    }
    if sectors.is_empty() {
        return Err(Error::data(&sec.path, 1, "no sectors are declared"));
    }
    let (nn, jj) = (economies.len(), sectors.len());

    let (fl, mut records) = stream(dir, "flows.csv")?;
    let (f_s, f_e, f_i, f_v, f_t) = (
        fl.column("sector")?,
        fl.column("exporter")?,
        fl.column("importer")?,
        fl.column("value")?,
        fl.column("tariff")?,
    );
    let f_flag = fl.optional_column("flag");
    let mut flows = Cube::zeros(jj, nn);
    let mut tariffs = Cube::zeros(jj, nn);
    // One bit per (sector, importer, exporter) cell: a duplicate row is an error.
    let mut seen = vec![false; jj * nn * nn];
    let mut flags = BTreeMap::new();
    // Positive tariffs and their lines, for the check of their scale.
    let mut positive_tariffs = Vec::new();
    let (mut sector, mut exporter, mut importer) = (
        Codes::new(&s_index, "sector", "sectors.csv"),
        Codes::new(&e_index, "exporter", "economies.csv"),
        Codes::new(&e_index, "importer", "economies.csv"),
    );
    records.for_each(|row| {
        let j = sector.find(&fl, row, f_s)?;
        let i = exporter.find(&fl, row, f_e)?;
        let n = importer.find(&fl, row, f_i)?;
        if std::mem::replace(&mut seen[(j * nn + n) * nn + i], true) {
            return Err(Error::data(
                &fl.path,
                row.line(),
                "this sector, exporter and importer appear on an earlier row too; keep one row",
            ));
        }
        let v = fl.non_negative(row, f_v, "value")?;
        let t = fl.non_negative(row, f_t, "tariff")?;
        if t > 0.0 {
            positive_tariffs.push((t, row.line()));
        }
        if !sectors[j].traded && i != n && v > 0.0 {
            return Err(Error::data(
                &fl.path,
                row.line(),
                format!("sector {} is declared non-traded in sectors.csv but has an international flow; set traded to true or drop the row", sectors[j].code),
            ));
        }
        flows.set(j, n, i, v);
        tariffs.set(j, n, i, t);
        if let Some(c) = f_flag {
            let f = fl.text(row, c)?;
            if !f.is_empty() {
                flags.insert((j, n, i), f.to_string());
            }
        }
        Ok(())
    })?;
    check_tariff_scale(&fl, &positive_tariffs, &mut notes)?;
    for (n, e) in economies.iter().enumerate() {
        if (0..jj).all(|j| !(flows.get(j, n, n) > 0.0)) {
            return Err(Error::data(
                &fl.path,
                0,
                format!(
                    "economy {} has no domestic sales: add rows with exporter = importer = {} and a positive value (internal flows are required)",
                    e.code, e.code
                ),
            ));
        }
    }
    // Input-output structure.
    let mut va_share = vec![1.0; nn * jj];
    let mut io_share = vec![0.0; nn * jj * jj];
    if dir.join("io.csv").exists() {
        let (io, mut records) = stream(dir, "io.csv")?;
        let (c_e, c_s, c_in, c_sh) = (
            io.column("economy")?,
            io.column("sector")?,
            io.column("input")?,
            io.column("share")?,
        );
        let mut sums = vec![0.0; nn * jj];
        let mut last_row = vec![0usize; nn * jj];
        let mut va_seen = vec![false; nn * jj];
        // One bit per economy, sector and input (the sectors, then VA): a duplicate row is an
        // error; an input that is neither is an error on its first row.
        let mut seen = vec![false; nn * jj * (jj + 1)];
        let (mut economy, mut sector) = (
            Codes::new(&e_index, "economy", "economies.csv"),
            Codes::new(&s_index, "sector", "sectors.csv"),
        );
        records.for_each(|row| {
            let n = economy.find(&io, row, c_e)?;
            let j = sector.find(&io, row, c_s)?;
            let input = io.text(row, c_in)?;
            let sh = io.non_negative(row, c_sh, "share")?;
            let input_index = if input == "VA" {
                Some(jj)
            } else {
                s_index.get(input).copied()
            };
            if let Some(k) = input_index {
                if std::mem::replace(&mut seen[(n * jj + j) * (jj + 1) + k], true) {
                    return Err(Error::data(
                        &io.path,
                        row.line(),
                        "duplicate row for this economy, sector and input",
                    ));
                }
            }
            if input == "VA" {
                va_share[n * jj + j] = sh;
                va_seen[n * jj + j] = true;
            } else {
                let k = *s_index.get(input).ok_or_else(|| {
                    Error::data(
                        &io.path,
                        row.line(),
                        format!(
                            "input `{input}` is neither VA nor a sector declared in sectors.csv"
                        ),
                    )
                })?;
                io_share[(n * jj + k) * jj + j] = sh;
            }
            sums[n * jj + j] += sh;
            last_row[n * jj + j] = row.line();
            Ok(())
        })?;
        let mut rescaled = Rescaled::default();
        for n in 0..nn {
            for j in 0..jj {
                if !va_seen[n * jj + j] {
                    va_share[n * jj + j] = 0.0;
                }
                let s = sums[n * jj + j];
                if (s - 1.0).abs() > 1e-6 {
                    return Err(Error::data(
                        &io.path,
                        last_row[n * jj + j],
                        format!(
                            "the shares of economy {}, sector {} (VA and inputs) sum to {s}, not 1 (tolerance 1e-6); rescale them",
                            economies[n].code, sectors[j].code
                        ),
                    ));
                }
                // Within the tolerance: rescale to one exactly, or no equilibrium exists
                // (value added and inputs would not exhaust costs).
                if (s - 1.0).abs() > SHARE_EXACT {
                    va_share[n * jj + j] /= s;
                    for k in 0..jj {
                        io_share[(n * jj + k) * jj + j] /= s;
                    }
                }
                rescaled.note(s, || {
                    format!("economy {}, sector {}", economies[n].code, sectors[j].code)
                });
            }
        }
        notes.extend(rescaled.message(&io.path, "cost shares (VA and inputs)"));
    }

    let mut b = Baseline {
        name: dir.display().to_string(),
        economies,
        sectors,
        flows,
        tariffs,
        flags,
        value_added: vec![0.0; nn],
        va_share,
        io_share,
        final_share: vec![0.0; nn * jj],
        deficit: vec![0.0; nn],
        tariff_sets: BTreeMap::new(),
        product_groups: Vec::new(),
    };
    let y = b.gross_output();
    let exports = b.exports();
    let imports = b.imports();
    for n in 0..nn {
        b.value_added[n] = va_given[n].unwrap_or_else(|| {
            (0..jj)
                .map(|j| b.va_share[n * jj + j] * y[n * jj + j])
                .sum()
        });
        b.deficit[n] = def_given[n].unwrap_or(imports[n] - exports[n]);
    }

    if dir.join("final_demand.csv").exists() {
        let fd = read(dir, "final_demand.csv")?;
        let (c_e, c_s, c_sh) = (
            fd.column("economy")?,
            fd.column("sector")?,
            fd.column("share")?,
        );
        let mut sums = vec![0.0; nn];
        let mut last = vec![0usize; nn];
        for row in &fd.rows {
            let n = lookup(&fd, row, c_e, &e_index, "economy", "economies.csv")?;
            let j = lookup(&fd, row, c_s, &s_index, "sector", "sectors.csv")?;
            let sh = fd.non_negative(row, c_sh, "share")?;
            b.final_share[n * jj + j] = sh;
            sums[n] += sh;
            last[n] = row.0;
        }
        let mut rescaled = Rescaled::default();
        for n in 0..nn {
            if (sums[n] - 1.0).abs() > 1e-6 {
                return Err(Error::data(
                    &fd.path,
                    last[n],
                    format!("the final-demand shares of economy {} sum to {}, not 1 (tolerance 1e-6); rescale them", b.economies[n].code, sums[n]),
                ));
            }
            if (sums[n] - 1.0).abs() > SHARE_EXACT {
                b.final_share[n * jj..(n + 1) * jj]
                    .iter_mut()
                    .for_each(|a| *a /= sums[n]);
            }
            rescaled.note(sums[n], || format!("economy {}", b.economies[n].code));
        }
        notes.extend(rescaled.message(&fd.path, "final-demand shares"));
    } else {
        b.final_share = derived_final_shares(&b);
    }

    if dir.join("tariff_sets.csv").exists() {
        let ts = read(dir, "tariff_sets.csv")?;
        let (c_set, c_s, c_e, c_i, c_t) = (
            ts.column("set")?,
            ts.column("sector")?,
            ts.column("exporter")?,
            ts.column("importer")?,
            ts.column("tariff")?,
        );
        for row in &ts.rows {
            let set = ts.text(row, c_set)?.to_string();
            let j = lookup(&ts, row, c_s, &s_index, "sector", "sectors.csv")?;
            let i = lookup(&ts, row, c_e, &e_index, "exporter", "economies.csv")?;
            let n = lookup(&ts, row, c_i, &e_index, "importer", "economies.csv")?;
            let t = ts.non_negative(row, c_t, "tariff")?;
            if t > 1.0 {
                notes.push(format!("{}, row {}: tariff {t} is {:.0}%; if it is a percentage, write the fraction {} instead", ts.path.display(), row.0, t * 100.0, t / 100.0));
            }
            b.tariff_sets
                .entry(set)
                .or_insert_with(|| b.tariffs.clone())
                .set(j, n, i, t);
        }
    }
    let pg_path = dir.join("product_groups.csv");
    if pg_path.exists() {
        b.product_groups = product_groups(&Table::read(&pg_path)?, &b, &e_index, &s_index)?;
    }
    b.validate()?;
    Ok((b, notes))
}

/// Share sums rescaled to one: how many, and the largest gap.
#[derive(Default)]
struct Rescaled {
    count: usize,
    largest: Option<(f64, String)>,
}

impl Rescaled {
    fn note(&mut self, sum: f64, what: impl Fn() -> String) {
        let gap = (sum - 1.0).abs();
        if gap > SHARE_NOTE {
            self.count += 1;
            if self.largest.as_ref().is_none_or(|(g, _)| gap > *g) {
                self.largest = Some((gap, what()));
            }
        }
    }
    fn message(&self, path: &Path, what: &str) -> Option<String> {
        let (gap, at) = self.largest.as_ref()?;
        Some(format!(
            "{}: the {what} of {} cell(s) summed to 1 only within the tolerance 1e-6 (largest gap {gap:.1e}, {at}); they were rescaled to sum to 1 exactly. Write them with more digits to silence this",
            path.display(),
            self.count
        ))
    }
}

/// Tariffs are fractions (0.12 = 12%). When most `positive` tariffs of `flows.csv` (with their
/// lines) exceed 1 the file is in percent: an error. A few above 1 may be real (tariff peaks
/// above 100%): a note on each, in case they are percentages.
fn check_tariff_scale(
    fl: &Table,
    positive: &[(f64, usize)],
    notes: &mut Vec<String>,
) -> Result<()> {
    let above: Vec<&(f64, usize)> = positive.iter().filter(|(t, _)| *t > 1.0).collect();
    if above.is_empty() {
        return Ok(());
    }
    if 2 * above.len() > positive.len() {
        let (t, row) = above[0];
        return Err(Error::data(
            &fl.path,
            *row,
            format!("tariff is {t}, and {} of the {} positive tariffs exceed 1: the tariffs look like percentages; write them as fractions (0.12 = 12%), i.e. divide the column by 100", above.len(), positive.len()),
        ));
    }
    for (t, row) in above.iter().take(5) {
        notes.push(format!(
            "{}, row {row}: tariff {t} is {:.0}%; if it is a percentage, write the fraction {} instead",
            fl.path.display(),
            t * 100.0,
            t / 100.0
        ));
    }
    if above.len() > 5 {
        notes.push(format!(
            "{}: {} more tariffs above 1 (100%)",
            fl.path.display(),
            above.len() - 5
        ));
    }
    Ok(())
}

/// Reads `product_groups.csv` (`importer,group,sector,exporter,weight,base_rate,source`) and
/// checks it against the loaded flows: codes declared, sector traded, `weight` in [0, 1],
/// `base_rate` ≥ 0, one sector per group of an importer, no row twice; the weights of one
/// importer × exporter × sector (an exporter's own rows replacing the all-partners rows of
/// the same groups) sum to less than 1, and their weighted base rate `Σ w·base_rate` is not
/// above the data tariff of any cell with a flow (the policy engine's rule, MODEL.md §3).
fn product_groups(
    t: &Table,
    b: &Baseline,
    e_index: &FxMap<String, usize>,
    s_index: &FxMap<String, usize>,
) -> Result<Vec<BaselineProductGroup>> {
    let (c_i, c_g, c_s, c_e, c_w, c_r, c_src) = (
        t.column("importer")?,
        t.column("group")?,
        t.column("sector")?,
        t.column("exporter")?,
        t.column("weight")?,
        t.column("base_rate")?,
        t.column("source")?,
    );
    let mut groups: Vec<BaselineProductGroup> = Vec::new();
    let mut rows: Vec<usize> = Vec::new();
    let mut seen: HashMap<(usize, String, Option<usize>), usize> = HashMap::new();
    let mut sector_of: HashMap<(usize, String), (usize, usize)> = HashMap::new();
    for row in &t.rows {
        let importer = lookup(t, row, c_i, e_index, "importer", "economies.csv")?;
        let group = t.text(row, c_g)?.to_string();
        if group.is_empty()
            || group
                .chars()
                .any(|c| c.is_uppercase() || c.is_whitespace() || c == ',')
        {
            return Err(Error::data(
                &t.path,
                row.0,
                format!("group `{group}` must be a non-empty lowercase name without spaces (e.g. `rice`, `beef`)"),
            ));
        }
        let sector = lookup(t, row, c_s, s_index, "sector", "sectors.csv")?;
        if !b.sectors[sector].traded {
            return Err(Error::data(
                &t.path,
                row.0,
                format!(
                    "sector {} is not traded (sectors.csv); a product group belongs to a traded sector",
                    b.sectors[sector].code
                ),
            ));
        }
        let exporter = if t.text(row, c_e)?.is_empty() {
            None
        } else {
            let e = lookup(t, row, c_e, e_index, "exporter", "economies.csv")?;
            if e == importer {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    "exporter equals importer; leave `exporter` empty for all partners or name a partner",
                ));
            }
            Some(e)
        };
        let weight = t.non_negative(row, c_w, "weight")?;
        if weight > 1.0 {
            return Err(Error::data(
                &t.path,
                row.0,
                format!("weight is {weight}; it is the group's share of the sector's imports, a fraction in [0, 1]"),
            ));
        }
        let base_rate = t.non_negative(row, c_r, "base_rate")?;
        let source = t.text(row, c_src)?.to_string();
        if source.is_empty() {
            return Err(Error::data(
                &t.path,
                row.0,
                "`source` is empty; give the key of the source explained in the world's PROVENANCE.md",
            ));
        }
        if let Some(prev) = seen.insert((importer, group.clone(), exporter), row.0) {
            return Err(Error::data(
                &t.path,
                row.0,
                format!("group `{group}` of importer {} for this exporter is already given on row {prev}; keep one row", b.economies[importer].code),
            ));
        }
        match sector_of.get(&(importer, group.clone())) {
            Some(&(s, prev)) if s != sector => {
                return Err(Error::data(
                    &t.path,
                    row.0,
                    format!(
                        "group `{group}` of importer {} is in sector {} on row {prev}; a group name belongs to one sector per importer (rename one)",
                        b.economies[importer].code, b.sectors[s].code
                    ),
                ))
            }
            _ => {
                sector_of.insert((importer, group.clone()), (sector, row.0));
            }
        }
        groups.push(BaselineProductGroup {
            importer,
            group,
            sector,
            exporter,
            weight,
            base_rate,
            source,
        });
        rows.push(row.0);
    }
    // Every importer × sector × exporter with a flow: the groups that apply (an exporter's own
    // row replaces the all-partners row of the same group) weigh less than 1 together and their
    // weighted base rate is not above the cell's data tariff.
    let nn = b.n_economies();
    let mut cells: Vec<(usize, usize)> = groups.iter().map(|g| (g.importer, g.sector)).collect();
    cells.sort_unstable();
    cells.dedup();
    for (n, j) in cells {
        for i in (0..nn).filter(|&i| i != n && b.flows.get(j, n, i) > 0.0) {
            let applying = applying_groups(&groups, n, j, i);
            let w: f64 = applying.iter().map(|&k| groups[k].weight).sum();
            let based: f64 = applying
                .iter()
                .map(|&k| groups[k].weight * groups[k].base_rate)
                .sum();
            let last = applying.iter().map(|&k| rows[k]).max().unwrap_or(0);
            let (imp, exp, sec) = (
                &b.economies[n].code,
                &b.economies[i].code,
                &b.sectors[j].code,
            );
            if w >= 1.0 {
                return Err(Error::data(
                    &t.path,
                    last,
                    format!("the groups of importer {imp} in {sec} from {exp} weigh {w:.6} together; they must leave part of the sector outside the groups (sum < 1)"),
                ));
            }
            let tau = b.tariffs.get(j, n, i);
            if based > tau + 1e-6 {
                return Err(Error::data(
                    &t.path,
                    last,
                    format!("the groups of importer {imp} in {sec} from {exp} carry a weighted base rate Σ weight·base_rate = {based:.6}, above the cell's data tariff {tau:.6} in flows.csv; the sector rate is the trade-weighted average of the groups and the rest, so lower the weights or rates or raise the tariff"),
                ));
            }
        }
    }
    Ok(groups)
}

/// The indices of the groups that apply to importer `n`'s imports from `i` in sector `j`: each
/// group's row for exporter `i` where one exists, else its all-partners row.
pub(crate) fn applying_groups(
    groups: &[BaselineProductGroup],
    n: usize,
    j: usize,
    i: usize,
) -> Vec<usize> {
    (0..groups.len())
        .filter(|&k| {
            let g = &groups[k];
            g.importer == n
                && g.sector == j
                && match g.exporter {
                    Some(e) => e == i,
                    None => !groups
                        .iter()
                        .any(|h| h.importer == n && h.group == g.group && h.exporter == Some(i)),
                }
        })
        .collect()
}

fn check_code(t: &Table, row: usize, code: &str, what: &str) -> Result<()> {
    if code.is_empty() || code.contains(char::is_whitespace) {
        return Err(Error::data(
            &t.path,
            row,
            format!("{what} `{code}` must be non-empty and contain no spaces"),
        ));
    }
    Ok(())
}

fn optional_number(
    t: &Table,
    row: &(usize, csv::StringRecord),
    col: Option<usize>,
    what: &str,
    positive: bool,
) -> Result<Option<f64>> {
    let Some(c) = col else { return Ok(None) };
    if t.text(row, c)?.is_empty() {
        return Ok(None);
    }
    let v = t.number(row, c, what)?;
    if positive && v <= 0.0 {
        return Err(Error::data(
            &t.path,
            row.0,
            format!("{what} is {v}; it must be positive (or left empty to derive it)"),
        ));
    }
    Ok(Some(v))
}

fn lookup<R: Record>(
    t: &Table,
    row: &R,
    col: usize,
    index: &FxMap<String, usize>,
    what: &str,
    declared_in: &str,
) -> Result<usize> {
    let code = t.text(row, col)?;
    index.get(code).copied().ok_or_else(|| {
        Error::data(
            &t.path,
            row.line(),
            format!("{what} `{code}` is not declared in {declared_in}; declare it there or correct the code"),
        )
    })
}

/// [`lookup`] for a column whose codes repeat from row to row or follow one another in the
/// order they were declared (a sorted file): the last code found and the code declared after
/// it are compared first, before the hash map.
struct Codes<'a> {
    index: &'a FxMap<String, usize>,
    /// The codes by index (the inverse of `index`).
    codes: Vec<&'a str>,
    what: &'static str,
    declared_in: &'static str,
    /// The index of the last code found.
    last: Option<usize>,
}

impl<'a> Codes<'a> {
    fn new(index: &'a FxMap<String, usize>, what: &'static str, declared_in: &'static str) -> Self {
        let mut codes = vec![""; index.len()];
        for (code, &k) in index {
            codes[k] = code;
        }
        Codes {
            index,
            codes,
            what,
            declared_in,
            last: None,
        }
    }

    /// The index of the code in column `col` of `row`.
    fn find<R: Record>(&mut self, t: &Table, row: &R, col: usize) -> Result<usize> {
        let text = t.text(row, col)?;
        if let Some(last) = self.last {
            for k in [last, last + 1] {
                if self.codes.get(k) == Some(&text) {
                    self.last = Some(k);
                    return Ok(k);
                }
            }
        }
        let k = lookup(t, row, col, self.index, self.what, self.declared_in)?;
        self.last = Some(k);
        Ok(k)
    }
}

/// Writes `b` as a tidy baseline directory (`docs/baseline-format.md`): economies.csv (with
/// `value_added` and `deficit`), sectors.csv, flows.csv (domestic rows and every non-zero
/// international flow or tariff), io.csv and final_demand.csv. Numbers are written in Rust's
/// shortest round-trip form, so [`load`] gives back the same values. Streams through a buffer;
/// the caller owns whole-or-nothing staging of `dir`.
pub(crate) fn write(b: &Baseline, dir: &Path) -> Result<()> {
    use std::io::Write;
    let (nn, jj) = (b.n_economies(), b.n_sectors());
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let file = |name: &str, body: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| -> Result<()> {
        let path = dir.join(name);
        let f = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        body(&mut w)
            .and_then(|_| w.flush())
            .map_err(|e| Error::io(&path, e))
    };
    file("economies.csv", &|w| {
        writeln!(w, "code,name,value_added,deficit")?;
        for (n, e) in b.economies.iter().enumerate() {
            writeln!(
                w,
                "{},{},{},{}",
                e.code,
                csv_text(&e.name),
                b.value_added[n],
                b.deficit[n]
            )?;
        }
        Ok(())
    })?;
    file("sectors.csv", &|w| {
        writeln!(w, "code,name,theta,traded")?;
        for s in &b.sectors {
            writeln!(
                w,
                "{},{},{},{}",
                s.code,
                csv_text(&s.name),
                s.theta,
                s.traded
            )?;
        }
        Ok(())
    })?;
    file("flows.csv", &|w| {
        writeln!(w, "sector,exporter,importer,value,tariff")?;
        for (j, s) in b.sectors.iter().enumerate() {
            for (n, imp) in b.economies.iter().enumerate() {
                for (i, exp) in b.economies.iter().enumerate() {
                    let (v, t) = (b.flows.get(j, n, i), b.tariffs.get(j, n, i));
                    if i == n || v != 0.0 || t != 0.0 {
                        writeln!(w, "{},{},{},{v},{t}", s.code, exp.code, imp.code)?;
                    }
                }
            }
        }
        Ok(())
    })?;
    if b.has_input_output() {
        file("io.csv", &|w| {
            writeln!(w, "economy,sector,input,share")?;
            for (n, e) in b.economies.iter().enumerate() {
                for (j, s) in b.sectors.iter().enumerate() {
                    writeln!(w, "{},{},VA,{}", e.code, s.code, b.va_share[n * jj + j])?;
                    for (k, input) in b.sectors.iter().enumerate() {
                        let g = b.io_share(n, k, j);
                        if g != 0.0 {
                            writeln!(w, "{},{},{},{g}", e.code, s.code, input.code)?;
                        }
                    }
                }
            }
            Ok(())
        })?;
    }
    file("final_demand.csv", &|w| {
        writeln!(w, "economy,sector,share")?;
        for n in 0..nn {
            for j in 0..jj {
                writeln!(
                    w,
                    "{},{},{}",
                    b.economies[n].code,
                    b.sectors[j].code,
                    b.final_share[n * jj + j]
                )?;
            }
        }
        Ok(())
    })
}

/// A text field quoted when it holds a comma, quote or line break.
fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `write` then `load` gives back the same world, to the last bit (what
    /// `tradesim data synthetic-world` relies on), with and without input-output links.
    #[test]
    fn written_worlds_load_back_unchanged() {
        for io in [true, false] {
            let b = crate::data::synthetic::world(7, 4, io, 3);
            let dir = tempfile::tempdir().unwrap();
            write(&b, dir.path()).unwrap();
            let back = load(dir.path()).unwrap();
            assert_eq!(back.economies, b.economies);
            assert_eq!(back.sectors, b.sectors);
            assert_eq!(back.flows, b.flows);
            assert_eq!(back.tariffs, b.tariffs);
            assert_eq!(back.value_added, b.value_added);
            assert_eq!(back.deficit, b.deficit);
            assert_eq!(back.va_share, b.va_share);
            assert_eq!(back.io_share, b.io_share);
            assert_eq!(back.final_share, b.final_share);
        }
    }
}

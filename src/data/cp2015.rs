//! Importer for the Caliendo–Parro (2015) NAFTA replication files, read as they are
//! (`trade.csv`, `intermediate_consumption.csv`, `final_consumption.csv`, `value_added.csv`,
//! `deficit.csv`, `theta.csv`; 31 regions × 40 sectors, 1993).
//!
//! Conventions of the files (MODEL.md §1): `value` is at factory prices; `tariff_bln` holds the
//! 1993 tariffs (the baseline's data tariff); `tariff_cfl` the 2005 NAFTA rates on intra-NAFTA
//! goods and the 1993 rates elsewhere, exposed as the tariff set `cfl`. Cost shares are
//! `γ_n^{k,j} = IC_n^{k,j}/(Σ_k IC_n^{k,j} + VA_n^j)`, `γ_n^j = VA_n^j/(Σ_k IC_n^{k,j} + VA_n^j)`;
//! `α_n^j` from final consumption; `w_n L_n = Σ_j VA_n^j`. `deficit.csv` is joined by name.

use super::csvio::Table;
use super::{Baseline, Cube, Economy, Sector};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// ISO 3166 alpha-3 codes for the region names of the files (`Row` is the rest of the world).
const REGION_CODES: &[(&str, &str)] = &[
    ("Argentina", "ARG"),
    ("Australia", "AUS"),
    ("Austria", "AUT"),
    ("Brazil", "BRA"),
    ("Canada", "CAN"),
    ("Chile", "CHL"),
    ("China", "CHN"),
    ("Denmark", "DNK"),
    ("Finland", "FIN"),
    ("France", "FRA"),
    ("Germany", "DEU"),
    ("Greece", "GRC"),
    ("Hungary", "HUN"),
    ("India", "IND"),
    ("Indonesia", "IDN"),
    ("Ireland", "IRL"),
    ("Italy", "ITA"),
    ("Japan", "JPN"),
    ("Korea", "KOR"),
    ("Mexico", "MEX"),
    ("Netherlands", "NLD"),
    ("New Zealand", "NZL"),
    ("Norway", "NOR"),
    ("Portugal", "PRT"),
    ("South Africa", "ZAF"),
    ("Spain", "ESP"),
    ("Sweden", "SWE"),
    ("Turkey", "TUR"),
    ("UK", "GBR"),
    ("USA", "USA"),
    ("Row", "ROW"),
];

/// The code tradesim uses for a region name of the files.
pub(crate) fn region_code(name: &str) -> String {
    REGION_CODES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| c.to_string())
        .unwrap_or_else(|| name.replace(' ', "_"))
}

/// The code tradesim uses for a sector name of the files (spaces become underscores).
pub(crate) fn sector_code(name: &str) -> String {
    name.replace(' ', "_")
}

/// Load the Caliendo–Parro files in `dir` into a validated [`Baseline`].
pub fn load(dir: &Path) -> Result<Baseline> {
    let theta = Table::read(&dir.join("theta.csv"))?;
    let (t_s, t_v) = (theta.column("sector")?, theta.column("value")?);
    let mut sectors = Vec::new();
    let mut s_index = HashMap::new();
    for row in &theta.rows {
        let name = theta.text(row, t_s)?.to_string();
        s_index.insert(name.clone(), sectors.len());
        sectors.push(Sector {
            code: sector_code(&name),
            name,
            theta: theta.number(row, t_v, "theta")?,
            traded: false,
        });
    }

    let va = Table::read(&dir.join("value_added.csv"))?;
    let (v_s, v_r, v_v) = (
        va.column("sector")?,
        va.column("region")?,
        va.column("value")?,
    );
    let mut economies: Vec<Economy> = Vec::new();
    let mut e_index: HashMap<String, usize> = HashMap::new();
    for row in &va.rows {
        let name = va.text(row, v_r)?;
        if !e_index.contains_key(name) {
            e_index.insert(name.to_string(), economies.len());
            economies.push(Economy {
                code: region_code(name),
                name: name.to_string(),
            });
        }
    }
    let (nn, jj) = (economies.len(), sectors.len());
    let s_of = |t: &Table, row: &(usize, csv::StringRecord), c: usize| -> Result<usize> {
        let s = t.text(row, c)?;
        s_index
            .get(s)
            .copied()
            .ok_or_else(|| Error::data(&t.path, row.0, format!("sector `{s}` is not in theta.csv")))
    };
    let e_of = |t: &Table, row: &(usize, csv::StringRecord), c: usize| -> Result<usize> {
        let s = t.text(row, c)?;
        e_index.get(s).copied().ok_or_else(|| {
            Error::data(
                &t.path,
                row.0,
                format!("region `{s}` is not in value_added.csv"),
            )
        })
    };

    let mut va_level = vec![0.0; nn * jj];
    for row in &va.rows {
        let (j, n) = (s_of(&va, row, v_s)?, e_of(&va, row, v_r)?);
        va_level[n * jj + j] = va.number(row, v_v, "value added")?;
    }

    let ic = Table::read(&dir.join("intermediate_consumption.csv"))?;
    let (i_in, i_s, i_r, i_v) = (
        ic.column("input")?,
        ic.column("sector")?,
        ic.column("region")?,
        ic.column("value")?,
    );
    let mut ic_level = vec![0.0; nn * jj * jj];
    for row in &ic.rows {
        let (k, j, n) = (
            s_of(&ic, row, i_in)?,
            s_of(&ic, row, i_s)?,
            e_of(&ic, row, i_r)?,
        );
        ic_level[(n * jj + k) * jj + j] = ic.number(row, i_v, "intermediate consumption")?;
    }
    let mut va_share = vec![0.0; nn * jj];
    let mut io_share = vec![0.0; nn * jj * jj];
    for n in 0..nn {
        for j in 0..jj {
            let total: f64 = va_level[n * jj + j]
                + (0..jj)
                    .map(|k| ic_level[(n * jj + k) * jj + j])
                    .sum::<f64>();
            if total > 0.0 {
                va_share[n * jj + j] = va_level[n * jj + j] / total;
                for k in 0..jj {
                    io_share[(n * jj + k) * jj + j] = ic_level[(n * jj + k) * jj + j] / total;
                }
            } else {
                va_share[n * jj + j] = 1.0;
            }
        }
    }

    let fc = Table::read(&dir.join("final_consumption.csv"))?;
    let (c_s, c_r, c_v) = (
        fc.column("sector")?,
        fc.column("region")?,
        fc.column("value")?,
    );
    let mut final_share = vec![0.0; nn * jj];
    for row in &fc.rows {
        let (j, n) = (s_of(&fc, row, c_s)?, e_of(&fc, row, c_r)?);
        final_share[n * jj + j] = fc.non_negative(row, c_v, "final consumption")?;
    }
    for n in 0..nn {
        let total: f64 = final_share[n * jj..(n + 1) * jj].iter().sum();
        if total <= 0.0 {
            return Err(Error::data(
                &fc.path,
                0,
                format!("region {} has no final consumption", economies[n].name),
            ));
        }
        final_share[n * jj..(n + 1) * jj]
            .iter_mut()
            .for_each(|a| *a /= total);
    }

    let def = Table::read(&dir.join("deficit.csv"))?;
    let (d_r, d_v) = (def.column("region")?, def.column("D")?);
    let mut deficit = vec![f64::NAN; nn];
    for row in &def.rows {
        let n = e_of(&def, row, d_r)?;
        deficit[n] = def.number(row, d_v, "deficit")?;
    }
    if let Some(n) = deficit.iter().position(|d| d.is_nan()) {
        return Err(Error::data(
            &def.path,
            0,
            format!("no deficit row for region {}", economies[n].name),
        ));
    }

    let tr = Table::read(&dir.join("trade.csv"))?;
    let (r_s, r_e, r_i, r_v, r_b, r_c) = (
        tr.column("sector")?,
        tr.column("exporter")?,
        tr.column("importer")?,
        tr.column("value")?,
        tr.column("tariff_bln")?,
        tr.column("tariff_cfl")?,
    );
    let mut flows = Cube::zeros(jj, nn);
    let mut tariffs = Cube::zeros(jj, nn);
    let mut cfl = Cube::zeros(jj, nn);
    for row in &tr.rows {
        let (j, i, n) = (
            s_of(&tr, row, r_s)?,
            e_of(&tr, row, r_e)?,
            e_of(&tr, row, r_i)?,
        );
        let v = tr.non_negative(row, r_v, "value")?;
        flows.set(j, n, i, v);
        tariffs.set(j, n, i, tr.non_negative(row, r_b, "tariff_bln")?);
        cfl.set(j, n, i, tr.non_negative(row, r_c, "tariff_cfl")?);
        if i != n && v > 0.0 {
            sectors[j].traded = true;
        }
    }
    let value_added = (0..nn)
        .map(|n| va_level[n * jj..(n + 1) * jj].iter().sum())
        .collect();
    let mut tariff_sets = BTreeMap::new();
    tariff_sets.insert("cfl".to_string(), cfl);
    let b = Baseline {
        name: format!("Caliendo-Parro 2015 ({})", dir.display()),
        economies,
        sectors,
        flows,
        tariffs,
        flags: BTreeMap::new(),
        value_added,
        va_share,
        io_share,
        final_share,
        deficit,
        tariff_sets,
        product_groups: Vec::new(),
    };
    b.validate()?;
    Ok(b)
}

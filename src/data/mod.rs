//! World data: the base-year [`Baseline`] (economies, sectors, bilateral flows by sector
//! including domestic sales, data tariffs, input-output structure, deficits), its tidy-CSV
//! loader and validator ([`tidy`]), and the importer of the Caliendo–Parro replication files
//! ([`cp2015`]). The format is documented in `docs/baseline-format.md`.

pub mod cp2015;
pub(crate) mod csvio;
pub(crate) mod import;
pub(crate) mod spare;
pub mod synthetic;
pub mod tidy;

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// An economy of the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Economy {
    /// The code tables and scenario files use (ISO3, or a region code such as `ROW`).
    pub code: String,
    /// The economy's name, for reports.
    pub name: String,
}

/// A sector with its trade elasticity θ^j.
#[derive(Debug, Clone, PartialEq)]
pub struct Sector {
    /// The code tables and scenario files use.
    pub code: String,
    /// The sector's name, for reports.
    pub name: String,
    /// The trade elasticity θ^j (within 0.1 to 100): a 1% rise in a small supplier's delivered
    /// cost lowers its share of the sector's purchases by about θ^j percent, as
    /// `π'_ni^j = π_ni^j (κ̂_ni^j ĉ_i^j / P̂_n^j)^{-θ^j}` (MODEL.md §1).
    pub theta: f64,
    /// Whether the sector trades across borders; a non-traded sector has only domestic flows
    /// (`sectors.csv`'s optional `traded`, default `true`).
    pub traded: bool,
}

/// The range of trade elasticities θ tradesim accepts. Caliendo & Parro's (2015) sector
/// estimates run from 1.45 (machinery n.e.c.) to 64.85 (petroleum)
/// (`../shared/data/cp2015/theta.csv`); below 0.1 a tariff barely moves trade shares while the
/// welfare formulas divide by θ, and above 100 a sector's trade collapses onto its cheapest
/// supplier and price indices overflow.
pub(crate) const THETA_RANGE: (f64, f64) = (0.1, 100.0);

/// Why `theta` is not an acceptable trade elasticity, if it is not.
pub(crate) fn check_theta(theta: f64) -> std::result::Result<(), String> {
    let (lo, hi) = THETA_RANGE;
    if theta.is_finite() && (lo..=hi).contains(&theta) {
        Ok(())
    } else if theta.is_finite() && theta > 0.0 {
        Err(format!("θ = {theta} is outside the range tradesim accepts, {lo} to {hi}: estimates of the trade elasticity lie between about 1 and 65 (Caliendo and Parro 2015: 1.45 to 64.85); {}", if theta < lo { "a θ this small makes the welfare formulas divide by almost zero" } else { "a θ this large puts a sector's whole trade on its cheapest supplier and overflows price indices" }))
    } else {
        Err(format!("θ = {theta}; the trade elasticity must be a positive number between {lo} and {hi} (an estimate's coefficient on log(1+tariff) is −θ)"))
    }
}

/// A dense sector × importer × exporter array, the layout of flows and tariffs:
/// element `(j, n, i)` is what importer `n` buys from exporter `i` in sector `j`.
///
/// Its values come from and go back to the thread's spare buffers (the crate-internal
/// `data::spare`), so that a batch thread's draws reuse the memory of the draw before.
#[derive(Debug, PartialEq)]
pub struct Cube {
    /// J, the number of sectors.
    pub sectors: usize,
    /// N, the number of economies (importers and exporters alike).
    pub economies: usize,
    /// The J·N·N values, element `(j, n, i)` at `(j·N + n)·N + i`.
    pub data: Vec<f64>,
}

impl Clone for Cube {
    fn clone(&self) -> Self {
        let mut data = spare::take(self.data.len());
        data.copy_from_slice(&self.data);
        Cube {
            sectors: self.sectors,
            economies: self.economies,
            data,
        }
    }
}

impl Drop for Cube {
    /// The values go back to the thread's spares (when it keeps them).
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.data));
    }
}

impl Cube {
    pub(crate) fn zeros(sectors: usize, economies: usize) -> Self {
        Cube {
            sectors,
            economies,
            data: spare::zeros(sectors * economies * economies),
        }
    }
    #[inline]
    pub(crate) fn idx(&self, j: usize, n: usize, i: usize) -> usize {
        (j * self.economies + n) * self.economies + i
    }
    /// Element `(j, n, i)`: sector `j`, importer `n`, exporter `i`.
    #[inline]
    pub fn get(&self, j: usize, n: usize, i: usize) -> f64 {
        self.data[self.idx(j, n, i)]
    }
    /// Set element `(j, n, i)` (sector `j`, importer `n`, exporter `i`) to `v`.
    #[inline]
    pub fn set(&mut self, j: usize, n: usize, i: usize, v: f64) {
        let k = self.idx(j, n, i);
        self.data[k] = v;
    }
    /// The importer-by-exporter block of sector `j`.
    pub(crate) fn sector(&self, j: usize) -> &[f64] {
        let s = self.economies * self.economies;
        &self.data[j * s..(j + 1) * s]
    }
}

/// The base-year world in levels. Flows are at factory prices (before tariffs); expenditure
/// on a cell is `flow·(1+tariff)`. Notation follows Caliendo & Parro (2015): `n` importer,
/// `i` exporter, `j, k` sectors.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// A label for reports (the directory or built-in name).
    pub name: String,
    /// The economies, in the order of the indices `n` and `i` of every array.
    pub economies: Vec<Economy>,
    /// The sectors with their θ^j, in the order of the indices `j` and `k`.
    pub sectors: Vec<Sector>,
    /// `M_ni^j`, factory-price flows.
    pub flows: Cube,
    /// `τ_ni^j`, the data tariff (before the scenario's policies).
    pub tariffs: Cube,
    /// Where each flow comes from (`observed`, `gravity_filled`, …), when the data says.
    pub flags: BTreeMap<(usize, usize, usize), String>,
    /// `w_n L_n`, value added per economy.
    pub value_added: Vec<f64>,
    /// `γ_n^j`, value-added share of sector j's costs, `[n*J + j]`.
    pub va_share: Vec<f64>,
    /// `γ_n^{k,j}`, share of input k in sector j's costs, `[(n*J + k)*J + j]`; read it with
    /// [`Baseline::io_share`].
    pub io_share: Vec<f64>,
    /// `α_n^j`, final-demand shares, `[n*J + j]`.
    pub final_share: Vec<f64>,
    /// `D_n`, the trade deficit (imports minus exports at factory prices).
    pub deficit: Vec<f64>,
    /// Named alternative tariff matrices (see `ToTariffSet` schedules).
    pub tariff_sets: BTreeMap<String, Cube>,
    /// Named product groups of the world (`product_groups.csv`): the tariff peaks inside a
    /// sector that scenario files refer to by name.
    pub product_groups: Vec<BaselineProductGroup>,
}

/// A named product group of the baseline (one row of `product_groups.csv`): a share of an
/// importer's imports in a sector with its own base-year (MFN) rate. A row with
/// `exporter = None` applies to imports from every partner without a row of its own.
///
/// The policy engine's rule (MODEL.md §3) holds the sector rate at the trade-weighted average
/// of the groups and the rest: `τ = Σ_g w_g τ_g + (1 − Σ_g w_g) τ_rest`, so the loader
/// requires `Σ_g w_g τ_g ≤ τ` for every cell with a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineProductGroup {
    /// Index of the importer in [`Baseline::economies`].
    pub importer: usize,
    /// Lowercase name, unique per importer (e.g. `rice`, `beef`).
    pub group: String,
    /// Index of the sector in [`Baseline::sectors`] the group is part of.
    pub sector: usize,
    /// `None`: every partner without a row of its own.
    pub exporter: Option<usize>,
    /// The group's share of the importer's imports in `sector` (from `exporter`, or from all).
    pub weight: f64,
    /// The group's MFN ad valorem (equivalent) rate in the base year, a fraction.
    pub base_rate: f64,
    /// The source key, explained in the world's PROVENANCE.md.
    pub source: String,
}

impl Baseline {
    /// N, the number of economies.
    pub fn n_economies(&self) -> usize {
        self.economies.len()
    }
    /// J, the number of sectors.
    pub fn n_sectors(&self) -> usize {
        self.sectors.len()
    }
    /// The index `n` of the economy with code `code`, if the baseline has it.
    pub fn economy_index(&self, code: &str) -> Option<usize> {
        self.economies.iter().position(|e| e.code == code)
    }
    /// The index `j` of the sector with code `code`, if the baseline has it.
    pub fn sector_index(&self, code: &str) -> Option<usize> {
        self.sectors.iter().position(|s| s.code == code)
    }
    /// `γ_n^{k,j}`: in economy `n`, the share of inputs from sector `k` (the *input*) in the
    /// costs of sector `j` (the *using* sector), MODEL.md §1's
    /// `ĉ_n^j = ŵ_n^{γ_n^j} Π_k (P̂_n^k)^{γ_n^{k,j}}`, with `γ_n^j + Σ_k γ_n^{k,j} = 1`.
    /// The expenditure equation reads the same share the other way round: what sector `k`
    /// buys from sector `j` is `io_share(n, j, k)` of `k`'s output.
    #[inline]
    pub fn io_share(&self, n: usize, k: usize, j: usize) -> f64 {
        let jj = self.sectors.len();
        self.io_share[(n * jj + k) * jj + j]
    }
    /// The named product groups of `importer` called `name` (its all-partners row and its
    /// exporter-specific rows).
    pub fn product_group_rows<'a>(
        &'a self,
        importer: usize,
        name: &'a str,
    ) -> impl Iterator<Item = &'a BaselineProductGroup> + 'a {
        self.product_groups
            .iter()
            .filter(move |g| g.importer == importer && g.group == name)
    }
    /// The names of `importer`'s product groups, in file order, each once.
    pub fn product_group_names(&self, importer: usize) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for g in self
            .product_groups
            .iter()
            .filter(|g| g.importer == importer)
        {
            if !names.contains(&g.group.as_str()) {
                names.push(&g.group);
            }
        }
        names
    }
    /// What this world is, in one line computed from the data: its named product groups, how
    /// many of its bilateral goods cells (ordered pairs of economies) are observed and from
    /// which sources (the `observed:SOURCE` flags of `flows.csv`), and whether services trade.
    /// Goods sectors are the traded sectors with a positive tariff somewhere; the other traded
    /// sectors are services. E.g. `apac-americas-2014: sector-average tariffs plus 17 named
    /// product groups; 812 of 1,892 bilateral goods cells observed (COW4, TRADHIST), the rest
    /// gravity-filled; services traded (gravity-filled)`.
    pub fn describe(&self) -> String {
        let (nn, jj) = (self.n_economies(), self.n_sectors());
        let goods: Vec<usize> = (0..jj)
            .filter(|&j| self.sectors[j].traded && self.tariffs.sector(j).iter().any(|&t| t > 0.0))
            .collect();
        let mut groups: Vec<(usize, &str)> = self
            .product_groups
            .iter()
            .map(|g| (g.importer, g.group.as_str()))
            .collect();
        groups.sort_unstable();
        groups.dedup();
        let mut parts = vec![if groups.is_empty() {
            "sector-average tariffs".to_string()
        } else {
            format!(
                "sector-average tariffs plus {} named product group{}",
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            )
        }];
        let mut sources: Vec<&str> = Vec::new();
        let mut observed = 0usize;
        for n in 0..nn {
            for i in (0..nn).filter(|&i| i != n) {
                let mut seen = false;
                for &j in &goods {
                    if let Some(src) = self
                        .flags
                        .get(&(j, n, i))
                        .and_then(|f| f.strip_prefix("observed"))
                    {
                        seen = true;
                        let src = src.trim_start_matches(':');
                        let src = src.split('_').next().unwrap_or(src);
                        if !src.is_empty() && !sources.contains(&src) {
                            sources.push(src);
                        }
                    }
                }
                observed += seen as usize;
            }
        }
        let pairs = nn * (nn - 1);
        if self.flags.is_empty() {
            parts.push("flows as given (not flagged observed or filled)".to_string());
        } else {
            let thousands = |x: usize| {
                let s = x.to_string();
                let mut out = String::new();
                for (k, c) in s.chars().enumerate() {
                    if k > 0 && (s.len() - k).is_multiple_of(3) {
                        out.push(',');
                    }
                    out.push(c);
                }
                out
            };
            parts.push(format!(
                "{} of {} bilateral goods cells observed{}, the rest gravity-filled",
                thousands(observed),
                thousands(pairs),
                if sources.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", sources.join(", "))
                }
            ));
        }
        let services: Vec<&str> = (0..jj)
            .filter(|j| self.sectors[*j].traded && !goods.contains(j))
            .filter(|&j| (0..nn).any(|n| (0..nn).any(|i| i != n && self.flows.get(j, n, i) > 0.0)))
            .map(|j| self.sectors[j].code.as_str())
            .collect();
        if !services.is_empty() {
            parts.push(format!(
                "{} traded without tariffs{}",
                services.join(", "),
                if services.iter().all(|c| self
                    .flags
                    .iter()
                    .any(|((j, _, _), f)| self.sectors[*j].code == *c && f == "gravity_filled"))
                {
                    " (bilateral cells gravity-filled)"
                } else {
                    ""
                }
            ));
        }
        format!("{}: {}", self.name, parts.join("; "))
    }

    /// Whether the baseline has input-output links (some `γ_n^j < 1`).
    pub fn has_input_output(&self) -> bool {
        self.va_share.iter().any(|&g| g < 1.0 - 1e-12)
    }
    /// Drop the input-output links: `γ_n^j = 1`, `γ_n^{k,j} = 0`, value added = gross output.
    pub(crate) fn without_input_output(&self) -> Baseline {
        let mut b = self.clone();
        b.va_share.iter_mut().for_each(|g| *g = 1.0);
        b.io_share.iter_mut().for_each(|g| *g = 0.0);
        let (nn, jj) = (b.n_economies(), b.n_sectors());
        for n in 0..nn {
            b.value_added[n] = (0..jj)
                .map(|j| (0..nn).map(|m| b.flows.get(j, m, n)).sum::<f64>())
                .sum();
        }
        b.final_share = derived_final_shares(&b);
        b
    }

    /// Gross output `Y_i^j = Σ_n M_ni^j`, `[i*J + j]`.
    pub(crate) fn gross_output(&self) -> Vec<f64> {
        let (nn, jj) = (self.n_economies(), self.n_sectors());
        let mut y = vec![0.0; nn * jj];
        for j in 0..jj {
            for n in 0..nn {
                for i in 0..nn {
                    y[i * jj + j] += self.flows.get(j, n, i);
                }
            }
        }
        y
    }

    /// Expenditure `X_n^j = Σ_i M_ni^j (1+τ_ni^j)` under the tariffs `tau`, `[n*J + j]`.
    pub(crate) fn expenditure(&self, tau: &Cube) -> Vec<f64> {
        let (nn, jj) = (self.n_economies(), self.n_sectors());
        let mut x = vec![0.0; nn * jj];
        for j in 0..jj {
            for n in 0..nn {
                x[n * jj + j] = (0..nn)
                    .map(|i| self.flows.get(j, n, i) * (1.0 + tau.get(j, n, i)))
                    .sum();
            }
        }
        x
    }

    /// Total exports (foreign sales at factory prices) per economy.
    pub fn exports(&self) -> Vec<f64> {
        exports_of(&self.flows)
    }
    /// Total imports (foreign purchases at factory prices) per economy.
    pub(crate) fn imports(&self) -> Vec<f64> {
        imports_of(&self.flows)
    }

    /// Check the invariants every solver relies on; used by every loader.
    pub(crate) fn validate(&self) -> Result<()> {
        let (nn, jj) = (self.n_economies(), self.n_sectors());
        let ctx = format!("baseline {}", self.name);
        for s in &self.sectors {
            if let Err(msg) = check_theta(s.theta) {
                return Err(Error::invalid(&ctx, format!("sector {}: {msg}", s.code)));
            }
        }
        for n in 0..nn {
            let domestic: f64 = (0..jj).map(|j| self.flows.get(j, n, n)).sum();
            if !(domestic > 0.0) {
                return Err(Error::invalid(
                    &ctx,
                    format!(
                        "economy {} has no domestic sales; a baseline needs internal flows (exporter = importer) for every economy",
                        self.economies[n].code
                    ),
                ));
            }
        }
        for j in 0..jj {
            for n in 0..nn {
                let absorption: f64 = (0..nn).map(|i| self.flows.get(j, n, i)).sum();
                if !(absorption > 0.0) {
                    return Err(Error::invalid(
                        &ctx,
                        format!(
                            "economy {} buys nothing in sector {} (no domestic sales, no imports); give it a positive domestic flow",
                            self.economies[n].code, self.sectors[j].code
                        ),
                    ));
                }
                for i in 0..nn {
                    let (v, t) = (self.flows.get(j, n, i), self.tariffs.get(j, n, i));
                    if !(v.is_finite() && v >= 0.0 && t.is_finite() && t >= 0.0) {
                        return Err(Error::invalid(
                            &ctx,
                            format!(
                                "flow {}→{} in {}: value {v}, tariff {t}; both must be finite and non-negative",
                                self.economies[i].code, self.economies[n].code, self.sectors[j].code
                            ),
                        ));
                    }
                }
            }
        }
        for n in 0..nn {
            let va = self.value_added[n];
            if !(va.is_finite() && va > 0.0) {
                return Err(Error::invalid(
                    &ctx,
                    format!(
                        "economy {}: value added is {va}; it must be positive",
                        self.economies[n].code
                    ),
                ));
            }
            if !self.deficit[n].is_finite() {
                return Err(Error::invalid(
                    &ctx,
                    format!(
                        "economy {}: deficit is not a finite number",
                        self.economies[n].code
                    ),
                ));
            }
            let a: f64 = (0..jj).map(|j| self.final_share[n * jj + j]).sum();
            if (a - 1.0).abs() > 1e-6 {
                return Err(Error::invalid(
                    &ctx,
                    format!(
                        "economy {}: final-demand shares sum to {a}, not 1",
                        self.economies[n].code
                    ),
                ));
            }
            for j in 0..jj {
                let s: f64 = self.va_share[n * jj + j]
                    + (0..jj).map(|k| self.io_share(n, k, j)).sum::<f64>();
                if (s - 1.0).abs() > 1e-6 {
                    return Err(Error::invalid(
                        &ctx,
                        format!(
                            "economy {}, sector {}: value-added and input shares sum to {s}, not 1",
                            self.economies[n].code, self.sectors[j].code
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Foreign sales per exporter: `Σ_j Σ_{n≠i} M_ni^j`.
pub fn exports_of(flows: &Cube) -> Vec<f64> {
    let nn = flows.economies;
    let mut e = vec![0.0; nn];
    for j in 0..flows.sectors {
        for n in 0..nn {
            for (i, ei) in e.iter_mut().enumerate() {
                if i != n {
                    *ei += flows.get(j, n, i);
                }
            }
        }
    }
    e
}

/// Foreign purchases per importer: `Σ_j Σ_{i≠n} M_ni^j`.
pub fn imports_of(flows: &Cube) -> Vec<f64> {
    let nn = flows.economies;
    let mut m = vec![0.0; nn];
    for j in 0..flows.sectors {
        for (n, mn) in m.iter_mut().enumerate() {
            *mn += (0..nn)
                .filter(|&i| i != n)
                .map(|i| flows.get(j, n, i))
                .sum::<f64>();
        }
    }
    m
}

/// Final-demand shares implied by the flows when none are given:
/// `α_n^j ∝ max(0, X_n^j − Σ_k γ_n^{j,k} Y_n^k)` (expenditure not used as intermediate input).
pub(crate) fn derived_final_shares(b: &Baseline) -> Vec<f64> {
    let (nn, jj) = (b.n_economies(), b.n_sectors());
    let x = b.expenditure(&b.tariffs);
    let y = b.gross_output();
    let mut alpha = vec![0.0; nn * jj];
    for n in 0..nn {
        for j in 0..jj {
            let inter: f64 = (0..jj).map(|k| b.io_share(n, j, k) * y[n * jj + k]).sum();
            alpha[n * jj + j] = (x[n * jj + j] - inter).max(0.0);
        }
        let total: f64 = alpha[n * jj..(n + 1) * jj].iter().sum();
        if total > 0.0 {
            alpha[n * jj..(n + 1) * jj]
                .iter_mut()
                .for_each(|a| *a /= total);
        } else {
            alpha[n * jj..(n + 1) * jj]
                .iter_mut()
                .for_each(|a| *a = 1.0 / jj as f64);
        }
    }
    alpha
}

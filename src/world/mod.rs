//! The built-in baseline world `apac-americas-2014`: 43 economies of Asia-Pacific, the
//! Americas and Europe plus a rest of the world (`ROW`), four aggregate sectors, base year 2014.
//!
//! [`build`] is a pure function of the sourced facts (`../shared/facts/`, see its `SOURCES.md`)
//! and writes the world in the tidy baseline format (`docs/baseline-format.md`). The steps:
//!
//! 1. **Gravity fit** on the observed pairs (COW4, 702 pairs among 27 economies): PPML
//!    (Santos Silva & Tenreyro 2006) of the flow on ln great-circle distance between capitals,
//!    contiguity and common official language, with exporter and importer effects
//!    ([`gravity::fit_hdfe`], the project's PPML-HDFE; [`gravity::fit_ppml`] is the dense
//!    reference the tests hold it to).
//! 2. **Prior matrix**: observed cells keep their value; the other pairs among the 43 get the
//!    fitted value `exp(x_ij·b + o_i + d_j)`; for the 16 economies with no observed flow the
//!    effects are imputed from the OLS line of the fitted effects on ln total exports (`o_i`)
//!    or ln total imports (`d_j`). Cells with ROW start as the residual of the facts' totals,
//!    `x_{i,ROW} = max(E_i − Σ_{j≠ROW} x_ij, f·E_i)`, `x_{ROW,j} = max(M_j − Σ_{i≠ROW} x_ij, f·M_j)`,
//!    with the floor `f` = [`ROW_FLOOR`].
//! 3. **Balancing**: RAS (Bacharach 1970) scales every international cell so that each listed
//!    economy's total exports and imports equal `economies_2014.csv`; ROW's row and column are
//!    free and absorb the rest (so ROW's modelled exports and imports are an output, reported).
//! 4. **Sectors**: every exporter's total to every destination is split with its export
//!    shares (WDI_SHARES), the residual "other" allocated proportionally:
//!    `x_ij^k = x_ij · s_i^k / (s_i^AGR + s_i^FMN + s_i^MAN)`.
//! 5. **Tariffs**: importer's MFN applied trade-weighted mean (WDI_MFN_W) on every goods flow.
//! 6. **Domestic sales** ([`domestic_sales`]): goods `D_n^k = a^k · GDP_n`; services
//!    `D_n^SRV = (GDP_n − Σ_goods γ^k (D_n^k + EXP_n^k)) / γ^SRV`, so that value added
//!    `Σ_k γ^k Y_n^k` equals GDP exactly; adjusted where a sector's final demand would fall
//!    below [`FD_MIN`] of its absorption. Final demand shares follow from market clearing,
//!    `α_n^k = (X_n^k − Σ_j γ^{k,j} Y_n^j) / I_n`, so the data is an equilibrium at the data tariffs.

pub mod facts;
pub mod gravity;
pub mod ras;

use crate::error::{Error, Result};
use facts::{EconomyFacts, Facts};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// Sector codes, names, and trade elasticities θ.
///
/// θ: Caliendo & Parro (2015, RES 82(1), Table 1; replication data `cp2015/theta.csv`), averaged
/// over the CP sectors in each aggregate with weights equal to each CP sector's international
/// trade in `cp2015/trade.csv` (sum of `value` over exporter ≠ importer, 31 regions, 1993):
/// `θ^K = Σ_{s∈K} w_s θ_s / Σ_{s∈K} w_s`. AGR = Agriculture (9.11), Food (2.62) → 5.14;
/// FMN = Mining (13.53), Petroleum (64.85) → 21.35; MAN = the other 16 traded CP sectors
/// (Textile … Other, Basic metals included) → 6.48; SRV: CP's common value for services, 8.22
/// (unused: services are not traded). Recomputed by the test `theta_matches_cp2015`.
pub const SECTORS: [(&str, &str, f64, bool); 4] = [
    ("AGR", "Agriculture & food", 5.14, true),
    ("FMN", "Fuels & mining", 21.35, true),
    ("MAN", "Manufactures", 6.48, true),
    ("SRV", "Services (non-traded)", 8.22, false),
];

/// Cost shares `γ^{k,j}` (inputs k = AGR, FMN, MAN, SRV) of each using sector j, the same in
/// every economy: Caliendo & Parro (2015) replication data, `intermediate_consumption.csv` and
/// `value_added.csv` summed over the 31 regions of 1993 and over the CP sectors in each
/// aggregate, `γ^{k,j} = IC^{k,j} / (Σ_k IC^{k,j} + VA^j)`. The value-added share is
/// `γ^j = 1 − Σ_k γ^{k,j}` (= VA^j/(ΣIC+VA), rounded to 6 decimals). MODEL-GENERATED (an
/// aggregation of CP's 1993 world, assumed for every economy in 2014).
pub const IO_SHARES: [[f64; 4]; 4] = [
    [0.314518, 0.009544, 0.083436, 0.187576], // AGR uses
    [0.004101, 0.270589, 0.082068, 0.222874], // FMN uses
    [0.012679, 0.018497, 0.399683, 0.226242], // MAN uses
    [0.014538, 0.017272, 0.088370, 0.277396], // SRV uses
];

/// Domestic sales of each goods sector as a ratio of GDP, `a^k`: Caliendo & Parro (2015)
/// replication data, world sum of the domestic rows (exporter = importer) of `trade.csv` over
/// world value added, 1993, aggregated over the CP sectors: AGR 0.153893, FMN 0.051672,
/// MAN 0.358808. MODEL-GENERATED (CP's 1993 world ratio assumed for every economy in 2014).
pub const DOMESTIC_GDP_RATIO: [f64; 3] = [0.153893, 0.051672, 0.358808];

/// Names of the gravity covariates, in the order of [`gravity::Obs::x`]: ln great-circle
/// distance between capitals (km), contiguity (0/1), common official language (0/1).
pub const COVARIATES: [&str; 3] = ["ldist", "contig", "lang"];

/// The value-added share `γ^j = 1 − Σ_k γ^{k,j}` of sector `j`.
pub fn va_share(j: usize) -> f64 {
    1.0 - IO_SHARES[j].iter().sum::<f64>()
}

/// Floor of the prior trade with ROW as a share of an economy's total exports (imports), used
/// where the facts' total minus the prior flows to (from) the 42 other listed economies is
/// smaller. ASSUMPTION (every economy trades with the rest of the world); labelled in
/// PROVENANCE.md and reported in BUILD.md.
pub const ROW_FLOOR: f64 = 0.02;

/// Economy whose export shares stand in for Taiwan's (WDI does not cover Taiwan): Korea.
/// ASSUMPTION (both are electronics-heavy manufactures exporters); labelled in PROVENANCE.md.
pub const TWN_SHARES_PROXY: &str = "KOR";

/// Latin America and the Caribbean as present in this world (the paper's "LAC" also covers
/// the Caribbean and Central American economies inside ROW).
pub const LAC: [&str; 13] = [
    "MEX", "CHL", "PER", "COL", "CRI", "PAN", "BRA", "ARG", "PRY", "URY", "BOL", "ECU", "VEN",
];

/// The built world, in memory.
#[derive(Debug, Clone)]
pub struct World {
    /// Economy codes, ROW last.
    pub codes: Vec<String>,
    pub names: Vec<String>,
    /// GDP = value added, US$.
    pub gdp: Vec<f64>,
    /// Total international flows `x_ij` after balancing (row-major, n × n, zero diagonal).
    pub totals: Vec<f64>,
    /// Whether cell (i, j) is observed (COW4).
    pub observed: Vec<bool>,
    /// Sector shares of each exporter's international sales (AGR, FMN, MAN).
    pub shares: Vec<[f64; 3]>,
    /// Domestic sales per economy and sector (AGR, FMN, MAN, SRV).
    pub domestic: Vec<[f64; 4]>,
    /// Applied (MFN) tariff per importer, fraction, for every goods sector.
    pub tariff: Vec<f64>,
    /// Final-demand shares per economy and sector.
    pub alpha: Vec<[f64; 4]>,
    /// Cost shares per economy, `io[n][j][k]` = share of input k in sector j (VA = the rest).
    pub io: Vec<[[f64; 4]; 4]>,
    /// Human-readable figures of the build (fit, balancing, checks, paper comparison).
    pub summary: String,
}

fn bn(x: f64) -> f64 {
    x / 1e9
}

/// Builds the world from the facts in `facts_dir`. Pure: no IO besides reading the facts.
pub fn build(facts_dir: &Path) -> Result<World> {
    let facts = Facts::load(facts_dir)?;
    build_from(&facts)
}

/// Builds the world from loaded facts (steps 1–6 of the module documentation). Each step
/// appends its figures to the build summary (`BUILD.md`).
pub fn build_from(facts: &Facts) -> Result<World> {
    let mut b = Builder::new(facts);
    let mut a = b.gravity_prior()?; // steps 1-2
    b.row_prior(&mut a);
    b.balance(&mut a)?; // step 3
    let shares = b.sector_shares()?; // step 4
    let tariff = b.tariffs(); // step 5
    let Domestic {
        domestic,
        alpha,
        io,
    } = b.domestic(&a, &shares, &tariff)?; // step 6
    b.paper_comparison(&a);
    let ec = &facts.economies;
    Ok(World {
        codes: ec.iter().map(|e| e.code.clone()).collect(),
        names: ec.iter().map(|e| e.name.clone()).collect(),
        gdp: ec.iter().map(|e| e.gdp).collect(),
        totals: a,
        observed: b.observed,
        shares,
        domestic,
        tariff,
        alpha,
        io,
        summary: b.summary,
    })
}

/// Gravity covariates of the pair (i, j): ln great-circle distance between the capitals
/// (km, at least 1), contiguity, common official language (see [`COVARIATES`]).
fn covariates(ec: &[EconomyFacts], i: usize, j: usize) -> Vec<f64> {
    let (a, b) = (&ec[i], &ec[j]);
    let d = gravity::great_circle_km(
        a.lat_lon.unwrap_or((0.0, 0.0)),
        b.lat_lon.unwrap_or((0.0, 0.0)),
    );
    let contig = a.borders.contains(&b.code) || b.borders.contains(&a.code);
    let lang = a.languages.iter().any(|l| b.languages.contains(l));
    vec![d.max(1.0).ln(), contig as u8 as f64, lang as u8 as f64]
}

/// Step 6's results per economy: domestic sales, final-demand shares, cost shares.
struct Domestic {
    domestic: Vec<[f64; 4]>,
    alpha: Vec<[f64; 4]>,
    io: Vec<[[f64; 4]; 4]>,
}

/// The state shared by the build steps. Matrices are row-major `n × n`, exporter `i` by
/// importer `j` at `i * n + j`; ROW is the last economy.
struct Builder<'a> {
    facts: &'a Facts,
    ec: &'a [EconomyFacts],
    n: usize,
    row: usize,
    idx: HashMap<&'a str, usize>,
    /// Whether cell (i, j) is observed, and its observed value (US$).
    observed: Vec<bool>,
    obs_value: Vec<f64>,
    summary: String,
}

impl<'a> Builder<'a> {
    fn new(facts: &'a Facts) -> Self {
        let ec = facts.economies.as_slice();
        let n = ec.len();
        let idx: HashMap<&str, usize> = ec
            .iter()
            .enumerate()
            .map(|(i, e)| (e.code.as_str(), i))
            .collect();
        let mut observed = vec![false; n * n];
        let mut obs_value = vec![0.0; n * n];
        for f in &facts.bilateral {
            let (i, j) = (idx[f.exporter.as_str()], idx[f.importer.as_str()]);
            observed[i * n + j] = true;
            obs_value[i * n + j] = f.value;
        }
        Builder {
            facts,
            ec,
            n,
            row: n - 1, // ROW is last (Facts::load guarantees it)
            idx,
            observed,
            obs_value,
            summary: String::new(),
        }
    }

    /// Steps 1–2: the PPML fit on the observed pairs and the prior matrix among the listed
    /// economies: observed cells as observed, the others `exp(x_ij·b + o_i + d_j)`, with the
    /// effects of economies without observed flows imputed by OLS on ln exports / ln imports.
    /// Cells with ROW are left at zero for [`Builder::row_prior`].
    fn gravity_prior(&mut self) -> Result<Vec<f64>> {
        let (facts, ec, n, row, idx) = (self.facts, self.ec, self.n, self.row, &self.idx);
        let (observed, obs_value) = (&self.observed, &self.obs_value);
        let summary = &mut self.summary;
        let cov = |i: usize, j: usize| covariates(ec, i, j);
        let mut exp_ids: Vec<usize> = facts
            .bilateral
            .iter()
            .map(|f| idx[f.exporter.as_str()])
            .collect();
        exp_ids.sort_unstable();
        exp_ids.dedup();
        let mut imp_ids: Vec<usize> = facts
            .bilateral
            .iter()
            .map(|f| idx[f.importer.as_str()])
            .collect();
        imp_ids.sort_unstable();
        imp_ids.dedup();
        let exp_pos: HashMap<usize, usize> =
            exp_ids.iter().enumerate().map(|(p, &i)| (i, p)).collect();
        let imp_pos: HashMap<usize, usize> =
            imp_ids.iter().enumerate().map(|(p, &i)| (i, p)).collect();
        let obs: Vec<gravity::Obs> = facts
            .bilateral
            .iter()
            .map(|f| {
                let (i, j) = (idx[f.exporter.as_str()], idx[f.importer.as_str()]);
                gravity::Obs {
                    exporter: exp_pos[&i],
                    importer: imp_pos[&j],
                    x: cov(i, j),
                    y: bn(f.value),
                }
            })
            .collect();
        let exp_labels: Vec<String> = exp_ids.iter().map(|&i| ec[i].code.clone()).collect();
        let imp_labels: Vec<String> = imp_ids.iter().map(|&j| ec[j].code.clone()).collect();
        let fit = gravity::fit_hdfe(&obs, &COVARIATES, &exp_labels, &imp_labels)?;
        let _ = writeln!(
            summary,
            "## Gravity fit (PPML, Santos Silva & Tenreyro 2006) — MODEL-GENERATED\n\n\
         {} observed pairs among {} exporters and {} importers (COW4), flows in US$ bn; \
         exporter and importer effects; heteroskedasticity-robust standard errors (fixest's \
         small-sample correction). Fitted with `src/estimate` (PPML-HDFE).\n\n\
         | covariate | coefficient | robust s.e. |\n|---|---|---|",
            obs.len(),
            exp_ids.len(),
            imp_ids.len()
        );
        for (name, (b, s)) in ["ln distance (km)", "contiguity", "common official language"]
            .iter()
            .zip(fit.beta.iter().zip(&fit.se))
        {
            let _ = writeln!(summary, "| {name} | {b:.4} | {s:.4} |");
        }
        let _ = writeln!(
            summary,
            "\nIRLS iterations {}, deviance {:.4}, pseudo-R² (squared correlation of observed and \
         fitted) {:.4}.\n",
            fit.iterations, fit.deviance, fit.pseudo_r2
        );

        let lx: Vec<f64> = exp_ids.iter().map(|&i| ec[i].exports.ln()).collect();
        let (ao, bo) = gravity::ols_line(&lx, &fit.exporter_fe);
        let lm: Vec<f64> = imp_ids.iter().map(|&j| ec[j].imports.ln()).collect();
        let (ad, bd) = gravity::ols_line(&lm, &fit.importer_fe);
        let o = |i: usize| {
            exp_pos
                .get(&i)
                .map(|&p| fit.exporter_fe[p])
                .filter(|v| v.is_finite())
                .unwrap_or(ao + bo * ec[i].exports.ln())
        };
        let d = |j: usize| {
            imp_pos
                .get(&j)
                .map(|&p| fit.importer_fe[p])
                .filter(|v| v.is_finite())
                .unwrap_or(ad + bd * ec[j].imports.ln())
        };
        let _ = writeln!(
        summary,
        "Effects imputed for the {} economies with no observed flow: o_i = {ao:.3} + {bo:.3}·ln E_i, \
         d_j = {ad:.3} + {bd:.3}·ln M_j (OLS on the fitted effects; the intercepts depend on the effects' normalisation, o_i + d_j does not).\n",
        n - 1 - exp_ids.len()
    );
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let k = i * n + j;
                a[k] = if observed[k] {
                    obs_value[k]
                } else if i == row || j == row {
                    0.0 // set below, from the residuals
                } else {
                    let x = cov(i, j);
                    let eta: f64 =
                        x.iter().zip(&fit.beta).map(|(a, b)| a * b).sum::<f64>() + o(i) + d(j);
                    eta.exp() * 1e9
                };
            }
        }

        Ok(a)
    }

    /// Cells with ROW: the residual of the facts' totals after the prior flows among the listed
    /// economies, `x_{i,ROW} = max(E_i − Σ_{j≠ROW} x_ij, f·E_i)` (and likewise for imports),
    /// `f` = [`ROW_FLOOR`].
    fn row_prior(&mut self, a: &mut [f64]) {
        let (ec, n, row) = (self.ec, self.n, self.row);
        let summary = &mut self.summary;
        let mut floored = Vec::new();
        for i in 0..row {
            let rest: f64 = (0..row).map(|j| a[i * n + j]).sum();
            let x = ec[i].exports - rest;
            if x < ROW_FLOOR * ec[i].exports {
                floored.push(format!("{} exports", ec[i].code));
            }
            a[i * n + row] = x.max(ROW_FLOOR * ec[i].exports);
            let rest: f64 = (0..row).map(|s| a[s * n + i]).sum();
            let m = ec[i].imports - rest;
            if m < ROW_FLOOR * ec[i].imports {
                floored.push(format!("{} imports", ec[i].code));
            }
            a[row * n + i] = m.max(ROW_FLOOR * ec[i].imports);
        }
        let prior_row_x: f64 = a[row * n..(row + 1) * n].iter().sum();
        let prior_row_m: f64 = (0..n).map(|i| a[i * n + row]).sum();
        let _ = writeln!(
        summary,
        "Prior cells with ROW (residual of the facts' totals; floor {:.0}% of the total where the \
         residual is smaller: {}): ROW exports {:.1} bn, ROW imports {:.1} bn before balancing.\n",
        ROW_FLOOR * 100.0,
        if floored.is_empty() { "none".to_string() } else { floored.join(", ") },
        bn(prior_row_x),
        bn(prior_row_m)
    );
    }

    /// Step 3: RAS (Bacharach 1970) of every international cell to the listed economies'
    /// exports and imports, ROW free; reports how far the observed cells moved.
    fn balance(&mut self, a: &mut [f64]) -> Result<()> {
        let (ec, n, row) = (self.ec, self.n, self.row);
        let (observed, obs_value) = (&self.observed, &self.obs_value);
        let summary = &mut self.summary;
        let rows: Vec<Option<f64>> = (0..n)
            .map(|i| (i != row).then_some(ec[i].exports))
            .collect();
        let cols: Vec<Option<f64>> = (0..n)
            .map(|j| (j != row).then_some(ec[j].imports))
            .collect();
        let rep = ras::ras(a, n, &rows, &cols, 1e-12, 100_000)?;
        let row_x: f64 = a[row * n..(row + 1) * n].iter().sum();
        let row_m: f64 = (0..n).map(|i| a[i * n + row]).sum();
        let mut devs: Vec<(f64, usize)> = (0..n * n)
            .filter(|&k| observed[k] && obs_value[k] > 0.0)
            .map(|k| (a[k] / obs_value[k] - 1.0, k))
            .collect();
        devs.sort_by(|x, y| x.0.abs().total_cmp(&y.0.abs()));
        let q = |p: f64| {
            if devs.is_empty() {
                return 0.0;
            }
            devs[((devs.len() - 1) as f64 * p).round() as usize].0.abs() * 100.0
        };
        let within = |t: f64| devs.iter().filter(|x| x.0.abs() <= t).count();
        let obs_total: f64 = (0..n * n)
            .filter(|&k| observed[k])
            .map(|k| obs_value[k])
            .sum();
        let bal_total: f64 = (0..n * n).filter(|&k| observed[k]).map(|k| a[k]).sum();
        let _ = writeln!(
            summary,
            "## Balancing (RAS, Bacharach 1970) — MODEL-GENERATED\n\n\
         Converged in {} iterations; largest relative gap of the 43 economies' exports and imports \
         {:.1e}. ROW absorbs the rest: modelled ROW exports to the 43 = {:.1} bn (facts: ROW total \
         exports {:.1} bn, intra-ROW trade included), ROW imports from the 43 = {:.1} bn (facts \
         {:.1} bn).\n\n\
         Observed cells after balancing (balanced / observed − 1, {} positive cells): median \
         |dev| {:.1}%, 90th percentile {:.1}%, max {:.1}% ({}→{}); {} within ±5%, {} within \
         ±10%, {} within ±25%. Sum of observed cells {:.1} bn → {:.1} bn ({:+.2}%).\n",
            rep.iterations,
            rep.max_rel_gap,
            bn(row_x),
            bn(ec[row].exports),
            bn(row_m),
            bn(ec[row].imports),
            devs.len(),
            q(0.5),
            q(0.9),
            devs.last().map(|x| x.0 * 100.0).unwrap_or(0.0),
            devs.last().map(|x| ec[x.1 / n].code.as_str()).unwrap_or(""),
            devs.last().map(|x| ec[x.1 % n].code.as_str()).unwrap_or(""),
            within(0.05),
            within(0.10),
            within(0.25),
            bn(obs_total),
            bn(bal_total),
            (bal_total / obs_total - 1.0) * 100.0
        );

        Ok(())
    }

    /// Step 4: each exporter's normalised export shares `s_i^k / Σ_k s_i^k` (AGR, FMN, MAN).
    fn sector_shares(&mut self) -> Result<Vec<[f64; 3]>> {
        let (facts, ec, n, row) = (self.facts, self.ec, self.n, self.row);
        let summary = &mut self.summary;
        let norm = |s: [f64; 3]| {
            let t = s[0] + s[1] + s[2];
            [s[0] / t, s[1] / t, s[2] / t]
        };
        let proxy = ec
            .iter()
            .find(|e| e.code == TWN_SHARES_PROXY)
            .and_then(|e| e.shares)
            .map(norm);
        let (mut wsum, mut wsh) = (0.0, [0.0; 3]);
        for e in ec.iter().filter(|e| e.shares.is_some()) {
            let s = norm(e.shares.unwrap_or([1.0; 3]));
            wsum += e.exports;
            for k in 0..3 {
                wsh[k] += e.exports * s[k];
            }
        }
        let row_shares = [wsh[0] / wsum, wsh[1] / wsum, wsh[2] / wsum];
        let mut shares = Vec::with_capacity(n);
        for (i, e) in ec.iter().enumerate() {
            shares.push(match (e.shares, e.code.as_str()) {
            (Some(s), _) => norm(s),
            (None, "TWN") => proxy.ok_or_else(|| {
                Error::data(
                    &facts.economies_path,
                    e.line,
                    "TWN has no export shares and its proxy KOR has none either; give KOR's or TWN's share_agri, share_fuels_mining, share_manuf",
                )
            })?,
            (None, _) if i == row => row_shares,
            (None, c) => {
                return Err(Error::data(
                    &facts.economies_path,
                    e.line,
                    format!(
                        "{c} has no export shares; give share_agri, share_fuels_mining, share_manuf"
                    ),
                ))
            }
        });
        }
        let _ = writeln!(
        summary,
        "## Sector split\n\nROW export shares (export-weighted mean of the {} economies with WDI \
         shares, normalised) — MODEL-GENERATED: AGR {:.4}, FMN {:.4}, MAN {:.4}. TWN uses KOR's \
         shares (ASSUMPTION).\n",
        ec.iter().filter(|e| e.shares.is_some()).count(),
        row_shares[0],
        row_shares[1],
        row_shares[2]
    );

        Ok(shares)
    }

    /// Step 5: each importer's MFN trade-weighted mean as a fraction; the mean of the available
    /// rates where there is none (TWN, ROW).
    fn tariffs(&mut self) -> Vec<f64> {
        let ec = self.ec;
        let summary = &mut self.summary;
        let with_rate: Vec<f64> = ec.iter().filter_map(|e| e.mfn_all_weighted).collect();
        let fallback = with_rate.iter().sum::<f64>() / with_rate.len().max(1) as f64 / 100.0;
        let tariff: Vec<f64> = ec
            .iter()
            .map(|e| e.mfn_all_weighted.map(|t| t / 100.0).unwrap_or(fallback))
            .collect();
        let _ = writeln!(
        summary,
        "## Tariffs\n\nImporter's MFN applied trade-weighted mean (WDI_MFN_W) on all goods. TWN and \
         ROW (no data): the unweighted mean of the {} available rates, {:.4} — ASSUMPTION.\n",
        with_rate.len(),
        fallback
    );

        tariff
    }

    /// Step 6: domestic sales, final-demand shares and cost shares of every economy
    /// ([`domestic_sales`]).
    fn domestic(&mut self, a: &[f64], shares: &[[f64; 3]], tariff: &[f64]) -> Result<Domestic> {
        let (facts, ec, n) = (self.facts, self.ec, self.n);
        let summary = &mut self.summary;
        let mut domestic = Vec::with_capacity(n);
        let mut alpha = Vec::with_capacity(n);
        let mut adjusted = Vec::new();
        let mut io = Vec::with_capacity(n);
        for (i, e) in ec.iter().enumerate() {
            let exp_tot: f64 = a[i * n..(i + 1) * n].iter().sum();
            let exp = [0, 1, 2].map(|k| exp_tot * shares[i][k]);
            let imp = [0, 1, 2].map(|k| {
                (0..n).map(|s| a[s * n + i] * shares[s][k]).sum::<f64>() * (1.0 + tariff[i])
            });
            let d = domestic_sales(e.gdp, exp, imp).map_err(|m| {
                Error::data(&facts.economies_path, e.line, format!("{}: {m}", e.code))
            })?;
            for k in 0..3 {
                let base = DOMESTIC_GDP_RATIO[k] * e.gdp;
                if (d.domestic[k] / base - 1.0).abs() > 1e-9 {
                    adjusted.push(format!(
                        "{} {} ×{:.3}",
                        e.code,
                        SECTORS[k].0,
                        d.domestic[k] / base
                    ));
                }
            }
            let t: f64 = d.final_demand.iter().sum();
            alpha.push(d.final_demand.map(|f| f / t));
            domestic.push(d.domestic);
            if d.io != IO_SHARES {
                adjusted.push(format!(
                    "{} services input of goods ×{:.3} (moved to manufactures input)",
                    e.code,
                    d.io[2][3] / IO_SHARES[2][3]
                ));
            }
            io.push(d.io);
        }
        let _ = writeln!(
        summary,
        "## Domestic sales and final demand\n\nGoods D_n^k = a^k·GDP_n, services from value added = \
         GDP; α_n^k = (X_n^k − Σ_j γ^{{k,j}} Y_n^j) / I_n — MODEL-GENERATED. Where a sector's final \
         demand would fall below {:.0}% of its absorption X_n^k, that goods sector's domestic sales \
         are raised (or, for services, the goods sectors' domestic sales lowered) until it does \
         not: {}.\n",
        FD_MIN * 100.0,
        if adjusted.is_empty() { "none".to_string() } else { adjusted.join(", ") }
    );

        Ok(Domestic {
            domestic,
            alpha,
            io,
        })
    }

    /// Japan–Latin America trade and the LAC exporters' shares in Japan, against the paper.
    fn paper_comparison(&mut self, a: &[f64]) {
        let (n, idx, obs_value) = (self.n, &self.idx, &self.obs_value);
        let summary = &mut self.summary;
        if let Some(&jpn) = idx.get("JPN") {
            let lac: Vec<usize> = LAC.iter().filter_map(|c| idx.get(c).copied()).collect();
            let jx: f64 = lac.iter().map(|&j| a[jpn * n + j]).sum();
            let jm: f64 = lac.iter().map(|&i| a[i * n + jpn]).sum();
            let jx0: f64 = lac.iter().map(|&j| obs_value[jpn * n + j]).sum();
            let jm0: f64 = lac.iter().map(|&i| obs_value[i * n + jpn]).sum();
            let _ = writeln!(
        summary,
        "## Against the policy paper (FACTS.md)\n\nJapan's exports to the 13 LAC economies of this \
         world: {:.1} bn balanced ({:.1} bn observed cells only, before balancing); paper 33.8 bn \
         (all LAC). Japan's imports from them: {:.1} bn balanced ({:.1} bn observed); paper 30.4 bn.\n\n\
         Shares of LAC exports to Japan (balanced 2014; paper: 2011–2014 average):\n\n| economy | \
         baseline | paper |\n|---|---|---|",
        bn(jx),
        bn(jx0),
        bn(jm),
        bn(jm0)
    );
            for (c, p) in [("CHL", 34), ("BRA", 34), ("MEX", 10), ("PER", 9)] {
                let Some(&i) = idx.get(c) else { continue };
                let _ = writeln!(
                    summary,
                    "| {c} | {:.1}% | {p}% |",
                    a[i * n + jpn] / jm * 100.0
                );
            }
            let (ex, im) = (self.ec[jpn].exports, self.ec[jpn].imports);
            let _ = writeln!(
                summary,
                "\nLAC in Japan's totals: exports {:.1}%, imports {:.1}% (paper: 4.9% and 3.7%).\n",
                jx / ex * 100.0,
                jm / im * 100.0
            );
        }
        // Trade (exports + imports) with LAC, 2014, US$ bn; the paper quotes LAC's records.
        let lac: Vec<usize> = LAC.iter().filter_map(|c| idx.get(c).copied()).collect();
        const ASEAN: [&str; 10] = [
            "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM",
        ];
        let partners: [(&str, &[&str], f64); 5] = [
            ("China", &["CHN"], 254.0),
            ("ASEAN-10", &ASEAN, 57.0),
            ("Japan", &["JPN"], 54.0),
            ("Korea", &["KOR"], 45.0),
            ("India", &["IND"], 31.0),
        ];
        let _ = writeln!(
            summary,
            "Trade with the 13 LAC economies, exports + imports (paper: LAC's records, all LAC):\n\n\
             | partner | baseline | paper |\n|---|---|---|"
        );
        for (name, codes, paper) in partners {
            let ids: Vec<usize> = codes.iter().filter_map(|c| idx.get(c).copied()).collect();
            let t: f64 = ids
                .iter()
                .flat_map(|&p| lac.iter().map(move |&l| (p, l)))
                .map(|(p, l)| a[p * n + l] + a[l * n + p])
                .sum();
            let _ = writeln!(summary, "| {name} | {:.1} bn | {paper:.0} bn |", bn(t));
        }
        summary.push('\n');
    }
}

/// Final demand of every sector is kept at least this share of the sector's absorption
/// `X_n^k` when domestic sales are set ([`domestic_sales`]). ASSUMPTION (labelled in
/// PROVENANCE.md): without it, re-exporters (HKG, SGP) and fuel exporters (VEN, BRN, RUS, SAU)
/// get negative final demand from the world-average input-output shares.
pub const FD_MIN: f64 = 0.01;

/// Domestic sales of one economy and the final demand they imply.
#[derive(Debug, Clone, Copy)]
pub struct DomesticSales {
    /// `D_n^k`, sectors AGR, FMN, MAN, SRV.
    pub domestic: [f64; 4],
    /// `F_n^k = X_n^k − Σ_j γ^{k,j} Y_n^j`; they sum to income `I_n = GDP + tariff revenue + deficit`.
    pub final_demand: [f64; 4],
    /// The cost shares used, `io[j][k]` = share of input k in sector j ([`IO_SHARES`] unless
    /// services input had to be moved to manufactures, see [`domestic_sales`]).
    pub io: [[f64; 4]; 4],
}

/// Domestic sales from GDP, exports `exp` and tariff-inclusive imports `imp` of the three goods
/// sectors, with the world-average shares [`IO_SHARES`]:
/// goods `D^k = a^k · GDP` ([`DOMESTIC_GDP_RATIO`]); services `D^SRV = (GDP − Σ_goods γ^k Y^k) / γ^SRV`
/// with `Y^k = D^k + exp^k`, so that value added `Σ_k γ^k Y^k = GDP` exactly. Final demand
/// `F^k = X^k − Σ_j γ^{k,j} Y^j` with `X^k = D^k + imp^k`. Where `F^k < FD_MIN · X^k`, Newton
/// steps on the linear conditions move `D^k` up (goods) or the goods' `D` down (services,
/// manufactures first, never below 5% of the formula value) until every `F^k ≥ FD_MIN · X^k`.
/// If services still fall short with the goods at that floor (a re-exporter such as HKG, whose
/// gross exports dwarf GDP), the goods sectors' services input share is moved to manufactures
/// input, `γ^{SRV,j} ← (1−λ) γ^{SRV,j}`, `γ^{MAN,j} ← γ^{MAN,j} + λ γ^{SRV,j}`, with the
/// smallest `λ` that closes the gap (value-added shares unchanged).
pub fn domestic_sales(gdp: f64, exp: [f64; 3], imp: [f64; 3]) -> Result<DomesticSales, String> {
    let va = [va_share(0), va_share(1), va_share(2), va_share(3)];
    let mut io = IO_SHARES;
    let mut dom = [0.0; 4];
    for k in 0..3 {
        dom[k] = DOMESTIC_GDP_RATIO[k] * gdp;
    }
    let floor = |k: usize| 0.05 * DOMESTIC_GDP_RATIO[k] * gdp;
    for _ in 0..500 {
        let mut y = [0.0; 4];
        for k in 0..3 {
            y[k] = dom[k] + exp[k];
        }
        let goods_va: f64 = (0..3).map(|k| va[k] * y[k]).sum();
        dom[3] = (gdp - goods_va) / va[3];
        y[3] = dom[3];
        if dom[3] <= 0.0 {
            return Err(format!(
                "goods value added {:.1} bn exceeds GDP {:.1} bn, leaving no services; check exports_usd and gdp_usd",
                bn(goods_va),
                bn(gdp)
            ));
        }
        let mut x = [0.0; 4];
        let mut fd = [0.0; 4];
        for k in 0..4 {
            x[k] = dom[k] + if k < 3 { imp[k] } else { 0.0 };
            fd[k] = x[k] - (0..4).map(|j| io[j][k] * y[j]).sum::<f64>();
        }
        let short: Vec<usize> = (0..4)
            .filter(|&k| fd[k] < FD_MIN * x[k] * (1.0 - 1e-12))
            .collect();
        if short.is_empty() {
            return Ok(DomesticSales {
                domestic: dom,
                final_demand: fd,
                io,
            });
        }
        for &k in &short {
            let gap = FD_MIN * x[k] - fd[k];
            if k < 3 {
                // d(F^k − FD_MIN·X^k)/dD^k, services adjusting through the value-added identity.
                let slope = 1.0 - FD_MIN - io[k][k] + io[3][k] * va[k] / va[3];
                dom[k] += gap / slope;
            } else if let Some(g) = [2, 0, 1]
                .into_iter()
                .find(|&g| dom[g] > floor(g) * (1.0 + 1e-9))
            {
                let slope = (1.0 - FD_MIN - io[3][3]) * va[g] / va[3] + io[g][3];
                dom[g] = (dom[g] - gap / slope).max(floor(g));
            } else {
                // Move services input of the goods sectors to manufactures input.
                let movable: f64 = (0..3).map(|j| io[j][3] * y[j]).sum();
                if movable <= gap {
                    return Err(
                        "services final demand stays below its floor even with goods domestic sales at their floor and no services input to goods"
                            .to_string(),
                    );
                }
                let lambda = gap / movable;
                for row in io.iter_mut().take(3) {
                    let shift = lambda * row[3];
                    row[3] -= shift;
                    row[2] += shift;
                }
            }
        }
    }
    Err("domestic sales did not settle in 500 steps".to_string())
}

impl World {
    /// Bilateral flow of sector `k` (0..3 = AGR, FMN, MAN, SRV) from `i` to `j` at factory prices.
    pub fn flow(&self, k: usize, i: usize, j: usize) -> f64 {
        let n = self.codes.len();
        if i == j {
            self.domestic[i][k]
        } else if k < 3 {
            self.totals[i * n + j] * self.shares[i][k]
        } else {
            0.0
        }
    }

    /// Writes `economies.csv`, `sectors.csv`, `flows.csv`, `io.csv`, `final_demand.csv` and the
    /// generated `BUILD.md` (figures of the build) to `out`, creating the directory.
    /// `PROVENANCE.md` is hand-written and not touched.
    pub fn write(&self, out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let n = self.codes.len();
        let mut s = String::from("code,name,value_added\n");
        for i in 0..n {
            let name = self.names[i].replace('"', "'");
            let _ = writeln!(s, "{},\"{}\",{:.0}", self.codes[i], name, self.gdp[i]);
        }
        write_file(&out.join("economies.csv"), &s)?;
        let mut s = String::from("code,name,theta,traded\n");
        for (c, name, th, tr) in SECTORS {
            let _ = writeln!(s, "{c},{name},{th},{tr}");
        }
        write_file(&out.join("sectors.csv"), &s)?;
        let mut s = String::from("sector,exporter,importer,value,tariff,flag\n");
        for (k, sec) in SECTORS.iter().enumerate() {
            for i in 0..n {
                for j in 0..n {
                    if k == 3 && i != j {
                        continue;
                    }
                    let (tariff, flag) = if i == j {
                        (0.0, "domestic_derived")
                    } else if self.observed[i * n + j] {
                        (self.tariff[j], "observed")
                    } else {
                        (self.tariff[j], "gravity_filled")
                    };
                    let _ = writeln!(
                        s,
                        "{},{},{},{:.0},{:.4},{}",
                        sec.0,
                        self.codes[i],
                        self.codes[j],
                        self.flow(k, i, j),
                        tariff,
                        flag
                    );
                }
            }
        }
        write_file(&out.join("flows.csv"), &s)?;
        let mut s = String::from("economy,sector,input,share\n");
        for (n, c) in self.codes.iter().enumerate() {
            for (j, sec) in SECTORS.iter().enumerate() {
                for (k, inp) in SECTORS.iter().enumerate() {
                    let _ = writeln!(s, "{c},{},{},{:.9}", sec.0, inp.0, self.io[n][j][k]);
                }
                let _ = writeln!(s, "{c},{},VA,{:.9}", sec.0, va_share(j));
            }
        }
        write_file(&out.join("io.csv"), &s)?;
        let mut s = String::from("economy,sector,share\n");
        for (i, c) in self.codes.iter().enumerate() {
            // Round to 1e-9 and put the rounding remainder on the largest share, so that each
            // row sums to 1 and no share turns negative.
            let mut r: Vec<f64> = (0..4)
                .map(|k| (self.alpha[i][k] * 1e9).round() / 1e9)
                .collect();
            let big = (0..4).fold(0, |b, k| if r[k] > r[b] { k } else { b });
            r[big] = 1.0 - (0..4).filter(|&k| k != big).map(|k| r[k]).sum::<f64>();
            for (k, v) in r.iter().enumerate() {
                let _ = writeln!(s, "{c},{},{:.9}", SECTORS[k].0, v);
            }
        }
        write_file(&out.join("final_demand.csv"), &s)?;
        let head =
            "# Build figures of apac-americas-2014\n\nGenerated by `tradesim data build-world` \
                    from `../shared/facts/`; do not edit. Every number below is MODEL-GENERATED \
                    unless it quotes the facts or the paper.\n\n";
        write_file(&out.join("BUILD.md"), &format!("{head}{}", self.summary))?;
        Ok(())
    }
}

fn write_file(path: &Path, s: &str) -> Result<()> {
    std::fs::write(path, s).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_without_observed_pairs_give_an_error_not_a_panic() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("economies_2014.csv"),
            "iso3,name,gdp_usd,exports_usd,imports_usd,mfn_all,mfn_all_weighted,share_agri,share_fuels_mining,share_manuf,lat,lon,languages,borders\n\
             AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\nROW,Rest,1e9,2e8,2e8,,,,,,,,,\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("bilateral_2014.csv"),
            "exporter,importer,value_usd,year,source\n",
        )
        .unwrap();
        let e = build(d.path()).unwrap_err().to_string();
        assert!(e.contains("gravity fit"), "{e}");
    }

    #[test]
    fn an_economy_without_export_shares_is_named_with_its_row() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("economies_2014.csv"),
            "iso3,name,gdp_usd,exports_usd,imports_usd,mfn_all,mfn_all_weighted,share_agri,share_fuels_mining,share_manuf,lat,lon,languages,borders\n\
             AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\nBBB,B,1e9,2e8,2e8,5,3,,,,10,20,X,\nROW,Rest,1e9,2e8,2e8,,,,,,,,,\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("bilateral_2014.csv"),
            "exporter,importer,value_usd,year,source\nAAA,BBB,5e7,2014,COW4\nBBB,AAA,4e7,2014,COW4\n",
        )
        .unwrap();
        let e = build(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("economies_2014.csv, row 3") && e.contains("BBB"),
            "{e}"
        );
    }

    fn check(gdp: f64, exp: [f64; 3], imp: [f64; 3]) -> DomesticSales {
        let d = domestic_sales(gdp, exp, imp).unwrap();
        // Value added equals GDP with the value-added shares, every final demand clears FD_MIN.
        let va: f64 = (0..4)
            .map(|k| va_share(k) * (d.domestic[k] + if k < 3 { exp[k] } else { 0.0 }))
            .sum();
        assert!((va / gdp - 1.0).abs() < 1e-12, "{va} vs {gdp}");
        for k in 0..4 {
            let x = d.domestic[k] + if k < 3 { imp[k] } else { 0.0 };
            assert!(
                d.final_demand[k] >= FD_MIN * x * (1.0 - 1e-9),
                "{k}: {:?}",
                d
            );
            let inter: f64 = (0..4)
                .map(|j| d.io[j][k] * (d.domestic[j] + if j < 3 { exp[j] } else { 0.0 }))
                .sum();
            assert!((x - inter - d.final_demand[k]).abs() < 1e-6 * x.max(1.0));
        }
        d
    }

    #[test]
    fn domestic_sales_follow_the_formula_for_an_ordinary_economy() {
        // Japan-like: exports and imports small against GDP.
        let d = check(4.9e12, [1.0e10, 3.4e10, 6.0e11], [6.0e10, 2.5e11, 5.0e11]);
        for k in 0..3 {
            assert!((d.domestic[k] / (DOMESTIC_GDP_RATIO[k] * 4.9e12) - 1.0).abs() < 1e-12);
        }
        assert_eq!(d.io, IO_SHARES);
    }

    #[test]
    fn domestic_sales_adjust_for_a_fuel_exporter_and_a_re_exporter() {
        // Fuel exporter: fuel exports large against GDP.
        let d = check(1.7e10, [5.0e7, 9.7e9, 7.0e8], [8.0e8, 3.0e8, 2.5e9]);
        assert!(d.domestic[1] > DOMESTIC_GDP_RATIO[1] * 1.7e10);
        // Re-exporter: exports 1.8 times GDP.
        let d = check(2.9e11, [6.0e10, 7.0e10, 3.9e11], [7.0e10, 6.0e10, 4.6e11]);
        assert!(d.domestic[2] < DOMESTIC_GDP_RATIO[2] * 2.9e11);
    }

    #[test]
    fn value_added_shares_are_positive() {
        for j in 0..4 {
            assert!(va_share(j) > 0.0 && va_share(j) < 1.0);
        }
    }
}

//! The built-in baseline world `apac-americas-2014`: 43 economies of Asia-Pacific, the
//! Americas and Europe plus a rest of the world (`ROW`), four aggregate sectors, base year 2014.
//!
//! [`build`] is a pure function of the sourced facts (`../shared/facts/`, see its `SOURCES*.md`;
//! `data/apac-americas-2014/facts/`, see its `SOURCES.md`) and of the agreements in force in 2014
//! (`scenarios/baseline-2014.ron`, read at build time), and writes the world in the tidy baseline
//! format (`docs/baseline-format.md`). The steps:
//!
//! 1. **Observed flows**: COW4 (702 pairs among 27 economies) and TRADHIST (316 pairs with DEU,
//!    FRA, GBR, USA; it replaces COW4's China, which includes Hong Kong and Macao, and adds the
//!    128 flows of the 16 economies COW4 lacks).
//! 2. **Gravity fit** on the observed pairs: PPML (Santos Silva & Tenreyro 2006) of the flow on
//!    ln great-circle distance between capitals, contiguity and common official language, with
//!    exporter and importer effects (`gravity::fit_hdfe`); the prior matrix keeps observed
//!    cells and fills the others with `exp(x_ij·b + o_i + d_j)` (effects of an economy without
//!    observations imputed from ln exports / ln imports). Cells with ROW start as the residual
//!    of the facts' totals, floored at [`ROW_FLOOR`].
//! 3. **Balancing**: RAS (Bacharach 1970) to each listed economy's exports and imports, ROW free,
//!    with every observed cell held within ±[`OBS_TOL`] of its observation
//!    (`ras::ras_bounded`).
//! 4. **Sectors**: every exporter's total to every destination is split with its export
//!    shares (WDI_SHARES): `x_ij^k = x_ij · s_i^k / (s_i^AGR + s_i^FMN + s_i^MAN)`.
//! 5. **Tariffs** (`tariffs`): MFN rates by importer and sector, and the named product groups
//!    of JPN and KOR with the pair's AGR rate their trade-weighted average with the rest.
//! 6. **Services** (`services`): services exports and imports (BoP) with a gravity fill of the
//!    bilateral cells.
//! 7. **Applied rates**: the agreements of `baseline-2014.ron` resolved for 2014 by the policy
//!    engine ([`crate::policy::resolve_year`]) on the MFN rates of step 5.
//! 8. **Domestic sales** ([`domestic_sales`]): goods `D_n^k = a^k · GDP_n`; services so that
//!    value added `Σ_k γ^k Y_n^k` equals GDP exactly; adjusted where a sector's final demand
//!    would fall below [`FD_MIN`] of its absorption. Final-demand shares follow from market
//!    clearing at the **applied** rates of step 7, `α_n^k = (X_n^k − Σ_j γ^{k,j} Y_n^j) / I_n`,
//!    so the data is an equilibrium of the model at the 2014 applied rates: solving
//!    `baseline-2014.ron` in its base year returns the shipped flows.

pub(crate) mod facts;
pub(crate) mod gravity;
pub(crate) mod ras;
pub(crate) mod services;
pub(crate) mod tariffs;

use crate::data::{Baseline, BaselineProductGroup, Cube, Economy, Sector};
use crate::error::{Error, Result, Worst};
use facts::{EconomyFacts, Facts};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use tariffs::WorldGroup;

/// Sector codes, names, trade elasticities θ, and whether traded.
///
/// θ: Caliendo & Parro (2015, RES 82(1), Table 1; replication data `cp2015/theta.csv`).
/// AGR = Agriculture (9.11) and Food (2.62) averaged with weights equal to each CP sector's
/// international trade in `cp2015/trade.csv` (1993, 31 regions, exporter ≠ importer) → 5.14;
/// FMN = CP's Mining estimate alone, 13.53 (crude oil, gas and ores, the bulk of this world's
/// fuels & mining trade; CP's refined-petroleum estimate, 64.85, is left out: with it the
/// 1993-weighted average was 21.35, a value no study of fuels trade supports); MAN = the other 16
/// traded CP sectors (Textile … Other, Basic metals included), 1993-weighted → 6.48;
/// SRV: CP's common value for services, 8.22 (CP assign it, they do not estimate it). The
/// sensitivity of the headline results to θ is in docs/world.md. Recomputed by the test
/// `constants_match_cp2015`.
pub const SECTORS: [(&str, &str, f64, bool); 4] = [
    ("AGR", "Agriculture & food", 5.14, true),
    ("FMN", "Fuels & mining", 13.53, true),
    ("MAN", "Manufactures", 6.48, true),
    ("SRV", "Services", 8.22, true),
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

/// Names of the gravity covariates, in the order of `gravity::Obs::x`: ln great-circle
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

/// Every observed cell stays within ±10% of its observation through the balancing.
/// ASSUMPTION: the observations are the importer's records at CIF prices while the totals are
/// exports FOB (WTO) and imports CIF (WDI); a CIF/FOB margin and mirror discrepancies of this
/// order are what the balancing has to absorb. Reported in BUILD.md (cells at the bound).
pub const OBS_TOL: f64 = 0.10;

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
    /// Economy names, in the order of `codes`.
    pub names: Vec<String>,
    /// GDP = value added, US$.
    pub gdp: Vec<f64>,
    /// Total international goods flows `x_ij` after balancing (row-major, n × n, zero diagonal).
    pub totals: Vec<f64>,
    /// The source of each observed cell (`COW4`, `TRADHIST`), `None` where gravity-filled.
    pub observed: Vec<Option<&'static str>>,
    /// Sector shares of each exporter's international sales (AGR, FMN, MAN).
    pub shares: Vec<[f64; 3]>,
    /// International services flows (row-major, n × n, zero diagonal).
    pub services: Vec<f64>,
    /// Domestic sales per economy and sector (AGR, FMN, MAN, SRV).
    pub domestic: Vec<[f64; 4]>,
    /// MFN (data) tariffs, `[(k·n + importer)·n + exporter]` for the goods sectors k = 0..3.
    pub mfn: Vec<f64>,
    /// The applied rates of 2014 (the agreements of `baseline-2014.ron` on the MFN rates).
    pub applied: Cube,
    /// The named product groups.
    pub groups: Vec<WorldGroup>,
    /// Final-demand shares per economy and sector.
    pub alpha: Vec<[f64; 4]>,
    /// Cost shares per economy, `io[n][j][k]` = share of input k in sector j (VA = the rest).
    pub io: Vec<[[f64; 4]; 4]>,
    /// Every observed figure against the world (`validation.csv`).
    pub validation: Vec<Validation>,
    /// Human-readable figures of the build (fit, balancing, checks, paper comparison).
    pub summary: String,
}

/// One observed figure against the world: a row of `validation.csv`.
#[derive(Debug, Clone)]
pub struct Validation {
    /// What is compared (e.g. `goods imports by pair`, `merchandise exports`).
    pub figure: &'static str,
    /// The source key of the observation (`COW4`, `TRADHIST`, `WTO_X`, `WDI_MFN_W`, …).
    pub source: String,
    /// The economy, or `exporter→importer`.
    pub subject: String,
    /// The sourced value.
    pub observed: f64,
    /// The built world's value.
    pub world: f64,
}

fn bn(x: f64) -> f64 {
    x / 1e9
}

/// Builds the world from the shared facts in `facts_dir`, the project's own facts in
/// `extra_dir` and the agreements of the base-year scenario `agreements`
/// (`scenarios/baseline-2014.ron`). Pure: no IO besides reading them.
pub fn build(facts_dir: &Path, extra_dir: &Path, agreements: &Path) -> Result<World> {
    let mut facts = Facts::load(facts_dir)?;
    facts.load_extra(extra_dir)?;
    build_from(&facts, agreements)
}

/// Builds the world from loaded facts (steps 1–8 of the module documentation). Each step
/// appends its figures to the build summary (`BUILD.md`).
pub fn build_from(facts: &Facts, agreements: &Path) -> Result<World> {
    let mut b = Builder::new(facts);
    let (mut a, fit_beta) = b.gravity_prior()?; // steps 1-2
    b.row_prior(&mut a);
    b.balance(&mut a)?; // step 3
    let shares = b.sector_shares()?; // step 4
    let (mfn, groups) = b.tariffs(&a, &shares)?; // step 5
    let services = b.services(&a, &fit_beta)?; // step 6
    let ec = &facts.economies;
    let mut w = World {
        codes: ec.iter().map(|e| e.code.clone()).collect(),
        names: ec.iter().map(|e| e.name.clone()).collect(),
        gdp: ec.iter().map(|e| e.gdp).collect(),
        totals: a,
        observed: b.source.clone(),
        shares,
        services,
        domestic: vec![[1.0; 4]; b.n],
        mfn,
        applied: Cube::zeros(4, b.n),
        groups,
        alpha: vec![[0.25; 4]; b.n],
        io: vec![IO_SHARES; b.n],
        validation: Vec::new(),
        summary: String::new(),
    };
    w.applied = b.applied_rates(&w, agreements)?; // step 7
    let Domestic {
        domestic,
        alpha,
        io,
    } = b.domestic(&w)?; // step 8
    w.domestic = domestic;
    w.alpha = alpha;
    w.io = io;
    b.applied_comparison(&w);
    b.paper_comparison(&w.totals);
    w.validation = validation(facts, &w);
    w.summary = std::mem::take(&mut b.summary);
    Ok(w)
}

/// Every observed figure of the facts against the built world: bilateral goods flows (COW4,
/// TRADHIST; the world's total of the pair over the goods sectors), each economy's GDP,
/// merchandise and services exports and imports, the food and manufactures shares of its
/// merchandise imports (the world's sector split uses the exporters' shares), and the
/// trade-weighted MFN and applied tariff means WDI gives (the world's weighted by its own 2014
/// flows).
fn validation(facts: &Facts, w: &World) -> Vec<Validation> {
    let n = w.codes.len();
    let idx: HashMap<&str, usize> = w
        .codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut out = Vec::new();
    for (flows, figure) in [
        (
            &facts.bilateral,
            "goods imports by pair (importer's record)",
        ),
        (&facts.tradhist, "goods imports by pair (importer's record)"),
    ] {
        for f in flows.iter() {
            let (i, j) = (idx[f.exporter.as_str()], idx[f.importer.as_str()]);
            out.push(Validation {
                figure,
                source: if f.source.is_empty() {
                    "COW4".to_string()
                } else {
                    f.source.clone()
                },
                subject: format!("{}→{}", f.exporter, f.importer),
                observed: f.value,
                world: (0..3).map(|k| w.flow(k, i, j)).sum(),
            });
        }
    }
    let avg = |j: usize, ks: &[usize], tau: &dyn Fn(usize, usize) -> f64| {
        w.trade_weighted_rate(j, ks, tau)
    };
    for (j, e) in facts.economies.iter().enumerate().take(n - 1) {
        let c = &e.code;
        let exp: f64 = (0..n)
            .filter(|&s| s != j)
            .map(|s| (0..3).map(|k| w.flow(k, j, s)).sum::<f64>())
            .sum();
        let imp: f64 = (0..n)
            .filter(|&s| s != j)
            .map(|s| (0..3).map(|k| w.flow(k, s, j)).sum::<f64>())
            .sum();
        let mut push = |figure: &'static str, source: &str, observed: f64, world: f64| {
            out.push(Validation {
                figure,
                source: source.to_string(),
                subject: c.clone(),
                observed,
                world,
            })
        };
        push("GDP = value added", "WDI_GDP/IMF_WEO_TWN", e.gdp, w.gdp[j]);
        push("merchandise exports", "WTO_X", e.exports, exp);
        push("merchandise imports", "WDI_M/TWN_MOF_M", e.imports, imp);
        if let Some(sh) = facts.import_shares.get(c) {
            let by = |k: usize| -> f64 {
                (0..n)
                    .filter(|&s| s != j)
                    .map(|s| w.flow(k, s, j))
                    .sum::<f64>()
                    / imp
                    * 100.0
            };
            if let Some(f) = sh.food {
                push("AGR share of merchandise imports (%; WDI: food, without agricultural raw materials)", "WDI TM.VAL.FOOD.ZS.UN", f, by(0));
            }
            if let Some(m) = sh.manuf {
                push(
                    "MAN share of merchandise imports (%)",
                    "WDI TM.VAL.MANF.ZS.UN",
                    m,
                    by(2),
                );
            }
        }
        if let Some(s) = facts.services.get(c) {
            let sx: f64 = (0..n).filter(|&s| s != j).map(|s| w.flow(3, j, s)).sum();
            let sm: f64 = (0..n).filter(|&s| s != j).map(|s| w.flow(3, s, j)).sum();
            push("services exports", "WDI BX.GSR.NFSV.CD", s.exports, sx);
            push("services imports", "WDI BM.GSR.NFSV.CD", s.imports, sm);
        }
        let mfn = |k: usize, i: usize| w.mfn_tariff(k, j, i);
        let app = |k: usize, i: usize| w.applied.get(k, j, i);
        if let Some(t) = e.mfn_all_weighted {
            push(
                "MFN tariff, trade-weighted, all goods (%)",
                "WDI_MFN_W",
                t,
                avg(j, &[0, 1, 2], &mfn),
            );
        }
        if let Some(t) = facts.tariffs.get(c) {
            if let Some(x) = t.ahs_all_weighted {
                push(
                    "applied tariff, trade-weighted, all goods (%)",
                    "WDI TM.TAX.MRCH.WM.AR.ZS",
                    x,
                    avg(j, &[0, 1, 2], &app),
                );
            }
            if let Some(x) = t.mfn_manuf_weighted {
                push(
                    "MFN tariff, trade-weighted, manufactures (%)",
                    "WDI TM.TAX.MANF.WM.FN.ZS",
                    x,
                    avg(j, &[2], &mfn),
                );
            }
            if let Some(x) = t.ahs_manuf_weighted {
                push(
                    "applied tariff, trade-weighted, manufactures (%)",
                    "WDI TM.TAX.MANF.WM.AR.ZS",
                    x,
                    avg(j, &[2], &app),
                );
            }
        }
    }
    out
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

/// Step 8's results per economy: domestic sales, final-demand shares, cost shares.
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
    /// The source of each observed cell, and its observed value (US$).
    source: Vec<Option<&'static str>>,
    obs_value: Vec<f64>,
    summary: String,
}

impl<'a> Builder<'a> {
    /// Step 1: the observed cells. COW4 first; TRADHIST then adds the pairs COW4 lacks and
    /// replaces COW4's pairs with China (COW's "China" includes Hong Kong and Macao, which are
    /// in this world on their own: TRADHIST's China is China alone).
    fn new(facts: &'a Facts) -> Self {
        let ec = facts.economies.as_slice();
        let n = ec.len();
        let idx: HashMap<&str, usize> = ec
            .iter()
            .enumerate()
            .map(|(i, e)| (e.code.as_str(), i))
            .collect();
        let mut source = vec![None; n * n];
        let mut obs_value = vec![0.0; n * n];
        let mut cow_chn = vec![false; n * n];
        for f in &facts.bilateral {
            let k = idx[f.exporter.as_str()] * n + idx[f.importer.as_str()];
            cow_chn[k] = f.source == "COW4_CHN";
            source[k] = Some(if cow_chn[k] { "COW4_CHN" } else { "COW4" });
            obs_value[k] = f.value;
        }
        let (mut added, mut replaced) = (0, 0);
        for f in &facts.tradhist {
            let k = idx[f.exporter.as_str()] * n + idx[f.importer.as_str()];
            match source[k] {
                None => added += 1,
                Some(_) if cow_chn[k] => replaced += 1,
                Some(_) => continue,
            }
            source[k] = Some("TRADHIST");
            obs_value[k] = f.value;
        }
        let mut summary = String::new();
        let _ = writeln!(
            summary,
            "## Observed flows\n\n{} COW4 pairs (bilateral_2014.csv) and {} TRADHIST pairs \
             (bilateral_2014_tradhist.csv): TRADHIST adds {added} pairs COW4 lacks and replaces \
             {replaced} COW4 pairs with China (COW's China includes Hong Kong and Macao); {} \
             observed cells in all.\n",
            facts.bilateral.len(),
            facts.tradhist.len(),
            source.iter().filter(|s| s.is_some()).count()
        );
        Builder {
            facts,
            ec,
            n,
            row: n - 1, // ROW is last (Facts::load guarantees it)
            idx,
            source,
            obs_value,
            summary,
        }
    }

    /// Step 2: the PPML fit on the observed pairs and the prior matrix among the listed
    /// economies: observed cells as observed, the others `exp(x_ij·b + o_i + d_j)`, with the
    /// effects of economies without observed flows imputed by OLS on ln exports / ln imports.
    /// Cells with ROW are left at zero for [`Builder::row_prior`]. Returns the matrix and the
    /// coefficients `b`.
    fn gravity_prior(&mut self) -> Result<(Vec<f64>, Vec<f64>)> {
        let (ec, n, row) = (self.ec, self.n, self.row);
        let cells: Vec<usize> = (0..n * n).filter(|&k| self.source[k].is_some()).collect();
        let cov = |i: usize, j: usize| covariates(ec, i, j);
        let mut exp_ids: Vec<usize> = cells.iter().map(|k| k / n).collect();
        exp_ids.sort_unstable();
        exp_ids.dedup();
        let mut imp_ids: Vec<usize> = cells.iter().map(|k| k % n).collect();
        imp_ids.sort_unstable();
        imp_ids.dedup();
        let exp_pos: HashMap<usize, usize> =
            exp_ids.iter().enumerate().map(|(p, &i)| (i, p)).collect();
        let imp_pos: HashMap<usize, usize> =
            imp_ids.iter().enumerate().map(|(p, &i)| (i, p)).collect();
        let obs: Vec<gravity::Obs> = cells
            .iter()
            .map(|&k| gravity::Obs {
                exporter: exp_pos[&(k / n)],
                importer: imp_pos[&(k % n)],
                x: cov(k / n, k % n),
                y: bn(self.obs_value[k]),
            })
            .collect();
        let exp_labels: Vec<String> = exp_ids.iter().map(|&i| ec[i].code.clone()).collect();
        let imp_labels: Vec<String> = imp_ids.iter().map(|&j| ec[j].code.clone()).collect();
        let fit = gravity::fit_hdfe(&obs, &COVARIATES, &exp_labels, &imp_labels)?;
        let by = |s: &str| {
            cells
                .iter()
                .filter(|&&k| self.source[k].is_some_and(|x| x.starts_with(s)))
                .count()
        };
        let summary = &mut self.summary;
        let _ = writeln!(
            summary,
            "## Gravity fit (PPML, Santos Silva & Tenreyro 2006) — MODEL-GENERATED\n\n\
         {} observed pairs (COW4 {}, of which with China {}; TRADHIST {}) among {} exporters and {} importers, flows in \
         US$ bn; exporter and importer effects; heteroskedasticity-robust standard errors \
         (fixest's small-sample correction). Fitted with `src/estimate` (PPML-HDFE).\n\n\
         | covariate | coefficient | robust s.e. |\n|---|---|---|",
            obs.len(),
            by("COW4"),
            by("COW4_CHN"),
            by("TRADHIST"),
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
        let missing: Vec<&str> = (0..row)
            .filter(|i| !exp_pos.contains_key(i) || !imp_pos.contains_key(i))
            .map(|i| ec[i].code.as_str())
            .collect();
        let _ = writeln!(
            summary,
            "Effects imputed for the economies with no observed exports or imports ({}): o_i = \
         {ao:.3} + {bo:.3}·ln E_i, d_j = {ad:.3} + {bd:.3}·ln M_j (OLS on the fitted effects; the \
         intercepts depend on the effects' normalisation, o_i + d_j does not).\n",
            if missing.is_empty() {
                "none".to_string()
            } else {
                missing.join(", ")
            }
        );
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let k = i * n + j;
                if i == j || i == row || j == row {
                    continue; // ROW cells: set from the residuals
                }
                a[k] = if self.source[k].is_some() {
                    self.obs_value[k]
                } else {
                    let eta: f64 = cov(i, j)
                        .iter()
                        .zip(&fit.beta)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        + o(i)
                        + d(j);
                    eta.exp() * 1e9
                };
            }
        }
        Ok((a, fit.beta))
    }

    /// Cells with ROW: the share of the economy's total left after the prior flows to (from) the
    /// listed economies, `ρ_i = (E_i − Σ_{j≠ROW} x_ij) / E_i`, bounded below by [`ROW_FLOOR`] and,
    /// where less than half of those prior flows is observed, above by ROW's share of world
    /// imports (for exports; of world exports for imports), and
    /// written as `x_{i,ROW} = ρ_i/(1 − ρ_i) · Σ_{j≠ROW} x_ij` so that ROW keeps that share when
    /// the balancing scales the economy's row. Without the upper bound an economy whose flows
    /// the gravity fill underpredicts (AUS, BRN: effects identified from four Western partners
    /// only) would send what is missing to ROW. ASSUMPTION (labelled in PROVENANCE.md).
    fn row_prior(&mut self, a: &mut [f64]) {
        let (ec, n, row) = (self.ec, self.n, self.row);
        let (wx, wm) = self
            .facts
            .world
            .map(|(_, x, m)| (x, m))
            .unwrap_or((f64::NAN, f64::NAN));
        let cap_x = ec[row].imports / wm;
        let cap_m = ec[row].exports / wx;
        let (cap_x, cap_m) = (
            if cap_x.is_finite() {
                cap_x
            } else {
                1.0 - ROW_FLOOR
            },
            if cap_m.is_finite() {
                cap_m
            } else {
                1.0 - ROW_FLOOR
            },
        );
        let summary = &mut self.summary;
        let (mut floored, mut capped) = (Vec::new(), Vec::new());
        let observed = |k: usize| self.source[k].is_some();
        // ROW's prior cell on one side of economy `i`: `cell(s)` indexes `i`'s cell with listed
        // economy `s` (exports: i → s; imports: s → i), `total` is `i`'s exports or imports.
        let mut row_cell = |a: &[f64],
                            cell: &dyn Fn(usize) -> usize,
                            total: f64,
                            cap_side: f64,
                            what: &str,
                            i: usize| {
            // The cap applies where the economy's flows with the listed economies are mostly
            // gravity-filled (less than half of their prior value observed).
            let listed: f64 = (0..row).map(|s| a[cell(s)]).sum();
            let seen: f64 = (0..row)
                .filter(|&s| observed(cell(s)))
                .map(|s| a[cell(s)])
                .sum();
            let cap = if seen < 0.5 * listed {
                cap_side
            } else {
                1.0 - ROW_FLOOR
            };
            let rho = (total - listed) / total;
            if rho < ROW_FLOOR {
                floored.push(format!("{} {what}", ec[i].code));
            } else if rho > cap {
                capped.push(format!("{} {what} ({:.0}%)", ec[i].code, rho * 100.0));
            }
            let rho = rho.clamp(ROW_FLOOR, cap);
            rho / (1.0 - rho) * listed
        };
        for i in 0..row {
            a[i * n + row] = row_cell(a, &|j| i * n + j, ec[i].exports, cap_x, "exports", i);
            a[row * n + i] = row_cell(a, &|s| s * n + i, ec[i].imports, cap_m, "imports", i);
        }
        let prior_row_x: f64 = a[row * n..(row + 1) * n].iter().sum();
        let prior_row_m: f64 = (0..n).map(|i| a[i * n + row]).sum();
        let _ = writeln!(
            summary,
            "Prior cells with ROW: the residual share of the facts' totals, at least {:.0}% (floored: \
             {}) and, for economies whose flows with the listed economies are less than half observed, \
             at most ROW's share of world imports, {:.1}%, for exports and of world exports, {:.1}%, \
             for imports (capped, with the residual share: {}); ROW exports {:.1} bn, ROW \
             imports {:.1} bn before balancing.\n",
            ROW_FLOOR * 100.0,
            if floored.is_empty() { "none".to_string() } else { floored.join(", ") },
            cap_x * 100.0,
            cap_m * 100.0,
            if capped.is_empty() { "none".to_string() } else { capped.join(", ") },
            bn(prior_row_x),
            bn(prior_row_m)
        );
    }

    /// Step 3: RAS (Bacharach 1970) of every international cell to the listed economies'
    /// exports and imports, ROW free, each observed cell held within ±[`OBS_TOL`] of its
    /// observation; reports how far the observed cells moved, by source.
    fn balance(&mut self, a: &mut [f64]) -> Result<()> {
        let (ec, n, row) = (self.ec, self.n, self.row);
        let rows: Vec<Option<f64>> = (0..n)
            .map(|i| (i != row).then_some(ec[i].exports))
            .collect();
        let cols: Vec<Option<f64>> = (0..n)
            .map(|j| (j != row).then_some(ec[j].imports))
            .collect();
        // COW4_CHN cells (COW's China includes Hong Kong and Macao, which this world has on
        // their own) are a different aggregate from the cell they start: not held.
        let held = |k: usize| matches!(self.source[k], Some("COW4") | Some("TRADHIST"));
        // Where an economy's held observations add up to more than its total less the ROW
        // floor (importer records at CIF against exports FOB), they are scaled down to fit
        // before the band is set around them.
        let mut scale = vec![1.0f64; n * n];
        let mut scaled = Vec::new();
        for i in 0..row {
            let sx: f64 = (0..n)
                .filter(|&j| held(i * n + j))
                .map(|j| self.obs_value[i * n + j])
                .sum();
            let fx = (1.0 - ROW_FLOOR) * ec[i].exports / sx;
            if fx < 1.0 {
                scaled.push(format!("{} exports ×{fx:.3}", ec[i].code));
                (0..n).for_each(|j| scale[i * n + j] = scale[i * n + j].min(fx));
            }
            let sm: f64 = (0..n)
                .filter(|&s| held(s * n + i))
                .map(|s| self.obs_value[s * n + i])
                .sum();
            let fm = (1.0 - ROW_FLOOR) * ec[i].imports / sm;
            if fm < 1.0 {
                scaled.push(format!("{} imports ×{fm:.3}", ec[i].code));
                (0..n).for_each(|s| scale[s * n + i] = scale[s * n + i].min(fm));
            }
        }
        let bounds: Vec<Option<(f64, f64)>> = (0..n * n)
            .map(|k| {
                held(k).then(|| {
                    let c = self.obs_value[k] * scale[k];
                    (c * (1.0 - OBS_TOL), c * (1.0 + OBS_TOL))
                })
            })
            .collect();
        let rep = ras::ras_bounded(a, n, &rows, &cols, &bounds, 1e-12, 200_000).map_err(|e| {
            // Rows are exporters, columns importers: label them with the economy.
            e.amend(|s| {
                if let Some(Worst::Row { index, label } | Worst::Column { index, label }) =
                    &mut s.worst
                {
                    *label = Some(ec[*index].code.clone());
                }
            })
        })?;
        let row_x: f64 = a[row * n..(row + 1) * n].iter().sum();
        let row_m: f64 = (0..n).map(|i| a[i * n + row]).sum();
        let summary = &mut self.summary;
        let _ = writeln!(
            summary,
            "## Balancing (RAS, Bacharach 1970, observed cells held within ±{:.0}%) — MODEL-GENERATED\n\n\
         Converged in {} iterations; largest relative gap of the 43 economies' exports and imports \
         {:.1e}. ROW absorbs the rest: modelled ROW exports to the 43 = {:.1} bn (facts: ROW total \
         exports {:.1} bn, intra-ROW trade included), ROW imports from the 43 = {:.1} bn (facts \
         {:.1} bn).\n\n\
         Observed cells after balancing (balanced / observed − 1), by source:\n\n\
         | source | cells | median \\|dev\\| | 90th pct | max | at the ±{:.0}% bound | within ±5% | observed → balanced (bn) |\n\
         |---|---|---|---|---|---|---|---|",
            OBS_TOL * 100.0,
            rep.iterations,
            rep.max_rel_gap,
            bn(row_x),
            bn(ec[row].exports),
            bn(row_m),
            bn(ec[row].imports),
            OBS_TOL * 100.0
        );
        for src in ["COW4", "TRADHIST", "COW4_CHN"] {
            let cells: Vec<usize> = (0..n * n)
                .filter(|&k| self.source[k] == Some(src) && self.obs_value[k] > 0.0)
                .collect();
            let d = deviation_stats(&cells, a, &self.obs_value, n, ec);
            let _ = writeln!(
                summary,
                "| {src} | {} | {:.1}% | {:.1}% | {:+.1}% ({}) | {} | {} | {:.1} → {:.1} |",
                cells.len(),
                d.median * 100.0,
                d.p90 * 100.0,
                d.max * 100.0,
                d.max_at,
                d.at_bound,
                d.within5,
                bn(d.observed),
                bn(d.balanced)
            );
        }
        let _ =
            writeln!(
            summary,
            "\nHeld observations that add up to more than the economy's total less the ROW floor \
             ({:.0}%), scaled down before the band is set around them: {}.",
            ROW_FLOOR * 100.0,
            if scaled.is_empty() { "none".to_string() } else { scaled.join(", ") }
        );
        let _ = writeln!(
            summary,
            "\nCOW4_CHN: COW4's flows with China that TRADHIST does not replace (pairs with economies \
             other than DEU, FRA, GBR, USA); COW's China includes Hong Kong and Macao, so these cells \
             start at the observation but are not held within the band.\n"
        );
        Ok(())
    }

    /// Step 5: the MFN sector rates, the named product groups and every cell's goods tariff.
    /// Returns the MFN tariffs `[(k·n + importer)·n + exporter]` and the groups.
    fn tariffs(&mut self, a: &[f64], shares: &[[f64; 3]]) -> Result<(Vec<f64>, Vec<WorldGroup>)> {
        let (facts, ec, n) = (self.facts, self.ec, self.n);
        let codes: Vec<String> = ec.iter().map(|e| e.code.clone()).collect();
        let rates = tariffs::sector_rates(facts, &codes);
        let agr_flow = |i: usize, j: usize| a[i * n + j] * shares[i][0];
        let groups = tariffs::group_weights(facts, &self.idx, n, &agr_flow)?;
        let mut mfn = vec![0.0; 3 * n * n];
        for k in 0..3 {
            for j in 0..n {
                for i in (0..n).filter(|&i| i != j) {
                    mfn[(k * n + j) * n + i] = if k == 0 {
                        tariffs::pair_agr_rate(&groups, j, i, rates.rate[j][0])
                    } else {
                        rates.rate[j][k]
                    };
                }
            }
        }
        let summary = &mut self.summary;
        let _ = writeln!(
            summary,
            "## Tariffs (MFN, the data rates before the 2014 preferences)\n\n\
         AGR outside the named groups: WDI MFN simple mean of primary products; FMN: WTO TTD \
         trade-weighted petroleum rate (JPN, CHN, USA, IND, EU members), else the {} = {:.4}; MAN: \
         WDI MFN trade-weighted mean of manufactures; TWN and ROW: the mean of the others \
         (AGR {:.4}, FMN {:.4}, MAN {:.4}) — ASSUMPTION. AGR of a pair = Σ_g w_g·b_g + (1 − Σ_g \
         w_g)·τ^AGR (named groups below).\n\n\
         | importer | AGR (rest) | FMN | MAN | AGR, trade-weighted over partners (with groups) |\n|---|---|---|---|---|",
            tariffs::FMN_DEFAULT_NOTE,
            rates.fmn_default,
            rates.fallback[0],
            rates.fallback[1],
            rates.fallback[2]
        );
        for j in 0..n {
            let (mut v, mut vt) = (0.0, 0.0);
            for i in (0..n).filter(|&i| i != j) {
                v += agr_flow(i, j);
                vt += agr_flow(i, j) * mfn[j * n + i];
            }
            let _ = writeln!(
                summary,
                "| {} | {:.4} | {:.4} | {:.4} | {:.4} |",
                ec[j].code,
                rates.rate[j][0],
                rates.rate[j][1],
                rates.rate[j][2],
                if v > 0.0 { vt / v } else { 0.0 }
            );
        }
        let _ = writeln!(
            summary,
            "\n### Named product groups (product_groups.csv)\n\nweight = the group's imports over the \
         AGR flow of the pair (exporter rows) or over the AGR imports from the other partners (all \
         partners row, exporter rows' values deducted); sources in data/apac-americas-2014/facts/SOURCES.md.\n\n\
         | importer | group | exporter | weight | base rate |\n|---|---|---|---|---|"
        );
        for g in &groups {
            let _ = writeln!(
                summary,
                "| {} | {} | {} | {:.6} | {:.4} |",
                ec[g.importer].code,
                g.group,
                g.exporter.map_or("all others", |e| ec[e].code.as_str()),
                g.weight,
                g.base_rate
            );
        }
        summary.push('\n');
        Ok((mfn, groups))
    }

    /// Step 6: the services matrix ([`services`]).
    fn services(&mut self, goods: &[f64], beta: &[f64]) -> Result<Vec<f64>> {
        let (facts, ec, n) = (self.facts, self.ec, self.n);
        let totals = services::services_totals(facts)?;
        let effect = |i: usize, j: usize| {
            covariates(ec, i, j)
                .iter()
                .zip(beta)
                .map(|(x, b)| x * b)
                .sum::<f64>()
                .exp()
        };
        let (m, rep) = services::services_matrix(&totals, goods, &effect)?;
        let row = self.row;
        let (x, mm): (f64, f64) = (
            m[row * n..(row + 1) * n].iter().sum(),
            (0..n).map(|i| m[i * n + row]).sum(),
        );
        let twn = self
            .idx
            .get("TWN")
            .and_then(|&t| totals[t])
            .map(|(x, m)| format!("TWN (KOR's ratios of services to merchandise trade, ASSUMPTION): exports {:.1} bn, imports {:.1} bn. ", bn(x), bn(m)))
            .unwrap_or_default();
        let _ = writeln!(
            self.summary,
            "## Services trade (gravity fill) — MODEL-GENERATED\n\nServices exports and imports \
         (BoP, services_2014.csv) of the listed economies; {twn}Bilateral cells: the goods gravity \
         equation with services masses, RAS in {} iterations (gap {:.1e}); ROW free: ROW's \
         modelled services exports to the 43 {:.1} bn, imports from them {:.1} bn. Every services \
         cell is flagged gravity_filled.\n",
            rep.iterations,
            rep.max_rel_gap,
            bn(x),
            bn(mm)
        );
        Ok(m)
    }

    /// Step 7: the applied rates of 2014. The agreements of the base-year scenario are loaded
    /// against the world as built so far (codes, sectors, MFN rates, product groups) and
    /// resolved for its base year by the policy engine ([`crate::policy::resolve_year`]).
    fn applied_rates(&mut self, w: &World, agreements: &Path) -> Result<Cube> {
        let b = w.provisional_baseline();
        let s = crate::scenario::load_with_baseline(agreements, b)?;
        let p = crate::policy::resolve_year(&s.baseline, &s.agreements, s.base_year, false);
        let in_force = s
            .agreements
            .iter()
            .filter(|a| a.entry_into_force <= s.base_year)
            .count();
        let _ = writeln!(
            self.summary,
            "## Applied rates of {}\n\nThe {} agreements in force in {} of `{}` (read at build time) \
         resolved by the policy engine on the MFN rates above; the final-demand shares below are \
         computed at these applied rates, so solving that scenario's base year returns these \
         flows.\n",
            s.base_year,
            in_force,
            s.base_year,
            agreements
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default()
        );
        Ok(p.tariffs)
    }

    /// Step 8: domestic sales, final-demand shares and cost shares of every economy
    /// ([`domestic_sales`]) at the applied rates.
    fn domestic(&mut self, w: &World) -> Result<Domestic> {
        let (facts, ec, n) = (self.facts, self.ec, self.n);
        let mut domestic = Vec::with_capacity(n);
        let mut alpha = Vec::with_capacity(n);
        let mut adjusted = Vec::new();
        let mut io = Vec::with_capacity(n);
        for (i, e) in ec.iter().enumerate() {
            let exp = [0, 1, 2, 3].map(|k| {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| w.flow(k, i, j))
                    .sum::<f64>()
            });
            let imp = [0, 1, 2, 3].map(|k| {
                (0..n)
                    .filter(|&s| s != i)
                    .map(|s| w.flow(k, s, i) * (1.0 + w.applied.get(k, i, s)))
                    .sum::<f64>()
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
            self.summary,
            "## Domestic sales and final demand\n\nGoods D_n^k = a^k·GDP_n, services from value added = \
         GDP; α_n^k = (X_n^k − Σ_j γ^{{k,j}} Y_n^j) / I_n at the applied rates — MODEL-GENERATED. \
         Where a sector's final demand would fall below {:.0}% of its absorption X_n^k, that goods \
         sector's domestic sales are raised (or, for services, the goods sectors' domestic sales \
         lowered) until it does not: {}.\n",
            FD_MIN * 100.0,
            if adjusted.is_empty() {
                "none".to_string()
            } else {
                adjusted.join(", ")
            }
        );
        Ok(Domestic {
            domestic,
            alpha,
            io,
        })
    }

    /// The world's trade-weighted MFN and applied rates of manufactures and of all goods,
    /// against WDI's trade-weighted MFN and applied (AHS) means.
    fn applied_comparison(&mut self, w: &World) {
        let ec = self.ec;
        let _ = writeln!(
            self.summary,
            "## Applied rates against WDI (trade-weighted means, %)\n\nThis world: MFN and applied \
         rates weighted by its 2014 flows; WDI: TM.TAX.MANF.WM.FN/AR and TM.TAX.MRCH.WM.FN/AR \
         (tariffs_2014.csv; economies_2014.csv for the MFN all-goods mean). The WDI applied means \
         cover the preferences WITS records, this world's those of baseline-2014.ron.\n\n\
         | importer | MAN MFN | MAN applied | WDI MAN MFN | WDI MAN applied | goods MFN | goods applied | WDI goods MFN | WDI goods applied |\n\
         |---|---|---|---|---|---|---|---|---|"
        );
        for j in 0..self.row {
            let avg =
                |ks: &[usize], tau: &dyn Fn(usize, usize) -> f64| w.trade_weighted_rate(j, ks, tau);
            let mfn = |k: usize, i: usize| w.mfn_tariff(k, j, i);
            let app = |k: usize, i: usize| w.applied.get(k, j, i);
            let t = self.facts.tariffs.get(&ec[j].code);
            let f = |x: Option<f64>| x.map_or("–".to_string(), |x| format!("{x:.2}"));
            let _ = writeln!(
                self.summary,
                "| {} | {:.2} | {:.2} | {} | {} | {:.2} | {:.2} | {} | {} |",
                ec[j].code,
                avg(&[2], &mfn),
                avg(&[2], &app),
                f(t.and_then(|t| t.mfn_manuf_weighted)),
                f(t.and_then(|t| t.ahs_manuf_weighted)),
                avg(&[0, 1, 2], &mfn),
                avg(&[0, 1, 2], &app),
                f(ec[j].mfn_all_weighted),
                f(t.and_then(|t| t.ahs_all_weighted))
            );
        }
        self.summary.push('\n');
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

/// Deviation of the balanced cells from their observations.
struct Deviation {
    median: f64,
    p90: f64,
    /// The signed deviation of largest magnitude, and its pair.
    max: f64,
    max_at: String,
    at_bound: usize,
    within5: usize,
    observed: f64,
    balanced: f64,
}

fn deviation_stats(
    cells: &[usize],
    a: &[f64],
    obs: &[f64],
    n: usize,
    ec: &[EconomyFacts],
) -> Deviation {
    let mut devs: Vec<(f64, usize)> = cells.iter().map(|&k| (a[k] / obs[k] - 1.0, k)).collect();
    devs.sort_by(|x, y| x.0.abs().total_cmp(&y.0.abs()));
    let q = |p: f64| {
        if devs.is_empty() {
            return 0.0;
        }
        devs[((devs.len() - 1) as f64 * p).round() as usize].0.abs()
    };
    let last = devs.last().copied().unwrap_or((0.0, 0));
    Deviation {
        median: q(0.5),
        p90: q(0.9),
        max: last.0,
        max_at: if devs.is_empty() {
            String::new()
        } else {
            format!("{}→{}", ec[last.1 / n].code, ec[last.1 % n].code)
        },
        at_bound: devs
            .iter()
            .filter(|x| x.0.abs() >= OBS_TOL * (1.0 - 1e-9))
            .count(),
        within5: devs.iter().filter(|x| x.0.abs() <= 0.05).count(),
        observed: cells.iter().map(|&k| obs[k]).sum(),
        balanced: cells.iter().map(|&k| a[k]).sum(),
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

/// Domestic sales from GDP, exports `exp` and tariff-inclusive imports `imp` of the four
/// sectors (services traded, at zero tariff), with the world-average shares [`IO_SHARES`]:
/// goods `D^k = a^k · GDP` ([`DOMESTIC_GDP_RATIO`]); services
/// `D^SRV = (GDP − Σ_goods γ^k Y^k) / γ^SRV − exp^SRV` with `Y^k = D^k + exp^k`, so that value
/// added `Σ_k γ^k Y^k = GDP` exactly. Final demand `F^k = X^k − Σ_j γ^{k,j} Y^j` with
/// `X^k = D^k + imp^k`. Where `F^k < FD_MIN · X^k`, Newton steps on the linear conditions move
/// `D^k` up (goods) or the goods' `D` down (services, manufactures first, never below 5% of the
/// formula value) until every `F^k ≥ FD_MIN · X^k`. If services still fall short with the goods
/// at that floor (a re-exporter such as HKG, whose gross exports dwarf GDP), the goods sectors'
/// services input share is moved to manufactures input, `γ^{SRV,j} ← (1−λ) γ^{SRV,j}`,
/// `γ^{MAN,j} ← γ^{MAN,j} + λ γ^{SRV,j}`, with the smallest `λ` that closes the gap (value-added
/// shares unchanged).
pub fn domestic_sales(gdp: f64, exp: [f64; 4], imp: [f64; 4]) -> Result<DomesticSales, String> {
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
        y[3] = (gdp - goods_va) / va[3];
        dom[3] = y[3] - exp[3];
        if dom[3] <= 0.0 {
            // No room for domestic services within GDP (a re-exporter whose gross goods and
            // services exports are large against GDP): lower the goods' domestic sales,
            // manufactures first, never below 5% of the formula value, then start over.
            let mut need = (FD_MIN * exp[3].max(1.0) - dom[3]) * va[3];
            for g in [2, 0, 1] {
                let cut = ((dom[g] - floor(g)) * va[g]).min(need).max(0.0);
                dom[g] -= cut / va[g];
                need -= cut;
            }
            if need < need.abs() * 1e-12 + 1e-6 {
                continue;
            }
        }
        if dom[3] <= 0.0 {
            return Err(format!(
                "goods value added {:.1} bn and services exports {:.1} bn leave no domestic services within GDP {:.1} bn; check exports_usd, services_exports_usd and gdp_usd",
                bn(goods_va),
                bn(exp[3]),
                bn(gdp)
            ));
        }
        let mut x = [0.0; 4];
        let mut fd = [0.0; 4];
        for k in 0..4 {
            x[k] = dom[k] + imp[k];
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
    /// Bilateral flow of sector `k` (0..4 = AGR, FMN, MAN, SRV) from `i` to `j` at factory prices.
    pub fn flow(&self, k: usize, i: usize, j: usize) -> f64 {
        let n = self.codes.len();
        if i == j {
            self.domestic[i][k]
        } else if k < 3 {
            self.totals[i * n + j] * self.shares[i][k]
        } else {
            self.services[i * n + j]
        }
    }

    /// The data tariff (MFN) of the cell: goods from [`World::mfn`], services and domestic 0.
    /// Importer `j`'s mean tariff over sectors `ks`, in percent, weighted by its imports in
    /// this world: `100 · Σ_k Σ_{i≠j} X_ij^k τ(k, i) / Σ_k Σ_{i≠j} X_ij^k`.
    pub fn trade_weighted_rate(
        &self,
        j: usize,
        ks: &[usize],
        tau: &dyn Fn(usize, usize) -> f64,
    ) -> f64 {
        let n = self.codes.len();
        let (mut v, mut vt) = (0.0, 0.0);
        for &k in ks {
            for i in (0..n).filter(|&i| i != j) {
                v += self.flow(k, i, j);
                vt += self.flow(k, i, j) * tau(k, i);
            }
        }
        100.0 * vt / v
    }

    /// The MFN tariff (a fraction) of `importer` on `exporter` in goods sector `k`; zero on
    /// services and domestic sales.
    pub fn mfn_tariff(&self, k: usize, importer: usize, exporter: usize) -> f64 {
        let n = self.codes.len();
        if k < 3 && importer != exporter {
            self.mfn[(k * n + importer) * n + exporter]
        } else {
            0.0
        }
    }

    /// The `flag` of a cell in `flows.csv`: `domestic_derived`, `observed:COW4`,
    /// `observed:TRADHIST` (goods cells of an observed pair) or `gravity_filled`.
    pub fn flag(&self, k: usize, i: usize, j: usize) -> String {
        let n = self.codes.len();
        if i == j {
            "domestic_derived".to_string()
        } else {
            match (k < 3, self.observed[i * n + j]) {
                (true, Some(src)) => format!("observed:{src}"),
                _ => "gravity_filled".to_string(),
            }
        }
    }

    /// The world as built so far, as a [`Baseline`] the scenario loader can validate agreements
    /// against (codes, sectors, MFN rates, product groups); its domestic flows and shares are
    /// placeholders until step 8.
    fn provisional_baseline(&self) -> Baseline {
        let n = self.codes.len();
        let jj = SECTORS.len();
        let mut flows = Cube::zeros(jj, n);
        let mut tariffs = Cube::zeros(jj, n);
        for k in 0..jj {
            for j in 0..n {
                for i in 0..n {
                    flows.set(k, j, i, self.flow(k, i, j));
                    tariffs.set(k, j, i, self.mfn_tariff(k, j, i));
                }
            }
        }
        let mut io_share = vec![0.0; n * jj * jj];
        let mut va = vec![0.0; n * jj];
        for e in 0..n {
            for j in 0..jj {
                va[e * jj + j] = va_share(j);
                for k in 0..jj {
                    io_share[(e * jj + k) * jj + j] = self.io[e][j][k];
                }
            }
        }
        Baseline {
            name: "apac-americas-2014 (being built)".to_string(),
            economies: self
                .codes
                .iter()
                .zip(&self.names)
                .map(|(c, n)| Economy {
                    code: c.clone(),
                    name: n.clone(),
                })
                .collect(),
            sectors: SECTORS
                .iter()
                .map(|(c, name, th, tr)| Sector {
                    code: c.to_string(),
                    name: name.to_string(),
                    theta: *th,
                    traded: *tr,
                })
                .collect(),
            flows,
            tariffs,
            flags: Default::default(),
            value_added: self.gdp.clone(),
            va_share: va,
            io_share,
            final_share: vec![1.0 / jj as f64; n * jj],
            deficit: vec![0.0; n],
            tariff_sets: Default::default(),
            product_groups: self
                .groups
                .iter()
                .map(|g| BaselineProductGroup {
                    importer: g.importer,
                    group: g.group.clone(),
                    sector: g.sector,
                    exporter: g.exporter,
                    weight: g.weight,
                    base_rate: g.base_rate,
                    source: g.source.clone(),
                })
                .collect(),
        }
    }

    /// Writes `economies.csv`, `sectors.csv`, `flows.csv`, `io.csv`, `final_demand.csv`,
    /// `product_groups.csv`, `validation.csv` (every observed figure against the world) and the
    /// generated `BUILD.md` (figures of the build) to `out`,
    /// creating the directory. `PROVENANCE.md` and `facts/` are hand-written and not touched.
    pub fn write(&self, out: &Path) -> Result<()> {
        let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
        let n = self.codes.len();
        let mut s = String::from("code,name,value_added\n");
        for i in 0..n {
            let name = self.names[i].replace('"', "'");
            let _ = writeln!(s, "{},\"{}\",{:.0}", self.codes[i], name, self.gdp[i]);
        }
        files.push(("economies.csv", s.into_bytes()));
        let mut s = String::from("code,name,theta,traded\n");
        for (c, name, th, tr) in SECTORS {
            let _ = writeln!(s, "{c},{name},{th},{tr}");
        }
        files.push(("sectors.csv", s.into_bytes()));
        let mut s = String::from("sector,exporter,importer,value,tariff,flag\n");
        for (k, sec) in SECTORS.iter().enumerate() {
            for i in 0..n {
                for j in 0..n {
                    let _ = writeln!(
                        s,
                        "{},{},{},{:.0},{:.6},{}",
                        sec.0,
                        self.codes[i],
                        self.codes[j],
                        self.flow(k, i, j),
                        self.mfn_tariff(k, j, i),
                        self.flag(k, i, j)
                    );
                }
            }
        }
        files.push(("flows.csv", s.into_bytes()));
        let mut s = String::from("economy,sector,input,share\n");
        for (n, c) in self.codes.iter().enumerate() {
            for (j, sec) in SECTORS.iter().enumerate() {
                for (k, inp) in SECTORS.iter().enumerate() {
                    let _ = writeln!(s, "{c},{},{},{:.9}", sec.0, inp.0, self.io[n][j][k]);
                }
                let _ = writeln!(s, "{c},{},VA,{:.9}", sec.0, va_share(j));
            }
        }
        files.push(("io.csv", s.into_bytes()));
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
        files.push(("final_demand.csv", s.into_bytes()));
        let mut s = String::from("importer,group,sector,exporter,weight,base_rate,source\n");
        for g in &self.groups {
            let _ = writeln!(
                s,
                "{},{},{},{},{:.6},{:.6},\"{}\"",
                self.codes[g.importer],
                g.group,
                SECTORS[g.sector].0,
                g.exporter.map_or("", |e| self.codes[e].as_str()),
                g.weight,
                g.base_rate,
                g.source
            );
        }
        files.push(("product_groups.csv", s.into_bytes()));
        let mut s = String::from("figure,source,subject,observed,world,deviation_pct\n");
        for v in &self.validation {
            let dev = if v.observed != 0.0 {
                let d = 100.0 * (v.world / v.observed - 1.0);
                format!("{:.2}", if d.abs() < 0.005 { 0.0 } else { d })
            } else {
                String::new()
            };
            let num = |x: f64| {
                if x.abs() >= 1e3 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.4}")
                }
            };
            let _ = writeln!(
                s,
                "\"{}\",{},{},{},{},{dev}",
                v.figure,
                v.source,
                v.subject,
                num(v.observed),
                num(v.world)
            );
        }
        files.push(("validation.csv", s.into_bytes()));
        let head =
            "# Build figures of apac-americas-2014\n\nGenerated by `tradesim data build-world` \
                    from `../shared/facts/`, `data/apac-americas-2014/facts/` and the agreements of \
                    `scenarios/baseline-2014.ron`; do not edit. Every number below is \
                    MODEL-GENERATED unless it quotes the facts or the paper.\n\n";
        files.push(("BUILD.md", format!("{head}{}", self.summary).into_bytes()));
        // Each file to a hidden temporary beside it, renamed into place once all are written:
        // a failure while writing (a full disk) leaves the earlier build's files whole.
        crate::output::write_all(out, &files)
    }
}

/// The files [`World::write`] writes (and replaces).
pub const WORLD_FILES: [&str; 8] = [
    "economies.csv",
    "sectors.csv",
    "flows.csv",
    "io.csv",
    "final_demand.csv",
    "product_groups.csv",
    "validation.csv",
    "BUILD.md",
];

/// Refuse to write a world into `out` over files of the same names ([`WORLD_FILES`]) that an
/// earlier `data build-world` did not write (the directory's `BUILD.md` does not say it was
/// generated by it), unless `force`. Other files in `out` are never touched.
pub fn check_world_out(out: &Path, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    let earlier_build = std::fs::read_to_string(out.join("BUILD.md")).is_ok_and(|t| {
        t.starts_with("# Build figures of ")
            && t.contains("Generated by `tradesim data build-world`")
    });
    if earlier_build {
        return Ok(());
    }
    if let Some(name) = WORLD_FILES.iter().find(|n| out.join(n).exists()) {
        return Err(Error::invalid(
            out.join(name).display().to_string(),
            "exists, and this directory is not a world built by `tradesim data build-world` (its BUILD.md does not say so), so nothing was written; choose another `out`, or pass `force` to replace the world's files there (other files are left as they are)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the facts files besides economies_2014.csv and bilateral_2014.csv with their
    /// headers only, and empty extra facts, into `dir`.
    fn other_facts(dir: &Path) {
        for (f, h) in [
            ("bilateral_2014_tradhist.csv", "exporter,importer,value_usd,source\n"),
            ("tariffs_2014.csv", "iso3,mfn_primary_simple\n"),
            ("import_shares_2014.csv", "iso3,food,manuf\n"),
            ("services_2014.csv", "iso3,services_exports_usd,services_imports_usd\n"),
            (
                "product_groups_2014.csv",
                "importer,group,sector,exporter,import_value_usd,value_year,value_key,base_rate,rate_key\n",
            ),
            ("wto_ttd_mtn_2014.csv", "reporter,product_code,trade_weighted\n"),
        ] {
            std::fs::write(dir.join(f), h).unwrap();
        }
    }

    #[test]
    fn facts_without_observed_pairs_give_an_error_not_a_panic() {
        let d = tempfile::tempdir().unwrap();
        other_facts(d.path());
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
        let e = build(d.path(), d.path(), Path::new("unused.ron"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("gravity fit"), "{e}");
    }

    #[test]
    fn an_economy_without_export_shares_is_named_with_its_row() {
        let d = tempfile::tempdir().unwrap();
        other_facts(d.path());
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
        let e = build(d.path(), d.path(), Path::new("unused.ron"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("economies_2014.csv, row 3") && e.contains("BBB"),
            "{e}"
        );
    }

    fn check(gdp: f64, exp: [f64; 4], imp: [f64; 4]) -> DomesticSales {
        let d = domestic_sales(gdp, exp, imp).unwrap();
        // Value added equals GDP with the value-added shares, every final demand clears FD_MIN.
        let va: f64 = (0..4).map(|k| va_share(k) * (d.domestic[k] + exp[k])).sum();
        assert!((va / gdp - 1.0).abs() < 1e-12, "{va} vs {gdp}");
        for k in 0..4 {
            let x = d.domestic[k] + imp[k];
            assert!(
                d.final_demand[k] >= FD_MIN * x * (1.0 - 1e-9),
                "{k}: {:?}",
                d
            );
            let inter: f64 = (0..4).map(|j| d.io[j][k] * (d.domestic[j] + exp[j])).sum();
            assert!((x - inter - d.final_demand[k]).abs() < 1e-6 * x.max(1.0));
        }
        d
    }

    #[test]
    fn domestic_sales_follow_the_formula_for_an_ordinary_economy() {
        // Japan-like: exports and imports small against GDP.
        let d = check(
            4.9e12,
            [1.0e10, 3.4e10, 6.0e11, 1.6e11],
            [6.0e10, 2.5e11, 5.0e11, 1.9e11],
        );
        for k in 0..3 {
            assert!((d.domestic[k] / (DOMESTIC_GDP_RATIO[k] * 4.9e12) - 1.0).abs() < 1e-12);
        }
        assert_eq!(d.io, IO_SHARES);
    }

    #[test]
    fn domestic_sales_adjust_for_a_fuel_exporter_and_a_re_exporter() {
        // Fuel exporter: fuel exports large against GDP.
        let d = check(
            1.7e10,
            [5.0e7, 9.7e9, 7.0e8, 5.0e8],
            [8.0e8, 3.0e8, 2.5e9, 2.0e9],
        );
        assert!(d.domestic[1] > DOMESTIC_GDP_RATIO[1] * 1.7e10);
        // Re-exporter: exports 1.8 times GDP.
        let d = check(
            2.9e11,
            [6.0e10, 7.0e10, 3.9e11, 1.07e11],
            [7.0e10, 6.0e10, 4.6e11, 7.4e10],
        );
        assert!(d.domestic[2] < DOMESTIC_GDP_RATIO[2] * 2.9e11);
        assert!(d.domestic[3] > 0.0);
    }

    #[test]
    fn value_added_shares_are_positive() {
        for j in 0..4 {
            assert!(va_share(j) > 0.0 && va_share(j) < 1.0);
        }
    }
}

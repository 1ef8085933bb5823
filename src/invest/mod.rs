//! Investment outcomes (MODEL.md §5): bilateral FDI stocks projected alongside trade.
//!
//! `FDI'_sh(t) = FDI_sh · exp(B_sh(t) − B_sh(base)) · (Ŵ_h(t))^η`
//!
//! with `B_sh(t) = max over agreements covering source s and host h in t of
//! β_inv(provisions) · phase(t)` (investment effects do not stack, like trade preferences),
//! `phase` rising linearly to one over the phase-in, and `Ŵ_h` the host's exact real-income
//! change from the trade equilibrium of the same year and draw.
//!
//! Defaults, from Kox & Rojas-Romagosa (2020), "How trade and investment agreements affect
//! bilateral foreign direct investment: Results from a structural gravity model", The World
//! Economy 43(12) (PPML structural gravity of bilateral FDI stocks): a PTA raises bilateral
//! FDI stocks by about 30% (β = ln 1.30), a bilateral investment treaty by about the same,
//! the deepest PTAs by about 54% (β = ln 1.54). η = 1: in structural gravity the stock is
//! proportional to the host's size (unit income elasticity, as Kox & Rojas-Romagosa impose).

pub mod synthetic;

use crate::data::csvio::Table;
use crate::error::{Error, Result};
use crate::policy::Agreement;
use std::path::Path;

pub use crate::policy::Provisions;

/// The semi-elasticities `β_inv` of bilateral FDI stocks to each level of provisions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemiElasticities {
    /// A preferential trade agreement without investment provisions.
    pub pta: f64,
    /// An agreement with an investment chapter.
    pub investment_chapter: f64,
    /// Protection equivalent to a bilateral investment treaty.
    pub bit_equivalent: f64,
    /// The deepest investment provisions.
    pub deep: f64,
}

impl Default for SemiElasticities {
    /// Kox & Rojas-Romagosa (2020): PTA +30%, BIT about the same, deepest +54%. An investment
    /// chapter is taken as BIT-equivalent protection (a tradesim assumption: the paper gives
    /// no separate figure).
    fn default() -> Self {
        SemiElasticities {
            pta: 1.30f64.ln(),
            investment_chapter: 1.30f64.ln(),
            bit_equivalent: 1.30f64.ln(),
            deep: 1.54f64.ln(),
        }
    }
}

impl SemiElasticities {
    /// The semi-elasticity of provisions `p` (zero without any).
    pub fn of(&self, p: Provisions) -> f64 {
        match p {
            Provisions::None => 0.0,
            Provisions::Pta => self.pta,
            Provisions::InvestmentChapter => self.investment_chapter,
            Provisions::BitEquivalent => self.bit_equivalent,
            Provisions::Deep => self.deep,
        }
    }
}

/// A bilateral FDI stock of the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct FdiStock {
    /// The investing economy (an index into the baseline's economies).
    pub source: usize,
    /// The host economy (an index into the baseline's economies).
    pub host: usize,
    /// The stock in the base year.
    pub stock: f64,
    /// Affiliate sales per unit of stock, when known.
    pub sales_ratio: Option<f64>,
}

/// The investment block of a validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Investment {
    /// The bilateral FDI stocks of the baseline.
    pub stocks: Vec<FdiStock>,
    /// The elasticity `η` of a stock to the host's real income (MODEL.md §5).
    pub eta: f64,
    /// Years over which a provision's effect phases in linearly (at least one).
    pub phase_in_years: u32,
    /// The semi-elasticities of stocks to provisions.
    pub betas: SemiElasticities,
}

/// One projected FDI stock.
#[derive(Debug, Clone, PartialEq)]
pub struct FdiOutcome {
    /// The investing economy (an index into the baseline's economies).
    pub source: usize,
    /// The host economy (an index into the baseline's economies).
    pub host: usize,
    /// The stock in the base year.
    pub stock_base: f64,
    /// The projected stock: `stock_base · exp(B_sh(t) − B_sh(base)) · Ŵ_h^η`.
    pub stock: f64,
    /// Projected affiliate sales (the stock times its sales ratio), when the ratio is known.
    pub affiliate_sales: Option<f64>,
}

/// Load bilateral FDI stocks: a CSV with `source,host,stock` and optionally `sales_ratio`
/// (other columns, such as the year and the source of each number, are carried in the file
/// for the reader and ignored here). Codes are resolved with `economy`.
pub fn load_stocks(path: &Path, economy: &dyn Fn(&str) -> Option<usize>) -> Result<Vec<FdiStock>> {
    let t = Table::read(path)?;
    let (cs, ch, cv) = (t.column("source")?, t.column("host")?, t.column("stock")?);
    let cr = t.optional_column("sales_ratio");
    let mut out = Vec::new();
    for row in &t.rows {
        let code = |c: usize, what: &str| -> Result<usize> {
            let s = t.text(row, c)?;
            economy(s).ok_or_else(|| Error::data(&t.path, row.0, format!("{what} `{s}` is not an economy of the baseline; correct the code or drop the row")))
        };
        let (source, host) = (code(cs, "source")?, code(ch, "host")?);
        let stock = t.non_negative(row, cv, "stock")?;
        let sales_ratio = match cr {
            Some(c) if !t.text(row, c)?.is_empty() => {
                Some(t.non_negative(row, c, "sales_ratio")?)
            }
            _ => None,
        };
        if out
            .iter()
            .any(|x: &FdiStock| x.source == source && x.host == host)
        {
            return Err(Error::data(
                &t.path,
                row.0,
                "this source and host appear on an earlier row too; keep one",
            ));
        }
        out.push(FdiStock {
            source,
            host,
            stock,
            sales_ratio,
        });
    }
    Ok(out)
}

/// The investment effect `B_sh(t)` of the agreements covering a pair in `year`.
pub fn provision_effect(
    agreements: &[Agreement],
    inv: &Investment,
    s: usize,
    h: usize,
    year: i32,
    counterfactual: bool,
) -> f64 {
    let mut best = 0.0f64;
    for a in agreements.iter().filter(|a| !(counterfactual && a.removed)) {
        let Some(start) = a.pair_start(s, h, year) else {
            continue;
        };
        if start > year {
            continue;
        }
        let y = a.schedule_year(year, start);
        let phase = ((y - start) as f64 + 1.0) / inv.phase_in_years.max(1) as f64;
        let v = inv.betas.of(a.investment) * phase.clamp(0.0, 1.0);
        if v > best {
            best = v;
        }
    }
    best
}

/// Project every FDI stock to `year`, given the hosts' real-income changes (percent).
pub fn project(
    inv: &Investment,
    agreements: &[Agreement],
    base_year: i32,
    year: i32,
    real_income_pct: &[f64],
) -> Vec<FdiOutcome> {
    inv.stocks
        .iter()
        .map(|f| {
            let b = provision_effect(agreements, inv, f.source, f.host, year, true)
                - provision_effect(agreements, inv, f.source, f.host, base_year, false);
            let w_hat = 1.0 + real_income_pct[f.host] / 100.0;
            let stock = f.stock * b.exp() * w_hat.powf(inv.eta);
            FdiOutcome {
                source: f.source,
                host: f.host,
                stock_base: f.stock,
                stock,
                affiliate_sales: f.sales_ratio.map(|r| r * stock),
            }
        })
        .collect()
}

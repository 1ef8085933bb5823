//! Step 5 of the build: MFN tariffs by importer and goods sector, and the named product groups
//! that carry the tariff peaks inside agriculture.
//!
//! Sector rates of importer `n` (fractions), from the facts:
//! - AGR (the rest of agriculture & food outside the named groups): the WDI MFN *simple* mean
//!   of primary products (TM.TAX.TCOM.SM.FN.ZS). Primary products are agricultural goods,
//!   fuels and ores; most of their tariff lines are agricultural, so the simple mean is close to
//!   an agricultural average. The trade-weighted primary mean cannot be split into agriculture
//!   and fuels without the fuel and ores import shares (not compiled) and gives implausible
//!   residual rates (e.g. USA 16%, KOR 100%): see docs/world.md, Tariffs.
//! - FMN (fuels and mining): the WTO Tariff & Trade Data trade-weighted MFN average of MTN
//!   category M (Petroleum) for JPN, CHN, USA, IND and the EU members; for the other importers
//!   the median of those five, [`FMN_DEFAULT_NOTE`] (ASSUMPTION), never above the importer's
//!   trade-weighted primary mean.
//! - MAN: the WDI MFN trade-weighted mean of manufactures (TM.TAX.MANF.WM.FN.ZS).
//! - Economies without WDI data (TWN, ROW): the unweighted mean of the others' rate (ASSUMPTION).
//!
//! Product groups (`product_groups_2014.csv`): a group's weight in the AGR imports of `n` from
//! exporter `i` is its import value over the world's AGR flow `i → n` (an exporter's own row),
//! or, for the all-partners row, the rest of the group's value over the AGR imports from the
//! partners without a row of their own. The AGR rate of the pair is the trade-weighted average
//! `τ_ni = Σ_g w_gi·b_g + (1 − Σ_g w_gi)·τ_n^AGR` (the policy engine's rule, MODEL.md §3).

use super::facts::{Facts, GroupFact, TariffFacts};
use crate::error::{Error, Result};
use std::collections::HashMap;

/// The EU members of the world, whose WTO reporter is the European Union (`EUN`).
pub(crate) const EU_MEMBERS: [&str; 6] = ["DEU", "FRA", "GBR", "ITA", "ESP", "NLD"];

/// The WTO MTN category whose trade-weighted average is the FMN rate: M, Petroleum.
pub(crate) const FMN_MTN_CODE: &str = "M";

/// How the FMN rate of importers without WTO TTD data is set (BUILD.md, PROVENANCE.md).
pub(crate) const FMN_DEFAULT_NOTE: &str =
    "median of the WTO TTD importers' petroleum rates (ASSUMPTION), at most the importer's trade-weighted primary mean";

/// Decimal places of every rate and weight the builder computes (and writes).
pub(crate) const RATE_DECIMALS: i32 = 6;

/// Rounds a rate or weight to [`RATE_DECIMALS`].
pub(crate) fn round_rate(x: f64) -> f64 {
    let f = 10f64.powi(RATE_DECIMALS);
    (x * f).round() / f
}

/// MFN sector rates of every economy (fractions), and how each was set.
#[derive(Debug, Clone)]
pub(crate) struct SectorRates {
    /// `[n][k]`, k = AGR (rest of the sector outside the groups), FMN, MAN.
    pub rate: Vec<[f64; 3]>,
    /// The fallback values used where there is no data (the cross-economy means).
    pub fallback: [f64; 3],
    pub fmn_default: f64,
}

/// One named product group of the built world, for `product_groups.csv`.
#[derive(Debug, Clone)]
pub struct WorldGroup {
    pub importer: usize,
    pub group: String,
    pub sector: usize,
    pub exporter: Option<usize>,
    pub weight: f64,
    pub base_rate: f64,
    pub source: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        l if l % 2 == 1 => v[l / 2],
        l => (v[l / 2 - 1] + v[l / 2]) / 2.0,
    }
}

/// The MFN sector rates of every economy of `codes` (ROW last) from the facts.
pub(crate) fn sector_rates(facts: &Facts, codes: &[String]) -> SectorRates {
    let ttd = |reporter: &str| {
        facts
            .ttd
            .iter()
            .find(|t| t.reporter == reporter && t.product_code == FMN_MTN_CODE)
            .map(|t| t.trade_weighted / 100.0)
    };
    let reporters: Vec<f64> = ["JPN", "CHN", "USA", "IND", "EUN"]
        .iter()
        .filter_map(|r| ttd(r))
        .collect();
    let fmn_default = median(reporters);
    let none = TariffFacts::default();
    let mut rate = vec![[f64::NAN; 3]; codes.len()];
    for (n, c) in codes.iter().enumerate() {
        let t = facts.tariffs.get(c).unwrap_or(&none);
        if let Some(p) = t.mfn_primary_simple {
            rate[n][0] = round_rate(p / 100.0);
            // The origin of the rate: WDI MFN simple mean, primary products.
        }
        if let Some(m) = t.mfn_manuf_weighted {
            rate[n][2] = round_rate(m / 100.0);
            // The origin of the rate: WDI MFN trade-weighted mean, manufactures.
        }
        let reporter = if EU_MEMBERS.contains(&c.as_str()) {
            "EUN"
        } else {
            c.as_str()
        };
        match (ttd(reporter), t.mfn_primary_weighted) {
            (Some(r), _) => {
                rate[n][1] = round_rate(r);
                // The origin of the rate: WTO TTD petroleum, trade-weighted.
            }
            (None, Some(p)) => {
                rate[n][1] = round_rate(fmn_default.min(p / 100.0));
                // The origin of the rate: median of the TTD importers (ASSUMPTION).
            }
            (None, None) => {}
        }
    }
    let mut fallback = [0.0; 3];
    for k in 0..3 {
        let have: Vec<f64> = rate
            .iter()
            .map(|r| r[k])
            .filter(|x| x.is_finite())
            .collect();
        fallback[k] = round_rate(have.iter().sum::<f64>() / have.len().max(1) as f64);
        for n in 0..codes.len() {
            if !rate[n][k].is_finite() {
                rate[n][k] = fallback[k];
                // The origin of the rate: mean of the other economies (ASSUMPTION).
            }
        }
    }
    SectorRates {
        rate,
        fallback,
        fmn_default,
    }
}

/// The weights of the named product groups, pair by pair. `agr_flow(i, n)` is the world's AGR
/// flow from `i` to `n` (US$); `index` maps codes to economy indices. Every weight is rounded to
/// [`RATE_DECIMALS`]; an error names the row of `product_groups_2014.csv` whose value does not
/// fit the world's flows.
pub(crate) fn group_weights(
    facts: &Facts,
    index: &HashMap<&str, usize>,
    n_econ: usize,
    agr_flow: &dyn Fn(usize, usize) -> f64,
) -> Result<Vec<WorldGroup>> {
    let path = &facts.groups_path;
    let mut out = Vec::new();
    // Group facts by (importer, group), keeping file order.
    let mut keys: Vec<(String, String)> = Vec::new();
    for g in &facts.groups {
        let k = (g.importer.clone(), g.group.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (imp, name) in keys {
        let rows: Vec<&GroupFact> = facts
            .groups
            .iter()
            .filter(|g| g.importer == imp && g.group == name)
            .collect();
        let n = index[imp.as_str()];
        let sector = ["AGR", "FMN", "MAN"]
            .iter()
            .position(|s| *s == rows[0].sector)
            .unwrap_or(0);
        if sector != 0 {
            return Err(Error::data(
                path,
                rows[0].line,
                "only AGR groups are supported by the builder (their weights are shares of the AGR flows); move the group to AGR",
            ));
        }
        let specific: Vec<(&GroupFact, usize)> = rows
            .iter()
            .filter_map(|g| g.exporter.as_deref().map(|e| (*g, index[e])))
            .collect();
        let mut spec_value = 0.0;
        for (g, e) in &specific {
            let flow = agr_flow(*e, n);
            let w = round_rate(g.value / flow);
            if !(w < 1.0) {
                return Err(Error::data(
                    path,
                    g.line,
                    format!(
                        "{imp}'s {name} imports from {} ({:.0} US$) exceed the world's AGR flow {}→{imp} ({flow:.0} US$); check the value or its year",
                        g.exporter.as_deref().unwrap_or(""),
                        g.value,
                        g.exporter.as_deref().unwrap_or("")
                    ),
                ));
            }
            spec_value += g.value;
            out.push(WorldGroup {
                importer: n,
                group: name.clone(),
                sector,
                exporter: Some(*e),
                weight: w,
                base_rate: round_rate(g.base_rate),
                source: format!("{}; {}", g.value_key, g.rate_key),
            });
        }
        if let Some(all) = rows.iter().find(|g| g.exporter.is_none()) {
            let rest_value = all.value - spec_value;
            if rest_value < 0.0 {
                return Err(Error::data(
                    path,
                    all.line,
                    format!("the all-partners value of {imp}'s {name} ({:.0}) is below the sum of its exporter rows ({spec_value:.0}); it is the total from all partners", all.value),
                ));
            }
            let rest_flow: f64 = (0..n_econ)
                .filter(|&i| i != n && !specific.iter().any(|(_, e)| *e == i))
                .map(|i| agr_flow(i, n))
                .sum();
            let w = round_rate(rest_value / rest_flow);
            if !(w < 1.0) {
                return Err(Error::data(
                    path,
                    all.line,
                    format!("{imp}'s {name} imports exceed its AGR imports in the world; check the value"),
                ));
            }
            out.push(WorldGroup {
                importer: n,
                group: name.clone(),
                sector,
                exporter: None,
                weight: w,
                base_rate: round_rate(all.base_rate),
                source: format!("{}; {}", all.value_key, all.rate_key),
            });
        }
    }
    Ok(out)
}

/// The groups that apply to importer `n`'s AGR imports from `i` (an exporter's own row replaces
/// the all-partners row of the same group).
pub(crate) fn applying(groups: &[WorldGroup], n: usize, i: usize) -> Vec<&WorldGroup> {
    groups
        .iter()
        .filter(|g| g.importer == n)
        .filter(|g| match g.exporter {
            Some(e) => e == i,
            None => !groups
                .iter()
                .any(|h| h.importer == n && h.group == g.group && h.exporter == Some(i)),
        })
        .collect()
}

/// The AGR rate of the pair `i → n`: `Σ_g w_gi b_g + (1 − Σ_g w_gi) τ_rest`, rounded up to
/// [`RATE_DECIMALS`] so that the written rate is never below the groups' weighted base.
pub(crate) fn pair_agr_rate(groups: &[WorldGroup], n: usize, i: usize, rest: f64) -> f64 {
    let gs = applying(groups, n, i);
    let w: f64 = gs.iter().map(|g| g.weight).sum();
    let wb: f64 = gs.iter().map(|g| g.weight * g.base_rate).sum();
    let f = 10f64.powi(RATE_DECIMALS);
    ((wb + (1.0 - w) * rest) * f - 1e-9).ceil() / f
}

//! From a solved run to the rows of its tables ([`crate::output`]): per economy, per pair and
//! sector, the tariffs that moved, quotas, solves and FDI stocks, each against the run's
//! comparison (the base year, or the reference path's same year).

use super::RunOutcome;
use crate::data::{exports_of, imports_of, Baseline};
use crate::model::caliendo_parro::Equilibrium;
use crate::output::bilateral::{BilateralLabels, BilateralTable, BilateralYear};
use crate::output::{
    pct, EconomyRow, InvestmentRow, QuotaRow, SolverRow, Tables, TariffRow, STAGE_BASELINE,
    STAGE_REFERENCE, STAGE_YEAR,
};

/// Build the tables of a run.
pub fn tables(b: &Baseline, run: &RunOutcome) -> Tables {
    tables_of(b, run, Keep::ALL)
}

/// Which of the tables that copy or scan whole flow cubes to build.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep {
    /// `bilateral.csv`: the years' flow arrays (two cubes a year).
    pub bilateral: bool,
    /// `tariffs.csv`: every cell whose rate moved (the central run only).
    pub tariffs: bool,
}

impl Keep {
    /// Every table, as a plain run writes them.
    pub(crate) const ALL: Keep = Keep {
        bilateral: true,
        tariffs: true,
    };
}

/// Build the tables of a run, leaving out those `keep` turns off (empty).
pub(crate) fn tables_of(b: &Baseline, run: &RunOutcome, keep: Keep) -> Tables {
    let (nn, jj) = (b.n_economies(), b.n_sectors());
    let mut t = Tables::default();
    let against = run.compared_with.to_string();
    // `bilateral.csv` is held as the years' flow arrays, not a row per cell.
    t.bilateral = BilateralTable::of_flows(BilateralLabels {
        scenario: run.scenario.clone(),
        compared_with: against.clone(),
        economies: b.economies.iter().map(|e| e.code.clone()).collect(),
        sectors: b.sectors.iter().map(|s| s.code.clone()).collect(),
    });
    t.solver.push(SolverRow {
        scenario: run.scenario.clone(),
        stage: STAGE_BASELINE.into(),
        year: run.base_year,
        draw: run.draw,
        iterations: run.baseline.iterations,
        residual: run.baseline.residual,
        quota_rounds: 1,
    });
    // The solved baseline's exports and imports, the comparison of every year without a
    // reference path: summed once.
    let mut baseline_trade: Option<(Vec<f64>, Vec<f64>)> = None;
    for y in &run.years {
        let eq = &y.equilibrium;
        // The comparison: the reference path's same year, or the solved base year.
        let base = y
            .reference
            .as_ref()
            .map_or(&run.baseline, |r| &r.equilibrium);
        let base_tariffs = match &y.reference {
            Some(r) => &r.equilibrium.tariffs,
            None => &run.base_policy.tariffs,
        };
        let trade = |e: &Equilibrium| (exports_of(&e.flows), imports_of(&e.flows));
        let (ex0, im0) = match &y.reference {
            Some(_) => trade(base),
            None => baseline_trade.get_or_insert_with(|| trade(base)).clone(),
        };
        let (ex, im) = trade(eq);
        let c = &y.comparison;
        // Without an investment block the FDI columns are empty, not zero.
        let projected = !y.investment.is_empty();
        let mut fdi0 = vec![0.0; nn];
        let mut fdi1 = vec![0.0; nn];
        for f in &y.investment {
            fdi0[f.host] += f.stock_base;
            fdi1[f.host] += f.stock;
            t.investment.push(InvestmentRow {
                scenario: run.scenario.clone(),
                year: y.year,
                draw: y.draw,
                source: b.economies[f.source].code.clone(),
                host: b.economies[f.host].code.clone(),
                fdi_stock_base: f.stock_base,
                fdi_stock: f.stock,
                change_pct: pct(f.stock, f.stock_base),
                affiliate_sales: f.affiliate_sales,
            });
        }
        for n in 0..nn {
            t.economies.push(EconomyRow {
                scenario: run.scenario.clone(),
                year: y.year,
                draw: y.draw,
                economy: b.economies[n].code.clone(),
                exports_base: ex0[n],
                exports: ex[n],
                imports_base: im0[n],
                imports: im[n],
                real_income_pct: c.real_income_pct[n],
                welfare_pct: c.welfare_pct[n],
                tot_pct: c.tot_pct[n],
                vot_pct: c.vot_pct[n],
                real_wage_pct: c.real_wage_pct[n],
                tariff_revenue_base: base.tariff_revenue[n],
                tariff_revenue: eq.tariff_revenue[n],
                inward_fdi_base: projected.then_some(fdi0[n]),
                inward_fdi: projected.then_some(fdi1[n]),
                compared_with: against.clone(),
            });
        }
        if keep.bilateral {
            t.bilateral.push_year(BilateralYear {
                year: y.year,
                draw: y.draw,
                base: base.flows.clone(),
                value: eq.flows.clone(),
            });
        }
        // Tariffs that moved, on cells with a flow in the comparison or the year (the rows of
        // `bilateral.csv`); the central run only.
        if keep.tariffs && y.draw == 0 {
            for j in 0..jj {
                for n in 0..nn {
                    for i in 0..nn {
                        let (v0, v1) = (base.flows.get(j, n, i), eq.flows.get(j, n, i));
                        let (r0, r1) = (base_tariffs.get(j, n, i), eq.tariffs.get(j, n, i));
                        if (v0 == 0.0 && v1 == 0.0) || r0 == r1 {
                            continue;
                        }
                        t.tariffs.push(TariffRow {
                            scenario: run.scenario.clone(),
                            year: y.year,
                            importer: b.economies[n].code.clone(),
                            exporter: b.economies[i].code.clone(),
                            sector: b.sectors[j].code.clone(),
                            rate_base: r0,
                            rate: r1,
                            compared_with: against.clone(),
                        });
                    }
                }
            }
        }
        for q in &y.quotas {
            t.quotas.push(QuotaRow {
                scenario: run.scenario.clone(),
                year: y.year,
                draw: y.draw,
                agreement: q.cell.agreement.clone(),
                group: q.cell.group.clone(),
                importer: b.economies[q.cell.importer].code.clone(),
                exporter: b.economies[q.cell.exporter].code.clone(),
                sector: b.sectors[q.cell.sector].code.clone(),
                quota: q.cell.quota,
                imports: q.imports,
                fill_rate: q.fill_rate,
                regime: q.regime.to_string(),
                marginal_rate: q.marginal_rate,
            });
        }
        t.solver.push(SolverRow {
            scenario: run.scenario.clone(),
            stage: STAGE_YEAR.into(),
            year: y.year,
            draw: y.draw,
            iterations: eq.iterations,
            residual: eq.residual,
            quota_rounds: y.quota_rounds,
        });
        if let Some(r) = y.reference.as_ref().filter(|r| !r.same_policy) {
            t.solver.push(SolverRow {
                scenario: run.scenario.clone(),
                stage: STAGE_REFERENCE.into(),
                year: y.year,
                draw: y.draw,
                iterations: r.equilibrium.iterations,
                residual: r.equilibrium.residual,
                quota_rounds: r.quota_rounds,
            });
        }
    }
    t
}

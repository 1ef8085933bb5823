//! Simulation: a validated scenario → the solved baseline and one equilibrium per year,
//! solved in parallel with rayon. Years are comparative statics (MODEL.md §3): each year's
//! policy is solved independently from the solved baseline. A scenario compared with a
//! reference path also solves the reference's policy of every year, with the same model
//! (world, θ, deficits, solver), and measures each year against the reference's same year.

pub mod batch;
pub(crate) mod draws;
pub mod tables;

pub use tables::tables;

use crate::data::Cube;
use crate::error::{Context, Error, Result, Solver, Worst};
use crate::model::caliendo_parro::{compare, Comparison, Equilibrium, Model, Shock};
use crate::model::solver::Settings;
use crate::policy::{self, QuotaCell, YearPolicy};
use crate::scenario::raw::Deficits;
use crate::scenario::Scenario;
use rayon::prelude::*;

/// How a tariff-rate quota ended up in a year's equilibrium.
#[derive(Debug, Clone)]
pub struct QuotaOutcome {
    /// The quota: product group, importer, exporter, sector and volume.
    pub cell: QuotaCell,
    /// The group's rate at the margin: in-quota, out-of-quota, or between when the quota binds.
    pub marginal_rate: f64,
    /// The group's imports at base-year prices, `weight · M'_ni^j / ĉ_i^j`.
    pub imports: f64,
    /// `imports / quota`, capped at 1 when the quota is filled.
    pub fill_rate: f64,
    /// `in_quota`, `binding` or `out_of_quota` (MODEL.md §3).
    pub regime: &'static str,
}

/// The equilibrium of one year (and draw).
#[derive(Debug, Clone)]
pub struct YearOutcome {
    /// The year solved.
    pub year: i32,
    /// The batch draw (0: the central run, and every plain scenario run).
    pub draw: u32,
    /// The year's equilibrium in changes against the solved base year (MODEL.md §1).
    pub equilibrium: Equilibrium,
    /// Percent changes against what the scenario is compared with (base year or reference).
    pub comparison: Comparison,
    /// The year's tariff-rate quotas and how each ended up.
    pub quotas: Vec<QuotaOutcome>,
    /// Rounds of the quota regime search (1 when there is no quota).
    pub quota_rounds: usize,
    /// Projected FDI stocks (empty without an investment block); with a reference path,
    /// `stock_base` is the reference's stock of the same year.
    pub investment: Vec<crate::invest::FdiOutcome>,
    /// The reference path's equilibrium of the same year, when the scenario is compared with
    /// one (`comparison` is then against it).
    pub reference: Option<Box<ReferenceYear>>,
}

/// The reference path's solve of one year.
#[derive(Debug, Clone)]
pub struct ReferenceYear {
    /// The reference path's equilibrium of the year.
    pub equilibrium: Equilibrium,
    /// Its tariff-rate quotas.
    pub quotas: Vec<QuotaOutcome>,
    /// Rounds of its quota regime search.
    pub quota_rounds: usize,
    /// The reference's policy this year equals the scenario's (e.g. before the scenario's
    /// agreement enters into force): its equilibrium is the scenario's, not solved again.
    pub same_policy: bool,
}

/// A scenario's results: the solved baseline and the years.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The scenario's name.
    pub scenario: String,
    /// The year of the baseline data.
    pub base_year: i32,
    /// The Caliendo–Parro model built from the baseline (shares, elasticities, input-output).
    pub model: Model,
    /// The data-year tariffs and depth effects.
    pub base_policy: YearPolicy,
    /// The solved base year (the data's own tariffs: every change 1 to the tolerance).
    pub baseline: Equilibrium,
    /// The batch draw this run is (0: the central run, and every plain scenario run); its
    /// years carry the same.
    pub draw: u32,
    /// The solved years, in order.
    pub years: Vec<YearOutcome>,
    /// `base_year` or `reference` ([`crate::scenario::ComparedWith::kind`]).
    pub compared_with: &'static str,
    /// What percent changes are measured against, in words.
    pub compared_with_label: String,
}

pub use crate::scenario::resolve_paths;

/// One year of a run, solved (or failed), as an observer sees it.
#[derive(Debug, Clone, Copy)]
pub struct YearSolved<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The calendar year.
    pub year: i32,
    /// Iterations and largest residual of the year's solve; `None` when it failed (the error
    /// is the run's return value).
    pub solve: Option<(usize, f64)>,
}

/// An observer of runs: progress and diagnostics, never results (those are return values).
/// The binary's progress bar is one; argmin's `Observe` is the model. A closure `Fn() + Sync`
/// is an observer that counts solved years, so `simulate::run(&s, &|| bar.inc(1))` works.
/// Calls come from the solving threads, in no fixed order.
pub trait Observe: Sync {
    /// A year was solved (or failed).
    fn year_solved(&self, _year: &YearSolved<'_>) {}
}

impl<F: Fn() + Sync> Observe for F {
    fn year_solved(&self, _year: &YearSolved<'_>) {
        self()
    }
}

/// Solve the scenario: the baseline equilibrium, then every year in parallel. `observer` hears
/// of each year as it is solved (for a progress bar).
pub fn run(s: &Scenario, observer: &dyn Observe) -> Result<RunOutcome> {
    let Setup {
        base_policy,
        paths,
        reference_paths,
        model,
    } = Setup::of(s);
    run_with(
        s,
        model,
        base_policy,
        &paths,
        reference_paths.as_deref(),
        observer,
    )
}

/// What a scenario's runs share whatever their θ (and FDI η): the policy of the base year and
/// of every year, resolved from the baseline and the agreements alone (MODEL.md §3), and the
/// model's data-year terms, `τ`, `π_ni^j = M_ni^j (1+τ_ni^j) / X_n^j`, `γ`, `α`, `X_n^j`
/// (MODEL.md §1), none of which uses θ. A batch builds it once per scenario and puts each
/// draw's θ into the model ([`batch`]); only a draw of an agreement's depth changes it.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// The data-year tariffs and depth effects.
    pub base_policy: YearPolicy,
    /// The policy of every year of `s.years`, in order.
    pub paths: Vec<YearPolicy>,
    /// The reference path's policy of every year, when the scenario is compared with one.
    pub reference_paths: Option<Vec<YearPolicy>>,
    /// The model, with the scenario's θ.
    pub model: Model,
}

impl Setup {
    /// Resolve the scenario's policy path and build its model.
    pub(crate) fn of(s: &Scenario) -> Setup {
        let (base_policy, paths) = resolve_paths(s);
        let reference_paths = s.compared_with.reference().map(|r| {
            s.years
                .iter()
                .map(|&y| policy::resolve_year(&s.baseline, &r.agreements, y, true))
                .collect()
        });
        let model = Model::new(
            &s.baseline,
            &base_policy.tariffs,
            s.theta.clone(),
            s.input_output,
        );
        Setup {
            base_policy,
            paths,
            reference_paths,
            model,
        }
    }
}

/// Solve the scenario given its set-up ([`Setup`]): `model` and `base_policy` built from `s`
/// (the model with `s.theta`), `paths` the policies of `s.years` and `ref_paths` its
/// reference path's.
pub(crate) fn run_with(
    s: &Scenario,
    model: Model,
    base_policy: YearPolicy,
    paths: &[YearPolicy],
    ref_paths: Option<&[YearPolicy]>,
    observer: &dyn Observe,
) -> Result<RunOutcome> {
    let deficit = match s.deficits {
        Deficits::Baseline => model.deficit.clone(),
        Deficits::Zero => vec![0.0; model.n],
    };
    let baseline = model
        .solve(
            &Shock {
                tariffs: base_policy.tariffs.clone(),
                cost: None,
                deficit: deficit.clone(),
            },
            &s.solver,
            None,
        )
        .map_err(|e| in_scenario(e, s, None, None))?;
    let reference = s.compared_with.reference();
    let solve = |p: &YearPolicy| {
        let cost = policy::cost_factors(&s.baseline, &s.theta, &base_policy, p);
        solve_year(&model, p, cost, &deficit, &s.solver, &baseline)
    };
    // FDI stocks of a world with `agreements`, given its equilibrium (against the baseline).
    let fdi = |agreements: &[crate::policy::Agreement], year: i32, eq: &Equilibrium| {
        s.investment.as_ref().map_or_else(Vec::new, |inv| {
            let vs_base = compare(&model, &baseline, eq);
            crate::invest::project(inv, agreements, s.base_year, year, &vs_base.real_income_pct)
        })
    };
    let years: Vec<YearOutcome> = paths
        .par_iter()
        .enumerate()
        .map(|(k, p)| {
            let r = solve(p)
                .map_err(|e| in_scenario(e, s, Some(p.year), None))
                .and_then(|(equilibrium, quotas, quota_rounds)| {
                    let reference = match (&ref_paths, reference) {
                        (Some(rp), Some(r)) => {
                            let q = &rp[k];
                            let same = q.tariffs.data == p.tariffs.data
                                && q.depth == p.depth
                                && q.quotas == p.quotas;
                            let (eq, qs, rounds) = if same {
                                (equilibrium.clone(), quotas.clone(), quota_rounds)
                            } else {
                                solve(q)
                                    .map_err(|e| in_scenario(e, s, Some(p.year), Some(&r.name)))?
                            };
                            Some(Box::new(ReferenceYear {
                                equilibrium: eq,
                                quotas: qs,
                                quota_rounds: rounds,
                                same_policy: same,
                            }))
                        }
                        _ => None,
                    };
                    let (comparison, investment) = match (&reference, reference_agreements(s)) {
                        (Some(r), Some(ref_agreements)) => {
                            let mine = fdi(&s.agreements, p.year, &equilibrium);
                            let theirs = fdi(ref_agreements, p.year, &r.equilibrium);
                            let investment = mine
                                .into_iter()
                                .zip(theirs)
                                .map(|(m, t)| crate::invest::FdiOutcome {
                                    stock_base: t.stock,
                                    ..m
                                })
                                .collect();
                            (compare(&model, &r.equilibrium, &equilibrium), investment)
                        }
                        _ => (
                            compare(&model, &baseline, &equilibrium),
                            fdi(&s.agreements, p.year, &equilibrium),
                        ),
                    };
                    check_finite(
                        s,
                        YearOutcome {
                            year: p.year,
                            draw: 0,
                            comparison,
                            equilibrium,
                            quotas,
                            quota_rounds,
                            investment,
                            reference,
                        },
                    )
                });
            observer.year_solved(&YearSolved {
                scenario: &s.name,
                year: p.year,
                solve: r
                    .as_ref()
                    .ok()
                    .map(|y| (y.equilibrium.iterations, y.equilibrium.residual)),
            });
            r
        })
        .collect::<Result<_>>()?;
    Ok(RunOutcome {
        scenario: s.name.clone(),
        base_year: s.base_year,
        model,
        base_policy,
        baseline,
        draw: 0,
        years,
        compared_with: s.compared_with.kind(),
        compared_with_label: s.compared_with.describe(s.base_year),
    })
}

/// The reference path's agreements, when the scenario has one.
fn reference_agreements(s: &Scenario) -> Option<&[crate::policy::Agreement]> {
    s.compared_with.reference().map(|r| r.agreements.as_slice())
}

/// No NaN or infinity leaves the model: a non-finite result is an error naming where it arose.
fn check_finite(s: &Scenario, y: YearOutcome) -> Result<YearOutcome> {
    let b = &s.baseline;
    let (nn, jj) = (b.n_economies(), b.n_sectors());
    let c = &y.comparison;
    for n in 0..nn {
        let vals = [
            ("real income", c.real_income_pct[n]),
            ("welfare", c.welfare_pct[n]),
            ("real wage", c.real_wage_pct[n]),
            ("wage", y.equilibrium.w_hat[n]),
            ("income", y.equilibrium.income[n]),
        ];
        if let Some((what, v)) = vals.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid(
                format!("scenario `{}`, year {}", s.name, y.year),
                format!("the {what} of economy {} is {v}; check the scenario's elasticities and rates and the baseline's shares", b.economies[n].code),
            ));
        }
    }
    if let Some(k) = y.equilibrium.flows.data.iter().position(|v| !v.is_finite()) {
        let (j, rest) = (k / (nn * nn), k % (nn * nn));
        let (n, i) = (rest / nn, rest % nn);
        return Err(Error::invalid(
            format!("scenario `{}`, year {}", s.name, y.year),
            format!(
                "the flow {}→{} in {} is not finite",
                b.economies[i].code,
                b.economies[n].code,
                b.sectors[j.min(jj - 1)].code
            ),
        ));
    }
    Ok(y)
}

/// Say which scenario and solve (the baseline when `year` is `None`; a reference path's when
/// `reference` is given) a solver error comes from: in the context of a non-convergence, in
/// front of the place of a value the model could not compute.
fn in_scenario(e: Error, s: &Scenario, year: Option<i32>, reference: Option<&str>) -> Error {
    let fill = |c: &mut Context| {
        c.scenario = Some(s.name.clone());
        c.year = year;
        c.reference = reference.map(str::to_string);
    };
    match e {
        Error::Invalid { context, message } => {
            let mut c = Context::default();
            fill(&mut c);
            Error::Invalid {
                context: format!("{c}{context}"),
                message,
            }
        }
        other => other.amend(|s| fill(&mut s.context)),
    }
}

/// Solve one year, finding the regime of every tariff-rate quota inside the equilibrium
/// (MODEL.md §3): the in-quota rate while imports stay under the quota; otherwise the
/// out-of-quota rate if imports exceed the quota even at that rate; otherwise the quota binds
/// and the marginal rate lies between the two, found by bisection so that imports equal the quota.
pub fn solve_year(
    model: &Model,
    p: &YearPolicy,
    cost: Option<Cube>,
    deficit: &[f64],
    settings: &Settings,
    warm: &Equilibrium,
) -> Result<(Equilibrium, Vec<QuotaOutcome>, usize)> {
    let mut shock = Shock {
        tariffs: p.tariffs.clone(),
        cost,
        deficit: deficit.to_vec(),
    };
    if p.quotas.is_empty() {
        let eq = model.solve(&shock, settings, Some(warm))?;
        return Ok((eq, Vec::new(), 1));
    }
    // Per quota: the current marginal rate and a bracket [lo, hi].
    let mut rate: Vec<f64> = p.quotas.iter().map(|q| q.in_quota_rate).collect();
    let mut lo = rate.clone();
    let mut hi: Vec<f64> = p.quotas.iter().map(|q| q.out_of_quota_rate).collect();
    let mut tried_out = vec![false; p.quotas.len()];
    let mut current = warm.clone();
    // The unsettled quota farthest from its quota (relative gap), for the error.
    let (mut gap, mut farthest) = (0.0f64, 0);
    for round in 1..=200 {
        gap = 0.0;
        for (q, r) in p.quotas.iter().zip(&rate) {
            shock.tariffs.set(
                q.sector,
                q.importer,
                q.exporter,
                q.fixed_part + q.weight * r,
            );
        }
        let eq = model.solve(&shock, settings, Some(&current))?;
        let volumes: Vec<f64> = p
            .quotas
            .iter()
            .map(|q| quota_volume(model, &eq, q))
            .collect();
        let mut done = true;
        for (k, q) in p.quotas.iter().enumerate() {
            let v = volumes[k];
            let settled = (rate[k] == q.in_quota_rate && v <= q.quota)
                || (rate[k] == q.out_of_quota_rate && v >= q.quota)
                || (v - q.quota).abs() <= 1e-9 * q.quota
                || hi[k] - lo[k] <= 1e-13;
            if settled {
                continue;
            }
            done = false;
            if !((v - q.quota).abs() / q.quota <= gap) {
                (gap, farthest) = ((v - q.quota).abs() / q.quota, k);
            }
            if !tried_out[k] {
                tried_out[k] = true;
                rate[k] = q.out_of_quota_rate;
            } else {
                if v > q.quota {
                    lo[k] = rate[k];
                } else {
                    hi[k] = rate[k];
                }
                rate[k] = 0.5 * (lo[k] + hi[k]);
            }
        }
        if done {
            let outcomes = p
                .quotas
                .iter()
                .zip(&rate)
                .zip(&volumes)
                .map(|((q, &r), &v)| {
                    let regime = if r == q.in_quota_rate && v <= q.quota {
                        "in_quota"
                    } else if r == q.out_of_quota_rate {
                        "out_of_quota"
                    } else {
                        "binding"
                    };
                    QuotaOutcome {
                        cell: q.clone(),
                        marginal_rate: r,
                        imports: v,
                        fill_rate: (v / q.quota).min(1.0),
                        regime,
                    }
                })
                .collect();
            return Ok((eq, outcomes, round));
        }
        current = eq;
    }
    let q = &p.quotas[farthest];
    let code = |n: usize| model.economy_codes[n].clone();
    Err(Error::not_converged(
        Solver::QuotaRegimes,
        200,
        gap,
        1e-9,
        Some(Worst::Cell {
            importer: code(q.importer),
            exporter: code(q.exporter),
            sector: model.sector_codes[q.sector].clone(),
        }),
        "check the quotas' sizes against the baseline flows",
    ))
}

/// A quota group's imports at base-year prices: `weight · M'_ni^j / ĉ_i^j`.
fn quota_volume(model: &Model, eq: &Equilibrium, q: &QuotaCell) -> f64 {
    q.weight * eq.flows.get(q.sector, q.importer, q.exporter)
        / eq.c_hat[q.exporter * model.j + q.sector]
}

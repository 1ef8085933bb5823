//! Policy paths (MODEL.md §3, "Policy paths: from a scenario to `τ'_ni^j(t)`"): agreements, memberships and tariff schedules, resolved to the
//! applied tariff matrix `τ'_ni^j(t)` and the non-tariff cost factors of every year.
//!
//! Rules:
//! - the applied rate of a pair is the lowest of the data rate (MFN) and the rate of every
//!   agreement both economies belong to in that year; preferences do not stack;
//! - an agreement's schedule counts years from the pair's start: the later of entry into
//!   force and the two members' joining years;
//! - product groups carry a share of a sector's bilateral imports with their own schedule;
//!   the sector's rate is the trade-weighted average of the groups and the rest;
//! - depth (non-tariff) effects shift trade costs by `κ̂^{-θ} = exp(β·phase(t))` on the pairs
//!   the agreement's selector picks (by default the pairs it newly liberalises: not already in
//!   an agreement at least as deep); the largest effect among a pair's agreements applies;
//! - an agreement already in force in the base year is part of the data; unless the scenario
//!   lets its phase-out continue, it is held at its base-year rates (comparative statics of
//!   the scenario's new policies); held are the pairs of the data, so a member acceding after
//!   the base year runs the schedule from its accession ([`Agreement::schedule_year`]).

use crate::data::{Baseline, Cube};

/// An agreement's investment provisions, from none to deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
pub enum Provisions {
    /// No investment effect.
    None,
    /// A preferential trade agreement without investment rules (the default of an agreement).
    Pta,
    /// A PTA with an investment chapter.
    InvestmentChapter,
    /// Protection equivalent to a bilateral investment treaty.
    BitEquivalent,
    /// A deep agreement (investment, services, competition, …).
    Deep,
}

/// A tariff schedule (MODEL.md §3, schedule kinds): how an importer's rate for members moves
/// from `base` (the data rate, ad valorem: 0.05 is 5%), counting years from the pair's start.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Zero from the first year.
    Immediate,
    /// `years` equal annual cuts, the first in the first year, ending at `to`·base.
    Linear {
        /// The number of annual cuts (at least 1).
        years: u32,
        /// The final rate as a fraction of the base rate (0: duty-free).
        to: f64,
    },
    /// Step function of (offset in years, fraction of base); base before the first step.
    Staged(Vec<(u32, f64)>),
    /// The base rate, unchanged.
    Excluded,
    /// Explicit rates by calendar year; base before the first year.
    Path(Vec<(i32, f64)>),
    /// A tariff-rate quota; the regime is found inside the equilibrium (MODEL.md §3).
    TariffRateQuota {
        /// The quota: imports in base-year money at base-year prices.
        quota: f64,
        /// The ad-valorem rate while imports stay under the quota.
        in_quota_rate: f64,
        /// The ad-valorem rate at the margin when imports exceed the quota.
        out_of_quota_rate: f64,
    },
    /// The rates of a named tariff set of the baseline.
    ToTariffSet(String),
}

impl Schedule {
    /// The rate at `offset` years after the pair's start (calendar `year`), from `base`;
    /// `set_rate` is the tariff set's rate for the cell when the schedule is `ToTariffSet`.
    /// A quota returns its in-quota rate (the equilibrium decides the regime).
    pub fn rate(&self, base: f64, offset: i32, year: i32, set_rate: Option<f64>) -> f64 {
        if offset < 0 {
            return base;
        }
        match self {
            Schedule::Immediate => 0.0,
            Schedule::Linear { years, to } => {
                let remaining = (1.0 - (offset as f64 + 1.0) / (*years).max(1) as f64).max(0.0);
                base * (to + (1.0 - to) * remaining)
            }
            Schedule::Staged(steps) => steps
                .iter()
                .filter(|(o, _)| *o as i32 <= offset)
                .max_by_key(|(o, _)| *o)
                .map_or(base, |(_, f)| base * f),
            Schedule::Excluded => base,
            Schedule::Path(points) => points
                .iter()
                .filter(|(y, _)| *y <= year)
                .max_by_key(|(y, _)| *y)
                .map_or(base, |(_, r)| *r),
            Schedule::TariffRateQuota { in_quota_rate, .. } => *in_quota_rate,
            Schedule::ToTariffSet(_) => set_rate.unwrap_or(base),
        }
    }

    /// This schedule with its cuts spread over `years` years (the batch grid's `PhaseIn` axis),
    /// ending where it ended:
    ///
    /// - `Linear`: `years` annual cuts, the last in year `years` (offset `years − 1`);
    /// - `Staged`: the same steps with the same fractions, each step's offset `o` moved to
    ///   `round(o · (years − 1) / last)`, `last` being its last step's offset, so that the last
    ///   step too falls in year `years` (CPTPP's Japanese farm schedule, steps from entry to the
    ///   16th year, over 8 years: the same 16 fractions, the last in the 8th year). Steps that
    ///   land in one year leave the later one (the deeper cut), as if the earlier were skipped.
    ///
    /// `None` for a schedule without a length to set: `Immediate`, `Excluded`, a quota, a tariff
    /// set, a `Staged` schedule whose steps all fall in one year, and a `Path` (rates by
    /// calendar year, a recorded path rather than a shape).
    pub fn with_phase_in(&self, years: u32) -> Option<Schedule> {
        let years = years.max(1);
        match self {
            Schedule::Linear { to, .. } => Some(Schedule::Linear { years, to: *to }),
            Schedule::Staged(steps) => {
                let last = steps.iter().map(|&(o, _)| o).max()?;
                if last == 0 {
                    return None;
                }
                let mut sorted = steps.clone();
                // Stable: of two steps at one offset, the later listed stays later (as `rate`
                // takes it).
                sorted.sort_by_key(|&(o, _)| o);
                let scale = f64::from(years - 1) / f64::from(last);
                let mut out: Vec<(u32, f64)> = Vec::with_capacity(sorted.len());
                for (o, f) in sorted {
                    let o = (f64::from(o) * scale).round() as u32;
                    match out.last_mut() {
                        Some(prev) if prev.0 == o => *prev = (o, f),
                        _ => out.push((o, f)),
                    }
                }
                Some(Schedule::Staged(out))
            }
            Schedule::Immediate
            | Schedule::Excluded
            | Schedule::Path(_)
            | Schedule::TariffRateQuota { .. }
            | Schedule::ToTariffSet(_) => None,
        }
    }
}

/// An economy's membership of an agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    /// The member's index among the baseline's economies.
    pub economy: usize,
    /// The first year it is a member (entry into force for founders, else its accession).
    pub joins: i32,
    /// First year it is no longer a member.
    pub leaves: Option<i32>,
}

/// A schedule rule; `None` fields match anything. More specific rules win; among equally
/// specific rules the later one wins.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The importer's economy index (`None`: every member).
    pub importer: Option<usize>,
    /// The exporter's economy index (`None`: every member).
    pub exporter: Option<usize>,
    /// The sector's index (`None`: every sector).
    pub sector: Option<usize>,
    /// The schedule of the cells the rule matches.
    pub schedule: Schedule,
}

/// A product group inside a sector: a share of the importer's imports in the sector (from one
/// exporter or all members) with its own schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductGroup {
    /// The group's name (`rice`, or one the agreement defines).
    pub name: String,
    /// The importer's economy index.
    pub importer: usize,
    /// The exporter's economy index (`None`: every member).
    pub exporter: Option<usize>,
    /// The index of the sector the group is part of.
    pub sector: usize,
    /// Trade weight: the group's share of the sector's bilateral imports.
    pub weight: f64,
    /// The group's own base rate when it differs from the sector's.
    pub base_rate: Option<f64>,
    /// The group's schedule; the sector's rate is the trade-weighted average of the groups'
    /// and the rest's rates.
    pub schedule: Schedule,
}

/// The product groups of an agreement that apply to importer `n`'s imports from `i` in sector
/// `j`: groups for that exporter, and groups for all exporters unless a group of the same name
/// has a row of its own for `i` (a world group's exporter-specific weight replaces its
/// all-partners weight).
pub(crate) fn groups_for(
    groups: &[ProductGroup],
    n: usize,
    i: usize,
    j: usize,
) -> Vec<&ProductGroup> {
    rows_for(
        groups,
        |g| (g.importer, g.sector, g.exporter, g.name.as_str()),
        n,
        i,
        j,
    )
}

/// The rows of `rows` (product groups keyed `(importer, sector, exporter, name)`) that apply
/// to importer `n`'s imports from `i` in sector `j`: a row for exporter `i`, or an
/// all-partners row (`exporter = None`) unless a row of the same name exists for `i`. The rule
/// of [`groups_for`] (an agreement's groups) and of the world's `product_groups.csv`.
fn rows_for<'a, T>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> (usize, usize, Option<usize>, &'a str),
    n: usize,
    i: usize,
    j: usize,
) -> Vec<&'a T> {
    let in_cell = |r: &&'a T| {
        let (importer, sector, _, _) = key(r);
        importer == n && sector == j
    };
    rows.iter()
        .filter(in_cell)
        .filter(|r| match key(r).2 {
            Some(e) => e == i,
            None => !rows
                .iter()
                .filter(in_cell)
                .any(|h| key(h).3 == key(r).3 && key(h).2 == Some(i)),
        })
        .collect()
}

/// A non-tariff (depth) effect: `κ̂^{-θ} = exp(beta · phase(t))`, `phase` rising linearly to
/// one over `phase_in_years`, on the member pairs `pairs` selects.
#[derive(Debug, Clone, PartialEq)]
pub struct Depth {
    /// β_depth: the log change of a pair's trade once phased in (0.2 is +22%; |β| ≤ 5).
    pub beta: f64,
    /// Years until the full effect (at least 1).
    pub phase_in_years: u32,
    /// The member pairs the effect applies to.
    pub pairs: DepthPairs,
    /// `(offset, share of β)` steps before `phase_in_years` (ascending offsets); empty: the
    /// linear phase-in `(offset + 1)/phase_in_years`.
    pub profile: Vec<(u32, f64)>,
}

/// The member pairs a depth effect applies to.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DepthPairs {
    /// Pairs the agreement newly liberalises: a member pair gets the effect unless, before the
    /// agreement starts for the pair, it is already in another agreement at least as deep (one
    /// declaring a β at least as large, or one declaring no depth at all: its non-tariff effect,
    /// whatever it is, is in the data or in its own terms, and the estimated RTA effect is the
    /// effect of having an agreement, not of having two). A customs union's members keep their
    /// trade costs when the union signs an agreement with a third country.
    #[default]
    NewlyLiberalised,
    /// Every pair of members.
    AllMembers,
    /// Exactly these (exporter, importer) pairs, sorted (members only).
    Directed(Vec<(usize, usize)>),
}

impl Depth {
    /// "β 0.557 phased in over 12 years, on the pairs it newly liberalises" (codes from `b`).
    pub(crate) fn describe(&self, b: &Baseline) -> String {
        let pairs = match &self.pairs {
            DepthPairs::NewlyLiberalised => "on the pairs it newly liberalises".to_string(),
            DepthPairs::AllMembers => "on every member pair".to_string(),
            DepthPairs::Directed(v) => format!(
                "on {} directed pair(s): {}",
                v.len(),
                v.iter()
                    .map(|(x, m)| format!("{}→{}", b.economies[*x].code, b.economies[*m].code))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let shape = if self.profile.is_empty() {
            String::new()
        } else {
            format!(
                " (shares {})",
                self.profile
                    .iter()
                    .map(|(o, s)| format!("{s} from year {o}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "β {} phased in over {} years{shape}, {pairs}",
            self.beta, self.phase_in_years
        )
    }

    /// The effect `β·phase` at `offset` years after the pair's start: with a profile, the
    /// share of its latest step at or before `offset` (0 before the first, 1 from
    /// `phase_in_years`); otherwise linear.
    pub(crate) fn effect(&self, offset: i32) -> f64 {
        if self.profile.is_empty() || offset < 0 {
            return self.beta * linear_phase(offset, self.phase_in_years);
        }
        if offset >= self.phase_in_years as i32 {
            return self.beta;
        }
        let share = self
            .profile
            .iter()
            .filter(|(o, _)| *o as i32 <= offset)
            .map(|(_, s)| *s)
            .next_back()
            .unwrap_or(0.0);
        self.beta * share
    }
}

/// The largest depth effect |β| tradesim accepts. A depth effect multiplies members' trade (at
/// given prices) by `e^β`: the Advanced Guide's estimate of the average RTA effect is 0.557
/// (+75%); |β| = 5 is a factor of 148, beyond any estimate, and from about 709 `e^β` overflows.
pub(crate) const MAX_DEPTH_BETA: f64 = 5.0;

/// Why `beta` is not an acceptable depth effect, if it is not.
pub(crate) fn check_depth_beta(beta: f64) -> Result<(), String> {
    if beta.is_finite() && beta.abs() <= MAX_DEPTH_BETA {
        Ok(())
    } else if beta.is_finite() {
        Err(format!("depth β = {beta} would multiply members' trade by e^{beta} ({:.3e}); |β| must be at most {MAX_DEPTH_BETA}: β is a log change (0.2 = +22%), not a percent", beta.exp()))
    } else {
        Err(format!("depth β = {beta}; it must be a finite number with |β| ≤ {MAX_DEPTH_BETA} (a log change of members' trade: 0.2 = +22%)"))
    }
}

/// The phase-in of a depth effect set by a batch on an agreement that declares none: ten years,
/// as the Advanced Guide finds agreements' effects build over about ten years (MODEL.md §3).
pub(crate) const DEFAULT_DEPTH_PHASE_IN: u32 = 10;

/// A trade agreement, validated against a baseline (economies and sectors are indices).
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// The agreement's name (unique in a scenario).
    pub name: String,
    /// The first year the agreement applies.
    pub entry_into_force: i32,
    /// Its members with their joining and leaving years.
    pub members: Vec<Membership>,
    /// The default schedule of every importer, exporter and sector.
    pub schedule: Schedule,
    /// Schedules for some importers, exporters or sectors; the most specific one wins.
    pub rules: Vec<Rule>,
    /// Parts of sectors with their own schedules.
    pub groups: Vec<ProductGroup>,
    /// The non-tariff effect, if the agreement has one.
    pub depth: Option<Depth>,
    /// The phase-in, in years, of a depth the agreement is given later when it has none (a
    /// batch's drawn `Depth`, [`Agreement::set_depth_beta`]): set by a batch grid's `PhaseIn`;
    /// `None`: [`DEFAULT_DEPTH_PHASE_IN`].
    pub depth_phase_in: Option<u32>,
    /// Removed in the scenario (in the data, not in the counterfactual): ex-post analysis.
    pub removed: bool,
    /// For an agreement in force in the base year: hold its rates from this year on
    /// (`Some(base_year)`), or `None` to let its phase-out continue.
    pub frozen_from: Option<i32>,
    /// Investment provisions (for the FDI projection).
    pub investment: Provisions,
}

/// Where a pair stands in an agreement in a year.
fn linear_phase(offset: i32, years: u32) -> f64 {
    if offset < 0 {
        0.0
    } else {
        ((offset as f64 + 1.0) / years.max(1) as f64).min(1.0)
    }
}

impl Agreement {
    /// Set the depth effect's β, keeping its phase-in (or, without one, `depth_phase_in`, by
    /// default [`DEFAULT_DEPTH_PHASE_IN`]).
    pub(crate) fn set_depth_beta(&mut self, beta: f64) {
        match &mut self.depth {
            Some(d) => d.beta = beta,
            None => {
                self.depth = Some(Depth {
                    beta,
                    phase_in_years: self.depth_phase_in.unwrap_or(DEFAULT_DEPTH_PHASE_IN),
                    pairs: DepthPairs::default(),
                    profile: Vec::new(),
                })
            }
        }
    }

    /// Economy `e` (`code` in messages) joins in `year`: a new member acceding then, or a new
    /// year for a member acceding later (a scenario's `accessions` by agreement name, a batch
    /// grid's `Accession` axis). Refused, with why: a year before entry into force, a founding
    /// member, a year not before the member's withdrawal.
    pub(crate) fn accede(&mut self, e: usize, code: &str, year: i32) -> Result<(), String> {
        let name = &self.name;
        if year < self.entry_into_force {
            return Err(format!(
                "`{code}` accedes in {year}, before `{name}` enters into force in {}; an accession is at or after it",
                self.entry_into_force
            ));
        }
        match self.members.iter_mut().find(|m| m.economy == e) {
            Some(m) if m.joins <= self.entry_into_force => Err(format!(
                "`{code}` is a member of `{name}` from its entry into force in {}; leave it out (or, for another date, write the agreement anew with `{code}` among its accessions)",
                self.entry_into_force
            )),
            Some(Membership {
                leaves: Some(l), ..
            }) if year >= *l => Err(format!(
                "`{code}` withdraws from `{name}` in {l}, not after {year}; correct the year"
            )),
            Some(m) => {
                m.joins = year;
                Ok(())
            }
            None => {
                self.members.push(Membership {
                    economy: e,
                    joins: year,
                    leaves: None,
                });
                Ok(())
            }
        }
    }

    /// Economy `e` (`code` in messages) leaves in `year`, its first year out (a scenario's
    /// `withdrawals` by agreement name): refused, with why, for an economy that is not a
    /// member or a year not after it joins.
    pub(crate) fn withdraw(&mut self, e: usize, code: &str, year: i32) -> Result<(), String> {
        let name = &self.name;
        match self.members.iter_mut().find(|m| m.economy == e) {
            None => Err(format!(
                "`{code}` is not a member of `{name}`, so it cannot withdraw; correct the code"
            )),
            Some(m) if year <= m.joins => Err(format!(
                "`{code}` withdraws in {year}, not after it joins `{name}` in {}; the year is its first year out",
                m.joins
            )),
            Some(m) => {
                m.leaves = Some(year);
                Ok(())
            }
        }
    }

    /// The economies that are members in `year`.
    pub(crate) fn members_in(&self, year: i32) -> impl Iterator<Item = usize> + '_ {
        self.members
            .iter()
            .filter(move |m| self.member(m.economy, year).is_some())
            .map(|m| m.economy)
    }

    fn member(&self, economy: usize, year: i32) -> Option<&Membership> {
        self.members
            .iter()
            .find(|m| m.economy == economy && m.joins <= year && m.leaves.is_none_or(|l| year < l))
    }

    /// The pair's start year if both `n` and `i` are members in `year`.
    pub(crate) fn pair_start(&self, n: usize, i: usize, year: i32) -> Option<i32> {
        let a = self.member(n, year)?;
        let b = self.member(i, year)?;
        Some(self.entry_into_force.max(a.joins).max(b.joins))
    }

    /// The schedule for a cell outside any product group.
    pub(crate) fn schedule_for(&self, n: usize, i: usize, j: usize) -> &Schedule {
        let mut best: Option<(usize, &Rule)> = None;
        for r in &self.rules {
            let matches = r.importer.is_none_or(|x| x == n)
                && r.exporter.is_none_or(|x| x == i)
                && r.sector.is_none_or(|x| x == j);
            if !matches {
                continue;
            }
            let spec = r.importer.is_some() as usize
                + r.exporter.is_some() as usize
                + r.sector.is_some() as usize;
            if best.is_none_or(|(s, _)| spec >= s) {
                best = Some((spec, r));
            }
        }
        best.map_or(&self.schedule, |(_, r)| &r.schedule)
    }

    /// The year at which the agreement's schedule is evaluated, for calendar year `year`, for
    /// a pair that started in `start` ([`Agreement::pair_start`]). An agreement held at its
    /// base-year rates (`frozen_from`) holds the pairs of the data, those that started by
    /// then; a pair that starts later (a member acceding after the base year) is not in the
    /// data, and its schedule runs from its start as a new agreement's does.
    pub(crate) fn schedule_year(&self, year: i32, start: i32) -> i32 {
        match self.frozen_from {
            Some(f) if start <= f => year.min(f),
            _ => year,
        }
    }

    /// How the agreement's depth effect covers its member pairs in `year` (`None` without a
    /// depth), among the agreements `others` of the same world: the ordered member pairs in
    /// force, how many the effect applies to ([`Agreement::depth_applies`]), and the
    /// agreements that keep it from the rest (earlier and at least as deep, for
    /// [`DepthPairs::NewlyLiberalised`]).
    pub(crate) fn depth_coverage(&self, year: i32, others: &[&Agreement]) -> Option<DepthCoverage> {
        let d = self.depth.as_ref()?;
        let mut cov = DepthCoverage::default();
        let members: Vec<usize> = self.members_in(year).collect();
        for &n in &members {
            for &i in members.iter().filter(|&&i| i != n) {
                let Some(start) = self.pair_start(n, i, year).filter(|&s| s <= year) else {
                    continue;
                };
                cov.pairs += 1;
                if self.depth_applies(d, n, i, year, start, others) {
                    cov.applies += 1;
                } else if d.pairs == DepthPairs::NewlyLiberalised {
                    for b in others {
                        if self.keeps_depth_out(b, d, n, i, year, start)
                            && !cov.blocked_by.contains(&b.name)
                        {
                            cov.blocked_by.push(b.name.clone());
                        }
                    }
                }
            }
        }
        Some(cov)
    }

    /// Whether the agreement's depth effect applies to imports of `n` from `i` in `year`, given
    /// the pair's start `start` and the other agreements `others` of the same world (the
    /// agreement itself among them is skipped by identity).
    fn depth_applies(
        &self,
        d: &Depth,
        n: usize,
        i: usize,
        year: i32,
        start: i32,
        others: &[&Agreement],
    ) -> bool {
        match &d.pairs {
            DepthPairs::AllMembers => true,
            DepthPairs::Directed(pairs) => pairs.binary_search(&(i, n)).is_ok(),
            DepthPairs::NewlyLiberalised => !others
                .iter()
                .any(|b| self.keeps_depth_out(b, d, n, i, year, start)),
        }
    }

    /// Whether agreement `b` keeps this agreement's depth `d` from the pair of `n` importing
    /// from `i` (which starts in `start`) under [`DepthPairs::NewlyLiberalised`]: `b` is another
    /// agreement, the pair is in it from before `start`, and it is at least as deep (a β at least
    /// `d`'s, or no declared depth).
    fn keeps_depth_out(
        &self,
        b: &Agreement,
        d: &Depth,
        n: usize,
        i: usize,
        year: i32,
        start: i32,
    ) -> bool {
        !std::ptr::eq(b, self)
            && b.pair_start(n, i, year).is_some_and(|sb| sb < start)
            && b.depth.as_ref().is_none_or(|bd| bd.beta >= d.beta)
    }
}

/// How a depth effect covers its agreement's member pairs in a year
/// ([`Agreement::depth_coverage`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DepthCoverage {
    /// Ordered pairs of members for which the agreement is in force.
    pub pairs: usize,
    /// Those the depth effect applies to.
    pub applies: usize,
    /// The agreements that keep it from the others, in the world's order.
    pub blocked_by: Vec<String>,
}

/// A tariff-rate quota cell found while resolving a year: the cell's rate is
/// `fixed_part + weight · r` with `r` between the in- and out-of-quota rates. Both rates are
/// already capped (see [`resolve_year`]), so no regime takes the cell above the rate it would
/// have without the quota.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaCell {
    /// The agreement that opens the quota.
    pub agreement: String,
    /// The product group the quota is for.
    pub group: String,
    /// The sector's index.
    pub sector: usize,
    /// The importer's economy index.
    pub importer: usize,
    /// The exporter's economy index.
    pub exporter: usize,
    /// The group's share of the cell's bilateral imports.
    pub weight: f64,
    /// The weighted rate of the rest of the cell (the parts outside the quota's group).
    pub fixed_part: f64,
    /// The quota: the group's imports in base-year money at base-year prices.
    pub quota: f64,
    /// The ad-valorem rate inside the quota (capped).
    pub in_quota_rate: f64,
    /// The ad-valorem rate above the quota (capped).
    pub out_of_quota_rate: f64,
}

/// The policy of one year: applied tariffs, non-tariff cost factors, quotas.
#[derive(Debug, Clone)]
pub struct YearPolicy {
    /// The calendar year.
    pub year: i32,
    /// The applied ad-valorem tariffs `τ'_ni^j(t)` by sector, importer n and exporter i.
    pub tariffs: Cube,
    /// `Σ` depth effect `D_ni(t)` (log trade-cost shifter times −θ), per importer × exporter.
    pub depth: Vec<f64>,
    /// The tariff-rate quota cells whose regime the equilibrium decides.
    pub quotas: Vec<QuotaCell>,
}

/// One part of a cell for the lowest-rate rule: a named product group (of the world, or one an
/// agreement defines itself) or the rest of the cell, with its share of the cell's imports and
/// its base-year rate. The parts' weighted base rates sum to the cell's data rate.
#[derive(Debug, Clone, PartialEq)]
struct Part<'a> {
    /// `None`: the rest of the cell outside every named group.
    name: Option<&'a str>,
    weight: f64,
    base: f64,
}

/// The parts of importer `n`'s imports from `i` in sector `j` (data rate `base`): the world's
/// named groups for the pair, then the groups the covering agreements define that the world
/// lacks (`named`: each covering agreement's [`groups_for`] the cell), then the rest, whose base rate makes the weighted sum equal `base`
/// (`τ = Σ_g w_g τ_g + (1 − Σ_g w_g) τ_rest`, MODEL.md §3). A cell without named groups
/// anywhere is one part.
fn cell_parts<'a>(
    b: &'a Baseline,
    named: &[Vec<&'a ProductGroup>],
    (j, n, i): (usize, usize, usize),
    base: f64,
) -> Vec<Part<'a>> {
    let mut parts: Vec<Part<'a>> = Vec::new();
    let world = rows_for(
        &b.product_groups,
        |g| (g.importer, g.sector, g.exporter, g.group.as_str()),
        n,
        i,
        j,
    );
    for g in world {
        if !parts.iter().any(|p| p.name == Some(g.group.as_str())) {
            // An agreement that gives the group its own weight or base rate overrides the
            // world's (the first covering agreement that names it).
            let given = named.iter().flatten().find(|h| h.name == g.group);
            parts.push(Part {
                name: Some(&g.group),
                weight: given.map_or(g.weight, |h| h.weight),
                base: given.and_then(|h| h.base_rate).unwrap_or(g.base_rate),
            });
        }
    }
    for g in named.iter().flatten() {
        if !parts.iter().any(|p| p.name == Some(g.name.as_str())) {
            parts.push(Part {
                name: Some(&g.name),
                weight: g.weight,
                base: g.base_rate.unwrap_or(base),
            });
        }
    }
    let w: f64 = parts.iter().map(|p| p.weight).sum();
    if w >= 1.0 {
        // Groups of several agreements that together exceed the cell (each agreement's own are
        // checked at load): shrink them to leave no rest.
        for p in &mut parts {
            p.weight /= w;
        }
        return parts;
    }
    let named: f64 = parts.iter().map(|p| p.weight * p.base).sum();
    parts.push(Part {
        name: None,
        weight: 1.0 - w,
        base: ((base - named) / (1.0 - w)).max(0.0),
    });
    parts
}

/// One agreement's rate for one part of a cell: the rate it applies (a quota at its in-quota
/// rate), the highest rate it can come to (a quota at its out-of-quota rate), and the quota's
/// `(quota, in, out)`, if any; every rate at most the part's base.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PartRate {
    rate: f64,
    worst: f64,
    quota: Option<(f64, f64, f64)>,
}

/// The rate of agreement `ag` on `part` of the cell (`j`, `n`, `i`), `offset` years after the
/// pair's start (schedule year `sy`); `groups` are the agreement's groups for the cell
/// ([`groups_for`]). A group the agreement names takes its own schedule; any
/// other part takes the agreement's schedule for the cell (a sector schedule cuts the named
/// groups too unless the agreement schedules them by name), applied to the part's own base.
/// A tariff-rate quota on the cell's schedule is a quota on the whole cell when the cell is
/// one part; where the cell holds named groups it is a quota on the rest, and the groups the
/// agreement does not name keep their base rates.
///
/// The rule that keeps every applied rate at or below the data rate: a schedule moves a rate
/// from its base and never above it (an out-of-quota rate above the part's base is not
/// charged: the base is).
fn part_rate(
    b: &Baseline,
    (ag, offset, sy): (&Agreement, i32, i32),
    groups: &[&ProductGroup],
    (j, n, i): (usize, usize, usize),
    part: &Part,
    single: bool,
) -> PartRate {
    let named = part
        .name
        .and_then(|name| groups.iter().find(|g| g.name == name));
    let schedule = named.map_or_else(|| ag.schedule_for(n, i, j), |g| &g.schedule);
    if let Schedule::TariffRateQuota {
        quota,
        in_quota_rate,
        out_of_quota_rate,
    } = schedule
    {
        if named.is_some() || single || part.name.is_none() {
            let (inr, outr) = (
                in_quota_rate.min(part.base),
                out_of_quota_rate.min(part.base),
            );
            return PartRate {
                rate: inr,
                worst: outr,
                quota: Some((*quota, inr, outr)),
            };
        }
        return PartRate {
            rate: part.base,
            worst: part.base,
            quota: None,
        };
    }
    let set_rate = match schedule {
        Schedule::ToTariffSet(name) => b.tariff_sets.get(name).map(|c| c.get(j, n, i)),
        _ => None,
    };
    let r = schedule
        .rate(part.base, offset, sy, set_rate)
        .min(part.base);
    PartRate {
        rate: r,
        worst: r,
        quota: None,
    }
}

/// A part's quota where it is the lowest rate: (index of its agreement among those covering
/// the pair, quota, in-quota rate, capped out-of-quota rate).
type ChosenQuota = (usize, f64, f64, f64);

/// The applied rate of one cell under the agreements that cover the pair this year, and the
/// tariff-rate quota the equilibrium solves for it, if any.
///
/// The lowest-rate rule, part by part (an importer's goods claim whichever preference is
/// lowest, line by line): each part takes the lowest of its base and every covering
/// agreement's rate; the cell's rate is the parts' weighted sum. Where the lowest is a quota's
/// in-quota rate, the quota's out-of-quota rate is capped at the lowest rate the part is sure
/// of without it (its base, and every other agreement's rate on the part, their quotas counted
/// at their out-of-quota rates), so no regime takes the part above what it would pay without
/// the quota. The first part whose lowest rate is a quota is solved in the equilibrium; quotas
/// on further parts of the same cell are held at their in-quota rates.
fn resolve_cell(
    b: &Baseline,
    covering: &[(&Agreement, i32, i32)],
    cell: (usize, usize, usize),
) -> (f64, Option<QuotaCell>) {
    let (j, n, i) = cell;
    let base = b.tariffs.get(j, n, i);
    // Each covering agreement's groups for this cell, found once.
    let named: Vec<Vec<&ProductGroup>> = covering
        .iter()
        .map(|c| groups_for(&c.0.groups, n, i, j))
        .collect();
    let parts = cell_parts(b, &named, cell, base);
    let single = parts.len() == 1;
    // Per part: the lowest rate, its agreement's quota, and the cap from everything else.
    let mut chosen: Vec<(f64, Option<ChosenQuota>)> = Vec::with_capacity(parts.len());
    for part in &parts {
        let rates: Vec<PartRate> = covering
            .iter()
            .zip(&named)
            .map(|(&cover, groups)| part_rate(b, cover, groups, cell, part, single))
            .collect();
        let best = rates
            .iter()
            .enumerate()
            .filter(|(_, r)| r.rate < part.base)
            .min_by(|x, y| x.1.rate.total_cmp(&y.1.rate))
            .map(|(k, _)| k);
        match best {
            None => chosen.push((part.base, None)),
            Some(k) => {
                let r = rates[k];
                let quota = r.quota.map(|(q, inr, outr)| {
                    let cap = rates
                        .iter()
                        .enumerate()
                        .filter(|&(m, _)| m != k)
                        .map(|(_, o)| o.worst)
                        .fold(part.base, f64::min);
                    (k, q, inr, outr.min(cap).max(inr))
                });
                chosen.push((r.rate, quota));
            }
        }
    }
    if chosen.iter().zip(&parts).all(|(c, p)| c.0 == p.base) {
        return (base, None);
    }
    let rate = parts
        .iter()
        .zip(&chosen)
        .map(|(p, c)| p.weight * c.0)
        .sum::<f64>()
        .min(base);
    // The cell is capped at its data rate as a whole too: groups given base rates above the
    // cell's weigh more than it (the rest's base is then zero), so a quota whose in-quota rate
    // already reaches the cap is not a quota on this cell.
    let quota = chosen.iter().position(|c| c.1.is_some()).and_then(|q| {
        let (k, quota, inr, outr) = chosen[q].1.unwrap_or_default();
        let weight = parts[q].weight;
        let fixed_part: f64 = parts
            .iter()
            .zip(&chosen)
            .enumerate()
            .filter(|&(m, _)| m != q)
            .map(|(_, (p, c))| p.weight * c.0)
            .sum();
        let top = (base - fixed_part) / weight;
        if inr >= top {
            return None;
        }
        let outr = outr.min(top).max(inr);
        Some(QuotaCell {
            agreement: covering[k].0.name.clone(),
            group: parts[q].name.unwrap_or("").to_string(),
            sector: j,
            importer: n,
            exporter: i,
            weight,
            fixed_part,
            quota,
            in_quota_rate: inr,
            out_of_quota_rate: outr,
        })
    });
    (rate, quota)
}

/// Resolve the applied tariffs of `year` under `agreements`; `counterfactual = false` resolves
/// the world of the data (removed agreements included), `true` the scenario's world.
///
/// The applied rate of a cell is the lowest of the data rate and every agreement's rate, part
/// by part (`resolve_cell`); a tariff-rate quota's regime is found later, inside the
/// equilibrium, with its out-of-quota rate already capped there.
pub fn resolve_year(
    b: &Baseline,
    agreements: &[Agreement],
    year: i32,
    counterfactual: bool,
) -> YearPolicy {
    let (nn, jj) = (b.n_economies(), b.n_sectors());
    let mut tariffs = b.tariffs.clone();
    let mut depth = vec![0.0f64; nn * nn];
    let mut quotas: Vec<QuotaCell> = Vec::new();
    let world: Vec<&Agreement> = agreements
        .iter()
        .filter(|a| !(counterfactual && a.removed))
        .collect();
    let mut covering: Vec<(&Agreement, i32, i32)> = Vec::new();
    for n in 0..nn {
        for i in 0..nn {
            if i == n {
                continue;
            }
            covering.clear();
            for &ag in &world {
                let Some(start) = ag.pair_start(n, i, year) else {
                    continue;
                };
                if start > year {
                    continue;
                }
                let sy = ag.schedule_year(year, start);
                let offset = sy - start;
                if let Some(d) = &ag.depth {
                    if ag.depth_applies(d, n, i, year, start, &world) {
                        let v = d.effect(offset);
                        if v.abs() > depth[n * nn + i].abs() {
                            depth[n * nn + i] = v;
                        }
                    }
                }
                covering.push((ag, offset, sy));
            }
            if covering.is_empty() {
                continue;
            }
            for j in 0..jj {
                if !b.sectors[j].traded {
                    continue;
                }
                let (rate, quota) = resolve_cell(b, &covering, (j, n, i));
                tariffs.set(j, n, i, rate);
                quotas.extend(quota);
            }
        }
    }
    YearPolicy {
        year,
        tariffs,
        depth,
        quotas,
    }
}

/// Non-tariff cost factors `d̂_ni^j` of a counterfactual year against the data year:
/// `d̂^{-θ^j} = exp(D_ni(t) − D_ni(base))`, on international cells of traded sectors.
pub fn cost_factors(
    b: &Baseline,
    theta: &[f64],
    base: &YearPolicy,
    year: &YearPolicy,
) -> Option<Cube> {
    let (nn, jj) = (b.n_economies(), b.n_sectors());
    if base.depth.iter().zip(&year.depth).all(|(a, c)| a == c) {
        return None;
    }
    let mut cube = Cube::zeros(jj, nn);
    cube.data.iter_mut().for_each(|v| *v = 1.0);
    for j in 0..jj {
        if !b.sectors[j].traded {
            continue;
        }
        for n in 0..nn {
            for i in 0..nn {
                let d = year.depth[n * nn + i] - base.depth[n * nn + i];
                if i != n && d != 0.0 {
                    cube.set(j, n, i, (-d / theta[j]).exp());
                }
            }
        }
    }
    Some(cube)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_in_stretches_or_compresses_a_schedule_to_its_length() {
        let lin = Schedule::Linear { years: 4, to: 0.2 };
        assert_eq!(
            lin.with_phase_in(10),
            Some(Schedule::Linear { years: 10, to: 0.2 })
        );
        // Entry to the 16th year (offset 15), compressed to 8 years: the last step in year 8.
        let staged = Schedule::Staged(vec![(0, 0.25), (3, 0.2), (6, 0.15), (9, 0.1), (15, 0.0)]);
        let Some(Schedule::Staged(s8)) = staged.with_phase_in(8) else {
            panic!("a staged schedule has a length")
        };
        assert_eq!(s8, vec![(0, 0.25), (1, 0.2), (3, 0.15), (4, 0.1), (7, 0.0)]);
        // Its own length gives it back; stretched, the steps move apart.
        assert_eq!(staged.with_phase_in(16), Some(staged.clone()));
        let Some(Schedule::Staged(s31)) = staged.with_phase_in(31) else {
            panic!()
        };
        assert_eq!(
            s31,
            vec![(0, 0.25), (6, 0.2), (12, 0.15), (18, 0.1), (30, 0.0)]
        );
        // Compressed to one year, every step lands at entry and the deepest stays.
        assert_eq!(
            staged.with_phase_in(1),
            Some(Schedule::Staged(vec![(0, 0.0)]))
        );
        for y in 1..40 {
            let Some(s) = staged.with_phase_in(y) else {
                panic!()
            };
            // At the final rate in year `y` (offset `y − 1`), above it the year before.
            assert_eq!(s.rate(0.1, y as i32 - 1, 0, None), 0.0, "{y}");
            if y > 1 {
                assert!(s.rate(0.1, y as i32 - 2, 0, None) > 0.0, "{y}");
            }
        }
        // Written out of order, the steps are the same schedule.
        let shuffled = Schedule::Staged(vec![(15, 0.0), (0, 0.25), (9, 0.1), (3, 0.2), (6, 0.15)]);
        assert_eq!(shuffled.with_phase_in(8), staged.with_phase_in(8));
        for none in [
            Schedule::Immediate,
            Schedule::Excluded,
            Schedule::Staged(vec![(0, 0.5)]),
            Schedule::Path(vec![(2019, 0.05), (2022, 0.0)]),
            Schedule::ToTariffSet("x".into()),
        ] {
            assert_eq!(none.with_phase_in(5), None, "{none:?}");
        }
    }

    #[test]
    fn schedule_kinds() {
        assert_eq!(Schedule::Immediate.rate(0.1, 0, 2020, None), 0.0);
        assert_eq!(Schedule::Immediate.rate(0.1, -1, 2020, None), 0.1);
        let lin = Schedule::Linear { years: 4, to: 0.0 };
        let r: Vec<f64> = (0..6).map(|k| lin.rate(0.08, k, 2020 + k, None)).collect();
        assert!(
            (r[0] - 0.06).abs() < 1e-15
                && (r[1] - 0.04).abs() < 1e-15
                && (r[2] - 0.02).abs() < 1e-15
        );
        assert_eq!(r[3], 0.0);
        assert_eq!(r[5], 0.0);
        let half = Schedule::Linear { years: 2, to: 0.5 };
        assert!((half.rate(0.1, 0, 0, None) - 0.075).abs() < 1e-15);
        assert!((half.rate(0.1, 5, 0, None) - 0.05).abs() < 1e-15);
        let staged = Schedule::Staged(vec![(0, 0.8), (3, 0.5), (5, 0.0)]);
        assert!((staged.rate(0.1, 2, 0, None) - 0.08).abs() < 1e-15);
        assert!((staged.rate(0.1, 4, 0, None) - 0.05).abs() < 1e-15);
        assert_eq!(staged.rate(0.1, 9, 0, None), 0.0);
        assert_eq!(Schedule::Excluded.rate(0.1, 9, 0, None), 0.1);
        let path = Schedule::Path(vec![(2019, 0.05), (2022, 0.02)]);
        assert_eq!(path.rate(0.1, 0, 2018, None), 0.1);
        assert_eq!(path.rate(0.1, 0, 2020, None), 0.05);
        assert_eq!(path.rate(0.1, 0, 2030, None), 0.02);
        let trq = Schedule::TariffRateQuota {
            quota: 1.0,
            in_quota_rate: 0.02,
            out_of_quota_rate: 0.3,
        };
        assert_eq!(trq.rate(0.1, 0, 0, None), 0.02);
        assert_eq!(
            Schedule::ToTariffSet("x".into()).rate(0.1, 0, 0, Some(0.01)),
            0.01
        );
    }
}

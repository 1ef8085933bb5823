//! Rendering only: the terminal text of a run (`summary`), of `check` (`policy_summary`)
//! and of a batch (`comparison_table`), and the self-contained HTML report (`html`, with
//! its hand-written SVG charts in [`svg`]). Everything here reads the tables of
//! [`crate::output`] (in memory or from a directory); nothing here solves or writes tables.
//!
//! Invariant: `report` imports neither `simulate` nor rayon.

pub(crate) mod html;
pub(crate) mod read;
pub mod svg;

use crate::data::Baseline;
use crate::output::{meta, pct, summary::SummaryRow, Tables, STAGE_BASELINE, STAGE_YEAR};
use std::collections::BTreeMap;

/// A short text summary of a run's tables: the solves, the largest real-income changes in the
/// last year solved (percent against `compared_with`, in words), and the members' trade with
/// each other.
pub(crate) fn summary(
    b: &Baseline,
    t: &Tables,
    compared_with: &str,
    members: &[usize],
    top: usize,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let years: Vec<&crate::output::SolverRow> =
        t.solver.iter().filter(|r| r.stage == STAGE_YEAR).collect();
    let (Some(first), Some(last)) = (years.first(), years.last()) else {
        return "no years solved\n".into();
    };
    let scenario = &first.scenario;
    let last_year = last.year;
    let _ = writeln!(
        s,
        "scenario {}: {} year(s) solved, {}–{}",
        scenario,
        years.len(),
        first.year,
        last_year
    );
    let (base_iterations, base_residual) = t
        .solver
        .iter()
        .find(|r| r.stage == STAGE_BASELINE)
        .map_or((0, 0.0), |r| (r.iterations, r.residual));
    let _ = writeln!(
        s,
        "baseline solve: {} iterations, residual {:.1e}; year solves: {}–{} iterations, max residual {:.1e}",
        base_iterations,
        base_residual,
        years.iter().map(|y| y.iterations).min().unwrap_or(0),
        years.iter().map(|y| y.iterations).max().unwrap_or(0),
        years.iter().map(|y| y.residual).fold(0.0, f64::max)
    );
    // The last year's rows, in baseline order.
    let rows: Vec<&crate::output::EconomyRow> =
        t.economies.iter().filter(|r| r.year == last_year).collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&x, &y| {
        rows[y]
            .real_income_pct
            .abs()
            .total_cmp(&rows[x].real_income_pct.abs())
    });
    let _ = writeln!(
        s,
        "\nlargest changes in {} (percent against {}):",
        last_year, compared_with
    );
    let _ = writeln!(
        s,
        "  {:<8} {:>12} {:>12} {:>12} {:>12}",
        "economy", "real income", "welfare", "real wage", "exports"
    );
    for &n in order.iter().take(top) {
        let r = rows[n];
        let _ = writeln!(
            s,
            "  {:<8} {:>12.3} {:>12.3} {:>12.3} {:>12.3}",
            r.economy,
            r.real_income_pct,
            r.welfare_pct,
            r.real_wage_pct,
            pct(r.exports, r.exports_base)
        );
    }
    if members.len() >= 2 {
        let codes: Vec<&str> = members
            .iter()
            .map(|&n| b.economies[n].code.as_str())
            .collect();
        // Sectors, importers, exporters in the order the bilateral table holds them.
        let (mut m0, mut m1) = (0.0, 0.0);
        for r in t.bilateral.rows().filter(|r| r.year == last_year) {
            if r.exporter != r.importer
                && codes.contains(&r.exporter)
                && codes.contains(&r.importer)
            {
                m0 += r.value_base;
                m1 += r.value;
            }
        }
        let _ = writeln!(
            s,
            "\ntrade among the {} members in {}: {:.4e} → {:.4e} ({:+.2}%)",
            members.len(),
            last_year,
            m0,
            m1,
            pct(m1, m0)
        );
    }
    s
}

/// The resolved tariff paths of a scenario, for `tradesim check`: each agreement with its
/// members and status, then for every year the trade-weighted average applied tariff on
/// imports among the members of each agreement (weights: base-year flows), by sector.
/// Without `all`, only the scenario's own agreements (defined in its file or in a parent that
/// is not a base-year data file, or removed or continued by it: `Scenario::agreement_origins`);
/// a line counts the others.
pub(crate) fn policy_summary(s: &crate::scenario::Scenario, all: bool) -> String {
    use std::fmt::Write;
    let b = &s.baseline;
    let (base, years) = crate::scenario::resolve_paths(s);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} ({}): baseline {}, {} economies × {} sectors, base year {}",
        s.name,
        s.path.display(),
        b.name,
        b.n_economies(),
        b.n_sectors(),
        s.base_year
    );
    let _ = writeln!(out, "world: {}", b.describe());
    let _ = writeln!(out, "years: {}", crate::scenario::compact_years(&s.years));
    let _ = writeln!(
        out,
        "compared with: {}",
        s.compared_with.describe(s.base_year)
    );
    // The scenario's own agreements, and every agreement its outcomes measure (e.g. CPTPP in
    // a file that compares the reference path with and without it).
    // Against a reference path, an agreement the outcomes do not measure is the same in both
    // (the reference is this scenario without the measured ones), wherever it is defined.
    let against_reference = s.compared_with.reference().is_some();
    let shown = |k: usize| {
        all || s.measured(&s.agreements[k])
            || (!against_reference && s.agreement_origins.get(k).is_none_or(|o| o.own))
    };
    let hidden: Vec<usize> = (0..s.agreements.len()).filter(|&k| !shown(k)).collect();
    if !hidden.is_empty() {
        // The terminal summary is golden output that the CLI prints to its user, so it names
        // the flag (`--all`) that shows the hidden agreements, not the `all` argument.
        let _ = writeln!(
            out,
            "{} agreement(s) from {} are not shown: the same in this scenario as in what it is compared with (the base-year data of {}, or the reference path); --all shows them",
            hidden.len(),
            hidden
                .iter()
                .filter_map(|&k| s.agreement_origins.get(k))
                .map(|o| o.file.display().to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", "),
            s.base_year
        );
    }
    // The agreements a depth's coverage is judged among (those not removed).
    let world: Vec<&crate::policy::Agreement> =
        s.agreements.iter().filter(|x| !x.removed).collect();
    for (k, a) in s.agreements.iter().enumerate() {
        if !shown(k) {
            continue;
        }
        let status = meta::status(a, s);
        let members: Vec<String> = a
            .members
            .iter()
            .map(|m| {
                let mut t = b.economies[m.economy].code.clone();
                if m.joins > a.entry_into_force {
                    t += &format!(" (joins {})", m.joins);
                }
                if let Some(l) = m.leaves {
                    t += &format!(" (leaves {l})");
                }
                t
            })
            .collect();
        let _ = writeln!(
            out,
            "\nagreement {}: entry into force {}, {status}\n  members: {}",
            a.name,
            a.entry_into_force,
            members.join(", ")
        );
        let traded: Vec<usize> = (0..b.n_sectors())
            .filter(|&j| b.sectors[j].traded)
            .collect();
        let _ = write!(
            out,
            "  average applied tariff among members, %:\n  {:>6}",
            "year"
        );
        for &j in &traded {
            let _ = write!(out, " {:>10}", b.sectors[j].code);
        }
        let _ = writeln!(out);
        let idx: Vec<usize> = a.members.iter().map(|m| m.economy).collect();
        let avg = |tau: &crate::data::Cube, j: usize| meta::member_average(b, &idx, tau, &[j]);
        let mut rows: Vec<(String, &crate::data::Cube)> =
            vec![(format!("{}*", s.base_year), &base.tariffs)];
        rows.extend(years.iter().map(|p| (p.year.to_string(), &p.tariffs)));
        for (label, tau) in rows {
            let _ = write!(out, "  {label:>6}");
            for &j in &traded {
                let _ = write!(out, " {:>10.3}", avg(tau, j));
            }
            let _ = writeln!(out);
        }
        if !a.groups.is_empty() {
            let _ = writeln!(
                out,
                "  product groups: {}",
                a.groups
                    .iter()
                    .map(|g| format!(
                        "{} ({} {}{}, weight {})",
                        g.name,
                        b.economies[g.importer].code,
                        b.sectors[g.sector].code,
                        g.exporter
                            .map(|e| format!(" from {}", b.economies[e].code))
                            .unwrap_or_default(),
                        g.weight
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        if let Some(d) = &a.depth {
            let _ = write!(out, "  depth: {}", d.describe(b));
            // Which member pairs get it in the last year shown, and what keeps it from others.
            let cov = years
                .last()
                .and_then(|p| a.depth_coverage(p.year, &world).map(|c| (p.year, c)));
            if let Some((year, c)) = cov.filter(|(_, c)| c.pairs > 0) {
                let _ = write!(
                    out,
                    "; in {year}, {} of its {} member pairs",
                    c.applies, c.pairs
                );
                if !c.blocked_by.is_empty() {
                    let _ = write!(
                        out,
                        " (the others already in an agreement at least as deep: {})",
                        c.blocked_by.join(", ")
                    );
                }
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out, "\n* the base year, with the agreements in the data");
    out.push_str(&world_groups_summary(s));
    out
}

/// The baseline's named product groups (`product_groups.csv`) of the economies in the
/// scenario's agreements: name, sector, weight (all partners, then exporter-specific rows),
/// base rate, and the agreements of the scenario that schedule the group.
pub(crate) fn world_groups_summary(s: &crate::scenario::Scenario) -> String {
    use std::fmt::Write;
    let b = &s.baseline;
    let mut importers: Vec<usize> = s
        .agreements
        .iter()
        .flat_map(|a| a.members.iter().map(|m| m.economy))
        .filter(|&n| !b.product_group_names(n).is_empty())
        .collect();
    importers.sort_unstable();
    importers.dedup();
    if importers.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nnamed product groups of the baseline (product_groups.csv) for the economies of these agreements:\n",
    );
    let _ = writeln!(
        out,
        "  {:<8} {:<12} {:<6} {:>9} {:>10}  exporter-specific weights; scheduled by",
        "importer", "group", "sector", "weight", "base rate"
    );
    for n in importers {
        for name in b.product_group_names(n) {
            let rows: Vec<&crate::data::BaselineProductGroup> =
                b.product_group_rows(n, name).collect();
            let all = rows.iter().find(|r| r.exporter.is_none());
            let specific: Vec<String> = rows
                .iter()
                .filter_map(|r| {
                    r.exporter.map(|e| {
                        format!(
                            "{} {:.4} at {:.1}%",
                            b.economies[e].code,
                            r.weight,
                            100.0 * r.base_rate
                        )
                    })
                })
                .collect();
            let by: Vec<&str> = s
                .agreements
                .iter()
                .filter(|a| a.groups.iter().any(|g| g.importer == n && g.name == name))
                .map(|a| a.name.as_str())
                .collect();
            let _ = writeln!(
                out,
                "  {:<8} {:<12} {:<6} {:>9} {:>10}  {}; {}",
                b.economies[n].code,
                name,
                b.sectors[rows[0].sector].code,
                all.map_or("-".to_string(), |r| format!("{:.4}", r.weight)),
                all.map_or("-".to_string(), |r| format!("{:.1}%", 100.0 * r.base_rate)),
                if specific.is_empty() {
                    "none".to_string()
                } else {
                    specific.join(", ")
                },
                if by.is_empty() {
                    "not scheduled (the sector's schedule applies)".to_string()
                } else {
                    format!("scheduled by {}", by.join(", "))
                }
            );
        }
    }
    out
}

/// A note under a batch's comparison table when its options are measured against different
/// comparisons (`compared_with`: the base year, or reference paths without different
/// agreements): each option's percent changes are its effect against its own comparison, which
/// the ranking alone does not say. `options` are (name, [`crate::scenario::ComparedWith`]'s
/// description); empty when they all agree.
pub(crate) fn comparisons_note(options: &[(String, String)]) -> String {
    let first = match options.first() {
        Some((_, c)) => c,
        None => return String::new(),
    };
    if options.iter().all(|(_, c)| c == first) {
        return String::new();
    }
    let mut s = String::from(
        "\nthe options are measured against different comparisons, each its own (`compared_with`); a rank compares their effects, not their outcomes:\n",
    );
    for (name, c) in options {
        s.push_str(&format!("  {name}: against {c}\n"));
    }
    s
}

/// The comparison table for the batch's focus economies: options ranked by mean real income,
/// with the 5th–95th percentile band, at one stated year: the last year every option solves.
/// When the options share no year, each is ranked at its own last year, labelled. Options
/// solved beyond the ranking year, and options with no summary rows (every draw failed), are
/// named below the table.
pub(crate) fn comparison_table(
    summary: &[SummaryRow],
    scenarios: &[String],
    focus: &[String],
) -> String {
    use std::collections::BTreeSet;
    use std::fmt::Write;
    let mut s = String::new();
    let measure = "real_income_pct";
    let mut years: BTreeMap<&str, BTreeSet<i32>> = BTreeMap::new();
    for r in summary.iter().filter(|r| r.measure == measure) {
        years.entry(r.scenario.as_str()).or_default().insert(r.year);
    }
    if years.is_empty() {
        return s;
    }
    let common: Option<i32> = years
        .values()
        .cloned()
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .and_then(|c| c.last().copied());
    let rank_year = |scenario: &str| -> Option<i32> {
        common.or_else(|| years.get(scenario).and_then(|y| y.last().copied()))
    };
    let focus: Vec<String> = if focus.is_empty() {
        let mut f: Vec<String> = summary.iter().map(|r| r.economy.clone()).collect();
        f.dedup();
        f.truncate(5);
        f
    } else {
        focus.to_vec()
    };
    match common {
        Some(y) => {
            let _ = writeln!(s, "options ranked by real income in {y}, the last year every option solves (percent; mean [5th, 95th percentile] over draws):");
        }
        None => {
            let _ = writeln!(s, "options ranked by real income, each in its own last year (the options share no year; percent; mean [5th, 95th percentile] over draws):");
        }
    }
    for e in &focus {
        let mut rows: Vec<&SummaryRow> = summary
            .iter()
            .filter(|r| {
                &r.economy == e && r.measure == measure && Some(r.year) == rank_year(&r.scenario)
            })
            .collect();
        rows.sort_by(|a, b| b.mean.total_cmp(&a.mean).then(a.scenario.cmp(&b.scenario)));
        let _ = writeln!(s, "\n  {e}");
        for (rank, r) in rows.iter().enumerate() {
            let label = match common {
                Some(_) => r.scenario.clone(),
                None => format!("{} ({})", r.scenario, r.year),
            };
            let _ = writeln!(
                s,
                "    {:>2}. {:<48} {:>8.3} [{:>8.3}, {:>8.3}]{}",
                rank + 1,
                label,
                r.mean,
                r.p05,
                r.p95,
                if r.failed > 0 {
                    format!("  ({} failed draws)", r.failed)
                } else {
                    String::new()
                }
            );
        }
    }
    if let Some(y) = common {
        let later: Vec<String> = years
            .iter()
            .filter_map(|(name, ys)| {
                let last = *ys.last()?;
                (last > y).then(|| format!("{name} (to {last})"))
            })
            .collect();
        if !later.is_empty() {
            let _ = writeln!(
                s,
                "\nsolved beyond {y}, not ranked there: {}; every year is in summary.csv",
                later.join(", ")
            );
        }
    }
    let missing: Vec<&str> = scenarios
        .iter()
        .map(String::as_str)
        .filter(|n| !years.contains_key(n))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            s,
            "\nleft out (no results: every draw failed, see failures.csv): {}",
            missing.join(", ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::comparisons_note;

    /// Options measured against different comparisons are named with theirs under the
    /// ranking; options that share one, or none, give no note.
    #[test]
    fn a_batch_of_options_with_different_comparisons_says_so() {
        let opt = |n: &str, c: &str| (n.to_string(), c.to_string());
        let same = [
            opt("A", "the reference path"),
            opt("B", "the reference path"),
        ];
        assert_eq!(comparisons_note(&same), "");
        assert_eq!(comparisons_note(&[]), "");
        let mixed = [
            opt("Korea joins CPTPP", "the reference path"),
            opt("RCEP-15", "the reference path without RCEP"),
        ];
        let note = comparisons_note(&mixed);
        assert!(
            note.contains("measured against different comparisons"),
            "{note}"
        );
        assert!(
            note.contains("  Korea joins CPTPP: against the reference path\n"),
            "{note}"
        );
        assert!(
            note.contains("  RCEP-15: against the reference path without RCEP\n"),
            "{note}"
        );
    }
}

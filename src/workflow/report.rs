//! Render an output directory's report (`tradesim report`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output;
use crate::report::html::{self, ReportData};
use crate::scenario;

/// Write `dir/report.html` from the tables in `dir`, joined by the scenarios of the `compare`
/// directories; `scenarios` are the files the tables were written from (their agreements,
/// tariff paths and settings replace `report_meta.json`'s); `focus` names economies shown
/// first. A `report.html` changed after tradesim wrote it (a user's edits) is replaced only
/// with `force`, one tradesim did not write never. Returns the path written.
pub fn write(
    dir: &Path,
    scenarios: &[PathBuf],
    compare: &[PathBuf],
    focus: &[String],
    force: bool,
) -> Result<PathBuf> {
    let mut data = ReportData::load(dir)?;
    for other in compare {
        data.merge(ReportData::load(other)?)?;
    }
    if !focus.is_empty() {
        let known: BTreeSet<&str> = data.economies.iter().map(|r| r.economy.as_str()).collect();
        let mut dirs = vec![dir];
        dirs.extend(compare.iter().map(PathBuf::as_path));
        data.meta.focus = focus_economies(focus, &known, &dirs)?;
    }
    for path in scenarios {
        let s = scenario::load(path)?;
        if !data.scenarios().contains(&s.name) {
            return Err(Error::invalid(
                path.display().to_string(),
                format!(
                    "scenario `{}` has no rows in {}; its scenarios are: {}. Pass the scenario file the tables were written from",
                    s.name,
                    dir.join("economies.csv").display(),
                    data.scenarios().join(", ")
                ),
            ));
        }
        data.set_meta(output::meta::scenario_meta(&s));
    }
    html::write(dir, &data, force)
}

/// The `focus` economies as given (comma-separated, so spaces around a code are trimmed), each
/// once, in order; an empty code is skipped. Refuses a code that is not one of `known` (the
/// economies of the `dirs`' tables), suggesting the closest (the same code in another case
/// first).
fn focus_economies(
    focus: &[String],
    known: &BTreeSet<&str>,
    dirs: &[&Path],
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for code in focus.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !known.contains(code) {
            let candidates: Vec<&str> = known.iter().copied().collect();
            let files: Vec<String> = dirs
                .iter()
                .map(|d| d.join("economies.csv").display().to_string())
                .collect();
            return Err(Error::invalid(
                "`focus`",
                format!(
                    "economy `{code}` is not in {}{}. Give codes as the tables spell them, one of: {}",
                    files.join(", "),
                    match crate::error::did_you_mean(code, candidates.iter().copied()).first() {
                        Some(near) => format!(" (did you mean `{near}`?)"),
                        None => String::new(),
                    },
                    candidates.join(", ")
                ),
            ));
        }
        if !out.iter().any(|c| c == code) {
            out.push(code.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_codes_are_trimmed_kept_once_and_a_wrong_case_is_suggested() {
        let known: BTreeSet<&str> = ["CHL", "PER", "JPN"].into_iter().collect();
        let dirs = [Path::new("a"), Path::new("b")];
        let f = |v: &[&str]| {
            focus_economies(
                &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                &known,
                &dirs,
            )
        };
        assert_eq!(f(&["CHL", " PER", "CHL"]).unwrap(), ["CHL", "PER"]);
        let e = f(&["chl"]).unwrap_err().to_string();
        assert!(e.contains("did you mean `CHL`?"), "{e}");
        assert!(e.contains("a/economies.csv, b/economies.csv"), "{e}");
    }
}

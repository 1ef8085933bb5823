//! Render an output directory's report (`tradesim report`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output;
use crate::report::html::{self, ReportData};
use crate::scenario;

/// Write `dir/report.html` from the tables in `dir`, joined by the scenarios of the `compare`
/// directories; `scenarios` are the files the tables were written from (their agreements,
/// tariff paths and settings replace `report_meta.json`'s); `focus` names economies shown
/// first. Returns the path written.
pub fn write(
    dir: &Path,
    scenarios: &[PathBuf],
    compare: &[PathBuf],
    focus: &[String],
) -> Result<PathBuf> {
    let mut data = ReportData::load(dir)?;
    for other in compare {
        data.merge(ReportData::load(other)?)?;
    }
    if !focus.is_empty() {
        let known: std::collections::BTreeSet<&str> =
            data.economies.iter().map(|r| r.economy.as_str()).collect();
        if let Some(bad) = focus.iter().find(|e| !known.contains(e.as_str())) {
            return Err(Error::invalid(
                "`focus`",
                format!(
                    "economy `{bad}` is not in {}; its economies are: {}",
                    dir.join("economies.csv").display(),
                    known.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        data.meta.focus = focus.to_vec();
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
    html::write(dir, &data)
}

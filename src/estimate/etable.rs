//! Several fits side by side, as fixest's `etable`: coefficients with significance codes and
//! standard errors in parentheses below them, the fixed effects of each model, standard-error
//! type, observations, pseudo-R² and log-likelihood; rendered as Markdown, CSV or LaTeX.
//! Models come from the JSON `tradesim estimate --json` prints (saved fits) or from fits in
//! memory (through the same JSON), so both paths give the same table.

use super::stats::{stars, SIGNIF_CODES};
use crate::error::{Error, Result};
use serde_json::Value;
use std::fmt::Write as _;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Markdown,
    Csv,
    Latex,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "md" | "markdown" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            "tex" | "latex" => Ok(Format::Latex),
            other => Err(Error::invalid(
                "`table`",
                format!("`{other}`: write md, csv or latex"),
            )),
        }
    }
}

/// One column of the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Model {
    pub dependent: String,
    /// (name, estimate, std. error, p-value), in the fit's order.
    pub coefficients: Vec<(String, f64, f64, f64)>,
    pub fixed_effects: Vec<String>,
    pub se_type: String,
    pub nobs: u64,
    pub pseudo_r2: f64,
    pub loglik: f64,
}

impl Model {
    /// Reads the JSON object of `tradesim estimate --json`; `source` names it in errors.
    pub(crate) fn from_json(v: &Value, source: &str) -> Result<Model> {
        let err = |what: &str| {
            Error::invalid(
                source,
                format!("{what}; etable reads the JSON that `tradesim estimate --json` prints (version with p_value, loglik and pseudo_r2): re-run it"),
            )
        };
        let formula = v["formula"].as_str().ok_or_else(|| err("no \"formula\""))?;
        let (lhs, rhs) = formula
            .split_once('~')
            .ok_or_else(|| err("the formula has no '~'"))?;
        let fixed_effects = rhs
            .split_once('|')
            .map(|(_, fe)| {
                fe.split('+')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let names = v["coefficient_names"]
            .as_array()
            .ok_or_else(|| err("no \"coefficient_names\""))?;
        let mut coefficients = Vec::new();
        for n in names {
            let n = n
                .as_str()
                .ok_or_else(|| err("a coefficient name is not text"))?;
            let c = &v["coefficients"][n];
            let get = |k: &str| number(c, k).map_err(|e| err(&format!("coefficient {n}: {e}")));
            let (estimate, se, p) = (get("estimate")?, get("std_error")?, get("p_value")?);
            if se < 0.0 {
                return Err(err(&format!("coefficient {n}: \"std_error\" is {se}, but a standard error is never negative; the file was edited")));
            }
            if !(0.0..=1.0).contains(&p) {
                return Err(err(&format!("coefficient {n}: \"p_value\" is {p}, but a p-value lies between 0 and 1; the file was edited")));
            }
            coefficients.push((n.to_string(), estimate, se, p));
        }
        let num = |k: &str| number(v, k).map_err(|e| err(&e));
        let nobs = match &v["nobs"] {
            Value::Null if v.get("nobs").is_none() => return Err(err("no \"nobs\"")),
            n => n.as_u64().ok_or_else(|| {
                err(&format!("\"nobs\" is {n}, but the number of observations is a whole non-negative number"))
            })?,
        };
        Ok(Model {
            dependent: lhs.trim().to_string(),
            coefficients,
            fixed_effects,
            se_type: short_se(v["vcov_type"].as_str().unwrap_or("")),
            nobs,
            pseudo_r2: num("pseudo_r2")?,
            loglik: num("loglik")?,
        })
    }
}

/// The number `v[key]`; `Err` says whether it is absent or there but not a number (text,
/// `null`, …), as the JSON spells it.
fn number(v: &Value, key: &str) -> std::result::Result<f64, String> {
    match v.get(key) {
        None => Err(format!("no \"{key}\"")),
        Some(x) => x
            .as_f64()
            .ok_or_else(|| format!("\"{key}\" is {x}, which is not a number")),
    }
}

/// fixest's short labels: `by: pair_id`, `Heteroskedas.-rob.`.
fn short_se(desc: &str) -> String {
    if let Some(rest) = desc.strip_prefix("clustered by ") {
        let var = rest.split(" (").next().unwrap_or(rest);
        format!("by: {var}")
    } else if desc.starts_with("two-way") || desc.contains("clustered") {
        desc.split(';').next().unwrap_or(desc).to_string()
    } else {
        "Heteroskedas.-rob.".into()
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Separates an estimate from its significance code inside a cell (LaTeX sets the code as a
/// superscript; the other formats drop the separator).
const MARK: char = '\u{1}';

/// The table's cells: a header row then rows of label + one cell per model.
fn cells(models: &[Model]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec![String::new()];
    head.extend((1..=models.len()).map(|k| format!("({k})")));
    rows.push(head);
    let mut dep = vec!["Dependent Var.:".to_string()];
    dep.extend(models.iter().map(|m| m.dependent.clone()));
    rows.push(dep);
    let mut names: Vec<String> = Vec::new();
    for m in models {
        for (n, ..) in &m.coefficients {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    for n in &names {
        let mut est = vec![n.clone()];
        let mut se = vec![String::new()];
        for m in models {
            match m.coefficients.iter().find(|c| &c.0 == n) {
                Some((_, b, s, p)) => {
                    est.push(format!("{b:.4}{MARK}{}", stars(*p)));
                    se.push(format!("({s:.4})"));
                }
                None => {
                    est.push(String::new());
                    se.push(String::new());
                }
            }
        }
        rows.push(est);
        rows.push(se);
    }
    let mut fes: Vec<String> = Vec::new();
    for m in models {
        for f in &m.fixed_effects {
            if !fes.contains(f) {
                fes.push(f.clone());
            }
        }
    }
    if !fes.is_empty() {
        let mut r = vec!["Fixed-Effects:".to_string()];
        r.extend(models.iter().map(|_| String::new()));
        rows.push(r);
        for f in &fes {
            let mut r = vec![f.clone()];
            r.extend(models.iter().map(|m| {
                if m.fixed_effects.contains(f) {
                    "Yes"
                } else {
                    "No"
                }
                .to_string()
            }));
            rows.push(r);
        }
    }
    let mut add = |label: &str, f: &dyn Fn(&Model) -> String| {
        let mut r = vec![label.to_string()];
        r.extend(models.iter().map(f));
        rows.push(r);
    };
    add("S.E. type", &|m| m.se_type.clone());
    add("Observations", &|m| thousands(m.nobs));
    add("Pseudo R2", &|m| format!("{:.5}", m.pseudo_r2));
    add("Log-Likelihood", &|m| format!("{:.2}", m.loglik));
    rows
}

fn latex_escape(s: &str) -> String {
    s.replace('\\', "\\textbackslash{}")
        .replace('_', "\\_")
        .replace('^', "\\^{}")
        .replace('&', "\\&")
        .replace('%', "\\%")
        .replace('#', "\\#")
}

/// Renders the models side by side.
pub(crate) fn render(models: &[Model], format: Format) -> String {
    let marked = cells(models);
    let rows: Vec<Vec<String>> = marked
        .iter()
        .map(|r| r.iter().map(|c| c.replace(MARK, "")).collect())
        .collect();
    let mut s = String::new();
    match format {
        Format::Markdown => {
            for (k, r) in rows.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "| {} |",
                    r.iter()
                        .map(|c| c.replace('|', "\\|"))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
                if k == 0 {
                    let _ = writeln!(s, "|{}", "---|".repeat(r.len()));
                }
            }
            let _ = writeln!(s, "\n{SIGNIF_CODES}");
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            for r in &rows {
                let _ = w.write_record(r);
            }
            s = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
        }
        Format::Latex => {
            let cols = rows[0].len();
            let _ = writeln!(
                s,
                "\\begin{{tabular}}{{l{}}}\n\\hline",
                "c".repeat(cols - 1)
            );
            for (k, r) in marked.iter().enumerate() {
                let cells: Vec<String> = r
                    .iter()
                    .map(|c| match c.split_once(MARK) {
                        Some((body, st)) if !st.is_empty() => {
                            format!("{}$^{{{}}}$", latex_escape(body), st)
                        }
                        Some((body, _)) => latex_escape(body),
                        None => latex_escape(c),
                    })
                    .collect();
                let _ = writeln!(s, "{} \\\\", cells.join(" & "));
                if k == 1 {
                    let _ = writeln!(s, "\\hline");
                }
            }
            let _ = writeln!(
                s,
                "\\hline\n\\multicolumn{{{cols}}}{{l}}{{\\footnotesize {}}} \\\\\n\\end{{tabular}}",
                latex_escape(SIGNIF_CODES).replace('\'', "")
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(formula: &str, coefs: &[(&str, f64, f64, f64)]) -> Value {
        let mut c = serde_json::Map::new();
        for (n, b, se, p) in coefs {
            c.insert(
                n.to_string(),
                json!({"estimate": b, "std_error": se, "p_value": p}),
            );
        }
        json!({"formula": formula, "coefficient_names": coefs.iter().map(|c| c.0).collect::<Vec<_>>(),
               "coefficients": c, "nobs": 28482, "vcov_type": "clustered by pair_id (2408 clusters); x",
               "pseudo_r2": 0.9912, "loglik": -1234.5})
    }

    /// Probe B finding 10: a hand-edited fit says which value is wrong and why.
    #[test]
    fn an_edited_fit_names_the_value_and_what_it_must_be() {
        let fit = || model("trade ~ cntg", &[("cntg", 0.44, 0.1, 0.001)]);
        let says = |v: Value, want: &[&str]| {
            let e = Model::from_json(&v, "f.json").unwrap_err().to_string();
            for w in want {
                assert!(e.contains(w), "{w:?} in {e}");
            }
            assert!(e.starts_with("f.json: "), "{e}");
        };
        let mut v = fit();
        v["coefficients"]["cntg"]["estimate"] = json!("0.44");
        says(
            v,
            &["coefficient cntg: \"estimate\" is \"0.44\", which is not a number"],
        );
        let mut v = fit();
        v["coefficients"]["cntg"]["estimate"] = Value::Null;
        says(v, &["\"estimate\" is null, which is not a number"]);
        for bad in [json!(-5), json!(28152.7)] {
            let mut v = fit();
            v["nobs"] = bad.clone();
            says(v, &[&format!("\"nobs\" is {bad}, but the number of observations is a whole non-negative number")]);
        }
        let mut v = fit();
        v["coefficients"]["cntg"]["p_value"] = json!(1.7);
        says(
            v,
            &["coefficient cntg: \"p_value\" is 1.7", "between 0 and 1"],
        );
        let mut v = fit();
        v["coefficients"]["cntg"]["std_error"] = json!(-0.1);
        says(
            v,
            &["coefficient cntg: \"std_error\" is -0.1", "never negative"],
        );
        let mut v = fit();
        v.as_object_mut().unwrap().remove("nobs");
        says(v, &["no \"nobs\""]);
    }

    #[test]
    fn side_by_side_in_three_formats() {
        let a = Model::from_json(
            &model(
                "trade ~ rta | exporter^year + importer^year",
                &[("rta", 0.5572, 0.1022, 4.9e-8)],
            ),
            "a",
        )
        .unwrap();
        let b = Model::from_json(
            &model(
                "trade ~ rta + ln_dist | exporter^year",
                &[("rta", 0.2, 0.1, 0.06), ("ln_dist", -0.8, 0.03, 0.0)],
            ),
            "b",
        )
        .unwrap();
        let md = render(&[a.clone(), b.clone()], Format::Markdown);
        assert!(md.contains("| rta | 0.5572*** | 0.2000. |"), "{md}");
        assert!(md.contains("| ln_dist |  | -0.8000*** |"), "{md}");
        assert!(md.contains("| importer^year | Yes | No |"), "{md}");
        assert!(md.contains("| Observations | 28,482 | 28,482 |"), "{md}");
        assert!(
            md.contains("| S.E. type | by: pair_id | by: pair_id |"),
            "{md}"
        );
        let csv = render(&[a.clone(), b.clone()], Format::Csv);
        assert!(csv.lines().any(|l| l == "rta,0.5572***,0.2000."), "{csv}");
        let tex = render(&[a, b], Format::Latex);
        assert!(
            tex.contains("0.5572$^{***}$") && tex.contains("importer\\^{}year"),
            "{tex}"
        );
        assert!(Model::from_json(&json!({"formula": "y ~ x"}), "old.json")
            .unwrap_err()
            .to_string()
            .contains("re-run"));
    }
}

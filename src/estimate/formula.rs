//! The fixest formula syntax: `y ~ x1 + log(x2) + x3:x4 | fe1 + fe2^fe3`.
//!
//! Left of `~`: the outcome column. Between `~` and `|`: regressors, each a column, `log(column)`
//! or a product `a:b` of such terms; `1` alone (or nothing with no fixed effects) means intercept
//! only. After `|`: fixed-effect dimensions separated by `+`, each a column or an interaction
//! `a^b^c` of columns. Without fixed effects the model has an intercept `(Intercept)`.

use crate::error::{Error, Result};

/// One factor of a regressor: a column, or its natural logarithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// A column as it is (`dist`).
    Column(String),
    /// The natural logarithm of a column (`log(dist)`); a used row where the column is not
    /// positive is an error.
    Log(String),
}

impl Atom {
    /// The column the atom reads.
    pub fn column(&self) -> &str {
        match self {
            Atom::Column(c) | Atom::Log(c) => c,
        }
    }
}

impl std::fmt::Display for Atom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Atom::Column(c) => write!(f, "{c}"),
            Atom::Log(c) => write!(f, "log({c})"),
        }
    }
}

/// A regressor: the product of one or more atoms (`a:b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The factors multiplied, in the order written (`a:b` gives `[a, b]`).
    pub atoms: Vec<Atom>,
}

impl Term {
    /// Parses a single term such as `rta`, `log(dist)` or `rta:log(dist)` (used for offsets).
    pub fn parse(text: &str) -> Result<Term> {
        parse_term(text, text, 0)
    }
    /// The name shown in output, as written (`log(dist)`).
    pub fn name(&self) -> String {
        self.atoms
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// A parsed formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    /// The outcome column.
    pub outcome: String,
    /// Regressors, in order.
    pub terms: Vec<Term>,
    /// Fixed-effect dimensions, each a list of interacted columns.
    pub fixed_effects: Vec<Vec<String>>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn err(formula: &str, offset: usize, token: &str, msg: impl Into<String>) -> Error {
    Error::invalid(
        format!(
            "formula '{formula}', at character {} ('{token}')",
            offset + 1
        ),
        msg,
    )
}

/// Splits `s` at top-level `sep` (outside parentheses), returning pieces with their offsets.
fn split_top(s: &str, sep: char, base: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push((s[start..i].to_string(), base + start));
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push((s[start..].to_string(), base + start));
    out
}

/// Trims a piece, moving its offset past leading spaces.
fn trim_at(s: &str, off: usize) -> (&str, usize) {
    let lead = s.len() - s.trim_start().len();
    (s.trim(), off + lead)
}

fn parse_atom(formula: &str, s: &str, off: usize) -> Result<Atom> {
    let (t, off) = trim_at(s, off);
    if t.is_empty() {
        return Err(err(
            formula,
            off,
            t,
            "empty term: check for a doubled '+' or ':'",
        ));
    }
    if let Some(rest) = t.strip_suffix(')') {
        if let Some((f, inner)) = rest.split_once('(') {
            let f = f.trim();
            let inner_t = inner.trim();
            if f != "log" {
                return Err(err(formula, off, t, format!("unknown function '{f}': only log(column) is supported on regressors; create other transformations with --define")));
            }
            if !is_name(inner_t) {
                return Err(err(
                    formula,
                    off,
                    t,
                    "log() takes a single column name, e.g. log(dist)",
                ));
            }
            return Ok(Atom::Log(inner_t.to_string()));
        }
    }
    if !is_name(t) {
        return Err(err(
            formula,
            off,
            t,
            "expected a column name or log(column); names use letters, digits, '_' and '.'",
        ));
    }
    Ok(Atom::Column(t.to_string()))
}

fn parse_term(formula: &str, s: &str, off: usize) -> Result<Term> {
    let atoms = split_top(s, ':', off)
        .into_iter()
        .map(|(p, o)| parse_atom(formula, &p, o))
        .collect::<Result<Vec<_>>>()?;
    Ok(Term { atoms })
}

impl Formula {
    /// Parses `y ~ x1 + log(x2) | fe1 + a^b`. Errors name the offending token and position.
    pub fn parse(text: &str) -> Result<Formula> {
        let Some((lhs, rhs)) = text.split_once('~') else {
            return Err(Error::invalid(
                format!("formula '{text}'"),
                "missing '~': write 'outcome ~ regressors | fixed effects', e.g. 'trade ~ rta + log(dist) | exporter^year + importer^year'",
            ));
        };
        let (outcome, o_off) = trim_at(lhs, 0);
        if !is_name(outcome) {
            return Err(err(
                text,
                o_off,
                outcome,
                "the outcome (left of '~') must be one column name",
            ));
        }
        let rhs_off = lhs.len() + 1;
        let parts = split_top(rhs, '|', rhs_off);
        if parts.len() > 2 {
            return Err(err(
                text,
                parts[2].1 - 1,
                "|",
                "only one '|' is allowed (instrumental variables are not supported)",
            ));
        }
        let (regs, r_off) = trim_at(&parts[0].0, parts[0].1);
        let mut terms = Vec::new();
        if !(regs.is_empty() || regs == "1") {
            for (p, o) in split_top(regs, '+', r_off) {
                let (pt, po) = trim_at(&p, o);
                if pt == "1" {
                    continue;
                }
                if pt == "0" || pt == "-1" {
                    return Err(err(
                        text,
                        po,
                        pt,
                        "removing the intercept is not supported; with fixed effects there is none",
                    ));
                }
                let term = parse_term(text, &p, o)?;
                if terms.contains(&term) {
                    return Err(err(text, po, pt, "this regressor appears twice"));
                }
                terms.push(term);
            }
        }
        let mut fixed_effects = Vec::new();
        if let Some((fe, f_off)) = parts.get(1) {
            let (fe_t, f_off) = trim_at(fe, *f_off);
            if fe_t.is_empty() || fe_t == "0" {
                if fe_t.is_empty() {
                    return Err(err(text, f_off, "|", "nothing after '|': list fixed effects, e.g. '| exporter^year + importer^year', or remove the '|'"));
                }
            } else {
                for (p, o) in split_top(fe_t, '+', f_off) {
                    let (pt, po) = trim_at(&p, o);
                    let mut cols = Vec::new();
                    for (c, co) in split_top(pt, '^', po) {
                        let (ct, co) = trim_at(&c, co);
                        if !is_name(ct) {
                            return Err(err(text, co, ct, "a fixed effect is a column name or an interaction a^b of column names"));
                        }
                        cols.push(ct.to_string());
                    }
                    if fixed_effects.contains(&cols) {
                        return Err(err(text, po, pt, "this fixed effect appears twice"));
                    }
                    fixed_effects.push(cols);
                }
            }
        }
        Ok(Formula {
            outcome: outcome.to_string(),
            terms,
            fixed_effects,
        })
    }

    /// Names of the fixed-effect dimensions as written (`exporter^year`).
    pub fn fe_names(&self) -> Vec<String> {
        self.fixed_effects.iter().map(|c| c.join("^")).collect()
    }
}

impl std::fmt::Display for Formula {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let regs: Vec<String> = self.terms.iter().map(|t| t.name()).collect();
        write!(
            f,
            "{} ~ {}",
            self.outcome,
            if regs.is_empty() {
                "1".into()
            } else {
                regs.join(" + ")
            }
        )?;
        if !self.fixed_effects.is_empty() {
            write!(f, " | {}", self.fe_names().join(" + "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_guide_formula() {
        let f = Formula::parse(
            "trade ~ rta + log(dist) + cntg | exporter^year + importer^year + exporter^importer",
        )
        .unwrap();
        assert_eq!(f.outcome, "trade");
        assert_eq!(f.terms.len(), 3);
        assert_eq!(f.terms[1].atoms, vec![Atom::Log("dist".into())]);
        assert_eq!(f.terms[1].name(), "log(dist)");
        assert_eq!(
            f.fixed_effects,
            vec![
                vec!["exporter".to_string(), "year".into()],
                vec!["importer".to_string(), "year".into()],
                vec!["exporter".to_string(), "importer".into()]
            ]
        );
        assert_eq!(
            f.to_string(),
            "trade ~ rta + log(dist) + cntg | exporter^year + importer^year + exporter^importer"
        );
    }

    #[test]
    fn interactions_and_intercept_only() {
        let f = Formula::parse("y~a:log(b)").unwrap();
        assert_eq!(f.terms[0].atoms.len(), 2);
        assert!(f.fixed_effects.is_empty());
        let f = Formula::parse("y ~ 1 | g").unwrap();
        assert!(f.terms.is_empty());
        assert_eq!(f.fe_names(), vec!["g"]);
    }

    #[test]
    fn errors_name_the_token() {
        let e = Formula::parse("trade rta").unwrap_err().to_string();
        assert!(e.contains("missing '~'"), "{e}");
        let e = Formula::parse("trade ~ rta + sqrt(dist)")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sqrt(dist)") && e.contains("character 15"),
            "{e}"
        );
        let e = Formula::parse("trade ~ rta + | e").unwrap_err().to_string();
        assert!(e.contains("empty term"), "{e}");
        let e = Formula::parse("trade ~ rta | e^").unwrap_err().to_string();
        assert!(e.contains("interaction"), "{e}");
        let e = Formula::parse("trade ~ rta |").unwrap_err().to_string();
        assert!(e.contains("nothing after"), "{e}");
        let e = Formula::parse("trade ~ rta | a | b")
            .unwrap_err()
            .to_string();
        assert!(e.contains("only one '|'"), "{e}");
        let e = Formula::parse("log(trade) ~ rta").unwrap_err().to_string();
        assert!(e.contains("outcome"), "{e}");
        let e = Formula::parse("y ~ a + a").unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
    }
}

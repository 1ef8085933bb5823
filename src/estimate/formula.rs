//! The fixest formula syntax: `y ~ x1 + log(x2) + x3:x4 | fe1 + fe2^fe3`.
//!
//! Left of `~`: the outcome column. Between `~` and `|`: regressors, each a column, `log(column)`
//! or a product `a:b` of such terms, or R's `a*b` (`a + b + a:b`); `1` alone (or nothing with no
//! fixed effects) means intercept only. fixest's `i(factor, var, ref = value)` is a regressor
//! per value of `factor` ([`Atom::Levels`]). After `|`: fixed-effect dimensions separated by
//! `+`, each a column or an interaction `a^b^c` of columns. Without fixed effects the model has
//! an intercept `(Intercept)`.

use crate::error::{Error, Result};

/// One factor of a regressor: a column, its natural logarithm, or fixest's `i()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// A column as it is (`dist`).
    Column(String),
    /// The natural logarithm of a column (`log(dist)`); a used row where the column is not
    /// positive is an error.
    Log(String),
    /// fixest's `i(factor, var, ref = …)`: one regressor per value of the column `factor`
    /// (numbers or text) but the `reference` ones, each `var` (a column or its logarithm; 1
    /// when absent) where `factor` takes that value and 0 elsewhere, named as fixest names them
    /// (`year::1990:rta`). The values are those on the rows used, in ascending order.
    Levels {
        /// The column whose values make the regressors.
        factor: String,
        /// What each regressor is where the factor takes its value (`None`: 1).
        var: Option<Box<Atom>>,
        /// The values left out, as written (`ref = 1986`, `ref = c(1986, 1990)`).
        reference: Vec<String>,
    },
}

impl Atom {
    /// The column the atom reads (for `i()`, its factor).
    pub fn column(&self) -> &str {
        match self {
            Atom::Column(c) | Atom::Log(c) => c,
            Atom::Levels { factor, .. } => factor,
        }
    }

    /// Every column the atom reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Atom::Levels {
                factor,
                var: Some(v),
                ..
            } => vec![factor, v.column()],
            a => vec![a.column()],
        }
    }
}

impl std::fmt::Display for Atom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Atom::Column(c) => write!(f, "{c}"),
            Atom::Log(c) => write!(f, "log({c})"),
            Atom::Levels {
                factor,
                var,
                reference,
            } => {
                write!(f, "i({factor}")?;
                if let Some(v) = var {
                    write!(f, ", {v}")?;
                }
                match reference.as_slice() {
                    [] => {}
                    [one] => write!(f, ", ref = {one}")?,
                    many => write!(f, ", ref = c({})", many.join(", "))?,
                }
                write!(f, ")")
            }
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
    let mut msg = msg.into();
    let words: Vec<&str> = token
        .split(|c: char| c.is_whitespace() || c == '`')
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() > 1 && words.iter().all(|w| is_name(w)) {
        msg.push_str(&format!(
            "; a column name with spaces cannot be written in a formula: rename the column in the file's header (e.g. '{}')",
            words.join("_")
        ));
    }
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
            if f == "i" {
                return parse_levels(formula, inner, off, t);
            }
            if f != "log" {
                return Err(err(formula, off, t, unknown_function(f)));
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

/// fixest's `i(factor[, var][, ref = value | ref = c(v1, v2, …)])`, the text inside the
/// parentheses being `inner` (the atom `t` at `off`).
fn parse_levels(formula: &str, inner: &str, off: usize, t: &str) -> Result<Atom> {
    let usage = "i() takes a column, optionally a variable (a column or log(column)) and `ref = value` or `ref = c(v1, v2)`, e.g. i(year, rta, ref = 1986)";
    let args: Vec<String> = split_top(inner, ',', 0)
        .into_iter()
        .map(|(a, _)| a.trim().to_string())
        .collect();
    let factor = args.first().map(String::as_str).unwrap_or("");
    if !is_name(factor) {
        return Err(err(formula, off, t, usage));
    }
    let (mut var, mut reference) = (None, Vec::new());
    for a in &args[1..] {
        if let Some((key, value)) = a.split_once('=').filter(|(k, _)| is_name(k.trim())) {
            if key.trim() != "ref" {
                return Err(err(
                    formula,
                    off,
                    t,
                    format!("i() argument '{}' is not supported; {usage}", key.trim()),
                ));
            }
            let value = value.trim();
            let values = match value.strip_prefix("c(").and_then(|v| v.strip_suffix(')')) {
                Some(list) => list.split(',').map(str::trim).collect(),
                None => vec![value],
            };
            for v in values {
                let v = v.trim_matches(|c| c == '"' || c == '\'');
                if v.is_empty() {
                    return Err(err(formula, off, t, usage));
                }
                reference.push(v.to_string());
            }
        } else if var.is_none() && reference.is_empty() {
            let atom = parse_atom(formula, a, off)?;
            if matches!(atom, Atom::Levels { .. }) {
                return Err(err(formula, off, t, usage));
            }
            var = Some(Box::new(atom));
        } else {
            return Err(err(formula, off, t, usage));
        }
    }
    Ok(Atom::Levels {
        factor: factor.to_string(),
        var,
        reference,
    })
}

/// What to write instead of a function the formula does not know: fixest's and R's
/// functions by name, with the way to get the same model here.
fn unknown_function(f: &str) -> String {
    let how = match f {
        "ln" => "the natural logarithm is written log(column), e.g. log(dist)".to_string(),
        "I" => "write the expression as a column with --define 'name = expression' and use its name".to_string(),
        "sw" | "csw" | "sw0" | "csw0" => "stepwise estimation is written as one --formula per model: they are fitted in one run and printed side by side".to_string(),
        "factor" | "as.factor" => "a categorical variable goes after '|' as a fixed effect".to_string(),
        _ => "only log(column) is supported on regressors; create other transformations with --define".to_string(),
    };
    format!("unknown function '{f}': {how}")
}

/// The terms of one `+` piece: a term (`a`, `a:log(b)`), or R's product `a*b*…`, which stands
/// for every product of its factors, main effects first: `a*b` is `a + b + a:b`, `a*b*c` is
/// `a + b + c + a:b + a:c + b:c + a:b:c` (each factor may itself be a product `x:y`).
fn parse_piece(formula: &str, s: &str, off: usize) -> Result<Vec<Term>> {
    let factors = split_top(s, '*', off)
        .into_iter()
        .map(|(p, o)| parse_term(formula, &p, o))
        .collect::<Result<Vec<_>>>()?;
    if factors.len() == 1 {
        return Ok(factors);
    }
    let k = factors.len();
    let mut subsets: Vec<Vec<usize>> = (1u32..(1 << k))
        .map(|m| (0..k).filter(|&i| m & (1 << i) != 0).collect())
        .collect();
    // By order (main effects, then pairs, …), each order in the order written.
    subsets.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    Ok(subsets
        .into_iter()
        .map(|set| Term {
            atoms: set
                .iter()
                .flat_map(|&i| factors[i].atoms.iter().cloned())
                .collect(),
        })
        .collect())
}

fn parse_term(formula: &str, s: &str, off: usize) -> Result<Term> {
    let atoms = split_top(s, ':', off)
        .into_iter()
        .map(|(p, o)| parse_atom(formula, &p, o))
        .collect::<Result<Vec<_>>>()?;
    if atoms
        .iter()
        .filter(|a| matches!(a, Atom::Levels { .. }))
        .count()
        > 1
    {
        let (t, o) = trim_at(s, off);
        return Err(err(
            formula,
            o,
            t,
            "one i() per term: interact the levels of two columns with a fixed effect a^b, or --define their product",
        ));
    }
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
                let piece = parse_piece(text, &p, o)?;
                if piece.len() == 1 {
                    if terms.contains(&piece[0]) {
                        return Err(err(text, po, pt, "this regressor appears twice"));
                    }
                    terms.extend(piece);
                } else {
                    // A product's terms already in the model are not added again (as in R).
                    for t in piece {
                        if !terms.contains(&t) {
                            terms.push(t);
                        }
                    }
                }
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
    fn a_star_is_every_product_main_effects_first() {
        let names = |f: &str| -> Vec<String> {
            Formula::parse(f)
                .unwrap()
                .terms
                .iter()
                .map(Term::name)
                .collect()
        };
        assert_eq!(
            names("y ~ rta*log(dist) | e"),
            ["rta", "log(dist)", "rta:log(dist)"]
        );
        assert_eq!(
            names("y ~ a*b*c"),
            ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]
        );
        // Terms already in the model are not repeated; a factor may be a product itself.
        assert_eq!(names("y ~ a + a*b"), ["a", "b", "a:b"]);
        assert_eq!(names("y ~ x:z*w"), ["x:z", "w", "x:z:w"]);
        let e = Formula::parse("y ~ a*").unwrap_err().to_string();
        assert!(e.contains("empty term"), "{e}");
    }

    #[test]
    fn i_is_a_regressor_per_level() {
        let f = Formula::parse("y ~ i(year, rta, ref = 1986) + i(region) + log(d):i(year, ref = c(1986, \"1990\")) | e").unwrap();
        assert_eq!(
            f.terms[0].atoms,
            vec![Atom::Levels {
                factor: "year".into(),
                var: Some(Box::new(Atom::Column("rta".into()))),
                reference: vec!["1986".into()],
            }]
        );
        assert_eq!(f.terms[0].name(), "i(year, rta, ref = 1986)");
        assert_eq!(f.terms[1].name(), "i(region)");
        assert_eq!(f.terms[2].name(), "log(d):i(year, ref = c(1986, 1990))");
        // As written, it parses again to the same formula.
        assert_eq!(Formula::parse(&f.to_string()).unwrap(), f);
        assert_eq!(f.terms[0].atoms[0].columns(), ["year", "rta"]);
        for (bad, says) in [
            ("y ~ i()", "i() takes a column"),
            ("y ~ i(year, rta, bin = 2)", "'bin' is not supported"),
            ("y ~ i(year, i(region))", "i() takes a column"),
            ("y ~ i(year):i(region)", "one i() per term"),
        ] {
            let e = Formula::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn fixest_functions_say_what_to_write_instead() {
        for (f, says) in [
            ("y ~ ln(dist)", "log(column), e.g. log(dist)"),
            ("y ~ I(rta^2)", "--define 'name = expression'"),
            ("y ~ csw(a, b)", "one --formula per model"),
            ("y ~ factor(year)", "fixed effect"),
        ] {
            let e = Formula::parse(f).unwrap_err().to_string();
            assert!(e.contains(says), "{f}: {e}");
        }
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

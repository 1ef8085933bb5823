//! A small expression language for `--subset` filters and `--define` derived columns.
//!
//! ```text
//! expr    := or
//! or      := and ( '|' and )*
//! and     := not ( '&' not )*
//! not     := '!' not | cmp
//! cmp     := sum ( ('=='|'!='|'<'|'<='|'>'|'>=') sum )?
//!          | sum 'in' item ( ',' item )*          items: numbers or bare/quoted words
//! sum     := prod ( ('+'|'-') prod )*               a condition counts as 1 or 0 in arithmetic
//! prod    := unary ( ('*'|'/') unary )*
//! unary   := '-' unary | atom
//! atom    := number | 'text' | "text" | column | func '(' expr, ... ')' | '(' expr ')'
//! func    := log | exp | abs | ifelse(cond, a, b) | is_missing(a)
//! ```
//! Examples: `year in 1986,1990,1994`, `exporter != importer`, `trade > 0 & year >= 1990`,
//! `pair = ifelse(exporter == importer, 0, pair_id)`.
//! A bare word is a column name, except in an `in` list where it is a value. Comparisons
//! between a number and a text compare the number's usual spelling (`1986` for 1986.0).
//!
//! A missing value (a cell read as missing: empty, `NA`, `.`, … — see
//! [`super::data::is_missing_marker`] — or empty and the tokens of the data's
//! [`super::data::NaValues`]) is missing in what is computed from it, as NA in R:
//! arithmetic, functions, comparisons and `in` give a missing value, `ifelse` with a missing
//! condition too; `&` and `|` follow R's three-valued logic (`false & missing` is false,
//! `true | missing` is true). `is_missing(x)` tells whether `x` is missing. A filter keeps a row
//! only where it is true (not where it is missing); a defined column is missing where its
//! value is.

use super::data::{format_number, Column, Dataset};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(&'static str),
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    text: String,
    node: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Num(f64),
    Str(String),
    Col(String),
    Neg(Box<Node>),
    Not(Box<Node>),
    Bin(&'static str, Box<Node>, Box<Node>),
    In(Box<Node>, Vec<Value>),
    Call(String, Vec<Node>),
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Num(f64),
    Str(String),
    Bool(bool),
    /// A missing value (R's NA).
    Missing,
}

fn tokenize(s: &str) -> Result<Vec<(Tok, usize)>> {
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |pos: usize, m: String| {
        Error::invalid(format!("expression '{s}', at character {}", pos + 1), m)
    };
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || (c == '.' && i + 1 < b.len() && b[i + 1].is_ascii_digit()) {
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || b[i] == '.'
                    || b[i] == 'e'
                    || b[i] == 'E'
                    || ((b[i] == '-' || b[i] == '+') && (b[i - 1] == 'e' || b[i - 1] == 'E')))
            {
                i += 1;
            }
            let t: String = b[start..i].iter().collect();
            let v = t
                .parse::<f64>()
                .map_err(|_| err(start, format!("'{t}' is not a number")))?;
            out.push((Tok::Num(v), start));
        } else if c.is_alphabetic() || c == '_' {
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.') {
                i += 1;
            }
            out.push((Tok::Ident(b[start..i].iter().collect()), start));
        } else if c == '\'' || c == '"' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            if i >= b.len() {
                return Err(err(start, format!("unclosed quote {c}")));
            }
            out.push((Tok::Str(b[start + 1..i].iter().collect()), start));
            i += 1;
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let op: &'static str = match two.as_str() {
                "==" => "==",
                "!=" => "!=",
                "<=" => "<=",
                ">=" => ">=",
                "&&" => "&",
                "||" => "|",
                _ => match c {
                    '<' => "<",
                    '>' => ">",
                    '&' => "&",
                    '|' => "|",
                    '!' => "!",
                    '+' => "+",
                    '-' => "-",
                    '*' => "*",
                    '/' => "/",
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    '=' => return Err(err(i, "single '=': use '==' to compare".into())),
                    ':' => return Err(err(i, "unexpected character ':'; a range of values is written 'x >= 1990 & x <= 2000' (a list: 'x in 1990, 1995, 2000')".into())),
                    '%' => return Err(err(i, "unexpected character '%'; R's '%in%' is written 'x in v1, v2' (e.g. 'exporter in USA, CAN' or 'year in 1990, 1995')".into())),
                    _ => return Err(err(i, format!("unexpected character '{c}'"))),
                },
            };
            i += if op.len() == 2 || two == "&&" || two == "||" {
                2
            } else {
                1
            };
            out.push((Tok::Op(op), start));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, m: impl Into<String>) -> Error {
        let at = self
            .toks
            .get(self.pos)
            .map(|t| t.1 + 1)
            .unwrap_or(self.text.chars().count() + 1);
        Error::invalid(format!("expression '{}', at character {at}", self.text), m)
    }
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.pos), Some((Tok::Op(o), _)) if *o == op)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.peek_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<Node> {
        let mut l = self.and()?;
        while self.eat_op("|") {
            l = Node::Bin("|", Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Node> {
        let mut l = self.not()?;
        while self.eat_op("&") {
            l = Node::Bin("&", Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }
    fn not(&mut self) -> Result<Node> {
        if self.eat_op("!") {
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Node> {
        let l = self.sum()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat_op(op) {
                return Ok(Node::Bin(op, Box::new(l), Box::new(self.sum()?)));
            }
        }
        if matches!(self.toks.get(self.pos), Some((Tok::Ident(w), _)) if w == "in") {
            self.pos += 1;
            let mut items = Vec::new();
            loop {
                let neg = self.eat_op("-");
                match self.toks.get(self.pos).cloned() {
                    Some((Tok::Num(v), _)) => items.push(Value::Num(if neg { -v } else { v })),
                    Some((Tok::Str(s), _)) | Some((Tok::Ident(s), _)) if !neg => {
                        items.push(Value::Str(s))
                    }
                    Some((Tok::Op("("), _)) => return Err(self.err(IN_WITHOUT_PARENS)),
                    _ => {
                        return Err(
                            self.err("expected a value in the 'in' list, e.g. 'year in 1986,1990'")
                        )
                    }
                }
                self.pos += 1;
                if matches!(self.toks.get(self.pos), Some((Tok::Op("("), _))) {
                    self.pos -= 1;
                    return Err(self.err(IN_WITHOUT_PARENS));
                }
                if !self.eat_op(",") {
                    break;
                }
            }
            return Ok(Node::In(Box::new(l), items));
        }
        Ok(l)
    }
    fn sum(&mut self) -> Result<Node> {
        let mut l = self.prod()?;
        loop {
            if self.eat_op("+") {
                l = Node::Bin("+", Box::new(l), Box::new(self.prod()?));
            } else if self.eat_op("-") {
                l = Node::Bin("-", Box::new(l), Box::new(self.prod()?));
            } else {
                return Ok(l);
            }
        }
    }
    fn prod(&mut self) -> Result<Node> {
        let mut l = self.unary()?;
        loop {
            if self.eat_op("*") {
                l = Node::Bin("*", Box::new(l), Box::new(self.unary()?));
            } else if self.eat_op("/") {
                l = Node::Bin("/", Box::new(l), Box::new(self.unary()?));
            } else {
                return Ok(l);
            }
        }
    }
    fn unary(&mut self) -> Result<Node> {
        if self.eat_op("-") {
            return Ok(Node::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<Node> {
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return Err(self.err("expression ends too early"));
        };
        self.pos += 1;
        match tok {
            Tok::Num(v) => Ok(Node::Num(v)),
            Tok::Str(s) => Ok(Node::Str(s)),
            Tok::Op("(") => {
                let e = self.or()?;
                if !self.eat_op(")") {
                    return Err(self.err("expected ')'"));
                }
                Ok(e)
            }
            Tok::Ident(name) => {
                if self.eat_op("(") {
                    let f = name.as_str();
                    let arity = match f {
                        "log" | "exp" | "abs" | "is_missing" => 1,
                        "ifelse" => 3,
                        _ => {
                            self.pos -= 2;
                            let r = if f == "is.na" {
                                "; R's is.na(x) is written is_missing(x)"
                            } else {
                                ""
                            };
                            return Err(self.err(format!(
                                "unknown function '{name}'; known: log, exp, abs, ifelse, is_missing{r}"
                            )));
                        }
                    };
                    let mut args = vec![self.or()?];
                    while self.eat_op(",") {
                        args.push(self.or()?);
                    }
                    if !self.eat_op(")") {
                        return Err(self.err("expected ')' or ','"));
                    }
                    if args.len() != arity {
                        return Err(self.err(format!(
                            "{name}() takes {arity} argument(s), got {}",
                            args.len()
                        )));
                    }
                    Ok(Node::Call(name, args))
                } else {
                    Ok(Node::Col(name))
                }
            }
            Tok::Op(o) => {
                self.pos -= 1;
                Err(self.err(format!("unexpected '{o}'")))
            }
        }
    }
}

/// The error for R's `x %in% c(a, b)` or `x in (a, b)`.
const IN_WITHOUT_PARENS: &str =
    "the 'in' list is written without R's c(...) or parentheses, e.g. 'year in 1986,1990'";

impl Expr {
    /// Parses an expression; errors name the character position and the problem.
    pub(crate) fn parse(text: &str) -> Result<Expr> {
        let toks = tokenize(text)?;
        if toks.is_empty() {
            return Err(Error::invalid(format!("expression '{text}'"), "is empty"));
        }
        let mut p = Parser { text, toks, pos: 0 };
        let node = p.or()?;
        if p.pos < p.toks.len() {
            return Err(p.err("unexpected text after the end of the expression (combine conditions with '&' or '|')"));
        }
        Ok(Expr {
            text: text.to_string(),
            node,
        })
    }

    /// The columns the expression reads, each once, in order of first mention.
    pub(crate) fn columns(&self) -> Vec<String> {
        fn walk(node: &Node, out: &mut Vec<String>) {
            match node {
                Node::Col(c) => {
                    if !out.contains(c) {
                        out.push(c.clone());
                    }
                }
                Node::Neg(a) | Node::Not(a) | Node::In(a, _) => walk(a, out),
                Node::Bin(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Node::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
                Node::Num(_) | Node::Str(_) => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.node, &mut out);
        out
    }

    /// Every column the expression reads is in `ds`: the first missing one, in order of
    /// mention, is the error.
    fn check_columns(&self, ds: &Dataset) -> Result<()> {
        let context = format!("expression '{}'", self.text);
        self.columns().iter().try_for_each(|c| {
            ds.require(c, &context).map(|_| ()).map_err(|e| match e {
                Error::Invalid { context, message } => Error::invalid(
                    context,
                    format!("{message}; if '{c}' is a value rather than a column, quote it: '{c}'"),
                ),
                e => e,
            })
        })
    }

    fn eval(&self, ds: &Dataset, node: &Node, i: usize) -> Result<Value> {
        let bad = |m: String| ds.row_error(i, format!("in '{}': {m}", self.text));
        Ok(match node {
            Node::Num(v) => Value::Num(*v),
            Node::Str(s) => Value::Str(s.clone()),
            Node::Col(c) => match ds.column(c) {
                Some(col) if col.is_missing(i) => Value::Missing,
                Some(Column::Numeric(v)) => Value::Num(v[i]),
                Some(Column::Text(v)) => Value::Str(v.get(i).to_string()),
                None => return Err(bad(format!("no column '{c}'"))),
            },
            Node::Neg(a) => {
                let v = self.eval(ds, a, i)?;
                if v == Value::Missing {
                    return Ok(v);
                }
                match number(&v) {
                    Some(x) => Value::Num(-x),
                    None => return Err(bad(format!("'-' needs a number, got {}", describe(&v)))),
                }
            }
            Node::Not(a) => match self.eval(ds, a, i)? {
                Value::Missing => Value::Missing,
                v => Value::Bool(!truth(&v).map_err(bad)?),
            },
            Node::In(a, items) => {
                let v = self.eval(ds, a, i)?;
                if v == Value::Missing {
                    return Ok(v);
                }
                Value::Bool(items.iter().any(|it| equal(&v, it)))
            }
            Node::Bin(op, a, b) => {
                let x = self.eval(ds, a, i)?;
                if *op == "&" || *op == "|" {
                    // R's three-valued logic: a missing side decides nothing by itself.
                    let and = *op == "&";
                    let l = match x {
                        Value::Missing => None,
                        x => Some(truth(&x).map_err(bad)?),
                    };
                    if l == Some(!and) {
                        return Ok(Value::Bool(!and));
                    }
                    return Ok(match self.eval(ds, b, i)? {
                        Value::Missing => Value::Missing,
                        y => match (truth(&y).map_err(bad)?, l) {
                            (r, _) if r != and => Value::Bool(r),
                            (r, Some(_)) => Value::Bool(r),
                            (_, None) => Value::Missing,
                        },
                    });
                }
                let y = self.eval(ds, b, i)?;
                if x == Value::Missing || y == Value::Missing {
                    return Ok(Value::Missing);
                }
                match *op {
                    "==" => Value::Bool(equal(&x, &y)),
                    "!=" => Value::Bool(!equal(&x, &y)),
                    "<" | "<=" | ">" | ">=" => {
                        let ord = match (&x, &y) {
                            (Value::Num(p), Value::Num(q)) => p.partial_cmp(q),
                            _ => Some(spell(&x).cmp(&spell(&y))),
                        };
                        let Some(o) = ord else {
                            return Ok(Value::Bool(false));
                        };
                        use std::cmp::Ordering::*;
                        Value::Bool(match *op {
                            "<" => o == Less,
                            "<=" => o != Greater,
                            ">" => o == Greater,
                            _ => o != Less,
                        })
                    }
                    _ => {
                        let (Some(p), Some(q)) = (number(&x), number(&y)) else {
                            return Err(bad(format!(
                                "'{op}' needs numbers (a condition counts as 1 or 0), got {} and {}",
                                describe(&x),
                                describe(&y)
                            )));
                        };
                        Value::Num(match *op {
                            "+" => p + q,
                            "-" => p - q,
                            "*" => p * q,
                            _ => p / q,
                        })
                    }
                }
            }
            Node::Call(f, args) => {
                if f == "ifelse" {
                    let c = match self.eval(ds, &args[0], i)? {
                        Value::Missing => return Ok(Value::Missing),
                        c => truth(&c).map_err(bad)?,
                    };
                    return self.eval(ds, &args[if c { 1 } else { 2 }], i);
                }
                let v = self.eval(ds, &args[0], i)?;
                if f == "is_missing" {
                    return Ok(Value::Bool(
                        matches!(v, Value::Missing) || matches!(v, Value::Num(x) if x.is_nan()),
                    ));
                }
                if v == Value::Missing {
                    return Ok(v);
                }
                let Some(x) = number(&v) else {
                    return Err(bad(format!("{f}() needs a number, got {}", describe(&v))));
                };
                Value::Num(match f.as_str() {
                    "log" => x.ln(),
                    "exp" => x.exp(),
                    _ => x.abs(),
                })
            }
        })
    }

    /// Evaluates as a condition on every row.
    pub(crate) fn eval_mask(&self, ds: &Dataset) -> Result<Vec<bool>> {
        self.check_columns(ds)?;
        (0..ds.nrows())
            .map(|i| match self.eval(ds, &self.node, i)? {
                // As R's subset(): a row where the filter is missing is left out.
                Value::Missing => Ok(false),
                v => truth(&v).map_err(|m| ds.row_error(i, format!("in '{}': {m}", self.text))),
            })
            .collect()
    }

    /// Evaluates on every row into a column: numeric when every value is a number, a
    /// condition (true = 1) or missing (NaN), text otherwise (numbers spelled as typed, a
    /// missing value empty).
    pub(crate) fn eval_column(&self, ds: &Dataset) -> Result<Column> {
        self.check_columns(ds)?;
        let vals: Vec<Value> = (0..ds.nrows())
            .map(|i| self.eval(ds, &self.node, i))
            .collect::<Result<_>>()?;
        if vals.iter().all(|v| !matches!(v, Value::Str(_))) {
            Ok(Column::Numeric(
                vals.iter()
                    .map(|v| match v {
                        Value::Num(x) => *x,
                        Value::Bool(b) => f64::from(u8::from(*b)),
                        Value::Str(_) | Value::Missing => f64::NAN,
                    })
                    .collect(),
            ))
        } else {
            Ok(Column::Text(vals.iter().map(spell).collect()))
        }
    }
}

/// A value as a number in arithmetic: a condition counts as 1 (true) or 0 (false), as in R
/// (`rta * (year == 1990)`); text is not a number.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Num(x) => Some(*x),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Str(_) | Value::Missing => None,
    }
}

/// A value as a message names it: `the number 3`, `the text 'ARG'`, `the condition true`.
fn describe(v: &Value) -> String {
    match v {
        Value::Num(x) => format!("the number {}", format_number(*x)),
        Value::Str(s) => format!("the text '{s}'"),
        Value::Bool(b) => format!("the condition {b}"),
        Value::Missing => "a missing value".to_string(),
    }
}

fn spell(v: &Value) -> String {
    match v {
        Value::Num(x) => format_number(*x),
        Value::Str(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Missing => String::new(),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        _ => spell(a) == spell(b),
    }
}

fn truth(v: &Value) -> std::result::Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Num(x) => Ok(*x != 0.0 && !x.is_nan()),
        Value::Str(s) => Err(format!(
            "the text '{s}' is not a condition (compare it, e.g. col == 'x')"
        )),
        Value::Missing => Ok(false),
    }
}

/// Derived columns and filters on a [`Dataset`] (the `--define` and `--subset` of `estimate`).
impl Dataset {
    /// Adds a derived column from a definition `name = expression`, e.g.
    /// `pair = ifelse(exporter == importer, 0, pair_id)`. Expressions combine columns, numbers
    /// and quoted texts with `+ - * /`, comparisons (`== != < <= > >=`, `x in a,b,c`), `& | !`,
    /// and the functions `log`, `exp`, `abs`, `ifelse(cond, a, b)` and `is_missing(x)`.
    pub fn define(&mut self, definition: &str) -> Result<()> {
        let (name, expr) = definition.split_once('=').ok_or_else(|| {
            Error::invalid(
                format!("`define` '{definition}'"),
                "expected 'name = expression', e.g. 'pair = ifelse(exporter == importer, 0, pair_id)'",
            )
        })?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            return Err(Error::invalid(
                format!("`define` '{definition}'"),
                format!("'{name}' is not a valid column name (letters, digits, '_' and '.')"),
            ));
        }
        let e = Expr::parse(expr.trim())?;
        let col = e.eval_column(self)?;
        self.push(name.to_string(), col)
    }

    /// Evaluates a filter expression (the syntax of [`Dataset::define`]'s expressions, e.g.
    /// `year in 1986,1990,1994 & exporter != importer`) to a row mask: `true` where it holds.
    pub fn filter_mask(&self, filter: &str) -> Result<Vec<bool>> {
        let e = Expr::parse(filter)?;
        e.eval_mask(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds() -> Dataset {
        let mut d = Dataset::new();
        d.push_text("e", vec!["A".into(), "B".into(), "A".into()])
            .unwrap();
        d.push_text("m", vec!["A".into(), "A".into(), "B".into()])
            .unwrap();
        d.push_numeric("year", vec![1986.0, 1990.0, 1994.0])
            .unwrap();
        d.push_numeric("pid", vec![7.0, 8.0, 8.0]).unwrap();
        d
    }

    #[test]
    fn filters() {
        let d = ds();
        assert_eq!(
            d.filter_mask("year in 1986,1994").unwrap(),
            vec![true, false, true]
        );
        assert_eq!(d.filter_mask("e != m").unwrap(), vec![false, true, true]);
        assert_eq!(
            d.filter_mask("e == 'A' & year > 1986").unwrap(),
            vec![false, false, true]
        );
        assert_eq!(
            d.filter_mask("year >= 1990 | e == m").unwrap(),
            vec![true, true, true]
        );
        assert_eq!(d.filter_mask("e in A").unwrap(), vec![true, false, true]);
        assert!(d
            .filter_mask("year = 1986")
            .unwrap_err()
            .to_string()
            .contains("'=='"));
        assert!(d
            .filter_mask("nope == 1")
            .unwrap_err()
            .to_string()
            .contains("no column named 'nope'"));
        assert!(d.filter_mask("year == ").is_err());
        // R's range `1986:1990` is not the language's: the error says how to write one.
        let e = d.filter_mask("year in 1986:1990").unwrap_err().to_string();
        assert!(
            e.contains("at character 13") && e.contains("x >= 1990 & x <= 2000"),
            "{e}"
        );
    }

    #[test]
    fn define_ifelse() {
        let mut d = ds();
        d.define("pair = ifelse(e == m, 0, pid)").unwrap();
        assert_eq!(
            d.column("pair"),
            Some(&Column::Numeric(vec![0.0, 8.0, 8.0]))
        );
        d.define("lab = ifelse(e == m, 'dom', e)").unwrap();
        assert_eq!(
            d.column("lab"),
            Some(&Column::Text(
                vec!["dom".to_string(), "B".into(), "A".into()].into()
            ))
        );
        assert!(d.define("no equals sign").is_err());
    }

    #[test]
    fn conditions_count_as_one_or_zero_in_arithmetic() {
        let mut d = ds();
        d.define("pid_1990 = pid * (year == 1990)").unwrap();
        assert_eq!(
            d.column("pid_1990"),
            Some(&Column::Numeric(vec![0.0, 8.0, 0.0]))
        );
        d.define("late = -(year > 1986) + 1").unwrap();
        assert_eq!(
            d.column("late"),
            Some(&Column::Numeric(vec![1.0, 0.0, 0.0]))
        );
        // Text is not a number: the message names the values, not their representation.
        let e = d.define("x = e * 2").unwrap_err().to_string();
        assert!(
            e.contains("got the text 'A' and the number 2") && !e.contains("Str("),
            "{e}"
        );
        let e = d.define("y = log(e)").unwrap_err().to_string();
        assert!(e.contains("log() needs a number, got the text 'A'"), "{e}");
    }

    /// A missing cell is missing in what is computed from it, as NA in R: `is_missing` finds
    /// it, comparisons and arithmetic give a missing value, `&` and `|` are three-valued, a
    /// filter keeps only rows where it is true, a defined column is missing (NaN, or an empty
    /// text) where its value is.
    #[test]
    fn missing_values_propagate_as_in_r() {
        let mut d = Dataset::new();
        d.push_numeric("x", vec![1.0, f64::NAN, 3.0]).unwrap();
        d.push_text("t", vec!["A".into(), "B".into(), "NA".into()])
            .unwrap();
        let mask = |f: &str| d.filter_mask(f).unwrap();
        assert_eq!(mask("is_missing(x)"), vec![false, true, false]);
        assert_eq!(mask("!is_missing(x)"), vec![true, false, true]);
        assert_eq!(mask("is_missing(t)"), vec![false, false, true]);
        assert_eq!(
            mask("is_missing(x) | is_missing(t)"),
            vec![false, true, true]
        );
        assert_eq!(mask("x > 0"), vec![true, false, true]);
        assert_eq!(mask("!(x > 0)"), vec![false, false, false]);
        assert_eq!(mask("x != 2"), vec![true, false, true]);
        assert_eq!(mask("x > 0 | t == 'B'"), vec![true, true, true]);
        assert_eq!(mask("x > 5 | t == 'A'"), vec![true, false, false]);
        assert_eq!(mask("x > 5 & t == 'B'"), vec![false, false, false]);
        assert_eq!(mask("t in A, NA"), vec![true, false, false]);
        assert_eq!(mask("is_missing(x * 2 + log(x))"), vec![false, true, false]);
        let mut d = d.clone();
        d.define("far = ifelse(x > 2, 1, 0)").unwrap();
        d.define("y = ifelse(t == 'A', 0, x)").unwrap();
        d.define("lab = ifelse(x > 0, t, 'none')").unwrap();
        let num = |c: &str| match d.column(c) {
            Some(Column::Numeric(v)) => v.iter().map(|v| format_number(*v)).collect::<Vec<_>>(),
            _ => panic!("{c} is numeric"),
        };
        assert_eq!(num("far"), ["0", "NaN", "1"]);
        assert_eq!(num("y"), ["0", "NaN", "NaN"]);
        let lab = d.column("lab").unwrap();
        assert!(!lab.is_missing(0) && lab.is_missing(1) && lab.is_missing(2));
        let e = d.filter_mask("is.na(x)").unwrap_err().to_string();
        assert!(e.contains("is_missing(x)"), "{e}");
    }
}

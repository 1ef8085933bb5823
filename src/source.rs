//! The text of an input file (scenario, batch or structural-gravity RON), kept to point at
//! mistakes: the line and column of a field, an agreement or a phrase, and errors and warnings
//! there (`file:line:column: message`, with the line and a caret).
//!
//! It sits below both loaders, [`crate::scenario`] (multi-sector and batch files) and
//! [`crate::gravity`] (`StructuralGravity(...)` files), so both can place their errors without
//! importing each other.

use crate::error::Error;
use std::path::PathBuf;

/// The text of a scenario file, kept to point at mistakes.
#[derive(Debug)]
pub(crate) struct Source {
    /// The file, as named in messages.
    pub(crate) path: PathBuf,
    /// Its whole text.
    pub(crate) text: String,
}

impl Source {
    /// The 1-based line and column of the first `needle` after the first `anchor` (if any).
    fn locate(&self, anchor: Option<&str>, needle: &str) -> (usize, usize) {
        self.offset(anchor, needle)
            .map_or((1, 1), |off| self.line_col(off))
    }

    /// The byte offset of the first `needle` after the first `anchor` (if any), else of the
    /// anchor.
    pub(crate) fn offset(&self, anchor: Option<&str>, needle: &str) -> Option<usize> {
        // Search the code only: comments are blanked out (same byte offsets).
        let code = blank_comments(&self.text);
        let start = anchor.and_then(|a| code.find(a)).unwrap_or(0);
        code[start..]
            .find(needle)
            .map(|p| p + start)
            .or_else(|| anchor.and_then(|a| code.find(a)))
    }

    /// The byte offset of the second `needle` after the first `anchor` (a value repeated in a
    /// list, where the repeat is what to point at), else of the first, else of the anchor.
    pub(crate) fn second_offset(&self, anchor: Option<&str>, needle: &str) -> Option<usize> {
        let first = self.offset(anchor, needle)?;
        let code = blank_comments(&self.text);
        code.get(first + needle.len()..)
            .and_then(|rest| rest.find(needle))
            .map(|p| p + first + needle.len())
            .or(Some(first))
    }

    /// The byte offset of the `nth` (0-based) item of the first list `[...]` at or after
    /// `from` (its first character): a number, a string or a tuple `(…)` at the list's top
    /// level. `None` when the list has fewer items or there is no list.
    pub(crate) fn list_item_offset(&self, from: usize, nth: usize) -> Option<usize> {
        let code = blank_strings(&blank_comments(&self.text));
        let b = code.as_bytes();
        let open = from + code.get(from..)?.find('[')?;
        let (mut depth, mut item, mut expect) = (0usize, 0usize, true);
        for (k, &c) in b.iter().enumerate().skip(open + 1) {
            match c {
                b']' | b')' if depth == 0 => return None,
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b',' if depth == 0 => {
                    item += 1;
                    expect = true;
                    continue;
                }
                _ => {}
            }
            if expect && !c.is_ascii_whitespace() {
                if item == nth {
                    return Some(k);
                }
                expect = false;
            }
        }
        None
    }

    /// An error at byte offset `off` of the text (the file's start when `None`).
    pub(crate) fn error_at(&self, off: Option<usize>, message: impl Into<String>) -> Error {
        let (line, col) = off.map_or((1, 1), |o| self.line_col(o));
        Error::scenario(&self.path, &self.text, line, col, message)
    }

    /// An error at the first `needle` after the first `anchor` (the file's start when absent).
    pub(crate) fn error(
        &self,
        anchor: Option<&str>,
        needle: &str,
        message: impl Into<String>,
    ) -> Error {
        let (line, col) = self.locate(anchor, needle);
        Error::scenario(&self.path, &self.text, line, col, message)
    }

    /// The byte offset of the first `needle` inside the `nth` (0-based) `schedule:` field of
    /// the `schedules: [...]` list after the first `anchor` (an agreement's per-importer or
    /// per-sector schedules), when that field is found.
    pub(crate) fn offset_in_rule(
        &self,
        anchor: Option<&str>,
        nth: usize,
        needle: &str,
    ) -> Option<usize> {
        let code = blank_comments(&self.text);
        let fields = blank_strings(&code);
        let start = anchor.and_then(|a| code.find(a)).unwrap_or(0);
        field_offset(&fields, start, "schedules", 0)
            .and_then(|list| field_offset(&fields, list, "schedule", nth))
            .and_then(|field| code[field..].find(needle).map(|p| p + field))
    }

    /// An error at the field `field:` of axis `axis` (0-based) of the `variation`-th (0-based)
    /// variation's `grid: [...]` of a batch file: at the axis (`PhaseIn(`, `Theta(`,
    /// `Depth(`) when the field is not written in it, at the variation's `grid:` when the axis
    /// is not found, and at the file's start when neither is.
    pub(crate) fn error_in_grid(
        &self,
        variation: usize,
        axis: usize,
        field: &str,
        message: impl Into<String>,
    ) -> Error {
        let fields = blank_strings(&blank_comments(&self.text));
        let at = field_offset(&fields, 0, "grid", variation).map(|grid| {
            match nth_constructor(&fields, grid, &crate::scenario::batch::GRID_AXES, axis) {
                Some((ax, end)) => field_offset(&fields[..end], ax, field, 0).unwrap_or(ax),
                None => grid,
            }
        });
        let (line, col) = at.map_or((1, 1), |off| self.line_col(off));
        Error::scenario(&self.path, &self.text, line, col, message)
    }

    /// A warning at the same place [`Source::error`] would point to, as the text to print.
    pub(crate) fn warning(
        &self,
        anchor: Option<&str>,
        needle: &str,
        message: impl Into<String>,
    ) -> String {
        self.error(anchor, needle, message).to_string()
    }

    /// The 1-based line and column of the `nth` (0-based) field `name:` in the code: outside
    /// comments and string literals, not part of a longer identifier.
    pub(crate) fn locate_field(&self, name: &str, nth: usize) -> Option<(usize, usize)> {
        let code = blank_strings(&blank_comments(&self.text));
        let off = field_offset(&code, 0, name, nth)?;
        Some(self.line_col(off))
    }

    /// The byte offset of the first field `name:` whose value is a list (`[...]` or
    /// `Some([...])`): the scenario's `years: [...]`, not a schedule's `Linear(years: 10)`.
    pub(crate) fn list_field_offset(&self, name: &str) -> Option<usize> {
        self.field_offset_where(name, |value| {
            let value = value.strip_prefix("Some").map_or(value, |v| {
                v.trim_start().strip_prefix('(').unwrap_or(v).trim_start()
            });
            value.starts_with('[')
        })
    }

    /// The byte offset of the first field `name:` whose value (the code after the colon,
    /// comments and strings blanked, leading spaces trimmed) satisfies `value`.
    fn field_offset_where(&self, name: &str, value: impl Fn(&str) -> bool) -> Option<usize> {
        let code = blank_strings(&blank_comments(&self.text));
        (0..)
            .map_while(|nth| field_offset(&code, 0, name, nth))
            .find(|&k| value(code[k + name.len()..].trim_start()[1..].trim_start()))
    }

    /// The byte offset of the first `needle` at or after byte `from` (in the code, comments
    /// blanked).
    pub(crate) fn offset_from(&self, from: usize, needle: &str) -> Option<usize> {
        let code = blank_comments(&self.text);
        code.get(from..)?.find(needle).map(|p| p + from)
    }

    /// The byte offset of the first field `name:` whose value is a map of maps
    /// (`{ "…": { … } }`): the scenario's `accessions: { "CPTPP": { "KOR": 2028 } }`, not an
    /// agreement's `accessions: { "KOR": 2028 }`.
    pub(crate) fn map_of_maps_field_offset(&self, name: &str) -> Option<usize> {
        self.field_offset_where(name, |value| {
            // Strings are blanked (their quotes kept): `{ "     ": {`.
            value.strip_prefix('{').is_some_and(|v| {
                let v = v.trim_start();
                v.strip_prefix('"')
                    .and_then(|v| v.find('"').map(|q| &v[q + 1..]))
                    .and_then(|v| v.trim_start().strip_prefix(':'))
                    .is_some_and(|v| v.trim_start().starts_with('{'))
            })
        })
    }

    /// The byte offset of the `nth` (0-based) item of the list field `name:`
    /// ([`Source::list_field_offset`], [`Source::list_item_offset`]), or of the field when
    /// the list has fewer items: where a repeated item of `years: [...]` or `scenarios: [...]`
    /// is shown.
    pub(crate) fn list_field_item(&self, name: &str, nth: usize) -> Option<usize> {
        self.item_or_place(self.list_field_offset(name), nth)
    }

    /// The byte offset of the `nth` (0-based) item of the first list at or after `place`
    /// ([`Source::list_item_offset`]), or `place` itself when there is no such item.
    pub(crate) fn item_or_place(&self, place: Option<usize>, nth: usize) -> Option<usize> {
        place.and_then(|p| self.list_item_offset(p, nth)).or(place)
    }

    fn line_col(&self, off: usize) -> (usize, usize) {
        let before = &self.text[..off];
        let line = before.matches('\n').count() + 1;
        let col = off - before.rfind('\n').map_or(0, |p| p + 1) + 1;
        (line, col)
    }

    /// An error at the field `name:` (the whole file's start when the field is absent).
    pub(crate) fn field_error(&self, name: &str, message: impl Into<String>) -> Error {
        self.nth_field_error(name, 0, message)
    }

    /// An error at the `nth` (0-based) field `name:` (the file's start when there is none).
    pub(crate) fn nth_field_error(
        &self,
        name: &str,
        nth: usize,
        message: impl Into<String>,
    ) -> Error {
        let (line, col) = self.locate_field(name, nth).unwrap_or((1, 1));
        Error::scenario(&self.path, &self.text, line, col, message)
    }

    /// An error at the field `name:` inside `solver: (…)` (at `solver:` when that field is not
    /// written there, e.g. a value inherited through `extends`).
    pub(crate) fn solver_field_error(&self, name: &str, message: impl Into<String>) -> Error {
        let solver = self.locate_field("solver", 0);
        let inside = solver.and_then(|at| {
            (0..)
                .map_while(|nth| self.locate_field(name, nth))
                .find(|&p| p > at)
        });
        let (line, col) = inside.or(solver).unwrap_or((1, 1));
        Error::scenario(&self.path, &self.text, line, col, message)
    }

    /// The place of the `nth` agreement named `name` (`name: "…"` of that agreement).
    pub(crate) fn agreement_at(&self, name: &str, nth: usize) -> (usize, usize) {
        let code = blank_comments(&self.text);
        let quoted = format!("\"{name}\"");
        code.match_indices(&quoted)
            .map(|(k, _)| k)
            .filter(|&k| {
                let before = code[..k].trim_end();
                before.ends_with(':') && before[..before.len() - 1].trim_end().ends_with("name")
            })
            .nth(nth)
            .map_or((1, 1), |k| self.line_col(k))
    }
}

/// The byte offset of the `nth` (0-based) field `name:` in `code` at or after `from`: not part
/// of a longer identifier (`schedule` is not found in `schedules:`), followed by `:`.
fn field_offset(code: &str, from: usize, name: &str, nth: usize) -> Option<usize> {
    let b = code.as_bytes();
    code[from..]
        .match_indices(name)
        .map(|(k, _)| k + from)
        .filter(|&k| {
            let end = k + name.len();
            (k == 0 || !is_ident_byte(b[k - 1]))
                && (end == b.len() || !is_ident_byte(b[end]))
                && code[end..].trim_start().starts_with(':')
        })
        .nth(nth)
}

/// Whether `c` may be part of an identifier (a field or constructor name).
fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The byte offsets of the `nth` (0-based) constructor `Name(` of any of `names` in `code` at
/// or after `from` (not part of a longer identifier), and of its closing parenthesis (the
/// text's end when it is not closed). `code` has its comments and strings blanked.
fn nth_constructor(code: &str, from: usize, names: &[&str], nth: usize) -> Option<(usize, usize)> {
    let b = code.as_bytes();
    let (mut k, mut seen) = (from, 0);
    let (at, open) = loop {
        if k >= b.len() {
            return None;
        }
        if !is_ident_byte(b[k]) || (k > 0 && is_ident_byte(b[k - 1])) {
            k += 1;
            continue;
        }
        let end = (k..b.len())
            .find(|&e| !is_ident_byte(b[e]))
            .unwrap_or(b.len());
        let rest = code[end..].trim_start();
        if names.contains(&&code[k..end]) && rest.starts_with('(') {
            if seen == nth {
                break (k, b.len() - rest.len());
            }
            seen += 1;
        }
        k = end;
    };
    let mut depth = 0usize;
    let close = (open..b.len())
        .find(|&e| {
            match b[e] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth = depth.saturating_sub(1),
                _ => return false,
            }
            depth == 0
        })
        .unwrap_or(b.len());
    Some((at, close))
}

/// The text with the contents of string literals replaced by spaces (quotes kept), so that a
/// search for a field name does not stop inside a string.
pub(crate) fn blank_strings(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    let (mut k, mut in_str) = (0, false);
    while k < out.len() {
        match (in_str, out[k]) {
            (true, b'\\') => {
                out[k] = b' ';
                if k + 1 < out.len() && out[k + 1] != b'\n' {
                    out[k + 1] = b' ';
                }
                k += 2;
                continue;
            }
            (true, b'"') | (false, b'"') => in_str = !in_str,
            (true, c) if c != b'\n' => out[k] = b' ',
            _ => {}
        }
        k += 1;
    }
    // Multi-byte characters inside strings became spaces byte by byte: still UTF-8, same offsets.
    String::from_utf8(out).unwrap_or_else(|_| code.to_string())
}

/// The text with `//` and `/* */` comments replaced by spaces (outside string literals), so
/// that byte offsets stay those of the original.
pub(crate) fn blank_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let (mut k, mut in_str) = (0, false);
    while k < b.len() {
        if in_str {
            if b[k] == b'\\' {
                k += 2;
                continue;
            }
            if b[k] == b'"' {
                in_str = false;
            }
            k += 1;
        } else if b[k] == b'"' {
            in_str = true;
            k += 1;
        } else if b[k..].starts_with(b"//") {
            while k < b.len() && b[k] != b'\n' {
                out[k] = b' ';
                k += 1;
            }
        } else if b[k..].starts_with(b"/*") {
            while k < b.len() && !b[k..].starts_with(b"*/") {
                if b[k] != b'\n' {
                    out[k] = b' ';
                }
                k += 1;
            }
            for _ in 0..2 {
                if k < b.len() {
                    out[k] = b' ';
                    k += 1;
                }
            }
        } else {
            k += 1;
        }
    }
    // Whole characters are blanked (comments end at a newline or `*/`), so this stays UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

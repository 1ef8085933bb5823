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
        // Search the code only: comments are blanked out (same byte offsets).
        let code = blank_comments(&self.text);
        let start = anchor.and_then(|a| code.find(a)).unwrap_or(0);
        let at = code[start..]
            .find(needle)
            .map(|p| p + start)
            .or_else(|| anchor.and_then(|a| code.find(a)));
        at.map_or((1, 1), |off| self.line_col(off))
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

    /// An error at the first `needle` inside the `nth` (0-based) `schedule:` field of the
    /// `schedules: [...]` list after the first `anchor` (an agreement's per-importer or
    /// per-sector schedules), or at [`Source::error`]'s place when that field is not found.
    pub(crate) fn error_in_rule(
        &self,
        anchor: Option<&str>,
        nth: usize,
        needle: &str,
        message: impl Into<String>,
    ) -> Error {
        // The anchor (a quoted name) is found in the code; the fields in the code with string
        // contents blanked too (same byte offsets), so that no name stops the search.
        let code = blank_comments(&self.text);
        let fields = blank_strings(&code);
        let start = anchor.and_then(|a| code.find(a)).unwrap_or(0);
        let at = field_offset(&fields, start, "schedules", 0)
            .and_then(|list| field_offset(&fields, list, "schedule", nth))
            .and_then(|field| code[field..].find(needle).map(|p| p + field));
        match at {
            Some(off) => {
                let (line, col) = self.line_col(off);
                Error::scenario(&self.path, &self.text, line, col, message)
            }
            None => self.error(anchor, needle, message),
        }
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

    fn line_col(&self, off: usize) -> (usize, usize) {
        let before = &self.text[..off];
        let line = before.matches('\n').count() + 1;
        let col = off - before.rfind('\n').map_or(0, |p| p + 1) + 1;
        (line, col)
    }

    /// An error at the field `name:` (the whole file's start when the field is absent).
    pub(crate) fn field_error(&self, name: &str, message: impl Into<String>) -> Error {
        let (line, col) = self.locate_field(name, 0).unwrap_or((1, 1));
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
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    code[from..]
        .match_indices(name)
        .map(|(k, _)| k + from)
        .filter(|&k| {
            let end = k + name.len();
            (k == 0 || !ident(b[k - 1]))
                && (end == b.len() || !ident(b[end]))
                && code[end..].trim_start().starts_with(':')
        })
        .nth(nth)
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

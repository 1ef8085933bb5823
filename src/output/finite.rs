//! The last line against silently wrong numbers: no output table is written with a NaN or an
//! infinity in it. Every table goes through [`check_rows`] before a byte is written; a
//! non-finite value stops the command with an error naming the table, the row and the column,
//! and nothing is written (the output directory is whole or absent).
//!
//! [`non_finite`] walks any `Serialize` row (structs, options, sequences) with a small serde
//! serializer that records the first `f32`/`f64` that is not finite and the row's text and
//! integer fields, which label the row in the message.

use crate::error::{Error, Result};
use serde::ser::{self, Serialize};
use std::fmt;

/// Check every row of a table before it is written: `Err` names `table`, the 1-based data row
/// (row 1 is the first line after the header), the row's keys and the offending column.
pub(crate) fn check_rows<R: Serialize>(table: &str, rows: &[R]) -> Result<()> {
    rows.iter()
        .enumerate()
        .try_for_each(|(k, r)| check_row(table, k + 1, r))
}

/// [`check_rows`] for one row, numbered `row`.
pub(crate) fn check_row<R: Serialize>(table: &str, row: usize, r: &R) -> Result<()> {
    match non_finite(r) {
        None => Ok(()),
        Some(f) => Err(Error::invalid(
            format!("{table}, row {row} ({})", f.keys.join(", ")),
            format!("{} is {}; tradesim writes no table with NaN or infinity, so nothing was written. The model produced a non-finite result: check the inputs' extremes (elasticities, rates, depth effects, shares) and report it if they are ordinary",
            f.column,
            f.value),
        )),
    }
}

/// Where a row holds a non-finite number.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NonFinite {
    /// The column (struct field) holding it, or `value` for a bare number.
    pub column: String,
    pub value: f64,
    /// `field=value` for the row's text and integer fields, to say which row it is.
    pub keys: Vec<String>,
}

/// The first non-finite number of `row`, if any.
pub(crate) fn non_finite<R: Serialize + ?Sized>(row: &R) -> Option<NonFinite> {
    // The walker's errors only stop the walk early; what it found is in `w.found`. The row's
    // keys are formatted only for a row that has a non-finite number (a second walk).
    let mut w = Walker::default();
    let _ = row.serialize(&mut w);
    w.found.as_ref()?;
    let mut w = Walker {
        with_keys: true,
        ..Walker::default()
    };
    let _ = row.serialize(&mut w);
    w.found.map(|(column, value)| NonFinite {
        column,
        value,
        keys: w.keys,
    })
}

#[derive(Default)]
struct Walker {
    field: Option<&'static str>,
    found: Option<(String, f64)>,
    with_keys: bool,
    keys: Vec<String>,
}

#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stop")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl Walker {
    fn number(&mut self, v: f64) -> Result<(), Stop> {
        if !v.is_finite() && self.found.is_none() {
            let column = self.field.unwrap_or("value").to_string();
            self.found = Some((column, v));
        }
        Ok(())
    }
    fn key(&mut self, v: &dyn fmt::Display) -> Result<(), Stop> {
        if !self.with_keys {
            return Ok(());
        }
        if let Some(f) = self.field {
            if self.keys.len() < 6 {
                self.keys.push(format!("{f} {v}"));
            }
        }
        Ok(())
    }
}

macro_rules! keys {
    ($($name:ident: $t:ty),*) => {
        $(fn $name(self, v: $t) -> Result<(), Stop> { self.key(&v) })*
    };
}

impl ser::Serializer for &mut Walker {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    keys!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
          serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
          serialize_u64: u64, serialize_char: char, serialize_str: &str);

    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.number(v as f64)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.number(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Stop> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Stop> {
        self.key(&v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Stop> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> Result<(), Stop> {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        Ok(self)
    }
}

macro_rules! elements {
    ($($tr:ident :: $m:ident),*) => {
        $(impl ser::$tr for &mut Walker {
            type Ok = ();
            type Error = Stop;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
                v.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        })*
    };
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Walker {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

macro_rules! fields {
    ($($tr:ident),*) => {
        $(impl ser::$tr for &mut Walker {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), Stop> {
                let outer = self.field.replace(key);
                let r = v.serialize(&mut **self);
                self.field = outer;
                r
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        })*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(serde::Serialize, Default)]
    struct Row {
        scenario: String,
        year: i32,
        value: f64,
        other: Option<f64>,
    }

    #[test]
    fn a_non_finite_value_is_named_with_its_row_and_column() {
        let rows = [
            Row {
                scenario: "s".into(),
                year: 2016,
                value: 1.0,
                other: None,
            },
            Row {
                scenario: "s".into(),
                year: 2017,
                value: 2.0,
                other: Some(f64::NAN),
            },
        ];
        let e = check_rows("economies.csv", &rows).unwrap_err().to_string();
        assert!(
            e.contains("economies.csv, row 2")
                && e.contains("scenario s, year 2017")
                && e.contains("other is NaN"),
            "{e}"
        );
        assert!(check_rows("x.csv", &rows[..1]).is_ok());
    }

    proptest! {
        /// Whatever the values, the check passes exactly when every number is finite, and what
        /// passes serialises to CSV with no NaN or infinity in it.
        #[test]
        fn the_check_passes_exactly_the_rows_whose_numbers_are_all_finite(
            values in prop::collection::vec(
                prop_oneof![
                    Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY),
                    -1e300f64..1e300, Just(0.0), Just(-0.0),
                ],
                1..20,
            ),
            others in prop::collection::vec(prop::option::of(prop_oneof![Just(f64::NAN), -1e3f64..1e3]), 1..20),
        ) {
            let rows: Vec<Row> = values
                .iter()
                .zip(others.iter().cycle())
                .enumerate()
                .map(|(k, (v, o))| Row { scenario: format!("s{k}"), year: 2014 + k as i32, value: *v, other: *o })
                .collect();
            let all_finite = rows.iter().all(|r| r.value.is_finite() && r.other.is_none_or(f64::is_finite));
            let checked = check_rows("t.csv", &rows);
            prop_assert_eq!(checked.is_ok(), all_finite);
            if all_finite {
                let bytes = crate::output::to_csv(&rows).unwrap();
                let text = String::from_utf8(bytes).unwrap();
                prop_assert!(!text.contains("NaN") && !text.contains("inf"), "{}", text);
            }
        }
    }
}

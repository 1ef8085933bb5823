//! The JSON Schema of the scenario format (`tradesim schema`), generated from the serde types
//! in [`super::raw`] with schemars, so it cannot drift from what the parser accepts.
//!
//! The schema describes serde's data model as JSON spells it: a RON struct `Scenario(a: 1)` is
//! the object `{"a": 1}`, a unit variant `Immediate` is the string `"Immediate"`, a newtype
//! variant `Builtin("x")` is `{"Builtin": "x"}`, a struct variant `Linear(years: 4)` is
//! `{"Linear": {"years": 4}}`, a tuple `(0, 0.5)` is the array `[0, 0.5]`.

use super::raw::RawScenario;

/// The scenario format's JSON Schema, pretty-printed.
pub fn scenario_json() -> String {
    // Serialising a schema (plain JSON values) cannot fail.
    serde_json::to_string_pretty(&scenario_schema()).unwrap_or_default()
}

/// The batch format's JSON Schema, pretty-printed.
pub fn batch_json() -> String {
    serde_json::to_string_pretty(&batch_schema()).unwrap_or_default()
}

/// The scenario format's JSON Schema (what [`scenario_json`] prints; read by `super::hint`).
pub(crate) fn scenario_schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(RawScenario);
    schema.insert(
        "description".into(),
        "A tradesim scenario file (RON; top-level value `Scenario(...)`). This schema describes serde's data model in JSON terms: RON structs are objects, enum variants are externally tagged (`Builtin(\"x\")` is {\"Builtin\": \"x\"}), tuples are arrays. See the README, \"Scenario files\".".into(),
    );
    schema
}

/// The batch format's JSON Schema (what [`batch_json`] prints).
pub(crate) fn batch_schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(super::batch::RawBatch);
    schema.insert(
        "description".into(),
        "A tradesim batch file (RON; top-level value `Batch(...)`), in serde's data model as JSON spells it. See the README, \"Batches and uncertainty\".".into(),
    );
    schema
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_names_every_top_level_field_and_schedule_kind() {
        let text = super::scenario_json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let props = v["properties"].as_object().unwrap();
        for f in [
            "name",
            "baseline",
            "base_year",
            "horizon",
            "agreements",
            "solver",
        ] {
            assert!(props.contains_key(f), "{f} missing");
        }
        assert_eq!(v["additionalProperties"], serde_json::Value::Bool(false));
        assert_eq!(v["required"], serde_json::json!(["name"]));
        for k in [
            "Immediate",
            "Linear",
            "Staged",
            "TariffRateQuota",
            "ToTariffSet",
        ] {
            assert!(text.contains(k), "{k} missing");
        }
    }

    /// The grid axes errors point into are every variant of `GridAxis`.
    #[test]
    fn the_grid_axes_named_for_errors_are_every_axis() {
        let b: serde_json::Value = serde_json::from_str(&super::batch_json()).unwrap();
        let mut names: Vec<String> = b["$defs"]["GridAxis"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| v["properties"].as_object().unwrap().keys().cloned())
            .collect();
        names.sort();
        let mut listed: Vec<String> = crate::scenario::batch::GRID_AXES
            .iter()
            .map(|s| s.to_string())
            .collect();
        listed.sort();
        assert_eq!(names, listed);
    }

    /// The one-field bounds the loaders check are in the schema too, with the same numbers,
    /// so a JSON Schema tool refuses what `tradesim check` refuses field by field
    /// (`Linear(years: 0)`, `to: 1.5`, a quota of 0, θ = 0, a year 10000).
    #[test]
    fn the_schema_carries_the_loaders_bounds() {
        use serde_json::{json, Value};
        let v: Value = serde_json::from_str(&super::scenario_json()).unwrap();
        let defs = &v["$defs"];
        // The schema of variant `name` of the enum `ty` in `defs`.
        fn variant(defs: &Value, ty: &str, name: &str) -> Value {
            defs[ty]["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|o| o["properties"].get(name).cloned())
                .unwrap_or_else(|| panic!("{ty}::{name} missing"))
        }
        let linear = variant(defs, "Schedule", "Linear");
        assert_eq!(linear["properties"]["years"]["minimum"], json!(1));
        assert_eq!(linear["properties"]["to"]["minimum"], json!(0));
        assert_eq!(linear["properties"]["to"]["maximum"], json!(1));
        let trq = variant(defs, "Schedule", "TariffRateQuota");
        assert_eq!(trq["properties"]["quota"]["exclusiveMinimum"], json!(0));
        assert_eq!(trq["properties"]["in_quota_rate"]["minimum"], json!(0));
        let given = variant(defs, "Depth", "Given");
        assert_eq!(given["properties"]["phase_in_years"]["minimum"], json!(1));
        assert_eq!(
            given["properties"]["beta"]["maximum"],
            json!(crate::policy::MAX_DEPTH_BETA)
        );
        let theta = variant(defs, "Elasticity", "Value");
        assert_eq!(theta["minimum"], json!(crate::data::THETA_RANGE.0));
        assert_eq!(theta["maximum"], json!(crate::data::THETA_RANGE.1));
        let (lo, hi) = crate::scenario::YEAR_RANGE;
        for year in [&v["properties"]["base_year"], &v["properties"]["horizon"]] {
            assert_eq!(
                (&year["minimum"], &year["maximum"]),
                (&json!(lo), &json!(hi))
            );
        }
        assert_eq!(v["properties"]["years"]["items"]["minimum"], json!(lo));
        assert_eq!(
            defs["Agreement"]["properties"]["entry_into_force"]["minimum"],
            json!(lo)
        );
        let solver = &defs["Solver"]["properties"];
        assert_eq!(solver["step"]["exclusiveMinimum"], json!(0));
        assert_eq!(solver["tolerance"]["maximum"], json!(1e-3));
        assert_eq!(solver["max_iterations"]["minimum"], json!(1));
        assert_eq!(
            defs["ProductGroup"]["properties"]["weight"]["maximum"],
            json!(1)
        );
        let b: Value = serde_json::from_str(&super::batch_json()).unwrap();
        let dist = |name: &str| variant(&b["$defs"], "Distribution", name);
        assert_eq!(dist("Normal")["properties"]["sd"]["minimum"], json!(0));
        assert_eq!(
            dist("LogNormal")["properties"]["sigma"]["minimum"],
            json!(0)
        );
    }
}

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
    let mut schema = schemars::schema_for!(RawScenario);
    schema.insert(
        "description".into(),
        "A tradesim scenario file (RON; top-level value `Scenario(...)`). This schema describes serde's data model in JSON terms: RON structs are objects, enum variants are externally tagged (`Builtin(\"x\")` is {\"Builtin\": \"x\"}), tuples are arrays. See the README, \"Scenario files\".".into(),
    );
    // Serialising a schema (plain JSON values) cannot fail.
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// The batch format's JSON Schema, pretty-printed.
pub fn batch_json() -> String {
    let mut schema = schemars::schema_for!(super::batch::RawBatch);
    schema.insert(
        "description".into(),
        "A tradesim batch file (RON; top-level value `Batch(...)`), in serde's data model as JSON spells it. See the README, \"Batches and uncertainty\".".into(),
    );
    serde_json::to_string_pretty(&schema).unwrap_or_default()
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
}

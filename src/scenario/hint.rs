//! What a field of a scenario or batch file takes, written in RON, for the parse errors that
//! stop at a field's value ("expected opening `[`" at `members: "JPN"`, an invalid identifier
//! at `schedule: Linear(10)`).
//!
//! The answer is read from the format's JSON Schema ([`super::schema`], generated from the
//! serde types the parser uses), so it names the same fields, variants and shapes the parser
//! accepts and cannot drift from them. The schema's JSON spelling is turned back into RON's:
//! an object with `properties` is a struct `(a: …, b: …)`, one whose `additionalProperties`
//! is a value type is a map `{ "…": … }`, an array is a list `[…]` (with `prefixItems`, a
//! tuple `(…, …)`), a one-key object is a struct or newtype variant `Linear(…)`, a `const`
//! string a unit variant `Immediate`.

use serde_json::{Map, Value};

/// How deep nested structs are spelt out; deeper ones are `(…)`.
const MAX_DEPTH: usize = 2;

/// What `field` takes in a `top` file (`Scenario` or `Batch`): its shape in RON and the
/// schema's description of it, e.g. for `members`: "a list, `["…", …]`: founding members
/// (economy codes of the baseline), joining at entry into force". `None` when the file type
/// has no schema here, no field has that name, or fields of that name in different places
/// take different shapes (the caller then says less).
pub(crate) fn field_takes(top: &str, field: &str) -> Option<String> {
    // As `tradesim schema` prints it (its keywords in the same order), without the text.
    let schema = serde_json::to_value(match top {
        "Scenario" => super::schema::scenario_schema(),
        "Batch" => super::schema::batch_schema(),
        _ => return None,
    })
    .ok()?;
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut found = Vec::new();
    properties_named(&schema, top, field, &mut found);
    let (first, rest) = found.split_first()?;
    let what = shape(first.1, defs);
    if rest.iter().all(|(_, p)| shape(p, defs) == what) {
        // Fields of one name in several structs (an agreement's `schedule`, a rule's, a
        // product group's) may be described differently: then the type's own description.
        let about = match description(first.1) {
            Some(d) if rest.iter().all(|(_, p)| description(p) == Some(d)) => Some(d),
            _ => description(not_null(first.1, defs)),
        };
        return Some(with_description(what, about));
    }
    // Different shapes in different places (`years` of a scenario and of `Linear`): each,
    // with where it is.
    let mut each: Vec<String> = Vec::new();
    for (owner, p) in &found {
        let one = format!(
            "in `{owner}`, {}",
            with_description(shape(p, defs), description(p))
        );
        if !each.contains(&one) {
            each.push(one);
        }
    }
    Some(format!(
        "different values in different places: {}",
        each.join("; ")
    ))
}

fn with_description(what: String, about: Option<&str>) -> String {
    match about {
        Some(d) => format!("{what}: {}", sentence_part(d)),
        None => what,
    }
}

fn description(node: &Value) -> Option<&str> {
    node.get("description").and_then(Value::as_str)
}

/// A description as part of a sentence: one line, lower-case first letter, no final stop.
fn sentence_part(d: &str) -> String {
    let d = d.split_whitespace().collect::<Vec<_>>().join(" ");
    let d = d.trim_end_matches('.');
    let mut c = d.chars();
    let first = c.next().map(|f| f.to_lowercase().to_string());
    format!("{}{}", first.unwrap_or_default(), c.as_str())
}

/// Every schema of a property named `field` in `v`, with the struct or variant it is a field
/// of (`owner`): the file's own fields (`top`), those of the structs in `$defs`, and those of
/// struct variants.
fn properties_named<'a>(
    v: &'a Value,
    owner: &'a str,
    field: &str,
    out: &mut Vec<(&'a str, &'a Value)>,
) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let owner = match k.as_str() {
                    "$defs" => {
                        if let Some(defs) = x.as_object() {
                            for (name, def) in defs {
                                properties_named(def, name, field, out);
                            }
                        }
                        continue;
                    }
                    "properties" => {
                        if let Some(props) = x.as_object() {
                            if let Some(p) = props.get(field) {
                                out.push((owner, p));
                            }
                            // A variant's data is a property named after it.
                            for (name, inner) in props {
                                let owner = if name.starts_with(char::is_uppercase) {
                                    name.as_str()
                                } else {
                                    owner
                                };
                                properties_named(inner, owner, field, out);
                            }
                        }
                        continue;
                    }
                    _ => owner,
                };
                properties_named(x, owner, field, out);
            }
        }
        Value::Array(a) => a
            .iter()
            .for_each(|x| properties_named(x, owner, field, out)),
        _ => {}
    }
}

/// The definition a `$ref` names, or the node itself.
fn resolve<'a>(node: &'a Value, defs: Option<&'a Map<String, Value>>) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs?.get(name))
        .unwrap_or(node)
}

/// `node` without its `null` alternative: an optional field takes the value itself in a file
/// read with RON's implicit `Some`.
fn not_null<'a>(node: &'a Value, defs: Option<&'a Map<String, Value>>) -> &'a Value {
    let node = resolve(node, defs);
    match node
        .get("anyOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([a, b]) if b.get("type") == Some(&Value::from("null")) => resolve(a, defs),
        _ => node,
    }
}

/// The type of a node, `null` left out of a list of types.
fn type_of(node: &Value) -> Option<&str> {
    match node.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

/// What a field of schema `prop` takes: a kind and a RON skeleton, or its variants.
fn shape(prop: &Value, defs: Option<&Map<String, Value>>) -> String {
    let node = not_null(prop, defs);
    if let Some(variants) = node.get("oneOf").and_then(Value::as_array) {
        let each: Vec<String> = variants
            .iter()
            .map(|v| format!("`{}`", ron(v, defs, 0)))
            .collect();
        return format!("one of {}", each.join(", "));
    }
    let kind = match type_of(node) {
        Some("boolean") => return "`true` or `false`".into(),
        Some("array") if node.get("prefixItems").is_none() => "a list, ",
        Some("object") if node.get("properties").is_none() => "a map, ",
        Some("string") => "a text in quotes, ",
        Some("integer") => "a whole number, ",
        Some("number") => "a number, ",
        _ => "",
    };
    format!("{kind}`{}`", ron(node, defs, 0))
}

/// A RON skeleton of a value of `node`: `N` a whole number, `X` a number, `"…"` a text.
fn ron(node: &Value, defs: Option<&Map<String, Value>>, depth: usize) -> String {
    let node = not_null(node, defs);
    if let Some(c) = node.get("const").and_then(Value::as_str) {
        return c.to_string();
    }
    if let Some(vs) = node.get("oneOf").and_then(Value::as_array) {
        // Nested, an enum shows its first variant (the field's own error lists them all).
        let shown = if depth == 0 { vs.len() } else { 1 };
        let mut each: Vec<String> = vs[..shown].iter().map(|v| ron(v, defs, depth)).collect();
        if shown < vs.len() {
            each.push("…".into());
        }
        return each.join(" or ");
    }
    match type_of(node) {
        Some("string") => "\"…\"".into(),
        Some("integer") => "N".into(),
        Some("number") => "X".into(),
        Some("boolean") => "true".into(),
        Some("array") => match node.get("prefixItems").and_then(Value::as_array) {
            Some(items) => format!(
                "({})",
                items
                    .iter()
                    .map(|i| ron(i, defs, depth + 1))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => match node.get("items") {
                Some(item) => format!("[{}, …]", ron(item, defs, depth + 1)),
                None => "[…]".into(),
            },
        },
        Some("object") => match node.get("properties").and_then(Value::as_object) {
            Some(props) => {
                // A variant with data is an object of one required key, its name.
                let required: Vec<&str> = node
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let (1, [name]) = (props.len(), required.as_slice()) {
                    if name.starts_with(char::is_uppercase) {
                        return variant(name, &props[*name], defs, depth);
                    }
                }
                fields(props, &required, defs, depth)
            }
            None => match node.get("additionalProperties") {
                Some(v) if v.is_object() => format!("{{ \"…\": {}, … }}", ron(v, defs, depth + 1)),
                _ => "{ … }".into(),
            },
        },
        _ => "…".into(),
    }
}

/// `Name(…)` for a variant with data: its fields, or its one value (`Builtin("…")`,
/// `Staged([(N, X), …])`).
fn variant(name: &str, inner: &Value, defs: Option<&Map<String, Value>>, depth: usize) -> String {
    let inner = not_null(inner, defs);
    let is_struct = type_of(inner) == Some("object") && inner.get("properties").is_some();
    let body = ron(inner, defs, depth);
    if is_struct {
        // `(a: …)` already has its parentheses.
        format!("{name}{body}")
    } else {
        format!("{name}({body})")
    }
}

/// `(a: …, b: …)` for a struct: every field of a small one; the required fields and `…`
/// for a larger one (an agreement has eleven), and `(…)` deeper than [`MAX_DEPTH`].
fn fields(
    props: &Map<String, Value>,
    required: &[&str],
    defs: Option<&Map<String, Value>>,
    depth: usize,
) -> String {
    if depth >= MAX_DEPTH {
        return "(…)".into();
    }
    // The required fields first, in the order the type declares them (the schema's
    // `required`), then, in a small struct, the others.
    let optional = props
        .keys()
        .map(String::as_str)
        .filter(|k| props.len() <= 3 && !required.contains(k));
    let mut shown: Vec<String> = required
        .iter()
        .copied()
        .chain(optional)
        .filter_map(|k| Some(format!("{k}: {}", ron(props.get(k)?, defs, depth + 1))))
        .collect();
    if shown.len() < props.len() {
        shown.push("…".into());
    }
    format!("({})", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::field_takes;

    #[test]
    fn a_list_a_map_and_a_struct_are_spelt_in_ron() {
        let members = field_takes("Scenario", "members").unwrap();
        assert!(
            members.starts_with("a list, `[\"…\", …]`: founding members"),
            "{members}"
        );
        let elasticities = field_takes("Scenario", "elasticities").unwrap();
        assert!(
            elasticities.starts_with("a map, `{ \"…\": Value(X) or …, … }`: trade elasticities"),
            "{elasticities}"
        );
        let agreements = field_takes("Scenario", "agreements").unwrap();
        assert!(
            agreements.starts_with(
                "a list, `[(name: \"…\", entry_into_force: N, members: [\"…\", …], …), …]`"
            ),
            "{agreements}"
        );
    }

    #[test]
    fn an_enum_lists_its_variants_with_their_fields() {
        let schedule = field_takes("Scenario", "schedule").unwrap();
        for v in [
            "`Immediate`",
            "`Linear(years: N, to: X)`",
            "`Staged([(N, X), …])`",
            "`Excluded`",
            "`Path([(N, X), …])`",
            "`TariffRateQuota(",
        ] {
            assert!(schedule.contains(v), "{v} in {schedule}");
        }
        assert!(schedule.starts_with("one of `Immediate`"), "{schedule}");
    }

    #[test]
    fn a_field_of_different_shapes_in_different_places_names_each() {
        // `years`: a list of calendar years in a scenario, a count in `Linear`.
        let years = field_takes("Scenario", "years").unwrap();
        assert!(
            years.contains("in `Scenario`, a list, `[N, …]`: solve only these years")
                && years.contains("in `Linear`, a whole number, `N`: the number of annual cuts"),
            "{years}"
        );
        let accessions = field_takes("Scenario", "accessions").unwrap();
        assert!(
            accessions.contains("in `Scenario`, a map, `{ \"…\": { \"…\": N, … }, … }`")
                && accessions
                    .contains("in `Agreement`, a map, `{ \"…\": N, … }`: members joining later"),
            "{accessions}"
        );
    }

    #[test]
    fn an_unknown_field_or_file_type_has_no_hint() {
        assert_eq!(field_takes("Scenario", "no_such_field"), None);
        assert_eq!(field_takes("StructuralGravity", "members"), None);
        assert!(field_takes("Batch", "scenarios").is_some());
    }
}

//! Corrections of the generated request schemas that utoipa's attributes
//! cannot make: defaults a client may not send, PATCH bodies derived from the
//! create bodies they share a type with, and `minProperties`.

use utoipa::{
    Modify,
    openapi::{Object, RefOr, Schema, Type, schema::SchemaType},
};

/// Request bodies read with `#[serde(default)]` get every field's `Default`
/// as its documented default, also where that value is not one a client may
/// send (`client_id: 0`, `pickup: null`): such defaults are dropped, so the
/// document never offers a value the service refuses. A required field has
/// no default.
pub(super) struct Defaults;

impl Modify for Defaults {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::Object(object)) = schema else { continue };
            for (name, property) in object.properties.iter_mut() {
                let required = object.required.contains(name);
                match property {
                    RefOr::T(Schema::Object(p)) if required || p.default.as_ref().is_some_and(|d| !default_is_valid(d, p)) => {
                        p.default = None;
                    }
                    RefOr::T(Schema::OneOf(o)) if required || o.default.as_ref().is_some_and(serde_json::Value::is_null) => {
                        o.default = None;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Whether `default` passes the simple constraints of `property`: its type
/// (`null` only where `null` is a type), bounds, length and values.
fn default_is_valid(default: &serde_json::Value, property: &Object) -> bool {
    let number = |n: &Option<utoipa::Number>| {
        n.as_ref().map(|n| match *n {
            utoipa::Number::Int(i) => i as f64,
            utoipa::Number::UInt(u) => u as f64,
            utoipa::Number::Float(f) => f,
        })
    };
    match default {
        serde_json::Value::Null => match &property.schema_type {
            SchemaType::Type(t) => *t == Type::Null,
            SchemaType::Array(types) => types.contains(&Type::Null),
            SchemaType::AnyValue => true,
        },
        serde_json::Value::Number(n) => {
            let n = n.as_f64().unwrap_or_default();
            number(&property.minimum).is_none_or(|min| n >= min) && number(&property.maximum).is_none_or(|max| n <= max)
        }
        serde_json::Value::String(text) => {
            property.enum_values.as_ref().is_none_or(|e| e.contains(default))
                && property.min_length.is_none_or(|min| text.chars().count() >= min)
        }
        _ => true,
    }
}

/// The PATCH bodies of the dispatch routes: a create body's schema (the same
/// type is read for both), with only the fields the service lets a PATCH
/// change (its `*_PATHS`), none of them required and one at least. A PATCH
/// names what it changes, so `null` is not a value there.
const PATCHES: [(&str, &str, &[&str], &str); 3] = [
    (
        "DriverBody",
        "DriverPatch",
        &["name", "phone", "vehicle_kind", "seats", "wheelchair_places", "shift_start_minute", "shift_end_minute", "depot", "status"],
        r#"{"status": "off_duty"}"#,
    ),
    ("ClientBody", "ClientPatch", &["name", "phone", "address", "location", "mobility", "notes"], r#"{"phone": "+41 22 555 98 76"}"#),
    (
        "BookingBody",
        "BookingPatch",
        &[
            "pickup_address",
            "pickup",
            "dropoff_address",
            "dropoff",
            "pickup_earliest",
            "pickup_latest",
            "appointment_time",
            "passengers",
            "mobility",
            "boarding_minutes",
            "will_call",
            "notes",
        ],
        r#"{"notes": "Ring twice", "passengers": 2}"#,
    ),
];

/// PATCH bodies of their own type: the service refuses an empty one. (Set
/// here: utoipa 5.5 writes `#[schema(min_properties = …)]` as `maxProperties`.)
const OWN_PATCHES: [&str; 2] = ["BugPatch", "CompanyPatch"];

pub(super) struct Patches;

impl Modify for Patches {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for name in OWN_PATCHES {
            if let Some(RefOr::T(Schema::Object(patch))) = components.schemas.get_mut(name) {
                patch.min_properties = Some(1);
            }
        }
        for (from, to, fields, example) in PATCHES {
            let Some(RefOr::T(Schema::Object(source))) = components.schemas.get(from) else { continue };
            let mut patch = source.clone();
            patch.required.clear();
            patch.min_properties = Some(1);
            patch.description = Some(format!("The fields to change, one at least (see `{from}`)."));
            patch.properties.retain(|name, _| fields.contains(&name.as_str()));
            patch.example = serde_json::from_str(example).ok();
            for property in patch.properties.values_mut() {
                not_null(property);
            }
            components.schemas.insert(to.to_owned(), RefOr::T(Schema::Object(patch)));
        }
    }
}

/// `property` without `null` among its types and without a default.
fn not_null(property: &mut RefOr<Schema>) {
    match property {
        RefOr::T(Schema::Object(p)) => {
            p.default = None;
            if let SchemaType::Array(types) = &p.schema_type {
                let kept: Vec<Type> = types.iter().filter(|t| **t != Type::Null).cloned().collect();
                p.schema_type = match kept.as_slice() {
                    [only] => SchemaType::Type(only.clone()),
                    _ => SchemaType::Array(kept),
                };
            }
        }
        RefOr::T(Schema::OneOf(o)) => {
            o.default = None;
            o.items.retain(|item| !matches!(item, RefOr::T(Schema::Object(n)) if n.schema_type == SchemaType::Type(Type::Null)));
            if let [only] = o.items.as_slice() {
                *property = only.clone();
            }
        }
        _ => {}
    }
}

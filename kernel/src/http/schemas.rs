//! Schemas utoipa cannot derive from a field's type alone: a rule on the items of a list or on
//! the keys of a map, used as `#[schema(schema_with = ...)]`, and the components of model types
//! sent as text (`Timezone`, `TimeOfDay`), used as `#[schema(value_type = ...)]`, so the
//! document states every rule the server checks.

use std::borrow::Cow;

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

use crate::model::{TimeOfDay, Timezone};

/// `Timezone`: every IANA name the server knows, spelled exactly (so a client or a fuzzer may
/// send any of them).
impl utoipa::PartialSchema for Timezone {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "An IANA time zone name, spelled as in the tz database (`Europe/Paris`, `UTC`).",
            ))
            .enum_values(Some(Timezone::names()))
            .examples(["Europe/Paris"])
            .into()
    }
}

impl utoipa::ToSchema for Timezone {
    fn name() -> Cow<'static, str> {
        "Timezone".into()
    }
}

/// `TimeOfDay`: `HH:MM` on a 24-hour clock.
impl utoipa::PartialSchema for TimeOfDay {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A local time of day, `HH:MM` from `00:00` to `23:59`.",
            ))
            .pattern(Some(TimeOfDay::PATTERN))
            .examples(["15:00"])
            .into()
    }
}

impl utoipa::ToSchema for TimeOfDay {
    fn name() -> Cow<'static, str> {
        "TimeOfDay".into()
    }
}

/// `photo_urls`: at most 30 http(s) URLs (a host of dotted labels, an optional port and path).
pub fn photo_urls() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
                .max_length(Some(crate::domain::listings::MAX_PHOTO_URL_BYTES))
                .pattern(Some(
                    r"^https?://[A-Za-z0-9]+(\.[A-Za-z0-9]+)*(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~/-]*)?$",
                )),
        )
        .max_items(Some(crate::domain::listings::MAX_PHOTOS))
}

/// `photo_urls` in a patch: the same, or `null` to leave them as they are.
pub fn photo_urls_or_null() -> ArrayBuilder {
    photo_urls().schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
}

/// `sub_ratings`: the named sub-ratings, each 1 to 5.
pub fn sub_ratings() -> ObjectBuilder {
    let rating: RefOr<Schema> = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(5))
        .into();
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for name in crate::domain::reviews::SUB_RATINGS {
        object = object.property(*name, rating.clone());
    }
    object.additional_properties(Some(
        utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
    ))
}

//! Schemas utoipa cannot derive from a field's type alone: a rule on the items of a list or on
//! the keys of a map. Used as `#[schema(schema_with = ...)]` so the document states every rule
//! the server checks.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

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

//! The schemas of request fields, as strict as the checks the services make
//! (`kit::input` and each service's own): a value documented here is one the
//! service accepts, so a client (or schemathesis) that follows the document is
//! not refused for its shape. For `#[schema(schema_with = …)]`,
//! `#[param(schema_with = …)]` and, as types, `params(("id" = inline(…), Path))`.

use utoipa::openapi::{
    Array, KnownFormat, Object, ObjectBuilder, SchemaFormat, Type,
    schema::{ArrayBuilder, SchemaType},
};

/// No control character (Unicode Cc, which `char::is_control` refuses).
const NO_CONTROL: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";
/// A single line with at least one character that is not white space.
const NOT_BLANK: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
/// Text that may span lines: no control character but tab, line feed and carriage return.
const MULTI_LINE: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";
/// The same with at least one character that is not white space.
const NOT_BLANK_TEXT: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";

fn string(min: usize, max: usize, pattern: &str) -> Object {
    ObjectBuilder::new().schema_type(Type::String).min_length((min > 0).then_some(min)).max_length(Some(max)).pattern(Some(pattern)).build()
}

/// A required single-line text of 1 to `MAX` characters (`kit::input::required_line`).
pub fn line<const MAX: usize>() -> Object {
    string(1, MAX, NOT_BLANK)
}

/// A single-line text of at most `MAX` characters, may be empty (`kit::input::optional_line`).
pub fn optional_line<const MAX: usize>() -> Object {
    string(0, MAX, NO_CONTROL)
}

/// A text of at most `MAX` characters that may span lines (`kit::input::long_text`).
pub fn text<const MAX: usize>() -> Object {
    string(0, MAX, MULTI_LINE)
}

/// A text of 1 to `MAX` characters that may span lines, not only white space.
pub fn required_text<const MAX: usize>() -> Object {
    string(1, MAX, NOT_BLANK_TEXT)
}

/// One of a vocabulary's JSON names, given in proto order: index 0, the
/// proto's UNSPECIFIED, is not a value a client may send.
pub fn one_of(names: &[&str]) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names.iter().skip(1).copied())).build()
}

/// A comma-separated list of a vocabulary's names in a query
/// (`style: form, explode: false`: `?status=open,closed`).
pub fn list_of(names: &[&str]) -> Array {
    ArrayBuilder::new().items(one_of(names)).build()
}

fn formatted(format: SchemaFormat) -> Object {
    ObjectBuilder::new().schema_type(Type::String).format(Some(format)).build()
}

/// A calendar day, `YYYY-MM-DD`.
pub fn date() -> Object {
    formatted(SchemaFormat::KnownFormat(KnownFormat::Date))
}

/// An RFC 3339 time.
pub fn date_time() -> Object {
    formatted(SchemaFormat::KnownFormat(KnownFormat::DateTime))
}

/// An id notify made: a UUID, lower-case, as notify writes it.
pub fn uuid() -> Object {
    let mut o = formatted(SchemaFormat::Custom("uuid".to_owned()));
    o.pattern = Some(UUID.to_owned());
    o
}

/// A notification channel: a channel's id, or `log`, the built-in channel.
pub fn channel() -> Object {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(format!("^(log|{})$", &UUID[1..UUID.len() - 1]))).build()
}

const UUID: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/// `schema` or `null`.
pub fn nullable(schema: Object) -> Object {
    let mut schema = schema;
    if let SchemaType::Type(t) = schema.schema_type {
        schema.schema_type = SchemaType::from_iter([t, Type::Null]);
    }
    schema
}

/// A path id that notify made (a UUID).
pub struct NotifyId;

impl utoipa::PartialSchema for NotifyId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        uuid().into()
    }
}

impl utoipa::ToSchema for NotifyId {}

/// A path id of a notification channel, or `log`.
pub struct ChannelId;

impl utoipa::PartialSchema for ChannelId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        channel().into()
    }
}

impl utoipa::ToSchema for ChannelId {}

//! Request bodies: stricter extractors than poem's own `Form` and `Json`. Both cap
//! the body at [`BODY_LIMIT`] (poem reads any size) and check the content type. A
//! form refuses invalid UTF-8 (poem replaces it silently) and leaves missing fields
//! empty, so the handler can say which one is missing next to the field instead of
//! a bare 400. A JSON body tells apart "not JSON" (400) from "not the right shape"
//! (422).

use percent_encoding::percent_decode;
use poem::http::header;
use poem::{FromRequest, Request, RequestBody};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Largest request body Hearth reads (64 KiB); larger ones get 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// An urlencoded form (`application/x-www-form-urlencoded`), as `T`.
pub struct Form<T>(pub T);

impl<'a, T: DeserializeOwned> FromRequest<'a> for Form<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let not_a_form = AppError::BadRequest("the body must be an urlencoded form");
        let bytes = read(req, body, "application/x-www-form-urlencoded", not_a_form).await?;
        Ok(Form(decode(bytes.as_ref())?))
    }
}

/// A JSON object (`application/json`), as `T`.
pub struct JsonBody<T>(pub T);

impl<'a, T: DeserializeOwned> FromRequest<'a> for JsonBody<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = read(req, body, "application/json", AppError::UnsupportedMediaType).await?;
        Ok(JsonBody(decode_json(bytes.as_ref())?))
    }
}

/// The whole body, when its content type is `mime` and it is within the limit;
/// `wrong_type` otherwise.
async fn read(
    req: &Request,
    body: &mut RequestBody,
    mime: &str,
    wrong_type: AppError,
) -> Result<impl AsRef<[u8]>, AppError> {
    let content_type = req.header(header::CONTENT_TYPE).and_then(|value| value.split(';').next());
    if !content_type.is_some_and(|given| given.trim().eq_ignore_ascii_case(mime)) {
        return Err(wrong_type);
    }
    let body = body.take().map_err(|_| AppError::BadRequest("the body could not be read"))?;
    body.into_bytes_limit(BODY_LIMIT).await.map_err(|err| match err {
        poem::error::ReadBodyError::PayloadTooLarge => AppError::PayloadTooLarge,
        _ => AppError::BadRequest("the body could not be read"),
    })
}

/// A JSON body as `T`. Every body the API takes is an object: serde would also fill
/// a struct from an array (`["hi"]`), which no client means.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| AppError::BadRequest("the body is not valid JSON"))?;
    if !value.is_object() {
        return Err(AppError::Unprocessable("the body must be a JSON object"));
    }
    serde_json::from_value(value)
        .map_err(|_| AppError::Unprocessable("the JSON does not have the expected fields"))
}

/// An urlencoded body as `T`, refusing what serde_urlencoded would let through
/// changed: invalid UTF-8 (it substitutes U+FFFD).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if !decodes_as_utf8(body) {
        return Err(AppError::BadRequest("the form is not valid UTF-8"));
    }
    serde_urlencoded::from_bytes(body).map_err(|_| AppError::BadRequest("the form is malformed"))
}

fn decodes_as_utf8(body: &[u8]) -> bool {
    body.split(|&b| b == b'&' || b == b'=').all(|part| percent_decode(part).decode_utf8().is_ok())
}

#[cfg(test)]
mod tests {
    use super::decodes_as_utf8;

    #[test]
    fn invalid_utf8_is_noticed_after_percent_decoding() {
        assert!(decodes_as_utf8(b"name=Z%C3%BCrich&email=a%40b.c"));
        assert!(!decodes_as_utf8(b"name=%FF%FE"));
        assert!(!decodes_as_utf8(b"%C3=x"));
    }
}

//! A stricter form extractor than poem's own `Form`: it caps the body at
//! [`BODY_LIMIT`] (poem reads any size), refuses invalid UTF-8 (poem replaces it
//! silently), and leaves missing fields empty so the handler can say which one is
//! missing next to the field, instead of a bare 400.

use percent_encoding::percent_decode;
use poem::http::header;
use poem::{FromRequest, Request, RequestBody};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Largest request body Hearth reads (64 KiB); larger ones get 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub struct Form<T>(pub T);

impl<'a, T: DeserializeOwned> FromRequest<'a> for Form<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let is_form =
            req.header(header::CONTENT_TYPE).and_then(|value| value.split(';').next()).is_some_and(
                |mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"),
            );
        if !is_form {
            return Err(AppError::BadRequest("the body must be an urlencoded form").into());
        }
        let bytes = body.take()?.into_bytes_limit(BODY_LIMIT).await.map_err(|err| match err {
            poem::error::ReadBodyError::PayloadTooLarge => AppError::PayloadTooLarge,
            _ => AppError::BadRequest("the body could not be read"),
        })?;
        Ok(Form(decode(&bytes)?))
    }
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

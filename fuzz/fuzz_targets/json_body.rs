//! An API body: a message only from a JSON object with a string `body`.
#![no_main]

use hearth::api::NewMessage;
use hearth::web::form::decode_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let value = serde_json::from_slice::<serde_json::Value>(body).ok();
    let expected = value.as_ref().and_then(|v| v.as_object()?.get("body")?.as_str());
    match decode_json::<NewMessage>(body) {
        Ok(message) => assert_eq!(Some(message.body.as_str()), expected, "{value:?}"),
        Err(_) => assert_eq!(expected, None, "refused {value:?}"),
    }
});

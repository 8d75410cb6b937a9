//! An urlencoded body: decoded exactly as sent, or refused; never silently changed.
#![no_main]

use hearth::web::form::decode;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode;

fuzz_target!(|body: &[u8]| {
    let strict = strictly_decoded(body);
    match decode::<Vec<(String, String)>>(body) {
        Ok(pairs) => assert_eq!(Some(pairs), strict, "{body:?}"),
        Err(_) => assert_eq!(strict, None, "refused a good body {body:?}"),
    }
});

/// The pairs as the HTML standard reads them, failing on invalid UTF-8 instead of
/// replacing it.
fn strictly_decoded(body: &[u8]) -> Option<Vec<(String, String)>> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            Some((strict(name)?, strict(value)?))
        })
        .collect()
}

fn strict(part: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = part.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_decode(&spaced).decode_utf8().ok().map(|s| s.into_owned())
}

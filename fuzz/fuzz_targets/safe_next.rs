//! `next` after sign-in: whatever is asked for, the browser must stay on Hearth or
//! go to the one other host allowed (`FORWARD_AUTH_HOSTS`).
#![no_main]

use hearth::web::redirect::safe_next;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|next: &str| {
    let chosen = safe_next(Some(next), &["tools.example".to_owned()]);
    assert!(chosen == next || chosen == "/dashboard");
    // A browser resolves `Location` against the page's address with the WHATWG URL
    // rules, which the url crate implements: the result must be Hearth's own origin,
    // or the allowed host's.
    let here = Url::parse("https://hearth.example/login").expect("a valid base");
    if let Ok(there) = here.join(chosen) {
        let allowed = there.host_str() == Some("tools.example")
            && there.port().is_none()
            && there.username().is_empty()
            && there.password().is_none();
        assert!(there.origin() == here.origin() || allowed, "next={next:?} leaves for {there}");
    }
});

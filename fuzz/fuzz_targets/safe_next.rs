//! `next` after sign-in: whatever is asked for, the browser must stay on Hearth.
#![no_main]

use hearth::web::redirect::safe_next;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|next: &str| {
    let chosen = safe_next(Some(next));
    assert!(chosen == next || chosen == "/dashboard");
    // A browser resolves `Location` against the page's address with the WHATWG URL
    // rules, which the url crate implements: the result must be Hearth's own origin.
    let here = Url::parse("https://hearth.example/login").expect("a valid base");
    if let Ok(there) = here.join(chosen) {
        assert_eq!(there.origin(), here.origin(), "next={next:?} leaves Hearth for {there}");
    }
});

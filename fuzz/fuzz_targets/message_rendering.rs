//! A message as everyone in the room sees it: the only markup in it is Hearth's own
//! links to http(s) addresses, and the text reads back exactly as it was typed.
#![no_main]

use hearth::chat::body::MessageBody;
use hearth::chat::views::linkify;
use libfuzzer_sys::fuzz_target;

const OPEN: &str = "<a href=\"";
const ATTRIBUTES: &str = "\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">";
const CLOSE: &str = "</a>";

fuzz_target!(|typed: &str| {
    let Ok(body) = MessageBody::parse(typed) else { return };
    let html = linkify(body.as_str()).into_string();
    let mut text = String::new();
    let mut rest = html.as_str();
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        let link = rest[at..].strip_prefix(OPEN).unwrap_or_else(|| panic!("markup in {html:?}"));
        let (href, after) = link.split_once(ATTRIBUTES).expect("the link's attributes");
        let (label, after) = after.split_once(CLOSE).expect("a closed link");
        assert_eq!(href, label);
        assert!(!href.contains(['<', '>', '"', '\'']), "unescaped {href:?}");
        let url = unescape(href);
        assert!(url.starts_with("https://") || url.starts_with("http://"), "{url:?}");
        assert!(!url.chars().any(char::is_whitespace), "{url:?}");
        text.push_str(label);
        rest = after;
    }
    text.push_str(rest);
    assert!(!text.contains(['>', '"', '\'']), "unescaped text in {html:?}");
    assert_eq!(unescape(&text), body.as_str());
});

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

//! A message's text as HTML: the Markdown people type in chats (bold, italic,
//! strikethrough, inline code, code blocks, quotes, lists, links), with bare web
//! addresses made links, line breaks kept, and mentions marked with whom they name
//! (`<span class="mention" data-user="…">`). The database keeps the text as typed;
//! this runs once per rendering, never per recipient.
//!
//! Two layers keep it safe. pulldown-cmark's events are filtered first: raw HTML
//! comes out as text, images as links (no picture loads from elsewhere), headings
//! as bold lines, and every link is written here, with `rel` and `target`. Then
//! ammonia passes only an allow-list of tags and attributes and `http`, `https` and
//! `mailto` addresses, so no event this filter missed can put script in the page.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

use super::mentions;

/// The sanitiser, built once.
static ALLOWED: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags = [
        "p",
        "br",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "span",
    ];
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(tags))
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href", "rel", "target"])),
            ("ol", HashSet::from(["start"])),
            ("span", HashSet::from(["class", "data-user"])),
        ]))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(None);
    builder
});

/// `text`, which mentions `mentioned` (id, name), as safe HTML.
pub fn to_html(text: &str, mentioned: &[(i64, String)]) -> String {
    let mut html = String::with_capacity(text.len() + 32);
    html::push_html(&mut html, Filter::new(text, mentioned));
    let clean = ALLOWED.clean(&html).to_string();
    // Attributes come out double-quoted; an apostrophe is escaped anyway, so the
    // text never holds a quote that could end an attribute quoted the other way.
    clean.trim_end().replace('\'', "&#39;")
}

/// pulldown-cmark's events, changed as the module says, with consecutive text
/// joined so that an address split across events is still found whole.
struct Filter<'a> {
    events: Parser<'a>,
    /// Events made from one of the parser's, waiting to be handed out.
    ready: std::collections::VecDeque<Event<'a>>,
    /// Inside a code block or a link: text stays as it is.
    verbatim: u32,
    /// Whom the text mentions.
    mentioned: &'a [(i64, String)],
}

impl<'a> Filter<'a> {
    fn new(text: &'a str, mentioned: &'a [(i64, String)]) -> Self {
        let events = Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH);
        Filter { events, ready: Default::default(), verbatim: 0, mentioned }
    }

    /// Plain text, with its mentions marked.
    fn plain(&mut self, text: &str) {
        let mut done = 0;
        for (start, end, id) in mentions::occurrences(text, self.mentioned) {
            if start > done {
                self.ready.push_back(Event::Text(CowStr::from(text[done..start].to_owned())));
            }
            let open = format!(r#"<span class="mention" data-user="{id}">"#);
            self.ready.push_back(Event::Html(CowStr::from(open)));
            self.ready.push_back(Event::Text(CowStr::from(text[start..end].to_owned())));
            self.ready.push_back(Event::Html(CowStr::Borrowed("</span>")));
            done = end;
        }
        if done < text.len() {
            self.ready.push_back(Event::Text(CowStr::from(text[done..].to_owned())));
        }
    }

    fn link_start(&mut self, href: &str) -> Event<'a> {
        self.verbatim += 1;
        Event::Html(CowStr::from(format!(
            r#"<a href="{}" rel="nofollow noopener noreferrer" target="_blank">"#,
            attribute(href)
        )))
    }

    /// Text, with its web addresses made links (outside code and links).
    fn text(&mut self, text: CowStr<'a>) {
        if self.verbatim > 0 {
            self.ready.push_back(Event::Text(text));
            return;
        }
        for (plain, link) in pieces(&text) {
            self.plain(plain);
            if let Some(url) = link {
                let start = self.link_start(url);
                self.verbatim -= 1;
                self.ready.push_back(start);
                self.ready.push_back(Event::Text(CowStr::from(url.to_owned())));
                self.ready.push_back(Event::Html(CowStr::Borrowed("</a>")));
            }
        }
    }
}

impl<'a> Iterator for Filter<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            let event = self.events.next()?;
            let made = match event {
                // Raw HTML is shown as the text it is, addresses and all.
                Event::Text(first) | Event::Html(first) | Event::InlineHtml(first) => {
                    let mut joined = first.into_string();
                    // Peeking would need a second iterator: collect the run instead.
                    let mut after = None;
                    for next in self.events.by_ref() {
                        match next {
                            Event::Text(more) | Event::Html(more) | Event::InlineHtml(more) => {
                                joined.push_str(&more)
                            }
                            other => {
                                after = Some(other);
                                break;
                            }
                        }
                    }
                    self.text(CowStr::from(joined));
                    if let Some(after) = after {
                        let event = self.change(after);
                        self.ready.push_back(event);
                    }
                    continue;
                }
                other => self.change(other),
            };
            return Some(made);
        }
    }
}

impl<'a> Filter<'a> {
    /// One event (not text) as it is rendered here.
    fn change(&mut self, event: Event<'a>) -> Event<'a> {
        match event {
            Event::SoftBreak => Event::HardBreak,
            // `<someone@example.org>` arrives without its scheme.
            Event::Start(Tag::Link { link_type: LinkType::Email, dest_url, .. }) => {
                self.link_start(&format!("mailto:{dest_url}"))
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                self.link_start(&dest_url)
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                self.verbatim = self.verbatim.saturating_sub(1);
                Event::Html(CowStr::Borrowed("</a>"))
            }
            Event::Start(Tag::CodeBlock(_)) => {
                self.verbatim += 1;
                Event::Html(CowStr::Borrowed("<pre><code>"))
            }
            Event::End(TagEnd::CodeBlock) => {
                self.verbatim = self.verbatim.saturating_sub(1);
                Event::Html(CowStr::Borrowed("</code></pre>"))
            }
            Event::Start(Tag::Heading { .. }) => Event::Html(CowStr::Borrowed("<p><strong>")),
            Event::End(TagEnd::Heading(_)) => Event::Html(CowStr::Borrowed("</strong></p>")),
            Event::Rule => Event::Text(CowStr::Borrowed("———")),
            other => other,
        }
    }
}

/// `value` for a double-quoted attribute.
fn attribute(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The text split at its web addresses: each piece is the text up to an address,
/// and the address (`None` for the text after the last one).
fn pieces(text: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        let Some(start) = find_link(text) else {
            rest = None;
            return Some((text, None));
        };
        let (plain, tail) = text.split_at(start);
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        // Punctuation after an address usually ends the sentence, not the address.
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'', '"']);
        rest = Some(&tail[url.len()..]);
        Some((plain, Some(url)))
    })
}

fn find_link(text: &str) -> Option<usize> {
    let candidates = [text.find("https://"), text.find("http://")];
    candidates.into_iter().flatten().min().filter(|&i| {
        let after = text[i..].trim_start_matches("https://").trim_start_matches("http://");
        after.chars().next().is_some_and(|c| c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::to_html as with_mentions;

    fn to_html(text: &str) -> String {
        with_mentions(text, &[])
    }

    #[test]
    fn bare_links_are_made_clickable_and_markup_is_text() {
        assert_eq!(
            to_html("see https://example.org/a?b=1&c=2. <script>alert(1)</script>"),
            "<p>see <a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\" \
             target=\"_blank\">https://example.org/a?b=1&amp;c=2</a>. &lt;script&gt;alert(1)&lt;/script&gt;</p>"
        );
        assert_eq!(to_html("http:// nope"), "<p>http:// nope</p>");
        assert_eq!(to_html("javascript:alert(1)"), "<p>javascript:alert(1)</p>");
        assert_eq!(to_html("it's <b>"), "<p>it&#39;s &lt;b&gt;</p>");
        // A line CommonMark takes for an HTML block is text too, links included.
        assert_eq!(
            to_html("<script>x</script> https://example.org"),
            "&lt;script&gt;x&lt;/script&gt; <a href=\"https://example.org\" \
             rel=\"nofollow noopener noreferrer\" target=\"_blank\">https://example.org</a>"
        );
    }

    #[test]
    fn the_markdown_people_type_in_chats_is_formatted() {
        assert_eq!(
            to_html("**bold** _it_ ~~gone~~ `x < y`"),
            "<p><strong>bold</strong> <em>it</em> <del>gone</del> <code>x &lt; y</code></p>"
        );
        assert_eq!(to_html("one\ntwo"), "<p>one<br>\ntwo</p>");
        assert_eq!(to_html("> quoted"), "<blockquote>\n<p>quoted</p>\n</blockquote>");
        assert_eq!(to_html("- a\n- b"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>");
        assert_eq!(to_html("3. c\n4. d"), "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>");
        assert_eq!(
            to_html("```\nfn main() { <a> https://x.org }\n```"),
            "<pre><code>fn main() { &lt;a&gt; https://x.org }\n</code></pre>"
        );
        assert_eq!(to_html("# Title"), "<p><strong>Title</strong></p>");
    }

    #[test]
    fn mentions_are_marked_with_whom_they_name_outside_code() {
        let ada = [(7, "Ada Lovelace".to_owned())];
        assert_eq!(
            with_mentions("hi @ada lovelace, see `@Ada Lovelace`", &ada),
            "<p>hi <span class=\"mention\" data-user=\"7\">@ada lovelace</span>, see <code>@Ada Lovelace</code></p>"
        );
    }

    #[test]
    fn links_are_only_to_the_web_and_pictures_are_not_loaded() {
        let link = to_html("[docs](https://example.org/d)");
        assert_eq!(
            link,
            "<p><a href=\"https://example.org/d\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">docs</a></p>"
        );
        for hostile in ["[x](javascript:alert(1))", "[x](/logout)", "[x](data:text/html,hi)"] {
            let html = to_html(hostile);
            assert!(!html.contains("href"), "{hostile}: {html}");
        }
        assert!(to_html("<ada@example.org>").contains(r#"href="mailto:ada@example.org""#));
        let picture = to_html("![cat](https://example.org/cat.png)");
        assert!(!picture.contains("<img") && picture.contains(">cat</a>"), "{picture}");
        let raw = to_html("<img src=x onerror=alert(1)><a href=\"javascript:x\">y</a>");
        assert!(!raw.contains("<img") && !raw.contains("<a "), "{raw}");
    }
}

//! The part of a found message shown in the results, with the words that matched
//! marked. Made here rather than by each database (`snippet()`, `ts_headline`):
//! one behaviour on both, and the text stays text until maud escapes it.

use super::query::{Query, Term};

/// About how many characters of a long message a snippet shows, and at most how
/// many of them come before the first match.
const WINDOW: usize = 160;
const BEFORE: usize = 60;

/// A piece of a snippet: text, and whether it is a word that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

/// The snippet of `body` for `query`: the whole message when it is short,
/// otherwise about [`WINDOW`] characters around the first match, with `…` where
/// it was cut.
pub fn snippet(body: &str, query: &Query) -> Vec<Piece> {
    let words = word_spans(body);
    let hits: Vec<bool> = words.iter().map(|&(s, e)| matches(&body[s..e], query)).collect();
    let (start, end) = window(body, &words, &hits);
    let mut pieces = Vec::new();
    if start > 0 {
        pieces.push(Piece { text: "…".to_owned(), hit: false });
    }
    let mut at = start;
    for (&(s, e), _) in
        words.iter().zip(&hits).filter(|(span, hit)| **hit && span.0 >= start && span.1 <= end)
    {
        if s > at {
            pieces.push(Piece { text: body[at..s].to_owned(), hit: false });
        }
        pieces.push(Piece { text: body[s..e].to_owned(), hit: true });
        at = e;
    }
    if end > at {
        pieces.push(Piece { text: body[at..end].to_owned(), hit: false });
    }
    if end < body.len() {
        pieces.push(Piece { text: "…".to_owned(), hit: false });
    }
    pieces
}

/// The snippet as plain text (for the API).
pub fn plain(pieces: &[Piece]) -> String {
    pieces.iter().map(|p| p.text.as_str()).collect()
}

/// Byte ranges of the words of `text` (runs of letters and digits).
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// Whether one word of a message is one the query looks for.
fn matches(word: &str, query: &Query) -> bool {
    let word = word.to_lowercase();
    query.terms().iter().any(|term| match term {
        Term::Word { word: w, prefix: true } => word.starts_with(w.as_str()),
        Term::Word { word: w, prefix: false } => word == *w,
        Term::Phrase(words) => words.contains(&word),
    })
}

/// The byte range to show: all of a short body, or about [`WINDOW`] characters
/// from a few words (at most [`BEFORE`] characters) before the first hit, on word
/// boundaries where the words allow, on character boundaries always.
fn window(body: &str, words: &[(usize, usize)], hits: &[bool]) -> (usize, usize) {
    if body.chars().count() <= WINDOW {
        return (0, body.len());
    }
    let first = hits.iter().position(|h| *h).unwrap_or(0);
    let hit_start = words.get(first).map_or(0, |w| w.0);
    // A few words of what came before, for context.
    let mut from = first;
    while from > 0
        && first - from < 4
        && body[words[from - 1].0..hit_start].chars().count() <= BEFORE
    {
        from -= 1;
    }
    let start = if from == 0 && body[..hit_start].chars().count() <= BEFORE {
        0
    } else {
        words.get(from).map_or(0, |w| w.0)
    };
    let mut end = start;
    for &(_, e) in words.iter().skip(from) {
        if body[start..e].chars().count() > WINDOW {
            break;
        }
        end = e;
    }
    // No whole word fits: cut inside it.
    if end <= hit_start {
        end = body[start..].char_indices().nth(WINDOW).map_or(body.len(), |(i, _)| start + i);
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(body: &str, query: &str) -> String {
        let q = Query::parse(query).unwrap();
        snippet(body, &q)
            .iter()
            .map(|p| if p.hit { format!("[{}]", p.text) } else { p.text.clone() })
            .collect()
    }

    #[test]
    fn a_short_message_is_shown_whole_with_its_matches_marked() {
        // A last word without a space after it is still being typed: it matches
        // the words it begins; quoted, only itself.
        assert_eq!(
            marked("Deploy the Deployment, deploy!", "deploy"),
            "[Deploy] the [Deployment], [deploy]!"
        );
        assert_eq!(
            marked("Deploy the Deployment, deploy!", "\"deploy\""),
            "[Deploy] the Deployment, [deploy]!"
        );
        assert_eq!(marked("Deploy the Deployment", "deplo"), "[Deploy] the [Deployment]");
        assert_eq!(
            marked("the release notes are out", r#""release notes""#),
            "the [release] [notes] are out"
        );
    }

    #[test]
    fn a_long_message_is_cut_around_the_first_match() {
        let before = "word ".repeat(100);
        let after = " more".repeat(100);
        let body = format!("{before}needle{after}");
        let shown = marked(&body, "needle");
        assert!(shown.starts_with("…word word word word [needle] more"), "{shown}");
        assert!(shown.ends_with('…') && shown.chars().count() < 200, "{shown}");
        // No match in the text (matched by the database's folding): the start.
        let shown = marked(&body, "absent");
        assert!(shown.starts_with("word word") && shown.ends_with('…'));
    }

    #[test]
    fn cuts_fall_between_characters_and_the_match_is_always_shown() {
        // A first "word" longer than the window: the snippet starts at the match.
        let body = "é".repeat(300) + " needle " + &"ü".repeat(300);
        let shown = marked(&body, "needle");
        assert!(shown.starts_with("…[needle]"), "{shown}");
        assert!(shown.chars().count() < 200, "{shown}");
        // Long words before the match are not all kept.
        let body = format!("{} {} needle tail", "x".repeat(100), "y".repeat(100));
        let shown = marked(&body, "needle");
        assert!(shown.starts_with("…[needle] tail") || shown.starts_with("…y"), "{shown}");
        assert!(shown.contains("[needle]"), "{shown}");
    }
}

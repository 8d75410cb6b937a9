//! What someone typed into the search box, parsed once into terms, and written out
//! in each database's own query language.
//!
//! Nothing typed reaches either language as syntax: a term is a run of letters and
//! digits, written out quoted (FTS5) or as a quoted lexeme (PostgreSQL), so quotes,
//! operators (`OR`, `NOT`, `-`, `*`), unbalanced parentheses and SQL come out as
//! words or as nothing, and a query can never be a syntax error.

/// Most characters read of what was typed, most terms kept, and most words in a
/// phrase: the rest of a pasted paragraph is ignored (a query stays a small tree
/// for either database).
const MOST_CHARS: usize = 200;
const MOST_TERMS: usize = 12;
const MOST_IN_PHRASE: usize = 8;
/// A bare last word this long or longer also matches words it begins (as you type).
const PREFIX_FROM: usize = 3;

/// One thing to find: a word, or words in this order (`"exact words"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Word { word: String, prefix: bool },
    Phrase(Vec<String>),
}

/// A search, as terms that must all match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

impl Query {
    /// Reads what was typed: words, and `"phrases"` in double quotes. An unclosed
    /// quote counts as words. `None` when nothing searchable is left.
    pub fn parse(input: &str) -> Option<Self> {
        let input: String = input.chars().take(MOST_CHARS).collect();
        let input = input.as_str();
        let mut terms = Vec::new();
        let mut parts = input.split('"').enumerate().peekable();
        let quotes = input.matches('"').count();
        while let Some((i, part)) = parts.next() {
            // Odd parts follow an opening quote; they are a phrase only when a
            // closing quote follows them too.
            let closed = i % 2 == 1 && i < quotes;
            let words = words(part);
            if closed && words.len() > 1 {
                terms.push(Term::Phrase(words.into_iter().take(MOST_IN_PHRASE).collect()));
            } else {
                let last_part = parts.peek().is_none();
                let ends_open = !part.ends_with(char::is_whitespace);
                let count = words.len();
                for (j, word) in words.into_iter().enumerate() {
                    let typing = last_part && ends_open && j + 1 == count && !closed;
                    let prefix = typing && word.chars().count() >= PREFIX_FROM;
                    terms.push(Term::Word { word, prefix });
                }
            }
        }
        terms.dedup();
        terms.truncate(MOST_TERMS);
        (!terms.is_empty()).then_some(Query { terms })
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The query in SQLite FTS5's syntax: every term quoted, all required.
    pub fn to_fts5(&self) -> String {
        let quoted = |w: &str| format!("\"{}\"", w.replace('"', "\"\""));
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|term| match term {
                Term::Word { word, prefix: true } => format!("{}*", quoted(word)),
                Term::Word { word, prefix: false } => quoted(word),
                Term::Phrase(words) => quoted(&words.join(" ")),
            })
            .collect();
        terms.join(" ")
    }

    /// The query as PostgreSQL `to_tsquery` text: quoted lexemes joined by `&`,
    /// phrases by `<->`, a prefix marked `:*`.
    pub fn to_tsquery(&self) -> String {
        let quoted = |w: &str| format!("'{}'", w.replace('\\', "\\\\").replace('\'', "''"));
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|term| match term {
                Term::Word { word, prefix: true } => format!("{}:*", quoted(word)),
                Term::Word { word, prefix: false } => quoted(word),
                Term::Phrase(words) => {
                    let words: Vec<String> = words.iter().map(|w| quoted(w)).collect();
                    format!("({})", words.join(" <-> "))
                }
            })
            .collect();
        terms.join(" & ")
    }
}

/// The words of `text`: runs of letters and digits, lowercased.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str, prefix: bool) -> Term {
        Term::Word { word: w.to_owned(), prefix }
    }

    #[test]
    fn words_and_phrases_are_read_and_the_last_word_is_a_prefix() {
        let q = Query::parse(r#"Deploy "release notes" frida"#).unwrap();
        assert_eq!(
            q.terms(),
            [
                word("deploy", false),
                Term::Phrase(vec!["release".into(), "notes".into()]),
                word("frida", true)
            ]
        );
        assert_eq!(q.to_fts5(), r#""deploy" "release notes" "frida"*"#);
        assert_eq!(q.to_tsquery(), "'deploy' & ('release' <-> 'notes') & 'frida':*");
        // A finished word (a space after it) or a short one is not a prefix.
        assert_eq!(Query::parse("deploy ").unwrap().terms(), [word("deploy", false)]);
        assert_eq!(Query::parse("go").unwrap().terms(), [word("go", false)]);
    }

    #[test]
    fn nothing_typed_is_syntax() {
        for input in [
            "' OR 1=1 --",
            r#"unbalanced "quote"#,
            "NOT (a OR b",
            "a* -b ^c NEAR(d e)",
            "'); DROP TABLE messages; --",
        ] {
            let q = Query::parse(input).unwrap();
            let fts = q.to_fts5();
            for term in fts.split(' ').filter(|t| !t.is_empty()) {
                let bare = term.trim_end_matches('*');
                assert!(bare.starts_with('"') && bare.ends_with('"'), "{input}: {fts}");
            }
            assert!(!q.to_tsquery().contains(['!', '|', '\\']), "{input}: {}", q.to_tsquery());
        }
        assert_eq!(Query::parse("' OR 1=1 --").unwrap().to_fts5(), r#""or" "1""#);
        assert_eq!(Query::parse(r#"say "hello"#).unwrap().to_fts5(), r#""say" "hello"*"#);
        assert_eq!(Query::parse(" -- ' \" "), None);
        // A pasted paragraph stays a small query.
        let long = format!("\"{}\"", "word ".repeat(10_000));
        let q = Query::parse(&long).unwrap();
        assert!(q.to_tsquery().matches("<->").count() < 8, "{}", q.to_tsquery());
    }

    #[test]
    fn any_script_counts_as_words() {
        let q = Query::parse("Zürich café 東京").unwrap();
        assert_eq!(q.to_fts5(), r#""zürich" "café" "東京""#);
    }
}

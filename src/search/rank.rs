//! Which found messages come first: the best match, and the newest among equals.
//!
//! Scored here, from each message's own words, rather than by `bm25` or `ts_rank`
//! (see `find.rs`): the same order on both databases. The score is BM25's shape
//! without its rarity weights (every message here matches every term, so they
//! would weigh the terms, not the messages): each term counts for how often it
//! appears, with diminishing returns, and a match in a short message counts for
//! more than one in a long message.

use super::find::Hit;
use super::query::{Query, Term, words};

/// Most results one search returns.
pub const MOST: usize = 50;

/// BM25's usual constants: how fast repeats stop counting, and how much length
/// weighs.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// The best [`MOST`] of `hits` (given newest first), best first.
pub fn best(hits: Vec<Hit>, query: &Query) -> Vec<Hit> {
    let words: Vec<Vec<String>> = hits.iter().map(|hit| words(&hit.body)).collect();
    let average = words.iter().map(Vec::len).sum::<usize>() as f64 / words.len().max(1) as f64;
    let mut scored: Vec<(f64, Hit)> = hits
        .into_iter()
        .zip(&words)
        .map(|(hit, words)| (score(words, average, query), hit))
        .collect();
    // Stable: among equal scores the newest stays first.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(MOST).map(|(_, hit)| hit).collect()
}

fn score(words: &[String], average: f64, query: &Query) -> f64 {
    let length = words.len() as f64 / average.max(1.0);
    query
        .terms()
        .iter()
        .map(|term| {
            let tf = count(words, term) as f64;
            tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length))
        })
        .sum()
}

/// How often `term` appears among `words`.
fn count(words: &[String], term: &Term) -> usize {
    match term {
        Term::Word { word, prefix: false } => words.iter().filter(|w| *w == word).count(),
        Term::Word { word, prefix: true } => {
            words.iter().filter(|w| w.starts_with(word.as_str())).count()
        }
        Term::Phrase(phrase) => {
            words.windows(phrase.len().max(1)).filter(|w| *w == phrase.as_slice()).count()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(seq: i64, body: &str) -> Hit {
        Hit {
            room_id: 1,
            seq,
            body: body.to_owned(),
            created_at: seq,
            author_id: 1,
            author_name: "Ada".to_owned(),
        }
    }

    fn order(bodies: &[&str], query: &str) -> Vec<i64> {
        // Newest first, as the databases hand them over.
        let hits = bodies.iter().enumerate().rev().map(|(i, b)| hit(i as i64, b)).collect();
        best(hits, &Query::parse(query).unwrap()).iter().map(|h| h.seq).collect()
    }

    #[test]
    fn more_and_denser_matches_come_first_and_the_newest_among_equals() {
        let bodies = [
            "deploy on friday",
            "we deploy, deploy and deploy again today before the long weekend starts",
            "deploy deploy",
            "deploy on monday",
        ];
        assert_eq!(order(&bodies, "deploy "), [2, 1, 3, 0]);
        // A phrase counts where its words stand together.
        let bodies = ["notes on the release", "the release notes", "release notes, release notes"];
        assert_eq!(order(&bodies, "\"release notes\""), [2, 1, 0]);
    }

    #[test]
    fn at_most_a_page_is_kept() {
        let bodies: Vec<String> = (0..120).map(|i| format!("deploy number {i}")).collect();
        let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let kept = order(&bodies, "deploy ");
        assert_eq!(kept.len(), MOST);
        assert_eq!(kept[0], 119, "all equal: the newest first");
    }
}

//! Mentions: `@Full Name` in a message names a member of the room. Names are
//! resolved on the server, among the room's members, when a message is posted or
//! edited (`messages::post`, `changes::edit`), and kept in `mentions`: each room
//! then counts a person's unread mentions apart from unread messages, and the
//! person sees their mentions highlighted (by their own stylesheet, as reactions).

use std::cmp::Reverse;

use super::messages::Message;
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// Where `text` mentions one of `people`: each `@` (not inside a word) followed by
/// a name, in any case, that ends where the text does or with a character that
/// cannot continue a name. The longest name wins: `@Ada Lovelace` is Ada Lovelace,
/// not someone called Ada. Byte ranges from the `@`, with the person's id.
pub fn occurrences(text: &str, people: &[(i64, String)]) -> Vec<(usize, usize, i64)> {
    let mut longest_first: Vec<&(i64, String)> =
        people.iter().filter(|(_, name)| !name.is_empty()).collect();
    longest_first.sort_by_key(|(_, name)| Reverse(name.chars().count()));
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find('@').map(|i| from + i) {
        from = at + 1;
        if text[..at].chars().next_back().is_some_and(char::is_alphanumeric) {
            continue; // an email address, not a mention
        }
        let rest = &text[at + 1..];
        let hit = longest_first.iter().find_map(|(id, name)| {
            let len = starts_with_name(rest, name)?;
            let next = rest[len..].chars().next();
            next.is_none_or(|c| !c.is_alphanumeric()).then_some((*id, len))
        });
        if let Some((id, len)) = hit {
            found.push((at, at + 1 + len, id));
            from = at + 1 + len;
        }
    }
    found
}

/// How many bytes of `text` spell `name` at its start, ignoring case.
fn starts_with_name(text: &str, name: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    for wanted in name.chars() {
        let (_, got) = chars.next()?;
        if !got.to_lowercase().eq(wanted.to_lowercase()) {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(i, _)| i))
}

/// Records whom message `$seq` of room `$room`, by `$author`, mentions, in
/// transaction `$tx` (after clearing what an earlier text of it mentioned).
macro_rules! record {
    ($tx:ident, $room:expr, $seq:expr, $author:expr, $body:expr) => {{
        sqlx::query("DELETE FROM mentions WHERE room_id = $1 AND seq = $2")
            .bind($room)
            .bind($seq)
            .execute(&mut *$tx)
            .await?;
        // Most messages mention nobody: no need to read the room's members.
        if $body.contains('@') {
            let members: Vec<(i64, String)> = sqlx::query_as(
                "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.room_id = $1",
            )
            .bind($room)
            .fetch_all(&mut *$tx)
            .await?;
            let mut named: Vec<i64> = $crate::chat::mentions::occurrences($body, &members)
                .into_iter()
                .map(|(_, _, id)| id)
                .filter(|id| *id != $author)
                .collect();
            named.sort_unstable();
            named.dedup();
            for user_id in named {
                sqlx::query("INSERT INTO mentions (room_id, seq, user_id) VALUES ($1, $2, $3)")
                    .bind($room)
                    .bind($seq)
                    .bind(user_id)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
    }};
}
pub(super) use record;

/// Fills in whom each of `messages` (all of room `room_id`) mentions, with their
/// names as they are now; one query, for the messages with an `@` only.
pub async fn attach(db: &Db, room_id: i64, messages: &mut [Message]) -> Result<()> {
    let mut seqs: Vec<i64> =
        messages.iter().filter(|m| m.body.contains('@')).map(|m| m.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    if seqs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT x.seq, x.user_id, u.name FROM mentions x JOIN users u ON u.id = x.user_id
         WHERE x.room_id = $1 AND x.seq IN ({})",
        db::placeholders(2, seqs.len())
    );
    let rows: Vec<(i64, i64, String)> = on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql).bind(room_id);
        for seq in &seqs {
            query = query.bind(*seq);
        }
        query.fetch_all(pool).await
    })?;
    for message in messages.iter_mut() {
        message.mentions =
            rows.iter().filter(|r| r.0 == message.seq).map(|r| (r.1, r.2.clone())).collect();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::occurrences;

    fn people() -> Vec<(i64, String)> {
        vec![(1, "Ada".into()), (2, "Ada Lovelace".into()), (3, "Grace Hopper".into())]
    }

    #[test]
    fn the_longest_name_wins_in_any_case() {
        let text = "@ada lovelace and @Ada, ask @GRACE HOPPER!";
        let ids: Vec<i64> = occurrences(text, &people()).iter().map(|o| o.2).collect();
        assert_eq!(ids, [2, 1, 3]);
        let (start, end, _) = occurrences(text, &people())[0];
        assert_eq!(&text[start..end], "@ada lovelace");
    }

    #[test]
    fn what_only_looks_like_a_mention_is_not_one() {
        for text in ["ada@example.org", "@Adam", "@ Ada", "@Grace", "@", "Ada"] {
            assert!(occurrences(text, &people()).is_empty(), "{text}");
        }
        assert_eq!(occurrences("(@Ada)", &people())[0].2, 1);
        assert_eq!(occurrences("@Ada's", &people())[0].2, 1);
    }
}

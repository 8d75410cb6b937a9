//! What a person types into the composer, parsed once: past [`MessageBody::parse`] a
//! body is trimmed and between 1 and 4,000 characters (0 beside files, as
//! [`MessageBody::caption`]).

use crate::accounts::fields::changes_text_direction;

pub const MAX_CHARS: usize = 4_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let body = input.trim();
        if body.is_empty() {
            return Err("Write something first.");
        }
        if body.chars().count() > MAX_CHARS {
            return Err("Messages can be at most 4,000 characters.");
        }
        Ok(Self(body.to_owned()))
    }

    /// The text sent with files, which may be empty.
    pub fn caption(input: &str) -> Result<Self, &'static str> {
        match Self::parse(input) {
            Err(_) if input.trim().is_empty() => Ok(Self(String::new())),
            parsed => parsed,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room name and the URL slug made from it: `Book Club!` → `book-club`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName {
    pub name: String,
    pub slug: String,
}

impl RoomName {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Give the room a name.");
        }
        if name.chars().count() > 60 {
            return Err("Room names can be at most 60 characters.");
        }
        if name.chars().any(char::is_control) {
            return Err("Room names cannot contain control characters.");
        }
        // As in people's names: these would let a room show as another.
        if name.chars().any(changes_text_direction) {
            return Err("Room names cannot contain characters that change the direction of text.");
        }
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-').to_owned();
        if slug.is_empty() {
            return Err("Room names need at least one letter or digit.");
        }
        if slug.starts_with("dm-") {
            return Err("Room names cannot start with “dm”; those are for direct messages.");
        }
        Ok(Self { name: name.to_owned(), slug })
    }
}

/// What a room is for, shown under its name: trimmed, at most 250 characters, one
/// line; empty for none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

impl Topic {
    pub const MAX_CHARS: usize = 250;

    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let topic = input.trim();
        if topic.chars().count() > Self::MAX_CHARS {
            return Err("A topic can be at most 250 characters.");
        }
        if topic.chars().any(char::is_control) {
            return Err("A topic is one line, without control characters.");
        }
        if topic.chars().any(changes_text_direction) {
            return Err("A topic cannot contain characters that change the direction of text.");
        }
        Ok(Self(topic.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded_in_characters() {
        assert_eq!(MessageBody::parse("  hi \n").unwrap().as_str(), "hi");
        assert!(MessageBody::parse(" \n\t ").is_err());
        assert!(MessageBody::parse(&"é".repeat(4_000)).is_ok());
        assert!(MessageBody::parse(&"é".repeat(4_001)).is_err());
        assert_eq!(MessageBody::caption(" \n").unwrap().as_str(), "");
        assert!(MessageBody::caption(&"é".repeat(4_001)).is_err());
    }

    #[test]
    fn room_names_make_readable_slugs() {
        assert_eq!(RoomName::parse(" Book Club! ").unwrap().slug, "book-club");
        assert_eq!(RoomName::parse("Café — Zürich").unwrap().slug, "café-zürich");
        assert!(RoomName::parse("!!!").is_err());
        assert!(RoomName::parse("DM 4").is_err());
        assert!(RoomName::parse("Book\u{202E}bulC").is_err());
        assert!(RoomName::parse("Book\nClub").is_err());
    }

    #[test]
    fn topics_are_one_bounded_line() {
        assert_eq!(
            Topic::parse("  Plans for the spring ").unwrap().as_str(),
            "Plans for the spring"
        );
        assert_eq!(Topic::parse("").unwrap().as_str(), "");
        assert!(Topic::parse(&"é".repeat(250)).is_ok());
        assert!(Topic::parse(&"é".repeat(251)).is_err());
        assert!(Topic::parse("two\nlines").is_err());
        assert!(Topic::parse("a\u{202E}b").is_err());
    }
}

//! What a person types into account forms, parsed once at the edge: past these
//! constructors an email is normalised, a name is sensible and a password meets the
//! rules. Each error is the sentence shown next to the field.

use std::collections::HashSet;
use std::sync::LazyLock;

pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_NAME_CHARS: usize = 80;
const MAX_EMAIL_CHARS: usize = 254;

/// A trimmed, lower-cased email address: one address, one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.");
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err("That email address is too long.");
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid { Ok(Self(email)) } else { Err("Enter an email address like name@example.org.") }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `c` overrides or isolates the direction of the text around it (U+202A to
/// U+202E, U+2066 to U+2069, and the invisible marks U+200E, U+200F, U+061C). In a
/// name these let someone show as someone else ("Ada" followed by reversed text),
/// so names of people and rooms refuse them.
pub fn changes_text_direction(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A display name: trimmed, 1 to 80 characters, no control characters and nothing
/// that reorders text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Enter your name.");
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err("Names can be at most 80 characters.");
        }
        if name.chars().any(char::is_control) {
            return Err("Names cannot contain control characters.");
        }
        if name.chars().any(changes_text_direction) {
            return Err("Names cannot contain characters that change the direction of text.");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password good enough to set: at least 8 characters (of any script, counted as
/// characters, not bytes), with no upper limit below the request size, and not one of
/// the most common passwords. It is never trimmed or truncated.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        if input.chars().count() < MIN_PASSWORD_CHARS {
            return Err("Use at least 8 characters.");
        }
        if COMMON_PASSWORDS.contains(input.to_lowercase().as_str()) {
            return Err("That password is one of the most common ones; choose another.");
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Very common passwords of 8 or more characters (see `common_passwords.md`).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ada@Example.ORG ").unwrap().as_str(), "ada@example.org");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a b@example.org",
            "a@b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(NewPassword::parse("ééééééé").is_err());
        assert!(NewPassword::parse("ñandú-kiwi").is_ok());
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        assert!(NewPassword::parse("password").is_err());
        assert!(NewPassword::parse("PassWord").is_err());
        assert!(NewPassword::parse("12345678").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"x".repeat(81)).is_err());
    }
}

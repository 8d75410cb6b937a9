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

    /// What comes before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(&self.0, |(local, _)| local)
    }

    /// What comes after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
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

    /// A name from text no one typed here (an identity provider's claim): as given if
    /// it meets the rules; otherwise with control characters as spaces, characters
    /// that change the direction of text left out, each run of whitespace as one
    /// space, and cut to 80 characters. `None` if nothing is left.
    pub fn cleaned(input: &str) -> Option<Self> {
        if let Ok(name) = Self::parse(input) {
            return Some(name);
        }
        let spaced: String = input
            .chars()
            .filter(|c| !changes_text_direction(*c))
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let words = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
        Self::parse(&words.chars().take(MAX_NAME_CHARS).collect::<String>()).ok()
    }

    /// A name for an account whose provider gave none usable: the email's local part
    /// ("ada" for ada@example.org), without characters that change the direction of
    /// text, cut to 80 characters. A parsed email's local part is never empty and has
    /// no whitespace or control characters; should it be only such characters, the
    /// name is "Someone".
    pub fn from_email(email: &Email) -> Self {
        let local: String = email
            .local_part()
            .chars()
            .filter(|c| !changes_text_direction(*c))
            .take(MAX_NAME_CHARS)
            .collect();
        Self(if local.is_empty() { "Someone".to_owned() } else { local })
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

    #[test]
    fn a_given_name_that_breaks_the_rules_is_cleaned() {
        let cleaned = |input: &str| Name::cleaned(input).map(|n| n.as_str().to_owned());
        assert_eq!(cleaned("Ada  Lovelace").as_deref(), Some("Ada  Lovelace"), "valid: as given");
        assert_eq!(cleaned("Ada\u{7}\tLovelace\n").as_deref(), Some("Ada Lovelace"));
        assert_eq!(cleaned(&format!("{} tail", "x".repeat(79))), Some("x".repeat(79)));
        assert_eq!(cleaned("\u{1b}\u{7} \n"), None);
        assert_eq!(cleaned("Ada\u{202E}nimda").as_deref(), Some("Adanimda"), "no reordering");
    }

    #[test]
    fn an_email_gives_its_local_part_as_a_name() {
        let email = Email::parse("Ada.King@Example.org").unwrap();
        assert_eq!((email.local_part(), email.domain()), ("ada.king", "example.org"));
        assert_eq!(Name::from_email(&email).as_str(), "ada.king");
        let long = Email::parse(&format!("{}@example.org", "a".repeat(100))).unwrap();
        assert_eq!(Name::from_email(&long).as_str(), "a".repeat(80));
    }
}

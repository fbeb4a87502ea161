//! Users (component: users): a name and a unique email.

use serde::{Deserialize, Serialize};

use crate::ShopError;

/// 1–200 characters after trimming, stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, ShopError> {
        trimmed_name(raw, "name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shared by user and product names: API.md gives both the same limit.
pub(crate) fn trimmed_name(raw: &str, field: &str) -> Result<String, ShopError> {
    const MAX_CHARS: usize = 200;
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_CHARS {
        return Err(ShopError::invalid(format!(
            "{field} must be 1 to {MAX_CHARS} characters after trimming, got {chars}"
        )));
    }
    Ok(trimmed.to_owned())
}

/// At most 254 characters, exactly one `@` with text on both sides.
/// Uniqueness is case-insensitive: see [`Email::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ShopError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(ShopError::invalid(format!(
                "email must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        let mut parts = raw.split('@');
        let well_formed = match (parts.next(), parts.next(), parts.next()) {
            (Some(local), Some(domain), None) => !local.is_empty() && !domain.is_empty(),
            _ => false,
        };
        if !well_formed {
            return Err(ShopError::invalid(
                "email must contain exactly one '@' with text on both sides",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two emails are compared in: `Ada@X.org` and `ada@x.org` are
    /// the same address for registration.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A user to register, valid by construction.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: UserName,
    pub email: Email,
}

/// A registered user, as API.md shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited_to_200_characters() {
        assert_eq!(UserName::parse("  Ada ").expect("valid").as_str(), "Ada");
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"é".repeat(200)).is_ok());
        assert!(UserName::parse(&"é".repeat(201)).is_err());
    }

    #[test]
    fn emails_need_one_at_sign_with_text_on_both_sides() {
        assert!(Email::parse("ada@example.com").is_ok());
        for bad in ["ada", "@example.com", "ada@", "a@b@c", ""] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let longest = format!("{}@x", "a".repeat(252));
        assert!(Email::parse(&longest).is_ok());
        assert!(Email::parse(&format!("a{longest}")).is_err());
    }

    #[test]
    fn emails_compare_case_insensitively() {
        let upper = Email::parse("Ada@Example.COM").expect("valid");
        assert_eq!(upper.key(), "ada@example.com");
        assert_eq!(upper.as_str(), "Ada@Example.COM");
    }
}

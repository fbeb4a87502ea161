//! How the orders component names an order to the components that act for
//! it: the step key.
//!
//! The catalog holds an order's stock, and payments its money, under the
//! order's step key, and a second reserve or charge under the same key is a
//! repeat that applies nothing. The key must therefore never be reused, even
//! by an orders database that was reset while the catalog's and payments'
//! were kept (an autoincrement id would be: it starts again at 1). A UUID is
//! unique without asking anyone. It is a version 7 UUID, which begins with
//! the time: keys made one after another sort one after another, so the
//! tables keyed by them grow at their end, as they did with ids, instead of
//! writing into a random page of their index on every order.

use std::fmt;

use super::OrderId;
use crate::ShopError;

/// 1–64 characters of `[A-Za-z0-9-]`: safe in a URL path as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StepKey(String);

impl StepKey {
    pub const MAX_LEN: usize = 64;

    /// A fresh key: a time-ordered (v7) UUID, 74 of its bits random.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().simple().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, ShopError> {
        let ok = (1..=Self::MAX_LEN).contains(&raw.len())
            && raw
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ShopError::invalid(format!(
                "a step key is 1 to {} letters, digits or dashes, got {raw:?}",
                Self::MAX_LEN
            )))
        }
    }

    /// Wraps a key read back from the database.
    pub fn from_db(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An order as the components that act for it see it: its step key, which
/// makes each step idempotent, and its id, kept beside it for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRef {
    pub id: OrderId,
    pub key: StepKey,
}

impl OrderRef {
    /// An order as a step's request names it: its id and its step key, each
    /// checked (400 `invalid_request` for either).
    pub fn parse(id: i64, key: &str) -> Result<Self, ShopError> {
        Ok(Self {
            id: OrderId::parse(id)?,
            key: StepKey::parse(key)?,
        })
    }
}

impl fmt::Display for OrderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order {} (step key {})", self.id, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_valid_and_differ() {
        let (one, other) = (StepKey::generate(), StepKey::generate());
        assert_ne!(one, other);
        assert_eq!(StepKey::parse(one.as_str()), Ok(one));
    }

    #[test]
    fn step_keys_refuse_what_a_path_segment_cannot_carry() {
        assert!(StepKey::parse("order-7").is_ok());
        for bad in ["", "a/b", "a b", "é", &"k".repeat(65)] {
            assert!(StepKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

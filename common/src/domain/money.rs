//! Money is integer cents, never floating point (API.md, Conventions).

use super::bounded;
use crate::ShopError;

/// An amount of money in cents; non-negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cents(i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// An amount from outside (a peer's request): 0 or more.
    pub fn parse(cents: i64) -> Result<Self, ShopError> {
        bounded("amount_cents", cents, 0..=i64::MAX).map(Cents)
    }

    /// Wraps an amount the database or a peer service reported.
    pub fn from_db(value: i64) -> Self {
        Self(value)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Adds, refusing to overflow (an order's total is bounded well below
    /// `i64::MAX` by the limits, but the rule should not depend on that).
    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Cents> {
        self.0.checked_mul(factor).map(Cents)
    }
}

/// A deposit into a wallet: 1 ..= 100_000_000 cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositAmount(Cents);

impl DepositAmount {
    pub const MAX: i64 = 100_000_000;

    pub fn parse(cents: i64) -> Result<Self, ShopError> {
        bounded("amount_cents", cents, 1..=Self::MAX).map(|cents| Self(Cents(cents)))
    }

    pub fn cents(self) -> Cents {
        self.0
    }
}

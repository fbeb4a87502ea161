//! Ids: positive integers that fit in an `i64`, assigned by the database in
//! increasing order of creation.

use std::fmt;

use crate::ShopError;

/// What a [`ShopError::NotFound`] could not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    User(UserId),
    Product(ProductId),
    Order(OrderId),
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entity::User(id) => write!(f, "user {id}"),
            Entity::Product(id) => write!(f, "product {id}"),
            Entity::Order(id) => write!(f, "order {id}"),
        }
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// Accepts a positive `i64`; anything else is `invalid_request`.
            pub fn parse(value: i64) -> Result<Self, ShopError> {
                if value > 0 {
                    Ok(Self(value))
                } else {
                    Err(ShopError::invalid(concat!($what, " must be a positive integer")))
                }
            }

            /// Parses a path segment such as `/users/{id}`: `abc`, `0`, `-1`,
            /// `1.5` and numbers past `i64::MAX` are all `invalid_request`.
            pub fn parse_segment(segment: &str) -> Result<Self, ShopError> {
                let value: i64 = segment.parse().map_err(|_| {
                    ShopError::invalid(format!(
                        concat!($what, " must be a positive integer, got {:?}"),
                        segment
                    ))
                })?;
                Self::parse(value)
            }

            /// Wraps an id the database assigned (always positive).
            pub fn from_db(value: i64) -> Self {
                Self(value)
            }

            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The id of a user (component: users).
    UserId,
    "user id"
);
id_type!(
    /// The id of a product (component: catalog).
    ProductId,
    "product id"
);
id_type!(
    /// The id of an order (component: orders).
    OrderId,
    "order id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_accept_only_positive_integers_that_fit_in_i64() {
        assert_eq!(UserId::parse_segment("42").map(UserId::get), Ok(42));
        for bad in ["abc", "0", "-1", "1.5", "99999999999999999999", "", " 1"] {
            assert!(UserId::parse_segment(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

//! Listing windows: `limit` 1 ..= 500 (default 50), `offset` ≥ 0 (default 0).

use super::bounded;
use crate::ShopError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    limit: i64,
    offset: i64,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 500;

    pub fn parse(limit: Option<i64>, offset: Option<i64>) -> Result<Self, ShopError> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        let offset = offset.unwrap_or(0);
        let limit = bounded("limit", limit, 1..=Self::MAX_LIMIT)?;
        if offset < 0 {
            return Err(ShopError::invalid(format!(
                "offset must be 0 or more, got {offset}"
            )));
        }
        Ok(Self { limit, offset })
    }

    pub fn limit(self) -> i64 {
        self.limit
    }

    pub fn offset(self) -> i64 {
        self.offset
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

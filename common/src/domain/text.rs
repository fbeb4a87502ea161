//! Header values API.md limits to 1–128 visible ASCII characters
//! (`Idempotency-Key`, `X-Request-Id`).

/// 1–128 characters, each a visible ASCII character (`!` ..= `~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VisibleAscii(String);

impl VisibleAscii {
    pub const MAX_LEN: usize = 128;

    pub fn parse(value: &str) -> Option<Self> {
        let ok = (1..=Self::MAX_LEN).contains(&value.len())
            && value.bytes().all(|byte| byte.is_ascii_graphic());
        ok.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_is_one_to_128_printable_characters_without_spaces() {
        assert!(VisibleAscii::parse("abc-123_XYZ").is_some());
        assert!(VisibleAscii::parse(&"k".repeat(128)).is_some());
        assert!(VisibleAscii::parse(&"k".repeat(129)).is_none());
        assert!(VisibleAscii::parse("").is_none());
        assert!(VisibleAscii::parse("has space").is_none());
        assert!(VisibleAscii::parse("é").is_none());
    }
}

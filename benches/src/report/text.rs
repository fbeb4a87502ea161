//! The terminal's tables: columns of a fixed width, each aligned left or
//! right, a fixed gap apart. A cell wider than its column is kept whole (the
//! line then runs long rather than losing a figure).

/// How a cell sits in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table's columns: each its width and alignment, and the gap between two.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub columns: &'a [(usize, Align)],
    pub gap: &'a str,
}

impl Columns<'_> {
    /// Columns one space apart.
    pub const fn spaced(columns: &[(usize, Align)]) -> Columns<'_> {
        Columns { columns, gap: " " }
    }

    /// One line of `cells`, each padded to its column (cells past the last
    /// column are dropped).
    pub fn line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let padded: Vec<String> = self
            .columns
            .iter()
            .zip(cells)
            .map(|(&(width, align), cell)| match align {
                Align::Left => format!("{:<width$}", cell.as_ref()),
                Align::Right => format!("{:>width$}", cell.as_ref()),
            })
            .collect();
        padded.join(self.gap)
    }
}

/// The line under a table that says how its figures were measured:
/// `release build, sqlite, deployment on cores [0], ..., 5 s per run, seed 1`.
pub fn conditions(
    build_profile: &str,
    storage: &str,
    pinning: Option<&crate::pin::Pinning>,
    duration_s: f64,
    seed: u64,
) -> String {
    format!(
        "{build_profile} build, {storage}, {}, {duration_s} s per run, seed {seed}",
        pinning.map_or("not pinned".to_owned(), |pinning| pinning.describe())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_padded_to_their_columns_and_a_wide_one_is_kept_whole() {
        let columns = Columns::spaced(&[(6, Align::Left), (9, Align::Right)]);
        assert_eq!(columns.line(&["acid", "14"]), "acid          14");
        assert_eq!(
            columns.line(&["naive-mode", "1234567890"]),
            "naive-mode 1234567890"
        );
        let tight = Columns {
            columns: &[(4, Align::Left), (3, Align::Right)],
            gap: "",
        };
        assert_eq!(tight.line(&["a", "b"]), "a     b");
    }
}

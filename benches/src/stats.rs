//! One way to sum samples up, for every experiment: the median, the
//! nearest-rank percentile, and a figure measured several times as its
//! median with its spread.

use std::time::Duration;

/// The median of `samples`, in any order: the middle value, the upper of
/// the two middle ones for an even count (0 for no samples).
pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// The median of `times`, in milliseconds (0 for none).
pub fn median_ms(times: &[Duration]) -> f64 {
    let millis: Vec<f64> = times
        .iter()
        .map(|time| time.as_secs_f64() * 1000.0)
        .collect();
    median(&millis)
}

/// The `share` (0 to 1) percentile of `sorted` (ascending) by nearest rank:
/// the smallest value with at least that share of the samples at or below
/// it. `None` for no samples.
pub fn percentile(sorted: &[f64], share: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// A figure measured in several runs: its median, and the smallest and
/// largest value seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        Spread {
            median: median(values),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            runs: values.len(),
        }
    }

    /// The spread of `figure` over `items`.
    pub fn over<T>(items: impl IntoIterator<Item = T>, figure: impl Fn(T) -> f64) -> Spread {
        Spread::of(&items.into_iter().map(figure).collect::<Vec<_>>())
    }

    /// `0.071 ms (0.069–0.075)`: each value with `digits` decimals, the
    /// unit (if any) after the median; one run shows only its value.
    pub fn show(&self, digits: usize, unit: &str) -> String {
        let value = |value: f64| format!("{value:.digits$}");
        let median = format!("{} {unit}", value(self.median))
            .trim_end()
            .to_owned();
        if self.runs <= 1 {
            median
        } else {
            format!("{median} ({}–{})", value(self.min), value(self.max))
        }
    }

    /// `1.58x (1.50–1.66)`.
    pub fn show_ratio(&self) -> String {
        self.show_times(2)
    }

    /// A ratio with `digits` decimals: `1.6x (1.5–1.7)`.
    pub fn show_times(&self, digits: usize) -> String {
        if self.runs <= 1 {
            format!("{:.digits$}x", self.median)
        } else {
            format!(
                "{:.digits$}x ({:.digits$}–{:.digits$})",
                self.median, self.min, self.max
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_value_or_the_upper_middle_one() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(median(&[]), 0.0);
        assert_eq!(
            median_ms(&[Duration::from_micros(1500), Duration::from_millis(1)]),
            1.5
        );
    }

    #[test]
    fn a_percentile_is_the_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 0.99), Some(99.0));
        assert_eq!(percentile(&sorted, 0.5), Some(50.0));
        assert_eq!(percentile(&sorted, 1.0), Some(100.0));
        assert_eq!(percentile(&sorted, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn a_spread_is_the_median_with_the_smallest_and_largest() {
        let spread = Spread::of(&[0.075, 0.069, 0.071]);
        assert_eq!(spread.show(3, "ms"), "0.071 ms (0.069–0.075)");
        assert_eq!(
            Spread::of(&[1.66, 1.50, 1.58]).show_ratio(),
            "1.58x (1.50–1.66)"
        );
        assert_eq!(Spread::of(&[0.0714]).show(3, "ms"), "0.071 ms");
        assert_eq!(Spread::of(&[1.583]).show_ratio(), "1.58x");
        assert_eq!(Spread::of(&[12.0, 14.0]).show(0, ""), "14 (12–14)");
    }
}

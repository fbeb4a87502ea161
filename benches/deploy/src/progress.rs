//! Progress output for long runs: a bar per step on a terminal (indicatif),
//! and one plain line per step where stderr is not one (CI logs, pipes), so
//! a reader always sees what the harness is doing and how long it took.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// One step of a long run.
pub struct Step {
    bar: Option<ProgressBar>,
    label: String,
    started: Instant,
}

/// The bar's resolution: progress is a share of the step, 0.0..=1.0.
const TICKS: u64 = 1000;

impl Step {
    /// Starts a step and says so.
    pub fn begin(label: impl Into<String>) -> Self {
        let label = label.into();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(TICKS);
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {msg:<58} [{bar:24}] {elapsed:>4}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(label.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            eprintln!("  {label} ...");
        }
        Step {
            bar,
            label,
            started: Instant::now(),
        }
    }

    /// Moves the bar to `share` of the step (0.0..=1.0).
    pub fn set(&self, share: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position((share.clamp(0.0, 1.0) * TICKS as f64) as u64);
        }
    }

    /// Ends the step with a short result.
    pub fn done(self, result: &str) {
        let line = format!(
            "  ✓ {:<58} {result} ({:.1} s)",
            self.label,
            self.started.elapsed().as_secs_f64()
        );
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        eprintln!("{line}");
    }
}

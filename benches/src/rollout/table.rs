//! The table `shoplab rollout` prints: a row per case.

use crate::report::text::{Align, Columns};

use super::CaseResult;

/// The table printed at the end.
pub fn table(cases: &[CaseResult]) -> String {
    const COLUMNS: Columns<'static> = Columns::spaced(&[
        (20, Align::Left),
        (9, Align::Right),
        (9, Align::Right),
        (16, Align::Right),
        (9, Align::Right),
        (9, Align::Right),
        (9, Align::Right),
        (9, Align::Right),
        (9, Align::Right),
    ]);
    let mut lines = vec![COLUMNS.line(&[
        "case",
        "rollout",
        "during",
        "failed (status)",
        "gap",
        "p99 pre",
        "p99 roll",
        "max pre",
        "max roll",
    ])];
    for result in cases {
        let statuses = if result.failed_in_run.is_empty() {
            "0".to_owned()
        } else {
            let by: Vec<String> = result
                .failed_in_run
                .iter()
                .map(|(status, count)| format!("{count}×{status}"))
                .collect();
            by.join(" ")
        };
        lines.push(COLUMNS.line(&[
            result.label.clone(),
            format!("{:.0}ms", result.rollout_ms),
            result.during.requests.to_string(),
            statuses,
            format!("{:.0}ms", result.gap_ms),
            format!("{:.1}ms", result.before.p99_ms),
            format!("{:.1}ms", result.during.p99_ms),
            format!("{:.1}ms", result.before.max_ms),
            format!("{:.1}ms", result.during.max_ms),
        ]));
    }
    lines.push(
        "(during: requests due while the rollout ran; failed: over the whole run; gap: first failure to last; pre/roll: before and during the rollout)".to_owned(),
    );
    lines.join("\n")
}

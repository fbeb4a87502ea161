//! What a process says about itself, through `tracing`, as every Rust
//! service does: operational events (a circuit opening, a replica marked
//! down, a saga recovered, a fault plan's crash, an internal error) on
//! stderr, one line each with its time, level and target; and, with
//! `--log-file`, the hop log's JSON lines in a file of their own
//! (`hop_log`, target `shoplab::hop`, never on stderr). One subscriber
//! carries both, installed once per process by `SettingsArgs::load`.
//!
//! By default the shop's own events are shown from `info` up, and the
//! libraries' (actix's "starting 2 workers") from `warn` up.
//! `SHOPLAB_LOG` sets one level for all (`error`, `warn`, `info`, `debug`,
//! `trace`, `off`). A value it cannot read is said once on stderr and the
//! default kept: a typo in an environment variable must not stop a shop.

use std::sync::OnceLock;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use crate::hop_log;

/// The environment variable that sets the stderr level.
pub const LEVEL_VARIABLE: &str = "SHOPLAB_LOG";

static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs the process's subscriber, once (later calls, from a test that
/// starts several servers in one process, change nothing; nor does a
/// subscriber someone else installed first).
pub fn install() {
    INSTALLED.get_or_init(|| {
        let (level, unread) = level(std::env::var(LEVEL_VARIABLE).ok().as_deref());
        let shown = match level {
            Some(level) => Targets::new().with_default(level),
            // Every crate of the shop's is `shoplab_...`.
            None => Targets::new()
                .with_default(LevelFilter::WARN)
                .with_target("shoplab", LevelFilter::INFO),
        };
        // Filters by target and level only, so that whether a call site is
        // on is decided once, when it is first hit, and the global level
        // cuts the libraries' debug and trace events at no cost: the
        // counting pass sees no logging where nothing is logged.
        let stderr = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_filter(shown.with_target(hop_log::TARGET, LevelFilter::OFF));
        let subscriber = tracing_subscriber::registry()
            .with(hop_log::layer())
            .with(stderr);
        if tracing::subscriber::set_global_default(subscriber).is_ok() {
            if let Some(unread) = unread {
                tracing::warn!("{LEVEL_VARIABLE}={unread:?} is not a level; the default is kept");
            }
        }
    });
}

/// The level `value` names (none if unset), and the value if it names none.
fn level(value: Option<&str>) -> (Option<LevelFilter>, Option<String>) {
    match value.map(str::trim) {
        None | Some("") => (None, None),
        Some(value) => match value.parse() {
            Ok(level) => (Some(level), None),
            Err(_) => (None, Some(value.to_owned())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_read_and_anything_else_keeps_the_default() {
        assert_eq!(level(None), (None, None));
        assert_eq!(level(Some("warn")), (Some(LevelFilter::WARN), None));
        assert_eq!(level(Some("OFF")), (Some(LevelFilter::OFF), None));
        assert_eq!(level(Some("loud")), (None, Some("loud".to_owned())));
    }
}

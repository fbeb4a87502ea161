//! The fault `shoplab isolation` puts into one component, and how each
//! deployment is made to suffer it.
//!
//! In the microservices a component is a process, so the fault is done to
//! the process: a crash is a SIGKILL with the supervisor told not to restart
//! it until the window ends (`Deployment::hold_down`, then `release`); a hang
//! is SIGSTOP (the port stays open, nothing answers), then SIGCONT.
//!
//! In the monolith a component is a set of functions inside the one process,
//! so the fault is a fault plan (`--fault-plan FILE`, read by the binary at
//! start) whose rules fire on every operation of the component during the
//! window: a hang is `kind = "hang"`; a crash is `kind = "error"` (the
//! operation fails as if its component were unavailable, a 503), because a
//! component of a monolith cannot exit on its own: killing the process
//! would take every component down, which needs no experiment to show.

use std::fmt::Write as _;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::Serialize;

use crate::deployment::Deployment;

/// The component that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    Users,
    Catalog,
    Payments,
}

impl Component {
    pub fn name(self) -> &'static str {
        match self {
            Component::Users => "users",
            Component::Catalog => "catalog",
            Component::Payments => "payments",
        }
    }

    /// Its service in the microservices.
    pub fn binary(self) -> &'static str {
        match self {
            Component::Users => "shoplab-users",
            Component::Catalog => "shoplab-catalog",
            Component::Payments => "shoplab-payments",
        }
    }

    /// Its operations as a fault plan names them (`<component>.<method>`,
    /// the methods of `common/src/components.rs`).
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            Component::Users => &["users.user"],
            Component::Catalog => &["catalog.products", "catalog.reserve", "catalog.release"],
            Component::Payments => &["payments.charge", "payments.refund"],
        }
    }
}

/// What the component does during the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// It is gone: a killed process (microservices), an operation that
    /// fails at once as unavailable (monolith).
    Crash,
    /// It takes requests and answers none: a stopped process
    /// (microservices), an operation that never returns (monolith).
    Hang,
}

impl Fault {
    /// `crashed`, `hung`: for progress lines and verdicts.
    pub fn past(self) -> &'static str {
        match self {
            Fault::Crash => "crashed",
            Fault::Hang => "hung",
        }
    }

    /// How the fault is done to a deployment of this kind, in one phrase.
    pub fn how(self, component: Component, monolith: bool) -> String {
        match (self, monolith) {
            (Fault::Crash, false) => format!(
                "{} SIGKILLed and held down for the window, then restarted",
                component.binary()
            ),
            (Fault::Hang, false) => format!(
                "{} SIGSTOPped for the window, then SIGCONTinued",
                component.binary()
            ),
            (fault, true) => format!(
                "fault plan: kind = \"{}\" on {} for the window",
                plan_kind(fault),
                component.operations().join(", ")
            ),
        }
    }
}

/// The fault plan's `kind` for a fault in the monolith.
fn plan_kind(fault: Fault) -> &'static str {
    match fault {
        Fault::Crash => "error",
        Fault::Hang => "hang",
    }
}

/// The fault plan for the monolith: every operation of `component` faulty
/// from `from` to `until` after the process started (the format is read by
/// the binaries' `--fault-plan`; every random choice comes from `seed`).
pub fn plan(
    component: Component,
    fault: Fault,
    seed: u64,
    from: Duration,
    until: Duration,
) -> String {
    let mut text = format!(
        "# shoplab isolation: {} {} from {:.3} s to {:.3} s after start\nseed = {seed}\n",
        component.name(),
        fault.past(),
        from.as_secs_f64(),
        until.as_secs_f64()
    );
    for operation in component.operations() {
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            "\n[[fault]]\nop = \"{operation}\"\nkind = \"{}\"\nprobability = 1.0\nfrom_s = {:.3}\nuntil_s = {:.3}\n",
            plan_kind(fault),
            from.as_secs_f64(),
            until.as_secs_f64()
        );
    }
    text
}

/// Starts the fault in the microservices.
pub async fn inject(
    deployment: &Deployment,
    component: Component,
    fault: Fault,
) -> anyhow::Result<()> {
    match fault {
        Fault::Crash => deployment.hold_down(component.binary()).await,
        Fault::Hang => deployment.signal(component.binary(), Signal::SIGSTOP),
    }
}

/// Ends the fault in the microservices: the service runs (and, after a
/// crash, answers its `/health`) again.
pub async fn remove(
    deployment: &Deployment,
    component: Component,
    fault: Fault,
) -> anyhow::Result<()> {
    match fault {
        Fault::Crash => deployment.release(component.binary()).await,
        Fault::Hang => deployment.signal(component.binary(), Signal::SIGCONT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_crash_in_the_monolith_is_an_error_rule_on_each_catalog_operation() {
        let text = plan(
            Component::Catalog,
            Fault::Crash,
            7,
            Duration::from_secs(4),
            Duration::from_millis(9_500),
        );
        assert!(text.contains("\nseed = 7\n"), "{text}");
        assert_eq!(text.matches("[[fault]]").count(), 3, "{text}");
        for operation in ["catalog.products", "catalog.reserve", "catalog.release"] {
            assert!(text.contains(&format!("op = \"{operation}\"")), "{text}");
        }
        assert_eq!(text.matches("kind = \"error\"").count(), 3, "{text}");
        assert_eq!(text.matches("from_s = 4.000\n").count(), 3, "{text}");
        assert_eq!(text.matches("until_s = 9.500\n").count(), 3, "{text}");
    }

    #[test]
    fn a_hang_in_the_monolith_is_a_hang_rule() {
        let text = plan(
            Component::Users,
            Fault::Hang,
            1,
            Duration::from_secs(1),
            Duration::from_secs(2),
        );
        assert_eq!(text.matches("[[fault]]").count(), 1, "{text}");
        assert!(
            text.contains("op = \"users.user\"\nkind = \"hang\""),
            "{text}"
        );
    }
}

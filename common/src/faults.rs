//! The fault plan: one TOML file, given with `--fault-plan FILE` to every
//! binary, that makes the components' operations fail, slow down, hang or
//! crash their process, the same way in both deployments.
//!
//! ```toml
//! seed = 7                      # every random choice comes from it
//!
//! [[fault]]
//! op = "payments.charge"        # <component>.<method> of common/src/components.rs
//! kind = "crash_after"          # error | delay | hang | crash_before | crash_after
//! probability = 0.02            # default 1.0
//! from_s = 2.0                  # optional window, seconds after the process started
//! until_s = 10.0
//!
//! [[fault]]
//! op = "catalog.reserve"
//! kind = "delay"
//! delay_ms = 50                 # only for kind = "delay"
//! probability = 0.1
//! ```
//!
//! A fault strikes the component that owns the operation, where it runs:
//! [`Faulty`] wraps a component's implementation. In the monolith that is
//! the in-process call inside the order's transaction, so a crash before or
//! after the operation's statements rolls the whole order back; in the
//! microservices it is the owning service's handler, before or after that
//! service has committed. A crash ends the whole monolith but only one
//! service.
//!
//! - `error`: the operation fails as if its component were unavailable (503).
//! - `delay`: it runs `delay_ms` late.
//! - `hang`: it does not answer until its caller's deadline has passed (504).
//! - `crash_before` / `crash_after`: the process exits (code 75) before the
//!   operation runs, or after it has run.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::components::Around;
use crate::deadline::Deadline;
use crate::ShopError;

/// The operations a plan names (`users.user`, `catalog.reserve`, ...): the
/// methods of the component interfaces.
pub use crate::components::Op;

/// The exit code of a process a fault plan crashed.
pub const CRASH_EXIT_CODE: i32 = 75;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Error,
    Delay(Duration),
    Hang,
    CrashBefore,
    CrashAfter,
}

/// One rule of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub op: Op,
    pub kind: Kind,
    pub probability: f64,
    /// Active from this long after the process started...
    pub from: Duration,
    /// ...until this long after (for ever if `None`).
    pub until: Option<Duration>,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    fault: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    op: String,
    kind: String,
    probability: Option<f64>,
    delay_ms: Option<u64>,
    from_s: Option<f64>,
    until_s: Option<f64>,
}

impl RuleFile {
    fn parse(self) -> Result<Rule, String> {
        let op = Op::parse(&self.op)?;
        let kind = match (self.kind.as_str(), self.delay_ms) {
            ("delay", Some(ms)) => Kind::Delay(Duration::from_millis(ms)),
            ("delay", None) => return Err(format!("{}: a delay needs delay_ms", self.op)),
            (_, Some(_)) => {
                return Err(format!(
                    "{}: delay_ms is only for kind = \"delay\"",
                    self.op
                ))
            }
            ("error", None) => Kind::Error,
            ("hang", None) => Kind::Hang,
            ("crash_before", None) => Kind::CrashBefore,
            ("crash_after", None) => Kind::CrashAfter,
            (other, None) => {
                return Err(format!(
                    "{}: unknown kind {other:?} (error, delay, hang, crash_before, crash_after)",
                    self.op
                ))
            }
        };
        let probability = self.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&probability) {
            return Err(format!("{}: probability must be between 0 and 1", self.op));
        }
        let seconds = |field: &str, value: Option<f64>| -> Result<Option<Duration>, String> {
            value
                .map(|value| {
                    Duration::try_from_secs_f64(value).map_err(|_| {
                        format!("{}: {field} must be a number of seconds >= 0", self.op)
                    })
                })
                .transpose()
        };
        let from = seconds("from_s", self.from_s)?.unwrap_or_default();
        let until = seconds("until_s", self.until_s)?;
        if until.is_some_and(|until| until <= from) {
            return Err(format!("{}: until_s must be after from_s", self.op));
        }
        Ok(Rule {
            op,
            kind,
            probability,
            from,
            until,
        })
    }
}

/// A process's fault plan: its rules, and the one seeded source of every
/// random choice they make.
#[derive(Debug)]
pub struct FaultPlan {
    pub seed: u64,
    pub rules: Vec<Rule>,
    started: Instant,
    rng: Mutex<StdRng>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::none()
    }
}

impl FaultPlan {
    /// No faults: what a process runs without `--fault-plan`.
    pub fn none() -> Self {
        Self::new(0, Vec::new())
    }

    pub fn new(seed: u64, rules: Vec<Rule>) -> Self {
        Self {
            seed,
            rules,
            started: Instant::now(),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: PlanFile = toml::from_str(text).map_err(|error| error.message().to_owned())?;
        let rules = file
            .fault
            .into_iter()
            .map(RuleFile::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self::new(file.seed, rules))
    }

    /// Reads `--fault-plan FILE`; the error names the file and the problem.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read the fault plan {}: {error}", path.display()))?;
        Self::parse(&text).map_err(|error| {
            format!(
                "the fault plan {} is not valid: {}",
                path.display(),
                crate::error::one_line(&error)
            )
        })
    }

    /// `--fault-plan`'s value, or no faults.
    pub fn from_flag(path: Option<&Path>) -> Result<Arc<Self>, String> {
        Ok(Arc::new(match path {
            Some(path) => Self::load(path)?,
            None => Self::none(),
        }))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs `operation` under whatever faults strike `op` now. A fault
    /// strikes where the component runs, in process (`Faulty` wraps
    /// `InProcess` in the monolith and `Owned` in a service's handlers,
    /// both driven on a blocking thread), so a delay or a hang blocks that
    /// thread, as a slow query there would.
    pub async fn around<T>(
        &self,
        op: Op,
        deadline: Deadline,
        operation: impl Future<Output = Result<T, ShopError>>,
    ) -> Result<T, ShopError> {
        if self.rules.is_empty() {
            return operation.await;
        }
        let mut crash_after = false;
        for kind in self.strikes(op) {
            match kind {
                Kind::Error => {
                    return Err(ShopError::ServiceUnavailable(format!(
                        "{} failed (fault plan)",
                        op.name()
                    )))
                }
                Kind::Delay(delay) => std::thread::sleep(delay),
                Kind::Hang => {
                    deadline.sleep_until();
                    return Err(ShopError::Timeout(format!(
                        "{} hung until the deadline (fault plan)",
                        op.name()
                    )));
                }
                Kind::CrashBefore => crash(op, "before"),
                Kind::CrashAfter => crash_after = true,
            }
        }
        let outcome = operation.await;
        if crash_after {
            crash(op, "after");
        }
        outcome
    }

    /// The kinds of the rules for `op` that strike this call.
    fn strikes(&self, op: Op) -> Vec<Kind> {
        let since_start = self.started.elapsed();
        let mut rng = match self.rng.lock() {
            Ok(rng) => rng,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.rules
            .iter()
            .filter(|rule| rule.op == op)
            .filter(|rule| {
                since_start >= rule.from && rule.until.map_or(true, |until| since_start < until)
            })
            .filter(|rule| rule.probability >= 1.0 || rng.random::<f64>() < rule.probability)
            .map(|rule| rule.kind)
            .collect()
    }
}

/// The process exits, as a crash would end it: no response, no clean-up of
/// open transactions (the database rolls them back).
fn crash(op: Op, when: &str) -> ! {
    tracing::warn!(op = op.name(), "fault plan: crashing {when} {}", op.name());
    std::process::exit(CRASH_EXIT_CODE)
}

/// A component implementation under a fault plan: every operation passes
/// through [`FaultPlan::around`] first.
pub struct Faulty<S> {
    inner: S,
    plan: Arc<FaultPlan>,
    deadline: Deadline,
}

impl<S> Faulty<S> {
    pub fn new(inner: S, plan: Arc<FaultPlan>, deadline: Deadline) -> Self {
        Self {
            inner,
            plan,
            deadline,
        }
    }

    pub fn inner(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: Send> Around for Faulty<S> {
    type Inner = S;

    fn around<'a, T, F>(
        &'a mut self,
        op: Op,
        call: impl FnOnce(&'a mut S) -> F + Send,
    ) -> impl Future<Output = Result<T, ShopError>> + Send
    where
        T: Send,
        F: Future<Output = Result<T, ShopError>> + Send,
    {
        let (plan, deadline, inner) = (&self.plan, self.deadline, &mut self.inner);
        // The inner call is made inside, after the plan has had its say: a
        // `crash_before` must strike before the operation starts.
        plan.around(op, deadline, async move { call(inner).await })
    }
}

#[cfg(test)]
mod tests;

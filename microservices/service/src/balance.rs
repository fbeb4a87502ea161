//! Client-side load balancing over a service's replicas: what the gateway
//! does in front of the services (and of several monoliths), and what each
//! service's client does towards its peers (`remote.rs`).
//!
//! A [`Replicas`] is the list of one service's base URLs, given as one
//! comma-separated flag (`--catalog-url A,B,C`). Each request goes to the
//! healthy replica with the fewest requests outstanding from this process,
//! ties broken round robin (so with equal load it is plain round robin).
//! A replica is marked down at once when a connection to it is refused, and
//! by a health check (`GET /health`, every `--health-interval-ms`) that
//! fails or answers anything but 200: a draining process answers 503
//! (`common/http/src/drain.rs`), so it is left alone before it stops
//! accepting. The same check takes a replica back once it answers 200 again.
//! When no replica is marked healthy, requests still go to one of them: the
//! marks may be stale, and the answer (or the refusal) is the truth.
//!
//! With one replica nothing is checked and nothing changes: the request goes
//! where it always went.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often each replica's `/health` is asked, in milliseconds, unless
/// `--health-interval-ms` says otherwise.
pub const DEFAULT_HEALTH_INTERVAL_MS: u64 = 250;

/// `--health-interval-ms`, for every process that balances over replicas.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct HealthArgs {
    /// How often each replica of a service (when a --*-url lists several)
    /// is asked for its /health: one that fails is routed around until it
    /// passes again.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_HEALTH_INTERVAL_MS,
          value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub health_interval_ms: u64,
}

impl Default for HealthArgs {
    fn default() -> Self {
        Self {
            health_interval_ms: DEFAULT_HEALTH_INTERVAL_MS,
        }
    }
}

impl HealthArgs {
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.health_interval_ms)
    }
}

/// The base URLs of a service's replicas, parsed from one comma-separated
/// flag: `http://127.0.0.1:8001,http://127.0.0.1:8002`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaUrls(pub Vec<String>);

impl std::str::FromStr for ReplicaUrls {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let urls: Vec<String> = list
            .split(',')
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .collect();
        if let Some(bad) = urls
            .iter()
            .find(|url| !(url.starts_with("http://") || url.starts_with("https://")))
        {
            return Err(format!(
                "{bad:?} is not a base URL (http://HOST:PORT); give replicas as a comma-separated list"
            ));
        }
        Ok(Self(urls))
    }
}

/// One service's replicas, as one process sees them. Cheap to clone: the
/// clones share the marks and the counts.
#[derive(Clone, Debug)]
pub struct Replicas {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The service's name, for messages (`catalog`, `monolith`).
    service: String,
    replicas: Box<[Replica]>,
    /// Where the next pick starts looking: the round robin.
    next: AtomicUsize,
}

#[derive(Debug)]
struct Replica {
    url: String,
    healthy: AtomicBool,
    outstanding: AtomicUsize,
}

impl Replicas {
    /// `service`'s replicas at `urls`, all taken as healthy until a request
    /// or a check says otherwise.
    pub fn new(service: &str, urls: ReplicaUrls) -> Self {
        let replicas = urls
            .0
            .into_iter()
            .map(|url| Replica {
                url,
                healthy: AtomicBool::new(true),
                outstanding: AtomicUsize::new(0),
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                service: service.to_owned(),
                replicas,
                next: AtomicUsize::new(0),
            }),
        }
    }

    /// A service that runs as one process, at `url`.
    pub fn one(service: &str, url: impl Into<String>) -> Self {
        Self::new(service, ReplicaUrls(vec![url.into()]))
    }

    /// The service's name, as given to [`new`](Self::new).
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// Every replica's base URL.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.inner
            .replicas
            .iter()
            .map(|replica| replica.url.as_str())
    }

    pub fn len(&self) -> usize {
        self.inner.replicas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.replicas.is_empty()
    }

    /// Starts asking every replica's `/health` every `interval`, all of them
    /// at once with the async client, on a thread and a small runtime of
    /// its own (so it needs no runtime of the caller's, and no request
    /// waits behind it), which end when the last clone of this is dropped.
    /// Does nothing for a single replica.
    pub fn watch(&self, interval: Duration) {
        if self.len() < 2 {
            return;
        }
        let inner = Arc::downgrade(&self.inner);
        let name = format!("health-{}", self.service());
        let started = std::thread::Builder::new().name(name).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(check_health_forever(&inner, interval)),
                Err(error) => {
                    tracing::warn!("cannot start the health checks' runtime: {error}");
                }
            }
        });
        if let Err(error) = started {
            // Without the checks, a refused connection still marks a replica
            // down; it is only never taken back. Say so and go on.
            tracing::warn!(
                "cannot start the health checks of {}: {error}",
                self.service()
            );
        }
    }

    /// The replica the next request should go to, skipping those already
    /// `tried` for this request: the healthy one with the fewest requests
    /// outstanding, or, when none untried is healthy, the untried one with
    /// the fewest. `None` once every replica has been tried.
    pub fn pick(&self, tried: &[usize]) -> Option<Picked> {
        let replicas = &self.inner.replicas;
        let count = replicas.len();
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let untried = (0..count)
            .map(|offset| (start + offset) % count)
            .filter(|index| !tried.contains(index));
        let mut best: Option<(bool, usize, usize)> = None;
        for index in untried {
            let replica = &replicas[index];
            let healthy = replica.healthy.load(Ordering::Relaxed);
            let outstanding = replica.outstanding.load(Ordering::Relaxed);
            // Healthy before unhealthy, then fewer outstanding; the first of
            // equals wins, and the start rotates: round robin among equals.
            let better = match best {
                None => true,
                Some((best_healthy, best_outstanding, _)) => {
                    (healthy, std::cmp::Reverse(outstanding))
                        > (best_healthy, std::cmp::Reverse(best_outstanding))
                }
            };
            if better {
                best = Some((healthy, outstanding, index));
            }
        }
        let (_, _, index) = best?;
        replicas[index].outstanding.fetch_add(1, Ordering::Relaxed);
        Some(Picked {
            inner: Arc::clone(&self.inner),
            index,
        })
    }

    /// Whether any replica is marked healthy now.
    pub fn any_healthy(&self) -> bool {
        self.inner
            .replicas
            .iter()
            .any(|replica| replica.healthy.load(Ordering::Relaxed))
    }

    /// Records what a health check of the replica at `url` found.
    pub fn mark(&self, url: &str, healthy: bool) {
        if let Some(index) = self.inner.replicas.iter().position(|r| r.url == url) {
            self.inner.set_health(index, healthy, "its /health check");
        }
    }
}

impl Inner {
    /// Marks a replica up or down; a change is one line on stderr, so an
    /// operator sees the balancer route around a replica and take it back.
    fn set_health(&self, index: usize, healthy: bool, because: &str) {
        let replica = &self.replicas[index];
        let was = replica.healthy.swap(healthy, Ordering::Relaxed);
        if was != healthy && self.replicas.len() > 1 {
            let (state, verb) = if healthy {
                ("up", "sending to it again")
            } else {
                ("down", "routing around it")
            };
            tracing::warn!(
                replica = %replica.url,
                "{} replica {} is {state} ({because}); {verb}",
                self.service, replica.url
            );
        }
    }
}

/// One request's replica: its outstanding count is held until this is
/// dropped.
#[derive(Debug)]
pub struct Picked {
    inner: Arc<Inner>,
    index: usize,
}

impl Picked {
    pub fn url(&self) -> &str {
        &self.inner.replicas[self.index].url
    }

    /// Its position in the list, to pass as `tried` on a retry.
    pub fn index(&self) -> usize {
        self.index
    }

    /// A connection to it was refused: mark it down until its health check
    /// passes again.
    pub fn refused(&self) {
        self.inner
            .set_health(self.index, false, "a connection to it was refused");
    }
}

impl Drop for Picked {
    fn drop(&mut self) {
        self.inner.replicas[self.index]
            .outstanding
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// The health-check loop: every `interval`, every replica's `/health` at
/// once, each with at most `interval` (and at most a second) to answer.
async fn check_health_forever(inner: &Weak<Inner>, interval: Duration) {
    let client = match reqwest::Client::builder()
        .timeout(interval.min(Duration::from_secs(1)))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!("cannot build the health-check client: {error}");
            return;
        }
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let checks = inner.replicas.iter().map(|replica| {
            let url = format!("{}/health", replica.url);
            let client = &client;
            async move {
                matches!(
                    client.get(&url).send().await,
                    Ok(response) if response.status() == reqwest::StatusCode::OK
                )
            }
        });
        let healthy = futures_util::future::join_all(checks).await;
        for (index, healthy) in healthy.into_iter().enumerate() {
            inner.set_health(index, healthy, "its /health check");
        }
    }
}

#[cfg(test)]
mod tests;

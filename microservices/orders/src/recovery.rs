//! The saga's recovery: what finishes a saga whose runner is gone.
//!
//! A saga is owned by whoever runs it until its lease runs out (the
//! request's deadline and a second more). If the runner dies or gives up,
//! the recovery loop ([`start_recovery`], on a thread and a runtime of its
//! own, at start-up and every `--recovery-every-ms`) takes the saga over
//! ([`recover_due`]): a placing saga is undone (its caller has been
//! answered with an error, or not at all), a cancel is finished. Failed
//! attempts back off, doubling up to a few seconds. A request that finds
//! its order's runner gone takes it over the same way
//! ([`SagaRunner::take_over`]). The monolith needs none of this: its
//! database rolls an unfinished transaction back.

use std::time::Duration;

use futures_util::StreamExt;
use shoplab_common::components::{Catalog, Payments, Users};
use shoplab_common::db::Pool;
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{OrderId, OrderStatus};
use shoplab_common::metrics::orders as counted;
use shoplab_common::orders::saga::{self as record, Lease, Saga, Step, Token};
use shoplab_common::ShopError;
use shoplab_http::{run_blocking, RequestId, Settings};
use shoplab_service::client::PeerClient;

use crate::checkout::{SagaRunner, Undo};
use crate::shop;

/// The shortest and longest wait before recovery tries a saga again.
pub(crate) const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How many sagas one recovery pass drives at once: enough that one saga
/// stuck on a hung peer (each call bounded by the deadline) does not hold
/// up the rest, few enough not to flood a peer that has just come back.
pub const RECOVERY_CONCURRENCY: usize = 16;

/// Threads the recovery loop runs its database work on.
const RECOVERY_DATABASE_THREADS: usize = 4;

impl<S: Users + Catalog + Payments> SagaRunner<S> {
    /// Drives a saga this runner has just taken over to its end: undoes a
    /// placement, or finishes a cancel.
    async fn drive(&mut self, saga: &Saga, held: Token) -> Result<(), ShopError> {
        match saga.step {
            Some(Step::Cancel) => {
                self.shop.release(&saga.order).await?;
                self.finish_cancel(&saga.order, held).await.map(drop)
            }
            Some(_) | None => {
                let code = saga.failure.as_deref().unwrap_or("service_unavailable");
                self.compensate(&saga.order, held, code, Undo::ALL)
                    .await
                    .map(drop)
            }
        }
    }

    /// Takes over order `id`'s saga if its lease has run out, and drives it.
    /// `Ok(false)` if there is nothing to take over (it has ended, or its
    /// runner is alive, or another took it first).
    pub(crate) async fn take_over(&mut self, id: OrderId) -> Result<bool, ShopError> {
        let saga = self.read(move |conn| record::load(conn, id)).await?;
        let unsettled = saga.step.is_some() || saga.status == OrderStatus::Pending;
        if !unsettled || saga.lease.until_ms() >= record::now_ms() {
            return Ok(false);
        }
        let lease = self.lease();
        let Some(held) = self
            .write(move |conn| record::take_over(conn, &saga, lease))
            .await?
        else {
            return Ok(false);
        };
        let taken = self.read(move |conn| record::load(conn, id)).await?;
        let driven = self.drive(&taken, held).await;
        counted::recovered(driven.is_ok());
        if let Err(error) = driven {
            let attempts = u32::try_from(taken.attempts).unwrap_or(u32::MAX);
            let backoff = BACKOFF_FIRST
                .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)))
                .min(BACKOFF_MAX);
            let later = Lease::for_next(backoff);
            self.write(move |conn| record::postpone(conn, id, held, later))
                .await?;
            return Err(error);
        }
        Ok(true)
    }
}

/// One pass of the recovery loop: takes over every saga whose lease has run
/// out and drives it to its end, [`RECOVERY_CONCURRENCY`] at a time, so a
/// saga stuck on a hung peer holds up only itself. `runner` makes a runner
/// with a fresh deadline for each saga. A saga that cannot be read or ended
/// now is skipped, and tried again on a later pass. Returns how many sagas
/// it ended.
pub async fn recover_due<S: Users + Catalog + Payments>(
    pool: &Pool,
    runner: impl Fn() -> SagaRunner<S>,
) -> Result<usize, ShopError> {
    let pool = pool.clone();
    let due = run_blocking(move || record::due(&mut *pool.get()?, 100)).await?;
    let ended = futures_util::stream::iter(due)
        .map(|id| {
            let mut runner = runner();
            async move {
                match runner.take_over(id).await {
                    Ok(true) => {
                        match runner.find(id).await {
                            Ok(order) => tracing::info!(
                                order = id.get(),
                                "order {id} ended {}",
                                order.status
                            ),
                            Err(error) => {
                                tracing::info!(order = id.get(), "order {id} ended ({error})")
                            }
                        }
                        1
                    }
                    Ok(false) => 0,
                    Err(error) => {
                        tracing::warn!(
                            order = id.get(),
                            "order {id} not ended yet ({error}); will retry"
                        );
                        0
                    }
                }
            }
        })
        .buffer_unordered(RECOVERY_CONCURRENCY)
        .fold(0, |ended, one| async move { ended + one })
        .await;
    Ok(ended)
}

/// Reports how many sagas the orders database holds unended (when metrics
/// are on): the recovery loop calls it after each pass.
pub fn report_in_flight(pool: &Pool) {
    if !shoplab_common::metrics::enabled() {
        return;
    }
    match pool
        .get()
        .map_err(ShopError::from)
        .and_then(|mut conn| record::in_flight(&mut conn))
    {
        Ok(count) => counted::in_flight(count),
        Err(error) => tracing::warn!("cannot count the sagas in flight ({error})"),
    }
}

/// The recovery loop, on a thread of its own with a runtime of its own, so
/// that a pass is never held up by the requests the workers serve (nor holds
/// them up), its database work on at most [`RECOVERY_DATABASE_THREADS`]
/// threads. Each pass also reports how many sagas are in flight (when
/// metrics are on). A group of components that hosts orders
/// (`microservices/group`) starts it too.
pub fn start_recovery(
    pool: Pool,
    peers: PeerClient,
    settings: Settings,
    every: Duration,
) -> anyhow::Result<()> {
    let Settings { faults, budget } = settings;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("saga-recovery")
        // Its sagas' database work queues for these few threads: it cannot
        // go faster than the pool's connections (half of which it leaves to
        // requests), and a burst of due sagas must not become a burst of
        // threads.
        .max_blocking_threads(RECOVERY_DATABASE_THREADS)
        .build()?;
    std::thread::Builder::new()
        .name("saga-recovery".into())
        .spawn(move || {
            runtime.block_on(async move {
                loop {
                    let runner = || SagaRunner {
                        pool: pool.clone(),
                        shop: shop(&peers, RequestId::fresh(), Deadline::after(budget.0)),
                        deadline: Deadline::after(budget.0),
                        faults: faults.clone(),
                    };
                    if let Err(error) = recover_due(&pool, runner).await {
                        tracing::warn!("this recovery pass failed ({error}); trying again");
                    }
                    let counted = pool.clone();
                    let _ = run_blocking(move || {
                        report_in_flight(&counted);
                        Ok(())
                    })
                    .await;
                    tokio::time::sleep(every).await;
                }
            })
        })?;
    Ok(())
}

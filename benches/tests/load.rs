//! The load generator's statistics checked against servers whose behaviour
//! is known: one that answers after a fixed delay, and one that stalls for a
//! second in the middle of a run.
//!
//! The stall is the case coordinated omission hides: a closed loop stops
//! sending while it waits, so the stall costs it one slow request per
//! connection, a blip in its maximum. An open loop keeps sending on
//! schedule and counts each latency from the scheduled time, so every
//! request due during the stall is late, and the stall fills its p99.
//!
//! These servers are test fixtures for the generator, not stand-ins for the
//! shop: no real service can be made to stall on cue.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use shoplab::load::{self, DataSet, Mode, Report, Run, Workload};

/// How the fixture server answers `GET /hello`.
#[derive(Clone)]
struct Behaviour {
    /// Every answer waits this long.
    delay: Duration,
    /// Requests arriving in this window wait until its end.
    stall: Option<(Instant, Instant)>,
}

async fn hello(behaviour: web::Data<Behaviour>) -> HttpResponse {
    if let Some((from, until)) = behaviour.stall {
        let now = Instant::now();
        if now >= from && now < until {
            actix_web::rt::time::sleep(until - now).await;
        }
    }
    if !behaviour.delay.is_zero() {
        actix_web::rt::time::sleep(behaviour.delay).await;
    }
    HttpResponse::Ok().body("hello")
}

/// Starts the fixture on a free port in a thread of its own; returns its URL.
fn serve(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .expect("a bound listener has an address")
    );
    let behaviour = Arc::new(behaviour);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let behaviour = web::Data::from(behaviour);
            HttpServer::new(move || {
                App::new()
                    .app_data(behaviour.clone())
                    .route("/hello", web::get().to(hello))
            })
            .workers(2)
            .listen(listener)
            .expect("the listener is usable")
            .run()
            .await
        })
    });
    url
}

async fn drive(url: &str, mode: Mode, seconds: f64) -> Report {
    let run = Run {
        base_url: url.to_owned(),
        workload: Workload::Hello,
        mode,
        duration: Duration::from_secs_f64(seconds),
        seed: 1,
        timeout: Duration::from_secs(5),
        request_id_prefix: "test".into(),
    };
    let http = load::http_client().expect("a client builds");
    load::drive(&http, &run, &DataSet::default(), |_| {})
        .await
        .expect("the run completes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_sends_on_schedule_and_sees_a_fixed_delay_in_its_median() {
    let url = serve(Behaviour {
        delay: Duration::from_millis(20),
        stall: None,
    });
    let report = drive(
        &url,
        Mode::Open {
            rate: 50.0,
            connections: 8,
        },
        2.0,
    )
    .await;
    assert_eq!(report.all.requests, 100, "50 req/s for 2 s");
    assert_eq!(report.all.errors, 0, "{:?}", report.all.errors_by_status);
    let latency = report.all.latency_ms;
    assert!(
        latency.p50 >= 20.0,
        "no answer can beat the 20 ms delay: {latency:?}"
    );
    assert!(
        latency.p50 < 100.0,
        "the median is the delay, not a queue: {latency:?}"
    );
    let lag = report
        .send_lag_ms
        .expect("an open loop reports its send lag");
    assert!(lag.p50 < 5.0, "requests go out on schedule: {lag:?}");
    assert_eq!(report.endpoints["GET /hello"].requests, 100);
    assert!(!report.all.slowest.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_cannot_exceed_connections_over_the_delay() {
    let url = serve(Behaviour {
        delay: Duration::from_millis(20),
        stall: None,
    });
    let report = drive(&url, Mode::Closed { connections: 4 }, 2.0).await;
    assert!(
        report.send_lag_ms.is_none(),
        "a closed loop has no schedule"
    );
    assert!(
        report.all.latency_ms.p50 >= 20.0,
        "{:?}",
        report.all.latency_ms
    );
    // 4 connections, each waiting at least 20 ms per request: 200 req/s at most.
    assert!(
        report.all.throughput_rps <= 200.0 * 1.05,
        "{} req/s",
        report.all.throughput_rps
    );
    assert!(
        report.all.throughput_rps >= 50.0,
        "{} req/s",
        report.all.throughput_rps
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_fills_the_open_loops_p99_but_only_the_closed_loops_slowest_requests() {
    // The stall starts 1 s into each run and lasts 1 s.
    let stalled = |start: Instant| Behaviour {
        delay: Duration::ZERO,
        stall: Some((
            start + Duration::from_secs(1),
            start + Duration::from_secs(2),
        )),
    };

    let open_url = serve(stalled(Instant::now()));
    let open = drive(
        &open_url,
        Mode::Open {
            rate: 100.0,
            connections: 8,
        },
        3.0,
    )
    .await;
    assert_eq!(open.all.errors, 0, "{:?}", open.all.errors_by_status);
    // A third of the requests were due during the stall, each late by up to
    // a second.
    assert!(
        open.all.latency_ms.p90 >= 300.0,
        "the stall shows in the open loop's p90: {:?}",
        open.all.latency_ms
    );
    assert!(
        open.all.latency_ms.p99 >= 800.0,
        "{:?}",
        open.all.latency_ms
    );

    let closed_url = serve(stalled(Instant::now()));
    let closed = drive(&closed_url, Mode::Closed { connections: 1 }, 3.0).await;
    assert_eq!(closed.all.errors, 0, "{:?}", closed.all.errors_by_status);
    assert!(
        closed.all.latency_ms.max >= 800.0,
        "the one request that waited out the stall is the maximum: {:?}",
        closed.all.latency_ms
    );
    assert!(
        closed.all.latency_ms.p99 < 100.0,
        "the closed loop sent nothing while it waited, so its p99 hides the stall: {:?}",
        closed.all.latency_ms
    );
}

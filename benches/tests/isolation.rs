//! `shoplab isolation` on real deployments, with short phases: in the
//! microservices a crashed catalog takes down the product reads and nothing
//! that does not need it, and everything comes back once it is restarted;
//! in the monolith the fault plan's window lines up with the middle phase.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use shoplab::deployment::Kind;
use shoplab::experiment::Stamp;
use shoplab::isolation::report::{DeploymentFigures, GroupFigures};
use shoplab::isolation::traffic::Group;
use shoplab::isolation::{self, Component, Fault, Options};
use shoplab::scratch::Backend;

fn options(kind: Kind) -> Options {
    let phase = Duration::from_millis(1500);
    Options {
        bin_dir: Path::new(env!("CARGO_BIN_EXE_shoplab"))
            .parent()
            .expect("a binary lives in a directory")
            .to_path_buf(),
        backend: Backend::Sqlite,
        out: None,
        deployments: vec![kind],
        component: Component::Catalog,
        fault: Fault::Crash,
        rate: 20.0,
        order_rate: None,
        settle: Duration::from_millis(500),
        before: phase,
        during: phase,
        after: phase,
        timeout: Duration::from_secs(6),
        seed: 1,
    }
}

async fn run(kind: Kind) -> DeploymentFigures {
    let result = isolation::measure(&options(kind), Stamp::now())
        .await
        .expect("the experiment runs");
    result
        .deployments
        .into_iter()
        .next()
        .expect("one deployment was asked for")
}

fn group(figures: &DeploymentFigures, group: Group) -> &GroupFigures {
    figures
        .groups
        .iter()
        .find(|figures| figures.group == group)
        .expect("every group is measured")
}

#[tokio::test]
async fn a_crashed_catalog_service_takes_down_product_reads_and_not_user_reads() {
    let micro = run(Kind::Micro).await;
    let products = group(&micro, Group::Products);
    let users = group(&micro, Group::Users);
    assert!(products.before.success_rate > 0.95, "{micro:#?}");
    assert!(products.during.success_rate < 0.5, "{micro:#?}");
    assert!(users.during.success_rate > 0.95, "{micro:#?}");
    assert!(products.after.success_rate > 0.9, "{micro:#?}");
    assert_eq!(
        micro.restarts.get("shoplab-catalog"),
        Some(&1),
        "{micro:#?}"
    );
}

#[tokio::test]
async fn the_monoliths_fault_plan_fails_product_reads_only_in_its_window() {
    let monolith = run(Kind::Monolith).await;
    let products = group(&monolith, Group::Products);
    assert!(products.before.success_rate > 0.9, "{monolith:#?}");
    assert!(products.during.success_rate < 0.5, "{monolith:#?}");
    assert!(products.after.success_rate > 0.9, "{monolith:#?}");
    // An error in one component is not a crash of the process.
    assert!(
        monolith.restarts.values().all(|&restarts| restarts == 0),
        "{monolith:#?}"
    );
}

#[tokio::test]
async fn a_hung_payments_service_fails_orders_fast_and_costs_the_orders_service_few_threads() {
    let phase = Duration::from_millis(1500);
    let options = Options {
        component: Component::Payments,
        fault: Fault::Hang,
        order_rate: Some(50.0),
        // The circuit opens after five calls time out (1 s each, from the
        // fault's start): orders due from 2 s in fail at once, but for the
        // half-open circuit's few trials.
        during: Duration::from_secs(4),
        settle: Duration::from_secs(2),
        before: phase,
        after: phase,
        ..options(Kind::Micro)
    };
    let result = isolation::measure(&options, Stamp::now())
        .await
        .expect("the experiment runs");
    let micro = &result.deployments[0];
    let orders = group(micro, Group::Orders);
    // Once the circuit could be open, orders fail at once with 503, but for
    // the half-open circuit's trial calls (3 after each 1 s cool-down),
    // which wait out their 1 s call timeout: 504. The settled window is 2 s.
    let failures = &orders.during.settled_failures;
    let (refused, trials) = (
        failures.get("503").copied().unwrap_or(0),
        failures.get("504").copied().unwrap_or(0),
    );
    assert!(
        refused > 0
            && trials <= 9
            && failures
                .keys()
                .all(|status| status == "503" || status == "504"),
        "orders due once the circuit could be open fail with 503, but for at most 9 trial \
         calls (504): {micro:#?}"
    );
    let process = &micro.ordering_process;
    assert_eq!(process.process, "shoplab-orders");
    assert!(
        process.max_threads <= process.idle_threads + 16,
        "the orders service's threads grew by more than 16: {process:?}"
    );
    assert!(
        group(micro, Group::Products).during.success_rate > 0.95,
        "{micro:#?}"
    );
    assert!(micro.settled.no_pending_after_s.is_some(), "{micro:#?}");
    assert!(
        micro.settled.money_conserved && micro.settled.stock_conserved,
        "{micro:#?}"
    );
}

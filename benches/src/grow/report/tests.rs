//! The verdicts' tests, and a point to build them from (`so_far.rs`'s
//! tests use it too).

use super::super::{Broken, OneService};
use super::*;

pub(in crate::grow) fn point(
    n: usize,
    layout: Layout,
    deployment: &str,
    seconds: f64,
    failed: usize,
) -> Point {
    let binaries = if deployment == "microservices" {
        n + 5
    } else {
        1
    };
    let names = |count: usize| (0..count).map(|index| format!("b{index}")).collect();
    Point {
        components: n,
        layout,
        deployment: deployment.into(),
        clean_build_s: seconds,
        crates_compiled: 1,
        rebuild_s: 1.0,
        link_s: 0.5,
        crates_recompiled: 1,
        binaries_relinked: names(failed),
        binary_mib: 1.0,
        binaries,
        startup_ms: 10.0,
        rss_idle_mib: 1.0,
        redeploy_s: 0.1,
        redeploy_failed_requests: 0,
        redeploy_requests: 10,
        broken_build: Broken {
            failed: names(failed),
            built: names(binaries - failed),
        },
        one_service: (deployment == "microservices").then_some(OneService {
            clean_build_s: 40.0,
            startup_ms: 10.0,
        }),
        run: Run {
            commit: None,
            started_at: "2026-12-07T00:00:00Z".into(),
        },
    }
}

#[test]
fn each_claim_names_the_first_n_it_holds_at_and_what_decided_it() {
    let mut points = Vec::new();
    // One service builds in 40 s: 1.5x, then 2.5x and past the floor.
    for (n, monolith_build) in [(4, 60.0), (16, 100.0)] {
        for layout in Layout::ALL {
            points.push(point(n, layout, "monolith", monolith_build, 1));
            let failed = if layout == Layout::OneCrate { n + 5 } else { 1 };
            points.push(point(n, layout, "microservices", 30.0, failed));
        }
    }
    let verdicts = verdicts(&points);
    assert_eq!(verdicts.len(), 4);
    let [builds, starts, broken, rebuilt] = [0, 1, 2, 3].map(|index| &verdicts[index].verdict);
    assert!(builds.contains("one_crate: holds from N = 16"), "{builds}");
    assert!(builds.contains("the deployment decides"), "{builds}");
    assert!(starts.contains("one_crate: not up to N = 16"), "{starts}");
    for verdict in [broken, rebuilt] {
        assert!(
            verdict.contains("monolith, one_crate: holds from N = 4"),
            "{verdict}"
        );
        assert!(
            verdict.contains("microservices, one_crate: holds from N = 4"),
            "{verdict}"
        );
        assert!(
            verdict.contains("microservices, crate_per_component: not up to N = 16"),
            "{verdict}"
        );
        assert!(verdict.contains("the crate layout decides"), "{verdict}");
    }
}

#[test]
fn a_claim_the_layouts_judge_apart_is_decided_by_the_layout() {
    let mut points = Vec::new();
    for layout in Layout::ALL {
        points.push(point(16, layout, "monolith", 100.0, 1));
        let mut services = point(16, layout, "microservices", 30.0, 1);
        if layout == Layout::OneCrate {
            // One service compiles every component's rules too.
            services.one_service = Some(OneService {
                clean_build_s: 60.0,
                startup_ms: 10.0,
            });
        }
        points.push(services);
    }
    let builds = &verdicts(&points)[0].verdict;
    assert!(builds.contains("one_crate: not up to N = 16"), "{builds}");
    assert!(
        builds.contains("crate_per_component: holds from N = 16"),
        "{builds}"
    );
    assert!(builds.contains("the crate layout decides"), "{builds}");
}

#[test]
fn twice_a_service_is_not_slow_under_the_floor() {
    let mut points = Vec::new();
    for layout in Layout::ALL {
        // 62 ms against 21 ms: 2.9x, and a start nobody waits for.
        let mut monolith = point(16, layout, "monolith", 100.0, 1);
        monolith.startup_ms = 62.0;
        points.push(monolith);
        let mut services = point(16, layout, "microservices", 30.0, 1);
        services.one_service = Some(OneService {
            clean_build_s: 40.0,
            startup_ms: 21.0,
        });
        points.push(services);
    }
    let starts = &verdicts(&points)[1].verdict;
    assert!(starts.contains("one_crate: not up to N = 16"), "{starts}");
    for point in points
        .iter_mut()
        .filter(|point| point.deployment == "monolith")
    {
        point.startup_ms = 1062.0;
    }
    let starts = &verdicts(&points)[1].verdict;
    assert!(starts.contains("one_crate: holds from N = 16"), "{starts}");
}

#[test]
fn not_up_to_names_the_largest_n_measured_for_that_layout() {
    let mut points = Vec::new();
    for (n, layouts) in [(4, &Layout::ALL[..]), (16, &[Layout::OneCrate][..])] {
        for &layout in layouts {
            points.push(point(n, layout, "monolith", 50.0, 1));
            points.push(point(n, layout, "microservices", 30.0, 1));
        }
    }
    let builds = &verdicts(&points)[0].verdict;
    assert!(builds.contains("one_crate: not up to N = 16"), "{builds}");
    assert!(
        builds.contains("crate_per_component: not up to N = 4"),
        "{builds}"
    );
}

//! The unit tests of `balance.rs`.

use super::*;

fn three() -> Replicas {
    let urls = "http://a:1, http://b:2,http://c:3/".parse().expect("valid");
    Replicas::new("catalog", urls)
}

#[test]
fn a_list_parses_into_trimmed_urls_and_a_bad_one_is_named() {
    let urls: ReplicaUrls = "http://a:1, http://b:2/".parse().expect("valid");
    assert_eq!(urls.0, ["http://a:1", "http://b:2"]);
    let error = "http://a:1,b:2"
        .parse::<ReplicaUrls>()
        .expect_err("a URL without a scheme is refused");
    assert!(error.contains("\"b:2\""), "{error}");
}

#[test]
fn equal_load_goes_round_robin() {
    let replicas = three();
    let urls: Vec<String> = (0..6)
        .map(|_| replicas.pick(&[]).expect("a replica").url().to_owned())
        .collect();
    assert_eq!(
        urls,
        [
            "http://a:1",
            "http://b:2",
            "http://c:3",
            "http://a:1",
            "http://b:2",
            "http://c:3"
        ]
    );
}

#[test]
fn the_replica_with_fewest_outstanding_requests_is_picked() {
    let replicas = three();
    let held_a = replicas.pick(&[]).expect("a");
    let held_b = replicas.pick(&[]).expect("b");
    let also_held_c = replicas.pick(&[]).expect("c");
    drop(held_b);
    // a and c each have one outstanding, b none: b, whatever the turn.
    for _ in 0..3 {
        assert_eq!(replicas.pick(&[]).expect("b").url(), "http://b:2");
    }
    drop((held_a, also_held_c));
}

#[test]
fn a_refused_replica_gets_nothing_until_it_is_healthy_again() {
    let replicas = three();
    replicas.pick(&[]).expect("a").refused();
    for _ in 0..4 {
        assert_ne!(replicas.pick(&[]).expect("b or c").url(), "http://a:1");
    }
    replicas.mark("http://a:1", true);
    let picked: Vec<String> = (0..3)
        .map(|_| replicas.pick(&[]).expect("any").url().to_owned())
        .collect();
    assert!(picked.iter().any(|url| url == "http://a:1"), "{picked:?}");
}

#[test]
fn a_retry_skips_what_was_tried_and_ends_when_all_were() {
    let replicas = three();
    let first = replicas.pick(&[]).expect("one");
    first.refused();
    let second = replicas.pick(&[first.index()]).expect("another");
    assert_ne!(second.index(), first.index());
    let third = replicas
        .pick(&[first.index(), second.index()])
        .expect("the last");
    assert!(replicas
        .pick(&[first.index(), second.index(), third.index()])
        .is_none());
}

#[test]
fn with_every_replica_down_a_request_still_goes_somewhere() {
    let replicas = three();
    for url in ["http://a:1", "http://b:2", "http://c:3"] {
        replicas.mark(url, false);
    }
    assert!(!replicas.any_healthy());
    assert!(replicas.pick(&[]).is_some());
}

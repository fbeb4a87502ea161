//! The unit tests of `faults.rs`.

use super::*;
use crate::local::drive;

#[test]
fn a_plan_reads_every_kind_and_its_window() {
    let plan = FaultPlan::parse(
        r#"
        seed = 3
        [[fault]]
        op = "payments.charge"
        kind = "crash_after"
        probability = 0.5
        from_s = 1
        until_s = 2.5
        [[fault]]
        op = "catalog.reserve"
        kind = "delay"
        delay_ms = 20
        "#,
    )
    .expect("a valid plan");
    assert_eq!(plan.seed, 3);
    assert_eq!(plan.rules[0].op, Op::PaymentsCharge);
    assert_eq!(plan.rules[0].kind, Kind::CrashAfter);
    assert_eq!(plan.rules[0].until, Some(Duration::from_millis(2500)));
    assert_eq!(plan.rules[1].kind, Kind::Delay(Duration::from_millis(20)));
    assert_eq!(plan.rules[1].probability, 1.0);
}

#[test]
fn a_plan_with_a_mistake_says_which() {
    for (text, says) in [
        (
            "[[fault]]\nop = \"payments.pay\"\nkind = \"error\"",
            "unknown op",
        ),
        (
            "[[fault]]\nop = \"users.user\"\nkind = \"explode\"",
            "unknown kind",
        ),
        (
            "[[fault]]\nop = \"users.user\"\nkind = \"delay\"",
            "delay_ms",
        ),
        (
            "[[fault]]\nop = \"users.user\"\nkind = \"error\"\nprobability = 2",
            "probability",
        ),
        (
            "[[fault]]\nop = \"users.user\"\nkind = \"error\"\nfrom_s = 3\nuntil_s = 1",
            "until_s",
        ),
        ("[[faults]]\nop = \"users.user\"", "unknown field"),
    ] {
        let error = FaultPlan::parse(text).expect_err(text);
        assert!(error.contains(says), "{text:?} gave {error:?}");
    }
}

#[test]
fn an_error_rule_fails_the_operation_without_running_it() {
    let plan =
        FaultPlan::parse("[[fault]]\nop = \"catalog.reserve\"\nkind = \"error\"").expect("valid");
    let mut ran = false;
    let outcome = drive(plan.around(
        Op::CatalogReserve,
        Deadline::after(Duration::from_secs(1)),
        async {
            ran = true;
            Ok(())
        },
    ));
    assert!(matches!(outcome, Err(ShopError::ServiceUnavailable(_))));
    assert!(!ran);
    // Other operations are untouched.
    assert!(drive(plan.around(
        Op::CatalogRelease,
        Deadline::after(Duration::from_secs(1)),
        async { Ok(()) }
    ))
    .is_ok());
}

#[test]
fn the_same_seed_strikes_the_same_calls() {
    let text = "seed = 11\n[[fault]]\nop = \"users.user\"\nkind = \"error\"\nprobability = 0.5";
    let pattern = |plan: FaultPlan| -> Vec<bool> {
        (0..64)
            .map(|_| !plan.strikes(Op::UsersUser).is_empty())
            .collect()
    };
    let one = pattern(FaultPlan::parse(text).expect("valid"));
    let other = pattern(FaultPlan::parse(text).expect("valid"));
    assert_eq!(one, other);
    assert!(one.iter().any(|&struck| struck) && one.iter().any(|&struck| !struck));
}

#[test]
fn a_rule_outside_its_window_does_not_strike() {
    let plan = FaultPlan::parse("[[fault]]\nop = \"users.user\"\nkind = \"error\"\nfrom_s = 3600")
        .expect("valid");
    assert!(plan.strikes(Op::UsersUser).is_empty());
}

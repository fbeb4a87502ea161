//! Which crate may depend on which: no service crate on another, and no
//! HTTP, CLI or exporter crate in the domain crate's tree.

use crate::workspace;

/// The crates under `microservices/`: one per service, the gateway,
/// `service` (what they share), and `group` (any group of components as one
/// process, which alone hosts the service crates' components).
const MICROSERVICE_CRATES: [&str; 7] = [
    "service", "users", "catalog", "payments", "orders", "gateway", "group",
];

/// What the group crate may depend on: the components' crates it hosts, and
/// what they use; never the gateway or the monolith.
const THE_GROUP_MAY_USE: [&str; 8] = [
    "shoplab-common",
    "shoplab-http",
    "shoplab-service",
    "shoplab-testkit",
    "shoplab-users",
    "shoplab-catalog",
    "shoplab-payments",
    "shoplab-orders",
];

/// The workspace crates a service crate (or the gateway) may depend on
/// (`shoplab-testkit` for its tests only).
const A_SERVICE_MAY_USE: [&str; 4] = [
    "shoplab-common",
    "shoplab-http",
    "shoplab-service",
    "shoplab-testkit",
];

/// The `shoplab-...` crates a manifest names as dependencies (of any kind):
/// the keys of lines like `shoplab-common.workspace = true`.
fn shoplab_dependencies(manifest: &str) -> Vec<String> {
    manifest
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("shoplab-"))
        .filter_map(|line| line.split(['.', ' ', '=']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_service_crate_depends_on_another() {
    let found: std::collections::BTreeSet<String> =
        std::fs::read_dir(workspace().join("microservices"))
            .expect("microservices/ is readable")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
    let known: std::collections::BTreeSet<String> = MICROSERVICE_CRATES
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert_eq!(
        found, known,
        "a crate under microservices/ this check does not know"
    );
    for name in MICROSERVICE_CRATES
        .into_iter()
        .filter(|&name| name != "service")
    {
        let path = workspace()
            .join("microservices")
            .join(name)
            .join("Cargo.toml");
        let manifest = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let used = shoplab_dependencies(&manifest);
        assert!(
            used.iter().any(|crate_name| crate_name == "shoplab-common"),
            "{} names no shoplab-common: is the check reading it right? {used:?}",
            path.display()
        );
        let allowed: &[&str] = if name == "group" {
            &THE_GROUP_MAY_USE
        } else {
            &A_SERVICE_MAY_USE
        };
        let forbidden: Vec<_> = used
            .iter()
            .filter(|crate_name| !allowed.contains(&crate_name.as_str()))
            .collect();
        assert!(
            forbidden.is_empty(),
            "{} depends on {forbidden:?}; it may use only {allowed:?}",
            path.display()
        );
    }
}

/// The crates the domain crate must never have in its tree: a server, a
/// client, the flags, the exporter. They are the edge's (`common/http`).
const NOT_IN_THE_DOMAIN: [&str; 6] = [
    "actix-web",
    "actix-http",
    "reqwest",
    "hyper",
    "clap",
    "metrics-exporter-prometheus",
];

/// `cargo tree --offline --prefix none ARGS` in the workspace: its output.
fn cargo_tree(args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(&cargo)
        .current_dir(workspace())
        .args(["tree", "--offline", "--prefix", "none"])
        .args(args)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The package names in `cargo tree --prefix none` output (`name vX.Y.Z
/// (...)`, one a line, a repeat marked `(*)`).
fn tree_packages(tree: &str) -> std::collections::BTreeSet<String> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_domain_crate_depends_on_no_http_cli_or_exporter_crate() {
    let tree = |package: &str| tree_packages(&cargo_tree(&["-e", "normal", "-p", package]));
    let domain = tree("shoplab-common");
    assert!(
        domain.contains("shoplab-common") && domain.contains("diesel"),
        "the tree was read: {domain:?}"
    );
    let found: Vec<_> = NOT_IN_THE_DOMAIN
        .iter()
        .filter(|name| domain.contains(**name))
        .collect();
    assert!(
        found.is_empty(),
        "shoplab-common depends on {found:?}: they belong in common/http (shoplab-http)"
    );
    // The same reading finds them in the edge, so an empty answer above is
    // the domain's and not a misread tree.
    let edge = tree("shoplab-http");
    for name in ["actix-web", "clap", "metrics-exporter-prometheus"] {
        assert!(
            edge.contains(name),
            "shoplab-http's tree has no {name}: {edge:?}"
        );
    }
}

/// Each package's feature sets in `cargo tree --prefix none -f '{p} [{f}]'`
/// output, by `name version` (a package built for the host and for the
/// target can have two).
fn tree_features(
    tree: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut features = std::collections::BTreeMap::<_, std::collections::BTreeSet<_>>::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version), Some(open)) = (words.next(), words.next(), line.rfind('['))
        else {
            continue;
        };
        let set = line[open..].trim_end_matches(" (*)").to_owned();
        features
            .entry(format!("{name} {version}"))
            .or_default()
            .insert(set);
    }
    features
}

/// CI builds the release binaries (`cargo build --release --workspace`),
/// then runs the counting test (`cargo test --release -p shoplab`), which
/// adds the harness's dev-dependencies. Where those turn on a feature the
/// release build did not, cargo builds that crate and all that depend on
/// it again (serde's `alloc` alone rebuilt every crate: 3 minutes). The
/// harness's manifest asks for those features itself (benches/Cargo.toml).
#[test]
fn the_release_build_and_the_counting_test_resolve_the_same_features() {
    let tree = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["-f", "{p} [{f}]"]);
        tree_features(&cargo_tree(&args))
    };
    let release = tree(&["--workspace", "-e", "normal,build"]);
    let test = tree(&["-p", "shoplab", "-e", "normal,build,dev"]);
    assert!(
        release.keys().any(|package| package.starts_with("serde "))
            && test.keys().any(|package| package.starts_with("criterion ")),
        "the trees were read: {:?}",
        release.keys().take(5).collect::<Vec<_>>()
    );
    let differ: Vec<String> = release
        .iter()
        .filter_map(|(package, features)| {
            let other = test.get(package)?;
            (other != features).then(|| format!("{package}: {features:?} against {other:?}"))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "the counting test would build these again (and all that depend on them); \
         ask for the test's features in benches/Cargo.toml: {differ:#?}"
    );
}

//! Checks on the source tree itself, in the manner of rust-analyzer's `tidy`:
//! every Rust file starts with a `//!` comment saying what it is for, so a
//! reader opening any file in the two deployments knows where they are; and
//! no service crate depends on another, so services meet only over HTTP and
//! a change to one rebuilds that one alone (ARCHITECTURE.md's invariant);
//! and the public routes the code mounts are the ones docs/openapi.yaml
//! describes, both ways; and the domain crate's dependency tree holds no
//! HTTP, CLI or exporter crate, so the compiler keeps it free of them.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits inside the workspace")
}

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

#[test]
fn every_rust_file_starts_with_a_module_comment() {
    let workspace = workspace();
    let mut files = Vec::new();
    // `microservices` is a directory of crates; the walk goes into each.
    for dir in ["common", "monolith", "microservices", "benches", "testkit"] {
        rust_files(&workspace.join(dir), &mut files);
    }
    assert!(files.len() > 40, "found only {} files", files.len());
    let undocumented: Vec<_> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.starts_with("//!")
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a leading //! comment: {undocumented:?}"
    );
}

/// The most lines a file of the product (the domain, the edge and the
/// deployments) may have: a file per concept, readable in one sitting.
/// The harness's own files are not held to it.
const PRODUCT_FILE_LINES_AT_MOST: usize = 400;

#[test]
fn no_product_file_is_over_four_hundred_lines() {
    let mut files = Vec::new();
    for dir in ["common", "monolith", "microservices"] {
        rust_files(&workspace().join(dir), &mut files);
    }
    assert!(files.len() > 40, "found only {} files", files.len());
    let long: Vec<_> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).ok()?.lines().count();
            (lines > PRODUCT_FILE_LINES_AT_MOST).then(|| format!("{} ({lines})", path.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {PRODUCT_FILE_LINES_AT_MOST} lines: {long:?}; split them by concept"
    );
}

/// Where a product file may still print with `eprintln!`, and why: what a
/// process says as it exits, before (or instead of) serving. Everything
/// else a process says goes through `tracing` (`common/http/src/logging.rs`).
const MAY_PRINT: [(&str, &str); 2] = [
    (
        "microservices/service/src/startup.rs",
        "exit_on_error: a service's fatal start-up error, for its main.rs",
    ),
    (
        "common/http/src/cli.rs",
        "--check-health: the probe's one-line answer as the process exits",
    ),
];

#[test]
fn operational_events_go_through_tracing_not_eprintln() {
    let mut files = Vec::new();
    for dir in ["common", "monolith", "microservices"] {
        rust_files(&workspace().join(dir), &mut files);
    }
    let printing: Vec<String> = files
        .iter()
        .filter(|path| {
            let relative = path.strip_prefix(workspace()).unwrap_or(path);
            let in_tests = relative
                .components()
                .any(|part| part.as_os_str() == "tests");
            let allowed = path.ends_with("main.rs")
                || MAY_PRINT
                    .iter()
                    .any(|(file, _)| relative == Path::new(file));
            !in_tests && !allowed
        })
        .filter(|path| {
            std::fs::read_to_string(path)
                .unwrap_or_default()
                .contains("eprintln!(")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        printing.is_empty(),
        "eprintln! outside a main.rs: {printing:?}; use tracing::{{info, warn, error}}"
    );
}

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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let tree = |package: &str| {
        let output = std::process::Command::new(&cargo)
            .current_dir(workspace())
            .args([
                "tree",
                "--offline",
                "--prefix",
                "none",
                "-e",
                "normal",
                "-p",
                package,
            ])
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo tree -p {package} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        tree_packages(&String::from_utf8_lossy(&output.stdout))
    };
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

/// GitHub's anchor for a heading: lower case, letters, digits, `-` and `_`
/// kept, spaces made `-`, everything else dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// The relative link targets of a Markdown file: the `x` of every `](x)`
/// that is not a URL.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| !target.contains("://") && !target.starts_with("mailto:"))
        .map(str::to_owned)
        .collect()
}

/// A link's `#L12` or `#L12-L30`: the lines it points at.
fn line_range(fragment: &str) -> Option<(usize, usize)> {
    let (first, last) = match fragment.split_once('-') {
        Some((first, last)) => (first, last),
        None => (fragment, fragment),
    };
    let first = first.strip_prefix('L')?.parse().ok()?;
    let last = last.strip_prefix('L')?.parse().ok()?;
    Some((first, last))
}

/// The text of the link to `link` in `document`: what is between `[` and
/// `](link)`, its backticks dropped.
fn link_text(document: &str, link: &str) -> Option<String> {
    let end = document.find(&format!("]({link})"))?;
    let start = document[..end].rfind('[')? + 1;
    Some(document[start..end].replace('`', ""))
}

/// A link to lines of a source file holds while the lines exist and the
/// first of them still says what the link's text says; otherwise it says
/// where that text is now.
fn check_line_link(
    document: &str,
    link: &str,
    target: &Path,
    (first, last): (usize, usize),
) -> Result<(), String> {
    let source = std::fs::read_to_string(target).map_err(|error| error.to_string())?;
    let lines: Vec<&str> = source.lines().collect();
    if first == 0 || first > last || last > lines.len() {
        return Err(format!("the file has {} lines", lines.len()));
    }
    let text = link_text(document, link).ok_or("no link text")?;
    if lines[first - 1].contains(&text) {
        return Ok(());
    }
    let now: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.contains(&text))
        .map(|(at, _)| format!("L{}", at + 1))
        .collect();
    Err(format!(
        "line {first} does not say `{text}`; it is now at {now:?}"
    ))
}

#[test]
fn every_relative_link_in_the_docs_leads_somewhere() {
    let workspace = workspace();
    let mut documents = vec![
        workspace.join("README.md"),
        workspace.join("ARCHITECTURE.md"),
    ];
    let docs = std::fs::read_dir(workspace.join("docs")).expect("docs/ is readable");
    documents.extend(
        docs.filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "md")),
    );
    let mut checked = 0;
    let mut broken = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document).expect("a document is readable");
        let here = document.parent().expect("a document sits in a folder");
        for link in relative_links(&text) {
            checked += 1;
            let (file, fragment) = match link.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                document.clone()
            } else {
                here.join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", document.display()));
            } else if let Some(lines) = fragment.and_then(line_range) {
                if let Err(why) = check_line_link(&text, &link, &target, lines) {
                    broken.push(format!("{}: {link} ({why})", document.display()));
                }
            } else if let Some(fragment) = fragment {
                let headings = std::fs::read_to_string(&target)
                    .map(|text| anchors(&text))
                    .unwrap_or_default();
                if !headings.iter().any(|heading| heading == fragment) {
                    broken.push(format!("{}: {link} (no such heading)", document.display()));
                }
            }
        }
    }
    assert!(
        checked > 50,
        "found only {checked} links: is the check reading them right?"
    );
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_readme_stays_short_enough_to_reach_its_lessons() {
    let text =
        std::fs::read_to_string(workspace().join("README.md")).expect("README.md is readable");
    let lines = text.lines().count();
    assert!(
        lines < 250,
        "README.md has {lines} lines; manuals go to docs/INSTRUMENTS.md, tables to docs/RESULTS.md"
    );
    let lessons = text
        .find("## The lessons")
        .expect("README.md has its lessons");
    let instruments = text
        .find("docs/INSTRUMENTS.md")
        .expect("README.md points to the manuals");
    assert!(
        lessons < text.len() / 2,
        "the lessons start past the README's middle"
    );
    assert!(
        instruments < lessons,
        "the manuals' pointer comes before the lessons"
    );
}

#[test]
fn a_link_to_lines_holds_only_while_its_first_line_says_its_text() {
    let document = "read [`place_in`](../x.rs#L2-L3) and [`gone`](../x.rs#L1)";
    let target = std::env::temp_dir().join(format!("tidy-lines-{}.rs", std::process::id()));
    std::fs::write(&target, "//! x\nfn place_in() {\n}\n").expect("a temporary file");
    let checked = |link: &str, lines| check_line_link(document, link, &target, lines);
    assert_eq!(checked("../x.rs#L2-L3", (2, 3)), Ok(()));
    let moved = checked("../x.rs#L1", (1, 1)).expect_err("line 1 does not say `gone`");
    assert!(moved.contains("does not say `gone`"), "{moved}");
    assert!(checked("../x.rs#L2-L3", (2, 9)).is_err(), "past the end");
    assert_eq!(line_range("L12-L30"), Some((12, 30)));
    assert_eq!(line_range("L7"), Some((7, 7)));
    assert_eq!(line_range("the-heading"), None);
    let _ = std::fs::remove_file(&target);
}

#[test]
fn an_anchor_is_made_as_github_makes_it() {
    assert_eq!(anchor(" Fencing: who may write"), "fencing-who-may-write");
    assert_eq!(
        anchor(" Running a deployment by hand (`shoplab up`)"),
        "running-a-deployment-by-hand-shoplab-up"
    );
    assert_eq!(anchors("# A\n```\n# not\n```\n## B c"), ["a", "b-c"]);
}

/// Each `METHOD /path` a source file mounts with `resource("/path")`
/// followed by `.get(`, `.post(`, ... (up to the next resource), leaving
/// out the services' `/internal/...` routes, which are not the public API.
fn mounted_routes(source: &str) -> Vec<String> {
    let mut routes = Vec::new();
    for (at, _) in source.match_indices("resource(\"") {
        let rest = &source[at + "resource(\"".len()..];
        let Some(end) = rest.find('"') else { continue };
        let path = &rest[..end];
        if !path.starts_with('/') || path.starts_with("/internal") {
            continue;
        }
        let until_next = rest[end..]
            .find("resource(")
            .map_or(&rest[end..], |next| &rest[end..end + next]);
        for method in ["get", "post", "put", "patch", "delete"] {
            if until_next.contains(&format!(".{method}(")) {
                routes.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

/// Each `METHOD /path` under `paths:` in an OpenAPI document laid out as
/// docs/openapi.yaml is: a path at two spaces, its methods at four.
fn documented_routes(document: &str) -> Vec<String> {
    let mut routes = Vec::new();
    let mut path = None;
    let mut in_paths = false;
    for line in document.lines() {
        if !line.starts_with(' ') {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(key) = line
            .strip_prefix("  /")
            .and_then(|key| key.strip_suffix(':'))
        {
            path = Some(format!("/{key}"));
        } else if let (Some(path), Some(method)) = (&path, line.strip_prefix("    ")) {
            let method = method.trim_end().trim_end_matches(':');
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                routes.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

#[test]
fn every_public_route_the_code_mounts_is_in_the_openapi_document_and_back() {
    let root = workspace();
    let mut files = Vec::new();
    for dir in ["common", "monolith", "microservices"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut mounted = std::collections::BTreeSet::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a readable source file");
        mounted.extend(mounted_routes(&source));
    }
    let document = std::fs::read_to_string(root.join("docs/openapi.yaml"))
        .expect("docs/openapi.yaml is readable");
    let documented: std::collections::BTreeSet<String> =
        documented_routes(&document).into_iter().collect();
    assert!(
        documented.len() >= 14,
        "the document was read: {documented:?}"
    );
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        undocumented.is_empty() && unmounted.is_empty(),
        "mounted but not in docs/openapi.yaml: {undocumented:?}; in it but mounted nowhere: \
         {unmounted:?}"
    );
}

#[test]
fn a_route_is_read_from_a_resource_and_from_the_document_alike() {
    let source = r#"config.service(resource("/orders").post(place))
        .service(resource("/internal/x").get(steps))
        .service(
            resource("/audit/orders/{id}")
                .app_data(data)
                .get(order_audit),
        );"#;
    assert_eq!(
        mounted_routes(source),
        ["POST /orders", "GET /audit/orders/{id}"]
    );
    let document =
        "openapi: 3.1.0\npaths:\n  /orders:\n    post:\n      x: 1\n    parameters: []\n\
                    components:\n  /not:\n    get:\n";
    assert_eq!(documented_routes(document), ["POST /orders"]);
}

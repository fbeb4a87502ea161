//! The public routes the code mounts are the ones docs/openapi.yaml
//! describes, both ways.

use crate::{rust_files, workspace};

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

//! The grown shop's generation: its SQL renaming, its manifests, and a
//! generated shop that cargo reads as a workspace.

use super::*;

#[test]
fn the_grown_shop_is_a_workspace_with_each_generated_component_wired_in() {
    let source = crate::experiment::source_root();
    for layout in Layout::ALL {
        let scratch = tempfile::tempdir().expect("a temp dir");
        let root = scratch.path().join("shop");
        generate(&source, &root, 2, layout).expect("the shop is generated");
        let metadata = std::process::Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--no-deps",
                "--offline",
                "--format-version",
                "1",
            ])
            .current_dir(&root)
            .output()
            .expect("cargo metadata runs");
        assert!(
            metadata.status.success(),
            "{}",
            String::from_utf8_lossy(&metadata.stderr)
        );
        let metadata: serde_json::Value =
            serde_json::from_slice(&metadata.stdout).expect("cargo metadata prints JSON");
        let packages: Vec<&str> = metadata["packages"]
            .as_array()
            .expect("a package list")
            .iter()
            .filter_map(|package| package["name"].as_str())
            .collect();
        for name in [
            "shoplab-catalog01",
            "shoplab-catalog02",
            "shoplab-monolith",
            "shoplab-group",
        ] {
            assert!(
                packages.contains(&name),
                "{layout:?}: no {name} in {packages:?}"
            );
        }
        assert_eq!(
            packages.contains(&"shoplab-catalog02-rules"),
            layout == Layout::CratePerComponent,
            "{layout:?}: {packages:?}"
        );
        assert!(!packages.iter().any(|name| name.contains("testkit")));
        let rules = std::fs::read_to_string(root.join(rules_file(layout, "catalog01")))
            .expect("the rules are where the change goes");
        assert_eq!(rules.matches(RULE_LINE).count(), 1, "{layout:?}");
        let monolith =
            std::fs::read_to_string(root.join("monolith/src/lib.rs")).expect("the monolith");
        assert!(monolith.contains(".configure(grown::configure)"));
        let gateway = std::fs::read_to_string(root.join("microservices/gateway/src/main.rs"))
            .expect("the gateway");
        assert!(gateway.contains("grown::remember(&args.grown_urls)"));
    }
}

#[test]
fn only_the_catalog_tables_are_renamed_and_only_whole_words() {
    let sql = "CREATE TABLE products (id INTEGER);\nINSERT INTO reservations_keyed SELECT * FROM reservations;\n-- products_seen stays";
    assert_eq!(
        rename_tables(sql, "catalog07"),
        "CREATE TABLE catalog07_products (id INTEGER);\nINSERT INTO catalog07_reservations_keyed SELECT * FROM catalog07_reservations;\n-- products_seen stays"
    );
}

#[test]
fn the_dev_dependencies_go_and_the_rest_stays() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\na = 1\n\n[dev-dependencies]\nb = 2\n\n[lints]\nworkspace = true\n";
    assert_eq!(
        without_dev_dependencies(manifest),
        "[package]\nname = \"x\"\n\n[dependencies]\na = 1\n\n[lints]\nworkspace = true\n"
    );
}

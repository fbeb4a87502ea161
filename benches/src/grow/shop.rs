//! The grown shop: a copy of the real shop's product crates (not the
//! harness, not the test kit) with N generated components beside the real
//! four, written in a scratch directory, never in the repository.
//!
//! Each generated component `catalogNN` is a copy of the catalog: its store
//! (`common/src/catalog/store.rs`, copied, on tables of its own), its
//! migrations (the catalog's, their tables renamed), its rules (one: the
//! largest stock a product may have), its public routes under `/catalogNN`
//! and its internal API. It is wired the three ways the real ones are: a
//! service of its own (`grown/catalogNN`, lib and binary), and mounted by
//! the monolith (on its one database) and by the modular monolith (on a
//! database of its own). Where its rules and store live is the [`Layout`].

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::templates;

mod wire;
use crate::build_time::cargo::{copy_tree, workspace_entries};

/// Where the generated components' rules and store live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Layout {
    /// Modules of the one domain crate, `shoplab-common`, as the real
    /// components' are today: every binary depends on them all.
    OneCrate,
    /// A crate of its own per component (`grown/catalogNN-rules`), which
    /// the monolith, the modular monolith and that component's service
    /// depend on, and no other service.
    CratePerComponent,
}

impl Layout {
    pub const ALL: [Layout; 2] = [Layout::OneCrate, Layout::CratePerComponent];

    pub fn name(self) -> &'static str {
        match self {
            Layout::OneCrate => "one_crate",
            Layout::CratePerComponent => "crate_per_component",
        }
    }
}

/// The workspace members the grown shop keeps: the product, not the
/// harness or the test kit.
fn is_product(entry: &Path) -> bool {
    !(entry.starts_with("benches") || entry.starts_with("testkit"))
}

/// A generated component's name: `catalog01`, `catalog02`, …
pub fn component(index: usize) -> String {
    format!("catalog{index:02}")
}

/// The file that holds the rules of generated component `name`, from the
/// shop's root: where the one-line change and the compile error go.
pub fn rules_file(layout: Layout, name: &str) -> PathBuf {
    match layout {
        Layout::OneCrate => PathBuf::from(format!("common/src/grown/{name}/mod.rs")),
        Layout::CratePerComponent => PathBuf::from(format!("grown/{name}-rules/src/lib.rs")),
    }
}

/// The rule's line as generated, and as the change and the error make it.
pub const RULE_LINE: &str = "pub const MAX_STOCK: i64 = 1_000_000;";

/// Writes the shop with `components` generated components in `layout` at
/// `root` (emptied first), from the real shop at `source`.
pub fn generate(
    source: &Path,
    root: &Path,
    components: usize,
    layout: Layout,
) -> anyhow::Result<()> {
    if root.exists() {
        std::fs::remove_dir_all(root)
            .with_context(|| format!("cannot empty {}", root.display()))?;
    }
    let entries: Vec<PathBuf> = workspace_entries(source)?
        .into_iter()
        .filter(|entry| is_product(entry))
        .collect();
    for entry in &entries {
        copy_tree(&source.join(entry), &root.join(entry))?;
        let manifest = root.join(entry).join("Cargo.toml");
        if manifest.is_file() {
            let text = read(&manifest)?;
            write(&manifest, &without_dev_dependencies(&text))?;
        }
    }
    let names: Vec<String> = (1..=components).map(component).collect();
    let mut members: Vec<String> = entries
        .iter()
        .filter(|entry| root.join(entry).join("Cargo.toml").is_file())
        .map(|entry| entry.display().to_string())
        .collect();
    let mut dependencies = Vec::new();
    for name in &names {
        members.push(format!("grown/{name}"));
        dependencies.push(format!("shoplab-{name} = {{ path = \"grown/{name}\" }}"));
        if layout == Layout::CratePerComponent {
            members.push(format!("grown/{name}-rules"));
            dependencies.push(format!(
                "shoplab-{name}-rules = {{ path = \"grown/{name}-rules\" }}"
            ));
        }
    }
    let manifest = root.join("Cargo.toml");
    write(
        &manifest,
        &workspace_manifest(&read(&manifest)?, &members, &dependencies)?,
    )?;
    if layout == Layout::OneCrate {
        let modules: String = names
            .iter()
            .map(|name| format!("pub mod {name};\n"))
            .collect();
        write(
            &root.join("common/src/grown/mod.rs"),
            &format!(
                "//! The components `shoplab grow` generated: their rules and stores.\n\n{modules}"
            ),
        )?;
        append(&root.join("common/src/lib.rs"), "\npub mod grown;\n")?;
    }
    let catalog = Catalog::read(source)?;
    for (index, name) in names.iter().enumerate() {
        write_component(&catalog, root, name, index + 1, layout)?;
    }
    wire::monolith(root, &names)?;
    wire::group(root, &names)?;
    wire::gateway(root)?;
    Ok(())
}

fn write_component(
    catalog: &Catalog,
    root: &Path,
    name: &str,
    index: usize,
    layout: Layout,
) -> anyhow::Result<()> {
    let (common, migrations_dir, rules_path) = match layout {
        Layout::OneCrate => (
            "crate",
            format!("migrations/grown/{name}"),
            format!("shoplab_common::grown::{name}"),
        ),
        Layout::CratePerComponent => (
            "shoplab_common",
            "migrations".to_owned(),
            format!("shoplab_{name}_rules"),
        ),
    };
    let fill = |template: &str| {
        template
            .replace("MIGRATIONS_DIR", &migrations_dir)
            .replace("RULES", &rules_path)
            .replace("COMMON", common)
            .replace("CRATE", &format!("shoplab_{name}"))
            .replace("NAME", name)
    };
    let rules = root.join(rules_file(layout, name));
    let rules_dir = rules.parent().context("the rules file has a folder")?;
    write(
        &rules,
        &fill(&templates::RULES.replace("SCHEMA_TABLES", &catalog.schema(name))),
    )?;
    write(&rules_dir.join("store.rs"), &catalog.store(name, layout))?;
    let migrations = match layout {
        Layout::OneCrate => root.join("common").join(&migrations_dir),
        Layout::CratePerComponent => root.join(format!("grown/{name}-rules/migrations")),
    };
    catalog.write_migration(&migrations, name, index)?;
    if layout == Layout::CratePerComponent {
        write(
            &root.join(format!("grown/{name}-rules/Cargo.toml")),
            &package(
                &format!("shoplab-{name}-rules"),
                &["diesel", "diesel_migrations", "shoplab-common"],
                "",
            ),
        )?;
    }
    let mut deps = vec![
        "actix-web",
        "anyhow",
        "clap",
        "shoplab-common",
        "shoplab-http",
        "shoplab-service",
    ];
    let rules_crate = format!("shoplab-{name}-rules");
    if layout == Layout::CratePerComponent {
        deps.push(&rules_crate);
    }
    let service = root.join(format!("grown/{name}"));
    let targets = format!(
        "\n[lib]\npath = \"src/lib.rs\"\n\n[[bin]]\nname = \"shoplab-{name}\"\npath = \"src/main.rs\"\n"
    );
    write(
        &service.join("Cargo.toml"),
        &package(&format!("shoplab-{name}"), &deps, &targets),
    )?;
    write(&service.join("src/lib.rs"), &fill(templates::SERVICE_LIB))?;
    write(&service.join("src/main.rs"), &fill(templates::SERVICE_MAIN))?;
    Ok(())
}

/// What every generated component copies from the real catalog, read
/// once per shop: its store, its tables' schema and its SQLite migrations.
struct Catalog {
    /// `common/src/catalog/store.rs`, its schema import pointed at the
    /// copy's own tables.
    store: String,
    /// The catalog section of `common/src/db/schema.rs` (from its
    /// `// --- catalog ---` line to the next section's).
    schema: String,
    /// The catalog's migrations' `up.sql`, in order, as one.
    up: String,
}

impl Catalog {
    fn read(source: &Path) -> anyhow::Result<Self> {
        const SCHEMA: &str = "use crate::db::schema::{products, reservation_lines, reservations};";
        let store = read(&source.join("common/src/catalog/store.rs"))?;
        if !store.contains(SCHEMA) {
            bail!("common/src/catalog/store.rs no longer has the line `{SCHEMA}`: shoplab grow's copy needs updating");
        }
        let store = store.replace(
            SCHEMA,
            "use super::schema::{products, reservation_lines, reservations};",
        );
        let schema = read(&source.join("common/src/db/schema.rs"))?;
        let schema = schema
            .split("// --- catalog ")
            .nth(1)
            .and_then(|rest| rest.split_once('\n'))
            .and_then(|(_, body)| body.split("// --- ").next())
            .context("common/src/db/schema.rs has no `// --- catalog ---` section: shoplab grow's copy needs updating")?
            .to_owned();
        let migrations = source.join("common/migrations/sqlite/catalog");
        let mut steps: Vec<PathBuf> = std::fs::read_dir(&migrations)
            .with_context(|| format!("cannot read {}", migrations.display()))?
            .map(|entry| entry.map(|entry| entry.path().join("up.sql")))
            .collect::<Result<_, _>>()?;
        steps.sort();
        let mut up = String::new();
        for step in &steps {
            up.push_str(&read(step)?);
            up.push('\n');
        }
        let catalog = Self { store, schema, up };
        if catalog.schema("x").matches("#[sql_name").count() != 3 {
            bail!("common/src/db/schema.rs's catalog section no longer has its three tables: shoplab grow's copy needs updating");
        }
        Ok(catalog)
    }

    /// The store, as generated component `name`'s: on its own tables (its
    /// rules' `schema`), naming the domain crate from where it is.
    fn store(&self, name: &str, layout: Layout) -> String {
        let store = match layout {
            Layout::OneCrate => self.store.clone(),
            Layout::CratePerComponent => self.store.replace("crate::", "shoplab_common::"),
        };
        format!("//! {name}'s store: common/src/catalog/store.rs, copied by `shoplab grow`.\n//!\n{store}")
    }

    /// The tables, each named `name_TABLE` in SQL (diesel's `#[sql_name]`),
    /// its Rust name kept, so the copied store reads as the catalog's.
    fn schema(&self, name: &str) -> String {
        let mut copied = String::new();
        for line in self.schema.lines() {
            if line.starts_with("    ") && !line.starts_with("     ") && line.ends_with('{') {
                let table = line.split_whitespace().next().unwrap_or_default();
                copied.push_str(&format!("    #[sql_name = \"{name}_{table}\"]\n"));
            }
            copied.push_str(line);
            copied.push('\n');
        }
        copied
    }

    /// The migrations as one migration of component `name` in `dir`, its
    /// tables renamed `name_…`.
    fn write_migration(&self, dir: &Path, name: &str, index: usize) -> anyhow::Result<()> {
        let migration = dir.join(format!("20990101{index:06}_{name}"));
        write(&migration.join("up.sql"), &rename_tables(&self.up, name))?;
        write(
            &migration.join("down.sql"),
            &format!("DROP TABLE {name}_reservation_lines;\nDROP TABLE {name}_reservations;\nDROP TABLE {name}_products;\n"),
        )
    }
}

/// `sql` with the catalog's tables (and the temporary ones its migrations
/// make) renamed `name_TABLE`: whole words only.
fn rename_tables(sql: &str, name: &str) -> String {
    const TABLES: [&str; 5] = [
        "products",
        "reservations",
        "reservation_lines",
        "reservations_keyed",
        "reservation_lines_keyed",
    ];
    let mut out = String::with_capacity(sql.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if TABLES.contains(&word.as_str()) {
            out.push_str(name);
            out.push('_');
        }
        out.push_str(word);
        word.clear();
    };
    for character in sql.chars() {
        if character.is_ascii_alphanumeric() || character == '_' {
            word.push(character);
        } else {
            flush(&mut word, &mut out);
            out.push(character);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The workspace manifest with `members` as its members, the harness's
/// and test kit's dependencies left out and `dependencies` added.
fn workspace_manifest(
    text: &str,
    members: &[String],
    dependencies: &[String],
) -> anyhow::Result<String> {
    let start = text
        .find("members = [")
        .context("the workspace manifest has no members list")?;
    let end = start
        + text[start..]
            .find(']')
            .context("the members list is not closed")?;
    let listed: String = members
        .iter()
        .map(|member| format!("    \"{member}\",\n"))
        .collect();
    let text = format!("{}members = [\n{listed}{}", &text[..start], &text[end..]);
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            !["shoplab-testkit", "shoplab-deploy", "shoplab-loadgen"]
                .iter()
                .any(|name| line.starts_with(name))
        })
        .collect();
    let text = kept.join("\n") + "\n";
    wire::patched(
        &text,
        "[workspace.dependencies]\n",
        &format!("[workspace.dependencies]\n{}\n", dependencies.join("\n")),
        "Cargo.toml",
    )
}

/// A generated package's manifest: the workspace's settings and lints,
/// `dependencies` from the workspace's list, then `targets`.
fn package(name: &str, dependencies: &[&str], targets: &str) -> String {
    let dependencies: String = dependencies
        .iter()
        .map(|dependency| format!("{dependency}.workspace = true\n"))
        .collect();
    format!(
        "[package]\nname = \"{name}\"\ndescription = \"Generated by shoplab grow.\"\n\
         version.workspace = true\nedition.workspace = true\nlicense.workspace = true\n\
         rust-version.workspace = true\n\n[dependencies]\n{dependencies}{targets}\n[lints]\nworkspace = true\n"
    )
}

/// A member's manifest without its `[dev-dependencies]` (the test kit is
/// not in the grown shop, and nothing there builds tests).
fn without_dev_dependencies(text: &str) -> String {
    let mut kept = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line.trim() == "[dev-dependencies]";
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub(super) fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut whole = read(path)?;
    whole.push_str(text);
    write(path, &whole)
}

#[cfg(test)]
mod tests;

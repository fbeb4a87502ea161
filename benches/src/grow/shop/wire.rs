//! The generated components wired into the copied shop: a module of
//! their own in the monolith, the modular monolith and the gateway, and a
//! few anchored lines of the real code patched to call it. An anchor that
//! is no longer there (once) is an error naming it.

use std::path::Path;

use anyhow::bail;

use super::{read, templates, write};

/// The monolith mounts every generated component on its one database.
pub(super) fn monolith(root: &Path, names: &[String]) -> anyhow::Result<()> {
    let migrate: String = names
        .iter()
        .map(|name| format!("    shoplab_{name}::migrate(pool)?;\n"))
        .collect();
    let configure: String = names
        .iter()
        .map(|name| format!("\n        .configure(shoplab_{name}::configure)"))
        .collect();
    write(
        &root.join("monolith/src/grown.rs"),
        &format!(
            "//! The components `shoplab grow` generated, in the monolith: their tables on its\n\
             //! one database, their routes beside the real ones.\n\n\
             use shoplab_common::db::Pool;\nuse shoplab_http::routes::Routes;\n\n\
             pub fn migrate(pool: &Pool) -> Result<(), shoplab_common::ShopError> {{\n{migrate}    Ok(())\n}}\n\n\
             pub fn configure(routes: &mut Routes<'_>) {{\n    routes{configure};\n}}\n"
        ),
    )?;
    patch(
        root,
        "monolith/src/lib.rs",
        &[
        ("mod audit;\n", "mod audit;\nmod grown;\n"),
        (
            "    let pool = web::Data::new(db::open(database_url, &Component::ALL)?);\n",
            "    let pool = web::Data::new(db::open(database_url, &Component::ALL)?);\n    grown::migrate(pool.get_ref())?;\n",
        ),
        (
            "            .configure(audit::configure);\n",
            "            .configure(grown::configure)\n            .configure(audit::configure);\n",
        )],
    )?;
    add_dependencies(&root.join("monolith/Cargo.toml"), names)
}

/// The modular monolith mounts every generated component, each on a
/// database of its own beside the group's first (SQLite) one.
pub(super) fn group(root: &Path, names: &[String]) -> anyhow::Result<()> {
    let open: String = names
        .iter()
        .map(|name| {
            format!(
                "    let pool = db::open(&DatabaseUrl::sqlite_in(&dir, \"{name}\"), &[])?;\n\
                 \x20   shoplab_{name}::migrate(&pool)?;\n\
                 \x20   grown.push((shoplab_{name}::configure as Configure, pool));\n"
            )
        })
        .collect();
    write(
        &root.join("microservices/group/src/grown.rs"),
        &format!(
            "{}{open}{}",
            templates::GROUP_OPEN,
            templates::GROUP_CONFIGURE
        ),
    )?;
    patch(
        root,
        "microservices/group/src/lib.rs",
        &[
        ("mod audit;\n", "mod audit;\nmod grown;\n"),
        (
            "    let listener = TcpListener::bind(&group.addr)",
            "    let grown = grown::open(&group.databases)?;\n    let listener = TcpListener::bind(&group.addr)",
        ),
        (
            "        if whole_shop {\n",
            "        grown::configure(app, &grown);\n        if whole_shop {\n",
        )],
    )?;
    add_dependencies(&root.join("microservices/group/Cargo.toml"), names)
}

/// The gateway passes each generated component's public routes through to
/// its service (`--grown-urls`).
pub(super) fn gateway(root: &Path) -> anyhow::Result<()> {
    write(
        &root.join("microservices/gateway/src/grown.rs"),
        templates::GATEWAY,
    )?;
    patch(
        root,
        "microservices/gateway/src/lib.rs",
        &[
            ("mod audit;\n", "mod audit;\npub mod grown;\n"),
            (
                "        configure(app, &upstreams.behind);\n",
                "        configure(app, &upstreams.behind);\n        grown::configure(app);\n",
            ),
        ],
    )?;
    patch(
        root,
        "microservices/gateway/src/main.rs",
        &[
            (
                "    #[command(flatten)]\n    settings: SettingsArgs,\n}\n",
                "    #[command(flatten)]\n    settings: SettingsArgs,\n    /// The generated components' services: NAME=URL,...\n    \
                 #[arg(long, value_delimiter = ',')]\n    grown_urls: Vec<String>,\n}\n",
            ),
            (
                "    let behind = args.behind();\n",
                "    let behind = args.behind();\n    shoplab_gateway::grown::remember(&args.grown_urls);\n",
            ),
        ],
    )
}

/// `file` under `root` with each anchor, found once, followed by its
/// replacement.
fn patch(root: &Path, file: &str, anchors: &[(&str, &str)]) -> anyhow::Result<()> {
    let path = root.join(file);
    let mut text = read(&path)?;
    for (anchor, replacement) in anchors {
        text = patched(&text, anchor, replacement, file)?;
    }
    write(&path, &text)
}

pub(super) fn patched(
    text: &str,
    anchor: &str,
    replacement: &str,
    file: &str,
) -> anyhow::Result<String> {
    if text.matches(anchor).count() != 1 {
        bail!(
            "{file} no longer has `{}` once: shoplab grow's wiring needs updating",
            anchor.trim()
        );
    }
    Ok(text.replacen(anchor, replacement, 1))
}

fn add_dependencies(manifest: &Path, names: &[String]) -> anyhow::Result<()> {
    let lines: String = names
        .iter()
        .map(|name| format!("shoplab-{name}.workspace = true\n"))
        .collect();
    let text = patched(
        &read(manifest)?,
        "[dependencies]\n",
        &format!("[dependencies]\n{lines}"),
        "a manifest",
    )?;
    write(manifest, &text)
}

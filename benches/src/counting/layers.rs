//! Where the instructions go: each function callgrind counted, mapped to
//! the layer of the stack it belongs to by its name (or, for C code, its
//! source file or object), in the manner of Accelerometer (ASPLOS'20) and
//! Kanev et al. (ISCA'15), who split a service's cycles into
//! serialization, RPC, allocation and core logic.
//!
//! The mapping is this one table, [`RULES`], read in two passes:
//! 1. a pattern found anywhere in the name ([`Match::Anywhere`]), or in the
//!    source file for C code ([`Match::File`]), wins:
//!    `<shoplab_http::wire::Order as serde::ser::Serialize>::serialize`
//!    is JSON work, though it names the shop's type first;
//! 2. otherwise the pattern found *earliest* in the name decides (a Rust
//!    path where it starts a segment, or part of a C symbol), so generic
//!    code is charged to what it was instantiated for:
//!    `core::ptr::drop_in_place<actix_http::h1::Dispatcher<..>>` is the HTTP
//!    server's, `tokio::runtime::task::Harness<shoplab_orders::..>::poll`
//!    the runtime's.
//!
//! A function no rule names is `other` (formatting, `core` and `std`
//! helpers, the dynamic loader). Shared crates go where most of their use
//! is: `http` and `httparse` (which the client uses too) count as the
//! server's, `bytes` as memory. The shop's own code is `shop`, except its
//! HTTP edge (`shoplab_http`: the server's), its database glue
//! (`shoplab_common::db`: diesel's schema and connection), the services' clients
//! and the gateway's relay (`shoplab_service`, `shoplab_gateway`: the
//! client's, but for a group's in-process dispatch, `shoplab_service::hosted`),
//! and its hop log and metrics (observability).

use std::collections::BTreeMap;

use serde::Serialize;
use shoplab_deploy::callgrind::{Function, Profile};

/// A layer of the stack a request runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The shop's own rules: domain types, pricing, the stores' Rust code,
    /// the saga.
    Shop,
    /// The database engine and its driver: SQLite or libpq, diesel, the pool.
    Database,
    /// The HTTP server: actix-web and what it parses with.
    HttpServer,
    /// The HTTP client: reqwest and hyper, and the shop's calls to peers.
    HttpClient,
    /// JSON: serde and serde_json.
    Json,
    /// The async runtime: tokio, futures, threads and their locks.
    Runtime,
    /// The allocator and memory copies.
    Allocator,
    /// Observability: tracing, metrics, the hop log.
    Observability,
    Other,
}

impl Layer {
    pub const ALL: [Layer; 9] = [
        Layer::Shop,
        Layer::Database,
        Layer::HttpServer,
        Layer::HttpClient,
        Layer::Json,
        Layer::Runtime,
        Layer::Allocator,
        Layer::Observability,
        Layer::Other,
    ];

    /// Its key in `result.json` (`http_server`).
    pub fn key(self) -> &'static str {
        match self {
            Layer::Shop => "shop",
            Layer::Database => "database",
            Layer::HttpServer => "http_server",
            Layer::HttpClient => "http_client",
            Layer::Json => "json",
            Layer::Runtime => "runtime",
            Layer::Allocator => "allocator",
            Layer::Observability => "observability",
            Layer::Other => "other",
        }
    }

    /// How tables name it.
    pub fn title(self) -> &'static str {
        match self {
            Layer::Shop => "the shop's rules",
            Layer::Database => "database",
            Layer::HttpServer => "HTTP server",
            Layer::HttpClient => "HTTP client",
            Layer::Json => "JSON",
            Layer::Runtime => "runtime",
            Layer::Allocator => "allocator, copies",
            Layer::Observability => "observability",
            Layer::Other => "other",
        }
    }
}

/// How a rule's pattern is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// Pass 1: anywhere in the function's name.
    Anywhere,
    /// Pass 1: anywhere in the function's source file (C code has no paths
    /// in its names).
    File,
    /// Pass 2: a Rust path, where it starts a path segment (`http::` is
    /// not found inside `actix_http::`); the earliest in the name decides.
    Path,
    /// Pass 2: part of a C symbol's name (a name with no `::`), anywhere in
    /// it: `malloc` in `_int_malloc`, `memmove` in `__memmove_avx_unaligned`.
    CName,
}

struct Rule {
    layer: Layer,
    how: Match,
    pattern: &'static str,
}

const fn anywhere(layer: Layer, pattern: &'static str) -> Rule {
    Rule {
        layer,
        how: Match::Anywhere,
        pattern,
    }
}

const fn file(layer: Layer, pattern: &'static str) -> Rule {
    Rule {
        layer,
        how: Match::File,
        pattern,
    }
}

const fn path(layer: Layer, pattern: &'static str) -> Rule {
    Rule {
        layer,
        how: Match::Path,
        pattern,
    }
}

const fn c_name(layer: Layer, pattern: &'static str) -> Rule {
    Rule {
        layer,
        how: Match::CName,
        pattern,
    }
}

use Layer::*;

/// The one table: docs/INSTRUMENTS.md prints it.
const RULES: &[Rule] = &[
    // Pass 1: wherever they occur.
    anywhere(Observability, "shoplab_http::hop_log"),
    anywhere(Observability, "shoplab_common::metrics"),
    anywhere(Observability, "shoplab_http::metrics"),
    anywhere(Observability, "shoplab_http::measured"),
    anywhere(Observability, "tracing_subscriber::"),
    anywhere(Observability, "metrics_exporter_prometheus::"),
    // A type's (derived) serde impls, `<T as serde::ser::Serialize>` or
    // `_::<impl serde_core::ser::Serialize for T>`: JSON work.
    anywhere(Json, "serde::ser::Serialize"),
    anywhere(Json, "serde::de::Deserialize"),
    anywhere(Json, "serde_core::ser::Serialize"),
    anywhere(Json, "serde_core::de::Deserialize"),
    anywhere(Json, "serde::de::Visitor"),
    anywhere(Json, "serde_core::de::Visitor"),
    // diesel's code generated into the shop's crate: the schema, the
    // connection over both backends, migrations, transactions.
    anywhere(Database, "shoplab_common::db::"),
    file(Database, "sqlite3.c"),
    file(Database, "libpq"),
    file(Database, "postgresql"),
    // Pass 2: the earliest in the name decides.
    path(Observability, "tracing::"),
    path(Observability, "tracing_core::"),
    path(Observability, "metrics::"),
    path(Observability, "metrics_util::"),
    path(Json, "serde_json::"),
    path(Json, "serde::"),
    path(Json, "serde_core::"),
    path(Json, "ryu::"),
    path(Json, "itoa::"),
    path(Database, "diesel::"),
    path(Database, "diesel_migrations::"),
    path(Database, "libsqlite3_sys::"),
    c_name(Database, "sqlite3"),
    path(Database, "pq_sys::"),
    c_name(Database, "PQ"),
    // Rust's own locks are futexes; only the C code (SQLite, libpq) takes
    // pthread mutexes.
    c_name(Database, "pthread_mutex"),
    path(Database, "r2d2::"),
    path(Database, "scheduled_thread_pool::"),
    path(HttpServer, "shoplab_http::"),
    path(HttpServer, "actix_http::"),
    path(HttpServer, "actix_web::"),
    path(HttpServer, "actix_server::"),
    path(HttpServer, "actix_router::"),
    path(HttpServer, "actix_service::"),
    path(HttpServer, "actix_codec::"),
    path(HttpServer, "actix_utils::"),
    path(HttpServer, "httparse::"),
    path(HttpServer, "http::"),
    path(HttpServer, "httpdate::"),
    path(HttpServer, "mime::"),
    path(HttpServer, "url::"),
    path(HttpServer, "percent_encoding::"),
    path(HttpServer, "form_urlencoded::"),
    path(HttpServer, "regex::"),
    path(HttpServer, "regex_lite::"),
    path(HttpServer, "regex_automata::"),
    path(HttpServer, "aho_corasick::"),
    path(HttpServer, "language_tags::"),
    path(HttpServer, "encoding_rs::"),
    // A group's in-process dispatch to the components it hosts.
    path(Shop, "shoplab_service::hosted::"),
    path(HttpClient, "shoplab_service::"),
    path(HttpClient, "shoplab_gateway::"),
    path(HttpClient, "reqwest::"),
    path(HttpClient, "hyper::"),
    path(HttpClient, "hyper_util::"),
    path(HttpClient, "tower::"),
    path(HttpClient, "tower_service::"),
    path(HttpClient, "tower_layer::"),
    path(HttpClient, "want::"),
    path(HttpClient, "h2::"),
    path(Shop, "shoplab_"),
    path(Runtime, "tokio::"),
    path(Runtime, "tokio_util::"),
    path(Runtime, "actix_rt::"),
    path(Runtime, "futures_util::"),
    path(Runtime, "futures_core::"),
    path(Runtime, "futures_task::"),
    path(Runtime, "futures_channel::"),
    path(Runtime, "mio::"),
    path(Runtime, "socket2::"),
    path(Runtime, "slab::"),
    path(Runtime, "parking_lot::"),
    path(Runtime, "parking_lot_core::"),
    path(Runtime, "crossbeam_utils::"),
    path(Runtime, "crossbeam_channel::"),
    path(Runtime, "std::sync::"),
    path(Runtime, "std::thread::"),
    path(Runtime, "std::sys::sync::"),
    path(Runtime, "std::sys::pal::unix::thread"),
    path(Runtime, "std::sys::pal::unix::time"),
    path(Runtime, "std::sys::thread_local"),
    c_name(Runtime, "pthread_"),
    c_name(Runtime, "epoll_"),
    c_name(Runtime, "__lll_lock"),
    c_name(Runtime, "__lll_unlock"),
    c_name(Runtime, "syscall"),
    c_name(Runtime, "clock_gettime"),
    c_name(Runtime, "sched_yield"),
    path(Allocator, "alloc::alloc::"),
    path(Allocator, "alloc::raw_vec::"),
    c_name(Allocator, "__rust_alloc"),
    c_name(Allocator, "__rust_dealloc"),
    c_name(Allocator, "__rust_realloc"),
    c_name(Allocator, "__rdl_"),
    path(Allocator, "__rustc::"),
    path(Allocator, "bytes::"),
    c_name(Allocator, "malloc"),
    c_name(Allocator, "_int_free"),
    c_name(Allocator, "free"),
    c_name(Allocator, "realloc"),
    c_name(Allocator, "calloc"),
    c_name(Allocator, "unlink_chunk"),
    c_name(Allocator, "tcache"),
    c_name(Allocator, "memcpy"),
    c_name(Allocator, "memmove"),
    c_name(Allocator, "mempcpy"),
    c_name(Allocator, "memset"),
];

/// The layer `function` belongs to.
pub fn layer_of(function: &Function) -> Layer {
    let name = function.name.as_str();
    for rule in RULES {
        let found = match rule.how {
            Match::Anywhere => name.contains(rule.pattern),
            Match::File => function.file.contains(rule.pattern),
            Match::Path | Match::CName => false,
        };
        if found {
            return rule.layer;
        }
    }
    let c_symbol = !name.contains("::");
    RULES
        .iter()
        .filter_map(|rule| {
            let at = match rule.how {
                Match::Path => name
                    .match_indices(rule.pattern)
                    .map(|(at, _)| at)
                    .find(|&at| starts_a_segment(name, at))?,
                Match::CName if c_symbol => name.find(rule.pattern)?,
                _ => return None,
            };
            Some((at, rule.layer))
        })
        .min_by_key(|(at, _)| *at)
        .map_or(Other, |(_, layer)| layer)
}

/// Whether `at` starts a path segment of `name`: nothing before it, or a
/// character that cannot be part of an identifier (`<`, ` `, `:`, `&`).
fn starts_a_segment(name: &str, at: usize) -> bool {
    name[..at]
        .chars()
        .next_back()
        .map_or(true, |before| !(before.is_alphanumeric() || before == '_'))
}

/// Instructions by layer over a profile (every function's own cost), by
/// each layer's key; the values add up to the profile's functions' total.
pub fn by_layer(profile: &Profile) -> BTreeMap<Layer, u64> {
    let mut layers = BTreeMap::new();
    for (function, cost) in &profile.functions {
        *layers.entry(layer_of(function)).or_default() += cost;
    }
    layers
}

/// The rules as a Markdown table, for docs/INSTRUMENTS.md (checked against
/// the file by a test, so the doc cannot drift from the code).
pub fn rules_table() -> String {
    let mut table = String::from("| pass | how | pattern | layer |\n|---|---|---|---|\n");
    for rule in RULES {
        let (pass, how) = match rule.how {
            Match::Anywhere => (1, "anywhere in the name"),
            Match::File => (1, "in the source file"),
            Match::Path => (2, "a path in the name"),
            Match::CName => (2, "in a C symbol"),
        };
        table.push_str(&format!(
            "| {pass} | {how} | `{}` | {} |\n",
            rule.pattern,
            rule.layer.key()
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str) -> Function {
        Function {
            object: "/bin/shoplab-monolith".into(),
            file: "???".into(),
            name: name.into(),
        }
    }

    #[test]
    fn generic_code_is_charged_to_what_it_was_instantiated_for() {
        let layer = |name: &str| layer_of(&function(name));
        assert_eq!(
            layer("core::ptr::drop_in_place<actix_http::h1::dispatcher::Dispatcher<T>>"),
            HttpServer
        );
        assert_eq!(
            layer("tokio::runtime::task::harness::Harness<shoplab_orders::X>::poll"),
            Runtime
        );
        assert_eq!(layer("shoplab_common::orders::pricing::total"), Shop);
        assert_eq!(layer("shoplab_http::error::body"), HttpServer);
        assert_eq!(
            layer("shoplab_service::remote::Remote::reserve"),
            HttpClient
        );
    }

    #[test]
    fn serde_impls_are_json_whatever_type_they_name_first() {
        assert_eq!(
            layer_of(&function(
                "<shoplab_http::wire::Order as serde::ser::Serialize>::serialize"
            )),
            Json
        );
        assert_eq!(layer_of(&function("serde_json::de::from_slice<T>")), Json);
    }

    #[test]
    fn a_pattern_inside_another_crates_name_does_not_match() {
        assert_eq!(
            layer_of(&function("actix_http::h1::codec::encode")),
            HttpServer
        );
        assert_eq!(layer_of(&function("my_http::thing")), Other);
        assert_eq!(layer_of(&function("core::fmt::write")), Other);
    }

    #[test]
    fn c_code_goes_by_its_file_and_libc_by_its_name() {
        let sqlite = Function {
            object: "/bin/shoplab-monolith".into(),
            file: "/root/.cargo/registry/src/x/libsqlite3-sys-0.30.1/sqlite3/sqlite3.c".into(),
            name: "balance_nonroot".into(),
        };
        assert_eq!(layer_of(&sqlite), Database);
        assert_eq!(
            layer_of(&function("__memmove_avx_unaligned_erms")),
            Allocator
        );
        assert_eq!(layer_of(&function("_int_malloc")), Allocator);
        assert_eq!(layer_of(&function("epoll_wait")), Runtime);
    }

    #[test]
    fn by_layer_adds_up_to_the_functions_total() {
        let mut profile = Profile::default();
        profile.functions.insert(function("serde_json::to_vec"), 30);
        profile.functions.insert(function("malloc"), 20);
        profile.functions.insert(function("core::fmt::write"), 5);
        let layers = by_layer(&profile);
        assert_eq!(layers[&Json], 30);
        assert_eq!(layers[&Allocator], 20);
        assert_eq!(layers[&Other], 5);
        assert_eq!(layers.values().sum::<u64>(), 55);
    }
}

#[cfg(test)]
mod documented {
    use super::rules_table;

    /// docs/INSTRUMENTS.md prints the table between two markers; the code's
    /// table and the doc's must not drift apart.
    #[test]
    fn the_layer_table_in_instruments_md_is_the_one_the_code_uses() {
        let doc = include_str!("../../../docs/INSTRUMENTS.md");
        let begin = "<!-- layers:begin -->\n";
        let start = doc
            .find(begin)
            .expect("INSTRUMENTS.md marks the layer table")
            + begin.len();
        let end = doc.find("<!-- layers:end -->").expect("and its end");
        assert_eq!(
            &doc[start..end],
            rules_table(),
            "docs/INSTRUMENTS.md's layer table differs from layers.rs's RULES: \
             paste rules_table()'s output between the markers"
        );
    }
}

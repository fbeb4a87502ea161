//! Starting a deployment's processes in dependency order (users and
//! catalog, then payments, then orders, then the gateway), each with its
//! peers' addresses, and waiting for each to answer `/health`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::process::Process;

use shoplab_common::components::Component;
use shoplab_common::grouping::{group_name, Grouping};

use super::options::{
    group_process_name, replica_name, Calls, Kind, Options, Tx, DRAIN_NOTICE, GROUP_BINARY,
    SLOW_LIMIT_MS,
};

/// The public address a deployment listens on.
fn public_addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// A started process and the arguments it was started with.
pub(super) type Launched = Vec<(Process, Vec<String>)>;

/// Starts the processes in dependency order, pushing each into `processes` as
/// it comes up (so that a failure part-way can stop what already runs).
pub(super) async fn launch(options: &Options, processes: &mut Launched) -> anyhow::Result<String> {
    let storage = &options.storage;
    let kind = options.kind;
    let own_database = |name: &str| -> anyhow::Result<Vec<String>> {
        Ok(vec![
            "--addr".to_owned(),
            public_addr(0),
            "--database-url".to_owned(),
            storage.url_for(kind, name)?,
        ])
    };
    match kind {
        Kind::Monolith => {
            let count = options.replicas.of("monolith");
            let mut args = own_database("monolith")?;
            if count == 1 && !options.balance_one_monolith {
                args[1] = public_addr(options.port);
                return start_part(options, "shoplab-monolith", 1, args, processes).await;
            }
            let monoliths = start_part(options, "shoplab-monolith", count, args, processes).await?;
            let gateway_args = vec![
                "--addr".to_owned(),
                public_addr(options.port),
                "--monolith-url".to_owned(),
                monoliths,
            ];
            start_part(options, "shoplab-gateway", 1, gateway_args, processes).await
        }
        Kind::Micro => {
            let service = |name: &str, peers: &[(&str, &str)]| -> anyhow::Result<Vec<String>> {
                let mut args = own_database(name)?;
                for (peer, url) in peers {
                    args.push(format!("--{peer}-url"));
                    args.push((*url).to_owned());
                }
                Ok(args)
            };
            let (users_args, catalog_args) = (service("users", &[])?, service("catalog", &[])?);
            let (mut users_started, mut catalog_started) = (Vec::new(), Vec::new());
            let (users, catalog) = tokio::join!(
                start_service(options, "users", users_args, &mut users_started),
                start_service(options, "catalog", catalog_args, &mut catalog_started),
            );
            processes.append(&mut users_started);
            processes.append(&mut catalog_started);
            let (users, catalog) = (users?, catalog?);
            let payments_args = with_hop_delay(options, service("payments", &[("users", &users)])?);
            let payments = start_service(options, "payments", payments_args, processes).await?;
            let peers = [
                ("users", users.as_str()),
                ("catalog", catalog.as_str()),
                ("payments", payments.as_str()),
            ];
            let mut orders_args = with_hop_delay(options, service("orders", &peers)?);
            if options.tx == Tx::Naive {
                orders_args.extend(["--tx".to_owned(), "naive".to_owned()]);
            }
            orders_args.extend(recovery_pace(options));
            let orders = start_service(options, "orders", orders_args, processes).await?;
            let mut gateway_args = vec![
                "--addr".to_owned(),
                public_addr(options.port),
                "--users-url".to_owned(),
                users,
                "--catalog-url".to_owned(),
                catalog,
                "--payments-url".to_owned(),
                payments,
                "--orders-url".to_owned(),
                orders,
            ];
            if options.grown > 0 {
                let grown = start_grown(options, own_database, processes).await?;
                gateway_args.extend(["--grown-urls".to_owned(), grown]);
            }
            let gateway_args = with_hop_delay(options, gateway_args);
            start_part(options, "shoplab-gateway", 1, gateway_args, processes).await
        }
        Kind::Group(grouping, calls) => launch_groups(options, grouping, calls, processes).await,
    }
}

/// Starts the services of the components `shoplab grow` generated, all at
/// once, each with `args_of` its name (its own database); returns
/// `NAME=URL,...` for the gateway.
async fn start_grown(
    options: &Options,
    args_of: impl Fn(&str) -> anyhow::Result<Vec<String>>,
    processes: &mut Launched,
) -> anyhow::Result<String> {
    let names: Vec<String> = (1..=options.grown)
        .map(|index| format!("catalog{index:02}"))
        .collect();
    let mut starts = Vec::new();
    for name in &names {
        let args = args_of(name)?;
        let binary = format!("shoplab-{name}");
        starts.push(async move { start(options, &binary, &binary, args).await });
    }
    let urls = push_all(processes, futures_util::future::join_all(starts).await)?;
    Ok(names
        .iter()
        .zip(urls)
        .map(|(name, url)| format!("{name}={url}"))
        .collect::<Vec<_>>()
        .join(","))
}

/// Starts one `shoplab-group` per group, each hosting its components on
/// their own databases and told where the others are, then (for more than
/// one group) the gateway in front. Groups can call each other both ways
/// (users+orders calls payments, which calls users), so none can wait for
/// another's address: each is given a free port first, and all start
/// together.
async fn launch_groups(
    options: &Options,
    grouping: Grouping,
    calls: Calls,
    processes: &mut Launched,
) -> anyhow::Result<String> {
    let groups = grouping.groups();
    let whole_shop = groups.len() == 1;
    // The whole shop in one group is the public face: the asked-for port
    // (0 picks one, which the process prints).
    let mut urls = Vec::new();
    for _ in &groups {
        let port = if whole_shop {
            options.port
        } else {
            free_port()?
        };
        urls.push(public_addr(port));
    }
    let url_of = |component: Component| format!("http://{}", urls[grouping.group_of(component)]);
    let mut starts = Vec::new();
    for (group, url) in groups.iter().zip(&urls) {
        let mut args = vec![
            "--components".to_owned(),
            group_name(group),
            "--addr".to_owned(),
            url.clone(),
        ];
        for &component in group {
            args.push(format!("--{component}-database-url"));
            args.push(options.storage.url_for(options.kind, component.name())?);
        }
        for peer in [Component::Users, Component::Catalog, Component::Payments] {
            if !group.contains(&peer) {
                args.push(format!("--{peer}-url"));
                args.push(url_of(peer));
            }
        }
        if calls == Calls::Http {
            args.extend(["--calls".to_owned(), "http".to_owned()]);
        }
        if group.contains(&Component::Orders) {
            if options.tx == Tx::Naive {
                args.extend(["--tx".to_owned(), "naive".to_owned()]);
            }
            args.extend(recovery_pace(options));
        }
        let args = with_hop_delay(options, args);
        let name = group_process_name(group);
        starts.push(async move { start(options, GROUP_BINARY, &name, args).await });
    }
    let mut started_at = push_all(processes, futures_util::future::join_all(starts).await)?;
    if whole_shop {
        return Ok(started_at.swap_remove(0));
    }
    let mut gateway_args = vec!["--addr".to_owned(), public_addr(options.port)];
    for component in Component::ALL {
        gateway_args.push(format!("--{component}-url"));
        gateway_args.push(url_of(component));
    }
    let gateway_args = with_hop_delay(options, gateway_args);
    start_part(options, "shoplab-gateway", 1, gateway_args, processes).await
}

/// A port no one listens on now: bound, read and let go. Another process
/// could take it before the group does; on loopback, in a run of a few
/// seconds, that does not happen in practice, and the group then fails to
/// start with the address in its error rather than misbehaving.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Starts the processes of the service `service` (`options.replicas` says
/// how many).
async fn start_service(
    options: &Options,
    service: &str,
    args: Vec<String>,
    processes: &mut Launched,
) -> anyhow::Result<String> {
    let count = options.replicas.of(service);
    let binary = format!("shoplab-{service}");
    start_part(options, &binary, count, args, processes).await
}

/// Starts `count` processes of `binary`: the first alone (it migrates the
/// database, which the others share), the rest together. Several get a
/// drain notice, since a balancer stands in front of them. Returns their
/// URLs, comma-separated, as the balancers take them.
async fn start_part(
    options: &Options,
    binary: &str,
    count: usize,
    mut args: Vec<String>,
    processes: &mut Launched,
) -> anyhow::Result<String> {
    if count > 1 {
        args.push("--drain-notice-ms".to_owned());
        args.push(DRAIN_NOTICE.as_millis().to_string());
    }
    let first = start(
        options,
        binary,
        &replica_name(binary, 0, count),
        args.clone(),
    )
    .await;
    let mut urls = vec![push(processes, first)?];
    let others = (1..count).map(|index| {
        let name = replica_name(binary, index, count);
        let args = args.clone();
        async move { start(options, binary, &name, args).await }
    });
    for started in futures_util::future::join_all(others).await {
        urls.push(push(processes, started)?);
    }
    Ok(urls.join(","))
}

/// Starts one process of the deployment, pinned as `options` say, with the
/// fault plan, hop log and metrics endpoint if asked for, and waits until
/// its own `/health` answers 200. `name` is `binary`, or a replica's name
/// (`shoplab-catalog.2`). Returns it with the arguments it was started with.
async fn start(
    options: &Options,
    binary: &str,
    name: &str,
    mut args: Vec<String>,
) -> anyhow::Result<(Process, Vec<String>)> {
    // Passed only when asked for, so binaries without the flag still start.
    if let Some(plan) = &options.fault_plan {
        args.push("--fault-plan".into());
        args.push(plan.display().to_string());
    }
    if let Some(dir) = &options.log_dir {
        args.push("--log-file".into());
        args.push(dir.join(format!("{name}.log")).display().to_string());
    }
    if options.metrics {
        // A free port on loopback: the process prints which.
        args.push("--metrics-addr".into());
        args.push("127.0.0.1:0".into());
    }
    if options.callgrind.is_some() {
        args.extend(slow_limits(binary));
    }
    let mut process = Process::spawn_on(
        &options.bin_dir,
        binary,
        &args,
        options.cores.as_deref(),
        &options.envs(),
        options.callgrind.as_ref(),
    )
    .await?;
    process.name = name.to_owned();
    if options.echo_stderr {
        process.echo_stderr(name);
    }
    match wait_for_health(&process.url, name).await {
        Ok(()) => {
            process.startup = process.spawned_at.elapsed();
            Ok((process, args))
        }
        Err(error) => {
            process.stop().await;
            Err(error)
        }
    }
}

/// `--recovery-every-ms`, when the options set it.
fn recovery_pace(options: &Options) -> Vec<String> {
    options
        .recovery_every_ms
        .map(|every| vec!["--recovery-every-ms".to_owned(), every.to_string()])
        .unwrap_or_default()
}

/// The flags that lift `binary`'s time limits for a run under callgrind:
/// every binary's request deadline, and the call time limit of those that
/// call other processes (the gateway waits as long as the deadline says).
fn slow_limits(binary: &str) -> Vec<String> {
    let limit = SLOW_LIMIT_MS.to_string();
    let mut args = vec!["--deadline-ms".to_owned(), limit.clone()];
    if matches!(binary, "shoplab-payments" | "shoplab-orders" | GROUP_BINARY) {
        args.extend(["--call-timeout-ms".to_owned(), limit]);
    }
    args
}

/// How long a process or a deployment may take to pass `/health`.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);

/// Polls `base_url/health` until it answers 200. The polls are 2 ms apart,
/// fine enough for start-up times of a few milliseconds.
pub async fn wait_for_health(base_url: &str, name: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + HEALTHY_WITHIN;
    let url = format!("{base_url}/health");
    loop {
        if let Ok(response) = client.get(&url).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{name} did not pass {url} within {HEALTHY_WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// `args` plus `--hop-delay-us` when a delay is asked for.
fn with_hop_delay(options: &Options, mut args: Vec<String>) -> Vec<String> {
    if options.hop_delay_us > 0 {
        args.push("--hop-delay-us".into());
        args.push(options.hop_delay_us.to_string());
    }
    args
}

/// Keeps a started process (or passes on why it did not start); returns its URL.
/// [`push`] for processes started together: every one that started is
/// pushed (so that a failure stops them all), and the first failure is the
/// error; else their URLs, in order.
fn push_all(
    processes: &mut Launched,
    started: Vec<anyhow::Result<(Process, Vec<String>)>>,
) -> anyhow::Result<Vec<String>> {
    let mut failed = None;
    let mut urls = Vec::new();
    for started in started {
        match push(processes, started) {
            Ok(url) => urls.push(url),
            Err(error) => {
                failed.get_or_insert(error);
            }
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(urls),
    }
}

fn push(
    processes: &mut Launched,
    started: anyhow::Result<(Process, Vec<String>)>,
) -> anyhow::Result<String> {
    let (process, args) = started?;
    let url = process.url.clone();
    processes.push((process, args));
    Ok(url)
}

/// The directory of the running executable: where cargo puts every binary of
/// the workspace, `shoplab` and the deployments' alike.
pub fn own_bin_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find shoplab's own executable")?;
    exe.parent()
        .map(Path::to_path_buf)
        .context("shoplab's executable has no directory")
}

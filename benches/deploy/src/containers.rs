//! The deployments in containers: a compose project of the lab's own files
//! (`deploy/compose/monolith.yml`, `deploy/compose/microservices.yml`),
//! started with `docker-compose` on the images `scripts/images.sh` builds,
//! and what the experiments do to it (a container's IP address, its main
//! process, a network cut off and back).
//!
//! Each [`Project`] has a name of its own (`-p`) and publishes its entry on
//! a free port of its own (`SHOPLAB_PORT`), so several run side by side,
//! and [`Project::down`] removes its containers, networks and volumes. (Not
//! on a port the engine picks, `SHOPLAB_PORT=0`: the engine picks anew each
//! time the container starts, so a container its restart policy brought
//! back would be somewhere else.)

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::process::Command;

use crate::deployment::{free_port, wait_for_health};

/// One of the lab's compose files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    Monolith,
    Microservices,
}

impl Stack {
    pub const ALL: [Stack; 2] = [Stack::Monolith, Stack::Microservices];

    /// The file's name in `deploy/compose/`, less `.yml`.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Monolith => "monolith",
            Stack::Microservices => "microservices",
        }
    }

    /// The service published on the host: the way in.
    pub fn entry(self) -> &'static str {
        match self {
            Stack::Monolith => "monolith",
            Stack::Microservices => "gateway",
        }
    }

    /// Every service of the file.
    pub fn services(self) -> &'static [&'static str] {
        match self {
            Stack::Monolith => &["monolith"],
            Stack::Microservices => &["users", "catalog", "payments", "orders", "gateway"],
        }
    }

    /// The network the entry's clients reach it on: the one with its
    /// published port.
    pub fn entry_network(self) -> &'static str {
        match self {
            Stack::Monolith => "shop",
            Stack::Microservices => "edge",
        }
    }

    /// The network every service sits on (`<project>_<network>` once up).
    pub fn network(self) -> &'static str {
        match self {
            Stack::Monolith => "shop",
            Stack::Microservices => "services",
        }
    }
}

/// The port every image serves on inside its container.
pub const CONTAINER_PORT: u16 = 8080;

/// How long a project may take to pass `/health` after `up`.
const UP_WITHIN: Duration = Duration::from_secs(60);

/// The compose files' folder in a checkout of the lab, from this crate's
/// own place in it (for tests and for the harness run from the checkout).
pub fn compose_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/compose")
}

/// Whether a Docker engine answers (`docker info`), and if not, why not in
/// one line.
pub async fn engine() -> anyhow::Result<()> {
    docker(&["info", "--format", "{{.ServerVersion}}"])
        .await
        .map(drop)
        .context("no Docker engine answers")
}

/// A running compose project.
#[derive(Debug)]
pub struct Project {
    pub stack: Stack,
    /// The project's name (`-p`): its containers, networks and volumes
    /// are named after it.
    pub name: String,
    /// The compose file, and any merged over it.
    files: Vec<PathBuf>,
    /// The entry's port on the host.
    port: u16,
    /// The entry as the host sees it, through the engine's port proxy:
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl Project {
    /// Starts `stack` from the compose files in `dir` as a project of its
    /// own, waits until its entry passes `/health`, and returns it. On
    /// failure whatever was created is removed again.
    pub async fn up(stack: Stack, dir: &Path) -> anyhow::Result<Self> {
        Self::up_with(stack, dir, &[]).await
    }

    /// [`Project::up`] with more files of `dir` merged over the stack's
    /// (`postgres.yml`: the microservices on PostgreSQL).
    pub async fn up_with(stack: Stack, dir: &Path, overrides: &[&str]) -> anyhow::Result<Self> {
        let mut files = vec![dir.join(format!("{}.yml", stack.name()))];
        files.extend(overrides.iter().map(|file| dir.join(file)));
        if let Some(missing) = files.iter().find(|file| !file.is_file()) {
            bail!("no compose file at {}", missing.display());
        }
        if !dir.join("shoplab.env").is_file() {
            bail!(
                "{} is missing: run scripts/images.sh first (it builds the images and writes it)",
                dir.join("shoplab.env").display()
            );
        }
        let name = format!(
            "shoplab-{}-{}",
            stack.name(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let project = Self {
            stack,
            name,
            files,
            port: free_port()?,
            base_url: String::new(),
        };
        match project.start().await {
            Ok(base_url) => Ok(Self {
                base_url,
                ..project
            }),
            Err(error) => {
                project.remove().await;
                Err(error)
            }
        }
    }

    async fn start(&self) -> anyhow::Result<String> {
        self.compose(&["up", "--detach", "--no-build"])
            .await
            .context("docker-compose up failed (are the images built? scripts/images.sh)")?;
        let base_url = format!("http://127.0.0.1:{}", self.port);
        tokio::time::timeout(UP_WITHIN, wait_for_health(&base_url, &self.name))
            .await
            .map_err(|_| anyhow::anyhow!("{} did not pass /health within {UP_WITHIN:?}", self.name))
            .and_then(|passed| passed)?;
        Ok(base_url)
    }

    /// Runs `docker-compose -f FILE... -p NAME ARGS`; its standard output.
    pub async fn compose(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut command = Command::new("docker-compose");
        for file in &self.files {
            command.arg("--file").arg(file);
        }
        command
            .args(["--project-name", &self.name, "--ansi", "never"])
            .args(args)
            .env("SHOPLAB_PORT", self.port.to_string());
        run(command, &format!("docker-compose {}", args.join(" "))).await
    }

    /// The id of the one container running `service` (the first, if it is
    /// scaled out).
    pub async fn container(&self, service: &str) -> anyhow::Result<String> {
        let ids = self.compose(&["ps", "--quiet", service]).await?;
        ids.lines()
            .next()
            .map(str::to_owned)
            .with_context(|| format!("{}: no container runs {service}", self.name))
    }

    /// The network `network` of the file, by its name on the engine.
    pub fn network_name(&self, network: &str) -> String {
        format!("{}_{network}", self.name)
    }

    /// The address of `service`'s container on the file's network `network`,
    /// as another container (or the host, on Linux) reaches it, with no port
    /// proxy between.
    pub async fn address_on(&self, service: &str, network: &str) -> anyhow::Result<String> {
        let container = self.container(service).await?;
        address_on(&container, &self.network_name(network)).await
    }

    /// The host's pid of `service`'s main process (the binary itself: the
    /// images have no init and no shell).
    pub async fn main_pid(&self, service: &str) -> anyhow::Result<u32> {
        main_pid(&self.container(service).await?).await
    }

    /// Stops and removes every container, network and volume of the project.
    pub async fn down(self) {
        self.remove().await;
    }

    /// `down`, and once more after a pause if the engine refused: a
    /// network whose last container is still being taken off it is "in use"
    /// for a moment (seen with a service that its restart policy was
    /// starting again as the project came down).
    async fn remove(&self) {
        let down = ["down", "--volumes", "--remove-orphans", "--timeout", "5"];
        if self.compose(&down).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        if let Err(error) = self.compose(&down).await {
            eprintln!("{}: could not remove it: {error:#}", self.name);
        }
    }
}

/// The address of `container` on the engine's network `network`.
pub async fn address_on(container: &str, network: &str) -> anyhow::Result<String> {
    let template = format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}");
    let ip = docker(&["inspect", "--format", &template, container]).await?;
    match ip.trim() {
        "" | "<no value>" => bail!("{container} has no address on {network}"),
        ip => Ok(ip.to_owned()),
    }
}

/// The host's pid of `container`'s main process.
pub async fn main_pid(container: &str) -> anyhow::Result<u32> {
    let pid = docker(&["inspect", "--format", "{{.State.Pid}}", container]).await?;
    match pid.trim().parse() {
        Ok(0) | Err(_) => bail!("container {container} has no running process ({pid:?})"),
        Ok(pid) => Ok(pid),
    }
}

/// The size of `image` as the engine stores it (`docker image inspect`),
/// or `None` if no engine answers or it has no such image.
pub async fn image_size(image: &str) -> Option<u64> {
    let size = docker(&["image", "inspect", "--format", "{{.Size}}", image])
        .await
        .ok()?;
    size.trim().parse().ok()
}

/// Runs `docker ARGS`; its standard output.
pub async fn docker(args: &[&str]) -> anyhow::Result<String> {
    let mut command = Command::new("docker");
    command.args(args);
    run(command, &format!("docker {}", args.join(" "))).await
}

/// Runs `command` to the end; its standard output, or an error with the
/// last line it wrote to standard error.
async fn run(mut command: Command, what: &str) -> anyhow::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot run {what}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("{what} failed ({}): {}", output.status, last_line(&stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
        .trim()
}

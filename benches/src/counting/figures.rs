//! What a counting pass found for one workload on one deployment, per
//! request, as `result.json` records it (`runs[deployment].counted`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::layers::Layer;
use super::{layers_less_idle, ProcessKernel, ProcessProfile};

/// One workload's counts on one deployment, each per request and over all
/// its processes unless said otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct Counted {
    /// Requests in each counted batch (all answered as expected).
    pub requests: u64,
    /// User-space instructions (callgrind).
    pub instructions: f64,
    /// System calls (kernel tracepoints).
    pub syscalls: f64,
    pub context_switches: f64,
    /// Bytes written to sockets.
    pub socket_bytes: f64,
    /// CPU time in µs, from each process's CPU clock (nanoseconds), over the
    /// same batch at full speed: the timed figure beside the counted ones.
    pub cpu_us: f64,
    /// System calls by family: `send`, `receive`, `poll`, `futex`, `file`,
    /// `connection`, `other`.
    pub syscalls_by_kind: BTreeMap<String, f64>,
    /// Per process.
    pub by_process: BTreeMap<String, ProcessCount>,
    /// Instructions by layer (`shop`, `database`, `http_server`,
    /// `http_client`, `json`, `runtime`, `allocator`, `observability`,
    /// `other`): they add up to `instructions`.
    pub by_layer: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessCount {
    pub instructions: f64,
    pub syscalls: f64,
}

impl Counted {
    /// The figures per request from each process's profiles and kernel
    /// counts over a batch of `requests`.
    pub(crate) fn from_counts(
        requests: usize,
        profiles: &[ProcessProfile],
        kernels: &[ProcessKernel],
    ) -> Counted {
        let per = |count: f64| count / requests.max(1) as f64;
        let mut by_process = BTreeMap::new();
        let mut layers: BTreeMap<Layer, f64> = BTreeMap::new();
        for profile in profiles {
            let less_idle = layers_less_idle(profile);
            let instructions: f64 = less_idle.values().sum();
            for (layer, count) in less_idle {
                *layers.entry(layer).or_default() += count;
            }
            let syscalls = kernels
                .iter()
                .find(|kernel| kernel.name == profile.name)
                .map_or(0.0, |kernel| kernel.counts.syscalls as f64);
            by_process.insert(
                profile.name.clone(),
                ProcessCount {
                    instructions: per(instructions),
                    syscalls: per(syscalls),
                },
            );
        }
        let mut syscalls_by_kind: BTreeMap<String, f64> = BTreeMap::new();
        for kernel in kernels {
            for (family, count) in &kernel.counts.by_family {
                *syscalls_by_kind.entry(family.clone()).or_default() += per(*count as f64);
            }
        }
        let total = |count: fn(&ProcessKernel) -> f64| per(kernels.iter().map(count).sum());
        Counted {
            requests: requests as u64,
            instructions: by_process
                .values()
                .map(|process| process.instructions)
                .sum(),
            syscalls: total(|kernel| kernel.counts.syscalls as f64),
            context_switches: total(|kernel| kernel.counts.context_switches as f64),
            socket_bytes: total(|kernel| kernel.counts.socket_bytes as f64),
            cpu_us: total(|kernel| kernel.cpu.as_secs_f64() * 1e6),
            syscalls_by_kind,
            by_process,
            by_layer: layers
                .into_iter()
                .map(|(layer, count)| (layer.key().to_owned(), per(count)))
                .collect(),
        }
    }
}

//! Core pinning: on a small machine the load generator and the deployment
//! would fight for the same cores, and every figure would carry that fight.
//! So `compare` gives the deployment's processes one set of cores and the
//! generator another (on 2 cores, one each), set when each process is
//! spawned, before its thread pools count the cores they may use (actix and
//! tokio size their pools from the affinity mask).

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;
use serde::Serialize;

/// Which cores run what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pinning {
    /// Every process of the deployment under test (and the floor).
    pub deployment: Vec<usize>,
    /// The load generator (the harness itself).
    pub generator: Vec<usize>,
}

impl Pinning {
    /// Splits the cores this process may use: the generator gets the upper
    /// half (at least one), the deployment the rest. `None` on one core,
    /// where there is nothing to split.
    pub fn plan() -> Option<Self> {
        let cores = usable_cores();
        if cores.len() < 2 {
            return None;
        }
        let generator_count = (cores.len() / 2).max(1);
        let (deployment, generator) = cores.split_at(cores.len() - generator_count);
        Some(Pinning {
            deployment: deployment.to_vec(),
            generator: generator.to_vec(),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "deployment on cores {:?}, load generator on cores {:?}",
            self.deployment, self.generator
        )
    }
}

/// The cores this process may run on.
pub fn usable_cores() -> Vec<usize> {
    match sched_getaffinity(Pid::from_raw(0)) {
        Ok(set) => (0..CpuSet::count())
            .filter(|&core| set.is_set(core).unwrap_or(false))
            .collect(),
        Err(_) => (0..std::thread::available_parallelism().map_or(1, usize::from)).collect(),
    }
}

/// Restricts the calling thread, and every thread and process it starts
/// afterwards, to `cores`. Safe to call between `fork` and `exec`.
pub fn pin_current(cores: &[usize]) -> nix::Result<()> {
    let mut set = CpuSet::new();
    for &core in cores {
        set.set(core)?;
    }
    sched_setaffinity(Pid::from_raw(0), &set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_gives_each_side_cores_of_its_own() {
        let Some(plan) = Pinning::plan() else {
            eprintln!("one core: nothing to split (skipped)");
            return;
        };
        assert!(!plan.deployment.is_empty() && !plan.generator.is_empty());
        assert!(plan
            .deployment
            .iter()
            .all(|core| !plan.generator.contains(core)));
    }

    #[test]
    fn a_pinned_thread_runs_only_on_its_cores() {
        let cores = usable_cores();
        let last = *cores.last().expect("at least one core");
        std::thread::spawn(move || {
            pin_current(&[last]).expect("pinning to a usable core");
            assert_eq!(usable_cores(), vec![last]);
        })
        .join()
        .expect("the pinned thread finishes");
    }
}

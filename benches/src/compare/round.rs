//! One run of a comparison, as `--repeat` makes several: its stamp, where
//! its files go, the rates it sends its open loops at, and the order its
//! deployments take their turns in.

use std::collections::BTreeMap;
use std::path::Path;

use crate::experiment::Stamp;

/// One run of the comparison: when and where it happened (taken once, at
/// its start), where its files go, and the open loops' rates by workload
/// if they are fixed already (by an earlier run of a `--repeat`).
pub(crate) struct Round<'a> {
    pub(crate) stamp: Stamp,
    pub(crate) out: &'a Path,
    pub(crate) rates: Option<&'a BTreeMap<String, f64>>,
    /// Which run of a `--repeat` this is (0 for the first): the
    /// deployments take their turns in an order rotated by it.
    pub(crate) index: usize,
}

/// The order the deployments take their turns in, in round `round`: the
/// asked-for order, rotated by one more each round. A drift of the machine
/// over a run (another tenant's load, a warming cache) then strikes each
/// deployment first in some round and last in another, instead of always
/// the one measured last; each ratio is still taken within one round.
pub(crate) fn turns(count: usize, round: usize) -> Vec<usize> {
    (0..count)
        .map(|turn| (turn + round) % count.max(1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::turns;

    #[test]
    fn the_deployments_take_turns_in_an_order_rotated_each_round() {
        assert_eq!(turns(3, 0), [0, 1, 2]);
        assert_eq!(turns(3, 1), [1, 2, 0]);
        assert_eq!(turns(3, 2), [2, 0, 1]);
        assert_eq!(turns(3, 3), [0, 1, 2]);
        assert_eq!(turns(0, 5), Vec::<usize>::new());
    }
}

//! The ReplicaSet controller's choice of which pods to delete when it
//! scales down (kubernetes/kubernetes `pkg/controller/replicaset`
//! `getPodsToDelete` and `controller.ActivePodsWithRanks`): pods are ranked
//! and the lowest go first —
//!
//! 1. not yet scheduled to a node before scheduled;
//! 2. Pending before Unknown before Running;
//! 3. not ready before ready;
//! 4. (the `controller.kubernetes.io/pod-deletion-cost` annotation — not
//!    modelled, every pod costs 0);
//! 5. more pods of the ReplicaSet on the same node before fewer
//!    ("doubled up");
//! 6. ready for less time before ready for longer;
//! 7. more container restarts before fewer (none are modelled);
//! 8. created later before created earlier;
//!
//! the last tie by pod id, newest first.

use crate::time::SimTime;

/// What the ranking looks at for one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodRank {
    /// Scheduled to a node (or running on Fargate capacity).
    pub scheduled: bool,
    /// Containers started (phase Running).
    pub running: bool,
    /// Ready since this instant, if ready.
    pub ready_since: Option<SimTime>,
    /// Pods of the same ReplicaSet on its node (itself included; 0 when unscheduled).
    pub on_same_node: u32,
    /// Created.
    pub created: SimTime,
    /// Id (higher = newer).
    pub id: u32,
}

/// The pods in the order the controller deletes them (indexes into `pods`).
pub fn deletion_order(pods: &[PodRank]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..pods.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (&pods[a], &pods[b]);
        x.scheduled
            .cmp(&y.scheduled)
            .then(x.running.cmp(&y.running))
            .then(x.ready_since.is_some().cmp(&y.ready_since.is_some()))
            .then(y.on_same_node.cmp(&x.on_same_node))
            // Ready for less time first: the later ready_since first.
            .then(y.ready_since.cmp(&x.ready_since))
            .then(y.created.cmp(&x.created))
            .then(y.id.cmp(&x.id))
    });
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(id: u32, scheduled: bool, running: bool, ready: Option<SimTime>, same: u32) -> PodRank {
        PodRank {
            scheduled,
            running,
            ready_since: ready,
            on_same_node: same,
            created: id as SimTime * 10,
            id,
        }
    }

    #[test]
    fn ranks_as_the_replicaset_controller() {
        let pods = [
            pod(0, true, true, Some(100), 1), // ready long, alone
            pod(1, true, true, Some(500), 1), // ready recently
            pod(2, true, true, Some(100), 2), // doubled up
            pod(3, true, true, None, 1),      // running, not ready
            pod(4, true, false, None, 1),     // scheduled, pulling
            pod(5, false, false, None, 0),    // unscheduled
            pod(6, true, true, Some(100), 2), // doubled up, newer than 2
        ];
        assert_eq!(deletion_order(&pods), vec![5, 4, 3, 6, 2, 1, 0]);
    }

    #[test]
    fn newest_first_among_equals() {
        let pods = [
            pod(0, true, true, Some(5), 1),
            pod(1, true, true, Some(5), 1),
        ];
        assert_eq!(deletion_order(&pods), vec![1, 0]);
    }
}

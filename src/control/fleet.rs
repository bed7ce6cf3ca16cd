//! The fleet ledger: every task's life (launch, image pull, RUNNING, healthy,
//! draining, stopped, and why), the running and serving counts over time and
//! their integrals, which reports and the autoscaling metrics are computed from.

use crate::engine::TaskId;
use crate::platform::Provider;
use crate::time::SimTime;
use serde::Serialize;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// PROVISIONING: capacity and network interface.
    Provisioning,
    /// PENDING: pulling the image (billing has started).
    Pulling,
    /// RUNNING, not yet healthy in the target group.
    Starting,
    /// RUNNING and receiving requests.
    Serving,
    /// RUNNING, deregistering: no new requests, in-flight ones finish.
    Draining,
    /// STOPPED.
    Stopped,
}

/// Why a task stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The desired count went down.
    ScaleIn,
    /// Memory in use exceeded the task's limit.
    OomKilled,
    /// Fargate Spot reclaimed the capacity.
    SpotInterrupted,
    /// Its node was removed by the node autoscaler (Kubernetes eviction).
    Evicted,
}

/// One task's life.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// Id.
    pub id: TaskId,
    /// Capacity provider.
    pub provider: Provider,
    /// Current stage.
    pub stage: Stage,
    /// Created (desired count raised or replacement).
    pub launched: SimTime,
    /// Image pull started (billing starts).
    pub pull_start: Option<SimTime>,
    /// RUNNING.
    pub running: Option<SimTime>,
    /// Kubernetes: the readiness probe passed (the pod's Ready condition).
    #[serde(skip)]
    pub ready: Option<SimTime>,
    /// Healthy, receiving requests.
    pub serving: Option<SimTime>,
    /// Deregistration started.
    pub draining: Option<SimTime>,
    /// STOPPED.
    pub stopped: Option<SimTime>,
    /// Why it stopped.
    pub stop_reason: Option<StopReason>,
    /// A Spot interruption warning arrived (for the task or its instance).
    pub interrupted: bool,
    /// Evicted: its node is being removed by the node autoscaler.
    #[serde(skip)]
    pub evicted: bool,
    /// Draining with nothing in flight.
    #[serde(skip)]
    pub drained: bool,
    /// ECS: SIGTERM sent (the deregistration delay ran out).
    #[serde(skip)]
    pub sigterm: bool,
    /// Kubernetes: containers restarted after an OOM kill.
    #[serde(skip)]
    pub oom_restarts: u32,
    /// Kubernetes: the next restart back-off step (10 s × 2^step).
    #[serde(skip)]
    pub backoff_step: u32,
    /// The container instance it is placed on (EC2).
    #[serde(rename = "instance")]
    pub node: Option<u32>,
    /// When the Spot warning arrived.
    pub interrupted_at: Option<SimTime>,
    /// Already running when the run started (its billing began before).
    pub warm: bool,
}

impl TaskRecord {
    /// Counts toward the desired count (not leaving).
    pub fn active(&self) -> bool {
        self.stage < Stage::Draining && !self.interrupted && !self.evicted
    }

    /// RUNNING in ECS terms (containers started, not stopped).
    pub fn is_running(&self) -> bool {
        matches!(
            self.stage,
            Stage::Starting | Stage::Serving | Stage::Draining
        )
    }
}

/// A count over time with its integral and extremes.
#[derive(Debug, Clone, Default)]
pub struct Gauge {
    n: u32,
    last: SimTime,
    since_take: u128,
    total: u128,
    min: Option<u32>,
    max: u32,
}

impl Gauge {
    fn advance(&mut self, now: SimTime) {
        if now > self.last {
            let a = self.n as u128 * (now - self.last) as u128;
            self.since_take += a;
            self.total += a;
            // Only counts that lasted a positive time are extremes.
            self.min = Some(self.min.map_or(self.n, |m| m.min(self.n)));
            self.max = self.max.max(self.n);
            self.last = now;
        }
    }

    fn change(&mut self, now: SimTime, delta: i32) {
        self.advance(now);
        self.n = self
            .n
            .checked_add_signed(delta)
            .expect("gauge never goes negative");
    }

    /// Now.
    pub fn get(&self) -> u32 {
        self.n
    }

    /// Integral (count × µs) since the previous call.
    pub fn take(&mut self, now: SimTime) -> u64 {
        self.advance(now);
        std::mem::take(&mut self.since_take) as u64
    }

    /// Total integral (count × µs).
    pub fn total(&self) -> u128 {
        self.total
    }

    /// Total integral (count × µs) up to `now` (≥ the last change).
    pub fn total_at(&self, now: SimTime) -> u128 {
        self.total + self.n as u128 * now.saturating_sub(self.last) as u128
    }

    /// Smallest value held for a positive time.
    pub fn min(&self) -> u32 {
        self.min.unwrap_or(self.n)
    }

    /// Largest value held for a positive time.
    pub fn max(&self) -> u32 {
        self.max
    }
}

/// Every task of a run.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    tasks: Vec<TaskRecord>,
    alive: Vec<TaskId>,
    /// RUNNING tasks.
    pub running: Gauge,
    /// Serving tasks.
    pub serving: Gauge,
}

impl Fleet {
    /// An empty fleet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a task in PROVISIONING.
    pub fn launch(&mut self, now: SimTime, provider: Provider) -> TaskId {
        let id = self.tasks.len() as TaskId;
        self.tasks.push(TaskRecord {
            id,
            provider,
            stage: Stage::Provisioning,
            launched: now,
            pull_start: None,
            running: None,
            ready: None,
            serving: None,
            draining: None,
            stopped: None,
            stop_reason: None,
            interrupted: false,
            evicted: false,
            drained: false,
            sigterm: false,
            oom_restarts: 0,
            backoff_step: 0,
            node: None,
            interrupted_at: None,
            warm: false,
        });
        self.alive.push(id);
        id
    }

    /// Moves a task to `stage` at `now`, recording the time and the counts.
    pub fn set_stage(&mut self, id: TaskId, stage: Stage, now: SimTime) {
        let t = &mut self.tasks[id as usize];
        let was_running = t.is_running();
        let was_serving = t.stage == Stage::Serving;
        debug_assert!(
            stage >= t.stage,
            "task {id} went back from {:?} to {stage:?}",
            t.stage
        );
        t.stage = stage;
        match stage {
            Stage::Provisioning => {}
            Stage::Pulling => t.pull_start = Some(now),
            Stage::Starting => t.running = Some(now),
            Stage::Serving => {
                t.running.get_or_insert(now);
                t.pull_start.get_or_insert(now);
                t.serving = Some(now);
            }
            Stage::Draining => t.draining = Some(now),
            Stage::Stopped => t.stopped = Some(now),
        }
        let (is_running, is_serving) = (t.is_running(), t.stage == Stage::Serving);
        if is_running != was_running {
            self.running.change(now, if is_running { 1 } else { -1 });
        }
        if is_serving != was_serving {
            self.serving.change(now, if is_serving { 1 } else { -1 });
        }
        if stage == Stage::Stopped {
            self.alive.retain(|a| *a != id);
        }
    }

    /// Stops a task.
    pub fn stop(&mut self, id: TaskId, now: SimTime, reason: StopReason) {
        self.set_stage(id, Stage::Stopped, now);
        self.tasks[id as usize].stop_reason = Some(reason);
    }

    /// Records where a task was placed.
    pub fn set_node(&mut self, id: TaskId, node: u32) {
        self.tasks[id as usize].node = Some(node);
    }

    /// Marks a Spot interruption warning.
    pub fn interrupt(&mut self, id: TaskId, now: SimTime) {
        let t = &mut self.tasks[id as usize];
        t.interrupted = true;
        t.interrupted_at.get_or_insert(now);
    }

    /// Kubernetes: the task's container was OOM-killed and will restart in
    /// place: back to waiting for its container (not running, not ready).
    pub fn restart(&mut self, id: TaskId, now: SimTime, backoff_step: u32) {
        let t = &mut self.tasks[id as usize];
        let (was_running, was_serving) = (t.is_running(), t.stage == Stage::Serving);
        t.stage = Stage::Pulling;
        t.ready = None;
        t.oom_restarts += 1;
        t.backoff_step = backoff_step;
        if was_running {
            self.running.change(now, -1);
        }
        if was_serving {
            self.serving.change(now, -1);
        }
    }

    /// A draining task has nothing in flight.
    pub fn set_drained(&mut self, id: TaskId) {
        self.tasks[id as usize].drained = true;
    }

    /// ECS sent the task SIGTERM.
    pub fn sigterm(&mut self, id: TaskId) {
        self.tasks[id as usize].sigterm = true;
    }

    /// Marks an eviction (its node is leaving).
    pub fn evict(&mut self, id: TaskId) {
        self.tasks[id as usize].evicted = true;
    }

    /// Kubernetes: the pod became Ready.
    pub fn set_ready(&mut self, id: TaskId, now: SimTime) {
        self.tasks[id as usize].ready = Some(now);
    }

    /// Marks a task that was already running when the run started.
    pub fn set_warm(&mut self, id: TaskId) {
        self.tasks[id as usize].warm = true;
    }

    /// A task.
    pub fn task(&self, id: TaskId) -> &TaskRecord {
        &self.tasks[id as usize]
    }

    /// Tasks not stopped, in launch order.
    pub fn alive(&self) -> impl Iterator<Item = &TaskRecord> {
        self.alive.iter().map(|i| &self.tasks[*i as usize])
    }

    /// Every task the run created.
    pub fn tasks(&self) -> &[TaskRecord] {
        &self.tasks
    }

    /// Brings the integrals up to `now` (at the end of a run).
    pub fn close(&mut self, now: SimTime) {
        self.running.advance(now);
        self.serving.advance(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_stages() {
        let mut f = Fleet::new();
        let a = f.launch(0, Provider::Fargate);
        f.set_stage(a, Stage::Pulling, 10);
        f.set_stage(a, Stage::Starting, 20);
        assert_eq!((f.running.get(), f.serving.get()), (1, 0));
        f.set_stage(a, Stage::Serving, 30);
        assert_eq!((f.running.get(), f.serving.get()), (1, 1));
        f.set_stage(a, Stage::Draining, 40);
        assert_eq!((f.running.get(), f.serving.get()), (1, 0));
        f.stop(a, 50, StopReason::ScaleIn);
        f.close(60);
        assert_eq!(f.running.total(), 30);
        assert_eq!(f.serving.total(), 10);
        assert_eq!(f.alive().count(), 0);
        assert_eq!(f.running.max(), 1);
    }
}

//! Profiles shared by every fluid run of the process: a sweep's jobs (and a
//! `compare`'s options) that run the same workload meet the same states,
//! and each state's profile is built once.
//!
//! A profile is a quadrature of its state's latency distribution: 4,096
//! stratified requests (`profiles.rs`). Its inputs are the workload's
//! exact strata, paired once per workload from a fixed stream
//! ([`Component::FluidProfiles`]), not per seed: a month's billions of
//! requests show no sampling noise of their own, and a seed's draws are
//! its arrivals, CPU noise, minute sampling, a saturated task's latency
//! draws, task lifecycles and Spot. (So
//! an interval over seeds leaves out the quadrature's own error, about 1 %
//! on the median and 2.5 % on the p99: README, "Fidelity".) A profile is
//! then a pure function of the workload's distributions and of the
//! model's parameters, which are its key, bit for bit: whichever run builds
//! it first, every run gets the same values, so outputs do not depend on
//! the order jobs run in, their thread or their shard.
//!
//! Bounded, and kept for the life of the process: at most [`MAX_INPUTS`]
//! workloads' inputs (about 224 KiB each, 14 MiB) and [`MAX_SHARED`]
//! profiles (32 KiB each, 64 MiB); nothing is evicted. Past either bound a
//! run builds its own as before (up to `MAX_PROFILES`, 32 MiB, per run),
//! so a sweep over many workloads shares only its first ones' profiles;
//! results are the same either way.

use super::profiles::{Inputs, Stretch};
use crate::metrics::profile::LatencyProfile;
use crate::rng::{Component, stream};
use crate::workload::DistSpec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Most workloads whose inputs the process keeps (about 230 KiB each).
const MAX_INPUTS: usize = 64;
/// Most profiles the process keeps (32 KiB each: 64 MiB).
const MAX_SHARED: usize = 2048;
/// The seed of the profiles' inputs (the same for every run).
const INPUTS_SEED: u64 = 0x7072_6f66_696c_6573;

/// A workload's inputs, and their index in the process's store (`None`:
/// not shared, the store was full).
pub(super) struct SharedInputs {
    id: Option<u32>,
    pub inputs: Arc<Inputs>,
}

/// A built profile and the share of its state's requests that time out.
#[derive(Clone)]
pub(super) struct Built {
    pub profile: Arc<LatencyProfile>,
    pub lost: f64,
}

/// The model a profile is built from, exactly: the stretch (its kind and
/// four figures), the chance and mean of the wait, the timeout and the
/// correlation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    inputs: u32,
    model: [u64; 9],
}

#[derive(Default)]
struct Store {
    inputs: Vec<(WorkloadKey, Arc<Inputs>)>,
    profiles: HashMap<Key, Built>,
}

static STORE: Mutex<Option<Store>> = Mutex::new(None);

fn with_store<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    // A panic elsewhere cannot leave the store half-written: every change
    // is one push or insert.
    let mut guard = STORE.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(Store::default))
}

/// A workload's CPU and I/O time distributions, exactly: each one's kind
/// and the bits of its parameters.
type WorkloadKey = [u64; 6];

fn dist_key(d: Option<&DistSpec>) -> [u64; 3] {
    match d {
        None => [0, 0, 0],
        Some(DistSpec::Constant { value }) => [1, value.to_bits(), 0],
        Some(DistSpec::Exponential { mean }) => [2, mean.to_bits(), 0],
        Some(DistSpec::Lognormal { mean, p99 }) => [3, mean.to_bits(), p99.to_bits()],
        Some(DistSpec::Gamma { mean, shape }) => [4, mean.to_bits(), shape.to_bits()],
    }
}

/// The inputs of the workload whose CPU and I/O times are `cpu` and `io`:
/// the process's copy, drawn now (once per workload, under the lock) if no
/// run has drawn them yet.
pub(super) fn inputs(cpu: &DistSpec, io: Option<&DistSpec>) -> SharedInputs {
    let ([a, b, c], [d, e, f]) = (dist_key(Some(cpu)), dist_key(io));
    let name: WorkloadKey = [a, b, c, d, e, f];
    let draw = || {
        Arc::new(Inputs::new(
            cpu,
            io,
            &mut stream(INPUTS_SEED, Component::FluidProfiles),
        ))
    };
    with_store(|s| {
        if let Some(i) = s.inputs.iter().position(|(n, _)| *n == name) {
            return SharedInputs {
                id: Some(i as u32),
                inputs: Arc::clone(&s.inputs[i].1),
            };
        }
        let inputs = draw();
        if s.inputs.len() >= MAX_INPUTS {
            return SharedInputs { id: None, inputs };
        }
        s.inputs.push((name, Arc::clone(&inputs)));
        SharedInputs {
            id: Some((s.inputs.len() - 1) as u32),
            inputs,
        }
    })
}

impl SharedInputs {
    /// The profile of a stable state's model (`Inputs::latencies`' terms),
    /// its requests' latencies correlated over `corr`: the process's copy,
    /// built now if no run has built it yet.
    pub(super) fn profile(
        &self,
        stretch: Stretch,
        p_wait: f64,
        mean_wait_s: f64,
        timeout_us: Option<f64>,
        corr: f64,
    ) -> Built {
        let build = || {
            let (samples, lost) = self
                .inputs
                .latencies(stretch, p_wait, mean_wait_s, timeout_us);
            Built {
                profile: Arc::new(LatencyProfile::new(&samples).with_correlation(corr)),
                lost,
            }
        };
        let Some(id) = self.id else {
            return build();
        };
        let (kind, a, b, c, d) = match stretch {
            Stretch::Fixed(s) => (0, s, 0.0, 0.0, 0.0),
            Stretch::Ps {
                busy,
                rho,
                cores,
                speed,
            } => (1, busy, rho, cores, speed),
        };
        let key = Key {
            inputs: id,
            model: [
                kind,
                a.to_bits(),
                b.to_bits(),
                c.to_bits(),
                d.to_bits(),
                p_wait.to_bits(),
                mean_wait_s.to_bits(),
                timeout_us.map_or(u64::MAX, f64::to_bits),
                corr.to_bits(),
            ],
        };
        if let Some(found) = with_store(|s| s.profiles.get(&key).cloned()) {
            return found;
        }
        let built = build();
        with_store(|s| {
            if let Some(found) = s.profiles.get(&key) {
                return found.clone();
            }
            if s.profiles.len() < MAX_SHARED {
                s.profiles.insert(key, built.clone());
            }
            built
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_profile_is_the_one_a_run_would_build() {
        let cpu = DistSpec::Lognormal {
            mean: 18.0,
            p99: 80.0,
        };
        let io = DistSpec::Exponential { mean: 25.0 };
        let a = inputs(&cpu, Some(&io));
        let b = inputs(&cpu, Some(&io));
        assert!(Arc::ptr_eq(&a.inputs, &b.inputs), "one draw per workload");
        let stretch = Stretch::Ps {
            busy: 0.3,
            rho: 0.6,
            cores: 1.0,
            speed: 1.0,
        };
        let first = a.profile(stretch, 0.1, 0.002, Some(1e7), 3.0);
        let again = b.profile(stretch, 0.1, 0.002, Some(1e7), 3.0);
        assert!(Arc::ptr_eq(&first.profile, &again.profile), "built once");
        // Equal to a profile built apart from the store, from inputs drawn
        // the same way.
        let own = Inputs::new(
            &cpu,
            Some(&io),
            &mut stream(INPUTS_SEED, Component::FluidProfiles),
        );
        let (samples, lost) = own.latencies(stretch, 0.1, 0.002, Some(1e7));
        let apart = LatencyProfile::new(&samples).with_correlation(3.0);
        assert_eq!(first.lost, lost);
        assert_eq!(first.profile.mean_latency(), apart.mean_latency());
        assert_eq!(first.profile.max(), apart.max());
        assert_eq!(
            first.profile.share_above(50_000.0),
            apart.share_above(50_000.0)
        );
        // Another model is another profile.
        let other = a.profile(stretch, 0.2, 0.002, Some(1e7), 3.0);
        assert!(!Arc::ptr_eq(&first.profile, &other.profile));
        assert!(other.profile.mean_latency() > first.profile.mean_latency());
        // Another workload, other inputs.
        let slower = DistSpec::Lognormal {
            mean: 22.0,
            p99: 80.0,
        };
        assert!(!Arc::ptr_eq(&inputs(&slower, Some(&io)).inputs, &a.inputs));
    }
}

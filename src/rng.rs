//! Random streams: one independent, seeded generator per model component.
//!
//! Invariant: everything random in a run is drawn from a [`Stream`] obtained
//! here, keyed by the scenario seed and a stable component label (one
//! exception: the fluid profiles' pairing, [`Component::FluidProfiles`],
//! drawn from a fixed seed so that profiles can be shared between runs). Adding a new
//! component (a new label) never changes the draws of an existing one, and the
//! same seed always reproduces the same draws on every platform (PCG is a
//! portable, specified generator; `StdRng`/`SmallRng` are not promised to be).

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// The generator type every component draws from.
pub type Stream = Pcg64Mcg;

/// Components that draw random numbers. The label of each is part of the
/// seed derivation, so it must never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// Request arrival instants (the non-homogeneous Poisson process).
    Arrivals,
    /// CPU demand per request.
    CpuDemand,
    /// I/O wait per request.
    IoWait,
    /// Routing decisions that need randomness (tie breaks).
    Routing,
    /// Task PROVISIONING times.
    Provisioning,
    /// Image pull times.
    ImagePull,
    /// Application start times.
    AppStart,
    /// Health-check phases.
    HealthCheck,
    /// Spot interruption instants.
    SpotInterruptions,
    /// Random placement decisions.
    Placement,
    /// Instance boot times.
    InstanceBoot,
    /// Phases of periodic controllers (the HPA's sync against metrics-server's scrapes).
    ControllerPhase,
    /// The per-minute percentiles of the aggregate plane: which order
    /// statistics a minute's requests would have shown.
    MinuteSampling,
    /// The fluid plane's profile inputs: drawn from one fixed seed for
    /// every run, not the scenario's (`service::fluid::shared`).
    FluidProfiles,
}

impl Component {
    /// The stable label this component's stream is derived from.
    pub fn label(self) -> &'static str {
        match self {
            Component::Arrivals => "arrivals",
            Component::CpuDemand => "cpu-demand",
            Component::IoWait => "io-wait",
            Component::Routing => "routing",
            Component::Provisioning => "provisioning",
            Component::ImagePull => "image-pull",
            Component::AppStart => "app-start",
            Component::HealthCheck => "health-check",
            Component::SpotInterruptions => "spot-interruptions",
            Component::Placement => "placement",
            Component::InstanceBoot => "instance-boot",
            Component::ControllerPhase => "controller-phase",
            Component::MinuteSampling => "minute-sampling",
            Component::FluidProfiles => "fluid-profiles",
        }
    }
}

/// SplitMix64 finaliser: a bijective, well-mixing step.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over the label bytes: stable across Rust versions, unlike `Hash`.
fn label_hash(label: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Derives a 64-bit sub-seed from a seed and a label (also used to derive the
/// seeds of sweep jobs from a base seed and the job identity).
pub fn derive_seed(seed: u64, label: &str) -> u64 {
    splitmix64(seed ^ splitmix64(label_hash(label)))
}

/// A generator for `label` under `seed`, independent of every other label.
pub fn stream_for(seed: u64, label: &str) -> Stream {
    let a = derive_seed(seed, label);
    let b = splitmix64(a ^ 0x5851_F42D_4C95_7F2D);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    Stream::from_seed(bytes)
}

/// The stream of a known component.
pub fn stream(seed: u64, component: Component) -> Stream {
    stream_for(seed, component.label())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_same_draws_other_seed_other_draws() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Component::Arrivals), |s, _| Some(s.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Component::Arrivals), |s, _| Some(s.next_u64()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(8, Component::Arrivals), |s, _| Some(s.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn components_get_independent_streams() {
        let mut a = stream(7, Component::Arrivals);
        let mut b = stream(7, Component::CpuDemand);
        assert_ne!(a.next_u64(), b.next_u64());
    }
}

//! Kubernetes on Amazon EKS: what Kubernetes decides, beside the ECS models
//! and plugged into the same seams (the engine never knows which
//! orchestrator runs).
//!
//! - `node`: EKS node facts — VPC CNI max pods, the EKS-optimized AMI's
//!   kube-reserved and eviction threshold, allocatable.
//! - `hpa`: the Horizontal Pod Autoscaler's replica calculator and
//!   behaviour (stabilization, rate policies) as pure functions.
//! - `estimator`: the Cluster Autoscaler's binpacking estimator and expanders.
//! - `cluster_autoscaler`: the Cluster Autoscaler over managed node groups,
//!   a node scaler of [`crate::control::ClusterControl`] beside ECS managed
//!   scaling (Karpenter will be a third).
//! - `manifest`: Kubernetes YAML (Deployment, HorizontalPodAutoscaler) in.
//! - `spec`: the scenario's `[hpa]` section and its compiled form.
//! - `hpa_controller`: the HPA controller in a run — metrics-server's
//!   samples, the sync loop, the decision log rows.
//! - `replicaset`: which pods a ReplicaSet deletes first.
//! - `fargate`: the Fargate size an EKS Fargate pod runs on.
//! - `karpenter`: Karpenter's NodePool requirements and provisioning
//!   decision (not yet a node scaler in a run).
//!
//! AWS-generic pieces (instances, billing, Spot, the image cache, the ALB)
//! are the ones ECS uses: `cluster`, `control`, `pricing`, `placement`.

pub mod cluster_autoscaler;
pub mod estimator;
pub mod fargate;
pub mod hpa;
pub mod hpa_controller;
pub mod karpenter;
pub mod manifest;
pub mod node;
pub mod replicaset;
pub mod spec;

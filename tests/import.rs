//! `capsim import`: scenarios from saved AWS CLI output — every imported
//! value commented with its source, placeholders marked, what was ignored
//! printed, the scenario valid and runnable, nothing overwritten unasked.

mod common;
use std::path::Path;
use std::process::{Command, Output};

fn capsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

const SERVICES: &str = r#"{
    "services": [
        {
            "serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/prod/web",
            "serviceName": "web",
            "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
            "loadBalancers": [
                {
                    "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/abc",
                    "containerName": "web",
                    "containerPort": 8080
                }
            ],
            "status": "ACTIVE",
            "desiredCount": 4,
            "runningCount": 4,
            "launchType": "FARGATE",
            "platformVersion": "LATEST",
            "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42",
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": { "enable": true, "rollback": true },
                "maximumPercent": 200,
                "minimumHealthyPercent": 50
            },
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-1", "subnet-2"],
                    "securityGroups": ["sg-1"],
                    "assignPublicIp": "DISABLED"
                }
            },
            "healthCheckGracePeriodSeconds": 60,
            "schedulingStrategy": "REPLICA"
        }
    ],
    "failures": []
}"#;

const TARGETS: &str = r#"{
    "ScalableTargets": [
        {
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 2,
            "MaxCapacity": 12,
            "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
        },
        {
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/worker",
            "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 1,
            "MaxCapacity": 3
        }
    ]
}"#;

const POLICIES: &str = r#"{
    "ScalingPolicies": [
        {
            "PolicyName": "cpu70",
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 70.0,
                "PredefinedMetricSpecification": { "PredefinedMetricType": "ECSServiceAverageCPUUtilization" },
                "ScaleOutCooldown": 60,
                "ScaleInCooldown": 300
            }
        },
        {
            "PolicyName": "requests",
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 1000.0,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ALBRequestCountPerTarget",
                    "ResourceLabel": "app/web/1/targetgroup/web/abc"
                }
            }
        },
        {
            "PolicyName": "queue-depth",
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 10.0,
                "CustomizedMetricSpecification": { "MetricName": "Depth", "Namespace": "App", "Statistic": "Average" }
            }
        },
        {
            "PolicyName": "burst",
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "StepScaling",
            "StepScalingPolicyConfiguration": { "AdjustmentType": "ChangeInCapacity", "StepAdjustments": [{ "MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 2 }] }
        },
        {
            "PolicyName": "other-service",
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/worker",
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": { "TargetValue": 50.0, "PredefinedMetricSpecification": { "PredefinedMetricType": "ECSServiceAverageMemoryUtilization" } }
        }
    ]
}"#;

fn fixtures(dir: &Path) {
    std::fs::write(dir.join("services.json"), SERVICES).unwrap();
    std::fs::write(dir.join("targets.json"), TARGETS).unwrap();
    std::fs::write(dir.join("policies.json"), POLICIES).unwrap();
    std::fs::copy(
        common::root().join("scenarios/web-api-task.json"),
        dir.join("task-definition.json"),
    )
    .unwrap();
}

const ARGS: &[&str] = &[
    "import",
    "ecs",
    "--services",
    "services.json",
    "--task-definition",
    "task-definition.json",
    "--scalable-targets",
    "targets.json",
    "--scaling-policies",
    "policies.json",
    "--out",
    "web.toml",
];

#[test]
fn a_hand_built_fargate_service_imports_commented_and_runs() {
    let d = tempfile::tempdir().unwrap();
    fixtures(d.path());
    let o = capsim(ARGS, d.path());
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{err}");
    assert!(out.contains("written and valid"), "{out}");
    let toml = std::fs::read_to_string(d.path().join("web.toml")).unwrap();
    // Every imported value names its source.
    for (line, source) in [
        ("desired = 4", "services.json: services[0].desiredCount"),
        (
            "maximum_percent = 200",
            "deploymentConfiguration.maximumPercent",
        ),
        ("minimum_healthy_percent = 50", "minimumHealthyPercent"),
        ("kind = \"fargate\"", "services[0].launchType"),
        ("region = \"eu-west-1\"", "serviceArn"),
        (
            "min_capacity = 2",
            "targets.json: ScalableTargets[0].MinCapacity",
        ),
        ("max_capacity = 12", "ScalableTargets[0].MaxCapacity"),
        ("target_value = 70.0", "policies.json: ScalingPolicies[0]"),
        ("scale_out_cooldown = \"60s\"", "ScaleOutCooldown"),
        (
            "definition = \"task-definition.json\"",
            "task-definition.json",
        ),
        ("target_value = 1000.0", "ScalingPolicies[1]"),
    ] {
        let l = toml
            .lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("no `{line}` in\n{toml}"));
        assert!(l.contains(source), "{l}");
    }
    assert!(toml.contains("[[autoscaling.target_tracking]]"));
    assert!(toml.contains("predefined_metric = \"ALBRequestCountPerTarget\""));
    // The load, the workload and the SLO are marked placeholders.
    for key in ["rps = 50", "cpu_ms =", "concurrency = 64", "p99_ms = 500"] {
        let l = toml.lines().find(|l| l.starts_with(key)).unwrap();
        assert!(l.contains("PLACEHOLDER"), "{l}");
    }
    // What was not used is said, with the reason.
    for what in [
        "loadBalancers",
        "networkConfiguration",
        "deploymentCircuitBreaker",
        "healthCheckGracePeriodSeconds",
        "queue-depth tracks a customized metric",
        "step policy burst",
    ] {
        assert!(err.contains(what), "{what} not in\n{err}");
    }
    // The other service's policy is not this service's.
    assert!(
        !toml.contains("ECSServiceAverageMemoryUtilization"),
        "{toml}"
    );
    // It runs as written.
    let o = capsim(
        &[
            "run",
            "web.toml",
            "--set",
            "duration=1h",
            "--quiet",
            "--out",
            "r",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn nothing_is_overwritten_unless_asked() {
    let d = tempfile::tempdir().unwrap();
    fixtures(d.path());
    std::fs::write(d.path().join("web.toml"), "mine").unwrap();
    let o = capsim(ARGS, d.path());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(d.path().join("web.toml")).unwrap(),
        "mine"
    );
    let mut forced = ARGS.to_vec();
    forced.push("--force");
    assert!(capsim(&forced, d.path()).status.success());
}

#[test]
fn bad_sources_are_named() {
    let d = tempfile::tempdir().unwrap();
    fixtures(d.path());
    let run = |args: &[&str]| String::from_utf8_lossy(&capsim(args, d.path()).stderr).into_owned();
    std::fs::write(
        d.path().join("broken.json"),
        "{\n  \"services\": [\n    {,\n",
    )
    .unwrap();
    let e = run(&[
        "import",
        "ecs",
        "--services",
        "broken.json",
        "--task-definition",
        "task-definition.json",
        "--out",
        "x.toml",
    ]);
    assert!(e.contains("broken.json") && e.contains("line 3"), "{e}");
    let two = SERVICES.replace(
        "    ],\n    \"failures\"",
        "    , { \"serviceName\": \"api\", \"desiredCount\": 1 }],\n    \"failures\"",
    );
    std::fs::write(d.path().join("two.json"), two).unwrap();
    let e = run(&[
        "import",
        "ecs",
        "--services",
        "two.json",
        "--task-definition",
        "task-definition.json",
        "--out",
        "x.toml",
    ]);
    assert!(e.contains("--service") && e.contains("\"api\""), "{e}");
    let e = run(&[
        "import",
        "ecs",
        "--services",
        "two.json",
        "--service",
        "nope",
        "--task-definition",
        "task-definition.json",
        "--out",
        "x.toml",
    ]);
    assert!(e.contains("no service named \"nope\""), "{e}");
    let e = run(&[
        "import",
        "ecs",
        "--services",
        "targets.json",
        "--task-definition",
        "task-definition.json",
        "--out",
        "x.toml",
    ]);
    assert!(e.contains("describe-services"), "{e}");
    assert!(!d.path().join("x.toml").exists());
}

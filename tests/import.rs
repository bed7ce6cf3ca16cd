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
            "StepScalingPolicyConfiguration": { "AdjustmentType": "ChangeInCapacity", "StepAdjustments": [{ "MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 2 }], "Cooldown": 60 },
            "Alarms": [{ "AlarmName": "web-cpu-burst", "AlarmARN": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu-burst" }]
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

const ALARMS: &str = r#"{
    "MetricAlarms": [
        {
            "AlarmName": "web-cpu-burst",
            "Namespace": "AWS/ECS",
            "MetricName": "CPUUtilization",
            "Statistic": "Average",
            "Period": 60,
            "EvaluationPeriods": 2,
            "Threshold": 90.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold"
        }
    ]
}"#;

fn fixtures(dir: &Path) {
    std::fs::write(dir.join("services.json"), SERVICES).unwrap();
    std::fs::write(dir.join("targets.json"), TARGETS).unwrap();
    std::fs::write(dir.join("policies.json"), POLICIES).unwrap();
    std::fs::write(dir.join("alarms.json"), ALARMS).unwrap();
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
    // With the alarms, the step policy comes in too.
    let mut with_alarms = ARGS.to_vec();
    with_alarms.extend(["--alarms", "alarms.json", "--force"]);
    let o = capsim(&with_alarms, d.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = std::fs::read_to_string(d.path().join("web.toml")).unwrap();
    let l = t
        .lines()
        .find(|l| l.starts_with("threshold = 90"))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(l.contains("alarms.json: MetricAlarms[0].Threshold"), "{l}");
    assert!(
        t.contains("[[autoscaling.step_scaling]]")
            && t.contains("steps = [{ lower = 0, adjustment = 2 }]"),
        "{t}"
    );
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

/// ALB access-log lines with a known log-normal processing time: arrivals
/// over `seconds`, busier in the middle third (where queueing would
/// inflate the time: those requests take 3× longer, and the fit must keep
/// to the quiet seconds).
fn alb_logs(seconds: u64, mu: f64, sigma: f64) -> Vec<String> {
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, LogNormal};
    let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
    let ln = LogNormal::new(mu, sigma).unwrap();
    let mut lines = Vec::new();
    let start: jiff::Timestamp = "2026-11-02T10:00:00Z".parse().unwrap();
    for s in 0..seconds {
        let busy = s >= seconds / 3 && s < 2 * seconds / 3;
        let n = if busy { 60 } else { rng.random_range(8..12) };
        for k in 0..n {
            let at = start
                .checked_add(jiff::SignedDuration::from_micros(
                    (s * 1_000_000 + k * 1_000_000 / n) as i64,
                ))
                .unwrap();
            let mut ms: f64 = ln.sample(&mut rng);
            if busy {
                ms *= 3.0;
            }
            let (tpt, elb, target) = if k == 7 && s % 50 == 0 {
                ("-1".to_string(), "504", "-")
            } else if k == 3 && s % 20 == 0 {
                (format!("{:.6}", ms / 1000.0), "500", "500")
            } else {
                (format!("{:.6}", ms / 1000.0), "200", "200")
            };
            let t = at.strftime("%Y-%m-%dT%H:%M:%S.%6fZ");
            lines.push(format!(
                "https {t} app/web/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 {tpt} 0.000 {elb} {target} 34 366 \"GET https://www.example.com:443/api HTTP/1.1\" \"curl/8.0\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/web/73e2d6bc24d8a067 \"Root=1-58337281-1d84f3d73c47ec4e58577259\" \"www.example.com\" \"-\" 1 {t} \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"{target}\" \"-\" \"-\" TID_1"
            ));
        }
    }
    lines
}

#[test]
fn alb_logs_become_a_trace_and_a_fitted_workload() {
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    // As AWS writes them: gzip files in dated folders, five-minute slices.
    let (mu, sigma) = ((40.0f64).ln(), 0.6);
    let lines = alb_logs(1_800, mu, sigma);
    let dir = d
        .path()
        .join("logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/02");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, chunk) in lines.chunks(6_000).enumerate() {
        let f = std::fs::File::create(dir.join(format!("part-{i:03}.log.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all((chunk.join("\n") + "\n").as_bytes()).unwrap();
        gz.finish().unwrap();
    }
    let o = capsim(
        &[
            "import",
            "alb-logs",
            "logs",
            "--out",
            "fit",
            "--cpu-share",
            "0.25",
        ],
        d.path(),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("of the quietest seconds"), "{out}");
    // The fit recovers the service time within 5 % (mean and p99), not
    // the inflated busy third.
    let (mean, p99) = (
        (mu + sigma * sigma / 2.0).exp(),
        (mu + 2.326_347_874 * sigma).exp(),
    );
    let w: toml::Table =
        toml::from_str(&std::fs::read_to_string(d.path().join("fit/workload.toml")).unwrap())
            .unwrap();
    let get = |k: &str, f: &str| w["workload"][k][f].as_float().unwrap();
    let (fm, fp) = (
        get("cpu_ms", "mean") + get("io_ms", "mean"),
        get("cpu_ms", "p99") + get("io_ms", "p99"),
    );
    assert!((fm / mean - 1.0).abs() < 0.05, "mean {fm} vs {mean}");
    assert!((fp / p99 - 1.0).abs() < 0.05, "p99 {fp} vs {p99}");
    assert!((get("cpu_ms", "mean") / fm - 0.25).abs() < 1e-3);
    assert!(out.contains("Kolmogorov-Smirnov"), "{out}");
    // The trace: one row per second, the busy third at 60 a second.
    let trace = std::fs::read_to_string(d.path().join("fit/trace.csv")).unwrap();
    assert_eq!(trace.lines().count(), 1 + 1_800);
    assert!(
        trace
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("2026-11-02T10:00:00Z,")
    );
    assert_eq!(
        trace.lines().nth(1 + 900).unwrap(),
        "2026-11-02T10:15:00Z,60"
    );
    // The sections paste into a scenario that runs.
    let scenario = format!(
        "name = \"from-logs\"\nduration = \"30m\"\n{}\n[task]\ncpu = 1024\nmemory = 2048\nconcurrency = 32\n[service]\ndesired = 4\n[platform]\nkind = \"fargate\"\n",
        std::fs::read_to_string(d.path().join("fit/workload.toml")).unwrap()
    );
    std::fs::write(d.path().join("fit/s.toml"), scenario).unwrap();
    let o = capsim(&["run", "fit/s.toml", "--quiet", "--out", "r"], d.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The report's page and Q-Q plot exist; 5xx and lost requests counted.
    let page = std::fs::read_to_string(d.path().join("fit/index.html")).unwrap();
    assert!(page.contains("Q-Q") && page.contains("quietest seconds"));
    assert!(out.contains("% 5xx"), "{out}");
    // Not over files already there, unless asked.
    let o = capsim(&["import", "alb-logs", "logs", "--out", "fit"], d.path());
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--force"));
}

#[test]
fn a_bad_alb_log_line_is_named() {
    let d = tempfile::tempdir().unwrap();
    let mut lines = alb_logs(10, 3.0, 0.5);
    let mut f: Vec<&str> = lines[4].split(' ').collect();
    f[6] = "soon";
    lines[4] = f.join(" ");
    std::fs::write(d.path().join("a.log"), lines.join("\n")).unwrap();
    let o = capsim(&["import", "alb-logs", "a.log", "--out", "x"], d.path());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("a.log") && e.contains("line 5") && e.contains("target_processing_time"),
        "{e}"
    );
}

/// The module the ECS chapter of most Terraform books writes: a cluster, a
/// log group, a task definition with jsonencode'd containers, a Fargate
/// service behind a load balancer, a scalable target and a CPU
/// target-tracking policy; variables with defaults, a local, a .tfvars.
const MODULE: &str = r#"
provider "aws" {
  region = var.region
}

variable "region" {
  default = "eu-west-1"
}

variable "app_name" {
  type    = string
  default = "web"
}

variable "cpu" {
  default = 512
}

variable "memory" {
  default = 1024
}

variable "desired" {
  type = number
}

locals {
  container_port = 8080
  tags           = { app = var.app_name }
}

resource "aws_ecs_cluster" "main" {
  name = "${var.app_name}-cluster"
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${var.app_name}"
  retention_in_days = 30
}

resource "aws_ecs_task_definition" "app" {
  family                   = var.app_name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name      = var.app_name
      image     = "${aws_ecr_repository.app.repository_url}:latest"
      essential = true
      portMappings = [
        { containerPort = local.container_port, protocol = "tcp" }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.app.name
          "awslogs-region"        = "us-east-1"
          "awslogs-stream-prefix" = "ecs"
        }
      }
    }
  ])
}

resource "aws_ecs_service" "app" {
  name            = var.app_name
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = var.desired
  launch_type     = "FARGATE"

  network_configuration {
    subnets         = var.private_subnets
    security_groups = [aws_security_group.app.id]
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = var.app_name
    container_port   = local.container_port
  }
}

resource "aws_lb_target_group" "app" {
  name                 = var.app_name
  port                 = local.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path     = "/health"
    interval = 15
  }
}

resource "aws_appautoscaling_target" "app" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 2
  max_capacity       = 10
}

resource "aws_appautoscaling_policy" "burst" {
  name               = "burst"
  policy_type        = "StepScaling"
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension
  service_namespace  = aws_appautoscaling_target.app.service_namespace

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 120
    metric_aggregation_type = "Maximum"

    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = 20
      scaling_adjustment          = 1
    }

    step_adjustment {
      metric_interval_lower_bound = 20
      scaling_adjustment          = 3
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "cpu_high" {
  alarm_name          = "cpu-high"
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 2
  threshold           = 80
  comparison_operator = "GreaterThanOrEqualToThreshold"
  dimensions = {
    ClusterName = aws_ecs_cluster.main.name
    ServiceName = aws_ecs_service.app.name
  }
  alarm_actions = [aws_appautoscaling_policy.burst.arn]
}

resource "aws_appautoscaling_scheduled_action" "night" {
  name               = "night"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension
  schedule           = "cron(0 22 * * ? *)"

  scalable_target_action {
    min_capacity = 1
    max_capacity = 4
  }
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "cpu-70"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension
  service_namespace  = aws_appautoscaling_target.app.service_namespace

  target_tracking_scaling_policy_configuration {
    target_value       = 70
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
"#;

const VARIABLES: &str = r#"
variable "private_subnets" {
  type = list(string)
}
"#;

#[test]
fn the_typical_terraform_ecs_module_imports_to_a_scenario_that_runs() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("infra");
    std::fs::create_dir(&m).unwrap();
    std::fs::write(m.join("main.tf"), MODULE).unwrap();
    std::fs::write(m.join("variables.tf"), VARIABLES).unwrap();
    std::fs::write(
        d.path().join("prod.tfvars"),
        "desired = 3\ncpu = 1024\nmemory = 2048\n",
    )
    .unwrap();
    // `desired` has no default: needed, so named with its file and line.
    let o = capsim(
        &["import", "terraform", "infra", "--out", "web.toml"],
        d.path(),
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("main.tf:") && e.contains("desired_count") && e.contains("--var desired="),
        "{e}"
    );
    assert!(!d.path().join("web.toml").exists());
    let o = capsim(
        &[
            "import",
            "terraform",
            "infra",
            "--var-file",
            "prod.tfvars",
            "--var",
            "cpu=2048",
            "--var",
            "memory=4096",
            "--out",
            "web.toml",
        ],
        d.path(),
    );
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{err}");
    assert!(out.contains("written and valid"), "{out}");
    let toml = std::fs::read_to_string(d.path().join("web.toml")).unwrap();
    let desired_at = format!(
        "main.tf:{}: aws_ecs_service.app.desired_count",
        MODULE
            .lines()
            .position(|l| l.contains("desired_count   = var.desired"))
            .unwrap()
            + 1
    );
    for (line, source) in [
        ("desired = 3", desired_at.as_str()),
        ("kind = \"fargate\"", "aws_ecs_service.app.launch_type"),
        (
            "region = \"eu-west-1\"",
            "main.tf:2: provider \"aws\".region",
        ),
        (
            "at = \"79200s\"",
            "aws_appautoscaling_scheduled_action.night.schedule",
        ),
        (
            "threshold = 80",
            "aws_cloudwatch_metric_alarm.cpu_high.threshold",
        ),
        (
            "comparison = \"greater_than_or_equal_to_threshold\"",
            "comparison_operator",
        ),
        (
            "steps = [{ lower = 0, upper = 20, adjustment = 1 }, { lower = 20, adjustment = 3 }]",
            "aws_appautoscaling_policy.burst.step_adjustment",
        ),
        ("cooldown = \"120s\"", "cooldown"),
        (
            "metric_aggregation_type = \"Maximum\"",
            "metric_aggregation_type",
        ),
        ("every = \"1d\"", "schedule"),
        (
            "min_capacity = 1",
            "aws_appautoscaling_scheduled_action.night.min_capacity",
        ),
        (
            "deregistration_delay = \"30s\"",
            "aws_lb_target_group.app.deregistration_delay",
        ),
        (
            "health_check_interval = \"15s\"",
            "aws_lb_target_group.app.interval",
        ),
        (
            "min_capacity = 2",
            "aws_appautoscaling_target.app.min_capacity",
        ),
        ("max_capacity = 10", "max_capacity"),
        (
            "target_value = 70",
            "aws_appautoscaling_policy.cpu.target_value",
        ),
        ("scale_out_cooldown = \"60s\"", "scale_out_cooldown"),
        (
            "definition = \"web.task-definition.json\"",
            "aws_ecs_task_definition.app",
        ),
    ] {
        let l = toml
            .lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("no `{line}` in\n{toml}"));
        assert!(l.contains(source), "{l}");
    }
    // --var wins over the .tfvars, which wins over the default.
    let td: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("web.task-definition.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (td["cpu"].as_str(), td["memory"].as_str()),
        (Some("2048"), Some("4096"))
    );
    assert_eq!(td["runtimePlatform"]["cpuArchitecture"], "X86_64");
    let c = &td["containerDefinitions"][0];
    assert_eq!(c["portMappings"][0]["containerPort"], 8080);
    assert!(
        c["image"]
            .as_str()
            .unwrap()
            .contains("unresolved: aws_ecr_repository.app.repository_url")
    );
    // What capsim did not need, and what only an apply knows, is listed.
    for what in [
        "aws_ecr_repository.app.repository_url is known only once applied — capsim does not need it",
        "aws_ecs_cluster.main: not needed by capsim",
        "block load_balancer",
        "aws_cloudwatch_log_group.app",
        "execution_role_arn",
    ] {
        assert!(err.contains(what), "{what} not in\n{err}");
    }
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
    // Nothing overwritten unasked.
    let o = capsim(
        &[
            "import",
            "terraform",
            "infra",
            "--var",
            "desired=1",
            "--out",
            "web.toml",
        ],
        d.path(),
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--force"));
    // Bad HCL names the file.
    std::fs::write(
        m.join("broken.tf"),
        "resource \"aws_ecs_service\" {\n  name = \n",
    )
    .unwrap();
    let o = capsim(
        &[
            "import",
            "terraform",
            "infra",
            "--var",
            "desired=1",
            "--out",
            "x.toml",
        ],
        d.path(),
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("broken.tf") && e.contains("not valid HCL"),
        "{e}"
    );
}

/// A CloudFormation template as the ECS documentation writes one: YAML,
/// short-form intrinsics, parameters with defaults, a Fargate service with
/// a load balancer, a scalable target and a CPU target-tracking policy.
const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ServiceName:
    Type: String
    Default: web
  Cpu:
    Type: String
    Default: "512"
  Memory:
    Type: String
  DesiredCount:
    Type: Number
    Default: 3
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
  LogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/ecs/${ServiceName}"
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: !Ref ServiceName
      Cpu: !Ref Cpu
      Memory: !Ref Memory
      NetworkMode: awsvpc
      RequiresCompatibilities: [FARGATE]
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      RuntimePlatform:
        OperatingSystemFamily: LINUX
        CpuArchitecture: ARM64
      ContainerDefinitions:
        - Name: !Ref ServiceName
          Image: !Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:latest"
          Essential: true
          PortMappings:
            - ContainerPort: 8080
          LogConfiguration:
            LogDriver: awslogs
            Options:
              awslogs-group: !Ref LogGroup
              awslogs-region: !Ref AWS::Region
  Service:
    Type: AWS::ECS::Service
    Properties:
      Cluster: !Ref Cluster
      TaskDefinition: !Ref TaskDefinition
      DesiredCount: !Ref DesiredCount
      CapacityProviderStrategy:
        - CapacityProvider: FARGATE
          Base: 1
          Weight: 1
        - CapacityProvider: FARGATE_SPOT
          Weight: 3
      DeploymentConfiguration:
        MaximumPercent: 200
        MinimumHealthyPercent: 100
      LoadBalancers:
        - ContainerName: !Ref ServiceName
          ContainerPort: 8080
          TargetGroupArn: !Ref TargetGroup
  ScalableTarget:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      MinCapacity: 2
      MaxCapacity: 12
      ResourceId: !Join ["/", [service, !Ref Cluster, !GetAtt Service.Name]]
      ScalableDimension: ecs:service:DesiredCount
      ServiceNamespace: ecs
      ScheduledActions:
        - ScheduledActionName: weekend
          Schedule: cron(0 0 ? * SAT *)
          ScalableTargetAction:
            MinCapacity: 1
            MaxCapacity: 4
  BurstPolicy:
    Type: AWS::ApplicationAutoScaling::ScalingPolicy
    Properties:
      PolicyName: burst
      PolicyType: StepScaling
      ScalingTargetId: !Ref ScalableTarget
      StepScalingPolicyConfiguration:
        AdjustmentType: PercentChangeInCapacity
        Cooldown: 90
        MinAdjustmentMagnitude: 2
        StepAdjustments:
          - MetricIntervalLowerBound: 0
            ScalingAdjustment: 50
  BurstAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/ECS
      MetricName: CPUUtilization
      Statistic: Average
      Period: 60
      EvaluationPeriods: 3
      Threshold: 85
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: [!Ref BurstPolicy]
  CpuPolicy:
    Type: AWS::ApplicationAutoScaling::ScalingPolicy
    Properties:
      PolicyName: cpu70
      PolicyType: TargetTrackingScaling
      ScalingTargetId: !Ref ScalableTarget
      TargetTrackingScalingPolicyConfiguration:
        TargetValue: 70
        ScaleOutCooldown: 60
        PredefinedMetricSpecification:
          PredefinedMetricType: ECSServiceAverageCPUUtilization
"#;

#[test]
fn a_cloudformation_template_with_short_form_intrinsics_imports_and_runs() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("stack.yaml"), TEMPLATE).unwrap();
    // Memory has no Default and the task needs it.
    let o = capsim(
        &[
            "import",
            "cloudformation",
            "stack.yaml",
            "--out",
            "web.toml",
        ],
        d.path(),
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("TaskDefinition.Properties.Memory") && e.contains("--param Memory="),
        "{e}"
    );
    let o = capsim(
        &[
            "import",
            "cloudformation",
            "stack.yaml",
            "--param",
            "Memory=1024",
            "--region",
            "us-east-1",
            "--out",
            "web.toml",
        ],
        d.path(),
    );
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{err}");
    assert!(out.contains("written and valid"), "{out}");
    let toml = std::fs::read_to_string(d.path().join("web.toml")).unwrap();
    let line = |id: &str| {
        TEMPLATE
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("{id}:")))
            .unwrap()
            + 1
    };
    for (key, source) in [
        ("desired = 3".to_string(), format!("stack.yaml:{}: Service.Properties.DesiredCount", line("Service"))),
        ("maximum_percent = 200".into(), "DeploymentConfiguration.MaximumPercent".into()),
        ("kind = \"fargate\"".into(), "Service.Properties.CapacityProviderStrategy".into()),
        ("capacity_provider_strategy = [{ provider = \"FARGATE\", base = 1, weight = 1 }, { provider = \"FARGATE_SPOT\", base = 0, weight = 3 }]".into(), "CapacityProviderStrategy".into()),
        ("min_capacity = 2".into(), format!("stack.yaml:{}: ScalableTarget.Properties.MinCapacity", line("ScalableTarget"))),
        ("target_value = 70".into(), "CpuPolicy.Properties.TargetTrackingScalingPolicyConfiguration.TargetValue".into()),
        ("scale_out_cooldown = \"60s\"".into(), "ScaleOutCooldown".into()),
        ("region = \"us-east-1\"".into(), "--region".into()),
        ("at = \"432000s\"".into(), "ScalableTarget.Properties.ScheduledActions[0]".into()),
        ("every = \"7d\"".into(), "Schedule".into()),
        ("threshold = 85".into(), "BurstAlarm.Properties.Threshold".into()),
        ("comparison = \"greater_than_threshold\"".into(), "ComparisonOperator".into()),
        ("adjustment_type = \"PercentChangeInCapacity\"".into(), "BurstPolicy".into()),
        ("steps = [{ lower = 0, adjustment = 50 }]".into(), "StepAdjustments".into()),
        ("min_adjustment_magnitude = 2".into(), "MinAdjustmentMagnitude".into()),
    ] {
        let l = toml
            .lines()
            .find(|l| l.starts_with(key.as_str()))
            .unwrap_or_else(|| panic!("no `{key}` in\n{toml}"));
        assert!(l.contains(source.as_str()), "{l}");
    }
    let td: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("web.task-definition.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (td["cpu"].as_str(), td["memory"].as_str()),
        (Some("512"), Some("1024"))
    );
    assert_eq!(td["runtimePlatform"]["cpuArchitecture"], "ARM64");
    let c = &td["containerDefinitions"][0];
    assert_eq!(c["portMappings"][0]["containerPort"], 8080);
    assert_eq!(c["name"], "web");
    assert_eq!(
        c["logConfiguration"]["options"]["awslogs-region"],
        "us-east-1"
    );
    assert!(
        c["image"]
            .as_str()
            .unwrap()
            .contains(".dkr.ecr.us-east-1.amazonaws.com")
    );
    for what in [
        "Ref AWS::AccountId is known only once the stack exists — capsim does not need it",
        "Cluster (AWS::ECS::Cluster): not needed by capsim",
        "Service.Properties.LoadBalancers: not needed by capsim",
        "ExecutionRoleArn: not needed by capsim",
    ] {
        assert!(err.contains(what), "{what} not in\n{err}");
    }
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
    // The same template as JSON (long form) gives the same scenario.
    let json = r#"{"Parameters": {"Memory": {"Type": "String", "Default": "1024"}},
 "Resources": {
  "TaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "256", "Memory": {"Ref": "Memory"},
     "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc",
     "ContainerDefinitions": [{"Name": "web", "Image": {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.us-east-1.amazonaws.com/web"}}]}},
  "Service": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": {"Ref": "TaskDefinition"}, "DesiredCount": 2, "LaunchType": "FARGATE"}}
 }}"#;
    std::fs::write(d.path().join("stack.json"), json).unwrap();
    let o = capsim(
        &["import", "cloudformation", "stack.json", "--out", "j.toml"],
        d.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = std::fs::read_to_string(d.path().join("j.toml")).unwrap();
    assert!(
        t.contains("desired = 2") && t.contains("kind = \"fargate\""),
        "{t}"
    );
}

/// `terraform show -json` of a state: values resolved, blocks as lists of
/// objects, resources of a child module too.
const SHOWN: &str = r#"{
  "format_version": "1.0",
  "terraform_version": "1.9.8",
  "values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_ecs_cluster.main",
          "mode": "managed",
          "type": "aws_ecs_cluster",
          "name": "main",
          "values": { "name": "prod" }
        }
      ],
      "child_modules": [
        {
          "address": "module.web",
          "resources": [
            {
              "address": "module.web.aws_ecs_task_definition.app",
              "mode": "managed",
              "type": "aws_ecs_task_definition",
              "name": "app",
              "values": {
                "family": "web",
                "cpu": "1024",
                "memory": "2048",
                "network_mode": "awsvpc",
                "requires_compatibilities": ["FARGATE"],
                "runtime_platform": [{ "cpu_architecture": "X86_64", "operating_system_family": "LINUX" }],
                "container_definitions": "[{\"name\":\"web\",\"image\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1\",\"essential\":true,\"portMappings\":[{\"containerPort\":8080}]}]",
                "arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"
              }
            },
            {
              "address": "module.web.aws_ecs_service.app",
              "mode": "managed",
              "type": "aws_ecs_service",
              "name": "app",
              "values": {
                "name": "web",
                "desired_count": 4,
                "launch_type": "FARGATE",
                "deployment_maximum_percent": 200,
                "deployment_minimum_healthy_percent": 50,
                "capacity_provider_strategy": [],
                "task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
                "load_balancer": [{ "container_name": "web", "container_port": 8080, "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1" }]
              }
            },
            {
              "address": "module.web.aws_appautoscaling_target.app",
              "mode": "managed",
              "type": "aws_appautoscaling_target",
              "name": "app",
              "values": { "min_capacity": 2, "max_capacity": 20, "resource_id": "service/prod/web", "service_namespace": "ecs", "scalable_dimension": "ecs:service:DesiredCount" }
            },
            {
              "address": "module.web.aws_appautoscaling_policy.cpu",
              "mode": "managed",
              "type": "aws_appautoscaling_policy",
              "name": "cpu",
              "values": {
                "policy_type": "TargetTrackingScaling",
                "resource_id": "service/prod/web",
                "target_tracking_scaling_policy_configuration": [{
                  "target_value": 60,
                  "scale_in_cooldown": 120,
                  "scale_out_cooldown": 30,
                  "disable_scale_in": false,
                  "predefined_metric_specification": [{ "predefined_metric_type": "ECSServiceAverageCPUUtilization", "resource_label": "" }]
                }]
              }
            }
          ]
        }
      ]
    }
  }
}"#;

#[test]
fn terraform_show_json_imports_with_its_values_resolved() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("state.json"), SHOWN).unwrap();
    let o = capsim(
        &["import", "terraform", "state.json", "--out", "web.toml"],
        d.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let toml = std::fs::read_to_string(d.path().join("web.toml")).unwrap();
    for key in [
        "desired = 4",
        "minimum_healthy_percent = 50",
        "min_capacity = 2",
        "max_capacity = 20",
        "target_value = 60",
        "scale_out_cooldown = \"30s\"",
        "kind = \"fargate\"",
    ] {
        let l = toml
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no `{key}` in\n{toml}"));
        assert!(l.contains("state.json:"), "{l}");
    }
    let td: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("web.task-definition.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(td["cpu"], "1024");
    assert_eq!(
        td["containerDefinitions"][0]["portMappings"][0]["containerPort"],
        8080
    );
    assert!(
        err.contains("aws_ecs_cluster.main: not needed by capsim"),
        "{err}"
    );
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

/// An ECS-on-EC2 module: a capacity provider with managed scaling over an
/// Auto Scaling group with a mixed-instances policy (on-demand base, Spot
/// above it) and a launch template.
const EC2_MODULE: &str = r#"
variable "types" {
  default = ["m6i.large", "m5.large"]
}

resource "aws_launch_template" "ecs" {
  name_prefix   = "ecs-"
  image_id      = data.aws_ssm_parameter.ecs_ami.value
  instance_type = "m6i.large"
}

resource "aws_autoscaling_group" "ecs" {
  min_size         = 1
  max_size         = 12
  desired_capacity = 2

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = 1
      on_demand_percentage_above_base_capacity = 25
      spot_allocation_strategy                 = "price-capacity-optimized"
    }
    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.ecs.id
      }
      override {
        instance_type = var.types[0]
      }
      override {
        instance_type = "m5.large"
      }
    }
  }
}

resource "aws_ecs_capacity_provider" "ec2" {
  name = "ec2"
  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.ecs.arn
    managed_termination_protection = "ENABLED"
    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = 90
      maximum_scaling_step_size = 5
      instance_warmup_period    = 120
    }
  }
}

resource "aws_ecs_task_definition" "api" {
  family                   = "api"
  requires_compatibilities = ["EC2"]
  network_mode             = "awsvpc"
  cpu                      = "512"
  memory                   = "1024"
  container_definitions    = jsonencode([{ name = "api", image = "api:1", essential = true }])
}

resource "aws_ecs_service" "api" {
  name            = "api"
  task_definition = aws_ecs_task_definition.api.arn
  desired_count   = 4

  capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.ec2.name
    weight            = 1
  }

  ordered_placement_strategy {
    type  = "binpack"
    field = "memory"
  }
}
"#;

#[test]
fn an_ec2_service_brings_its_capacity_provider_and_mixed_instances_group() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("ec2.tf"), EC2_MODULE).unwrap();
    let o = capsim(
        &["import", "terraform", "ec2.tf", "--out", "api.toml"],
        d.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let toml = std::fs::read_to_string(d.path().join("api.toml")).unwrap();
    for (key, source) in [
        ("kind = \"ecs_ec2\"", "capacity_provider_strategy"),
        ("instance_types = [\"m6i.large\", \"m5.large\"]", "override"),
        ("min_size = 1", "aws_autoscaling_group.ecs.min_size"),
        ("max_size = 12", "max_size"),
        ("desired_capacity = 2", "desired_capacity"),
        ("on_demand_base_capacity = 1", "on_demand_base_capacity"),
        (
            "on_demand_percentage_above_base = 25",
            "on_demand_percentage_above_base_capacity",
        ),
        (
            "spot_allocation_strategy = \"price-capacity-optimized\"",
            "spot_allocation_strategy",
        ),
        (
            "managed_scaling = true",
            "aws_ecs_capacity_provider.ec2.status",
        ),
        ("target_capacity = 90", "target_capacity"),
        ("maximum_scaling_step_size = 5", "maximum_scaling_step_size"),
        (
            "instance_warmup_period = \"120s\"",
            "instance_warmup_period",
        ),
        (
            "managed_termination_protection = true",
            "managed_termination_protection",
        ),
        (
            "placement_strategy = [{ type = \"binpack\", field = \"memory\" }]",
            "ordered_placement_strategy",
        ),
        ("desired = 4", "desired_count"),
    ] {
        let l = toml
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no `{key}` in\n{toml}"));
        assert!(l.contains(source) && l.contains("ec2.tf:"), "{l}");
    }
    let o = capsim(
        &[
            "run",
            "api.toml",
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
fn a_cloudformation_ec2_service_brings_its_capacity_provider_and_group() {
    let template = r#"Resources:
  LaunchTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: c6i.large
        ImageId: !Ref EcsAmi
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: "0"
      MaxSize: "8"
      DesiredCapacity: "2"
      MixedInstancesPolicy:
        InstancesDistribution:
          OnDemandBaseCapacity: 1
          OnDemandPercentageAboveBaseCapacity: 50
          SpotAllocationStrategy: price-capacity-optimized
        LaunchTemplate:
          LaunchTemplateSpecification:
            LaunchTemplateId: !Ref LaunchTemplate
            Version: !GetAtt LaunchTemplate.LatestVersionNumber
          Overrides:
            - InstanceType: c6i.large
            - InstanceType: m6i.large
  Provider:
    Type: AWS::ECS::CapacityProvider
    Properties:
      AutoScalingGroupProvider:
        AutoScalingGroupArn: !Ref Group
        ManagedTerminationProtection: DISABLED
        ManagedScaling:
          Status: ENABLED
          TargetCapacity: 80
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Cpu: "512"
      Memory: "1024"
      NetworkMode: awsvpc
      RequiresCompatibilities: [EC2]
      ContainerDefinitions:
        - Name: api
          Image: api:1
  Service:
    Type: AWS::ECS::Service
    Properties:
      TaskDefinition: !Ref TaskDefinition
      DesiredCount: 3
      CapacityProviderStrategy:
        - CapacityProvider: !Ref Provider
          Weight: 1
"#;
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("ec2.yaml"), template).unwrap();
    let o = capsim(
        &["import", "cloudformation", "ec2.yaml", "--out", "api.toml"],
        d.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let toml = std::fs::read_to_string(d.path().join("api.toml")).unwrap();
    for (key, source) in [
        ("kind = \"ecs_ec2\"", "CapacityProviderStrategy"),
        (
            "instance_types = [\"c6i.large\", \"m6i.large\"]",
            "Group.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides[0]",
        ),
        ("max_size = 8", "Group.Properties.MaxSize"),
        ("desired_capacity = 2", "DesiredCapacity"),
        ("on_demand_base_capacity = 1", "OnDemandBaseCapacity"),
        (
            "on_demand_percentage_above_base = 50",
            "OnDemandPercentageAboveBaseCapacity",
        ),
        (
            "managed_scaling = true",
            "Provider.Properties.AutoScalingGroupProvider.ManagedScaling.Status",
        ),
        ("target_capacity = 80", "TargetCapacity"),
        (
            "managed_termination_protection = false",
            "ManagedTerminationProtection",
        ),
    ] {
        let l = toml
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no `{key}` in\n{toml}"));
        assert!(l.contains(source), "{l}");
    }
    let o = capsim(
        &[
            "run",
            "api.toml",
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
fn an_eks_module_brings_its_node_groups_and_the_pod_from_its_manifest() {
    let module = r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_eks_cluster" "main" {
  name     = "prod"
  role_arn = aws_iam_role.cluster.arn
  version  = "1.33"
  vpc_config {
    subnet_ids = var.subnets
  }
}

resource "aws_eks_node_group" "web" {
  cluster_name    = aws_eks_cluster.main.name
  node_group_name = "web"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnets
  instance_types  = ["m5.xlarge"]
  capacity_type   = "ON_DEMAND"
  labels = {
    workload = "web"
  }
  scaling_config {
    desired_size = 2
    min_size     = 1
    max_size     = 6
  }
}
"#;
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("eks.tf"), module).unwrap();
    std::fs::copy(
        common::root().join("scenarios/eks/app.yaml"),
        d.path().join("app.yaml"),
    )
    .unwrap();
    let o = capsim(
        &[
            "import",
            "terraform",
            "eks.tf",
            "--manifest",
            "app.yaml",
            "--out",
            "web.toml",
        ],
        d.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!d.path().join("web.task-definition.json").exists());
    let toml = std::fs::read_to_string(d.path().join("web.toml")).unwrap();
    for (key, source) in [
        ("kind = \"eks\"", "aws_eks_cluster.main"),
        ("compute = \"node_groups\"", "aws_eks_node_group"),
        ("name = \"web\"", "aws_eks_node_group.web.node_group_name"),
        ("instance_types = [\"m5.xlarge\"]", "instance_types"),
        ("capacity_type = \"ON_DEMAND\"", "capacity_type"),
        ("max_size = 6", "max_size"),
        ("desired_size = 2", "desired_size"),
        ("labels = { workload = \"web\" }", "labels"),
        ("manifest = \"app.yaml\"", "--manifest"),
    ] {
        let l = toml
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no `{key}` in\n{toml}"));
        assert!(l.contains(source), "{l}");
    }
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

//! Application Auto Scaling as the AWS API (and CloudFormation) writes it:
//! a step-scaling policy with the CloudWatch alarm that triggers it, as
//! capsim's `[[autoscaling.step_scaling]]`. Shared by the CloudFormation
//! and the ECS importers.

use serde_json::Value;

/// A JSON scalar as text (`null`: empty).
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A JSON number, or a string holding one (as templates often write them).
pub(crate) fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A step-scaling policy and its alarm as `[[autoscaling.step_scaling]]`
/// lines (key, TOML value, source), or why they cannot be.
pub(crate) fn step_lines(
    pid: &str,
    aid: &str,
    alarm: &Value,
    cfg: &Value,
    at: &dyn Fn(&str, &str) -> String,
) -> Result<Vec<(String, String, String)>, String> {
    let get = |k: &str| alarm.get(k).map(scalar);
    let metric = match (get("Namespace").as_deref(), get("MetricName").as_deref()) {
        (Some("AWS/ECS"), Some("CPUUtilization")) => "ECSServiceAverageCPUUtilization",
        (Some("AWS/ECS"), Some("MemoryUtilization")) => "ECSServiceAverageMemoryUtilization",
        (ns, name) => {
            return Err(format!(
                "its alarm watches {}/{}: capsim's step alarms read the service's CPU or memory utilization (AWS/ECS)",
                ns.unwrap_or("?"),
                name.unwrap_or("?")
            ));
        }
    };
    if get("Statistic").is_some_and(|s| s != "Average")
        || alarm.get("Period").and_then(num).is_some_and(|p| p != 60.0)
    {
        return Err("capsim's step alarms use the one-minute Average".into());
    }
    let comparison = match get("ComparisonOperator").as_deref() {
        Some("GreaterThanOrEqualToThreshold") => "greater_than_or_equal_to_threshold",
        Some("GreaterThanThreshold") => "greater_than_threshold",
        Some("LessThanThreshold") => "less_than_threshold",
        Some("LessThanOrEqualToThreshold") => "less_than_or_equal_to_threshold",
        other => return Err(format!("comparison {other:?} is not modelled")),
    };
    let threshold = alarm
        .get("Threshold")
        .and_then(num)
        .ok_or("its alarm's threshold is not known")?;
    let mut out = vec![
        (
            "name".to_string(),
            format!("\"{pid}\""),
            at(pid, "PolicyType"),
        ),
        (
            "metric".into(),
            format!("\"{metric}\""),
            at(aid, "MetricName"),
        ),
        (
            "threshold".into(),
            threshold.to_string(),
            at(aid, "Threshold"),
        ),
        (
            "comparison".into(),
            format!("\"{comparison}\""),
            at(aid, "ComparisonOperator"),
        ),
    ];
    for (k, key) in [
        ("EvaluationPeriods", "evaluation_periods"),
        ("DatapointsToAlarm", "datapoints_to_alarm"),
    ] {
        if let Some(v) = alarm.get(k).and_then(num) {
            out.push((key.into(), (v as i64).to_string(), at(aid, k)));
        }
    }
    let adjustment = cfg
        .get("AdjustmentType")
        .map(scalar)
        .filter(|t| {
            matches!(
                t.as_str(),
                "ChangeInCapacity" | "PercentChangeInCapacity" | "ExactCapacity"
            )
        })
        .ok_or(
            "AdjustmentType must be ChangeInCapacity, PercentChangeInCapacity or ExactCapacity",
        )?;
    let cf = |f: &str| at(pid, &format!("StepScalingPolicyConfiguration.{f}"));
    out.push((
        "adjustment_type".into(),
        format!("\"{adjustment}\""),
        cf("AdjustmentType"),
    ));
    let mut steps = Vec::new();
    for s in cfg
        .get("StepAdjustments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut parts = Vec::new();
        if let Some(l) = s.get("MetricIntervalLowerBound").and_then(num) {
            parts.push(format!("lower = {l}"));
        }
        if let Some(u) = s.get("MetricIntervalUpperBound").and_then(num) {
            parts.push(format!("upper = {u}"));
        }
        let adj = s
            .get("ScalingAdjustment")
            .and_then(num)
            .ok_or("a step adjustment without ScalingAdjustment")?;
        parts.push(format!("adjustment = {adj}"));
        steps.push(format!("{{ {} }}", parts.join(", ")));
    }
    out.push((
        "steps".into(),
        format!("[{}]", steps.join(", ")),
        cf("StepAdjustments"),
    ));
    if let Some(v) = cfg.get("Cooldown").and_then(num) {
        out.push((
            "cooldown".into(),
            format!("\"{}s\"", v as i64),
            cf("Cooldown"),
        ));
    }
    if let Some(v) = cfg.get("MinAdjustmentMagnitude").and_then(num) {
        out.push((
            "min_adjustment_magnitude".into(),
            (v as i64).to_string(),
            cf("MinAdjustmentMagnitude"),
        ));
    }
    if let Some(v) = cfg.get("MetricAggregationType").map(scalar) {
        out.push((
            "metric_aggregation_type".into(),
            format!("\"{v}\""),
            cf("MetricAggregationType"),
        ));
    }
    Ok(out)
}

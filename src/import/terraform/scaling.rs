//! A Terraform step-scaling policy with the `aws_cloudwatch_metric_alarm`
//! that triggers it, as `[[autoscaling.step_scaling]]`.

use super::*;

/// A step-scaling policy with the `aws_cloudwatch_metric_alarm` whose
/// `alarm_actions` name it, as `[[autoscaling.step_scaling]]` lines (key,
/// TOML value, source); or why it cannot be.
pub(super) fn step_policy(
    m: &Module,
    p: &Resource,
    r: &mut Reader,
) -> Result<Vec<(String, String, String)>, String> {
    let alarm = m
        .resources
        .iter()
        .find(|a| {
            a.kind == "aws_cloudwatch_metric_alarm"
                && target_of(&a.body, "alarm_actions", "aws_appautoscaling_policy").as_deref()
                    == Some(p.name.as_str())
        })
        .ok_or(
            "no aws_cloudwatch_metric_alarm names it in alarm_actions: its threshold is unknown",
        )?;
    let mut a = Reader {
        m,
        r: alarm,
        unresolved: Vec::new(),
    };
    let get = |a: &mut Reader, k: &str| a.get(k, true).as_ref().and_then(text);
    let metric = match (
        get(&mut a, "namespace").as_deref(),
        get(&mut a, "metric_name").as_deref(),
    ) {
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
    if get(&mut a, "statistic").is_some_and(|s| s != "Average")
        || a.get("period", true)
            .as_ref()
            .and_then(num)
            .is_some_and(|x| x != 60.0)
    {
        return Err("capsim's step alarms use the one-minute Average".into());
    }
    let comparison = match get(&mut a, "comparison_operator").as_deref() {
        Some("GreaterThanOrEqualToThreshold") => "greater_than_or_equal_to_threshold",
        Some("GreaterThanThreshold") => "greater_than_threshold",
        Some("LessThanThreshold") => "less_than_threshold",
        Some("LessThanOrEqualToThreshold") => "less_than_or_equal_to_threshold",
        other => return Err(format!("comparison {other:?} is not modelled")),
    };
    let threshold = a
        .get("threshold", true)
        .as_ref()
        .and_then(num)
        .ok_or("its alarm's threshold is not known")?;
    let mut out = vec![
        (
            "name".to_string(),
            format!("\"{}\"", p.name),
            format!(
                "{}:{}: aws_appautoscaling_policy.{}",
                p.file, p.line, p.name
            ),
        ),
        (
            "metric".into(),
            format!("\"{metric}\""),
            a.at("metric_name"),
        ),
        ("threshold".into(), threshold.to_string(), a.at("threshold")),
        (
            "comparison".into(),
            format!("\"{comparison}\""),
            a.at("comparison_operator"),
        ),
    ];
    for (k, key) in [
        ("evaluation_periods", "evaluation_periods"),
        ("datapoints_to_alarm", "datapoints_to_alarm"),
    ] {
        if let Some(v) = a.get(k, true).as_ref().and_then(num) {
            out.push((key.into(), (v as i64).to_string(), a.at(k)));
        }
    }
    let cfg = r
        .blocks("step_scaling_policy_configuration")
        .into_iter()
        .next()
        .ok_or("no step_scaling_policy_configuration")?;
    let adjustment = r
        .get_in(&cfg, "adjustment_type", true)
        .as_ref()
        .and_then(text)
        .filter(|t| {
            matches!(
                t.as_str(),
                "ChangeInCapacity" | "PercentChangeInCapacity" | "ExactCapacity"
            )
        })
        .ok_or(
            "adjustment_type must be ChangeInCapacity, PercentChangeInCapacity or ExactCapacity",
        )?;
    out.push((
        "adjustment_type".into(),
        format!("\"{adjustment}\""),
        r.at("adjustment_type"),
    ));
    let mut steps = Vec::new();
    for b in cfg
        .blocks()
        .filter(|b| b.identifier.as_str() == "step_adjustment")
    {
        let bound = |r: &mut Reader, k: &str| r.get_in(&b.body, k, true).as_ref().and_then(num);
        let lower = bound(r, "metric_interval_lower_bound");
        let upper = bound(r, "metric_interval_upper_bound");
        let adj =
            bound(r, "scaling_adjustment").ok_or("a step_adjustment without scaling_adjustment")?;
        let mut parts = Vec::new();
        if let Some(l) = lower {
            parts.push(format!("lower = {l}"));
        }
        if let Some(u) = upper {
            parts.push(format!("upper = {u}"));
        }
        parts.push(format!("adjustment = {adj}"));
        steps.push(format!("{{ {} }}", parts.join(", ")));
    }
    out.push((
        "steps".into(),
        format!("[{}]", steps.join(", ")),
        r.at("step_adjustment"),
    ));
    if let Some(v) = r.get_in(&cfg, "cooldown", true).as_ref().and_then(num) {
        out.push((
            "cooldown".into(),
            format!("\"{}s\"", v as i64),
            r.at("cooldown"),
        ));
    }
    if let Some(v) = r
        .get_in(&cfg, "min_adjustment_magnitude", true)
        .as_ref()
        .and_then(num)
    {
        out.push((
            "min_adjustment_magnitude".into(),
            (v as i64).to_string(),
            r.at("min_adjustment_magnitude"),
        ));
    }
    if let Some(v) = r
        .get_in(&cfg, "metric_aggregation_type", true)
        .as_ref()
        .and_then(text)
    {
        out.push((
            "metric_aggregation_type".into(),
            format!("\"{v}\""),
            r.at("metric_aggregation_type"),
        ));
    }
    r.unresolved.append(&mut a.unresolved);
    Ok(out)
}

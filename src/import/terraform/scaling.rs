//! A Terraform step-scaling policy with the `aws_cloudwatch_metric_alarm`
//! that triggers it, as `[[autoscaling.step_scaling]]`: the two are put in
//! the AWS API's shape and read by the one step reader the CloudFormation
//! and ECS importers use (`import::aws_scaling`).

use super::*;

/// `MetricIntervalLowerBound` → `metric_interval_lower_bound`.
fn snake(pascal: &str) -> String {
    let mut out = String::new();
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `body`'s attributes, evaluated, as a JSON object with the API's
/// PascalCase keys (`fields` are the API's names).
fn api_object(r: &mut Reader, body: &Body, fields: &[&str]) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    for f in fields {
        if let Some(v) = r.get_in(body, &snake(f), true)
            && let Ok(j) = serde_json::to_value(&v)
        {
            o.insert(f.to_string(), j);
        }
    }
    serde_json::Value::Object(o)
}

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
    let alarm_json = api_object(
        &mut a,
        &alarm.body,
        &[
            "Namespace",
            "MetricName",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "Threshold",
            "ComparisonOperator",
        ],
    );
    let cfg = r
        .blocks("step_scaling_policy_configuration")
        .into_iter()
        .next()
        .ok_or("no step_scaling_policy_configuration")?;
    let mut cfg_json = api_object(
        r,
        &cfg,
        &[
            "AdjustmentType",
            "Cooldown",
            "MinAdjustmentMagnitude",
            "MetricAggregationType",
        ],
    );
    let steps: Vec<serde_json::Value> = cfg
        .blocks()
        .filter(|b| b.identifier.as_str() == "step_adjustment")
        .map(|b| {
            api_object(
                r,
                &b.body,
                &[
                    "MetricIntervalLowerBound",
                    "MetricIntervalUpperBound",
                    "ScalingAdjustment",
                ],
            )
        })
        .collect();
    cfg_json["StepAdjustments"] = serde_json::Value::Array(steps);
    // Sources: the attribute of the alarm or of the policy each field is.
    let (policy, alarm_id) = (p.name.clone(), "\u{0}alarm");
    let at = |id: &str, field: &str| {
        let last = field.rsplit('.').next().unwrap_or(field);
        let attr = match last {
            "StepAdjustments" => "step_adjustment".to_string(),
            other => snake(other),
        };
        if id == alarm_id {
            a.at(&attr)
        } else {
            r.at(&attr)
        }
    };
    let out =
        crate::import::aws_scaling::step_lines(&policy, alarm_id, &alarm_json, &cfg_json, &at);
    r.unresolved.append(&mut a.unresolved);
    out
}

//! `monitoring.html` (`SITE.md`, "Pages"): each deployment × metric (`monitoring.metric`) over
//! time against its thresholds, as an SVG line chart (from `render::svg`) with a summary, and
//! every value in a table (1000 rows a page: `monitoring.html`, `monitoring-N.html`) with its
//! window, thresholds and status in text; then the alerts (`monitoring.alert`) with their
//! dispositions and linked incidents.
//!
//! Thresholds: those recorded with a value (`threshold_min`, `threshold_max`); for a value that
//! records none, those of the `monitoring_thresholds` of the version the deployment served at its
//! time (`model.registered`). Status: the recorded `status`; where none is recorded, derived
//! from the thresholds (and marked as derived); a recorded `ok` outside the thresholds is
//! flagged.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::decisions::{raw_f64, raw_text};
use super::{EntityLink, PageLink, pager};
use crate::checks::facts::{Facts, entities_of};
use crate::event::{EntityType, Event, NodeId};
use crate::render::svg::{self, Series};
use crate::render::{Cx, PAGE_ROWS, Pages, links, safe};
use crate::time;

/// Above this many points a chart shows daily means (the table keeps every value).
const MAX_CHART_POINTS: usize = 1000;

/// Alerts listed (the latest); earlier ones are counted.
const MAX_ALERTS: usize = PAGE_ROWS;

#[derive(Deserialize, Default)]
struct MetricView<'a> {
    #[serde(borrow, default)]
    metric: Option<&'a RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(borrow, default)]
    window_start: Option<&'a RawValue>,
    #[serde(borrow, default)]
    window_end: Option<&'a RawValue>,
    #[serde(borrow, default)]
    threshold_min: Option<&'a RawValue>,
    #[serde(borrow, default)]
    threshold_max: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
}

/// Thresholds and where they come from.
#[derive(Clone, Debug, Default, PartialEq)]
struct Bounds {
    min: Option<f64>,
    max: Option<f64>,
    /// `recorded`, or the model version whose registration gives them.
    source: Option<String>,
}

impl Bounds {
    fn any(&self) -> bool {
        self.min.is_some() || self.max.is_some()
    }

    fn outside(&self, v: f64) -> bool {
        self.min.is_some_and(|m| v < m) || self.max.is_some_and(|m| v > m)
    }
}

/// The `monitoring_thresholds` of a model version for one metric.
fn registered_bounds(cx: &Cx<'_>, version: &str, metric: &str) -> Bounds {
    let node = NodeId::new(EntityType::ModelVersion, version);
    let Some(reg) = cx.model().state(&node) else {
        return Bounds::default();
    };
    let a = reg.attrs();
    let t = a
        .get("monitoring_thresholds")
        .and_then(|m| m.get(metric))
        .and_then(Value::as_object);
    let Some(t) = t else {
        return Bounds::default();
    };
    Bounds {
        min: t.get("min").and_then(Value::as_f64),
        max: t.get("max").and_then(Value::as_f64),
        source: Some(version.to_string()),
    }
}

/// One value as the table shows it.
#[derive(Serialize)]
struct ValueRow {
    id: String,
    href: String,
    ts: String,
    window: Option<String>,
    value: Option<String>,
    min: Option<String>,
    max: Option<String>,
    thresholds_from: Option<String>,
    /// `ok`, `breach`, or `not recorded`.
    status: String,
    derived: bool,
    note: Option<String>,
}

fn fnum(f: f64) -> String {
    // Shortest round-trip form: deterministic across platforms.
    let s = format!("{f}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// Everything about one value: its row, its number and whether it breaches.
fn value_row(
    cx: &Cx<'_>,
    facts: &Facts<'_>,
    dep: &str,
    i: u32,
    e: &Event,
) -> (ValueRow, Option<f64>, bool) {
    let v = e.attrs_as::<MetricView>().unwrap_or_default();
    let metric = v.metric.and_then(raw_text).unwrap_or_default();
    let value = raw_f64(v.value);
    let mut bounds = Bounds {
        min: raw_f64(v.threshold_min),
        max: raw_f64(v.threshold_max),
        source: Some("recorded".into()),
    };
    if !bounds.any() {
        bounds = facts
            .serves(dep, e.ts)
            .map(|ver| registered_bounds(cx, ver, &metric))
            .unwrap_or_default();
    }
    let recorded = v.status.and_then(raw_text);
    let outside = value.is_some_and(|x| bounds.outside(x));
    let (status, derived, note) = match recorded.as_deref() {
        Some("ok") if outside => (
            "ok".to_string(),
            false,
            Some("recorded as ok, but the value is outside the thresholds".to_string()),
        ),
        Some(s) => (s.to_string(), false, None),
        None if value.is_some() && bounds.any() => (
            if outside { "breach" } else { "ok" }.to_string(),
            true,
            None,
        ),
        None => ("not recorded".to_string(), false, None),
    };
    let breach = status == "breach" || outside;
    let window = match (
        v.window_start.and_then(raw_text),
        v.window_end.and_then(raw_text),
    ) {
        (None, None) => None,
        (s, e) => Some(format!(
            "{} to {}",
            s.as_deref().unwrap_or("?"),
            e.as_deref().unwrap_or("?")
        )),
    };
    let row = ValueRow {
        id: e.id.to_string(),
        href: links::event_href(i),
        ts: time::fmt(e.ts),
        window,
        value: v.value.and_then(raw_text),
        min: bounds.min.map(fnum),
        max: bounds.max.map(fnum),
        thresholds_from: bounds
            .source
            .filter(|_| bounds.min.is_some() || bounds.max.is_some()),
        status,
        derived,
        note,
    };
    (row, value, breach)
}

#[derive(Serialize)]
struct Page {
    /// `main` or `values` (a continuation of the value table).
    part: &'static str,
    series: Vec<SeriesSummary>,
    alerts: Vec<AlertRow>,
    alerts_total: usize,
    values: Vec<ValueGroup>,
    value_pages: Vec<PageLink>,
    value_total: usize,
    value_first: usize,
}

#[derive(Serialize)]
struct SeriesSummary {
    anchor: String,
    deployment: EntityLink,
    metric: String,
    points: usize,
    first: String,
    last: String,
    latest: Option<String>,
    latest_status: String,
    low: Option<String>,
    high: Option<String>,
    breaches: usize,
    alerts: usize,
    min: Option<String>,
    max: Option<String>,
    thresholds_from: Option<String>,
    daily: bool,
    svg: minijinja::Value,
    values_href: String,
}

/// The values of one series on one page of the value table.
#[derive(Serialize)]
struct ValueGroup {
    anchor: String,
    deployment: String,
    metric: String,
    rows: Vec<ValueRow>,
}

#[derive(Serialize)]
struct AlertRow {
    id: String,
    href: String,
    ts: String,
    deployment: Option<EntityLink>,
    metric: Option<String>,
    severity: Option<String>,
    disposition: Option<String>,
    incident: Option<EntityLink>,
    note: Option<String>,
}

fn pager_path(n: usize) -> String {
    if n == 1 {
        "monitoring.html#values".to_string()
    } else {
        values_path(n)
    }
}

fn values_path(n: usize) -> String {
    if n == 1 {
        "monitoring.html".to_string()
    } else {
        format!("monitoring-{n}.html")
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let facts = Facts::compute(model, cx.input.config);

    // (deployment, metric) → metric events, in event order.
    let mut series: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    for (i, e) in model.of_kind("monitoring.metric") {
        let dep = e
            .subject
            .as_ref()
            .filter(|s| s.kind == EntityType::Deployment)
            .map_or_else(String::new, |s| s.id.to_string());
        let metric = e
            .attrs_as::<MetricView>()
            .unwrap_or_default()
            .metric
            .and_then(raw_text)
            .unwrap_or_default();
        series.entry((dep, metric)).or_default().push(i);
    }

    // Alerts, with a count per (deployment, metric).
    let mut alert_count: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut alerts = Vec::new();
    for (i, e) in model.of_kind("monitoring.alert") {
        let a = e.attrs();
        let text = |k: &str| {
            a.get(k)
                .filter(|v| crate::event::present(Some(v)))
                .map(super::overview::text)
        };
        let dep = e
            .subject
            .as_ref()
            .filter(|s| s.kind == EntityType::Deployment)
            .map(|s| s.node());
        let metric = text("metric");
        *alert_count
            .entry((
                dep.as_ref()
                    .map_or_else(String::new, |d| d.id().to_string()),
                metric.clone().unwrap_or_default(),
            ))
            .or_default() += 1;
        alerts.push(AlertRow {
            id: e.id.to_string(),
            href: links::event_href(i),
            ts: time::fmt(e.ts),
            deployment: dep.as_ref().map(|d| EntityLink::new(cx, d)),
            metric,
            severity: text("severity"),
            disposition: text("disposition"),
            incident: e
                .refs
                .iter()
                .find(|r| r.field == "attrs.incident")
                .map(|r| EntityLink::new(cx, &r.target)),
            note: text("note"),
        });
    }
    let alerts_total = alerts.len();
    let alerts: Vec<AlertRow> = alerts
        .into_iter()
        .skip(alerts_total.saturating_sub(MAX_ALERTS))
        .collect();

    // Series summaries and charts; the value table in series order.
    let mut summaries = Vec::new();
    let mut table: Vec<(usize, u32)> = Vec::new();
    for (k, ((dep, metric), events)) in series.iter().enumerate() {
        let node = NodeId::new(EntityType::Deployment, dep);
        let anchor = format!("m-{}-{}", links::file_slug(dep), links::file_slug(metric));
        let mut points: Vec<(Timestamp, f64)> = Vec::new();
        let mut breaches = 0;
        let mut last_row = None;
        for &i in events {
            let e = model.event(i);
            let (row, value, breach) = value_row(cx, &facts, dep, i, e);
            if let Some(v) = value {
                points.push((e.ts, v));
            }
            breaches += usize::from(breach);
            last_row = Some(row);
        }
        let values_href = format!("{}#{anchor}", values_path(table.len() / PAGE_ROWS + 1));
        table.extend(events.iter().map(|&i| (k, i)));
        let daily = points.len() > MAX_CHART_POINTS;
        let chart_points = if daily {
            daily_means(&points)
        } else {
            points.clone()
        };
        let last = last_row.expect("a series has a value");
        let parse = |s: &Option<String>| s.as_deref().and_then(|s| s.parse::<f64>().ok());
        let (min, max) = (parse(&last.min), parse(&last.max));
        let metric_label = if metric.is_empty() {
            "(metric not recorded)".to_string()
        } else {
            metric.clone()
        };
        let title = format!(
            "{metric_label} of {} over time{}",
            if dep.is_empty() {
                "(deployment not recorded)"
            } else {
                dep
            },
            if daily { " (daily mean)" } else { "" }
        );
        let svg = svg::line_chart(
            &title,
            &[Series {
                label: metric_label.clone(),
                points: chart_points,
            }],
            min,
            max,
        );
        let low = points.iter().map(|p| p.1).reduce(f64::min);
        let high = points.iter().map(|p| p.1).reduce(f64::max);
        summaries.push(SeriesSummary {
            anchor,
            deployment: EntityLink::new(cx, &node),
            metric: metric_label,
            points: events.len(),
            first: time::fmt(model.event(events[0]).ts),
            last: time::fmt(model.event(*events.last().expect("non-empty")).ts),
            latest: last.value.clone(),
            latest_status: last.status.clone(),
            low: low.map(fnum),
            high: high.map(fnum),
            breaches,
            alerts: alert_count
                .get(&(dep.clone(), metric.clone()))
                .copied()
                .unwrap_or(0),
            min: last.min,
            max: last.max,
            thresholds_from: last.thresholds_from,
            daily,
            svg: safe(svg),
            values_href,
        });
    }
    // Deployments known to the log but without any metric are named too.
    let measured: std::collections::BTreeSet<&str> =
        series.keys().map(|(d, _)| d.as_str()).collect();
    let unmeasured: Vec<EntityLink> = entities_of(model, EntityType::Deployment)
        .filter(|(n, _)| !measured.contains(n.id()))
        .map(|(n, _)| EntityLink::new(cx, n))
        .collect();

    let keys: Vec<&(String, String)> = series.keys().collect();
    let value_total = table.len();
    let chunks = links::paginate(value_total, PAGE_ROWS);
    let count = chunks.len();
    let mut main_values = Vec::new();
    for (number, range) in chunks {
        let mut groups: Vec<ValueGroup> = Vec::new();
        for &(k, i) in &table[range.clone()] {
            let (dep, _) = keys[k];
            if groups
                .last()
                .is_none_or(|g| g.anchor != summaries[k].anchor)
            {
                groups.push(ValueGroup {
                    anchor: summaries[k].anchor.clone(),
                    deployment: summaries[k].deployment.label.clone(),
                    metric: summaries[k].metric.clone(),
                    rows: Vec::new(),
                });
            }
            let (row, ..) = value_row(cx, &facts, dep, i, model.event(i));
            groups.last_mut().expect("pushed").rows.push(row);
        }
        if number == 1 {
            main_values = groups;
            continue;
        }
        let path = values_path(number);
        let page = Page {
            part: "values",
            series: Vec::new(),
            alerts: Vec::new(),
            alerts_total: 0,
            values: groups,
            value_pages: pager(count, number, pager_path),
            value_total,
            value_first: range.start + 1,
        };
        let title = format!("Monitoring values ({number} of {count})");
        pages.add(
            path.clone(),
            cx.render(&path, "monitoring.html", &title, page)?,
        );
    }
    let page = MainPage {
        page: Page {
            part: "main",
            series: summaries,
            alerts,
            alerts_total,
            values: main_values,
            value_pages: pager(count, 1, pager_path),
            value_total,
            value_first: 1,
        },
        unmeasured,
    };
    pages.add(
        "monitoring.html",
        cx.render("monitoring.html", "monitoring.html", "Monitoring", page)?,
    );
    Ok(())
}

/// The first page also names the deployments without metrics.
#[derive(Serialize)]
struct MainPage {
    #[serde(flatten)]
    page: Page,
    unmeasured: Vec<EntityLink>,
}

/// The mean of the points of each UTC day, at noon of that day.
fn daily_means(points: &[(Timestamp, f64)]) -> Vec<(Timestamp, f64)> {
    let mut days: BTreeMap<i64, (f64, u32)> = BTreeMap::new();
    for (t, v) in points {
        let d = days.entry(t.as_second().div_euclid(86_400)).or_default();
        d.0 += v;
        d.1 += 1;
    }
    days.into_iter()
        .filter_map(|(d, (sum, n))| {
            Timestamp::from_second(d * 86_400 + 43_200)
                .ok()
                .map(|t| (t, sum / f64::from(n)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::testing::{check_events, ev, nums, page, row_of, with};

    fn metric(id: &str, ts: &str, dep: &str, attrs: Value) -> Value {
        with(
            ev(
                id,
                ts,
                "monitoring.metric",
                &format!("deployment:{dep}"),
                attrs,
            ),
            "env",
            json!("production"),
        )
    }

    #[test]
    fn values_show_thresholds_and_breaches_and_alerts_link_incidents() {
        let case = check_events(
            &[
                ev(
                    "r1",
                    "2026-01-01T00:00:00Z",
                    "model.registered",
                    "model_version:m@1",
                    json!({"model": "m", "version": "1", "monitoring_thresholds": {"psi": {"max": 0.25}}}),
                ),
                ev(
                    "d1",
                    "2026-01-02T00:00:00Z",
                    "deployment.started",
                    "deployment:dep-1",
                    json!({"model_version": "m@1"}),
                ),
                metric(
                    "p1",
                    "2026-01-03T00:00:00Z",
                    "dep-1",
                    json!({"metric": "psi", "value": 0.1}),
                ),
                metric(
                    "p2",
                    "2026-01-04T00:00:00Z",
                    "dep-1",
                    json!({"metric": "psi", "value": 0.31}),
                ),
                metric(
                    "a1",
                    "2026-01-03T00:00:00Z",
                    "dep-1",
                    json!({"metric": "auc", "value": 0.65, "threshold_min": 0.7, "status": "ok"}),
                ),
                ev(
                    "al1",
                    "2026-01-04T01:00:00Z",
                    "monitoring.alert",
                    "deployment:dep-1",
                    json!({"metric": "psi", "severity": "high", "disposition": "incident", "incident": "INC-1", "note": "<script>alert(1)</script>"}),
                ),
                ev(
                    "i1",
                    "2026-01-04T02:00:00Z",
                    "incident.opened",
                    "incident:INC-1",
                    json!({"title": "drift"}),
                ),
            ],
            "",
        );
        let html = page(&case.site(), "monitoring.html");
        // psi: no recorded thresholds, so the registered max applies; status derived.
        let p1 = row_of(&html, "<code>p1</code>");
        assert!(p1.contains("0.25") && p1.contains("m@1"), "{p1}");
        assert!(p1.contains(">ok<") && p1.contains("derived"), "{p1}");
        let p2 = row_of(&html, "<code>p2</code>");
        assert!(p2.contains(">breach<"), "{p2}");
        // auc: recorded ok below its recorded minimum is flagged.
        let a1 = row_of(&html, "<code>a1</code>");
        assert!(a1.contains("outside the thresholds"), "{a1}");
        // The summary counts the breaches; the chart is inline SVG with a title.
        let psi = row_of(&html, "id=\"sum-m-dep-1-psi\"");
        assert_eq!(nums(psi), ["2", "1", "1"], "{psi}");
        assert!(html.contains("<svg") && !html.contains("&lt;svg"));
        // The alert links its incident and its note is text.
        let al = row_of(&html, "<code>al1</code>");
        assert!(al.contains("href=\"incidents/INC-1.html\""), "{al}");
        assert!(al.contains("&lt;script&gt;"), "{al}");
        assert!(!html.contains("<script>alert"));
    }

    #[test]
    fn the_value_table_continues_on_a_second_page() {
        let events: Vec<Value> = (0..1005)
            .map(|n| {
                metric(
                    &format!("v{n:04}"),
                    &format!(
                        "2026-01-{:02}T{:02}:{:02}:00Z",
                        1 + n / 1440,
                        n / 60 % 24,
                        n % 60
                    ),
                    "dep-1",
                    json!({"metric": "psi", "value": 0.1, "threshold_max": 0.25, "status": "ok"}),
                )
            })
            .collect();
        let site = check_events(&events, "").site();
        let first = page(&site, "monitoring.html");
        let second = page(&site, "monitoring-2.html");
        assert!(first.contains("<code>v0999</code>") && !first.contains("<code>v1000</code>"));
        assert!(second.contains("<code>v1004</code>"));
        assert!(second.contains("href=\"monitoring.html#values\""), "pager");
    }
}

//! `decisions.html` (`SITE.md`, "Pages"): decision volumes per deployment and UTC day, from
//! individual `decision.made` events and `decision.batch` aggregates together; automated versus
//! other modes and overridden decisions; the distribution of scores over 10 equal bins of
//! [0, 1]; oversight actions. Volumes are charted (SVG, from `render::svg`) and given in tables.
//!
//! Scale: one pass over the effective events keeps counters per (deployment, day) and the index
//! of each `decision.made`; the page is a summary whatever the number of decisions. The
//! (deployment, day) table continues on `decisions-days-N.html` beyond 1000 rows, and the
//! event-level drill-down (audiences with drill-down only) lists 1000 decisions a page on
//! `decisions.html` and `decisions-N.html`, each linked to its event page.
//!
//! Counting: a `decision.made` counts on the day of its `ts`, as automated when its `mode` is
//! `automated`, and as overridden when an `oversight.action` with action `override` or
//! `reverse` names it. A `decision.batch` counts `count` on the UTC day of its `window_start`
//! (its `ts` when that is unreadable), with its `automated`, `overridden` and `score_histogram`.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{PageLink, pager};
use crate::checks::facts::ref_id;
use crate::event::{EntityType, Event, NodeId};
use crate::render::svg::{self, Bar};
use crate::render::{Cx, PAGE_ROWS, Pages, links, safe};
use crate::time;

/// Bars of a volume chart by day up to this many days; by month (then year) beyond.
const MAX_DAY_BARS: usize = 92;
const MAX_MONTH_BARS: usize = 120;

/// Whether the audience has event-level drill-down (`SITE.md`, "Audiences": `public` has none).
pub(super) fn drill_down(cx: &Cx<'_>) -> bool {
    cx.input.exposure.drill_down
}

/// A raw JSON value as text: a string without its quotes, anything else as written.
pub(super) fn raw_text(r: &RawValue) -> Option<String> {
    let t = r.get().trim();
    if t == "null" {
        return None;
    }
    if t.starts_with('"') {
        return serde_json::from_str::<String>(t)
            .ok()
            .filter(|s| !s.is_empty());
    }
    Some(t.to_string())
}

/// A raw JSON number (not a string holding one).
pub(super) fn raw_f64(r: Option<&RawValue>) -> Option<f64> {
    r.and_then(|r| r.get().trim().parse::<f64>().ok())
        .filter(|f| f.is_finite())
}

fn raw_u64(r: Option<&RawValue>) -> Option<u64> {
    let f = raw_f64(r)?;
    (f >= 0.0 && f.fract() == 0.0 && f < 1e18).then_some(f as u64)
}

#[derive(Deserialize, Default)]
struct MadeView<'a> {
    #[serde(borrow, default)]
    mode: Option<&'a RawValue>,
    #[serde(borrow, default)]
    score: Option<&'a RawValue>,
    #[serde(borrow, default)]
    output: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct BatchView<'a> {
    #[serde(borrow, default)]
    window_start: Option<&'a RawValue>,
    #[serde(borrow, default)]
    count: Option<&'a RawValue>,
    #[serde(borrow, default)]
    automated: Option<&'a RawValue>,
    #[serde(borrow, default)]
    overridden: Option<&'a RawValue>,
    #[serde(borrow, default)]
    score_histogram: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct ActionView<'a> {
    #[serde(borrow, default)]
    action: Option<&'a RawValue>,
}

/// Decision counts of one (deployment, day) or of a sum of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(super) struct Counts {
    /// Individual `decision.made` events.
    made: u64,
    /// Decisions counted by `decision.batch` aggregates.
    batched: u64,
    total: u64,
    automated: u64,
    /// `mode` present and not `automated` (or a batch's count minus its `automated`).
    other_mode: u64,
    /// No `mode` (or a batch without `automated`).
    mode_unknown: u64,
    overridden: u64,
    /// Batched decisions whose aggregate has no `overridden`.
    override_unknown: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.made += o.made;
        self.batched += o.batched;
        self.total += o.total;
        self.automated += o.automated;
        self.other_mode += o.other_mode;
        self.mode_unknown += o.mode_unknown;
        self.overridden += o.overridden;
        self.override_unknown += o.override_unknown;
    }
}

/// Scores of one deployment: 10 bins over [0, 1] (the last includes 1), and what is not binned.
#[derive(Clone, Debug, Default)]
struct Scores {
    bins: [u64; 10],
    out_of_range: u64,
    /// `decision.made` without a numeric score, or batched decisions without a 10-bin histogram.
    not_recorded: u64,
}

fn bin_of(score: f64) -> Option<usize> {
    (0.0..=1.0)
        .contains(&score)
        .then(|| ((score * 10.0).floor() as usize).min(9))
}

/// Everything one pass over the events gathers.
#[derive(Default)]
struct Tally {
    /// (deployment id or "", day number) → counts.
    days: BTreeMap<(String, i64), Counts>,
    scores: BTreeMap<String, Scores>,
    /// (deployment id or "", action or "") → count.
    actions: BTreeMap<(String, String), u64>,
    /// Indices of the effective `decision.made` events, in event order.
    made: Vec<u32>,
}

fn day_number(ts: Timestamp) -> i64 {
    ts.as_second().div_euclid(86_400)
}

fn day_text(day: i64) -> String {
    Timestamp::from_second(day * 86_400).map_or_else(|_| day.to_string(), time::utc_day)
}

fn is_override(action: Option<&RawValue>) -> bool {
    matches!(
        action.map(RawValue::get),
        Some("\"override\"") | Some("\"reverse\"")
    )
}

/// The deployment a `decision.made` names.
fn deployment_of(e: &Event) -> Option<&str> {
    ref_id(e, "attrs.deployment")
}

fn tally(cx: &Cx<'_>) -> Tally {
    let model = cx.model();
    let mut t = Tally::default();
    // Decisions named by an override or reversal (lookups only; never iterated into output).
    let mut overridden: HashSet<&str> = HashSet::new();
    for (_, e) in model.of_kind("oversight.action") {
        let v = e.attrs_as::<ActionView>().unwrap_or_default();
        let decision = e
            .subject
            .as_ref()
            .filter(|s| s.kind == EntityType::Decision);
        if is_override(v.action)
            && let Some(s) = decision
        {
            overridden.insert(s.id.as_str());
        }
        let deployment = decision
            .and_then(|s| model.state(&NodeId::new(EntityType::Decision, &s.id)))
            .filter(|r| r.kind == "decision.made")
            .and_then(deployment_of)
            .unwrap_or_default()
            .to_string();
        let action = v.action.and_then(raw_text).unwrap_or_default();
        *t.actions.entry((deployment, action)).or_default() += 1;
    }
    for (i, e) in model.current() {
        match e.kind.as_str() {
            "decision.made" => {
                t.made.push(i);
                let v = e.attrs_as::<MadeView>().unwrap_or_default();
                let dep = deployment_of(e).unwrap_or_default();
                let c = t
                    .days
                    .entry((dep.to_string(), day_number(e.ts)))
                    .or_default();
                c.made += 1;
                c.total += 1;
                match v.mode.map(RawValue::get) {
                    Some("\"automated\"") => c.automated += 1,
                    None | Some("null") | Some("\"\"") => c.mode_unknown += 1,
                    Some(_) => c.other_mode += 1,
                }
                let decision = e.subject.as_ref().map_or("", |s| s.id.as_str());
                if overridden.contains(decision) {
                    c.overridden += 1;
                }
                let s = t.scores.entry(dep.to_string()).or_default();
                match raw_f64(v.score).map(bin_of) {
                    Some(Some(b)) => s.bins[b] += 1,
                    Some(None) => s.out_of_range += 1,
                    None => s.not_recorded += 1,
                }
            }
            "decision.batch" => {
                let v = e.attrs_as::<BatchView>().unwrap_or_default();
                let dep = e
                    .subject
                    .as_ref()
                    .filter(|s| s.kind == EntityType::Deployment)
                    .map_or("", |s| s.id.as_str());
                let start = v
                    .window_start
                    .and_then(raw_text)
                    .and_then(|s| time::parse_date_or_time(&s).ok())
                    .unwrap_or(e.ts);
                let count = raw_u64(v.count).unwrap_or(0);
                let c = t
                    .days
                    .entry((dep.to_string(), day_number(start)))
                    .or_default();
                c.batched += count;
                c.total += count;
                match raw_u64(v.automated) {
                    Some(a) => {
                        c.automated += a.min(count);
                        c.other_mode += count.saturating_sub(a);
                    }
                    None => c.mode_unknown += count,
                }
                match raw_u64(v.overridden) {
                    Some(o) => c.overridden += o.min(count),
                    None => c.override_unknown += count,
                }
                let s = t.scores.entry(dep.to_string()).or_default();
                let hist = v
                    .score_histogram
                    .and_then(|h| serde_json::from_str::<Vec<u64>>(h.get()).ok())
                    .filter(|h| h.len() == 10);
                match hist {
                    Some(h) => {
                        for (b, n) in h.iter().enumerate() {
                            s.bins[b] += n;
                        }
                        // A histogram that does not add up to the count leaves the rest unbinned.
                        let sum: u64 = h.iter().sum();
                        s.not_recorded += count.saturating_sub(sum);
                    }
                    None => s.not_recorded += count,
                }
            }
            _ => {}
        }
    }
    t
}

// --- page data ----------------------------------------------------------------------------

#[derive(Serialize)]
struct Page {
    /// `main`, `days` (a continuation of the day table) or `drill` (a drill-down page).
    part: &'static str,
    totals: Counts,
    deployments: Vec<DeploymentSummary>,
    charts: Vec<Chart>,
    days: Vec<DayRow>,
    day_pages: Vec<PageLink>,
    day_total: usize,
    day_first: usize,
    scores: Option<ScoreTable>,
    actions: Vec<ActionRow>,
    action_names: Vec<String>,
    drill_down: bool,
    drill: Vec<DecisionRow>,
    drill_pages: Vec<PageLink>,
    drill_total: usize,
    drill_first: usize,
}

#[derive(Serialize)]
struct DeploymentSummary {
    slug: String,
    label: String,
    href: Option<String>,
    first: String,
    last: String,
    days: usize,
    counts: Counts,
    automated_pct: String,
    overridden_pct: String,
}

#[derive(Serialize)]
struct Chart {
    label: String,
    href: Option<String>,
    /// `day`, `month` or `year`.
    unit: &'static str,
    svg: minijinja::Value,
    /// The chart's numbers when they are not the day table's (by month or year).
    rows: Vec<PeriodRow>,
}

#[derive(Serialize)]
struct PeriodRow {
    period: String,
    counts: Counts,
}

#[derive(Serialize)]
struct DayRow {
    day: String,
    deployment: String,
    href: Option<String>,
    counts: Counts,
}

#[derive(Serialize)]
struct ScoreTable {
    svg: minijinja::Value,
    deployments: Vec<String>,
    rows: Vec<ScoreRow>,
    out_of_range: Vec<u64>,
    not_recorded: Vec<u64>,
}

#[derive(Serialize)]
struct ScoreRow {
    bin: String,
    counts: Vec<u64>,
    total: u64,
}

#[derive(Serialize)]
struct ActionRow {
    slug: String,
    deployment: String,
    href: Option<String>,
    counts: Vec<u64>,
    total: u64,
}

#[derive(Serialize)]
struct DecisionRow {
    id: String,
    href: String,
    ts: String,
    decision: String,
    deployment: Option<String>,
    deployment_href: Option<String>,
    version: Option<String>,
    version_href: Option<String>,
    mode: Option<String>,
    score: Option<String>,
    output: Option<String>,
    overridden: bool,
}

fn label(dep: &str) -> String {
    if dep.is_empty() {
        "(deployment not recorded)".to_string()
    } else {
        dep.to_string()
    }
}

fn dep_href(dep: &str) -> Option<String> {
    (!dep.is_empty())
        .then(|| links::href(&NodeId::new(EntityType::Deployment, dep)))
        .flatten()
}

/// A share in percent; `—` when there is nothing to divide, or when the rate rests on fewer
/// than `k` records (`k` > 1 in audiences that suppress small counts).
fn pct(n: u64, of: u64, k: u64) -> String {
    let small = |x: u64| k > 1 && x > 0 && x < k;
    if of == 0 || small(of) || small(n) || small(of - n.min(of)) {
        "—".to_string()
    } else {
        format!("{:.1} %", n as f64 * 100.0 / of as f64)
    }
}

/// A count as a chart draws it: a suppressed count (below `k`) is drawn as nothing, since a bar's
/// height would give it away.
fn drawn(n: u64, k: u64) -> u64 {
    if k > 1 && n < k { 0 } else { n }
}

/// The bars of one deployment's volume chart, by day, month or year, with the period table when
/// not by day.
fn chart(dep: &str, days: &[(i64, Counts)], k: u64) -> Chart {
    let periods: Vec<(String, Counts)> = {
        let unit_len = |f: fn(&str) -> String| {
            let mut m: BTreeMap<String, Counts> = BTreeMap::new();
            for (d, c) in days {
                m.entry(f(&day_text(*d))).or_default().add(c);
            }
            m.into_iter().collect::<Vec<_>>()
        };
        let span = days.last().map_or(0, |l| l.0) - days.first().map_or(0, |f| f.0) + 1;
        if span as usize <= MAX_DAY_BARS {
            days.iter().map(|(d, c)| (day_text(*d), *c)).collect()
        } else {
            let months = unit_len(|s| s[..7].to_string());
            if months.len() <= MAX_MONTH_BARS {
                months
            } else {
                unit_len(|s| s[..4].to_string())
            }
        }
    };
    let unit = match periods.first().map(|(p, _)| p.len()) {
        Some(7) => "month",
        Some(4) => "year",
        _ => "day",
    };
    let bars: Vec<Bar> = periods
        .iter()
        .map(|(p, c)| Bar {
            label: p.clone(),
            segments: vec![
                ("automated".to_string(), drawn(c.automated, k)),
                ("not automated".to_string(), drawn(c.other_mode, k)),
                ("mode not recorded".to_string(), drawn(c.mode_unknown, k)),
            ],
        })
        .collect();
    let title = format!("Decisions of {} per {unit}", label(dep));
    Chart {
        label: label(dep),
        href: dep_href(dep),
        unit,
        svg: safe(svg::bar_chart(&title, &bars)),
        rows: if unit == "day" {
            Vec::new()
        } else {
            periods
                .into_iter()
                .map(|(period, counts)| PeriodRow { period, counts })
                .collect()
        },
    }
}

fn decision_row(cx: &Cx<'_>, i: u32, overridden: &HashSet<&str>) -> DecisionRow {
    let e = cx.model().event(i);
    let v = e.attrs_as::<MadeView>().unwrap_or_default();
    let dep = deployment_of(e);
    let version = ref_id(e, "attrs.model_version");
    let decision = e.subject.as_ref().map_or("", |s| s.id.as_str());
    DecisionRow {
        id: e.id.to_string(),
        href: links::event_href(i),
        ts: time::fmt(e.ts),
        decision: decision.to_string(),
        deployment: dep.map(str::to_string),
        deployment_href: dep.and_then(dep_href),
        version: version.map(str::to_string),
        version_href: version.and_then(|v| links::href(&NodeId::new(EntityType::ModelVersion, v))),
        mode: v.mode.and_then(raw_text),
        score: v.score.and_then(raw_text),
        output: v.output.and_then(raw_text),
        overridden: overridden.contains(decision),
    }
}

fn drill_path(n: usize) -> String {
    if n == 1 {
        "decisions.html#drill-down".to_string()
    } else {
        format!("decisions-{n}.html")
    }
}

fn days_path(n: usize) -> String {
    if n == 1 {
        "decisions.html#days".to_string()
    } else {
        format!("decisions-days-{n}.html")
    }
}

fn empty_page(part: &'static str, totals: Counts, drill_down: bool) -> Page {
    Page {
        part,
        totals,
        deployments: Vec::new(),
        charts: Vec::new(),
        days: Vec::new(),
        day_pages: Vec::new(),
        day_total: 0,
        day_first: 1,
        scores: None,
        actions: Vec::new(),
        action_names: Vec::new(),
        drill_down,
        drill: Vec::new(),
        drill_pages: Vec::new(),
        drill_total: 0,
        drill_first: 1,
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let t = tally(cx);
    let drill_down = drill_down(cx);
    let k = cx.input.exposure.k;
    let mut totals = Counts::default();
    for c in t.days.values() {
        totals.add(c);
    }

    // Per deployment: summary and chart.
    let mut by_dep: BTreeMap<&str, Vec<(i64, Counts)>> = BTreeMap::new();
    for ((dep, day), c) in &t.days {
        by_dep.entry(dep.as_str()).or_default().push((*day, *c));
    }
    let mut deployments = Vec::new();
    let mut charts = Vec::new();
    for (dep, days) in &by_dep {
        let mut sum = Counts::default();
        for (_, c) in days {
            sum.add(c);
        }
        deployments.push(DeploymentSummary {
            slug: links::file_slug(dep),
            label: label(dep),
            href: dep_href(dep),
            first: days.first().map(|d| day_text(d.0)).unwrap_or_default(),
            last: days.last().map(|d| day_text(d.0)).unwrap_or_default(),
            days: days.len(),
            automated_pct: pct(sum.automated, sum.total, k),
            overridden_pct: pct(sum.overridden, sum.total, k),
            counts: sum,
        });
        charts.push(chart(dep, days, k));
    }

    // Scores: one column per deployment.
    let deps: Vec<&String> = t.scores.keys().collect();
    let scores = (!deps.is_empty()).then(|| {
        let rows: Vec<ScoreRow> = (0..10)
            .map(|b| {
                let counts: Vec<u64> = deps.iter().map(|d| t.scores[*d].bins[b]).collect();
                ScoreRow {
                    bin: format!(
                        "{:.1}–{:.1}{}",
                        b as f64 / 10.0,
                        (b + 1) as f64 / 10.0,
                        if b == 9 { " (incl.)" } else { "" }
                    ),
                    total: counts.iter().sum(),
                    counts,
                }
            })
            .collect();
        let bars: Vec<Bar> = rows
            .iter()
            .map(|r| Bar {
                label: r.bin.clone(),
                segments: deps
                    .iter()
                    .zip(&r.counts)
                    .map(|(d, n)| (label(d), drawn(*n, k)))
                    .collect(),
            })
            .collect();
        ScoreTable {
            svg: safe(svg::bar_chart(
                "Decision scores over 10 equal bins of [0, 1], by deployment",
                &bars,
            )),
            deployments: deps.iter().map(|d| label(d)).collect(),
            out_of_range: deps.iter().map(|d| t.scores[*d].out_of_range).collect(),
            not_recorded: deps.iter().map(|d| t.scores[*d].not_recorded).collect(),
            rows,
        }
    });

    // Oversight actions: one column per action.
    let mut action_names: Vec<String> = t.actions.keys().map(|(_, a)| a.clone()).collect();
    action_names.sort();
    action_names.dedup();
    let mut actions: Vec<ActionRow> = Vec::new();
    for ((dep, action), n) in &t.actions {
        if actions.last().is_none_or(|r| r.deployment != label(dep)) {
            actions.push(ActionRow {
                slug: links::file_slug(dep),
                deployment: label(dep),
                href: dep_href(dep),
                counts: vec![0; action_names.len()],
                total: 0,
            });
        }
        let row = actions.last_mut().expect("pushed");
        let k = action_names.binary_search(action).expect("listed");
        row.counts[k] += n;
        row.total += n;
    }
    let action_names = action_names
        .into_iter()
        .map(|a| {
            if a.is_empty() {
                "(action not recorded)".to_string()
            } else {
                a
            }
        })
        .collect();

    // The (deployment, day) table, paginated.
    let day_rows: Vec<DayRow> = t
        .days
        .iter()
        .map(|((dep, day), c)| DayRow {
            day: day_text(*day),
            deployment: label(dep),
            href: dep_href(dep),
            counts: *c,
        })
        .collect();
    let day_total = day_rows.len();
    let day_chunks = links::paginate(day_total, PAGE_ROWS);
    let day_count = day_chunks.len();
    let mut day_rows = day_rows.into_iter();
    let mut first_days = Vec::new();
    for (number, range) in day_chunks {
        let rows: Vec<DayRow> = day_rows.by_ref().take(range.len()).collect();
        if number == 1 {
            first_days = rows;
            continue;
        }
        let path = format!("decisions-days-{number}.html");
        let mut page = empty_page("days", totals, drill_down);
        page.days = rows;
        page.day_pages = pager(day_count, number, days_path);
        page.day_total = day_total;
        page.day_first = range.start + 1;
        let title = format!("Decisions per deployment and day ({number} of {day_count})");
        pages.add(
            path.clone(),
            cx.render(&path, "decisions.html", &title, page)?,
        );
    }

    // The drill-down, paginated; page 1 is on decisions.html.
    let overridden: HashSet<&str> = model
        .of_kind("oversight.action")
        .filter(|(_, e)| is_override(e.attrs_as::<ActionView>().unwrap_or_default().action))
        .filter_map(|(_, e)| e.subject.as_ref().map(|s| s.id.as_str()))
        .collect();
    let drill_total = t.made.len();
    let drill_chunks = links::paginate(drill_total, PAGE_ROWS);
    let drill_count = drill_chunks.len();
    let mut first_drill = Vec::new();
    if drill_down {
        for (number, range) in drill_chunks {
            let rows: Vec<DecisionRow> = t.made[range.clone()]
                .iter()
                .map(|&i| decision_row(cx, i, &overridden))
                .collect();
            if number == 1 {
                first_drill = rows;
                continue;
            }
            let path = format!("decisions-{number}.html");
            let mut page = empty_page("drill", totals, drill_down);
            page.drill = rows;
            page.drill_pages = pager(drill_count, number, drill_path);
            page.drill_total = drill_total;
            page.drill_first = range.start + 1;
            let title = format!("Decisions, one by one ({number} of {drill_count})");
            pages.add(
                path.clone(),
                cx.render(&path, "decisions.html", &title, page)?,
            );
        }
    }

    let page = Page {
        part: "main",
        totals,
        deployments,
        charts,
        days: first_days,
        day_pages: pager(day_count, 1, days_path),
        day_total,
        day_first: 1,
        scores,
        actions,
        action_names,
        drill_down,
        drill: first_drill,
        drill_pages: if drill_down {
            pager(drill_count, 1, drill_path)
        } else {
            Vec::new()
        },
        drill_total,
        drill_first: 1,
    };
    pages.add(
        "decisions.html",
        cx.render("decisions.html", "decisions.html", "Decisions", page)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::{check_events, ev, nums, page, row_of, with};

    fn made(id: &str, ts: &str, dep: &str, mode: &str, score: f64) -> Value {
        ev(
            id,
            ts,
            "decision.made",
            &format!("decision:{id}"),
            json!({"deployment": dep, "model_version": "m@1", "mode": mode, "score": score, "output": "approve"}),
        )
    }

    fn batch(id: &str, ts: &str, dep: &str, start: &str, attrs: Value) -> Value {
        let mut a = json!({"model_version": "m@1", "window_start": start, "window_end": ts});
        for (k, v) in attrs.as_object().unwrap() {
            a[k] = v.clone();
        }
        ev(id, ts, "decision.batch", &format!("deployment:{dep}"), a)
    }

    #[test]
    fn volumes_per_day_add_individual_decisions_and_aggregates() {
        let case = check_events(
            &[
                made("a1", "2026-02-03T09:00:00Z", "dep-1", "automated", 0.05),
                made("a2", "2026-02-03T10:00:00Z", "dep-1", "advisory", 0.95),
                made("a3", "2026-02-03T11:00:00Z", "dep-1", "automated", 1.0),
                // Reported on 4 February for the window starting 3 February.
                batch(
                    "b1",
                    "2026-02-04T00:15:00Z",
                    "dep-1",
                    "2026-02-03T00:00:00Z",
                    json!({"count": 100, "automated": 90, "overridden": 7, "score_histogram": [10,10,10,10,10,10,10,10,10,10]}),
                ),
                batch(
                    "b2",
                    "2026-02-05T00:15:00Z",
                    "dep-1",
                    "2026-02-04T00:00:00Z",
                    json!({"count": 40}),
                ),
                ev(
                    "o1",
                    "2026-02-03T12:00:00Z",
                    "oversight.action",
                    "decision:a1",
                    json!({"action": "override", "reviewer": "hana"}),
                ),
                ev(
                    "o2",
                    "2026-02-03T12:30:00Z",
                    "oversight.action",
                    "decision:a2",
                    json!({"action": "confirm", "reviewer": "hana"}),
                ),
            ],
            "",
        );
        let html = page(&case.site(), "decisions.html");
        // 3 February: 3 individual + 100 batched = 103; automated 2 + 90; overridden 1 + 7.
        let feb3 = row_of(&html, "<th scope=\"row\">2026-02-03</th>");
        assert_eq!(
            nums(feb3),
            ["3", "100", "103", "92", "11", "0", "8", "0"],
            "{feb3}"
        );
        // 4 February: the aggregate without automated/overridden counts as not recorded.
        let feb4 = row_of(&html, "<th scope=\"row\">2026-02-04</th>");
        assert_eq!(
            nums(feb4),
            ["0", "40", "40", "0", "0", "40", "0", "40"],
            "{feb4}"
        );
        // The deployment's total is the sum of its days.
        let dep = row_of(&html, "id=\"sum-dep-1\"");
        assert!(
            nums(dep).starts_with(&["3".into(), "140".into(), "143".into()]),
            "{dep}"
        );
        // Scores: 0.05 → first bin (with 10 batched), 0.95 and 1.0 → last bin.
        let first = row_of(&html, "<th scope=\"row\">0.0–0.1</th>");
        assert_eq!(nums(first), ["11", "11"], "{first}");
        let last = row_of(&html, "<th scope=\"row\">0.9–1.0 (incl.)</th>");
        assert_eq!(nums(last), ["12", "12"], "{last}");
        // Oversight actions by action.
        let acts = row_of(&html, "id=\"act-dep-1\"");
        assert_eq!(nums(acts), ["1", "1", "2"], "{acts}");
        // The chart is inline SVG, not escaped text.
        assert!(html.contains("<svg"), "chart missing");
        assert!(!html.contains("&lt;svg"));
        // Drill-down rows link to the event pages.
        assert!(html.contains("href=\"events/1.html#e"));
        assert!(html.contains("<code>a3</code>"));
    }

    #[test]
    fn drill_down_is_paginated_at_1000_decisions() {
        let events: Vec<Value> = (0..1001)
            .map(|n| {
                made(
                    &format!("d{n:04}"),
                    &format!(
                        "2026-02-03T{:02}:{:02}:{:02}Z",
                        n / 3600,
                        n / 60 % 60,
                        n % 60
                    ),
                    "dep-<script>",
                    "automated",
                    0.5,
                )
            })
            .collect();
        let case = check_events(&events, "");
        let site = case.site();
        let first = page(&site, "decisions.html");
        let second = page(&site, "decisions-2.html");
        assert!(first.contains("<code>d0999</code>"));
        assert!(!first.contains("<code>d1000</code>"));
        assert!(second.contains("<code>d1000</code>"));
        assert!(!second.contains("<code>d0999</code>"));
        assert!(first.contains("href=\"decisions-2.html\""), "pager");
        assert!(
            second.contains("href=\"decisions.html#drill-down\""),
            "pager back"
        );
        // The last decision's event page is the second events page.
        assert!(second.contains("href=\"events/2.html#e1000\""));
        assert!(!site.files.contains_key("decisions-3.html"));
        // The hostile deployment id is text everywhere.
        assert!(first.contains("dep-&lt;script&gt;"));
        assert!(!first.contains("dep-<script>"));
        // The day total is the 1001 decisions.
        let day = row_of(&first, "<th scope=\"row\">2026-02-03</th>");
        assert_eq!(nums(day)[2], "1001");
    }

    #[test]
    fn the_day_table_is_paginated_and_long_periods_chart_by_month() {
        let start = time::parse_rfc3339("2023-01-01T00:00:00Z").unwrap();
        let events: Vec<Value> = (0..1001)
            .map(|n| {
                let day =
                    time::fmt(Timestamp::from_second(start.as_second() + n * 86_400).unwrap());
                batch(
                    &format!("b{n:04}"),
                    &day,
                    "dep-1",
                    &day,
                    json!({"count": 2, "automated": 1}),
                )
            })
            .collect();
        let site = check_events(&events, "").site();
        let first = page(&site, "decisions.html");
        let second = page(&site, "decisions-days-2.html");
        assert!(
            first.contains("<th scope=\"row\">2025-09-26</th>"),
            "day 1000"
        );
        assert!(!first.contains("<th scope=\"row\">2025-09-27</th>"));
        assert!(
            second.contains("<th scope=\"row\">2025-09-27</th>"),
            "day 1001"
        );
        assert!(
            second.contains("href=\"decisions.html#days\""),
            "pager back"
        );
        // 1001 days chart by month; the months' numbers are in their own table.
        assert!(first.contains("per month"));
        let jan = row_of(&first, "<th scope=\"row\">2023-01</th>");
        assert_eq!(nums(jan)[2], "62", "{jan}");
    }

    #[test]
    fn the_public_audience_gets_no_drill_down() {
        let case = check_events(
            &[with(
                made("a1", "2026-02-03T09:00:00Z", "dep-1", "automated", 0.5),
                "system",
                json!("s"),
            )],
            "",
        );
        let mut pages = Pages::default();
        case.with_cx(1, "public", None, |cx| write(cx, &mut pages).unwrap());
        let html = page(&pages, "decisions.html");
        assert!(!html.contains("<code>a1</code>"), "no decision ids");
        assert!(html.contains("not available to the"), "{html}");
    }
}

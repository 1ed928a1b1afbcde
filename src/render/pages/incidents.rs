//! `incidents/index.html` (paginated as `index-N.html`) and `incidents/ID.html`: each incident's
//! timeline, its regulatory clocks (awareness → deadline → notifications, computed by the same
//! functions as INC-03, INC-05 and INC-06), what it affected, the evidence it cites, root cause
//! and corrective actions, the monitoring alerts that raised it, and findings about it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::models::{
    FindingLink, cap, findings_about, findings_by_subject, markdown, or_nr, references, rule_cx,
    value_text,
};
use super::{EntityLink, EventRow, write_list};
use crate::checks::facts::{Facts, entities_of};
use crate::checks::incidents::{self as inc, Clock, Incident, Notice};
use crate::event::{EntityType, NodeId};
use crate::render::{Cx, PAGE_ROWS, Pages, links};
use crate::time::{self, fmt_second, fmt_span};

#[derive(Serialize)]
struct IndexRow {
    link: EntityLink,
    title: String,
    severity: String,
    serious: String,
    breach: String,
    state: String,
    opened: String,
    awareness: String,
    /// The most pressing clock: `late`, `overdue`, `due`, `on time`, or none.
    clock: Option<String>,
    findings: usize,
}

#[derive(Serialize)]
struct Page {
    id: String,
    registered: bool,
    references: Vec<EventRow>,
    reference_count: usize,
    facts: Vec<(String, String)>,
    /// `open`, `closed` or `unknown`.
    state: String,
    state_note: String,
    awareness: Option<Awareness>,
    timeline: Vec<TimelineRow>,
    more_timeline: usize,
    clocks: Vec<ClockRow>,
    no_clock: Option<String>,
    notices: Vec<NoticeRow>,
    affected: Vec<Affected>,
    evidence: Vec<Evidence>,
    more_evidence: usize,
    root_cause: Option<minijinja::Value>,
    corrective_actions: Option<minijinja::Value>,
    alerts: Vec<Alert>,
    more_alerts: usize,
    findings: Vec<FindingLink>,
}

#[derive(Serialize)]
struct Awareness {
    ts: String,
    given: bool,
    href: String,
}

#[derive(Serialize)]
struct TimelineRow {
    event: EventRow,
    details: Vec<(String, String)>,
    summary: Option<minijinja::Value>,
    reason: Option<String>,
}

/// One reporting obligation with its clock at the as-of time.
#[derive(Serialize)]
struct ClockRow {
    obligation: String,
    rule: String,
    recipient: String,
    start: String,
    deadline: Option<String>,
    how: String,
    notice: Option<NoticeRef>,
    /// `on time`, `late`, `overdue`, `due`, or `not required`.
    status: String,
    detail: String,
}

#[derive(Serialize)]
struct NoticeRef {
    id: String,
    ts: String,
    href: String,
    report_type: String,
}

/// One `incident.notified`: who was told what, when.
#[derive(Serialize)]
struct NoticeRow {
    event: EventRow,
    recipient: String,
    report_type: String,
    reference: String,
}

#[derive(Serialize)]
struct Affected {
    kind: String,
    link: EntityLink,
}

#[derive(Serialize)]
struct Evidence {
    id: String,
    event: Option<EventRow>,
    cited_by: Vec<String>,
}

#[derive(Serialize)]
struct Alert {
    event: EventRow,
    deployment: Option<EntityLink>,
    metric: String,
    severity: String,
    disposition: String,
    note: String,
}

fn flag(v: Option<&Value>) -> String {
    match v.and_then(Value::as_bool) {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => "not recorded".into(),
    }
}

fn notice_ref(cx: &Cx<'_>, n: &Notice) -> NoticeRef {
    NoticeRef {
        id: cx.model().event(n.event).id.to_string(),
        ts: fmt_second(n.ts),
        href: links::event_href(n.event),
        report_type: n
            .report_type
            .clone()
            .unwrap_or_else(|| "not recorded".into()),
    }
}

/// The row of one clock: the first notice to `recipient` against `deadline` at T.
#[allow(clippy::too_many_arguments)]
fn clock_row(
    cx: &Cx<'_>,
    obligation: &str,
    rule: &str,
    recipient: &str,
    start: Timestamp,
    deadline: Timestamp,
    how: String,
    first: Option<&Notice>,
) -> ClockRow {
    let t = cx.model().as_of;
    let (status, detail) = match inc::clock(first, deadline, t) {
        Clock::Met => ("on time", "notified by the deadline".to_string()),
        Clock::Late(n) => (
            "late",
            format!("notified {} after the deadline", fmt_span(deadline, n.ts)),
        ),
        Clock::Overdue => (
            "overdue",
            format!(
                "not notified; {} past the deadline at the as-of time",
                fmt_span(deadline, t)
            ),
        ),
        Clock::Running => (
            "due",
            format!(
                "not notified yet; {} left at the as-of time",
                fmt_span(t, deadline)
            ),
        ),
    };
    ClockRow {
        obligation: obligation.to_string(),
        rule: rule.to_string(),
        recipient: recipient.to_string(),
        start: fmt_second(start),
        deadline: Some(fmt_second(deadline)),
        how,
        notice: first.map(|n| notice_ref(cx, n)),
        status: status.to_string(),
        detail,
    }
}

/// The reporting clocks that apply to an incident (`RULES.md` INC-03, INC-05, INC-06), with the
/// deadlines those rules compute; and why none applies, when none does.
fn clocks(cx: &Cx<'_>, facts: &Facts<'_>, i: &Incident) -> (Vec<ClockRow>, Option<String>) {
    let mut out = Vec::new();
    let system = i.system();
    if i.serious() {
        let Some(inc03) = rule_cx(cx, facts, "INC-03") else {
            return (out, None);
        };
        let immediate = inc::limit(&inc03, "immediate");
        let (deadline, how) = inc::art73_deadline(i, &immediate);
        let deployer = facts.deployer(system);
        let provider = facts.provider(system);
        let mut rules = Vec::new();
        if provider || (deployer && inc03.flag("deployer_clocks")) {
            rules.push("INC-03");
        }
        if deployer {
            rules.push("INC-05 (b)");
        }
        let rule = if rules.is_empty() {
            "none: the system's role (provider or deployer) is not recorded".to_string()
        } else {
            rules.join(", ")
        };
        let first = i.first_notice("authority");
        out.push(clock_row(
            cx,
            "Serious incident report to the market surveillance authority (AI Act Art. 73)",
            &rule,
            "authority",
            i.awareness,
            deadline,
            how,
            first,
        ));
        if let Some(n) = first
            && n.report_type.as_deref() == Some("initial")
        {
            let within = inc::limit(&inc03, "complete_within");
            let complete = i.notices.iter().find(|c| {
                c.recipient.as_deref() == Some("authority")
                    && c.report_type.as_deref() == Some("complete")
                    && c.ts >= n.ts
            });
            out.push(clock_row(
                cx,
                "Complete report after an initial one (AI Act Art. 73)",
                "INC-03 (d)",
                "authority",
                n.ts,
                within.after(n.ts),
                format!("{within} after the initial report {}", fmt_second(n.ts)),
                complete,
            ));
        }
        if deployer && let Some(inc05) = rule_cx(cx, facts, "INC-05") {
            let immediate = inc::limit(&inc05, "immediate");
            out.push(clock_row(
                cx,
                "Deployer informs the provider (AI Act Art. 26(5))",
                "INC-05 (a)",
                "provider",
                i.awareness,
                immediate.after(i.awareness),
                format!("{immediate} after awareness {}", fmt_second(i.awareness)),
                i.first_notice("provider"),
            ));
        }
    }
    if i.flag("personal_data_breach") == Some(true)
        && let Some(inc06) = rule_cx(cx, facts, "INC-06")
    {
        let within = inc::limit(&inc06, "notify_within");
        let code = inc06.string("no_risk_code");
        let obligation = "Personal-data breach notice to the supervisory authority (GDPR Art. 33)";
        match inc::breach::has_reason_code(&inc06, i, &code) {
            Some(j) => out.push(ClockRow {
                obligation: obligation.to_string(),
                rule: "INC-06 (b)".into(),
                recipient: "supervisory_authority".into(),
                start: fmt_second(i.awareness),
                deadline: None,
                how: format!(
                    "event {} records reason code {code}: the breach was assessed as unlikely to result in a risk",
                    cx.model().event(j).id
                ),
                notice: i
                    .first_notice("supervisory_authority")
                    .map(|n| notice_ref(cx, n)),
                status: "not required".into(),
                detail: "no notice is required after a documented no-risk assessment".into(),
            }),
            None => out.push(clock_row(
                cx,
                obligation,
                "INC-06 (b)",
                "supervisory_authority",
                i.awareness,
                within.after(i.awareness),
                format!("{within} after awareness {}", fmt_second(i.awareness)),
                i.first_notice("supervisory_authority"),
            )),
        }
    }
    let none = out.is_empty().then(|| {
        "No reporting clock applies: the incident is not recorded as serious (serious = true) \
nor as a personal-data breach (personal_data_breach = true)."
            .to_string()
    });
    (out, none)
}

/// The most pressing of an incident's clocks, for the index.
fn worst(clocks: &[ClockRow]) -> Option<String> {
    ["overdue", "late", "due", "on time", "not required"]
        .iter()
        .find(|s| clocks.iter().any(|c| c.status == **s))
        .map(|s| s.to_string())
}

/// Details of a timeline event: its attributes as text (the Markdown ones are shown apart).
fn details(e: &crate::event::Event) -> Vec<(String, String)> {
    e.attrs()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "root_cause" | "corrective_actions"))
        .filter_map(|(k, v)| Some((k.clone(), time::clip(&value_text(Some(v))?, 300))))
        .collect()
}

fn page(
    cx: &Cx<'_>,
    facts: &Facts<'_>,
    index: &BTreeMap<&str, Vec<usize>>,
    node: &NodeId,
    found: Option<&Incident>,
) -> Page {
    let model = cx.model();
    let ent = model.entity(node);
    let mut timeline = Vec::new();
    let mut alerts = Vec::new();
    let (mut more_timeline, mut more_alerts) = (0usize, 0usize);
    let mut cited: Vec<(String, Vec<String>)> = Vec::new();
    for &i in ent.map_or(&[][..], |e| &e.timeline[..]) {
        let e = model.event(i);
        if e.subject.as_ref().is_some_and(|s| s.is(node)) {
            for (field, id) in e.event_refs() {
                if *field != "attrs.evidence" {
                    continue;
                }
                match cited.iter_mut().find(|(c, _)| c == id) {
                    Some((_, by)) => by.push(e.id.to_string()),
                    None => cited.push((id.clone(), vec![e.id.to_string()])),
                }
            }
            if timeline.len() == PAGE_ROWS {
                more_timeline += 1;
                continue;
            }
            let r = e.rationale();
            timeline.push(TimelineRow {
                event: EventRow::new(cx, i),
                details: details(e),
                summary: markdown(r.get("summary")),
                reason: e.reason().map(str::to_string),
            });
        } else if e.kind == "monitoring.alert" {
            if alerts.len() == PAGE_ROWS {
                more_alerts += 1;
                continue;
            }
            let a = e.attrs();
            alerts.push(Alert {
                event: EventRow::new(cx, i),
                deployment: e.subject_node().map(|d| EntityLink::new(cx, &d)),
                metric: or_nr(a.get("metric")),
                severity: or_nr(a.get("severity")),
                disposition: or_nr(a.get("disposition")),
                note: or_nr(a.get("note")),
            });
        }
    }
    let (cited, more_evidence) = cap(cited);
    let evidence = cited
        .into_iter()
        .map(|(id, cited_by)| Evidence {
            event: model.by_id(&id).map(|j| EventRow::new(cx, j)),
            id,
            cited_by,
        })
        .collect();
    let (references, reference_count) = if found.is_none() {
        references(cx, node)
    } else {
        (Vec::new(), 0)
    };
    let mut p = Page {
        id: node.id().to_string(),
        registered: found.is_some(),
        references,
        reference_count,
        facts: Vec::new(),
        state: "unknown".into(),
        state_note: "no incident.opened, .updated or .closed".into(),
        awareness: None,
        timeline,
        more_timeline,
        clocks: Vec::new(),
        no_clock: None,
        notices: Vec::new(),
        affected: Vec::new(),
        evidence,
        more_evidence,
        root_cause: None,
        corrective_actions: None,
        alerts,
        more_alerts,
        findings: findings_about(cx, index, node.as_str()),
    };
    let Some(i) = found else {
        return p;
    };
    let a = &i.attrs;
    p.facts = vec![
        ("Title".into(), or_nr(a.get("title"))),
        ("Severity".into(), or_nr(a.get("severity"))),
        ("Serious incident".into(), flag(a.get("serious"))),
        ("Category".into(), or_nr(a.get("category"))),
        ("Widespread".into(), flag(a.get("widespread"))),
        (
            "Personal-data breach".into(),
            flag(a.get("personal_data_breach")),
        ),
        (
            "System".into(),
            i.system()
                .map_or_else(|| "not recorded".into(), str::to_string),
        ),
        (
            "Causal link established".into(),
            or_nr(a.get("causal_link_ts")),
        ),
    ];
    (p.state, p.state_note) = match i.closure(model) {
        Some((c, _)) => {
            let closed = format!("closed on {}", time::fmt(model.event(c).ts));
            if i.lifecycle.last() == Some(&c) {
                ("closed".into(), closed)
            } else {
                ("open".into(), format!("{closed}, updated afterwards"))
            }
        }
        None => ("open".into(), "not closed".into()),
    };
    p.awareness = Some(Awareness {
        ts: fmt_second(i.awareness),
        given: i.awareness_given,
        href: links::event_href(i.awareness_event),
    });
    (p.clocks, p.no_clock) = clocks(cx, facts, i);
    p.notices = i
        .notices
        .iter()
        .map(|n| NoticeRow {
            event: EventRow::new(cx, n.event),
            recipient: n.recipient.clone().unwrap_or_else(|| "not recorded".into()),
            report_type: n
                .report_type
                .clone()
                .unwrap_or_else(|| "not recorded".into()),
            reference: or_nr(model.event(n.event).attrs().get("reference")),
        })
        .collect();
    p.affected = i
        .affects()
        .iter()
        .map(|n| Affected {
            kind: n
                .entity_type()
                .map_or("unknown", EntityType::as_str)
                .to_string(),
            link: EntityLink::new(cx, n),
        })
        .collect();
    p.affected.sort_by(|x, y| x.link.id.cmp(&y.link.id));
    p.root_cause = markdown(a.get("root_cause"));
    p.corrective_actions = markdown(a.get("corrective_actions"));
    p
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let facts = Facts::compute(model, cx.input.config);
    let index = findings_by_subject(cx);
    let all = inc::incidents(model, &facts);
    let by_node: BTreeMap<&NodeId, &Incident> = all.iter().map(|i| (&i.node, i)).collect();
    let mut rows = Vec::new();
    for (node, _) in entities_of(model, EntityType::Incident) {
        let found = by_node.get(node).copied();
        let p = page(cx, &facts, &index, node, found);
        let fact = |k: &str| {
            p.facts
                .iter()
                .find(|f| f.0 == k)
                .map_or_else(|| "not recorded".into(), |f| f.1.clone())
        };
        rows.push(IndexRow {
            link: EntityLink::new(cx, node),
            title: fact("Title"),
            severity: fact("Severity"),
            serious: fact("Serious incident"),
            breach: fact("Personal-data breach"),
            state: p.state.clone(),
            opened: found.map_or_else(
                || "not recorded".into(),
                |i| time::fmt(model.event(i.opened).ts),
            ),
            awareness: p
                .awareness
                .as_ref()
                .map_or_else(|| "not recorded".into(), |a| a.ts.clone()),
            clock: worst(&p.clocks),
            findings: p.findings.len(),
        });
        let Some(path) = links::href(node) else {
            continue;
        };
        let title = format!("Incident {}", node.id());
        pages.add(path.clone(), cx.render(&path, "incident.html", &title, p)?);
    }
    write_list(
        cx,
        pages,
        "incidents/index",
        "incidents.html",
        "Incidents",
        rows,
    )
}

#[cfg(test)]
mod tests;

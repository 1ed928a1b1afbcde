//! `lineage.html` (`SITE.md`, "Pages"): the whole lineage graph as inline SVG laid out at build
//! time, the runs and jobs (every run and job has its anchor here, where `links::href` points),
//! and the table of every edge with the event that states it.
//!
//! - Up to [`WHOLE_GRAPH`] nodes the graph is one SVG. Beyond that it is drawn per connected
//!   component (each a section named by its systems); components under [`OWN_SECTION`] nodes
//!   share sections. Sections that do not fit the first page continue on `lineage-2.html`, … .
//! - Edges are listed [`PAGE_ROWS`] to a page (`lineage.html`, then `lineage-edges-2.html`, …).
//!   `decided_by` edges are one per decision, so they are counted per deployment and model
//!   version instead (the decisions themselves are on `decisions.html` and the event pages).
//! - Runs and jobs: the first [`PAGE_ROWS`] in full on `lineage.html`; any further run or job
//!   keeps its anchor on `lineage.html` (a short link) and its full row on `lineage-runs-N.html`.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoEdgeReferences, NodeIndexable};
use serde::Serialize;
use serde_json::Value;

use super::{EntityLink, PageLink, event_link, pager};
use crate::event::{EntityType, NodeId};
use crate::graph::Rel;
use crate::render::{Cx, PAGE_ROWS, Pages, links, safe, svg};

/// Graphs up to this many nodes are drawn as one SVG.
pub const WHOLE_GRAPH: usize = 300;
/// Components of at least this many nodes get a section of their own.
const OWN_SECTION: usize = 20;
/// SVG bytes on the first page (which also holds the run and edge tables) and on later pages.
const FIRST_PAGE_SVG: usize = 600_000;
const PAGE_SVG: usize = 1_500_000;
/// Inputs or outputs listed per run row (all are in the edge table).
const ROW_LINKS: usize = 5;
/// Runs of a job listed in its row.
const JOB_RUNS: usize = 20;
/// Runs and jobs beyond the first page that keep a short anchor on `lineage.html`.
const MAX_STUBS: usize = 6000;

#[derive(Serialize)]
struct Page {
    /// `main` (lineage.html), `graph` (lineage-N.html), `edges` or `runs`.
    kind: &'static str,
    nodes: usize,
    edges: usize,
    types: Vec<(String, usize)>,
    rels: Vec<(String, usize)>,
    unresolved: usize,
    clustered: bool,
    sections: Vec<Section>,
    graph_pages: Vec<PageLink>,
    runs: Vec<RunRow>,
    runs_total: usize,
    jobs: Vec<JobRow>,
    jobs_total: usize,
    /// Runs and jobs whose full rows are on `lineage-runs-N.html`.
    stubs: Vec<Stub>,
    stubs_left: usize,
    run_pages: Vec<PageLink>,
    edge_rows: Vec<EdgeRow>,
    edges_listed: usize,
    edges_first: usize,
    edge_pages: Vec<PageLink>,
    decided: Vec<DecidedRow>,
}

#[derive(Serialize)]
struct Section {
    heading: String,
    anchor: String,
    nodes: usize,
    edges: usize,
    systems: Vec<String>,
    svg: minijinja::Value,
}

#[derive(Serialize)]
struct RunRow {
    anchor: String,
    id: String,
    unresolved: bool,
    status: Option<String>,
    job: Option<JobRef>,
    started: Option<String>,
    completed: Option<String>,
    inputs: Vec<EntityLink>,
    more_inputs: usize,
    outputs: Vec<EntityLink>,
    more_outputs: usize,
    code: Option<Code>,
    pipeline_version: Option<String>,
    event: Option<String>,
    event_href: Option<String>,
}

#[derive(Serialize)]
struct JobRef {
    id: String,
    href: String,
}

#[derive(Serialize)]
struct Code {
    repo: Option<String>,
    commit: Option<String>,
    path: Option<String>,
}

#[derive(Serialize)]
struct JobRow {
    anchor: String,
    id: String,
    runs: Vec<EntityLink>,
    more_runs: usize,
    run_count: usize,
    events: usize,
}

#[derive(Serialize)]
struct Stub {
    anchor: String,
    id: String,
    kind: &'static str,
    href: String,
}

#[derive(Serialize)]
struct EdgeRow {
    from: EntityLink,
    rel: &'static str,
    to: EntityLink,
    event: String,
    event_href: Option<String>,
}

#[derive(Serialize)]
struct DecidedRow {
    from: EntityLink,
    decisions: usize,
    first_event: String,
    first_href: Option<String>,
}

fn graph_page(n: usize) -> String {
    if n <= 1 {
        "lineage.html".into()
    } else {
        format!("lineage-{n}.html")
    }
}

fn edge_page(n: usize) -> String {
    if n <= 1 {
        "lineage.html".into()
    } else {
        format!("lineage-edges-{n}.html")
    }
}

fn run_page(n: usize) -> String {
    if n <= 1 {
        "lineage.html".into()
    } else {
        format!("lineage-runs-{n}.html")
    }
}

fn attr_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The systems of the nodes of a component: a system node itself, else the envelope `system`
/// of the node's registering event, else of the first event that names it.
fn systems_of(cx: &Cx<'_>, nodes: &BTreeSet<NodeIndex>) -> Vec<String> {
    let model = cx.model();
    let g = &cx.input.graph.graph;
    let mut out = BTreeSet::new();
    for &n in nodes {
        let id = &g[n].id;
        if id.entity_type() == Some(EntityType::System) {
            out.insert(id.id().to_string());
            continue;
        }
        let system = model.state(id).and_then(|e| e.system.clone()).or_else(|| {
            model
                .entity(id)
                .and_then(|e| e.timeline.first())
                .and_then(|&i| model.event(i).system.clone())
        });
        if let Some(s) = system {
            out.insert(s.to_string());
        }
    }
    out.into_iter().collect()
}

/// The weakly connected components of the graph, largest first (ties by smallest node id).
fn components(cx: &Cx<'_>) -> Vec<BTreeSet<NodeIndex>> {
    let g = &cx.input.graph.graph;
    let bound = g.node_bound();
    let mut parent: Vec<usize> = (0..bound).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for e in g.edge_references() {
        let (a, b) = (
            find(&mut parent, e.source().index()),
            find(&mut parent, e.target().index()),
        );
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            parent[hi] = lo;
        }
    }
    let mut comps: BTreeMap<usize, BTreeSet<NodeIndex>> = BTreeMap::new();
    for n in g.node_indices() {
        let r = find(&mut parent, n.index());
        comps.entry(r).or_default().insert(n);
    }
    let mut out: Vec<BTreeSet<NodeIndex>> = comps.into_values().collect();
    let first = |c: &BTreeSet<NodeIndex>| c.iter().map(|&n| g[n].id.clone()).min();
    out.sort_by_cached_key(|c| (std::cmp::Reverse(c.len()), first(c)));
    out
}

fn count_edges(cx: &Cx<'_>, nodes: &BTreeSet<NodeIndex>) -> usize {
    let g = &cx.input.graph.graph;
    nodes
        .iter()
        .map(|&n| {
            g.edges_directed(n, petgraph::Direction::Outgoing)
                .filter(|e| nodes.contains(&e.target()))
                .count()
        })
        .sum()
}

/// Draws one section's SVG within `budget` bytes where the layout allows (a lower per-layer cap
/// summarises more).
fn draw(cx: &Cx<'_>, nodes: &BTreeSet<NodeIndex>, title: &str, budget: usize) -> String {
    let mut cap = svg::LAYER_CAP;
    loop {
        let out = svg::lineage_with(
            cx.input.graph,
            nodes,
            None,
            "",
            &svg::LineageOptions {
                title: Some(title),
                layer_cap: cap,
            },
        );
        if out.len() <= budget || cap <= 4 {
            return out;
        }
        cap /= 2;
    }
}

/// The graph sections, split into pages.
fn sections(cx: &Cx<'_>) -> (bool, Vec<Vec<Section>>) {
    let g = &cx.input.graph.graph;
    let total = g.node_count();
    let mut groups: Vec<(String, BTreeSet<NodeIndex>, Vec<String>)> = Vec::new();
    let clustered = total > WHOLE_GRAPH;
    if !clustered {
        let all: BTreeSet<NodeIndex> = g.node_indices().collect();
        let systems = systems_of(cx, &all);
        groups.push(("Whole graph".into(), all, systems));
    } else {
        let comps = components(cx);
        let mut small: Vec<BTreeSet<NodeIndex>> = Vec::new();
        let mut k = 0;
        for c in comps {
            if c.len() >= OWN_SECTION {
                k += 1;
                let systems = systems_of(cx, &c);
                let named = match systems.len() {
                    0 => "no system recorded".to_string(),
                    1..=3 => systems.join(", "),
                    n => format!("{} and {} more", systems[..3].join(", "), n - 3),
                };
                groups.push((format!("Component {k} ({named})"), c, systems));
            } else {
                small.push(c);
            }
        }
        // Small components packed into shared sections of up to WHOLE_GRAPH nodes.
        let mut pack: BTreeSet<NodeIndex> = BTreeSet::new();
        let mut packs: Vec<(BTreeSet<NodeIndex>, usize)> = Vec::new();
        let mut in_pack = 0;
        for c in small {
            if !pack.is_empty() && pack.len() + c.len() > WHOLE_GRAPH {
                packs.push((std::mem::take(&mut pack), in_pack));
                in_pack = 0;
            }
            pack.extend(c);
            in_pack += 1;
        }
        if !pack.is_empty() {
            packs.push((pack, in_pack));
        }
        let count = packs.len();
        for (i, (nodes, comps)) in packs.into_iter().enumerate() {
            let systems = systems_of(cx, &nodes);
            let part = if count > 1 {
                format!(", part {} of {count}", i + 1)
            } else {
                String::new()
            };
            groups.push((
                format!(
                    "Small components ({comps} component{}{part})",
                    if comps == 1 { "" } else { "s" }
                ),
                nodes,
                systems,
            ));
        }
    }
    let mut pages: Vec<Vec<Section>> = vec![Vec::new()];
    let mut used = 0usize;
    for (i, (heading, nodes, systems)) in groups.into_iter().enumerate() {
        let markup = draw(cx, &nodes, &format!("Lineage: {heading}"), PAGE_SVG);
        let budget = if pages.len() == 1 {
            FIRST_PAGE_SVG
        } else {
            PAGE_SVG
        };
        if used + markup.len() > budget && (used > 0 || pages.len() == 1) {
            pages.push(Vec::new());
            used = 0;
        }
        used += markup.len();
        let edges = count_edges(cx, &nodes);
        pages.last_mut().expect("a page").push(Section {
            heading,
            anchor: format!("graph-{}", i + 1),
            nodes: nodes.len(),
            edges,
            systems,
            svg: safe(markup),
        });
    }
    (clustered, pages)
}

fn run_row(cx: &Cx<'_>, node: &NodeId) -> RunRow {
    let model = cx.model();
    let state = model.state(node);
    let idx = model
        .entity(node)
        .and_then(|e| e.registered.last().copied());
    let attrs = state.map(|e| e.attrs()).unwrap_or_default();
    let links_of = |key: &str| -> (Vec<EntityLink>, usize) {
        let all: Vec<EntityLink> = crate::event::as_str_list(attrs.get(key))
            .into_iter()
            .map(|s| match NodeId::parse(s) {
                Some(n) => EntityLink::new(cx, &n),
                None => EntityLink {
                    id: s.to_string(),
                    label: s.to_string(),
                    href: None,
                    unresolved: true,
                },
            })
            .collect();
        let more = all.len().saturating_sub(ROW_LINKS);
        (all.into_iter().take(ROW_LINKS).collect(), more)
    };
    let (inputs, more_inputs) = links_of("inputs");
    let (outputs, more_outputs) = links_of("outputs");
    let code = attrs.get("code").and_then(Value::as_object).map(|c| Code {
        repo: attr_text(c.get("repo")),
        commit: attr_text(c.get("commit")),
        path: attr_text(c.get("path")),
    });
    let job = attr_text(attrs.get("job")).map(|j| {
        let jn = NodeId::new(EntityType::Job, &j);
        JobRef {
            href: links::href(&jn).unwrap_or_default(),
            id: j,
        }
    });
    RunRow {
        anchor: links::anchor(node),
        id: node.id().to_string(),
        unresolved: model.entity(node).is_none_or(|e| e.unresolved),
        status: attr_text(attrs.get("status")),
        job,
        started: attr_text(attrs.get("started_ts")),
        completed: state.map(|e| crate::time::fmt(e.ts)),
        inputs,
        more_inputs,
        outputs,
        more_outputs,
        code,
        pipeline_version: attr_text(attrs.get("pipeline_version")),
        event: state.map(|e| e.id.to_string()),
        event_href: idx.map(links::event_href),
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let lg = cx.input.graph;
    let g = &lg.graph;

    // Counts.
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut unresolved = 0;
    for n in g.node_indices() {
        *types.entry(g[n].kind.to_string()).or_default() += 1;
        unresolved += usize::from(g[n].unresolved);
    }
    // Edges in (from, to, rel) order; decided_by counted per source.
    let mut rels: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut listed: Vec<(&NodeId, &NodeId, Rel, u32)> = Vec::new();
    let mut decided: BTreeMap<&NodeId, (usize, u32)> = BTreeMap::new();
    for e in g.edge_references() {
        let w = e.weight();
        *rels.entry(w.rel.as_str()).or_default() += 1;
        let (from, to) = (&g[e.source()].id, &g[e.target()].id);
        if w.rel == Rel::DecidedBy {
            let d = decided.entry(from).or_insert((0, w.event));
            d.0 += 1;
            d.1 = d.1.min(w.event);
        } else {
            listed.push((from, to, w.rel, w.event));
        }
    }
    listed.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let decided: Vec<DecidedRow> = decided
        .into_iter()
        .map(|(from, (n, first))| DecidedRow {
            from: EntityLink::new(cx, from),
            decisions: n,
            first_event: model.event(first).id.to_string(),
            first_href: event_link(cx, &model.event(first).id),
        })
        .collect();

    // Runs and jobs: run entities, job entities, and jobs named by runs.
    let runs: Vec<&NodeId> = model
        .entities
        .keys()
        .filter(|n| n.entity_type() == Some(EntityType::Run))
        .collect();
    let mut jobs: BTreeMap<String, (Vec<NodeId>, usize)> = BTreeMap::new();
    for (n, ent) in &model.entities {
        if n.entity_type() == Some(EntityType::Job) {
            jobs.entry(n.id().to_string()).or_default().1 = ent.timeline.len();
        }
    }
    for r in &runs {
        if let Some(j) = model.state(r).and_then(|e| attr_text(e.attrs().get("job"))) {
            jobs.entry(j).or_default().0.push((*r).clone());
        }
    }
    let job_rows: Vec<JobRow> = jobs
        .into_iter()
        .map(|(id, (runs, events))| {
            let node = NodeId::new(EntityType::Job, &id);
            JobRow {
                anchor: links::anchor(&node),
                run_count: runs.len(),
                more_runs: runs.len().saturating_sub(JOB_RUNS),
                runs: runs
                    .iter()
                    .take(JOB_RUNS)
                    .map(|r| EntityLink::new(cx, r))
                    .collect(),
                id,
                events,
            }
        })
        .collect();

    // Run and job rows: the first PAGE_ROWS on lineage.html, the rest on lineage-runs-N.html
    // (jobs after runs), each keeping a short anchor on lineage.html.
    let runs_total = runs.len();
    let jobs_total = job_rows.len();
    let mut job_rows = job_rows.into_iter();
    let first_runs: Vec<RunRow> = runs
        .iter()
        .take(PAGE_ROWS)
        .map(|r| run_row(cx, r))
        .collect();
    let first_jobs: Vec<JobRow> = job_rows
        .by_ref()
        .take(PAGE_ROWS.saturating_sub(first_runs.len()))
        .collect();
    let rest_runs: Vec<&NodeId> = runs.iter().skip(PAGE_ROWS).copied().collect();
    let rest_jobs: Vec<JobRow> = job_rows.collect();
    let rest = rest_runs.len() + rest_jobs.len();
    let run_chunks = links::paginate(rest, PAGE_ROWS);
    let run_page_count = if rest == 0 { 1 } else { run_chunks.len() + 1 };
    let mut stubs: Vec<Stub> = Vec::new();
    for (i, r) in rest_runs.iter().enumerate() {
        let anchor = links::anchor(r);
        stubs.push(Stub {
            href: format!("{}#{anchor}", run_page(i / PAGE_ROWS + 2)),
            anchor,
            id: r.id().to_string(),
            kind: "run",
        });
    }
    for (i, j) in rest_jobs.iter().enumerate() {
        let n = rest_runs.len() + i;
        stubs.push(Stub {
            href: format!("{}#{}", run_page(n / PAGE_ROWS + 2), j.anchor),
            anchor: j.anchor.clone(),
            id: j.id.clone(),
            kind: "job",
        });
    }
    let stubs_left = stubs.len().saturating_sub(MAX_STUBS);
    stubs.truncate(MAX_STUBS);

    let (clustered, mut graph_sections) = sections(cx);
    let graph_count = graph_sections.len();
    let edge_chunks = links::paginate(listed.len(), PAGE_ROWS);
    let edge_count = edge_chunks.len();
    let edge_rows = |range: std::ops::Range<usize>| -> Vec<EdgeRow> {
        listed[range]
            .iter()
            .map(|&(from, to, rel, ev)| {
                let id = model.event(ev).id.clone();
                EdgeRow {
                    from: EntityLink::new(cx, from),
                    rel: rel.as_str(),
                    to: EntityLink::new(cx, to),
                    event_href: event_link(cx, &id),
                    event: id.to_string(),
                }
            })
            .collect()
    };
    let blank = |kind: &'static str| Page {
        kind,
        nodes: g.node_count(),
        edges: g.edge_count(),
        types: types.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        rels: rels.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        unresolved,
        clustered,
        sections: Vec::new(),
        graph_pages: pager(graph_count, 0, graph_page),
        runs: Vec::new(),
        runs_total,
        jobs: Vec::new(),
        jobs_total,
        stubs: Vec::new(),
        stubs_left: 0,
        run_pages: pager(run_page_count, 0, run_page),
        edge_rows: Vec::new(),
        edges_listed: listed.len(),
        edges_first: 0,
        edge_pages: pager(edge_count, 0, edge_page),
        decided: Vec::new(),
    };

    // lineage.html
    let mut main = blank("main");
    main.sections = std::mem::take(&mut graph_sections[0]);
    main.graph_pages = pager(graph_count, 1, graph_page);
    main.runs = first_runs;
    main.jobs = first_jobs;
    main.stubs = stubs;
    main.stubs_left = stubs_left;
    main.run_pages = pager(run_page_count, 1, run_page);
    main.edge_rows = edge_rows(edge_chunks[0].1.clone());
    main.edges_first = 1;
    main.edge_pages = pager(edge_count, 1, edge_page);
    main.decided = decided;
    pages.add(
        "lineage.html",
        cx.render("lineage.html", "lineage.html", "Lineage", main)?,
    );
    // lineage-N.html: further graph sections.
    for (i, secs) in graph_sections.into_iter().enumerate().skip(1) {
        let path = graph_page(i + 1);
        let mut page = blank("graph");
        page.sections = secs;
        page.graph_pages = pager(graph_count, i + 1, graph_page);
        let title = format!("Lineage, graph page {} of {graph_count}", i + 1);
        pages.add(
            path.clone(),
            cx.render(&path, "lineage.html", &title, page)?,
        );
    }
    // lineage-edges-N.html
    for (number, range) in edge_chunks.into_iter().skip(1) {
        let path = edge_page(number);
        let mut page = blank("edges");
        page.edges_first = range.start + 1;
        page.edge_rows = edge_rows(range);
        page.edge_pages = pager(edge_count, number, edge_page);
        let title = format!("Lineage edges, page {number} of {edge_count}");
        pages.add(
            path.clone(),
            cx.render(&path, "lineage.html", &title, page)?,
        );
    }
    // lineage-runs-N.html
    if rest > 0 {
        let mut jobs_iter = rest_jobs.into_iter();
        for (number, range) in run_chunks {
            let number = number + 1;
            let path = run_page(number);
            let mut page = blank("runs");
            let run_end = range.end.min(rest_runs.len());
            if range.start < run_end {
                page.runs = rest_runs[range.start..run_end]
                    .iter()
                    .map(|r| run_row(cx, r))
                    .collect();
            }
            let jobs_here = range.len() - page.runs.len();
            page.jobs = jobs_iter.by_ref().take(jobs_here).collect();
            page.run_pages = pager(run_page_count, number, run_page);
            let title = format!("Lineage runs and jobs, page {number} of {run_page_count}");
            pages.add(
                path.clone(),
                cx.render(&path, "lineage.html", &title, page)?,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::event::NodeId;
    use crate::render::links;
    use crate::testing::{check_events, ev, page, with};

    fn events() -> Vec<Value> {
        vec![
            ev(
                "d1",
                "2026-01-01T00:00:00Z",
                "dataset.registered",
                "dataset:loans@1",
                json!({"name": "loans", "version": "1"}),
            ),
            with(
                ev(
                    "r1",
                    "2026-01-02T00:00:00Z",
                    "run.completed",
                    "run:train-1",
                    json!({"job": "train", "status": "completed", "started_ts": "2026-01-01T23:00:00Z",
                           "inputs": ["dataset:loans@1"], "outputs": ["dataset:scores@1"],
                           "code": {"repo": "git@x:ml.git", "commit": "abc1234", "path": "train.py"}}),
                ),
                "system",
                json!("credit"),
            ),
            ev(
                "m1",
                "2026-01-03T00:00:00Z",
                "model.registered",
                "model_version:risk@1.0",
                json!({"model": "risk", "version": "1.0", "training_run": "train-1"}),
            ),
            ev(
                "p1",
                "2026-01-04T00:00:00Z",
                "deployment.started",
                "deployment:prod",
                json!({"model_version": "risk@1.0"}),
            ),
            ev(
                "x1",
                "2026-01-05T00:00:00Z",
                "decision.made",
                "decision:x1",
                json!({"deployment": "prod", "model_version": "risk@1.0"}),
            ),
        ]
    }

    #[test]
    fn page_draws_the_graph_and_anchors_runs_and_jobs() {
        let case = check_events(&events(), "");
        let html = page(&case.site(), "lineage.html");
        assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"group\""));
        assert!(html.contains(">Lineage: Whole graph</title>"), "{html}");
        assert!(
            html.contains("<a href=\"models/risk/1.0.html\">"),
            "nodes link to their pages"
        );
        assert!(html.contains("<a href=\"deployments.html#deployment-prod\">"));
        // Every run and job named anywhere has its anchor here.
        let run = NodeId::parse("run:train-1").unwrap();
        let job = NodeId::parse("job:train").unwrap();
        assert_eq!(
            links::href(&run).unwrap(),
            format!("lineage.html#{}", links::anchor(&run))
        );
        assert!(
            html.contains(&format!("<tr id=\"{}\">", links::anchor(&run))),
            "{html}"
        );
        assert!(html.contains(&format!("<tr id=\"{}\">", links::anchor(&job))));
        assert!(html.contains(&format!(
            "<a href=\"{}\">train</a>",
            links::href(&job).unwrap()
        )));
        assert!(html.contains("abc1234") && html.contains("git@x:ml.git"));
        assert!(html.contains("2026-01-01T23:00:00Z → 2026-01-02T00:00:00Z"));
        // An output never registered is flagged, in the run row and the graph.
        assert!(html.contains("dataset:scores@1</a> <span class=\"st st-unresolved\">unresolved"));
        assert!(html.contains("dataset · unresolved"));
        // Edges with their stating event; decided_by counted per source.
        assert!(html.contains("<th scope=\"row\">consumes</th>"));
        assert!(html.contains("<a href=\"events/1.html#e1\"><code>r1</code></a>"));
        assert!(html.contains("id=\"decided-by\""));
        assert!(!html.contains("</td><th scope=\"row\">decided_by</th>"));
        assert!(
            html.contains("<tr><th scope=\"row\">decided_by</th><td class=\"num\">2</td></tr>")
        );
        assert!(html.contains("system: credit."), "section names its system");
    }

    #[test]
    fn log_values_are_escaped_in_svg_and_tables() {
        let bad = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
        let case = check_events(
            &[ev(
                "r1",
                "2026-01-02T00:00:00Z",
                "run.completed",
                &format!("run:{bad}"),
                json!({"job": bad, "status": bad, "inputs": [format!("dataset:{bad}")],
                       "code": {"repo": bad, "commit": bad}}),
            )],
            "",
        );
        let html = page(&case.site(), "lineage.html");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let run = NodeId::parse(&format!("run:{bad}")).unwrap();
        assert!(html.contains(&format!("id=\"{}\"", links::anchor(&run))));
    }

    #[test]
    fn large_graphs_are_drawn_per_component_and_edges_paginate() {
        let mut evs = Vec::new();
        // One big component: a run consuming 1100 unregistered datasets.
        let inputs: Vec<String> = (0..1100).map(|i| format!("dataset:in-{i:04}@1")).collect();
        evs.push(ev(
            "big",
            "2026-01-01T00:00:00Z",
            "run.completed",
            "run:big",
            json!({"job": "j", "status": "completed", "inputs": inputs}),
        ));
        // Many small components.
        for i in 0..30 {
            evs.push(ev(
                &format!("r{i}"),
                "2026-01-02T00:00:00Z",
                "run.completed",
                &format!("run:small-{i:02}"),
                json!({"job": "k", "status": "completed", "inputs": [format!("dataset:s-{i:02}@1")]}),
            ));
        }
        let case = check_events(&evs, "");
        let site = case.site();
        let html = page(&site, "lineage.html");
        assert!(html.contains("drawn per connected component"));
        assert!(
            html.contains("<h3 id=\"graph-1\">Component 1 (no system recorded)</h3>"),
            "{}",
            &html[..3000]
        );
        assert!(html.contains("Small components (30 components)"));
        assert!(
            html.contains("more datasets"),
            "the big layer is summarised"
        );
        assert!(html.contains("Edges 1–1000 of 1130"));
        assert!(html.contains("href=\"lineage-edges-2.html\""));
        let second = page(&site, "lineage-edges-2.html");
        assert!(second.contains("Edges 1001–1130 of 1130"), "{second}");
        assert!(second.contains("dataset:s-29@1"));
        assert!(!second.contains("<svg"), "edge pages carry no drawing");
        for (path, bytes) in &site.files {
            if path.starts_with("lineage") {
                assert!(bytes.len() < 2 * 1024 * 1024, "{path}");
            }
        }
        for i in 0..30 {
            assert!(html.contains(&format!("<tr id=\"run-small-{i:02}\">")));
        }
    }

    #[test]
    fn graph_sections_continue_on_further_pages() {
        let evs: Vec<Value> = (0..24)
            .map(|c| {
                let inputs: Vec<String> = (0..59)
                    .map(|i| format!("dataset:c{c:02}-in-{i:02}@1"))
                    .collect();
                ev(
                    &format!("r{c}"),
                    "2026-01-01T00:00:00Z",
                    "run.completed",
                    &format!("run:c{c:02}"),
                    json!({"job": "j", "status": "completed", "inputs": inputs}),
                )
            })
            .collect();
        let case = check_events(&evs, "");
        let site = case.site();
        let first = page(&site, "lineage.html");
        let second = page(&site, "lineage-2.html");
        assert!(
            first.contains("href=\"lineage-2.html\""),
            "pager to the next drawing page"
        );
        assert!(second.contains("<h2 id=\"graph\">Graph</h2>"));
        assert!(second.contains("Component 24 ("), "{}", &second[..2000]);
        assert!(
            !second.contains("id=\"runs\""),
            "run anchors stay on lineage.html"
        );
        assert!(first.contains("<tr id=\"run-c23\">"));
        let drawn = first.matches("<svg ").count() + second.matches("<svg ").count();
        assert_eq!(drawn, 24);
    }

    #[test]
    fn runs_beyond_a_page_keep_their_anchor_on_lineage_html() {
        let evs: Vec<Value> = (0..1003)
            .map(|i| {
                ev(
                    &format!("r{i}"),
                    "2026-01-01T00:00:00Z",
                    "run.completed",
                    &format!("run:r{i:04}"),
                    json!({"job": "nightly", "status": "completed"}),
                )
            })
            .collect();
        let case = check_events(&evs, "");
        let site = case.site();
        let html = page(&site, "lineage.html");
        assert!(html.contains("<tr id=\"run-r0999\">"));
        assert!(
            html.contains("<li id=\"run-r1002\">run <a href=\"lineage-runs-2.html#run-r1002\">")
        );
        assert!(
            html.contains(
                "<li id=\"job-nightly\">job <a href=\"lineage-runs-2.html#job-nightly\">"
            )
        );
        let more = page(&site, "lineage-runs-2.html");
        assert!(more.contains("<tr id=\"run-r1002\">"));
        assert!(more.contains("<tr id=\"job-nightly\"><th scope=\"row\"><code>nightly</code></th><td class=\"num\">1\u{202f}003</td>"), "{more}");
    }

    #[test]
    fn an_empty_log_gives_an_empty_graph() {
        let case = check_events(&[], "");
        let html = page(&case.site(), "lineage.html");
        assert!(html.contains("No lineage recorded.") || html.contains("No lineage is recorded"));
        assert!(html.contains("No run is recorded."));
        assert!(html.contains("No edge other than"));
    }
}

//! `methodology.html`: how this version was judged, generated from the rules' own documentation
//! ([`RuleMeta`], the text `trailbook explain` prints). Every rule of the catalogue, in catalogue
//! order and grouped by family, has a section with the anchor `#RULE-ID` (findings link there):
//! title, level, basis, sources, what each enabled pack maps it to and how the pack changes its
//! level, its status in this run, its parameters with the values in effect, and its text. Then
//! what the tool cannot see, the as-of resolution and the tool version.
//!
//! Rule text is ours, not log data, but it is Markdown and goes through `markdown::to_html` like
//! everything else passed as markup.

use serde::Serialize;

use crate::checks::catalogue::{self, PACKS};
use crate::checks::{RuleMeta, Status};
use crate::render::{Cx, Pages, markdown, safe};

/// The rule families of the catalogue (`RULES.md` §3), by id prefix.
const FAMILIES: &[(&str, &str)] = &[
    ("LOG", "Event log integrity"),
    ("LINK", "Graph consistency"),
    ("MOD", "Model version metadata"),
    ("DATA", "Data provenance"),
    ("DEC", "Decisions and oversight"),
    ("DEP", "Deployment and monitoring"),
    ("INC", "Incidents and reporting deadlines"),
    ("ACC", "Access and separation of duties"),
    ("RET", "Retention minimums and maximums"),
    ("PRV", "Privacy and redaction"),
];

/// What the page says about where the as-of time came from, by `Model::as_of_source`.
fn as_of_text(source: &str) -> &'static str {
    match source {
        "--as-of" => "the `--as-of` option of the command that built this version",
        "[report] as_of" => "`as_of` in the `[report]` section of the configuration",
        "SOURCE_DATE_EPOCH" => "the `SOURCE_DATE_EPOCH` environment variable",
        "latest event" => {
            "the time of the latest event read, as neither `--as-of`, `[report] as_of` nor `SOURCE_DATE_EPOCH` was given"
        }
        _ => "an unknown source",
    }
}

#[derive(Serialize)]
struct Page {
    tool: &'static str,
    audience: Audience,
    as_of_source: String,
    as_of_text: minijinja::Value,
    in_view: usize,
    after_view: usize,
    packs: Vec<PackRef>,
    index: Vec<IndexRow>,
    families: Vec<Family>,
    not_covered: Vec<NotCovered>,
}

/// What this audience sees (`SITE.md`, "Audiences").
#[derive(Serialize)]
struct Audience {
    drill_down: bool,
    k: u64,
    original_lines: bool,
    /// Markdown lines (paths in backticks), as markup.
    redactions: Vec<minijinja::Value>,
}

#[derive(Serialize)]
struct PackRef {
    id: String,
    label: String,
    href: String,
}

#[derive(Serialize)]
struct IndexRow {
    id: String,
    title: String,
    basis: String,
    status: String,
}

#[derive(Serialize)]
struct Family {
    prefix: String,
    title: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    id: String,
    title: String,
    implemented: bool,
    levels: minijinja::Value,
    basis: String,
    sources: Vec<String>,
    /// Status in this run, for `m.status`, and its explanation.
    status: String,
    status_note: Option<String>,
    configured_level: Option<String>,
    packs: Vec<PackUse>,
    other_packs: Vec<String>,
    needs: minijinja::Value,
    sections: Vec<(String, minijinja::Value)>,
    params: Vec<Param>,
}

#[derive(Serialize)]
struct PackUse {
    pack: String,
    label: String,
    href: String,
    clauses: Vec<String>,
    /// `listed, no clause of its own` or `supporting evidence` when `clauses` is empty.
    role: String,
    levels: Vec<String>,
}

#[derive(Serialize)]
struct Param {
    name: String,
    default: String,
    value: String,
    configured: bool,
}

#[derive(Serialize)]
struct NotCovered {
    pack: String,
    label: String,
    text: minijinja::Value,
}

/// Markdown rendered as HTML without the wrapping paragraph of a single line.
fn inline(md: &str) -> minijinja::Value {
    let html = markdown::to_html(md.trim());
    let trimmed = html.trim_end();
    let inner = trimmed
        .strip_prefix("<p>")
        .and_then(|s| s.strip_suffix("</p>"))
        .filter(|s| !s.contains("<p>"));
    safe(inner.map_or_else(|| html.clone(), str::to_string))
}

fn block(md: &str) -> minijinja::Value {
    safe(markdown::to_html(md.trim()))
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let enabled: Vec<&'static catalogue::PackDef> = PACKS
        .iter()
        .filter(|p| cx.input.packs.iter().any(|e| e == p.id))
        .collect();
    let pack_href = |id: &str| format!("packs/{id}.html");
    let rules: Vec<Rule> = catalogue::RULE_IDS
        .iter()
        .map(|&id| rule(cx, id, &enabled, catalogue::rule(id)))
        .collect();
    let index = rules
        .iter()
        .map(|r| IndexRow {
            id: r.id.clone(),
            title: r.title.clone(),
            basis: r.basis.clone(),
            status: r.status.clone(),
        })
        .collect();
    let mut families: Vec<Family> = FAMILIES
        .iter()
        .map(|(prefix, title)| Family {
            prefix: prefix.to_string(),
            title: title.to_string(),
            rules: Vec::new(),
        })
        .collect();
    for r in rules {
        let prefix = r.id.rsplit_once('-').map_or("", |(p, _)| p);
        match families.iter_mut().find(|f| f.prefix == prefix) {
            Some(f) => f.rules.push(r),
            None => families.push(Family {
                prefix: prefix.to_string(),
                title: prefix.to_string(),
                rules: vec![r],
            }),
        }
    }
    let page = Page {
        tool: concat!("trailbook ", env!("CARGO_PKG_VERSION")),
        audience: Audience {
            drill_down: cx.input.exposure.drill_down,
            k: cx.input.exposure.k,
            original_lines: cx.input.exposure.original_lines,
            redactions: cx
                .input
                .exposure
                .redactions
                .iter()
                .map(|r| safe(markdown::to_html(r)))
                .collect(),
        },
        as_of_source: model.as_of_source.to_string(),
        as_of_text: inline(as_of_text(model.as_of_source)),
        in_view: model.in_view,
        after_view: model.events.len() - model.in_view,
        packs: enabled
            .iter()
            .map(|p| PackRef {
                id: p.id.to_string(),
                label: p.label.to_string(),
                href: pack_href(p.id),
            })
            .collect(),
        index,
        families,
        not_covered: enabled
            .iter()
            .filter(|p| !p.not_covered.trim().is_empty())
            .map(|p| NotCovered {
                pack: p.id.to_string(),
                label: p.label.to_string(),
                text: inline(p.not_covered),
            })
            .collect(),
    };
    pages.add(
        "methodology.html",
        cx.render("methodology.html", "methodology.html", "Methodology", page)?,
    );
    Ok(())
}

/// One rule's section.
fn rule(
    cx: &Cx<'_>,
    id: &str,
    enabled: &[&'static catalogue::PackDef],
    meta: Option<&'static RuleMeta>,
) -> Rule {
    let config = cx.input.config;
    let findings = cx.input.findings;
    let covering: Vec<&&catalogue::PackDef> = enabled.iter().filter(|p| p.covers(id)).collect();
    let configured_level = config.policy.levels.get(id).cloned();
    let run = findings.rules.iter().find(|r| r.rule == id);
    let (status, status_note) = if meta.is_none() {
        (
            "not implemented",
            Some("not implemented in this version of trailbook".to_string()),
        )
    } else if covering.is_empty() {
        (
            "not run",
            Some("no enabled pack covers this rule".to_string()),
        )
    } else if configured_level.as_deref() == Some("off") {
        (
            "disabled",
            Some("turned off in `[policy] levels`".to_string()),
        )
    } else {
        match run.map(|r| &r.status) {
            Some(Status::Evaluated) => (
                "evaluated",
                run.map(|r| {
                    format!(
                        "{} finding{}",
                        r.findings,
                        if r.findings == 1 { "" } else { "s" }
                    )
                }),
            ),
            Some(Status::NotApplicable(why)) => ("not applicable", Some(why.clone())),
            Some(Status::NotEvaluable(why)) => ("not evaluable", Some(why.clone())),
            None => ("not run", None),
        }
    };
    let packs = covering
        .iter()
        .map(|p| {
            let clauses: Vec<String> = p.clauses_of(id).map(str::to_string).collect();
            let role = if !clauses.is_empty() {
                String::new()
            } else if p.lists(id) {
                "listed, no clause of its own".to_string()
            } else {
                "supporting evidence".to_string()
            };
            let options = config.policy.pack.get(p.id);
            let mut levels: Vec<String> = p
                .levels
                .iter()
                .filter(|(rule, _, _)| *rule == id)
                .map(|(_, check, level)| {
                    if check.is_empty() {
                        format!("sets the level to {}", level.as_str())
                    } else {
                        format!("sets check ({check}) to {}", level.as_str())
                    }
                })
                .collect();
            match (options.and_then(|o| o.max_level.as_deref()), p.max_level) {
                (Some(max), _) => levels.push(format!("caps the level at {max} (configured)")),
                (None, Some(max)) => levels.push(format!("caps the level at {}", max.as_str())),
                (None, None) => {}
            }
            let from = options
                .and_then(|o| o.effective_from)
                .map(crate::time::fmt)
                .or_else(|| p.effective_from.map(str::to_string));
            if let Some(from) = from {
                levels.push(format!(
                    "applies from {from}; findings about earlier times are info"
                ));
            }
            if let Some(systems) = options.and_then(|o| o.systems.as_ref()) {
                levels.push(format!("only for systems {}", systems.join(", ")));
            }
            PackUse {
                pack: p.id.to_string(),
                label: p.label.to_string(),
                href: format!("packs/{}.html", p.id),
                clauses,
                role,
                levels,
            }
        })
        .collect();
    let other_packs = PACKS
        .iter()
        .filter(|p| p.covers(id) && !enabled.iter().any(|e| e.id == p.id))
        .map(|p| p.id.to_string())
        .collect();
    let Some(m) = meta else {
        return Rule {
            id: id.to_string(),
            title: String::new(),
            implemented: false,
            levels: safe(String::new()),
            basis: String::new(),
            sources: Vec::new(),
            status: status.to_string(),
            status_note,
            configured_level,
            packs,
            other_packs,
            needs: safe(String::new()),
            sections: Vec::new(),
            params: Vec::new(),
        };
    };
    let configured = config.policy.params.get(id);
    let params = m
        .params
        .iter()
        .map(|p| {
            let set = configured.and_then(|t| t.get(p.name));
            Param {
                name: p.name.to_string(),
                default: p.default.to_string(),
                value: set.map_or_else(|| p.default.to_string(), |v| v.to_string()),
                configured: set.is_some(),
            }
        })
        .collect();
    let sections = [
        ("What it checks", m.checks),
        ("Why it matters", m.why),
        ("Example", m.example),
        ("How to fix", m.fix),
        ("Not checked", m.not_checked),
    ]
    .iter()
    .filter(|(_, body)| !body.trim().is_empty())
    .map(|(title, body)| (title.to_string(), block(body)))
    .collect();
    Rule {
        id: id.to_string(),
        title: m.title.to_string(),
        implemented: true,
        levels: inline(m.levels),
        basis: m.basis.to_string(),
        sources: m.sources.iter().map(|s| s.to_string()).collect(),
        status: status.to_string(),
        status_note,
        configured_level,
        packs,
        other_packs,
        needs: inline(m.needs),
        sections,
        params,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::catalogue::RULE_IDS;
    use crate::testing::{check_events, ev, page};

    #[test]
    fn methodology_documents_every_rule_with_its_anchor_and_params() {
        let case = check_events(
            &[ev(
                "s1",
                "2026-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit"}),
            )],
            "[report]\nas_of = \"2026-02-01T00:00:00Z\"\n[policy]\npacks = [\"baseline\", \"sr11-7\"]\n[policy.params.LOG-04]\nmax_gap = \"3 days\"\n",
        );
        let html = page(&case.site(), "methodology.html");
        assert_eq!(RULE_IDS.len(), 59);
        for id in RULE_IDS {
            assert!(
                html.contains(&format!("id=\"{id}\"")),
                "no section for {id}"
            );
            assert!(
                html.contains(&format!("href=\"#{id}\"")),
                "no index link to {id}"
            );
        }
        // The configured parameter and its default.
        assert!(html.contains("&quot;3 days&quot;"), "{html}");
        assert!(html.contains("&quot;1 h&quot;"));
        // Pack level changes and clauses of enabled packs.
        assert!(html.contains("SR 11-7 inventory"));
        assert!(html.contains("sets the level to deny"));
        // The as-of resolution and the tool version.
        assert!(html.contains("<code>[report] as_of</code>") || html.contains("[report]"));
        assert!(html.contains(env!("CARGO_PKG_VERSION")));
        assert!(html.contains("What the tool cannot see"));
        // Rule text is Markdown: code spans become <code>.
        assert!(html.contains("<code>deny</code>"));
    }
}

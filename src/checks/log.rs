//! LOG — event log integrity (baseline): LOG-01 … LOG-07. LOG-04 lives in `coverage`, LOG-08 in
//! `waivers`.
//!
//! LOG-02, LOG-03, LOG-05 and LOG-06 read every input line (the ingest report); LOG-01 and LOG-07
//! read the as-of view with corrections' originals included.

use super::classes::kind_glob;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::catalogue::{ParamKind, param};
use super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use crate::config::ChainMode;
use crate::event::{EntityType, Event, kind_spec};
use crate::ingest::chain::ChainProblem;
use crate::time;

pub static RULES: &[&dyn Rule] = &[
    &Log01,
    &Log02,
    &Log03,
    &super::coverage::Log04,
    &Log05,
    &Log06,
    &Log07,
];

pub struct Log01;

static LOG01: RuleMeta = RuleMeta {
    id: "LOG-01",
    title: "Envelope sanity",
    levels: "`warn`",
    basis: "T (tolerances D)",
    sources: &[
        "AI Act Art. 12(1), 12(2) [V]",
        "PCI DSS 10.2.2, 10.6 [S]",
        "HIPAA 45 CFR 164.312(b) [V]",
        "ISO/IEC 42001 A.6.2.8 [S]",
    ],
    needs: "Any event.",
    checks: "(a) an event whose `kind` is not a kind of trailbook event v1: it is kept and shown, but no other rule reads it — subject `source:NAME`, discriminator `a|KIND`, aggregated; (b) for kinds matching `lag_kinds`, `recorded_ts − ts` exceeds `max_record_lag` — subject `source:NAME`, discriminator `b|UTC day`, aggregated; (c) `ts − recorded_ts` exceeds `[policy] clock_skew` (written before it happened) — subject `source:NAME`, discriminator `c|UTC day`, aggregated; (d) a `model.registered` whose `subject.id` is not `attrs.model@attrs.version`, or a `dataset.registered` whose `subject.id` is not `attrs.name@attrs.version` (an optional `NAMESPACE/` prefix allowed) — subject `event:ID`.",
    why: "Art. 12 asks for logs that make the system's operation traceable. An event of an unknown kind is evidence no check reads; a record written long after the fact, or before it happened, is weaker evidence of when something occurred; an id that disagrees with the fields it is made of breaks every join on it.",
    example: "Fires: a `decision.made` with `ts` 10:00:00Z and `recorded_ts` 10:20:00Z. Passes: `recorded_ts` 10:00:02Z.",
    fix: "Fix the producer: emit events at the time they happen, map custom event types to schema kinds (or keep them in `attrs` of a known kind), and build ids from the fields they name. Correct single events with a `supersedes` event.",
    not_checked: "Clock synchronisation of the producing hosts.",
    params: &[
        param("max_record_lag", ParamKind::Duration, "\"5 min\""),
        param(
            "lag_kinds",
            ParamKind::Strs,
            r#"["decision.*", "oversight.action", "access", "admin.change", "logging.state", "monitoring.*"]"#,
        ),
    ],
};

impl Rule for Log01 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if model.in_view == 0 {
            return Outcome::not_evaluable("no events at or before the as-of time");
        }
        let max_lag = cx.duration("max_record_lag");
        let lag_kinds = cx.strs("lag_kinds");
        let skew = cx.config.policy.clock_skew;
        // (source, discriminator) → (message, evidence, latest ts)
        let mut groups: BTreeMap<(u32, String), (String, Vec<Evidence>, jiff::Timestamp)> =
            BTreeMap::new();
        let mut out = Vec::new();
        for (_, e) in model.view_all() {
            let mut add = |disc: String, what: String, note: String| {
                let g = groups
                    .entry((e.origin.source, disc))
                    .or_insert_with(|| (what, Vec::new(), e.ts));
                g.1.push(cx.ev(e, Some(note)));
                g.2 = g.2.max(e.ts);
            };
            let Some(spec) = kind_spec(&e.kind) else {
                add(
                    format!("a|{}", e.kind),
                    format!(
                        "kind `{}` is not a kind of trailbook event v1; no rule reads these events",
                        e.kind
                    ),
                    format!("kind `{}`", e.kind),
                );
                continue;
            };
            if let Some(rec) = e.recorded_ts() {
                if lag_kinds.iter().any(|g| kind_glob(g, spec.name)) && max_lag.after(e.ts) < rec {
                    add(
                        format!("b|{}", time::utc_day(e.ts)),
                        format!("events recorded more than {max_lag} after they happened"),
                        format!("recorded {} after", time::fmt_span(e.ts, rec)),
                    );
                }
                if skew.after(rec) < e.ts {
                    add(
                        format!("c|{}", time::utc_day(e.ts)),
                        format!(
                            "events recorded before they happened (more than {skew} clock skew)"
                        ),
                        format!("recorded {} before", time::fmt_span(rec, e.ts)),
                    );
                }
            }
            if let Some(msg) = identity_mismatch(e) {
                out.push(
                    Draft::new(format!("event:{}", e.id), "d", "d", Level::Warn, msg)
                        .evidence([cx.ev(e, None)])
                        .at(e.ts)
                        .system(e.system.as_deref()),
                );
            }
        }
        for ((source, disc), (what, evidence, latest)) in groups {
            let n = evidence.len() as u64;
            let name = &cx.ingest.sources[source as usize].name;
            let check = if disc.starts_with('a') {
                "a"
            } else if disc.starts_with('b') {
                "b"
            } else {
                "c"
            };
            out.push(
                Draft::new(
                    format!("source:{name}"),
                    disc,
                    check,
                    Level::Warn,
                    format!("{n} event{}: {what}", crate::report::plural(n as usize)),
                )
                .evidence(evidence)
                .count(n)
                .at(latest),
            );
        }
        Outcome::evaluated(out)
    }
}

/// LOG-01 (d): a registration id that disagrees with the fields it is made of.
fn identity_mismatch(e: &Event) -> Option<String> {
    let subject = e.subject.as_ref()?;
    // Only two kinds are read: parse `attrs` for those alone (a million decisions pass here).
    if !matches!(e.kind.as_str(), "model.registered" | "dataset.registered") {
        return None;
    }
    let a = e.attrs();
    let s = |k: &str| a.get(k).and_then(|v| v.as_str()).unwrap_or("");
    match (e.kind.as_str(), subject.kind) {
        ("model.registered", EntityType::ModelVersion) => {
            let want = format!("{}@{}", s("model"), s("version"));
            (subject.id != want).then(|| {
                format!(
                    "`model.registered` has subject id `{}`, but model@version is `{want}`",
                    subject.id
                )
            })
        }
        ("dataset.registered", EntityType::Dataset) => {
            let want = format!("{}@{}", s("name"), s("version"));
            let ok = subject.id == want
                || subject
                    .id
                    .strip_suffix(&want)
                    .is_some_and(|ns| ns.ends_with('/') && ns.len() > 1);
            (!ok).then(|| {
                format!(
                    "`dataset.registered` has subject id `{}`, but name@version is `{want}`",
                    subject.id
                )
            })
        }
        _ => None,
    }
}

pub struct Log02;

static LOG02: RuleMeta = RuleMeta {
    id: "LOG-02",
    title: "Hash-chain continuity",
    levels: "`deny`; (e) `info`",
    basis: "D",
    sources: &["PCI DSS 10.3.2–10.3.4 [V]", "SEC 17a-4(f)(2)(i)(A)/(B) [V]"],
    needs: "A `[[source]]` with `chain = \"required\"` or `\"optional\"`. Reads raw lines, quarantined ones included.",
    checks: "For each source (subject `source:NAME`), over its lines in stream order (its files ordered by their first `seq`): (a) chain break: `prev` of line k is not the lowercase hex SHA-256 of the exact bytes of line k−1 without its LF (line 1: the source's `anchor`, default 64 zeros); (b) seq gap: `seq(k) > seq(k−1) + 1`, or line 1 ≠ `first_seq`; (c) seq repeat: `seq(k) ≤ seq(k−1)`; for (a)–(c) the discriminator is the check letter and line k (`a|42`; `a|FILE:42` when the source has several files), the evidence is line k at the column of its `prev`, and the message gives the expected and found values; (d) in a `required` source, lines whose `seq` or `prev` cannot be read — one finding, discriminator = the first such line, aggregated; (e) an unchained source: `chain = \"none\"`, or `\"optional\"` with no chained line (`info`). Verification re-anchors on the line found and carries on, so every break is reported. Lines k−1 and k of every (a)–(c) failure are unverified: any finding whose evidence includes them carries `integrity = \"unverified\"`.",
    why: "A hash chain makes an edit, a deletion or an insertion in a log visible to anyone who recomputes it (`sed -n 3p app.jsonl | tr -d '\\n' | sha256sum`). PCI DSS and SEC 17a-4 require audit trails that cannot be altered unnoticed; without the chain, a log is only as good as the trust in whoever held it.",
    example: "Fires: one byte of line 41 of `serving.jsonl` edited — chain break at line 42. Passes: the original bytes restored, and the correction written as a new event with `supersedes`.",
    fix: "Never edit a chained log: restore the original from a copy and record corrections as new events with `supersedes`. If lines were removed by a retention disposal, record it with `retention.disposed` and set `first_seq`/`anchor` for the remaining part. Chain every source (`chain = \"required\"`).",
    not_checked: "External anchoring of chain heads (a rewritten log with a recomputed chain verifies; LOG-03 compares against the previous published version). Tail truncation between builds is LOG-03.",
    params: &[],
};

impl Rule for Log02 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let ingest = cx.ingest;
        let mut out = Vec::new();
        let mut any_chained_source = false;
        let event_ids = events_at_issues(cx);
        for (s, source) in ingest.sources.iter().enumerate() {
            let subject = format!("source:{}", source.name);
            let several = source.files.len() > 1;
            let place = |file: u32, line: u64| {
                if several {
                    format!("{}:{line}", ingest.files[file as usize].path)
                } else {
                    line.to_string()
                }
            };
            let unchained = match source.chain_mode {
                ChainMode::None => true,
                ChainMode::Optional => source.chain.chained_lines == 0,
                ChainMode::Required => false,
            };
            if unchained {
                let why = if source.chain_mode == ChainMode::None {
                    "`chain = \"none\"`"
                } else {
                    "no line carries `seq` and `prev`"
                };
                out.push(Draft::new(
                    subject.clone(),
                    "e",
                    "e",
                    Level::Info,
                    format!(
                        "source `{}` is not hash-chained ({why}): edits to it cannot be detected",
                        source.name
                    ),
                ));
                continue;
            }
            any_chained_source = true;
            let mut unreadable: Vec<Evidence> = Vec::new();
            for issue in &source.chain.issues {
                let origin = crate::event::Origin {
                    source: s as u32,
                    file: issue.file,
                    line: issue.line,
                    offset: issue.offset,
                    len: issue.len,
                };
                let mut evidence = cx.at(&origin, Some(issue.column), None);
                evidence.event = event_ids
                    .get(&(issue.file, issue.line))
                    .map(|id| id.to_string());
                let (what, note) = match issue.problem {
                    ChainProblem::Break => (
                        "chain break: `prev` is not the SHA-256 of the previous line (that line, or this field, was altered)",
                        format!("expected prev {}, found {}", issue.expected, issue.found),
                    ),
                    ChainProblem::Gap => (
                        "seq gap: lines are missing before this one",
                        format!("expected {}, found {}", issue.expected, issue.found),
                    ),
                    ChainProblem::Repeat => (
                        "seq repeat: lines were inserted or replayed",
                        format!("expected {}, found {}", issue.expected, issue.found),
                    ),
                    ChainProblem::Unchained => {
                        evidence.note = Some(format!("{}: {}", issue.expected, issue.found));
                        unreadable.push(evidence);
                        continue;
                    }
                };
                evidence.note = Some(note.clone());
                let letter = issue.problem.letter();
                let path = &ingest.files[issue.file as usize].path;
                out.push(
                    Draft::new(
                        subject.clone(),
                        format!("{letter}|{}", place(issue.file, issue.line)),
                        letter,
                        Level::Deny,
                        format!("{what}, at {path}:{}; {note}", issue.line),
                    )
                    .evidence([evidence]),
                );
            }
            if let Some(first) = unreadable.first() {
                let n = unreadable.len() as u64;
                let disc = format!("d|{}", place(first.origin.file, first.line));
                out.push(
                    Draft::new(
                        subject.clone(),
                        disc,
                        "d",
                        Level::Deny,
                        format!("{n} line{} of required-chain source `{}` carry no readable `seq` and `prev`", crate::report::plural(n as usize), source.name),
                    )
                    .evidence(unreadable)
                    .count(n),
                );
            }
        }
        if any_chained_source {
            Outcome::evaluated(out)
        } else {
            Outcome {
                status: super::Status::NotEvaluable(
                    "no source has `chain = \"required\"` or `\"optional\"` with chained lines"
                        .into(),
                ),
                findings: out,
            }
        }
    }
}

/// The event read from each line that a chain problem names, by `(file, line)`: one pass over the
/// events, only when there are problems to locate.
fn events_at_issues<'m>(cx: &Cx<'m>) -> HashMap<(u32, u64), &'m str> {
    let wanted: HashSet<(u32, u64)> = cx
        .ingest
        .sources
        .iter()
        .flat_map(|s| s.chain.issues.iter().map(|i| (i.file, i.line)))
        .collect();
    if wanted.is_empty() {
        return HashMap::new();
    }
    cx.model
        .events
        .iter()
        .filter(|e| wanted.contains(&(e.origin.file, e.origin.line)))
        .map(|e| ((e.origin.file, e.origin.line), e.id.as_str()))
        .collect()
}

pub struct Log03;

static LOG03: RuleMeta = RuleMeta {
    id: "LOG-03",
    title: "Append-only across versions",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "SEC 17a-4(f)(2)(i)(A)(1)–(4) [V]",
        "PCAOB AS 1215.16 [V]",
        "PCI DSS 10.3.4 [V]",
    ],
    needs: "The previous site version's `inputs.lock`; for the first version, and for `trailbook check` (which publishes nothing), the rule is not evaluable.",
    checks: "Per source (subject `source:NAME`, discriminator = the file path): (a) head rewritten: the line at the previously recorded last `seq` no longer hashes to the recorded head; (b) truncated or rewritten: fewer lines than recorded, or the RFC 6962 root of the first N lines (N = the recorded count) differs; (c) a file of the previous lock is gone and no `retention.disposed` covers its recorded first and last event times.",
    why: "A hash chain cannot see lines dropped from its end. Comparing each build's inputs with what the previous published version recorded — as Certificate Transparency clients do — shows a truncated or rewritten log, which SEC 17a-4 and PCAOB AS 1215 forbid.",
    example: "Fires: the last 200 lines of `serving.jsonl` removed between v3 and v4. Passes: the lines restored, or the rotated file removed under a disposal whose range covers it.",
    fix: "Restore the removed or rewritten lines from a copy. A file removed by policy needs a `retention.disposed` event covering its time range.",
    not_checked: "Anything before the first published version.",
    params: &[],
};

impl Rule for Log03 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        use crate::seal::lock::{self, Problem};
        let Some(previous) = &cx.ingest.previous_lock else {
            return Outcome::not_evaluable(
                "no previous site version to compare with: the first version of a site, and `trailbook check` (which publishes nothing), have no earlier `inputs.lock`",
            );
        };
        let disposals: Vec<(jiff::Timestamp, jiff::Timestamp)> = cx
            .model
            .of_kind("retention.disposed")
            .filter_map(|(_, e)| {
                let a = e.attrs();
                let t = |k: &str| {
                    a.get(k)
                        .and_then(serde_json::Value::as_str)
                        .and_then(|s| time::parse_rfc3339(s).ok())
                };
                Some((t("range_start")?, t("range_end")?))
            })
            .collect();
        let mut out = Vec::new();
        for b in lock::compare(previous, cx.ingest) {
            let subject = format!("source:{}", b.source);
            let path = &b.file.path;
            let (check, message) = match &b.problem {
                Problem::HeadRewritten {
                    line,
                    expected,
                    found,
                } => (
                    "a",
                    format!(
                        "head rewritten: line {line} of `{path}`, the last one the previous version read, no longer hashes to the recorded head (expected {expected}, found {found})"
                    ),
                ),
                Problem::Truncated {
                    recorded,
                    now,
                    unit,
                } => (
                    "b",
                    format!(
                        "truncated: `{path}` had {recorded} {unit} when the previous version was built and has {now} now"
                    ),
                ),
                Problem::Rewritten { recorded, now } => (
                    "b",
                    format!(
                        "rewritten: the first {} records of `{path}` are not the ones the previous version read (recorded root {recorded}, now {now})",
                        b.file.records
                    ),
                ),
                Problem::Gone => {
                    let range = b
                        .file
                        .first_ts
                        .as_deref()
                        .and_then(|s| time::parse_rfc3339(s).ok())
                        .zip(
                            b.file
                                .last_ts
                                .as_deref()
                                .and_then(|s| time::parse_rfc3339(s).ok()),
                        );
                    let covered = range.is_some_and(|(first, last)| {
                        disposals
                            .iter()
                            .any(|(start, end)| *start <= first && last <= *end)
                    });
                    if covered {
                        continue;
                    }
                    (
                        "c",
                        format!(
                            "file gone: `{path}` ({} records, {} to {}) was read by the previous version, is missing now, and no `retention.disposed` covers its time range",
                            b.file.records,
                            b.file.first_ts.as_deref().unwrap_or("no event time"),
                            b.file.last_ts.as_deref().unwrap_or("no event time"),
                        ),
                    )
                }
            };
            out.push(Draft::new(
                subject,
                path.clone(),
                check,
                Level::Deny,
                message,
            ));
        }
        Outcome::evaluated(out)
    }
}

pub struct Log05;

static LOG05: RuleMeta = RuleMeta {
    id: "LOG-05",
    title: "Duplicate event id",
    levels: "`deny`; (b) `info`",
    basis: "D",
    sources: &["AI Act Art. 12(2) [V]", "SEC 17a-4(f)(2)(i)(A) [V]"],
    needs: "Any event.",
    checks: "Subject `event:ID`, evidence = every occurrence: (a) the same `id` on two or more lines whose content differs (canonical JSON of the object without `seq` and `prev`); (b) the same `id` with identical content (overlapping exports), collapsed into one event (`info`). The first occurrence (sources in config order, then line) is the event.",
    why: "Every page and finding points at events by id. Two different records under one id make the trail ambiguous: which decision, which approval, was the real one?",
    example: "Fires: `dec-0001` in `serving-a.jsonl` with `output: \"approve\"` and in `serving-b.jsonl` with `output: \"decline\"`. Passes: the second gets its own id (with `supersedes` if it corrects the first).",
    fix: "Give every event a unique id at the producer (a UUID or source-prefixed counter). Record corrections as new events with `supersedes` instead of rewriting a record under the same id.",
    not_checked: "",
    params: &[],
};

impl Rule for Log05 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG05
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        if cx.model.events.is_empty() {
            return Outcome::not_evaluable("no events");
        }
        // id → (first, [(other, identical)])
        type Occurrences = (crate::event::Origin, Vec<(crate::event::Origin, bool)>);
        let mut groups: BTreeMap<&str, Occurrences> = BTreeMap::new();
        for d in &cx.model.duplicates {
            groups
                .entry(&d.id)
                .or_insert((d.first, Vec::new()))
                .1
                .push((d.other, d.identical));
        }
        let mut out = Vec::new();
        for (id, (first, others)) in groups {
            for (check, identical) in [("a", false), ("b", true)] {
                let these: Vec<_> = others
                    .iter()
                    .filter(|(_, same)| *same == identical)
                    .collect();
                if these.is_empty() {
                    continue;
                }
                let mut evidence = vec![cx.at(&first, None, Some("the event".into()))];
                for (o, _) in &these {
                    evidence.push(cx.at(
                        o,
                        None,
                        Some(if identical {
                            "same content".into()
                        } else {
                            "different content".into()
                        }),
                    ));
                }
                for e in &mut evidence {
                    e.event = Some(id.to_string());
                }
                let n = these.len();
                let (level, message) = if identical {
                    (
                        Level::Info,
                        format!(
                            "id `{id}` appears on {} more line{} with the same content (overlapping exports); counted once",
                            n,
                            crate::report::plural(n)
                        ),
                    )
                } else {
                    (
                        Level::Deny,
                        format!(
                            "id `{id}` is used by {} more line{} with different content; the first occurrence is taken as the event",
                            n,
                            crate::report::plural(n)
                        ),
                    )
                };
                out.push(
                    Draft::new(format!("event:{id}"), check, check, level, message)
                        .evidence(evidence),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

pub struct Log06;

static LOG06: RuleMeta = RuleMeta {
    id: "LOG-06",
    title: "Quarantined lines",
    levels: "`deny` (`info` when the count is within `allow`)",
    basis: "D",
    sources: &["AI Act Art. 12(1) [V]", "PCI DSS 10.3.4 [V]"],
    needs: "Any source.",
    checks: "A line is quarantined — not an event, still part of the LOG-02 chain — when it is not UTF-8; is not one JSON object; has an unknown top-level key or a duplicate key; lacks or mistypes `id`, `ts`, `kind` or `actor`; has a `ts` or `recorded_ts` that is not RFC 3339; lacks `subject` or has the wrong `subject.type` for its kind; or lacks a required (`*`) attribute of its kind. One finding per source with quarantined lines — subject `source:NAME`, empty discriminator; the message counts them per reason; the evidence is every location (path, line, column) with its reason.",
    why: "A record that cannot be read is a record the evidence silently lacks. Counting and locating every one keeps `lines read = events + quarantined` true, so nothing is dropped without a trace.",
    example: "Fires: line 17 has `\"ts\": \"yesterday\"`. Passes: the export fixed and the line restored.",
    fix: "Fix the producer or the export so that every line is a valid event (`trailbook check --format text` shows each line with the column at fault). Lines cannot be edited in a chained log: re-export, or record the correct event anew.",
    not_checked: "",
    params: &[param("allow", ParamKind::Int, "0")],
};

impl Rule for Log06 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG06
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        if cx.ingest.sources.is_empty() {
            return Outcome::not_evaluable("no sources");
        }
        let allow = u64::try_from(cx.int("allow")).unwrap_or(0);
        let mut by_source: BTreeMap<u32, Vec<&crate::ingest::Quarantined>> = BTreeMap::new();
        for q in &cx.ingest.quarantine {
            by_source.entry(q.origin.source).or_default().push(q);
        }
        let mut out = Vec::new();
        for (s, lines) in by_source {
            let name = &cx.ingest.sources[s as usize].name;
            let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
            for q in &lines {
                *reasons.entry(reason_class(&q.reason)).or_default() += 1;
            }
            let n = lines.len() as u64;
            let summary: Vec<String> = reasons.iter().map(|(r, c)| format!("{c} × {r}")).collect();
            let level = if n <= allow { Level::Info } else { Level::Deny };
            out.push(
                Draft::new(
                    format!("source:{name}"),
                    "",
                    "",
                    level,
                    format!(
                        "{n} line{} of source `{name}` quarantined: {}",
                        crate::report::plural(n as usize),
                        summary.join("; ")
                    ),
                )
                .evidence(
                    lines
                        .iter()
                        .map(|q| cx.at(&q.origin, Some(q.column), Some(q.reason.clone()))),
                )
                .count(n),
            );
        }
        Outcome::evaluated(out)
    }
}

/// The reason without its specifics (`bad \`ts\`: …` → `bad \`ts\``), for counting.
fn reason_class(reason: &str) -> String {
    reason.split(": ").next().unwrap_or(reason).to_string()
}

pub struct Log07;

static LOG07: RuleMeta = RuleMeta {
    id: "LOG-07",
    title: "Corrections",
    levels: "`warn`; (b), (d) `deny`",
    basis: "T",
    sources: &["SEC 17a-4(f)(2)(i)(A)(1)–(4) [V]", "PCAOB AS 1215.16 [V]"],
    needs: "Events with `supersedes`.",
    checks: "A valid correction names an existing event of the same kind and carries a `reason`; who and when are its `actor` and `recorded_ts` (else `ts`). It may change the subject. Chains resolve to the last correction. Fires (subject `event:ID` of the correcting event, discriminator = the check letter): (a) `reason` missing (the correction still applies); (b) target id not found — unknown, quarantined or after the as-of time — not applied (`deny`); (c) target of another kind — not applied; (d) self-reference or a cycle — not applied (`deny`); (e) two valid corrections of one original — the later applies.",
    why: "Records must be corrected without erasing what they said: SEC 17a-4 and PCAOB AS 1215 require that the original stays visible with who changed it, when and why. A correction without a reason, or one that points nowhere, breaks that audit trail.",
    example: "Fires: `reg-0002b` with `supersedes: \"reg-0002\"` and no `reason`. Passes: add `reason: \"artifact digest mistyped\"`.",
    fix: "Write corrections as new events of the same kind with `supersedes` naming the original's id and a `reason`; correct a correction by superseding it, never the original twice.",
    not_checked: "Whether the person correcting was entitled to.",
    params: &[],
};

impl Rule for Log07 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG07
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if !model.view_all().any(|(_, e)| e.supersedes().is_some()) {
            return Outcome::not_evaluable("no event with `supersedes`");
        }
        let out = model
            .corrections
            .iter()
            .map(|c| {
                let e = model.event(c.event);
                let level = if matches!(c.check, "b" | "d") {
                    Level::Deny
                } else {
                    Level::Warn
                };
                let mut evidence = vec![cx.ev(e, Some("the correction".into()))];
                if let Some(o) = c.other {
                    evidence.push(cx.evi(o, Some("the corrected event".into())));
                }
                Draft::new(
                    format!("event:{}", e.id),
                    c.check,
                    c.check,
                    level,
                    c.message.clone(),
                )
                .evidence(evidence)
                .at(e.ts)
                .system(e.system.as_deref())
            })
            .collect();
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::k;
    use serde_json::json;

    use crate::testing::{chain, check, check_events, ev, with};

    fn access(id: &str, ts: &str) -> serde_json::Value {
        ev(
            id,
            ts,
            "access",
            "resource:r",
            json!({"action": "read", "result": "success"}),
        )
    }

    #[test]
    fn log01_unknown_kinds_lag_skew_and_identity() {
        let late = with(
            access("e2", "2026-03-01T10:00:00Z"),
            "recorded_ts",
            json!("2026-03-01T10:20:00Z"),
        );
        let early = with(
            access("e3", "2026-03-02T10:00:00Z"),
            "recorded_ts",
            json!("2026-03-02T09:00:00Z"),
        );
        let ok = with(
            access("e4", "2026-03-02T11:00:00Z"),
            "recorded_ts",
            json!("2026-03-02T11:00:02Z"),
        );
        let custom = ev(
            "e5",
            "2026-03-02T12:00:00Z",
            "custom.thing",
            "resource:r",
            json!({}),
        );
        let model = ev(
            "e6",
            "2026-03-02T13:00:00Z",
            "model.registered",
            "model_version:m@2",
            json!({"model": "m", "version": "1"}),
        );
        let ds = ev(
            "e7",
            "2026-03-02T13:00:00Z",
            "dataset.registered",
            "dataset:ns/loans@1",
            json!({"name": "loans", "version": "1"}),
        );
        let case = check_events(
            &[
                access("e1", "2026-03-01T09:00:00Z"),
                late,
                early,
                ok,
                custom,
                model,
                ds,
            ],
            "",
        );
        assert_eq!(
            case.keys("LOG-01"),
            [
                k("event:e6", "d", "warn"),
                k("source:main", "a|custom.thing", "warn"),
                k("source:main", "b|2026-03-01", "warn"),
                k("source:main", "c|2026-03-02", "warn"),
            ]
        );
        let lag = case
            .of("LOG-01")
            .into_iter()
            .find(|f| f.discriminator.starts_with('b'))
            .unwrap();
        assert_eq!(
            (lag.evidence[0].path.as_str(), lag.evidence[0].line),
            ("main.jsonl", 2)
        );
        assert_eq!(lag.count, Some(1));
    }

    #[test]
    fn log02_reports_break_gap_and_repeat_with_locations() {
        let events: Vec<_> = (1..=6)
            .map(|i| access(&format!("e{i}"), &format!("2026-03-01T0{i}:00:00Z")))
            .collect();
        let text = chain(&events);
        let clean = check(&[("main", text.clone())], "");
        assert!(clean.of("LOG-02").is_empty());
        // One byte of line 2 edited: the break shows at line 3. Line 5 removed: a gap at old line 6.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[1] = lines[1].replace("\"read\"", "\"reaD\"");
        lines.remove(4);
        let case = check(&[("main", lines.join("\n") + "\n")], "");
        assert_eq!(
            case.keys("LOG-02"),
            [
                k("source:main", "a|3", "deny"),
                k("source:main", "a|5", "deny"),
                k("source:main", "b|5", "deny")
            ]
        );
        let brk = &case.of("LOG-02")[0];
        assert_eq!(
            (
                brk.evidence[0].path.as_str(),
                brk.evidence[0].line,
                brk.evidence[0].column
            ),
            ("main.jsonl", 3, Some(17))
        );
        assert!(brk.message.contains("expected prev"), "{}", brk.message);
        assert_eq!(brk.integrity, Some("unverified"));
        // A replayed line is a repeat.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.insert(3, lines[2].clone());
        let case = check(&[("main", lines.join("\n") + "\n")], "");
        assert!(
            case.keys("LOG-02")
                .contains(&k("source:main", "c|4", "deny")),
            "{:?}",
            case.keys("LOG-02")
        );
    }

    #[test]
    fn log02_unchained_lines_and_sources() {
        let mut text = chain(&[access("e1", "2026-03-01T01:00:00Z")]);
        text.push_str(&serde_json::to_string(&access("e2", "2026-03-01T02:00:00Z")).unwrap());
        text.push('\n');
        let case = check(&[("main", text.clone())], "");
        assert_eq!(case.keys("LOG-02"), [k("source:main", "d|2", "deny")]);
        let dir_case = check(&[("main", text)], "");
        assert_eq!(dir_case.of("LOG-02")[0].count, Some(1));
        // chain = "none" is reported as info (e), and the rule cannot judge anything else.
        let plain = serde_json::to_string(&access("e1", "2026-03-01T01:00:00Z")).unwrap() + "\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.jsonl"), plain).unwrap();
        std::fs::write(
            dir.path().join("trailbook.toml"),
            "[[source]]\nname = \"a\"\nformat = \"trailbook-jsonl\"\npaths = [\"a.jsonl\"]\nchain = \"none\"\n",
        )
        .unwrap();
        let loaded = crate::cli::load(&dir.path().join("trailbook.toml"), None).unwrap();
        let f = crate::checks::run(&loaded.model, &loaded.graph, &loaded.config, &loaded.ingest);
        let log02: Vec<_> = f
            .findings
            .iter()
            .filter(|f| f.rule == "LOG-02")
            .map(|f| (f.discriminator.as_str(), f.level.as_str()))
            .collect();
        assert_eq!(log02, [("e", "info")]);
    }

    #[test]
    fn log05_duplicates_differ_or_match() {
        let a = access("dup", "2026-03-01T01:00:00Z");
        let b = with(
            access("dup", "2026-03-01T01:00:00Z"),
            "attrs",
            json!({"action": "export"}),
        );
        let case = check(
            &[
                (
                    "one",
                    chain(&[a.clone(), access("x", "2026-03-01T02:00:00Z")]),
                ),
                ("two", chain(&[a, b])),
            ],
            "",
        );
        assert_eq!(
            case.keys("LOG-05"),
            [k("event:dup", "a", "deny"), k("event:dup", "b", "info")]
        );
        let f = case
            .of("LOG-05")
            .into_iter()
            .find(|f| f.discriminator == "a")
            .unwrap();
        let places: Vec<_> = f
            .evidence
            .iter()
            .map(|e| (e.path.as_str(), e.line))
            .collect();
        assert_eq!(places, [("one.jsonl", 1), ("two.jsonl", 2)]);
        assert_eq!(
            case.loaded.model.events.len(),
            2,
            "the duplicate is not an event"
        );
    }

    #[test]
    fn log06_counts_and_locates_every_quarantined_line() {
        let good = access("e1", "2026-03-01T01:00:00Z");
        let bad_ts = with(
            access("e2", "2026-03-01T02:00:00Z"),
            "ts",
            json!("yesterday"),
        );
        let no_actor = {
            let mut e = access("e3", "2026-03-01T03:00:00Z");
            e.as_object_mut().unwrap().remove("actor");
            e
        };
        let mut text = chain(&[good, bad_ts, no_actor]);
        text.push_str("{\"seq\":4,\"truncated\n\u{1}\n");
        let case = check(&[("main", text)], "");
        assert_eq!(case.keys("LOG-06"), [k("source:main", "", "deny")]);
        let f = &case.of("LOG-06")[0];
        assert_eq!(f.count, Some(4));
        let lines: Vec<_> = f.evidence.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5]);
        assert!(f.message.contains("1 × bad `ts`"), "{}", f.message);
        assert_eq!(case.loaded.ingest.lines(), 5);
        assert_eq!(
            case.loaded.ingest.events.len() + case.loaded.model.events.len(),
            1
        );
        let allowed = check(
            &[(
                "main",
                chain(&[with(
                    access("e2", "2026-03-01T02:00:00Z"),
                    "ts",
                    json!("soon"),
                )]),
            )],
            "[policy.params.LOG-06]\nallow = 1\n",
        );
        assert_eq!(allowed.keys("LOG-06"), [k("source:main", "", "info")]);
    }

    #[test]
    fn log07_corrections() {
        let orig = ev(
            "reg-1",
            "2026-03-01T01:00:00Z",
            "model.registered",
            "model_version:m@1",
            json!({"model": "m", "version": "1"}),
        );
        let fix_no_reason = with(
            ev(
                "reg-1b",
                "2026-03-02T01:00:00Z",
                "model.registered",
                "model_version:m@1",
                json!({"model": "m", "version": "1", "owner": "o"}),
            ),
            "supersedes",
            json!("reg-1"),
        );
        let dangling = with(
            access("acc-2", "2026-03-02T02:00:00Z"),
            "supersedes",
            json!("nope"),
        );
        let other_kind = with(
            with(
                access("acc-3", "2026-03-02T03:00:00Z"),
                "supersedes",
                json!("reg-1"),
            ),
            "reason",
            json!("x"),
        );
        let selfref = with(
            with(
                access("acc-4", "2026-03-02T04:00:00Z"),
                "supersedes",
                json!("acc-4"),
            ),
            "reason",
            json!("x"),
        );
        let case = check_events(&[orig, fix_no_reason, dangling, other_kind, selfref], "");
        assert_eq!(
            case.keys("LOG-07"),
            [
                k("event:acc-2", "b", "deny"),
                k("event:acc-3", "c", "warn"),
                k("event:acc-4", "d", "deny"),
                k("event:reg-1b", "a", "warn"),
            ]
        );
        // The correction applies: the model's state of m@1 is the correcting event.
        let node = crate::event::NodeId::parse("model_version:m@1").unwrap();
        assert_eq!(case.loaded.model.state(&node).unwrap().id, "reg-1b");
        let clean = check_events(&[access("a", "2026-03-01T01:00:00Z")], "");
        assert!(matches!(
            clean.status("LOG-07"),
            Some(crate::checks::Status::NotEvaluable(_))
        ));
    }

    #[test]
    fn log08_waivers_waive_expire_and_are_judged() {
        // A duplicate id gives a LOG-05 (a) deny finding to waive.
        let a = access("dup", "2026-03-01T01:00:00Z");
        let b = with(
            access("dup", "2026-03-01T01:00:00Z"),
            "attrs",
            json!({"action": "export"}),
        );
        let waiver = |id: &str, expires: &str, approver: &str| {
            let mut w = ev(
                id,
                "2026-03-01T00:00:00Z",
                "waiver.granted",
                "resource:waivers",
                json!({"rule": "LOG-05", "target": "event:dup", "reason": "known overlap", "approved_by": approver, "expires": expires}),
            );
            w["actor"] = json!({"id": "ops", "type": "human"});
            w
        };
        let active = check_events(
            &[
                a.clone(),
                b.clone(),
                waiver("w1", "2026-12-31T00:00:00Z", "risk-head"),
            ],
            "",
        );
        let f = active
            .of("LOG-05")
            .into_iter()
            .find(|f| f.discriminator == "a")
            .unwrap();
        assert_eq!(f.level, "waived");
        assert_eq!(f.waiver.as_ref().unwrap().level, crate::checks::Level::Deny);
        assert!(!active.findings.failed());
        assert!(
            active.keys("LOG-08").is_empty(),
            "{:?}",
            active.keys("LOG-08")
        );

        let expired = check_events(
            &[a, b, waiver("w2", "2026-03-01T00:30:00Z", "ops")],
            "[policy.params.LOG-08]\nmax_duration = \"1 min\"\n",
        );
        assert_eq!(
            expired
                .of("LOG-05")
                .into_iter()
                .find(|f| f.discriminator == "a")
                .unwrap()
                .level,
            "deny"
        );
        assert_eq!(
            expired.keys("LOG-08"),
            [
                k("waiver:w2", "a", "warn"),
                k("waiver:w2", "c", "warn"),
                k("waiver:w2", "d", "warn")
            ]
        );
        let lapsed = &expired.of("LOG-08")[0];
        assert!(
            lapsed
                .message
                .contains(&crate::checks::finding_id("LOG-05", "event:dup", "a")),
            "{}",
            lapsed.message
        );

        let config_waiver = check_events(
            &[access("x", "2026-03-01T01:00:00Z")],
            "[[policy.waiver]]\nid = \"W-1\"\nrule = \"LOG-05\"\nreason = \"r\"\napproved_by = \"b\"\nexpires = \"2027-01-01\"\n",
        );
        assert_eq!(config_waiver.keys("LOG-08"), [k("waiver:W-1", "e", "info")]);
    }
}

//! `check --format sarif`: SARIF 2.1.0, for code-scanning dashboards and CI annotations.
//!
//! One run. `tool.driver.rules` holds every rule that ran, in catalogue order, with its
//! documentation; `results` holds one result per finding, in report order (`RULES.md` §6.2), with
//! the first `evidence_limit` evidence lines as locations relative to the config folder
//! (`uriBaseId` `SRCROOT`) and the finding id as partial fingerprint, so dashboards follow a
//! finding across runs. Waived findings are results at level `note` with an external suppression.
//! Rules that could not be evaluated, are not implemented or are turned off are tool notifications
//! of the invocation.
//!
//! Input lines are never copied into the output (no `snippet`): SARIF files are uploaded to
//! dashboards, and audit logs may hold personal data. Columns are converted from the report's
//! byte columns to UTF-16 code units, SARIF's default `columnKind`, by re-reading the line; when
//! it cannot be re-read the byte column is kept (the same for ASCII lines). Objects are written
//! with sorted keys, so the output is deterministic.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::Report;
use crate::checks::{Evidence, Finding, RuleRun, Status, catalogue};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(report: &Report<'_>) -> String {
    let mut s = serde_json::to_string_pretty(&document(report)).expect("a JSON value serializes");
    s.push('\n');
    s
}

/// The SARIF log as a JSON value.
pub fn document(report: &Report<'_>) -> Value {
    let f = report.findings;
    let ids = rule_ids(report);
    let rules: Vec<Value> = ids.iter().map(|id| descriptor(report, id)).collect();
    let results: Vec<Value> = f.findings.iter().map(|x| result(report, &ids, x)).collect();

    let mut driver = json!({
        "name": "trailbook",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    // The crate's repository or homepage, once Cargo.toml names one.
    let uri = [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|u| !u.is_empty());
    if let Some(uri) = uri {
        driver["informationUri"] = json!(uri);
    }

    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation(report, &ids)],
            "columnKind": "utf16CodeUnits",
            "results": results,
            "properties": {
                "asOf": crate::time::fmt(report.model.as_of),
                "asOfSource": report.model.as_of_source,
                "packs": report.packs,
            },
        }],
    })
}

/// The rules that ran, plus any rule a finding names (there should be none), in catalogue order.
fn rule_ids(report: &Report<'_>) -> Vec<String> {
    let f = report.findings;
    let mut ids: Vec<String> = f.rules.iter().map(|r| r.rule.to_string()).collect();
    for x in &f.findings {
        if !ids.contains(&x.rule) {
            ids.push(x.rule.clone());
        }
    }
    let position = |id: &String| {
        catalogue::RULE_IDS
            .iter()
            .position(|r| r == id)
            .unwrap_or(usize::MAX)
    };
    // Ties (rules outside the catalogue) break on the id, so the order is total.
    ids.sort_by(|a, b| (position(a), a).cmp(&(position(b), b)));
    ids
}

/// SARIF's level for a trailbook level.
pub fn level(level: &str) -> &'static str {
    match level {
        "deny" => "error",
        "warn" => "warning",
        _ => "note",
    }
}

/// The default level of a rule's checks: the first level its status line names.
fn default_level(levels: &str) -> &'static str {
    ["deny", "warn", "info"]
        .into_iter()
        .filter_map(|l| levels.find(l).map(|i| (i, l)))
        .min()
        .map_or("warning", |(_, l)| level(l))
}

/// `Hash-chain continuity` → `HashChainContinuity`.
fn pascal(title: &str) -> String {
    let mut out = String::new();
    for word in title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn descriptor(report: &Report<'_>, id: &str) -> Value {
    let run: Option<&RuleRun> = report.findings.rules.iter().find(|r| r.rule == id);
    let packs = run.map(|r| r.packs.clone()).unwrap_or_default();
    let Some(meta) = catalogue::rule(id) else {
        // Not implemented in this build: what the findings say of it. GitHub code scanning needs
        // a full description and help on every rule.
        let title = report
            .findings
            .findings
            .iter()
            .find(|f| f.rule == id)
            .map(|f| f.title.as_str());
        let mut d = json!({
            "id": id,
            "shortDescription": {"text": title.unwrap_or(id)},
            "fullDescription": {"text": title.unwrap_or(id)},
            "help": {"text": format!("`trailbook explain {id}` prints the rule's documentation.")},
            "properties": {"packs": packs, "tags": packs},
        });
        if let Some(t) = title.filter(|t| !t.is_empty()) {
            d["name"] = json!(pascal(t));
        }
        return d;
    };
    json!({
        "id": meta.id,
        "name": pascal(meta.title),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.checks.trim(), "markdown": meta.checks.trim()},
        "help": {
            "text": meta.fix.trim(),
            "markdown": format!("**Why it matters.** {}\n\n**How to fix.** {}", meta.why.trim(), meta.fix.trim()),
        },
        "defaultConfiguration": {"level": default_level(meta.levels)},
        "properties": {
            "packs": packs,
            "tags": packs,
            "clauses": meta.sources,
            "basis": meta.basis,
        },
    })
}

fn result(report: &Report<'_>, ids: &[String], f: &Finding) -> Value {
    let limit = report.evidence_limit.max(1);
    let mut locations: Vec<Value> = f
        .evidence
        .iter()
        .take(limit)
        .map(|e| location(report, e))
        .collect();
    if locations.is_empty() {
        locations.push(config_location(report, f));
    }
    let mut properties = Map::new();
    properties.insert("subject".into(), json!(f.subject));
    properties.insert("discriminator".into(), json!(f.discriminator));
    properties.insert("level".into(), json!(f.level));
    if let Some(n) = f.count {
        properties.insert("count".into(), json!(n));
    }
    if let Some(i) = f.integrity {
        properties.insert("integrity".into(), json!(i));
    }
    if let Some(w) = &f.waiver {
        properties.insert("waiver".into(), json!(w));
    }
    if f.evidence.len() > limit {
        properties.insert("evidenceTotal".into(), json!(f.evidence.len()));
    }
    properties.insert("packs".into(), json!(f.packs));
    properties.insert("clauses".into(), json!(f.clauses));

    let mut r = json!({
        "ruleId": f.rule,
        "level": level(&f.level),
        "message": {"text": f.message},
        "locations": locations,
        "partialFingerprints": {"trailbook/v1": f.id},
        "properties": properties,
    });
    if let Some(i) = ids.iter().position(|id| *id == f.rule) {
        r["ruleIndex"] = json!(i);
    }
    if let (true, Some(w)) = (f.is_waived(), &f.waiver) {
        r["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!(
                "waiver {} approved by {}, expires {}; level without the waiver: {}",
                w.id, w.approved_by, if w.expires.is_empty() { "unknown" } else { &w.expires }, w.level.as_str()
            ),
        }]);
    }
    r
}

fn location(report: &Report<'_>, e: &Evidence) -> Value {
    let mut region = json!({"startLine": e.line.max(1)});
    if let Some(c) = e.column {
        region["startColumn"] = json!(utf16_column(report, e, c));
    }
    let mut properties = Map::new();
    properties.insert("source".into(), json!(e.source));
    if let Some(ev) = &e.event {
        properties.insert("event".into(), json!(ev));
    }
    let mut loc = json!({
        "physicalLocation": {"artifactLocation": artifact(&e.path), "region": region},
        "properties": properties,
    });
    if let Some(note) = &e.note {
        loc["message"] = json!({"text": note});
    }
    loc
}

/// A finding without evidence (something is missing at the as-of time) points at the config that
/// enabled its rule: code-scanning dashboards need a location for every result.
fn config_location(report: &Report<'_>, f: &Finding) -> Value {
    let name = Path::new(report.config_path).file_name().map_or_else(
        || "trailbook.toml".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    json!({
        "physicalLocation": {"artifactLocation": artifact(&name), "region": {"startLine": 1}},
        "message": {"text": format!("no input line shows this: the finding is about {}", f.subject)},
    })
}

/// A path of the report as an artifact location: relative to `SRCROOT` (the config folder), or a
/// `file:` URI when ingest could only give an absolute path.
fn artifact(path: &str) -> Value {
    let drive = matches!(path.as_bytes(), [d, b':', b'/', ..] if d.is_ascii_alphabetic());
    if path.starts_with('/') || drive {
        let abs = format!("/{}", path.trim_start_matches('/'));
        return json!({"uri": format!("file://{}", encode(&abs, drive))});
    }
    json!({"uri": encode(path, false), "uriBaseId": "SRCROOT"})
}

/// Percent-encodes everything but unreserved characters and `/` (RFC 3986), and `:` when asked
/// (a drive letter; in a relative reference a `:` could read as a scheme).
fn encode(path: &str, colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) || (colon && b == b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The 1-based UTF-16 column of a 1-based byte column, from the line's bytes; the byte column
/// when the line cannot be read.
fn utf16_column(report: &Report<'_>, e: &Evidence, byte_column: usize) -> usize {
    match super::text::line_bytes(report, e) {
        Some(bytes) => utf16_units(&bytes, byte_column.saturating_sub(1)) + 1,
        None => byte_column.max(1),
    }
}

/// UTF-16 code units before byte `end` (an invalid sequence counts as one U+FFFD); bytes past the
/// end of the line count one unit each.
fn utf16_units(bytes: &[u8], end: usize) -> usize {
    let mut units = 0;
    let mut offset = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if offset >= end {
                return units;
            }
            units += c.len_utf16();
            offset += c.len_utf8();
        }
        if !chunk.invalid().is_empty() {
            if offset >= end {
                return units;
            }
            units += 1;
            offset += chunk.invalid().len();
        }
    }
    units + end.saturating_sub(offset)
}

/// Rules that could not judge, are not implemented, or are turned off, as tool notifications.
fn invocation(report: &Report<'_>, ids: &[String]) -> Value {
    let f = report.findings;
    let mut execution = Vec::new();
    for r in &f.rules {
        let (what, reason) = match &r.status {
            Status::NotEvaluable(reason) => ("not evaluable", reason),
            Status::NotApplicable(reason) => ("not applicable", reason),
            Status::Evaluated => continue,
        };
        let mut rule = json!({"id": r.rule});
        if let Some(i) = ids.iter().position(|id| id == r.rule) {
            rule["index"] = json!(i);
        }
        execution.push(json!({
            "level": if what == "not evaluable" { "warning" } else { "note" },
            "message": {"text": format!("{}: {what}: {reason}", r.rule)},
            "associatedRule": rule,
            "properties": {"status": what},
        }));
    }
    for id in &f.not_implemented {
        execution.push(json!({
            "level": "warning",
            "message": {"text": format!("{id}: listed by an enabled pack, not implemented in this version of trailbook")},
            "associatedRule": {"id": id},
            "properties": {"status": "not implemented"},
        }));
    }
    let configuration: Vec<Value> = f
        .disabled
        .iter()
        .map(|id| {
            json!({
                "level": "note",
                "message": {"text": format!("{id}: turned off in [policy] levels")},
                "associatedRule": {"id": id},
                "properties": {"status": "disabled"},
            })
        })
        .collect();
    json!({
        "executionSuccessful": true,
        "toolExecutionNotifications": execution,
        "toolConfigurationNotifications": configuration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::text::fixture;

    #[test]
    fn sarif_has_the_required_structure() {
        let fx = fixture::build();
        let out = render(&fx.report(2));
        let doc: Value = serde_json::from_str(&out).expect("SARIF is JSON");
        assert_eq!(doc["$schema"], SCHEMA);
        assert_eq!(doc["version"], "2.1.0");
        let runs = doc["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run["tool"]["driver"]["name"], "trailbook");
        assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            rule_ids,
            ["LOG-02", "LOG-04", "LOG-05", "LOG-06", "LOG-07", "LOG-08"]
        );
        // LOG-08 is implemented: its descriptor carries the documentation.
        let log08 = &rules[5];
        assert_eq!(log08["shortDescription"]["text"], "Waivers");
        assert_eq!(log08["name"], "Waivers");
        assert_eq!(log08["defaultConfiguration"]["level"], "warning");
        assert!(
            log08["help"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Renew an expired waiver")
        );
        assert!(log08["properties"]["clauses"].as_array().unwrap().len() == 2);

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), fx.findings.findings.len());
        for (r, f) in results.iter().zip(&fx.findings.findings) {
            assert_eq!(r["ruleId"], f.rule.as_str());
            assert_eq!(
                rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
                f.rule.as_str()
            );
            assert_eq!(r["partialFingerprints"]["trailbook/v1"], f.id.as_str());
            assert_eq!(r["message"]["text"], f.message.as_str());
            for loc in r["locations"].as_array().unwrap() {
                assert!(
                    loc["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap()
                        >= 1
                );
            }
        }
        let deny = &results[0];
        assert_eq!(deny["level"], "error");
        let locs = deny["locations"].as_array().unwrap();
        assert_eq!(locs.len(), 2, "evidence_limit = 2");
        let loc = &locs[0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "main.jsonl");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "SRCROOT");
        assert_eq!(loc["region"]["startLine"], 3);
        // The line is ASCII: UTF-16 and byte columns agree.
        assert_eq!(
            loc["region"]["startColumn"],
            fx.case.loaded.ingest.quarantine[0].column
        );
        assert_eq!(deny["properties"]["integrity"], "unverified");
        assert_eq!(deny["properties"]["evidenceTotal"], 3);
        assert_eq!(results[1]["level"], "warning");
        assert_eq!(results[1]["properties"]["count"], 2);
        // Info without evidence: located at the config file.
        assert_eq!(results[2]["level"], "note");
        assert_eq!(
            results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "trailbook.toml"
        );
        // Waived: a note with an external suppression.
        let waived = &results[3];
        assert_eq!(waived["level"], "note");
        assert_eq!(waived["suppressions"][0]["kind"], "external");
        assert!(
            waived["suppressions"][0]["justification"]
                .as_str()
                .unwrap()
                .contains("W-1")
        );
        assert!(results[0].get("suppressions").is_none());

        let notes = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        let texts: Vec<&str> = notes
            .iter()
            .map(|n| n["message"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(texts[0].starts_with("LOG-04: not evaluable"));
        assert!(texts[2].starts_with("LINK-01: listed by an enabled pack"));
        assert_eq!(out, render(&fx.report(2)), "deterministic");
    }

    #[test]
    fn columns_become_utf16_and_paths_uris() {
        assert_eq!(utf16_units("aé😀b".as_bytes(), 0), 0);
        assert_eq!(utf16_units("aé😀b".as_bytes(), 3), 2);
        assert_eq!(utf16_units("aé😀b".as_bytes(), 7), 4);
        assert_eq!(utf16_units(b"a\xffb", 2), 2);
        assert_eq!(utf16_units(b"ab", 5), 5);
        assert_eq!(
            artifact("logs/a b.jsonl"),
            json!({"uri": "logs/a%20b.jsonl", "uriBaseId": "SRCROOT"})
        );
        assert_eq!(
            artifact("//data/x.jsonl"),
            json!({"uri": "file:///data/x.jsonl"})
        );
        assert_eq!(
            artifact("C:/logs/x.jsonl"),
            json!({"uri": "file:///C:/logs/x.jsonl"})
        );
        assert_eq!(
            artifact("a:b.jsonl"),
            json!({"uri": "a%3Ab.jsonl", "uriBaseId": "SRCROOT"})
        );
        assert_eq!(pascal("Hash-chain continuity"), "HashChainContinuity");
        assert_eq!(default_level("`warn`; (e) `info`"), "warning");
        assert_eq!(default_level("`info`; (c) `deny`"), "note");
    }

    #[test]
    fn rules_outside_this_build_still_get_a_full_descriptor() {
        let mut fx = fixture::build();
        let mut f = fx.findings.findings[0].clone();
        f.rule = "XYZ-01".into();
        f.title = "Something else".into();
        fx.findings.findings.push(f);
        let doc = document(&fx.report(2));
        let rules = doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        let last = rules.last().unwrap();
        assert_eq!(last["id"], "XYZ-01");
        assert_eq!(last["name"], "SomethingElse");
        assert!(last["fullDescription"]["text"].is_string() && last["help"]["text"].is_string());
        let result = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(result["ruleIndex"], rules.len() - 1);
    }

    #[test]
    fn a_real_run_renders() {
        let fx = fixture::build();
        let report = crate::report::Report {
            findings: &fx.case.findings,
            ..fx.report(20)
        };
        let doc: Value = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(
            doc["runs"][0]["results"].as_array().unwrap().len(),
            fx.case.findings.findings.len()
        );
    }
}

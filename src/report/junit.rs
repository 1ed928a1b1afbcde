//! `check --format junit`: JUnit XML, one testcase per rule that ran.
//!
//! For CI systems that show test reports (GitLab, Jenkins, Azure, GitHub test-report actions).
//! The testcases agree with the exit code: a rule fails exactly when it has an unwaived `deny`
//! finding — one `<failure type="deny">` listing all of them — so the report never shows red for a
//! run that exits 0. `warn`, `info` and waived findings go to the testcase's `<system-out>`, where
//! they stay visible without failing it. A rule that could not be evaluated is `<skipped>` with
//! its reason; a rule with nothing in scope passes, its reason in `<system-out>`. Rules the
//! enabled packs list but this version does not implement, and rules turned off, are named in
//! the suite's `<system-out>` together with the counts line and the result.
//!
//! Testcases follow the catalogue order of the rules, findings the report order (`RULES.md`
//! §6.2); no timestamps or durations are written, so the output is deterministic. All text is
//! escaped, and characters XML 1.0 forbids or discourages (control characters) are replaced by
//! U+FFFD, since messages may quote log content.

use std::fmt::Write as _;

use super::{Report, plural};
use crate::checks::{Finding, RuleRun, Status, catalogue};

pub fn render(report: &Report<'_>) -> String {
    let f = report.findings;
    let mut cases = String::new();
    let (mut failures, mut skipped) = (0, 0);
    for run in &f.rules {
        let (case, failed, skip) = testcase(report, run);
        failures += usize::from(failed);
        skipped += usize::from(skip);
        cases.push_str(&case);
    }
    let tests = f.rules.len();
    let counts = format!(r#"tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}""#);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, r#"<testsuites name="trailbook" {counts}>"#);
    let _ = writeln!(out, r#"  <testsuite name="trailbook" {counts}>"#);
    out.push_str("    <properties>\n");
    for (name, value) in [
        ("trailbook.version", env!("CARGO_PKG_VERSION").to_string()),
        ("as_of", crate::time::fmt(report.model.as_of)),
        ("packs", report.packs.join(",")),
        ("config", report.config_path.to_string()),
    ] {
        let _ = writeln!(
            out,
            r#"      <property name="{}" value="{}"/>"#,
            attr(name),
            attr(&value)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    let _ = writeln!(
        out,
        "    <system-out>{}</system-out>",
        text(&suite_out(report))
    );
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// One rule's testcase; whether it failed and whether it was skipped.
fn testcase(report: &Report<'_>, run: &RuleRun) -> (String, bool, bool) {
    let findings: Vec<&Finding> = report
        .findings
        .findings
        .iter()
        .filter(|f| f.rule == run.rule)
        .collect();
    let title = catalogue::rule(run.rule)
        .map(|m| m.title)
        .or_else(|| findings.first().map(|f| f.title.as_str()))
        .unwrap_or("");
    let name = if title.is_empty() {
        run.rule.to_string()
    } else {
        format!("{} {title}", run.rule)
    };
    let pack = run.packs.first().map_or("baseline", String::as_str);
    let mut body = String::new();
    let mut skip = false;
    if let Status::NotEvaluable(reason) = &run.status {
        skip = true;
        let _ = writeln!(
            body,
            r#"      <skipped message="{}"/>"#,
            attr(&format!("not evaluable: {reason}"))
        );
    }
    let deny: Vec<&Finding> = findings.iter().copied().filter(|f| f.fails()).collect();
    if let Some(first) = deny.first() {
        let summary = format!(
            "{}: {}",
            first.subject,
            crate::time::clip(&first.message, 300)
        );
        let message = if deny.len() == 1 {
            summary
        } else {
            format!("{} deny findings; first: {summary}", deny.len())
        };
        let detail: Vec<String> = deny.iter().map(|f| block(report, f)).collect();
        let _ = writeln!(
            body,
            r#"      <failure type="deny" message="{}">{}</failure>"#,
            attr(&message),
            text(&detail.join("\n"))
        );
    }
    let mut other: Vec<String> = findings
        .iter()
        .filter(|f| !f.fails())
        .map(|f| block(report, f))
        .collect();
    if let Status::NotApplicable(reason) = &run.status {
        other.insert(0, format!("not applicable: {reason}\n"));
    }
    if !other.is_empty() {
        let _ = writeln!(
            body,
            "      <system-out>{}</system-out>",
            text(&other.join("\n"))
        );
    }
    let open = format!(
        r#"    <testcase classname="trailbook.{}" name="{}""#,
        attr(pack),
        attr(&name)
    );
    let case = if body.is_empty() {
        format!("{open}/>\n")
    } else {
        format!("{open}>\n{body}    </testcase>\n")
    };
    (case, !deny.is_empty(), skip)
}

/// A finding as plain text: header, evidence locations, id and marks.
fn block(report: &Report<'_>, f: &Finding) -> String {
    let mut s = format!("{} [{}] {}: {}\n", f.rule, f.level, f.subject, f.message);
    let limit = report.evidence_limit.max(1);
    for e in f.evidence.iter().take(limit) {
        let _ = match &e.note {
            Some(n) => writeln!(s, "  at {}: {n}", super::text::location(e)),
            None => writeln!(s, "  at {}", super::text::location(e)),
        };
    }
    if f.evidence.len() > limit {
        let _ = writeln!(s, "  … and {} more", f.evidence.len() - limit);
    }
    if let Some(w) = &f.waiver {
        let expires = if w.expires.is_empty() {
            "unknown"
        } else {
            &w.expires
        };
        let _ = if f.is_waived() {
            writeln!(
                s,
                "  waived by {} (approved by {}), expires {expires}; level without the waiver: {}",
                w.id,
                w.approved_by,
                w.level.as_str()
            )
        } else {
            writeln!(
                s,
                "  waiver {} (approved by {}) expired {expires}",
                w.id, w.approved_by
            )
        };
    }
    if let Some(i) = f.integrity {
        let _ = writeln!(s, "  integrity: {i}");
    }
    if let Some(n) = f.count {
        let _ = writeln!(s, "  count: {n}");
    }
    let _ = writeln!(s, "  id: {}", f.id);
    if !f.clauses.is_empty() {
        let _ = writeln!(s, "  clauses: {}", f.clauses.join("; "));
    }
    s
}

/// The suite's output: rules that did not run, the counts line, the result.
fn suite_out(report: &Report<'_>) -> String {
    let f = report.findings;
    let mut s = String::new();
    if !f.not_implemented.is_empty() {
        let n = f.not_implemented.len();
        let _ = writeln!(
            s,
            "not implemented ({n} rule{} listed by the enabled packs): {}",
            plural(n),
            f.not_implemented.join(", ")
        );
    }
    if !f.disabled.is_empty() {
        let _ = writeln!(
            s,
            "turned off in [policy] levels: {}",
            f.disabled.join(", ")
        );
    }
    let _ = writeln!(s, "{}", report.counts_line());
    let deny = f.count("deny");
    if deny > 0 {
        let _ = writeln!(s, "result: FAIL ({deny} deny finding{})", plural(deny));
    } else {
        s.push_str("result: pass\n");
    }
    s
}

/// Escapes element text.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value (double-quoted); line breaks and tabs survive as references.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            // Forbidden in XML 1.0 (C0 controls, U+FFFE, U+FFFF) or discouraged (DEL, C1).
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {
                out.push(char::REPLACEMENT_CHARACTER)
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::text::fixture;

    /// A small well-formedness check: one root, tags balanced and named alike, attribute values
    /// quoted, no raw `<` or `&` outside markup, every reference one of XML's.
    fn well_formed(xml: &str) -> Result<(), String> {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .ok_or("no XML declaration")?;
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut rest = body;
        while !rest.is_empty() {
            let lt = rest.find('<').unwrap_or(rest.len());
            check_chars(&rest[..lt])?;
            if lt == rest.len() {
                break;
            }
            let gt = rest[lt..].find('>').ok_or("unclosed tag")? + lt;
            let tag = &rest[lt + 1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack
                    .pop()
                    .ok_or(format!("</{name}> without an open tag"))?;
                if open != name {
                    return Err(format!("<{open}> closed by </{name}>"));
                }
                continue;
            }
            if stack.is_empty() {
                roots += 1;
            }
            let (tag, selfclosing) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let name = tag.split_whitespace().next().ok_or("empty tag")?;
            let mut attrs = &tag[name.len()..];
            while !attrs.trim().is_empty() {
                let eq = attrs
                    .find("=\"")
                    .ok_or(format!("unquoted attribute in <{tag}>"))?;
                let value_end = attrs[eq + 2..].find('"').ok_or("unterminated attribute")? + eq + 2;
                let value = &attrs[eq + 2..value_end];
                if value.contains(['<', '\n', '\t']) {
                    return Err(format!("raw character in attribute {value:?}"));
                }
                check_chars(value)?;
                attrs = &attrs[value_end + 1..];
            }
            if !selfclosing {
                stack.push(name);
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed: {stack:?}"));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(())
    }

    fn check_chars(s: &str) -> Result<(), String> {
        if s.contains(['<', '>']) {
            return Err(format!("raw markup character in {s:?}"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
        {
            return Err(format!("control character {c:?} in {s:?}"));
        }
        for (i, _) in s.match_indices('&') {
            let entity = &s[i..s[i..].find(';').map_or(s.len(), |j| i + j + 1)];
            let ok = matches!(entity, "&amp;" | "&lt;" | "&gt;" | "&quot;" | "&apos;")
                || entity
                    .strip_prefix("&#")
                    .and_then(|n| n.strip_suffix(';'))
                    .is_some_and(|n| n.parse::<u32>().is_ok());
            if !ok {
                return Err(format!("bad reference {entity:?}"));
            }
        }
        Ok(())
    }

    #[test]
    fn junit_is_well_formed_and_fails_deny_rules() {
        let fx = fixture::build();
        let xml = render(&fx.report(2));
        well_formed(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(
            xml.contains(
                r#"<testsuites name="trailbook" tests="6" failures="1" errors="0" skipped="1">"#
            ),
            "{xml}"
        );
        let case = format!(
            r#"<testcase classname="trailbook.baseline" name="LOG-06 {}">"#,
            fixture::title("LOG-06")
        );
        assert!(xml.contains(&case), "{xml}");
        assert!(xml.contains(r#"<failure type="deny" message="source:main: 1 line of source `main` is not an event">"#), "{xml}");
        assert!(xml.contains("  at main.jsonl:1\n  … and 1 more\n"), "{xml}");
        assert!(xml.contains(r#"<skipped message="not evaluable: no `source.gap` events &amp; no &lt;coverage&gt;"/>"#), "{xml}");
        // The warn finding's message: escaped, control characters gone; it does not fail LOG-05.
        assert!(
            xml.contains(
                "ids &lt;a&amp;b&gt; &quot;quoted&quot; &apos;single&apos; \u{fffd}[31mred\u{fffd}"
            ),
            "{xml}"
        );
        let log05 = &xml[xml.find("name=\"LOG-05").unwrap()..];
        let log05 = &log05[..log05.find("</testcase>").unwrap()];
        assert!(
            !log05.contains("<failure") && log05.contains("<system-out>"),
            "{log05}"
        );
        // LOG-08 is implemented: its title comes from the catalogue; the waived LOG-02 passes.
        assert!(xml.contains(r#"name="LOG-08 Waivers""#), "{xml}");
        let log02 = &xml[xml.find("name=\"LOG-02").unwrap()..];
        assert!(
            !log02[..log02.find("</testcase>").unwrap()].contains("<failure"),
            "{log02}"
        );
        assert!(xml.contains("not applicable: no corrections"), "{xml}");
        assert!(
            xml.contains("result: FAIL (1 deny finding)\n</system-out>"),
            "{xml}"
        );
        assert_eq!(xml, render(&fx.report(2)), "deterministic");
    }

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(
            attr("a<b>&\"c\"'d'\n\t\r\u{0}\u{1b}\u{85}\u{ffff}"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;&#9;&#13;\u{fffd}\u{fffd}\u{fffd}\u{fffd}"
        );
        assert_eq!(text("x\ny\tz"), "x\ny\tz");
        assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b></a></b>").is_err());
        assert!(
            well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1 & 2\"/>").is_err()
        );
        assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>1 &lt; 2</a>").is_ok());
    }

    #[test]
    fn a_clean_run_has_no_failure() {
        let mut fx = fixture::build();
        fx.findings.findings.retain(|f| !f.fails());
        let xml = render(&fx.report(20));
        well_formed(&xml).unwrap();
        assert!(
            xml.contains(r#"failures="0""#) && !xml.contains("<failure"),
            "{xml}"
        );
        assert!(xml.contains("result: pass\n"), "{xml}");
    }
}

//! The redacted view over small cases: each action at its paths and wildcards, entity ids
//! replaced everywhere at once, free text scrubbed, findings renamed and merged, and the render
//! of a view without drill-down.

use serde_json::{Value, json};

use super::*;
use crate::event::{EntityType, NodeId};
use crate::testing::{Case, check_events, ev, page, with};

const KEY: &[u8] = b"unit-test-key-0123456789";

fn key() -> Key {
    Key::new("u1", KEY)
}

fn decision(id: &str, ts: &str, subject: &str, attrs: Value) -> Value {
    let mut a = json!({"deployment": "dep", "model_version": "m@1"});
    for (k, v) in attrs.as_object().unwrap() {
        a[k] = v.clone();
    }
    ev(id, ts, "decision.made", &format!("decision:{subject}"), a)
}

fn case() -> Case {
    let mut events = vec![
        ev(
            "m",
            "2026-01-01T00:00:00Z",
            "model.registered",
            "model_version:m@1",
            json!({"model": "m", "version": "1", "developers": ["ari", "bo"]}),
        ),
        ev(
            "dep",
            "2026-01-02T00:00:00Z",
            "deployment.started",
            "deployment:dep",
            json!({"model_version": "m@1"}),
        ),
        with(
            decision(
                "d1",
                "2026-01-03T10:11:12Z",
                "cust-1",
                json!({"subject_ref": "Jane Doe", "score": 0.734,
                       "income": 43210, "when": "2026-01-03T10:11:12+01:00",
                       "contact": {"mail": "jane@example.com", "phones": ["+4915123456789"]},
                       "labels": ["a", "b"], "input_ref": "sha256:".to_string() + &"0".repeat(64)}),
            ),
            "reason",
            json!("asked by Jane Doe, see jane@example.com"),
        ),
        decision(
            "d2",
            "2026-01-03T11:00:00Z",
            "cust-2",
            json!({"subject_ref": "John Roe"}),
        ),
        with(
            ev(
                "o1",
                "2026-01-03T12:00:00Z",
                "oversight.action",
                "decision:cust-1",
                json!({"action": "override", "reviewer": "bo", "reason": "bo checked cust-1"}),
            ),
            "actor",
            json!({"id": "bo", "type": "human"}),
        ),
        ev(
            "r1",
            "2026-01-04T00:00:00Z",
            "dsr.received",
            "resource:dsr",
            json!({"request_id": "R1", "type": "contest", "decision": "cust-2"}),
        ),
        ev(
            "i1",
            "2026-01-05T00:00:00Z",
            "incident.opened",
            "incident:inc-1",
            json!({"title": "Complaint about cust-1", "affects": ["decision:cust-1", "deployment:dep"]}),
        ),
    ];
    events.push(ev(
        "a1",
        "2026-01-06T00:00:00Z",
        "access",
        "resource:loans",
        json!({"action": "read", "purpose": "call +4930123456789"}),
    ));
    check_events(
        &events,
        "[policy]\npacks = [\"gdpr\", \"eu-ai-act-provider\"]\n\
         [privacy]\nkey_env = \"TRAILBOOK_UNIT_KEY_NEVER_SET\"\nkey_id = \"u1\"\n\
         [privacy.profile.p]\nextends = \"regulator\"\nrules = [\
         { path = \"attrs.contact\", action = \"drop\" },\
         { path = \"attrs.labels[]\", action = \"mask\" },\
         { path = \"attrs.sc*e\", action = \"generalize\" },\
         { path = \"attrs.when\", action = \"generalize\" },\
         { path = \"attrs.income\", action = \"generalize\" },\
         { path = \"ts\", action = \"generalize\" }]\n\
         [privacy.profile.q]\nextends = \"public\"\n\
         [[audience]]\nname = \"internal\"\n\
         [[audience]]\nname = \"reg\"\nprofile = \"p\"\n\
         [[audience]]\nname = \"pub\"\nprofile = \"q\"\ndrill_down = false\n",
    )
}

fn audience(case: &Case, name: &str, profile: &str, drill_down: bool) -> Audience {
    Audience {
        name: name.into(),
        root: case.dir.path().join(name),
        profile: Profile::resolve(&case.loaded.config, profile).unwrap(),
        drill_down,
        k: if drill_down { 0 } else { DEFAULT_K },
    }
}

fn attrs_of(v: &View, id: &str) -> Value {
    let e = v.model.events.iter().find(|e| e.id == id).unwrap();
    serde_json::from_str(e.attrs.get()).unwrap()
}

#[test]
fn each_action_applies_at_its_paths_and_the_strongest_wins() {
    let case = case();
    let k = key();
    let a = audience(&case, "reg", "p", true);
    let v = view(&case.loaded, &case.findings, &a, Some(&k)).unwrap();
    let d1 = attrs_of(&v, "d1");
    // pseudonymize (built-in regulator rule), with the same token wherever the value is.
    assert_eq!(d1["subject_ref"], k.token("Jane Doe"));
    // drop: the object and what it holds.
    assert!(d1.get("contact").is_none(), "{d1}");
    // mask on array elements.
    assert_eq!(d1["labels"], json!([MASK, MASK]));
    // generalize: `attrs.sc*e` matches `score` (a glob within one key), and `attrs.when`.
    assert_eq!(d1["score"], "[0.7, 0.8)");
    assert_eq!(d1["when"], "2026-01-03");
    assert_eq!(d1["income"], "[40000, 50000)");
    // Reference fields and digests keep their values.
    assert_eq!(d1["deployment"], "dep");
    assert_eq!(d1["input_ref"], format!("sha256:{}", "0".repeat(64)));
    let e = v.model.events.iter().find(|e| e.id == "d1").unwrap();
    assert_eq!(
        crate::time::fmt(e.ts),
        "2026-01-03T00:00:00Z",
        "ts to its day"
    );
    // Free text: hidden values by the dictionary (the e-mail is a value of the dropped
    // `attrs.contact`), so a text quoting a dropped field shows that it was dropped.
    assert_eq!(
        e.reason(),
        Some(format!("asked by {}, see {DROPPED}", k.token("Jane Doe")).as_str())
    );
    // Elsewhere the detectors pseudonymise what they find.
    let a1 = attrs_of(&v, "a1");
    assert_eq!(a1["purpose"], format!("call {}", k.token("+4930123456789")));
    // The actor and the reviewer are one person: one token.
    let o1 = v.model.events.iter().find(|e| e.id == "o1").unwrap();
    assert_eq!(o1.actor.id, k.token("bo"));
    assert_eq!(attrs_of(&v, "o1")["reviewer"], k.token("bo"));
    let m = attrs_of(&v, "m");
    assert_eq!(m["developers"], json!([k.token("ari"), k.token("bo")]));
    // The original model is untouched.
    assert_eq!(
        case.loaded
            .model
            .events
            .iter()
            .find(|e| e.id == "o1")
            .unwrap()
            .actor
            .id,
        "bo"
    );
}

#[test]
fn entity_ids_are_replaced_in_subjects_references_text_graph_and_findings() {
    let case = case();
    let k = key();
    let a = audience(&case, "reg", "p", true);
    let v = view(&case.loaded, &case.findings, &a, Some(&k)).unwrap();
    let t1 = k.token("cust-1");
    let t2 = k.token("cust-2");
    let d1 = v.model.events.iter().find(|e| e.id == "d1").unwrap();
    assert_eq!(d1.subject.as_ref().unwrap().id, t1);
    assert_eq!(attrs_of(&v, "r1")["decision"], t2);
    let i1 = attrs_of(&v, "i1");
    assert_eq!(
        i1["affects"],
        json!([format!("decision:{t1}"), "deployment:dep"])
    );
    assert_eq!(i1["title"], format!("Complaint about {t1}"));
    assert!(
        v.model
            .entities
            .contains_key(&NodeId::new(EntityType::Decision, &t1))
    );
    assert!(
        !v.model.entities.keys().any(|n| n.0.contains("cust-")),
        "no original decision id in the model"
    );
    assert!(
        v.graph
            .node(&NodeId::new(EntityType::Decision, &t2))
            .is_some()
    );
    // Findings: no original id anywhere, and renamed ids where the subject changed.
    let json = serde_json::to_string(&v.findings).unwrap();
    assert!(
        !json.contains("cust-1") && !json.contains("cust-2"),
        "{json}"
    );
    assert!(
        !json.contains("Jane Doe") && !json.contains("\"bo\""),
        "{json}"
    );
    for f in &v.findings.findings {
        assert_eq!(
            f.id,
            crate::checks::finding_id(&f.rule, &f.subject, &f.discriminator)
        );
    }
    let ids: std::collections::BTreeSet<&str> =
        v.findings.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids.len(), v.findings.findings.len(), "ids are unique");
    for pack in &v.findings.coverage {
        for r in pack.clauses.iter().flat_map(|c| &c.rules) {
            for id in &r.findings {
                assert!(ids.contains(id.as_str()), "coverage names {id}");
            }
        }
    }
}

#[test]
fn prv01_notes_keep_detector_and_path_only_outside_internal() {
    let case = case();
    let internal: Vec<_> = case.of("PRV-01");
    assert!(
        internal.iter().flat_map(|f| &f.evidence).any(|e| e
            .note
            .as_deref()
            .unwrap_or("")
            .contains("+4930123456789")),
        "the internal view lists the values"
    );
    let k = key();
    let a = audience(&case, "reg", "p", true);
    let v = view(&case.loaded, &case.findings, &a, Some(&k)).unwrap();
    let prv: Vec<_> = v
        .findings
        .findings
        .iter()
        .filter(|f| f.rule == "PRV-01")
        .collect();
    assert!(!prv.is_empty());
    for f in prv {
        let (path, detector) = f.discriminator.rsplit_once('|').unwrap();
        for e in &f.evidence {
            assert_eq!(
                e.note.as_deref(),
                Some(format!("{detector} in {path}").as_str())
            );
        }
    }
}

#[test]
fn masked_entities_are_numbered_and_findings_that_meet_are_merged() {
    let case = case();
    let a = audience(&case, "pub", "q", false);
    assert!(!a.profile.needs_key());
    let v = view(&case.loaded, &case.findings, &a, None).unwrap();
    let d = |id: &str| {
        v.model
            .events
            .iter()
            .find(|e| e.id == id)
            .unwrap()
            .subject
            .clone()
            .unwrap()
            .id
    };
    assert_eq!((d("d1"), d("d2")), ("masked-1".into(), "masked-2".into()));
    let o1 = v.model.events.iter().find(|e| e.id == "o1").unwrap();
    assert_eq!(o1.actor.id, MASK);
    let d1 = attrs_of(&v, "d1");
    assert_eq!(d1["subject_ref"], MASK);
    assert_eq!(d1["contact"]["mail"], "[email]", "detector matches masked");
    assert_eq!(d1["contact"]["phones"], json!(["[phone]"]));
    let json = serde_json::to_string(&v.findings).unwrap();
    let token = regex::Regex::new(r"hmac:[a-z0-9]+:[0-9a-f]{16}").unwrap();
    assert!(!token.is_match(&json), "no pseudonym without a key: {json}");
}

#[test]
fn merging_counts_findings_and_joins_their_evidence() {
    use crate::checks::{Evidence, Finding, Findings};
    let finding = |subject: &str, line: u64| Finding {
        id: crate::checks::finding_id("DEC-02", subject, ""),
        rule: "DEC-02".into(),
        level: "deny".into(),
        title: "t".into(),
        message: format!(
            "decision {} lacks x",
            subject.trim_start_matches("decision:")
        ),
        subject: subject.into(),
        discriminator: String::new(),
        count: None,
        integrity: None,
        waiver: None,
        evidence: vec![Evidence {
            event: Some(format!("e{line}")),
            source: "s".into(),
            path: "s.jsonl".into(),
            line,
            column: None,
            note: None,
            origin: Default::default(),
        }],
        packs: vec![],
        clauses: vec![],
        pre_effective: vec![],
        effective_level: crate::checks::Level::Deny,
        system: None,
    };
    let findings = Findings {
        findings: vec![finding("decision:a", 2), finding("decision:b", 1)],
        rules: vec![],
        not_implemented: vec![],
        disabled: vec![],
        coverage: vec![],
    };
    let mut ids = redact::Ids::default();
    ids.insert_for_test(EntityType::Decision, "a", MASK);
    ids.insert_for_test(EntityType::Decision, "b", MASK);
    let detectors = crate::checks::privacy::Detectors::new(&[], &[]).unwrap();
    let mut scrub = text::Scrubber::new(&detectors, Detected::Mask, None);
    scrub.add("a", MASK);
    scrub.add("b", MASK);
    let out = findings::redact(&findings, &ids, &scrub);
    assert_eq!(out.findings.len(), 1);
    let f = &out.findings[0];
    assert_eq!(f.subject, format!("decision:{MASK}"));
    assert_eq!(f.count, Some(2));
    let lines: Vec<u64> = f.evidence.iter().map(|e| e.line).collect();
    assert_eq!(lines, [1, 2]);
    assert!(
        f.message.contains("and 1 more finding of this rule"),
        "{}",
        f.message
    );
}

#[test]
fn a_view_without_drill_down_renders_no_event_page_no_event_link_and_no_small_count() {
    let case = case();
    let a = audience(&case, "pub", "q", false);
    let v = view(&case.loaded, &case.findings, &a, None).unwrap();
    let packs: Vec<String> = vec!["gdpr".into()];
    let input = crate::render::Input {
        config: &case.loaded.config,
        ingest: &v.ingest,
        model: &v.model,
        graph: &v.graph,
        findings: &v.findings,
        packs: &packs,
        exposure: a.exposure(),
    };
    let cx = crate::render::Cx::new(&input, 1, "pub", None, None).unwrap();
    let pages = crate::render::render(&cx).unwrap();
    assert!(pages.files.keys().all(|p| !p.starts_with("events/")));
    for (path, bytes) in &pages.files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("events/"), "{path} links to an event page");
        assert!(!text.contains("cust-"), "{path} shows a decision id");
    }
    let html = page(&pages, "decisions.html");
    // Two decisions: the count is suppressed, and so is the automated share.
    assert!(
        html.contains("&lt; 10 decisions at the as-of time"),
        "{html}"
    );
    let methodology = page(&pages, "methodology.html");
    assert!(methodology.contains("aggregates only"), "{methodology}");
    assert!(methodology.contains("masked-N"), "{methodology}");
}

#[test]
fn plans_name_roots_and_need_keys() {
    let case = case();
    let config = &case.loaded.config;
    // The key variable is not set: planning fails, naming it.
    let err = plan(config, None, None).unwrap_err();
    assert!(
        format!("{err:#}").contains("TRAILBOOK_UNIT_KEY_NEVER_SET"),
        "{err:#}"
    );
    // Without a key in the config: the configured `reg` needs one and is an error.
    let text = std::fs::read_to_string(&config.path).unwrap();
    let no_key = text.replace(
        "key_env = \"TRAILBOOK_UNIT_KEY_NEVER_SET\"\nkey_id = \"u1\"\n",
        "",
    );
    let c = crate::config::parse(&no_key, &config.path).unwrap();
    let err = plan(&c, None, None).unwrap_err();
    assert!(
        format!("{err:#}").contains("audience `reg` pseudonymises"),
        "{err:#}"
    );
    let p = plan(&c, Some(Path::new("/srv/out")), Some("pub")).unwrap();
    assert_eq!(p.audiences.len(), 1);
    assert_eq!(
        p.audiences[0].root,
        Path::new("/srv/out"),
        "one audience: --out is its root"
    );
    assert!(!p.audiences[0].drill_down && p.audiences[0].k == DEFAULT_K);
    let p = plan(&c, None, Some("internal")).unwrap();
    assert_eq!(p.audiences[0].root, Path::new(".").join("site/internal"));
    // The defaults: without a key, `regulator` is left out with a notice.
    let defaults = no_key[..no_key.find("[[audience]]").unwrap()].to_string();
    let c = crate::config::parse(&defaults, &config.path).unwrap();
    let p = plan(&c, Some(Path::new("/srv/out")), None).unwrap();
    let names: Vec<&str> = p.audiences.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["internal", "public"]);
    assert_eq!(p.audiences[1].root, Path::new("/srv/out/public"));
    assert!(p.notices[0].contains("`regulator`"), "{:?}", p.notices);
    let same = format!(
        "{defaults}[[audience]]\nname = \"a\"\nprofile = \"public\"\nout = \"x\"\n\
         [[audience]]\nname = \"b\"\nprofile = \"internal\"\nout = \"./x/../x\"\n\
         [[audience]]\nname = \"c\"\nprofile = \"internal\"\nout = \"x\"\n"
    );
    let c2 = crate::config::parse(&same, &config.path).unwrap();
    let err = plan(&c2, None, None).unwrap_err();
    assert!(
        format!("{err:#}").contains("audiences `a` and `c` would write the same site root"),
        "{err:#}"
    );
    let err = plan(&c, None, Some("nobody")).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "no audience `nobody`; the default audiences are: internal, regulator, public"
    );
}

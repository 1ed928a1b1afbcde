//! Audiences end to end (issue 7's acceptance, tried as a new user would): personal data planted
//! in many fields of many events; `trailbook build` writes the internal, regulator and public
//! sites; no file of the regulator or public site holds a planted value in any form a browser
//! would decode; the public site has no event drill-down and no small count; the internal site
//! shows everything and PRV-01 lists every value its detectors recognise; pseudonyms are stable
//! under one key and change with another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const KEY: &str = "test-pseudonym-key-0123456789";
const OTHER_KEY: &str = "another-pseudonym-key-9876543210";

const EMAILS: &[&str] = &[
    "jane.doe@example.com",
    "obrien+audit@mail.example.org",
    "zoe.lindqvist@bank.example",
];
const NAMES: &[&str] = &["Jane Doe", "Zoë O'Brien", "Anna Lindqvist"];
/// Luhn-valid test card numbers, written three ways.
const CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "4012888888881881",
];
const PHONE: &str = "+4915123456789";

/// The decision ids (subject ids): they name the applicant.
fn subject_id(n: usize) -> String {
    let who = ["jane-doe-1990", "zoe-obrien-1978", "anna-lindqvist-1985"][n % 3];
    format!("cust-{who}-{n:03}")
}

fn planted() -> Vec<String> {
    let mut v: Vec<String> = EMAILS
        .iter()
        .chain(NAMES)
        .chain(CARDS)
        .map(|s| s.to_string())
        .collect();
    v.push(PHONE.to_string());
    v.extend((0..DECISIONS).map(subject_id));
    v
}

const DECISIONS: usize = 36;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailbook"));
    c.env_remove("SOURCE_DATE_EPOCH");
    c.env_remove("TRAILBOOK_TEST_KEY");
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

/// Chained JSONL from event objects.
fn chain(events: &[Value]) -> String {
    let mut out = String::new();
    let mut prev = "0".repeat(64);
    for (i, e) in events.iter().enumerate() {
        let mut obj = serde_json::Map::new();
        obj.insert("seq".into(), json!(i + 1));
        obj.insert("prev".into(), json!(prev));
        for (k, v) in e.as_object().unwrap() {
            obj.insert(k.clone(), v.clone());
        }
        let line = serde_json::to_string(&obj).unwrap();
        prev = hex::encode(Sha256::digest(line.as_bytes()));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn ev(id: &str, ts: String, kind: &str, actor: &str, subject: (&str, &str), attrs: Value) -> Value {
    json!({"id": id, "ts": ts, "kind": kind,
           "actor": {"id": actor, "type": if actor.contains('@') { "human" } else { "service" }},
           "system": "credit", "subject": {"type": subject.0, "id": subject.1}, "attrs": attrs,
           "data_classes": ["personal"]})
}

/// A credit system with 36 decisions by one deployment over three days (12 a day), oversight
/// by named reviewers, accesses by people with e-mail addresses, data-subject requests and an
/// incident about two decisions. Personal data sits in envelope fields, known attributes,
/// unknown attributes, nested objects, arrays, rationales and reasons.
fn events() -> Vec<Value> {
    let mut v = vec![
        ev(
            "sys",
            "2026-01-01T00:00:00Z".into(),
            "system.registered",
            "registry",
            ("system", "credit"),
            json!({"name": "Credit scoring", "risk": "high", "role": "provider"}),
        ),
        ev(
            "mv",
            "2026-01-02T00:00:00Z".into(),
            "model.registered",
            EMAILS[0],
            ("model_version", "risk@1.0.0"),
            json!({"model": "risk", "version": "1.0.0", "developers": [NAMES[0], NAMES[1]],
                  "changelog": format!("First version, reviewed by {}", NAMES[2])}),
        ),
        ev(
            "dep",
            "2026-01-03T00:00:00Z".into(),
            "deployment.started",
            "deployer",
            ("deployment", "risk-prod"),
            json!({"model_version": "risk@1.0.0"}),
        ),
    ];
    for n in 0..DECISIONS {
        let day = 10 + n / 12;
        let name = NAMES[n % 3];
        let email = EMAILS[n % 3];
        let card = CARDS[n % 3];
        let mut d = ev(
            &format!("d{n:03}"),
            format!("2026-02-{day:02}T{:02}:00:00Z", n % 12 + 8),
            "decision.made",
            "scorer",
            ("decision", &subject_id(n)),
            json!({"deployment": "risk-prod", "model_version": "risk@1.0.0",
                   "output": "decline", "score": 0.25 + n as f64 / 100.0, "mode": "automated",
                   "subject_ref": name, "applicant_name": name, "income": 40000 + n * 1000,
                   "note": format!("call {name} at {PHONE} or {email}"),
                   "raw_extra": {"card": card, "contact": {"mail": email}},
                   "reason_codes": ["R1", format!("card {card}")]}),
        );
        d["rationale"] = json!({"summary": format!("declined for {name} ({email})"),
                                "policy_overrides": [{"rule": "P1", "by": EMAILS[(n + 1) % 3],
                                                      "reason": "manual check"}]});
        d["reason"] = json!(format!("card {card} on file"));
        v.push(d);
        if n % 4 == 0 {
            v.push(ev(
                &format!("o{n:03}"),
                format!("2026-02-{day:02}T{:02}:30:00Z", n % 12 + 8),
                "oversight.action",
                EMAILS[(n + 2) % 3],
                ("decision", &subject_id(n)),
                json!({"action": "override", "reviewer": NAMES[(n + 2) % 3],
                       "reason": format!("complaint from {email}")}),
            ));
        }
    }
    for (i, email) in EMAILS.iter().enumerate() {
        v.push(ev(
            &format!("a{i}"),
            format!("2026-02-20T0{i}:00:00Z"),
            "access",
            email,
            ("resource", "applications"),
            json!({"action": "export", "purpose": format!("audit for {}", NAMES[i]),
                         "result": "success", "recipient": email}),
        ));
        v.push(ev(
            &format!("r{i}"),
            format!("2026-02-21T0{i}:00:00Z"),
            "dsr.received",
            "privacy-desk",
            ("resource", "dsr"),
            json!({"request_id": format!("DSR-{i}"), "type": "contest", "decision": subject_id(i),
                         "note": format!("{} asks for a review, card {}", NAMES[i], CARDS[i])}),
        ));
        v.push(ev(
            &format!("s{i}"),
            format!("2026-02-22T0{i}:00:00Z"),
            "dsr.resolved",
            "privacy-desk",
            ("resource", "dsr"),
            json!({"request_id": format!("DSR-{i}"), "type": "contest", "decision": subject_id(i),
                         "outcome": "fulfilled"}),
        ));
    }
    v.push(ev("inc", "2026-02-23T00:00:00Z".into(), "incident.opened", EMAILS[1],
              ("incident", "INC-1"),
              json!({"title": format!("Complaint by {}", EMAILS[2]), "severity": "low",
                     "affects": [format!("decision:{}", subject_id(0)), format!("decision:{}", subject_id(1))],
                     "root_cause": format!("{} entered {} twice", NAMES[1], CARDS[1])})));
    v
}

/// A config with the three audiences, the regulator and public profiles extended to drop the
/// applicant's name and generalise income, and a detector for the planted names (PRV-01 cannot
/// know names otherwise).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    std::fs::write(dir.path().join("logs/app.jsonl"), chain(&events())).unwrap();
    // A name detector that spells no planted value (the methodology page shows parameters).
    let names = r"[A-Z][a-zë]+ (?:O')?[A-Z][a-z]+";
    std::fs::write(
        dir.path().join("trailbook.toml"),
        format!(
            r#"[[source]]
name = "app"
format = "trailbook-jsonl"
paths = ["logs/app.jsonl"]
chain = "required"

[policy]
packs = ["gdpr"]

[policy.params.PRV-01]
detectors = [{{ name = "person_name", regex = "{names}" }}]

[privacy]
key_env = "TRAILBOOK_TEST_KEY"
key_id = "t1"

[privacy.profile.regulator-plus]
extends = "regulator"
rules = [{{ path = "attrs.applicant_name", action = "drop" }},
         {{ path = "attrs.income", action = "generalize" }}]

[privacy.profile.public-plus]
extends = "public"
rules = [{{ path = "attrs.applicant_name", action = "drop" }}]

[[audience]]
name = "internal"

[[audience]]
name = "regulator"
profile = "regulator-plus"

[[audience]]
name = "public"
profile = "public-plus"
"#
        ),
    )
    .unwrap();
    dir
}

fn build(dir: &Path, out: &Path, key: Option<&str>, extra: &[&str]) -> Output {
    let mut c = bin();
    c.args(["build", "-c"])
        .arg(dir.join("trailbook.toml"))
        .arg("--out")
        .arg(out)
        .args(extra);
    if let Some(k) = key {
        c.env("TRAILBOOK_TEST_KEY", k);
    }
    c.output().expect("trailbook runs")
}

/// Every file under `dir`: relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    out
}

// --- encodings a browser (or a JSON reader) decodes -------------------------------------------

/// The forms of `v` a leak could take: as is; HTML-escaped the way templates escape; every
/// non-alphanumeric character as a decimal and as a hex character reference (`&#64;`, `&#x40;`);
/// percent-encoded (all non-unreserved bytes, and with `+` for spaces); JSON-escaped (as
/// serde_json writes a string, and with every non-ASCII or special character as `\uXXXX`).
fn encodings(v: &str) -> Vec<String> {
    let mut out = vec![v.to_string()];
    let html: String = v
        .chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect();
    out.push(html);
    for hex in [false, true] {
        out.push(
            v.chars()
                .map(|c| {
                    if c.is_alphanumeric() && c.is_ascii() {
                        c.to_string()
                    } else if hex {
                        format!("&#x{:x};", c as u32)
                    } else {
                        format!("&#{};", c as u32)
                    }
                })
                .collect(),
        );
    }
    let pct = |plus: bool| -> String {
        v.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else if plus && b == b' ' {
                    "+".into()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    out.push(pct(false));
    out.push(pct(true));
    let json = serde_json::to_string(v).unwrap();
    out.push(json[1..json.len() - 1].to_string());
    out.push(
        v.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == ' ' {
                    c.to_string()
                } else {
                    let mut buf = [0u16; 2];
                    c.encode_utf16(&mut buf)
                        .iter()
                        .map(|u| format!("\\u{u:04x}"))
                        .collect()
                }
            })
            .collect(),
    );
    out.sort();
    out.dedup();
    out
}

/// Decodes HTML character references, percent escapes and JSON escapes (each on its own), so
/// a value split across mixed escapes is found too.
fn decoded_views(text: &str) -> Vec<String> {
    let html = {
        let re = regex::Regex::new(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|amp|lt|gt|quot|apos);").unwrap();
        re.replace_all(text, |c: &regex::Captures<'_>| {
            let e = &c[1];
            let code = if let Some(h) = e.strip_prefix("#x").or_else(|| e.strip_prefix("#X")) {
                u32::from_str_radix(h, 16).ok()
            } else if let Some(d) = e.strip_prefix('#') {
                d.parse().ok()
            } else {
                Some(match e {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    _ => '\'',
                } as u32)
            };
            code.and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_default()
        })
        .into_owned()
    };
    let pct = {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && let Some(v) = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
            } else {
                out.push(if b[i] == b'+' { b' ' } else { b[i] });
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let json = {
        let re =
            regex::Regex::new(r#"\\u([0-9a-fA-F]{4})(?:\\u([0-9a-fA-F]{4}))?|\\(["\\/])"#).unwrap();
        re.replace_all(text, |c: &regex::Captures<'_>| {
            if let Some(q) = c.get(3) {
                return q.as_str().to_string();
            }
            let hi = u32::from_str_radix(&c[1], 16).unwrap();
            match c
                .get(2)
                .map(|l| u32::from_str_radix(l.as_str(), 16).unwrap())
            {
                Some(lo) if (0xD800..0xDC00).contains(&hi) => {
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        .map(String::from)
                        .unwrap_or_default()
                }
                Some(lo) => format!(
                    "{}{}",
                    char::from_u32(hi).map(String::from).unwrap_or_default(),
                    char::from_u32(lo).map(String::from).unwrap_or_default()
                ),
                None => char::from_u32(hi).map(String::from).unwrap_or_default(),
            }
        })
        .into_owned()
    };
    vec![html, pct, json]
}

/// The slug a file name would give a value (`render::file_slug`'s lower-case form).
fn slug(v: &str) -> String {
    let mut s = String::new();
    for c in v.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

/// Every planted value found in a site tree: (file, value, how).
fn leaks(site: &Path) -> Vec<(String, String, String)> {
    let files = tree(site);
    assert!(!files.is_empty(), "{} is empty", site.display());
    let mut found = Vec::new();
    for value in planted() {
        let forms = encodings(&value);
        let lower = value.to_lowercase();
        for (path, bytes) in &files {
            if path.to_lowercase().contains(&slug(&value)) || path.contains(&value) {
                found.push((path.clone(), value.clone(), "file name".into()));
            }
            let text = String::from_utf8_lossy(bytes);
            for f in &forms {
                if text.contains(f.as_str()) {
                    found.push((path.clone(), value.clone(), format!("as `{f}`")));
                }
            }
            for view in decoded_views(&text) {
                if view.contains(value.as_str()) || view.to_lowercase().contains(&lower) {
                    found.push((path.clone(), value.clone(), "decoded".into()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn root(out: &Path, audience: &str) -> PathBuf {
    out.join(audience)
}

#[test]
fn the_encodings_helper_finds_every_form_it_makes() {
    for v in [
        "obrien+audit@mail.example.org",
        "Zoë O'Brien",
        "4111 1111 1111 1111",
    ] {
        for f in encodings(v) {
            let page = format!("<td title=\"{f}\">{f}</td>");
            assert!(
                decoded_views(&page).iter().any(|d| d.contains(v)) || page.contains(v),
                "{f} of {v} is not decoded"
            );
        }
    }
    assert!(encodings("a@b").contains(&"a&#64;b".to_string()));
    assert!(encodings("a@b").contains(&"a%40b".to_string()));
}

#[test]
fn no_planted_value_reaches_the_regulator_or_public_site_in_any_form() {
    let dir = fixture();
    let out = dir.path().join("site");
    let o = build(dir.path(), &out, Some(KEY), &[]);
    let err = stderr(&o);
    assert!(code(&o) <= 1, "{err}");
    for a in ["internal", "regulator", "public"] {
        assert!(
            err.contains(&format!("wrote version v1 of the site for audience `{a}`")),
            "{err}"
        );
    }
    for a in ["regulator", "public"] {
        let found = leaks(&root(&out, a));
        assert!(found.is_empty(), "{a} leaks:\n{found:#?}");
    }
    // Data-subject requests (PRV-03) on the regulator's retention page: outcome and deadline,
    // and the contested decision by its pseudonym.
    let retention =
        std::fs::read_to_string(root(&out, "regulator").join("v1/retention.html")).unwrap();
    let row = retention
        .split("<tr>")
        .find(|r| r.contains("<code>DSR-1</code>"))
        .expect("DSR-1 is listed");
    assert!(row.contains("fulfilled"), "{row}");
    assert!(
        row.contains("2026-03-21T01:00:00Z"),
        "due a month after receipt: {row}"
    );
    let pseudonym = trailbook::privacy::Key::new("t1", KEY.as_bytes()).token(&subject_id(1));
    assert!(row.contains(&pseudonym), "{row}");
    // The secret is in no file of any audience, and not on stderr.
    for a in ["internal", "regulator", "public"] {
        for (path, bytes) in tree(&root(&out, a)) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(KEY),
                "{a}/{path} holds the key"
            );
        }
    }
    assert!(!err.contains(KEY));
}

#[test]
fn the_internal_site_shows_everything_and_prv01_lists_every_detected_value() {
    let dir = fixture();
    let out = dir.path().join("site");
    let o = build(dir.path(), &out, Some(KEY), &["--audience", "internal"]);
    assert!(code(&o) <= 1, "{}", stderr(&o));
    // With one audience, --out is its root.
    let site = out.clone();
    assert!(site.join("v1/events/1.html").is_file());
    let files = tree(&site);
    let all: String = files
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    for v in planted() {
        let shown = encodings(&v).iter().any(|f| all.contains(f.as_str()));
        assert!(shown, "the internal site does not show `{v}`");
    }
    let json: Value = serde_json::from_slice(&files["v1/findings.json"]).unwrap();
    let prv01: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PRV-01")
        .collect();
    // Every e-mail address, card number, phone number and (with the configured detector) name
    // is listed with the event it was found in, on the findings page (the evidence notes).
    let page = String::from_utf8_lossy(&files["v1/findings.html"]).into_owned();
    let prv01_rows: String = page
        .split("<tr id=\"f-")
        .filter(|row| row.contains("methodology.html#PRV-01\""))
        .collect();
    for v in EMAILS.iter().chain(CARDS).chain(NAMES).chain([&PHONE]) {
        let listed = encodings(v).iter().any(|f| {
            prv01_rows.contains(&format!("`{f}`"))
                || prv01_rows.contains(&format!("<code>{f}</code>"))
        });
        assert!(listed, "PRV-01 does not list `{v}`");
    }
    // With their locations: each evidence entry names the file, line and event.
    for f in &prv01 {
        for e in f["evidence"].as_array().unwrap() {
            assert_eq!(e["path"], "logs/app.jsonl");
            assert!(e["line"].as_u64().unwrap() >= 1 && e["event"].is_string());
        }
    }
    let discriminators: Vec<&str> = prv01
        .iter()
        .map(|f| f["discriminator"].as_str().unwrap())
        .collect();
    for d in [
        "actor.id|email",
        "attrs.note|email",
        "attrs.note|phone",
        "attrs.raw_extra.card|pan",
        "attrs.raw_extra.contact.mail|email",
        "attrs.reason_codes[]|pan",
        "rationale.summary|email",
        "rationale.policy_overrides[].by|email",
        "reason|pan",
        "attrs.applicant_name|person_name",
    ] {
        assert!(
            discriminators.contains(&d),
            "no PRV-01 finding `{d}`: {discriminators:?}"
        );
    }
}

#[test]
fn the_public_site_has_no_drill_down_and_no_count_below_k() {
    let dir = fixture();
    let out = dir.path().join("site");
    let o = build(dir.path(), &out, Some(KEY), &[]);
    assert!(code(&o) <= 1, "{}", stderr(&o));
    let public = root(&out, "public");
    let files = tree(&public);
    assert!(
        files.keys().all(|p| !p.starts_with("v1/events/")),
        "no event pages"
    );
    let link = regex::Regex::new(r#"href="[^"]*events/"#).unwrap();
    let token = regex::Regex::new(r"hmac:[A-Za-z0-9._-]+:[0-9a-f]{16}").unwrap();
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!link.is_match(&text), "{path} links to an event page");
        if let Some(m) = token.find(&text) {
            panic!("{path} holds a pseudonym: {}", m.as_str());
        }
    }
    let decisions = String::from_utf8_lossy(&files["v1/decisions.html"]).into_owned();
    assert!(
        !decisions.contains("Individual decisions (")
            && decisions.contains("drill-down is not available"),
        "no decision drill-down"
    );
    // Every count cell of the count tables is 0, at least 10, or suppressed.
    let cell = regex::Regex::new(r#"<td class="num">([^<]*)</td>"#).unwrap();
    for page in ["v1/decisions.html", "v1/access.html", "v1/retention.html"] {
        let html = String::from_utf8_lossy(&files[page]).into_owned();
        for c in cell.captures_iter(&html) {
            let t = c[1].replace(['\u{202f}', ','], "");
            if t.contains("&lt;") || t.contains('%') || t.contains('.') || t.contains('–') {
                continue;
            }
            if let Ok(n) = t.trim().parse::<u64>() {
                assert!(n == 0 || n >= 10, "{page}: count {n} below k");
            }
        }
    }
    assert!(
        decisions.contains("&lt; 10"),
        "small counts are shown as < 10"
    );
    // Findings in public are aggregates too: no evidence, no message details, no count below k.
    let findings: serde_json::Value = serde_json::from_slice(&files["v1/findings.json"]).unwrap();
    let list = findings["findings"].as_array().unwrap();
    assert!(!list.is_empty());
    for f in list {
        assert_eq!(f["evidence"], serde_json::json!([]), "{f}");
        assert!(f["count"].as_u64().is_none_or(|c| c >= 10), "{f}");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .starts_with(f["title"].as_str().unwrap()),
            "{f}"
        );
    }
    // The regulator keeps drill-down, with redacted events rather than logged lines.
    let reg = root(&out, "regulator").join("v1/events/1.html");
    let html = std::fs::read_to_string(reg).unwrap();
    assert!(
        html.contains("hmac:t1:"),
        "pseudonyms on the regulator's event pages"
    );
}

#[test]
fn pseudonyms_are_stable_under_one_key_and_change_with_another() {
    let dir = fixture();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let c = dir.path().join("c");
    for (out, key) in [(&a, KEY), (&b, KEY), (&c, OTHER_KEY)] {
        let o = build(dir.path(), out, Some(key), &["--audience", "regulator"]);
        assert!(code(&o) <= 1, "{}", stderr(&o));
    }
    let token = |key: &str, v: &str| trailbook::privacy::Key::new("t1", key.as_bytes()).token(v);
    let text = |out: &Path| -> String {
        tree(out)
            .values()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    };
    let (ta, tb, tc) = (text(&a), text(&b), text(&c));
    assert_eq!(
        tree(&a),
        tree(&b),
        "same inputs and key: byte-identical sites"
    );
    for v in [EMAILS[0], NAMES[1], &subject_id(4)] {
        let t = token(KEY, v);
        assert!(ta.contains(&t) && tb.contains(&t), "{v} → {t}");
        assert!(!tc.contains(&t), "another key gives other pseudonyms");
        assert!(tc.contains(&token(OTHER_KEY, v)));
    }
}

#[test]
fn keys_and_audiences_are_checked_before_any_work() {
    let dir = fixture();
    let out = dir.path().join("site");
    // The key is configured but not set: exit 2, naming the variable, nothing written.
    let o = build(dir.path(), &out, None, &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`TRAILBOOK_TEST_KEY`"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    // Too short a key.
    let o = build(dir.path(), &out, Some("short"), &[]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("5 bytes") && !stderr(&o).contains("short\n"),
        "{}",
        stderr(&o)
    );
    // An unknown audience lists the configured ones.
    let o = build(dir.path(), &out, Some(KEY), &["--audience", "press"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(
            "no audience `press`; the configured audiences are: internal, regulator, public"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn without_a_key_the_default_regulator_is_left_out_with_a_notice() {
    let dir = fixture();
    let config = dir.path().join("trailbook.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let cut = text.find("[privacy]").unwrap();
    std::fs::write(&config, &text[..cut]).unwrap();
    let o = bin().args(["build", "-c"]).arg(&config).output().unwrap();
    let err = stderr(&o);
    assert!(code(&o) <= 1, "{err}");
    assert!(
        err.contains("notice: audience `regulator` pseudonymises identifiers"),
        "{err}"
    );
    assert!(dir.path().join("site/internal/v1/index.html").is_file());
    assert!(dir.path().join("site/public/v1/index.html").is_file());
    assert!(!dir.path().join("site/regulator").exists());
    // Asking for it by name is an error.
    let o = bin()
        .args(["build", "-c"])
        .arg(&config)
        .args(["--audience", "regulator"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("needs a pseudonym key"),
        "{}",
        stderr(&o)
    );
}

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::config::{ChainMode, Source};
use crate::event::Event;

fn source(map: &[(&str, &str)]) -> Source {
    Source {
        name: "access-log".into(),
        format: "csv".into(),
        paths: vec![],
        chain: ChainMode::Optional,
        anchor: None,
        first_seq: 1,
        map: map
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

const MAP: &[(&str, &str)] = &[
    ("ts", "timestamp"),
    ("kind", "'access'"),
    ("actor.id", "user"),
    ("actor.type", "'human'"),
    ("subject.type", "'dataset'"),
    ("subject.id", "table"),
    ("attrs.action", "op"),
    ("attrs.purpose", "why"),
];

fn read_csv(map: &[(&str, &str)], text: &str) -> FileOut {
    let config = source(map);
    let cx = Cx {
        source: 0,
        config: &config,
    };
    let file = InputFile {
        index: 0,
        path: "logs/access.csv",
        abs: Path::new("logs/access.csv"),
        bytes: text.as_bytes(),
    };
    let mut outs = read(&cx, std::slice::from_ref(&file));
    let out = outs.remove(0);
    assert_eq!(
        out.records,
        out.events.len() as u64 + out.quarantine.len() as u64 + out.folded,
        "records = events + quarantined + folded"
    );
    out
}

fn attrs(e: &Event) -> Value {
    serde_json::from_str(e.attrs.get()).unwrap()
}

#[test]
fn rows_map_to_events_with_origins_and_extra_columns() {
    let text = "timestamp,user,table,op,why,client\r\n\
2026-01-10T09:00:00Z,dana,loans@2026-01,read,model training,\"jupyter, v7\"\r\n\
2026-01-10 10:00:00.25+02:00,ari,loans@2026-01,export,,cli\r\n";
    let out = read_csv(MAP, text);
    assert_eq!(out.records, 2);
    assert!(out.quarantine.is_empty(), "{:?}", out.quarantine);
    let e = &out.events[0];
    assert_eq!(e.kind, "access");
    assert_eq!(e.actor.id, "dana");
    assert_eq!(e.subject.as_ref().unwrap().id, "loans@2026-01");
    assert!(e.id.starts_with("csv:access-log:"), "{}", e.id);
    assert_eq!(e.id.len(), "csv:access-log:".len() + 16);
    let a = attrs(e);
    assert_eq!(a["action"], "read");
    assert_eq!(a["purpose"], "model training");
    assert_eq!(a["raw_extra"], json!({"client": "jupyter, v7"}));
    let o = e.origin;
    assert_eq!(o.line, 2);
    assert_eq!(
        &text.as_bytes()[o.offset as usize..(o.offset + o.len) as usize],
        b"2026-01-10T09:00:00Z,dana,loans@2026-01,read,model training,\"jupyter, v7\""
    );
    assert_eq!(
        a["origin"]["sha256"],
        hex::encode(Sha256::digest(
            b"2026-01-10T09:00:00Z,dana,loans@2026-01,read,model training,\"jupyter, v7\""
        ))
    );
    let e2 = &out.events[1];
    assert_eq!(crate::time::fmt(e2.ts), "2026-01-10T08:00:00.25Z");
    assert!(
        attrs(e2).get("purpose").is_none(),
        "an empty optional cell is left out"
    );
    assert_ne!(e.id, e2.id);
}

#[test]
fn rows_that_cannot_map_are_quarantined_with_line_and_reason() {
    let text = "timestamp,user,table,op,why\n\
2026-01-10T09:00:00Z,,loans,read,x\n\
yesterday,dana,loans,read,x\n\
2026-01-10T09:00:00,dana,loans,read,x\n\
2026-01-10T09:00:00Z,dana,loans,,x\n\
2026-01-10T09:00:00Z,{{ user }},loans,read,x\n\
1768035600,dana,loans,read,x\n";
    let out = read_csv(MAP, text);
    let q: Vec<(u64, usize, &str)> = out
        .quarantine
        .iter()
        .map(|q| (q.origin.line, q.column, q.reason.as_str()))
        .collect();
    assert_eq!(out.events.len(), 1, "{q:?}");
    assert_eq!(crate::time::fmt(out.events[0].ts), "2026-01-10T09:00:00Z");
    assert_eq!(q.len(), 5, "{q:?}");
    assert_eq!(q[0].0, 2);
    assert!(
        q[0].2
            .contains("column `user` (mapped to `actor.id`) is empty"),
        "{q:?}"
    );
    assert_eq!(q[0].1, 22, "the column of the empty cell");
    assert!(
        q[1].2
            .contains("row 3: column `timestamp` (mapped to `ts`)"),
        "{q:?}"
    );
    assert!(q[2].2.contains("no time zone"), "{q:?}");
    assert!(q[3].2.contains("`access` requires `attrs.action`"), "{q:?}");
    assert!(
        q[4].2.contains("template placeholder `{{ user }}`"),
        "{q:?}"
    );
}

#[test]
fn a_mapped_column_missing_from_the_header_says_so_on_every_row() {
    let text = "2026-01-10T09:00:00Z,dana,loans,read,x\n2026-01-11T09:00:00Z,dana,loans,read,x\n";
    let out = read_csv(MAP, text);
    assert_eq!(out.records, 1, "the first line is the header");
    let r = &out.quarantine[0].reason;
    assert!(
        r.contains("`timestamp` (mapped to `ts`) is not in it")
            && r.contains("`user` (mapped to `actor.id`)"),
        "{r}"
    );
    assert!(read_csv(MAP, "").records == 0, "an empty file has no rows");
    assert_eq!(read_csv(MAP, "timestamp,user,table,op,why\n").records, 0);
}

#[test]
fn ids_literals_nested_attrs_and_credentials() {
    let map = &[
        ("id", "event_id"),
        ("ts", "when"),
        ("kind", "'deployment.started'"),
        ("actor.id", "'ci'"),
        ("actor.type", "'service'"),
        ("subject.type", "'deployment'"),
        ("subject.id", "name"),
        ("attrs.model_version", "model"),
        ("attrs.target.endpoint", "url"),
        ("env", "env"),
    ];
    let text = "event_id,when,name,model,url,env\n\
d-1,2026-01-10T09:00:00Z,scoring-api,credit-risk@15,https://deployer:hunter2pass@api.internal/score,production\n";
    let out = read_csv(map, text);
    assert!(out.quarantine.is_empty(), "{:?}", out.quarantine);
    let e = &out.events[0];
    assert_eq!(e.id, "d-1");
    assert_eq!(e.env.as_deref(), Some("production"));
    let a = attrs(e);
    assert_eq!(a["target"]["endpoint"], "https://api.internal/score");
    assert_eq!(e.refs[0].target.as_str(), "model_version:credit-risk@15");
    let all = serde_json::to_string(&out.events).unwrap();
    assert!(!all.contains("hunter2pass"), "{all}");
}

#[test]
fn a_csv_source_runs_through_the_pipeline() {
    let case = crate::testing::check_config(
        &[(
            "a.csv",
            "when,who,what\n2026-01-10T09:00:00Z,dana,read\nbad,dana,read\n",
        )],
        "[[source]]\nname = \"acc\"\nformat = \"csv\"\npaths = [\"a.csv\"]\n[source.map]\nts = \"when\"\nkind = \"'access'\"\nactor.id = \"who\"\nactor.type = \"'human'\"\nsubject.type = \"'resource'\"\nsubject.id = \"'warehouse'\"\n\"attrs.action\" = \"what\"\n",
    );
    let s = &case.loaded.ingest.sources[0];
    assert_eq!((s.lines, s.events, s.quarantined), (2, 1, 1));
    assert_eq!(case.loaded.ingest.quarantine[0].origin.line, 3);
}

#[test]
fn a_byte_order_mark_and_short_rows_are_tolerated() {
    let text = "\u{feff}timestamp,user,table,op,why\n2026-01-10T09:00:00Z,dana,loans,read\n";
    let out = read_csv(MAP, text);
    assert_eq!(out.events.len(), 1, "{:?}", out.quarantine);
    assert!(attrs(&out.events[0]).get("purpose").is_none());
}

use serde_json::{Value, json};

use crate::testing::{Case, chain, check_config, ev};

const SOURCE: &str =
    "[[source]]\nname = \"main\"\nformat = \"trailbook-jsonl\"\npaths = [\"main.jsonl\"]\n";

fn case(events: &[Value], links: &str) -> Case {
    let text = chain(events);
    check_config(&[("main.jsonl", &text)], &format!("{SOURCE}{links}"))
}

fn edges(case: &Case) -> Vec<String> {
    let g = &case.loaded.graph;
    let all = g.select(None, None).unwrap();
    let json = serde_json::to_value(g.to_json(&all)).unwrap();
    json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["from"].as_str().unwrap(),
                e["rel"].as_str().unwrap(),
                e["to"].as_str().unwrap()
            )
        })
        .collect()
}

fn dataset(id: &str, ds: &str) -> Value {
    let (name, version) = ds.rsplit_once('@').unwrap();
    ev(
        id,
        "2026-01-01T00:00:00Z",
        "dataset.registered",
        &format!("dataset:{ds}"),
        json!({"name": name, "version": version}),
    )
}

fn model(id: &str, mv: &str, datasets: &[&str]) -> Value {
    let (m, v) = mv.split_once('@').unwrap();
    let ds: Vec<Value> = datasets
        .iter()
        .map(|d| json!({"id": d, "role": "train"}))
        .collect();
    ev(
        id,
        "2026-01-02T00:00:00Z",
        "model.registered",
        &format!("model_version:{mv}"),
        json!({"model": m, "version": v, "datasets": ds}),
    )
}

#[test]
fn same_joins_names_and_their_versions_and_keeps_the_alias() {
    let c = case(
        &[
            dataset("d1", "warehouse/loans@v7"),
            model("m1", "credit-risk@15", &["main.risk.loans@v7"]),
        ],
        "[[link]]\nsame = [\"dataset:warehouse/loans\", \"dataset:main.risk.loans\"]\n",
    );
    assert!(
        edges(&c).contains(
            &"dataset:warehouse/loans@v7 trained_on model_version:credit-risk@15".to_string()
        ),
        "{:?}",
        edges(&c)
    );
    assert!(c.keys("LINK-01").is_empty(), "{:?}", c.keys("LINK-01"));
    let g = &c.loaded.graph;
    let all = g.select(None, None).unwrap();
    let json = serde_json::to_value(g.to_json(&all)).unwrap();
    let node = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "dataset:warehouse/loans@v7")
        .unwrap();
    assert_eq!(node["aliases"], json!(["dataset:main.risk.loans@v7"]));
    assert_eq!(c.loaded.ingest.links[0].matched, 1);
    let pages = c.site();
    let href =
        crate::render::links::href(&crate::event::NodeId("dataset:warehouse/loans@v7".into()))
            .unwrap();
    let html = crate::testing::page(&pages, &href);
    assert!(
        html.contains("Also named") && html.contains("<code>dataset:main.risk.loans@v7</code>"),
        "{html}"
    );
}

#[test]
fn exact_ids_join_exactly_and_an_unused_join_is_link01_c() {
    let c = case(
        &[
            dataset("d1", "warehouse/loans@ol-1a2b"),
            dataset("d2", "main.risk.loans@abc"),
            model("m1", "credit-risk@15", &["main.risk.loans@abc"]),
        ],
        "[[link]]\nsame = [\"dataset:warehouse/loans@ol-1a2b\", \"dataset:main.risk.loans@abc\"]\n\n[[link]]\nsame = [\"dataset:a\", \"dataset:nobody\"]\n",
    );
    let e = edges(&c);
    assert!(
        e.contains(
            &"dataset:warehouse/loans@ol-1a2b trained_on model_version:credit-risk@15".to_string()
        ),
        "{e:?}"
    );
    assert!(
        !e.iter().any(|x| x.contains("main.risk.loans")),
        "the alias is no node of its own: {e:?}"
    );
    let keys = c.keys("LINK-01");
    assert_eq!(
        keys,
        [crate::testing::k("config:link[1]", "c", "warn")],
        "{keys:?}"
    );
    let f = c.of("LINK-01")[0];
    assert!(
        f.message.contains("no event names `dataset:nobody`") && f.message.contains("line 8"),
        "{}",
        f.message
    );
}

#[test]
fn pattern_rules_state_edges_from_captures_and_labels() {
    let stopped = |id: &str, dep: &str, labels: Value| {
        ev(
            id,
            "2026-01-03T00:00:00Z",
            "deployment.stopped",
            &format!("deployment:{dep}"),
            json!({"raw_extra": {"metadata": {"labels": labels}}}),
        )
    };
    let c = case(
        &[
            model("m1", "credit-risk@15", &[]),
            stopped("k1", "scoring-credit-risk", json!({"model-version": "15"})),
            stopped("k2", "scoring-fraud", json!({"model-version": "3"})),
            stopped("k3", "scoring-churn", json!({"team": "x"})),
            stopped("k4", "batch-export", json!({})),
        ],
        "[[link]]\nrule = \"k8s deployment name → model\"\nmatch = { type = \"deployment\", id = \"^scoring-(?P<model>.+)$\" }\nserves = \"model_version:{model}@{label:model-version}\"\n\n[[link]]\nrule = \"nothing\"\nmatch = { type = \"run\", id = \".\" }\nconsumes = \"dataset:x@1\"\n",
    );
    let e = edges(&c);
    assert!(
        e.contains(
            &"model_version:credit-risk@15 serves deployment:scoring-credit-risk".to_string()
        ),
        "{e:?}"
    );
    assert!(
        e.contains(&"model_version:fraud@3 serves deployment:scoring-fraud".to_string()),
        "{e:?}"
    );
    let keys = c.keys("LINK-01");
    // fraud@3 is registered by nobody: (a), named by the link reference.
    let f = c
        .of("LINK-01")
        .into_iter()
        .find(|f| f.subject == "model_version:fraud@3")
        .unwrap();
    assert!(f.message.contains("link.serves"), "{}", f.message);
    // The churn deployment has no such label: (c) for the rule, with its event as evidence.
    let rule = c
        .of("LINK-01")
        .into_iter()
        .find(|f| f.subject == "config:link[0]")
        .unwrap_or_else(|| panic!("{keys:?}"));
    assert!(
        rule.message
            .contains("1 of 3 matched `deployment` entities states no relation")
            && rule.message.contains("no label `model-version`"),
        "{}",
        rule.message
    );
    assert_eq!(rule.evidence[0].event.as_deref(), Some("k3"));
    let none = c
        .of("LINK-01")
        .into_iter()
        .find(|f| f.subject == "config:link[1]")
        .unwrap();
    assert!(
        none.message.contains("no event has a `run` subject"),
        "{}",
        none.message
    );
    assert_eq!(c.loaded.ingest.links[0].matched, 3);
    assert_eq!(c.loaded.ingest.links[0].stated, 2);
}

#[test]
fn labels_are_found_breadth_first_and_attrs_by_path() {
    let attrs: serde_json::Map<String, Value> = serde_json::from_value(json!({
        "target": {"labels": {"v": "deep"}, "namespace": "prod"},
        "labels": {"v": "top"},
        "tags": {"w": 7}
    }))
    .unwrap();
    assert_eq!(super::label(&attrs, "v").as_deref(), Some("top"));
    assert_eq!(super::label(&attrs, "w").as_deref(), Some("7"));
    assert_eq!(super::label(&attrs, "x"), None);
    assert_eq!(
        super::attr(&attrs, "target.namespace").as_deref(),
        Some("prod")
    );
    assert_eq!(super::attr(&attrs, "target"), None);
}

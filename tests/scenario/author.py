#!/usr/bin/env python3
"""Authors the scenario's events (unchained) into tests/scenario/events/*.jsonl.

Written from EVENT-SCHEMA.md alone. Digests are SHA-256 of a label, so the files are
reproducible. `chain.py` then writes the chained logs that trailbook.toml reads.
Planted violations are marked `PLANT` in comments; README.md lists them.
"""

import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def D(label):
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def commit(label):
    return hashlib.sha1(label.encode()).hexdigest()


def ref(label):
    """A keyed pseudonym in the form PRV-02 expects."""
    return "hmac:k2026a:" + hashlib.sha256(("subj:" + label).encode()).hexdigest()[:24]


def H(id, role=None):
    a = {"id": id, "type": "human"}
    if role:
        a["role"] = role
    return a


def S(id):
    return {"id": id, "type": "service"}


def ev(id, ts, kind, actor, subject, attrs, system=None, env=None, **extra):
    e = {"id": id, "ts": ts, "kind": kind, "actor": actor}
    if system:
        e["system"] = system
    e["subject"] = {"type": subject[0], "id": subject[1]}
    if env:
        e["env"] = env
    e["attrs"] = attrs
    for k in ("rationale", "data_classes", "retention_class", "legal_holds", "supersedes", "reason"):
        if k in extra:
            e[k] = extra.pop(k)
    if "recorded_ts" in extra:
        # keep the envelope order of EVENT-SCHEMA.md: recorded_ts right after ts
        rec = extra.pop("recorded_ts")
        e = {k: v for k, v in [("id", e["id"]), ("ts", e["ts"]), ("recorded_ts", rec)] + [(k, v) for k, v in e.items() if k not in ("id", "ts")]}
    assert not extra, extra
    return e


CR = "credit-scoring"
HR = "hiring-screen"
P = ["personal"]

# ---------------------------------------------------------------- registry
registry = []
R = registry.append

R(ev("sys-0001", "2026-08-03T09:00:00Z", "system.registered", H("mrm-lead", "model-risk-head"), ("system", CR), {
    "name": "Consumer credit scoring",
    "intended_purpose": "Assess creditworthiness of consumer loan applicants",
    "role": "provider", "risk": "high", "annex_iii_point": "5(b)",
    "jurisdictions": ["EU"], "owner": "risk-analytics",
    "placed_on_market": "2026-09-01T08:00:00Z"}, system=CR))
R(ev("sys-0002", "2026-08-03T09:30:00Z", "system.registered", H("people-ops-lead", "hr-director"), ("system", HR), {
    "name": "Candidate screening (vendor model)",
    "intended_purpose": "Rank applications for recruiter review",
    "role": "deployer", "risk": "high", "annex_iii_point": "4(a)",
    "jurisdictions": ["US-NY-NYC"], "owner": "people-analytics"}, system=HR))


def doc(id, ts, docid, doc_type, describes, eff_from, system, actor=H("dpo", "data-protection-officer"), eff_to=None, uri=True, **extra):
    a = {"doc_type": doc_type, "version": "1", "digest": D("doc:" + docid)}
    if uri:
        a["uri"] = "https://docs.scenario-bank.example/" + docid + ".pdf"
    a["describes"] = describes
    a["effective_from"] = eff_from
    if eff_to:
        a["effective_to"] = eff_to
    a["signed_by"] = actor["id"]
    return ev(id, ts, "document.registered", actor, ("document", docid), a, system=system, **extra)


R(doc("doc-0001", "2026-08-03T10:00:00Z", "ropa-cr", "ropa", ["system:" + CR], "2026-08-03T00:00:00Z", CR))
R(doc("doc-0002", "2026-08-03T10:10:00Z", "dpia-cr", "dpia", ["system:" + CR], "2026-08-03T00:00:00Z", CR))
R(doc("doc-0003", "2026-08-03T11:00:00Z", "ropa-hr", "ropa", ["system:" + HR], "2026-08-03T00:00:00Z", HR))
# PLANT PRV-04 (b): no dpia for hiring-screen.
R(doc("doc-0004", "2026-08-04T08:00:00Z", "ds-bureau", "datasheet", ["dataset:bureau-raw@2026-07"], "2026-08-04T00:00:00Z", CR, actor=H("dana", "data-engineer")))


def dataset(id, ts, name, version, system, origin=None, datasheet=None, personal=True, rows=10000, actor=H("dana", "data-engineer"), **extra):
    a = {"name": name, "version": version, "digest": D("data:" + name + "@" + version), "rows": rows,
         "schema": [{"name": "applicant_key", "type": "string"}, {"name": "features", "type": "struct"}]}
    if origin:
        a["origin"] = origin
    a["owner"] = "data-engineering"
    if datasheet:
        a["datasheet"] = datasheet
    if personal:
        extra["data_classes"] = P
    return ev(id, ts, "dataset.registered", actor, ("dataset", name + "@" + version), a, system=system, **extra)


R(dataset("ds-reg-0001", "2026-08-04T09:00:00Z", "bureau-raw", "2026-07", CR, origin={
    "source": "credit bureau monthly file", "acquired_ts": "2026-07-31T00:00:00Z", "method": "sftp batch delivery",
    "legal_basis": "contract", "original_purpose": "creditworthiness assessment"}, datasheet="ds-bureau", rows=120000))

R(ev("run-0001", "2026-08-05T10:00:00Z", "run.completed", S("airflow"), ("run", "prep-loans-0805"), {
    "job": "prep-loans", "status": "completed", "started_ts": "2026-08-05T09:00:00Z",
    "inputs": ["dataset:bureau-raw@2026-07"],
    "outputs": ["dataset:loans-train@2026-08", "dataset:loans-test@2026-08"],
    "code": {"repo": "git.scenario-bank.example/risk/pipelines", "commit": commit("prep"), "path": "prep/loans.py"},
    "pipeline_version": "3.2.0", "params_digest": D("params:prep")}, system=CR))
R(doc("doc-0005", "2026-08-05T10:02:00Z", "ds-loans", "datasheet", ["dataset:loans-train@2026-08"], "2026-08-05T00:00:00Z", CR, actor=H("dana", "data-engineer")))
R(dataset("ds-reg-0002", "2026-08-05T10:05:00Z", "loans-train", "2026-08", CR, datasheet="ds-loans", rows=96000))
# PLANT MOD-03 (c): the test split names no datasheet.
R(dataset("ds-reg-0003", "2026-08-05T10:06:00Z", "loans-test", "2026-08", CR, rows=24000))
# PLANT DATA-02 (b): bias not examined on the training set.
R(ev("dq-0001", "2026-08-06T09:00:00Z", "dataset.quality_assessed", H("dana", "data-engineer"), ("dataset", "loans-train@2026-08"), {
    "checks": [{"name": "nulls", "passed": True}, {"name": "duplicates", "passed": True}],
    "bias_examined": False, "representativeness": "matches 2025 applicant mix by region and age band",
    "gaps": "thin-file applicants under-represented"}, system=CR))
# PLANT LINK-02 (b): derived from a dataset registered four days later.
R(ev("feat-0001", "2026-08-06T11:00:00Z", "feature.registered", H("ari", "ml-engineer"), ("feature", "dti-ratio"), {
    "name": "dti-ratio", "derived_from": ["dataset:bureau-raw@2026-07", "dataset:income-stmt@2026-08"],
    "transformation": "monthly debt service divided by verified income", "rationale": "affordability signal",
    "owner": "risk-analytics"}, system=CR))
# PLANT LINK-01 (a): derived from a dataset that is never registered.
R(ev("feat-0002", "2026-08-06T11:05:00Z", "feature.registered", H("ari", "ml-engineer"), ("feature", "bureau-tenure"), {
    "name": "bureau-tenure", "derived_from": ["dataset:bureau-extra@2026-06"],
    "transformation": "months since first bureau record", "owner": "risk-analytics"}, system=CR))
R(ev("run-0002", "2026-08-07T12:00:00Z", "run.completed", S("airflow"), ("run", "train-cr-140"), {
    "job": "train-credit-risk", "status": "completed", "started_ts": "2026-08-07T08:00:00Z",
    "inputs": ["dataset:loans-train@2026-08"], "outputs": ["model_version:credit-risk@1.4.0"],
    "code": {"repo": "git.scenario-bank.example/risk/credit-risk", "commit": commit("train140"), "path": "train.py"},
    "pipeline_version": "3.2.0", "params_digest": D("params:train140")}, system=CR))

THR = {"approval_rate": {"min": 0.35, "max": 0.75}, "psi": {"max": 0.2}}
R(ev("mod-0140", "2026-08-07T14:00:00Z", "model.registered", S("mlflow"), ("model_version", "credit-risk@1.4.0"), {
    "model": "credit-risk", "version": "1.4.0", "owner": "risk-analytics", "developers": ["ari", "bo"],
    "intended_purpose": "Probability of default for consumer loan applications",
    "artifact_digest": D("artifact:credit-risk@1.4.0"), "code_commit": commit("train140"),
    "training_run": "train-cr-140",
    "datasets": [{"id": "loans-train@2026-08", "role": "train"}, {"id": "loans-test@2026-08", "role": "test"}],
    "training_data_cutoff": "2026-06-30T23:59:59Z", "changelog": "First production model",
    "hyperparameters": {"max_depth": 6, "n_estimators": 400},
    "runtime": {"language": "python", "version": "3.12", "lockfile_digest": D("lock:140"), "container_image": "registry.scenario-bank.example/credit-risk:1.4.0"},
    "limitations": "Not validated for applicants without bureau history",
    "input_spec": "application form v5 plus bureau file", "oversight_measures": "declines above 10k EUR reviewed by credit officers",
    "monitoring_thresholds": THR}, system=CR))
# PLANT MOD-05 (a): credit-risk@1.4.0 has no risk_tier (above).
# PLANT MOD-02 (e): thresholds set after the evaluation ran.
R(ev("ev-0140", "2026-08-09T15:00:00Z", "model.evaluated", H("carol", "validator"), ("model_version", "credit-risk@1.4.0"), {
    "metrics": [{"name": "auc", "value": 0.81, "ci_low": 0.8, "ci_high": 0.82}],
    "datasets": [{"id": "loans-test@2026-08", "n": 24000}],
    "subgroups": [{"group": "age<30", "metric": "auc", "value": 0.79, "n": 5100}, {"group": "age>=30", "metric": "auc", "value": 0.82, "n": 18900}],
    "thresholds": {"auc": 0.78}, "thresholds_set_ts": "2026-08-10T00:00:00Z", "passed": True,
    "report_digest": D("report:140"), "signed_by": "carol", "signed_ts": "2026-08-09T16:00:00Z"}, system=CR))
R(dataset("ds-reg-0004", "2026-08-10T09:00:00Z", "income-stmt", "2026-08", CR, origin={
    "source": "national statistics office", "acquired_ts": "2026-08-09T00:00:00Z", "method": "open data download",
    "legal_basis": "public data", "original_purpose": "official statistics"}, personal=False, rows=4200))
R(ev("val-0140", "2026-08-12T10:00:00Z", "model.validated", H("carol", "validator"), ("model_version", "credit-risk@1.4.0"), {
    "validator": "carol", "decision": "approve", "scope": "full validation", "next_review_due": "2027-08-12T00:00:00Z"}, system=CR))
# PLANT LINK-05 (a): completed exploratory run with no outputs.
R(ev("run-0003", "2026-08-12T16:00:00Z", "run.completed", H("bo", "ml-engineer"), ("run", "eda-0812"), {
    "job": "eda-notebook", "status": "completed", "started_ts": "2026-08-12T13:00:00Z",
    "inputs": ["dataset:bureau-raw@2026-07"],
    "code": {"repo": "git.scenario-bank.example/risk/notebooks", "commit": commit("eda"), "path": "eda/bureau.ipynb"}}, system=CR))

R(doc("doc-0006", "2026-08-12T08:00:00Z", "ds-applicants", "datasheet", ["dataset:applicants-hist@2026-06", "dataset:applicants-holdout@2026-06"], "2026-08-12T00:00:00Z", HR, actor=H("lee", "hr-analytics-lead")))
HR_ORIGIN = {"source": "vendor customer pool (consented)", "acquired_ts": "2026-06-30T00:00:00Z", "method": "vendor delivery",
             "legal_basis": "legitimate_interest", "original_purpose": "candidate screening model development"}
R(dataset("ds-reg-0005", "2026-08-12T09:00:00Z", "applicants-hist", "2026-06", HR, origin=HR_ORIGIN, datasheet="ds-applicants", rows=64000, actor=H("lee", "hr-analytics-lead")))
R(dataset("ds-reg-0006", "2026-08-12T09:05:00Z", "applicants-holdout", "2026-06", HR, origin=HR_ORIGIN, datasheet="ds-applicants", rows=7900, actor=H("lee", "hr-analytics-lead")))
R(ev("prom-0140-s", "2026-08-13T09:00:00Z", "model.promoted", H("carol", "validator"), ("model_version", "credit-risk@1.4.0"), {
    "from_env": "development", "to_env": "staging", "artifact_digest": D("artifact:credit-risk@1.4.0"), "approval": "val-0140"}, system=CR))
R(ev("dq-0002", "2026-08-13T10:00:00Z", "dataset.quality_assessed", H("lee", "hr-analytics-lead"), ("dataset", "applicants-hist@2026-06"), {
    "checks": [{"name": "schema", "passed": True}, {"name": "label leakage", "passed": True}],
    "bias_examined": True, "representativeness": "covers 2023-2025 applicants for all role families",
    "gaps": "few applicants for executive roles"}, system=HR))
# PLANT LOG-07 (a): correction without a reason (rows 7900 -> 8000); it still applies.
R(dataset("ds-reg-0007", "2026-08-13T10:30:00Z", "applicants-holdout", "2026-06", HR, origin=HR_ORIGIN, datasheet="ds-applicants", rows=8000, actor=H("lee", "hr-analytics-lead"), supersedes="ds-reg-0006"))
R(doc("doc-0007", "2026-08-14T09:00:00Z", "ifu-rr", "instructions_for_use", ["model_version:resume-ranker@2.1.0"], "2026-08-14T00:00:00Z", HR, actor=H("lee", "hr-analytics-lead")))
R(ev("mod-rr-210", "2026-08-14T10:00:00Z", "model.registered", S("model-registry"), ("model_version", "resume-ranker@2.1.0"), {
    "model": "resume-ranker", "version": "2.1.0", "owner": "talentai", "developers": ["tai-ml-1", "tai-ml-2"],
    "intended_purpose": "Rank applications against a job profile for recruiter review",
    "artifact_digest": D("artifact:resume-ranker@2.1.0"), "code_commit": commit("rr210"),
    "datasets": [{"id": "applicants-hist@2026-06", "role": "train"}, {"id": "applicants-holdout@2026-06", "role": "test"}],
    "training_data_cutoff": "2026-06-30T00:00:00Z", "changelog": "Vendor release 2.1.0",
    "limitations": "English-language CVs only", "input_spec": "parsed CV and job profile",
    "oversight_measures": "every ranking reviewed by a recruiter", "risk_tier": "tier-2",
    "monitoring_thresholds": {"selection_rate": {"min": 0.05, "max": 0.6}}}, system=HR))
R(doc("doc-0008", "2026-08-20T09:00:00Z", "tech-doc-cr", "tech_doc", ["system:" + CR], "2026-08-20T00:00:00Z", CR, actor=H("mrm-lead", "model-risk-head")))
R(doc("doc-0009", "2026-08-20T09:10:00Z", "ifu-cr", "instructions_for_use", ["system:" + CR], "2026-08-20T00:00:00Z", CR, actor=H("mrm-lead", "model-risk-head")))
R(doc("doc-0010", "2026-08-20T09:20:00Z", "pmm-cr", "pmm_plan", ["system:" + CR], "2026-08-20T00:00:00Z", CR, actor=H("mrm-lead", "model-risk-head")))
R(ev("prom-0140-p", "2026-08-25T09:00:00Z", "model.promoted", H("carol", "validator"), ("model_version", "credit-risk@1.4.0"), {
    "from_env": "staging", "to_env": "production", "artifact_digest": D("artifact:credit-risk@1.4.0"), "approval": "val-0140"}, system=CR))
# PLANT DEP-01 (c): the EU declaration takes effect the day after the first production start.
R(doc("doc-0011", "2026-08-28T09:00:00Z", "eudecl-cr", "eu_declaration", ["system:" + CR], "2026-09-02T00:00:00Z", CR, actor=H("mrm-lead", "model-risk-head")))
R(ev("ev-rr-210", "2026-09-15T12:00:00Z", "model.evaluated", H("auditor-k", "independent-auditor"), ("model_version", "resume-ranker@2.1.0"), {
    "metrics": [{"name": "ndcg", "value": 0.74}, {"name": "selection_rate", "value": 0.31}],
    "datasets": [{"id": "applicants-holdout@2026-06", "n": 8000}],
    "subgroups": [
        {"group": "female", "metric": "selection_rate", "value": 0.30, "n": 3900},
        {"group": "female", "metric": "impact_ratio", "value": 0.94, "n": 3900},
        {"group": "male", "metric": "selection_rate", "value": 0.32, "n": 3700},
        {"group": "male", "metric": "impact_ratio", "value": 1.0, "n": 3700},
        {"group": "unknown", "metric": "selection_rate", "value": 0.29, "n": 400},
        {"group": "unknown", "metric": "impact_ratio", "value": 0.91, "n": 400}],
    "thresholds": {"impact_ratio": 0.8}, "thresholds_set_ts": "2026-09-01T00:00:00Z", "passed": True,
    "report_digest": D("report:rr210"), "signed_by": "fairaudit-llc", "signed_ts": "2026-09-15T12:00:00Z"}, system=HR))
# PLANT DEP-04 (a): the validation sets a review date one day into live use.
R(ev("val-rr-210", "2026-09-18T10:00:00Z", "model.validated", H("lee", "hr-analytics-lead"), ("model_version", "resume-ranker@2.1.0"), {
    "validator": "lee", "decision": "approve", "scope": "deployer acceptance",
    "conditions": "re-review after the first day of live screening", "next_review_due": "2026-10-31T12:00:00Z"}, system=HR))
R(doc("doc-0012", "2026-09-19T09:00:00Z", "ds-telco", "datasheet", ["dataset:telco-alt@2026-08"], "2026-09-19T00:00:00Z", CR, actor=H("dana", "data-engineer")))
# PLANT LINK-03 (b): development -> production, staging skipped.
R(ev("prom-rr-p", "2026-09-20T09:00:00Z", "model.promoted", H("lee", "hr-analytics-lead"), ("model_version", "resume-ranker@2.1.0"), {
    "from_env": "development", "to_env": "production", "artifact_digest": D("artifact:resume-ranker@2.1.0"), "approval": "val-rr-210"}, system=HR))
# PLANT DATA-01 (a): personal root dataset whose origin has no original_purpose.
R(dataset("ds-reg-0008", "2026-09-20T10:00:00Z", "telco-alt", "2026-08", CR, origin={
    "source": "telecom payment history broker", "acquired_ts": "2026-09-15T00:00:00Z", "method": "api pull",
    "legal_basis": "consent"}, datasheet="ds-telco", rows=88000))
R(ev("dq-0003", "2026-09-22T09:00:00Z", "dataset.quality_assessed", H("dana", "data-engineer"), ("dataset", "telco-alt@2026-08"), {
    "checks": [{"name": "match rate", "passed": True}], "bias_examined": True,
    "representativeness": "71 percent of applicants matched", "gaps": "no coverage of prepaid-only customers"}, system=CR))
R(ev("run-0004", "2026-09-25T18:00:00Z", "run.completed", S("airflow"), ("run", "train-cr-150"), {
    "job": "train-credit-risk", "status": "completed", "started_ts": "2026-09-25T12:00:00Z",
    "inputs": ["dataset:loans-train@2026-08", "dataset:telco-alt@2026-08"], "outputs": ["model_version:credit-risk@1.5.0"],
    "code": {"repo": "git.scenario-bank.example/risk/credit-risk", "commit": commit("train150"), "path": "train.py"},
    "pipeline_version": "3.3.0", "params_digest": D("params:train150")}, system=CR))
# PLANT MOD-04 (a): no limitations.  MOD-06 (c) (info): material change of a high-risk provider system.
R(ev("mod-0150", "2026-09-26T10:00:00Z", "model.registered", S("mlflow"), ("model_version", "credit-risk@1.5.0"), {
    "model": "credit-risk", "version": "1.5.0", "parent_version": "1.4.0", "owner": "risk-analytics", "developers": ["ari", "bo"],
    "intended_purpose": "Probability of default for consumer loan applications",
    "artifact_digest": D("artifact:credit-risk@1.5.0"), "code_commit": commit("train150"),
    "training_run": "train-cr-150",
    "datasets": [{"id": "loans-train@2026-08", "role": "train"}, {"id": "telco-alt@2026-08", "role": "train"}, {"id": "loans-test@2026-08", "role": "test"}],
    "training_data_cutoff": "2026-08-31T23:59:59Z", "changelog": "Added telecom payment history features; recalibrated after inc-cr-0901",
    "justification": "Restore approval rates for thin-file applicants", "change_type": "material",
    "hyperparameters": {"max_depth": 6, "n_estimators": 500},
    "runtime": {"language": "python", "version": "3.12", "lockfile_digest": D("lock:150"), "container_image": "registry.scenario-bank.example/credit-risk:1.5.0"},
    "input_spec": "application form v5, bureau file, telecom payment history",
    "oversight_measures": "declines above 10k EUR reviewed by credit officers",
    "monitoring_thresholds": THR, "risk_tier": "tier-1"}, system=CR))
R(ev("ev-0150", "2026-09-28T10:00:00Z", "model.evaluated", H("carol", "validator"), ("model_version", "credit-risk@1.5.0"), {
    "metrics": [{"name": "auc", "value": 0.83, "ci_low": 0.82, "ci_high": 0.84}],
    "datasets": [{"id": "loans-test@2026-08", "n": 24000}],
    "subgroups": [{"group": "age<30", "metric": "auc", "value": 0.82, "n": 5100}, {"group": "age>=30", "metric": "auc", "value": 0.83, "n": 18900}],
    "thresholds": {"auc": 0.8}, "thresholds_set_ts": "2026-09-27T00:00:00Z", "passed": True,
    "report_digest": D("report:150"), "signed_by": "carol", "signed_ts": "2026-09-28T12:00:00Z"}, system=CR))
R(ev("val-0150", "2026-09-30T10:00:00Z", "model.validated", H("carol", "validator"), ("model_version", "credit-risk@1.5.0"), {
    "validator": "carol", "decision": "approve", "scope": "material change validation", "next_review_due": "2027-09-30T00:00:00Z"}, system=CR))
# PLANT LINK-04 (a): the staging promotion names another artifact.
R(ev("prom-0150-s", "2026-10-01T09:00:00Z", "model.promoted", H("carol", "validator"), ("model_version", "credit-risk@1.5.0"), {
    "from_env": "development", "to_env": "staging", "artifact_digest": D("artifact:credit-risk@1.5.0-dirty"), "approval": "val-0150"}, system=CR))
# PLANT DEP-07 (b): the published bias-audit summary comes down three months after last use.
R(doc("doc-0013", "2026-10-01T10:00:00Z", "ll144-summary", "eval_report", ["system:" + HR], "2026-10-01T00:00:00Z", HR, actor=H("lee", "hr-analytics-lead"), eff_to="2027-01-31T00:00:00Z"))
R(ev("prom-0150-p", "2026-10-15T09:00:00Z", "model.promoted", H("carol", "validator"), ("model_version", "credit-risk@1.5.0"), {
    "from_env": "staging", "to_env": "production", "artifact_digest": D("artifact:credit-risk@1.5.0"), "approval": "val-0150"}, system=CR))
# PLANT DEC-06 (c): notice dated Mon 2026-10-19, nine business days before the first decision (Fri 2026-10-30).
R(doc("doc-0014", "2026-10-19T10:00:00Z", "notice-hr", "notice", ["system:" + HR], "2026-10-19T00:00:00Z", HR, actor=H("people-ops-lead", "hr-director")))
# PLANT RET-09 (d): envelope retention_class that is not configured.
R(doc("doc-0015", "2026-10-19T11:00:00Z", "hr-policy", "policy", ["system:" + HR], "2026-10-19T00:00:00Z", HR, actor=H("people-ops-lead", "hr-director"), retention_class="hr_policies"))
# PLANT MOD-01 (a): no code_commit.  PLANT MOD-06 (b): predetermined while 1.5.0 lists no predetermined_changes.
R(ev("mod-0160", "2026-10-20T10:00:00Z", "model.registered", S("mlflow"), ("model_version", "credit-risk@1.6.0-rc1"), {
    "model": "credit-risk", "version": "1.6.0-rc1", "parent_version": "1.5.0", "owner": "risk-analytics", "developers": ["ari", "bo"],
    "intended_purpose": "Probability of default for consumer loan applications",
    "artifact_digest": D("artifact:credit-risk@1.6.0-rc1"),
    "changelog": "Quarterly recalibration", "change_type": "predetermined", "risk_tier": "tier-1"}, system=CR))
# PLANT DEP-05 (a): retired without a reason.
R(ev("ret-0140", "2026-10-31T18:30:00Z", "model.retired", H("carol", "validator"), ("model_version", "credit-risk@1.4.0"), {}, system=CR))

# ---------------------------------------------------------------- serving (credit operations)
serving = []
V = serving.append
DEP_CR = "dep-credit-eu"
TARGET_CR = {"cluster": "eu-west-prod", "namespace": "credit", "endpoint": "https://score.internal.scenario-bank.example/v1/credit"}


def dec_cr(id, ts, version, output, score, **over):
    a = {"deployment": DEP_CR, "model_version": version, "input_ref": D("input:" + id), "output": output,
         "score": score, "threshold": 0.5, "mode": "automated", "legal_effect": True,
         "subject_ref": ref(id), "reason_codes": ["R01", "R07"], "art22_basis": "contract"}
    extra = {}
    for k, v in over.items():
        if k in ("recorded_ts",):
            extra[k] = v
        elif v is None:
            a.pop(k)
        else:
            a[k] = v
    return ev(id, ts, "decision.made", S("scorer-eu"), ("decision", id), a, system=CR, env="production", data_classes=P, **extra)


def metric(id, ts, dep, system, name, value, lo, hi, status, actor=S("monitor")):
    a = {"metric": name, "value": value, "window_start": ts, "window_end": ts}
    if lo is not None:
        a["threshold_min"] = lo
    if hi is not None:
        a["threshold_max"] = hi
    a["status"] = status
    return ev(id, ts, "monitoring.metric", actor, ("deployment", dep), a, system=system, env="production")


# PLANT DEP-01 (c): eu_declaration not effective yet at this start.
V(ev("dep-0001", "2026-09-01T08:00:00Z", "deployment.started", H("ops-1", "release-manager"), ("deployment", DEP_CR), {
    "model_version": "credit-risk@1.4.0", "target": TARGET_CR, "artifact_digest": D("artifact:credit-risk@1.4.0"),
    "config_digest": D("config:cr-1"), "decision_threshold": 0.5, "approval": "val-0140"}, system=CR, env="production"))
V(dec_cr("dec-cr-0001", "2026-09-01T08:20:00Z", "credit-risk@1.4.0", "approve", 0.31))
V(metric("mon-0001", "2026-09-01T09:00:00Z", DEP_CR, CR, "approval_rate", 0.52, 0.35, 0.75, "ok"))
# PLANT DEP-03 (a): psi breach at 09:00, first alert only at 10:35.
V(metric("mon-0002", "2026-09-01T09:00:00Z", DEP_CR, CR, "psi", 0.27, None, 0.2, "breach"))
V(dec_cr("dec-cr-0002", "2026-09-01T09:10:00Z", "credit-risk@1.4.0", "decline", 0.64))
V(dec_cr("dec-cr-0003", "2026-09-01T09:55:00Z", "credit-risk@1.4.0", "decline", 0.58))
V(metric("mon-0003", "2026-09-01T10:00:00Z", DEP_CR, CR, "psi", 0.12, None, 0.2, "ok"))
V(metric("mon-0004", "2026-09-01T10:15:00Z", DEP_CR, CR, "approval_rate", 0.21, 0.35, 0.75, "breach"))
V(ev("al-0001", "2026-09-01T10:25:00Z", "monitoring.alert", S("monitor"), ("deployment", DEP_CR), {
    "metric": "approval_rate", "severity": "critical", "disposition": "incident", "incident": "inc-cr-0901",
    "note": "approval rate collapsed after bureau file change"}, system=CR, env="production"))
# PLANT PRV-01: an e-mail address in attrs.note.
V(ev("al-0002", "2026-09-01T10:35:00Z", "monitoring.alert", S("monitor"), ("deployment", DEP_CR), {
    "metric": "psi", "severity": "warning", "disposition": "accepted",
    "note": "shift explained by bureau file format change; acknowledged by m.keller@scenario-bank.example"}, system=CR, env="production"))
V(ev("ovs-0001", "2026-09-01T10:50:00Z", "oversight.action", H("rev-1", "credit-officer"), ("decision", "dec-cr-0003"), {
    "action": "stop", "reviewer": "rev-1", "reason": "approval rate collapse; automated decisions halted"}, system=CR, env="production"))
V(ev("dep-0002", "2026-09-01T11:00:00Z", "deployment.suspended", H("ops-1", "release-manager"), ("deployment", DEP_CR), {
    "reason": "suspended under incident inc-cr-0901"}, system=CR, env="production"))
# PLANT DEC-01 (a): a decision logged while the deployment is suspended.
V(dec_cr("dec-cr-0004", "2026-09-01T11:20:00Z", "credit-risk@1.4.0", "decline", 0.61))
# PLANT LOG-04 (b): logging stopped for 2.5 h without a reason.
V(ev("log-0001", "2026-10-10T02:00:00Z", "logging.state", S("audit-shipper"), ("resource", "audit-shipper"), {
    "state": "stop", "stream": "serving-audit"}, system=CR))
V(ev("log-0002", "2026-10-10T04:30:00Z", "logging.state", S("audit-shipper"), ("resource", "audit-shipper"), {
    "state": "resume", "stream": "serving-audit"}, system=CR))
V(ev("dep-0003", "2026-10-31T18:00:00Z", "deployment.changed", H("ops-1", "release-manager"), ("deployment", DEP_CR), {
    "model_version": "credit-risk@1.5.0", "target": TARGET_CR, "artifact_digest": D("artifact:credit-risk@1.5.0"),
    "config_digest": D("config:cr-2"), "decision_threshold": 0.5, "approval": "val-0150",
    "reason": "resume service on 1.5.0 after remediation of inc-cr-0901"}, system=CR, env="production"))
V(dec_cr("dec-cr-0101", "2026-10-31T18:40:00Z", "credit-risk@1.5.0", "approve", 0.22))
V(metric("mon-0101", "2026-10-31T19:00:00Z", DEP_CR, CR, "approval_rate", 0.48, 0.35, 0.75, "ok"))
V(metric("mon-0102", "2026-10-31T19:00:00Z", DEP_CR, CR, "psi", 0.08, None, 0.2, "ok"))
V(dec_cr("dec-cr-0102", "2026-10-31T19:30:00Z", "credit-risk@1.5.0", "approve", 0.27))
# PLANT LOG-01 (b): written 20 minutes after it happened.
V(dec_cr("dec-cr-0103", "2026-10-31T20:25:00Z", "credit-risk@1.5.0", "decline", 0.66, recorded_ts="2026-10-31T20:45:00Z"))
# PLANT DEC-02 (b): raw input instead of a digest.  PLANT LOG-04 (a): nothing attributable 21:10-22:30.
V(dec_cr("dec-cr-0104", "2026-10-31T21:10:00Z", "credit-risk@1.5.0", "approve", 0.19, input_ref="income=52000;term=36;amount=9000"))
# PLANT DEC-03 (a): solely automated legal-effect decision without art22_basis.
V(dec_cr("dec-cr-0105", "2026-10-31T22:30:00Z", "credit-risk@1.5.0", "decline", 0.71, art22_basis=None))
V(dec_cr("dec-cr-0106", "2026-10-31T23:20:00Z", "credit-risk@1.5.0", "decline", 0.55))
# PLANT DEC-04 (a): override without any reason.
V(ev("ovs-0101", "2026-10-31T23:40:00Z", "oversight.action", H("rev-2", "credit-officer"), ("decision", "dec-cr-0106"), {
    "action": "override", "reviewer": "rev-2", "new_output": "approve"}, system=CR, env="production"))

# ---------------------------------------------------------------- governance
gov = []
G = gov.append
G(ev("adm-0001", "2026-08-15T09:00:00Z", "admin.change", H("ops-1", "platform-admin"), ("resource", "pseudonym-key"), {
    "target": "key", "before_digest": D("key:2025"), "after_digest": D("key:2026"), "approved_by": "sec-2"}))
G(ev("acc-0001", "2026-08-20T10:00:00Z", "access", H("ari", "ml-engineer"), ("dataset", "loans-train@2026-08"), {
    "action": "read", "purpose": "model development", "scope": "full table", "result": "success"}, system=CR, data_classes=P))
G(ev("inc-0001", "2026-09-01T10:40:00Z", "incident.opened", H("rev-1", "credit-officer"), ("incident", "inc-cr-0901"), {
    "title": "Approval rate collapse after bureau file change", "severity": "critical", "serious": True,
    "category": "fundamental_rights", "widespread": False, "awareness_ts": "2026-09-01T10:30:00Z",
    "affects": ["deployment:" + DEP_CR, "model_version:credit-risk@1.4.0"], "evidence": ["mon-0004", "al-0001"],
    "personal_data_breach": False}, system=CR))
G(ev("inc-0002", "2026-09-03T09:30:00Z", "incident.updated", H("mrm-lead", "model-risk-head"), ("incident", "inc-cr-0901"), {
    "title": "Approval rate collapse after bureau file change", "causal_link_ts": "2026-09-03T09:00:00Z"}, system=CR))
# PLANT INC-03 (a): deadline = causal link + 24 h = 2026-09-04T09:00Z; first authority report 2026-09-05T12:00Z.
G(ev("inc-0003", "2026-09-05T12:00:00Z", "incident.notified", H("mrm-lead", "model-risk-head"), ("incident", "inc-cr-0901"), {
    "recipient": "authority", "report_type": "initial", "reference": "MSA-CASE-7731"}, system=CR))
G(ev("dsr-0001", "2026-09-10T14:00:00Z", "dsr.received", H("dpo", "data-protection-officer"), ("resource", "dsr-desk"), {
    "request_id": "DSR-2026-0007", "type": "contest", "decision": "dec-cr-0003"}, system=CR, data_classes=P))
# PLANT ACC-04 (b): re-identification by an actor without a role.
G(ev("acc-0003", "2026-09-12T10:00:00Z", "access", H("dpo-assist"), ("decision", "dec-cr-0003"), {
    "action": "reidentify", "purpose": "DSR-2026-0007 contest review", "result": "success"}, system=CR, data_classes=P))
G(ev("ovs-0002", "2026-09-14T15:00:00Z", "oversight.action", H("rev-2", "credit-officer"), ("decision", "dec-cr-0003"), {
    "action": "reverse", "reviewer": "rev-2", "reason": "manual review: income verified with payslips", "new_output": "approve"}, system=CR))
G(ev("dsr-0002", "2026-09-20T09:00:00Z", "dsr.resolved", H("dpo", "data-protection-officer"), ("resource", "dsr-desk"), {
    "request_id": "DSR-2026-0007", "type": "contest", "decision": "dec-cr-0003", "outcome": "fulfilled"}, system=CR, data_classes=P))
G(ev("inc-0004", "2026-09-20T10:00:00Z", "incident.notified", H("mrm-lead", "model-risk-head"), ("incident", "inc-cr-0901"), {
    "recipient": "authority", "report_type": "complete", "reference": "MSA-CASE-7731"}, system=CR))
G(ev("hold-0001", "2026-09-20T11:00:00Z", "legal_hold.set", H("legal-1", "counsel"), ("resource", "legal-holds"), {
    "hold_id": "LH-2026-03", "scope": ["incident:inc-cr-0901", "deployment:" + DEP_CR],
    "reason": "litigation over declines during inc-cr-0901"}))
# PLANT LOG-08 (a): waiver expired before the as-of time (DEC-04 (c) of hiring-screen returns at warn).
G(ev("wv-0001", "2026-09-25T09:00:00Z", "waiver.granted", H("lee", "hr-analytics-lead"), ("system", HR), {
    "rule": "DEC-04", "target": "system:" + HR, "reason": "stop drill planned before the go-live",
    "approved_by": "people-ops-lead", "expires": "2026-10-15T00:00:00Z"}, system=HR))
G(ev("dsr-0003", "2026-10-01T09:00:00Z", "dsr.received", H("dpo", "data-protection-officer"), ("resource", "dsr-desk"), {
    "request_id": "DSR-2026-0011", "type": "erasure"}, data_classes=P))
G(ev("acc-0004", "2026-10-02T10:00:00Z", "access", H("dana", "data-engineer"), ("dataset", "bureau-raw@2026-07"), {
    "action": "read", "purpose": "data quality review", "scope": "sample of 1000 rows", "result": "success"}, system=CR, data_classes=P))
# PLANT RET-07 (b): no removed_ids_digest.  PLANT RET-08 (b): hold LH-2026-03 names entities of credit-scoring.
G(ev("disp-0001", "2026-10-05T03:00:00Z", "retention.disposed", S("retention-job"), ("resource", "audit-archive"), {
    "retention_class": "ai_auto_log", "count": 18234, "range_start": "2025-01-01T00:00:00Z",
    "range_end": "2025-03-31T23:59:59Z", "basis": "retention schedule RS-4 (pre-market test logs)"}, system=CR))
# PLANT ACC-01 (a): export without a recipient.
G(ev("acc-0002", "2026-10-05T14:00:00Z", "access", H("bo", "ml-engineer"), ("dataset", "loans-train@2026-08"), {
    "action": "export", "purpose": "external validation", "scope": "full table", "result": "success"}, system=CR, data_classes=P))
# PLANT ACC-03 (b): approved by the actor.
G(ev("adm-0002", "2026-10-08T16:00:00Z", "admin.change", H("ops-1", "platform-admin"), ("resource", "serving-rbac"), {
    "target": "role", "before_digest": D("rbac:v11"), "after_digest": D("rbac:v12"), "approved_by": "ops-1"}, system=CR))
G(ev("acc-hr-0001", "2026-10-11T22:00:00Z", "access", S("ats-sync"), ("dataset", "applicants-hist@2026-06"), {
    "action": "export", "purpose": "nightly ATS synchronisation", "scope": "candidate profiles", "result": "success",
    "recipient": "ats-vendor-bucket"}, system=HR, data_classes=P))
G(ev("inc-hr-0001", "2026-10-12T11:00:00Z", "incident.opened", H("lee", "hr-analytics-lead"), ("incident", "inc-hr-1012"), {
    "title": "Candidate profiles exposed through vendor bucket", "severity": "high", "serious": False,
    "awareness_ts": "2026-10-12T09:00:00Z", "affects": ["system:" + HR, "dataset:applicants-hist@2026-06"],
    "evidence": ["acc-hr-0001"], "personal_data_breach": True}, system=HR))
# PLANT INC-01 (b): minor incident without evidence.
G(ev("inc-0005", "2026-10-15T10:00:00Z", "incident.opened", H("dana", "data-engineer"), ("incident", "inc-cr-1015"), {
    "title": "Bureau file delivered two days late", "severity": "low", "serious": False,
    "awareness_ts": "2026-10-15T09:30:00Z", "affects": ["system:" + CR]}, system=CR))
# PLANT INC-06 (b): supervisory authority told 97 h after awareness, no reason.
G(ev("inc-hr-0002", "2026-10-16T10:00:00Z", "incident.notified", H("dpo", "data-protection-officer"), ("incident", "inc-hr-1012"), {
    "recipient": "supervisory_authority", "report_type": "initial", "reference": "DPA-BREACH-2291"}, system=HR))
# PLANT LOG-06: a line whose ts is not RFC 3339 (quarantined).
G(ev("acc-0099", "yesterday", "access", H("dana", "data-engineer"), ("dataset", "bureau-raw@2026-07"), {
    "action": "read", "purpose": "data quality review", "result": "success"}, system=CR))
# PLANT PRV-03 (c): refused without a ground.
G(ev("dsr-0004", "2026-10-20T09:00:00Z", "dsr.resolved", H("dpo", "data-protection-officer"), ("resource", "dsr-desk"), {
    "request_id": "DSR-2026-0011", "type": "erasure", "outcome": "refused"}, data_classes=P))
G(ev("inc-0006", "2026-10-20T15:00:00Z", "incident.closed", H("mrm-lead", "model-risk-head"), ("incident", "inc-cr-0901"), {
    "title": "Approval rate collapse after bureau file change",
    "root_cause": "bureau file format change shifted two features",
    "corrective_actions": "schema contract with bureau; retrained as credit-risk@1.5.0"}, system=CR))
G(ev("inc-hr-0003", "2026-10-25T12:00:00Z", "incident.closed", H("lee", "hr-analytics-lead"), ("incident", "inc-hr-1012"), {
    "title": "Candidate profiles exposed through vendor bucket",
    "root_cause": "bucket policy allowed public listing", "corrective_actions": "bucket made private; vendor contract amended"}, system=HR))
# PLANT LOG-05 (a): the same id again with other content (the first occurrence is the event).
G(ev("acc-0004", "2026-10-02T10:00:00Z", "access", H("dana", "data-engineer"), ("dataset", "bureau-raw@2026-07"), {
    "action": "read", "purpose": "data quality review", "scope": "sample of 5000 rows", "result": "success"}, system=CR, data_classes=P))

# ---------------------------------------------------------------- hr-ats (unchained, chain = "optional")
ats = []
A = ats.append
DEP_HR = "dep-hr-nyc"


def dec_hr(id, ts, output, score, **over):
    a = {"deployment": DEP_HR, "model_version": "resume-ranker@2.1.0", "input_ref": D("input:" + id), "output": output,
         "score": score, "threshold": 0.6, "mode": "advisory", "legal_effect": False,
         "subject_ref": ref(id), "reason_codes": ["skills_match", "experience_years"]}
    a.update(over)
    return ev(id, ts, "decision.made", S("hr-screen-svc"), ("decision", id), a, system=HR, env="production", data_classes=P)


def hb(id, ts):
    return ev(id, ts, "logging.state", S("ats-shipper"), ("resource", "ats-shipper"), {"state": "heartbeat", "stream": "hr-ats-audit"}, system=HR)


# PLANT ACC-02 (b) (waived in config): started by lee, who validated the version it cites.
A(ev("dep-hr-0001", "2026-10-30T09:00:00Z", "deployment.started", H("lee", "hr-analytics-lead"), ("deployment", DEP_HR), {
    "model_version": "resume-ranker@2.1.0",
    "target": {"cluster": "us-east-prod", "namespace": "hr", "endpoint": "https://screen.internal.scenario-bank.example/v2/rank"},
    "artifact_digest": D("artifact:resume-ranker@2.1.0"), "config_digest": D("config:hr-1"),
    "decision_threshold": 0.6, "approval": "val-rr-210"}, system=HR, env="production"))
A(metric("mon-hr-0001", "2026-10-30T10:00:00Z", DEP_HR, HR, "selection_rate", 0.31, 0.05, 0.6, "ok"))
A(dec_hr("dec-hr-0001", "2026-10-30T11:00:00Z", "advance", 0.74))
A(ev("ovs-hr-0001", "2026-10-30T11:30:00Z", "oversight.action", H("hr-rev-1", "recruiter"), ("decision", "dec-hr-0001"), {
    "action": "confirm", "reviewer": "hr-rev-1"}, system=HR, env="production"))
# PLANT PRV-02 (a): subject_ref is not a keyed pseudonym.
A(dec_hr("dec-hr-0002", "2026-10-30T13:30:00Z", "reject", 0.41, subject_ref="cand-88123"))
A(dec_hr("dec-hr-0003", "2026-10-30T16:00:00Z", "advance", 0.69))
# PLANT DEP-06 (a): alert disposed as "suspended", deployment never suspended.
A(ev("al-hr-0001", "2026-10-30T17:00:00Z", "monitoring.alert", H("hr-rev-1", "recruiter"), ("deployment", DEP_HR), {
    "metric": "candidate_complaints", "severity": "high", "disposition": "suspended",
    "note": "three complaints about rejected bilingual CVs; suspension requested"}, system=HR, env="production"))
A(hb("hb-hr-0001", "2026-10-30T21:00:00Z"))
A(hb("hb-hr-0002", "2026-10-31T02:30:00Z"))
A(hb("hb-hr-0003", "2026-10-31T08:00:00Z"))
A(metric("mon-hr-0002", "2026-10-31T09:30:00Z", DEP_HR, HR, "selection_rate", 0.29, 0.05, 0.6, "ok"))
A(dec_hr("dec-hr-0004", "2026-10-31T11:00:00Z", "advance", 0.81))
A(ev("ovs-hr-0002", "2026-10-31T11:20:00Z", "oversight.action", H("hr-rev-1", "recruiter"), ("decision", "dec-hr-0004"), {
    "action": "confirm", "reviewer": "hr-rev-1"}, system=HR, env="production"))
A(dec_hr("dec-hr-0005", "2026-10-31T14:30:00Z", "reject", 0.35))
A(hb("hb-hr-0004", "2026-10-31T19:00:00Z"))
A(hb("hb-hr-0005", "2026-10-31T23:30:00Z"))


def key(e):
    return e["ts"]


def write(name, events, sort=True):
    if sort:
        # stable: events with an unparseable ts keep their place relative to their neighbours
        pass
    with open(os.path.join(HERE, "events", name), "w", encoding="utf-8", newline="\n") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")


registry.sort(key=key)
serving.sort(key=key)
write("registry.jsonl", registry)
write("serving.jsonl", serving)
write("governance.jsonl", gov)  # kept in written order: the bad line and the duplicate sit where a producer wrote them
write("hr-ats.jsonl", ats)
print("events:", {n: len(x) for n, x in [("registry", registry), ("serving", serving), ("governance", gov), ("hr-ats", ats)]},
      "total", len(registry) + len(serving) + len(gov) + len(ats))

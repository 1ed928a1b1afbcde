#!/usr/bin/env python3
"""Chains tests/scenario/events/*.jsonl into tests/scenario/logs/*.jsonl (INTEGRITY.md §1).

Each line of a chained source gets `seq` (1, 2, ...) and `prev` (lowercase hex SHA-256 of the exact
bytes of the previous line without its LF; 64 zeros on line 1) as its first two keys; the other
keys keep their order; compact JSON, ensure_ascii=False, LF endings.

hr-ats.jsonl is copied unchained (its source is `chain = "optional"`: PLANT LOG-02 (e)).

After chaining, one line of registry.jsonl is edited in place, as an attacker or a careless
operator would (PLANT LOG-02 (a)): the `document.registered` event `doc-0009` (ifu-cr) gets another
`version`. Its own `prev` stays right; the next line's `prev` no longer matches.
"""

import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ZERO = "0" * 64


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def chain(lines):
    out, prev = [], ZERO
    for i, line in enumerate(lines, 1):
        obj = json.loads(line)
        new = {"seq": i, "prev": prev}
        new.update(obj)
        text = dumps(new)
        out.append(text)
        prev = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return out


def read(name):
    with open(os.path.join(HERE, "events", name), encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def write(name, lines):
    os.makedirs(os.path.join(HERE, "logs"), exist_ok=True)
    with open(os.path.join(HERE, "logs", name), "w", encoding="utf-8", newline="\n") as f:
        for l in lines:
            f.write(l + "\n")


for name in ("registry.jsonl", "serving.jsonl", "governance.jsonl"):
    lines = chain(read(name))
    if name == "registry.jsonl":
        for i, l in enumerate(lines):
            if '"id":"doc-0009"' in l:
                old = '"version":"1"'
                assert l.count(old) == 1
                lines[i] = l.replace(old, '"version":"1.1"')
                print(f"tampered registry.jsonl line {i + 1}; chain break reported at line {i + 2}")
    write(name, lines)

write("hr-ats.jsonl", read("hr-ats.jsonl"))

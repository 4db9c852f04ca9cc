#!/usr/bin/python3
"""Differential oracle for kpx's templating: renders cases with Ansible's own Templar.

Reads a JSON list of cases ({"kind": "render"|"cond", "template": str, "vars": {...}})
on stdin and writes a JSON list of results ({"ok": bool, "value": typed, "error": str})
on stdout. Values are written as typed trees (["int", "1"], ["list", [...]], ...) so
that ints, floats, bools and strings are told apart.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.conditional import Conditional
from ansible.template import Templar


def enc(v):
    if v is None:
        return ["none"]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        return ["float", repr(v)]
    if isinstance(v, str):
        return ["str", str(v)]
    if isinstance(v, (list, tuple)):
        return ["list", [enc(e) for e in v]]
    if isinstance(v, dict):
        return ["dict", [[str(k), enc(v[k])] for k in sorted(v, key=str)]]
    return ["other", repr(v)]


def run(loader, case):
    variables = case.get("vars") or {}
    templar = Templar(loader=loader, variables=variables)
    if case["kind"] == "cond":
        cond = Conditional(loader=loader)
        cond.when = [case["template"]]
        # the executor uses the truth of the result (`if not evaluate_conditional(...)`)
        return bool(cond.evaluate_conditional(templar, variables))
    return templar.template(case["template"])


def main():
    loader = DataLoader()
    out = []
    for case in json.load(sys.stdin):
        try:
            out.append({"ok": True, "value": enc(run(loader, case))})
        except Exception as e:  # any failure is an "error" result
            out.append({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# kpx run vs ansible-playbook on 50 OpenSSH hosts on loopback: the same playbook
# (bench/playbook50/site.yml), the same forks (50), Ansible with pipelining and
# ControlPersist. Runs alternate between the tools; KPX_BENCH_RUNS sets how many each (3).
# Prints per-run wall and controller CPU, then medians and ranges (RESULT lines).
set -euo pipefail
cd "$(dirname "$0")/.."
KPX_BENCH=1 go test ./bench/playbook50 -run TestPlaybook50 -count=1 -v -timeout 4h "$@"

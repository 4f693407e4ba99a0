#!/usr/bin/env bash
# The one line to run on the GPU machine (carry=[".whl"], prepared by benchmarks/gpu_wheels.sh):
# install the carried packages beside the machine's own, then run gpu_check into $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target /tmp/site .whl/*
export PYTHONPATH="/tmp/site:$PWD/.gpu_src${PYTHONPATH:+:$PYTHONPATH}"
# the project itself, importable as tom_harness without installing (package_dir maps harness/)
mkdir -p .gpu_src/tom_harness && cp -r harness/. .gpu_src/tom_harness/ && cp -r plugins .gpu_src/tom_harness/plugins \
    && cp -r task_yamls .gpu_src/tom_harness/task_yamls
PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py --device cuda --out "${OUT:-gpu_check_out}" "$@"

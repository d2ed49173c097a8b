#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with torch (the CPU build where the machine
# has it on disk), nndoctor in editable mode, the test extra, and the optional extras the tests
# exercise (tensorboard, tune, lightning, transformers, accelerate; IPython for the notebook view),
# so CI runs those tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
# torch first and pinned: an unpinned `torch` with nothing installed pulls a multi-GB CUDA build.
if ! python -c "import torch" >/dev/null 2>&1; then
  python -m pip install --quiet "torch==${NNDOCTOR_TORCH_VERSION:-2.13.0}"
fi
# (re)install nndoctor and its extras when pyproject.toml changed since the last set-up
stamp=.venv/.nndoctor-setup
want=$(sha1sum pyproject.toml | cut -d' ' -f1)
# the optional extras too, so the integration, tuning and TensorBoard tests run in CI
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! python -c "import nndoctor, sklearn, optuna, tensorboard, lightning, transformers, accelerate, IPython" >/dev/null 2>&1; then
  python -m pip install --quiet -e ".[test,tensorboard,tune,lightning,transformers,accelerate]"
  echo "$want" > "$stamp"
fi

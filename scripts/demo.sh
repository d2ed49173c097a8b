#!/usr/bin/env bash
# Set up (idempotent) and run the demo: a broken net on digits, its diagnosis, the fixed net.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
nndoctor demo "$@"

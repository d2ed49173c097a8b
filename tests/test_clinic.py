"""The clinic benchmark as a test: every faulty program is diagnosed with its code (recall >= 0.95
per code) and no healthy program raises a warning or an error. Each program runs through
`nndoctor run`, exactly as a user would run it."""
import importlib.util
import os
from pathlib import Path

import pytest

from nndoctor.diagnoses import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("clinic_score", ROOT / "benchmarks" / "clinic" / "score.py")
clinic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(clinic)

pytestmark = pytest.mark.clinic


def test_clinic_covers_every_code_with_two_faulty_programs_and_has_healthy_traps():
    headers = [clinic.parse_header(p) for p in clinic.discover_programs()]
    for code in REGISTRY:
        n = sum(code in h["expect"] for h in headers)
        assert n >= 2, f"{code}: only {n} faulty clinic programs"
    assert sum(h["healthy"] for h in headers) >= 8


def test_clinic_scores():
    paths = clinic.discover_programs()
    # a faulty program stops once its expected code is found (`nndoctor run --stop-on`): recall and false
    # alarms are scored exactly as in a full run; healthy programs always run to the end
    results = clinic.run_all(paths, jobs=int(os.environ.get("NNDOCTOR_CLINIC_JOBS", "2")), stop_early=True)
    s = clinic.score(results)
    problems = [f"{c}: recall {v['recall']:.2f}, missed {v['missed']}" for c, v in s["codes"].items()
                if v["recall"] < clinic.RECALL_BAR]
    problems += [f"false alarm on {fa['program']}: {fa['code']} ({fa['summary']})" for fa in s["false_alarms"]]
    problems += [f"run error on {e['program']}: {e['error']} {e['stderr_tail']}" for e in s["errors"]]
    assert s["passed"], "\n".join(problems)

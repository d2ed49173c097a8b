"""Repair mode: apply a finding's remedies to the live training objects, keep what helps, roll
back what hurts. ``nndoctor.watch(model, optimizer, repair=True)`` or ``nndoctor run --fix``.

``engine.py`` is the controller (snapshots, attempts, verdicts); ``actions.py`` the live operations.
Which remedies a code tries live is ``engine.plan``; the codes that are report-only, and why, are
``engine.REPORT_ONLY``; what each remedy's live form does is ``nndoctor.remedies.LIVE``.
"""
from .engine import REPORT_ONLY, RepairController, plan  # noqa: F401

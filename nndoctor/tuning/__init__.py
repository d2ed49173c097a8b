"""Hyperparameter search with the doctor as a pruner (``nndoctor tune``; Optuna is an optional extra)."""
from .hparams import param, params, report_metric  # noqa: F401


def tune(*args, **kwargs):
    """See :func:`nndoctor.tuning.study.tune`."""
    from .study import tune as _tune

    return _tune(*args, **kwargs)

"""nndoctor: finds out why a neural network's training is failing, and says how to fix it.

    with nndoctor.watch(model, optimizer) as doctor:
        ...  # an unmodified training loop
    print(doctor.report())
"""
__version__ = "0.1.0"

from .api import checkup, close_all, explain, watch  # noqa: E402
from .doctor import Doctor  # noqa: E402
from .findings import Finding, Remedy, Report  # noqa: E402
from .tuning import param, report_metric, tune  # noqa: E402

__all__ = ["watch", "close_all", "checkup", "explain", "tune", "param", "report_metric", "Doctor", "Report", "Finding", "Remedy", "__version__"]

"""``DoctorCallback`` for ``transformers.Trainer`` (``pip install nndoctor[transformers]``)::

    from nndoctor.integrations.transformers import DoctorCallback
    trainer = Trainer(model=model, args=args, train_dataset=ds, callbacks=[DoctorCallback()])
    trainer.train()

The doctor starts at ``on_train_begin`` on the Trainer's model and optimizer (accelerate's wrapper
is looked through) and closes at ``on_train_end``. Each finding goes to the ``transformers`` logger
as it is established and its counts into the Trainer's logs (``nndoctor/errors``,
``nndoctor/warnings``, ``nndoctor/findings``: what ``report_to`` loggers receive). The report is
printed at the end (``verbose=False`` not to) and kept in ``callback.report``.

Trainer has no callback for a ``train()`` that raises: use the callback as a context manager
(``with DoctorCallback() as cb: trainer.train()``) to have the doctor closed, with the exception in
the report, in that case too (otherwise it closes when the model is garbage collected or at the
next ``on_train_begin``).
"""
from __future__ import annotations

from typing import Callable

try:
    from transformers import TrainerCallback
    from transformers.utils import logging as hf_logging
except ImportError as exc:  # pragma: no cover
    raise ImportError("nndoctor.integrations.transformers needs transformers: "
                      "pip install 'nndoctor[transformers]'") from exc

from ..findings import Finding
from ._session import Session, SessionHandle

__all__ = ["DoctorCallback"]


class DoctorCallback(SessionHandle, TrainerCallback):
    """Watch a ``transformers.Trainer`` run with nndoctor (see the module docstring)."""

    def __init__(self, every: int = 20, verbose: bool = True, json_path: str | None = None,
                 on_finding: Callable[[Finding], None] | None = None) -> None:
        self._session = Session(every=every, verbose=verbose, json_path=json_path, on_finding=on_finding,
                                logger=hf_logging.get_logger("transformers.nndoctor"))

    # -- TrainerCallback ---------------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        if self._session.active:
            self.close()
        if model is None:
            return
        self._session.start(model, [optimizer] if optimizer is not None else None)

    def on_train_end(self, args, state, control, **kwargs):
        if self._session.active:
            self.close()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if isinstance(logs, dict) and self._session.active and self._session.doctor is not None:
            doc = self._session.doctor
            counts = {"nndoctor/errors": 0.0, "nndoctor/warnings": 0.0}
            for f in doc._findings.values():
                if f.severity == "error":
                    counts["nndoctor/errors"] += 1
                elif f.severity == "warning":
                    counts["nndoctor/warnings"] += 1
            counts["nndoctor/findings"] = float(len(doc._findings))
            logs.update(counts)


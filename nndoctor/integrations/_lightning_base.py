"""The Lightning callback, built on whichever Lightning package the user trains with
(``lightning.pytorch`` or ``pytorch_lightning``: their Trainer accepts only its own Callback class)."""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..findings import Finding
from ._session import Session, SessionHandle, markdown


def make_callback(Callback: type, logger_name: str) -> type:
    class DoctorCallback(SessionHandle, Callback):
        """Watch a Lightning ``Trainer.fit`` with nndoctor::

            trainer = Trainer(callbacks=[DoctorCallback()])

        The doctor starts when fitting starts (after the optimizers are configured) on the
        LightningModule and the trainer's optimizers, and closes when fitting ends or raises.
        Each finding goes to Lightning's Python logger (``{logger}``) as it is established; at the
        end the counts go to ``trainer.logger`` (``nndoctor/errors``, ``nndoctor/warnings``,
        ``nndoctor/findings``), the report as text where the logger takes text (TensorBoard), and
        the report is printed (``verbose=False`` to not print it). ``callback.report`` holds it.
        Under a multi-process strategy (DDP) rank 0 gets one report for the whole job.
        """

        def __init__(self, every: int = 20, verbose: bool = True, json_path: str | None = None,
                     on_finding: Callable[[Finding], None] | None = None) -> None:
            super().__init__()
            self._session = Session(every=every, verbose=verbose, json_path=json_path, on_finding=on_finding,
                                    logger=logging.getLogger(logger_name))
            self._trainer_ref: Any = None

        # -- lifecycle -------------------------------------------------------------------
        def on_fit_start(self, trainer, pl_module) -> None:
            opts = list(getattr(trainer, "optimizers", None) or [])
            self._session.start(pl_module, opts)

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            # training_step may call submodules only (self.encoder(x)), never pl_module.forward
            if self._session.doctor is not None:
                self._session.doctor.framework_batch(pl_module, batch)

        def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
            if self._session.doctor is not None:
                self._session.doctor.framework_batch(pl_module, batch)

        def on_fit_end(self, trainer, pl_module) -> None:
            self._finish(trainer, None)

        def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
            self._finish(trainer, exception)

        def teardown(self, trainer, pl_module, stage: str) -> None:
            if self._session.active:
                self._finish(trainer, None)

        def _finish(self, trainer, exc: BaseException | None) -> None:
            if not self._session.active:
                return
            report = self._session.close(exc)
            if report is None:
                return
            lg = getattr(trainer, "logger", None)
            if lg is None:
                return
            try:
                lg.log_metrics(self._session.summary_metrics(report), step=int(getattr(trainer, "global_step", 0)))
                exp = getattr(lg, "experiment", None)
                if exp is not None and hasattr(exp, "add_text"):   # TensorBoard's SummaryWriter
                    exp.add_text("nndoctor", markdown(report), int(getattr(trainer, "global_step", 0)))
                if hasattr(lg, "save"):
                    lg.save()
            except Exception as e:  # a logger that fails must not break the end of training
                report.internal_errors.append(f"lightning logger: {type(e).__name__}: {e}")

    DoctorCallback.__doc__ = (DoctorCallback.__doc__ or "").replace("{logger}", logger_name)
    return DoctorCallback

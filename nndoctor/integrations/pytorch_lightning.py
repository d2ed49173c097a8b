"""``DoctorCallback`` for the ``pytorch_lightning`` package (its Trainer accepts only its own
Callback class)::

    from nndoctor.integrations.pytorch_lightning import DoctorCallback
    trainer = pytorch_lightning.Trainer(callbacks=[DoctorCallback()])
"""
from __future__ import annotations

from ._lightning_base import make_callback

try:
    from pytorch_lightning import Callback as _Callback
except ImportError as exc:
    raise ImportError("nndoctor.integrations.pytorch_lightning needs pytorch_lightning: "
                      "pip install pytorch_lightning") from exc

DoctorCallback = make_callback(_Callback, "pytorch_lightning.callbacks.nndoctor")

__all__ = ["DoctorCallback"]

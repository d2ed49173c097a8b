"""``DoctorCallback`` for the ``lightning`` package (``pip install nndoctor[lightning]``)::

    from nndoctor.integrations.lightning import DoctorCallback
    trainer = lightning.Trainer(callbacks=[DoctorCallback()])
    trainer.fit(model, train_loader, val_loader)

Uses ``pytorch_lightning`` when only that package is installed (for both packages at once, the
``pytorch_lightning`` trainer needs ``nndoctor.integrations.pytorch_lightning.DoctorCallback``).
"""
from __future__ import annotations

from ._lightning_base import make_callback

try:
    from lightning.pytorch import Callback as _Callback
    _LOGGER = "lightning.pytorch.callbacks.nndoctor"
except ImportError:  # pragma: no cover - only pytorch_lightning installed
    try:
        from pytorch_lightning import Callback as _Callback
        _LOGGER = "pytorch_lightning.callbacks.nndoctor"
    except ImportError as exc:
        raise ImportError("nndoctor.integrations.lightning needs Lightning: pip install 'nndoctor[lightning]'") from exc

DoctorCallback = make_callback(_Callback, _LOGGER)

__all__ = ["DoctorCallback"]

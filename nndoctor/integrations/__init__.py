"""Framework integrations, each imported only when used (the frameworks are optional extras):

* ``nndoctor.integrations.lightning.DoctorCallback`` -- ``lightning`` (``pip install nndoctor[lightning]``)
* ``nndoctor.integrations.pytorch_lightning.DoctorCallback`` -- the ``pytorch_lightning`` package
* ``nndoctor.integrations.transformers.DoctorCallback`` -- ``transformers.Trainer``
* ``nndoctor.integrations.accelerate.watch`` -- an ``accelerate`` loop (plain ``nndoctor.watch`` works too)
* ``nndoctor.integrations.distributed`` -- one report for a multi-process (DDP) job, from rank 0
"""

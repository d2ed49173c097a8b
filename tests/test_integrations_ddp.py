"""`torchrun --nproc_per_node 2 -m nndoctor run train.py` on the CPU (gloo): each rank watches its
own share, rank 0 prints one report for the job, NaN on one rank does not hang the job, and a rank
that never reports is named instead of blocking rank 0."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TRAIN = '''
import os, sys
import torch, torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
fault = sys.argv[1]
dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
model = DDP(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2)))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
g = torch.Generator().manual_seed(rank)
X = torch.randn(1024, 20, generator=g)
y = (X[:, 0] + X[:, 1] > 0).long()
for step in range(120):
    j = (step * 32) % 1024
    xb, yb = X[j:j + 32].clone(), y[j:j + 32]
    if fault == "nan" and rank == 1 and step == 40:
        xb[0, 3] = float("nan")     # a bad example on rank 1 only
    opt.zero_grad()
    out = model(xb)
    loss = nn.functional.cross_entropy(out.softmax(-1) if fault.startswith("softmax") else out, yb)
    loss.backward()
    opt.step()
print(f"rank {rank} done", flush=True)
# the usual clean teardown: every rank past its last collective, DDP gone, then the group. Without the
# barrier and the del, torch 2.13's gloo crashes ~15% of plain torchrun runs of this script ("terminate
# called without an active exception"), and under nndoctor run a rank could block in DDP's destructor
dist.barrier()
del model, opt
dist.destroy_process_group()
if fault == "softmax+vanish" and rank == 1:
    os._exit(0)                      # leaves without nndoctor's report
'''


def _torchrun(tmp_path, fault, timeout_env="60"):
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    out = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NNDOCTOR_DIST_TIMEOUT": timeout_env, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "nndoctor", "run", "--json", str(out), str(script), fault]
    p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr[-3000:]
    assert out.exists(), p.stderr[-3000:]
    return json.loads(out.read_text()), p


@pytest.mark.parametrize("fault", ["healthy", "nan"])
def test_two_rank_ddp_job_one_report(tmp_path, fault):
    rep, p = _torchrun(tmp_path, fault)
    assert p.stdout.count("done") == 2
    # one report: rank 0 printed it, rank 1 stayed quiet
    assert p.stderr.count("nndoctor —") == 1, p.stderr[-3000:]
    assert rep["steps"] == 120 and rep["backward_passes"] == 240
    assert any("a job of 2 ranks" in n for n in rep["notes"])
    assert any(n.startswith("rank 1:") for n in rep["notes"])
    names = [p_ for f in rep["findings"] for p_ in f["where"]]
    assert not any(n.startswith("module.") for n in names)   # the DDP wrapper is looked through
    alarms = {f["code"] for f in rep["findings"] if f["severity"] != "info"}
    if fault == "healthy":
        assert alarms == set()
    else:
        nf = [f for f in rep["findings"] if f["code"] == "non-finite"]
        assert len(nf) == 1   # one finding for the job, at its origin
        assert nf[0]["evidence"]["stage"] == "input" and nf[0]["evidence"]["origin_ranks"] == [1]
        assert nf[0]["step"] == 41
        assert nf[0]["evidence"]["ranks"] == [0, 1]


def test_a_rank_that_never_reports_does_not_block_rank_0(tmp_path):
    rep, p = _torchrun(tmp_path, "softmax+vanish", timeout_env="3")
    assert any("rank 1 did not report within 3 s" in n for n in rep["notes"])
    assert rep["steps"] == 120 and rep["backward_passes"] == 120    # rank 0's share only
    assert "loss-mismatch" in {f["code"] for f in rep["findings"]}


def test_merge_keeps_worst_severity_earliest_step_and_names_the_ranks():
    from nndoctor.findings import Finding, Report
    from nndoctor.integrations.distributed import merge_reports

    def payload(r, findings, steps=50):
        rep = Report(findings=findings, steps=steps, backward_passes=steps)
        return {"rank": r, "report": json.loads(rep.to_json()), "loss": {"n": 3, "first": 1.0, "last": 0.5, "min": 0.4}}

    a = Finding("dead-relu", "warning", "dead units", step=40, where=["net.1"])
    b = Finding("dead-relu", "error", "more dead units", step=60, where=["net.1"])
    c = Finding("loss-mismatch", "warning", "softmax into CE", step=2, where=["train.py:3"])
    merged = merge_reports({0: payload(0, [a]), 1: payload(1, [b, c]), 2: payload(2, [])}, 4, [3], 60)
    dead = merged.get("dead-relu")
    assert dead.severity == "error" and dead.step == 40 and dead.evidence["ranks"] == [0, 1]
    assert "ranks 0, 1 only" in dead.summary
    lm = merged.get("loss-mismatch")
    assert lm.evidence["ranks"] == [1] and "rank 1 only" in lm.summary
    assert merged.steps == 50 and merged.backward_passes == 150
    assert any("rank 3 did not report within 60 s" in n for n in merged.notes)
    assert any(n.startswith("rank 2: 50 steps") for n in merged.notes)


def test_every_store_operation_of_the_exchange_is_bounded_and_the_store_timeout_put_back():
    """The process group's store waits up to its own timeout (30 min by default) on each operation: the
    exchange bounds them all by NNDOCTOR_DIST_TIMEOUT (a hung store would otherwise hold the job at its
    exit for that long) and puts the script's timeout back."""
    from datetime import timedelta

    import torch.distributed as dist

    from nndoctor.findings import Report
    from nndoctor.integrations import distributed
    from nndoctor.integrations.distributed import Exchange

    server = dist.TCPStore("127.0.0.1", 0, 1, True, timeout=timedelta(minutes=30))
    seen = []

    class Recording(dist.PrefixStore):
        def set(self, key, value):
            seen.append(("set", self.timeout))
            return super().set(key, value)

        def wait(self, keys, timeout):
            seen.append(("wait", min(self.timeout, timeout)))
            return super().wait(keys, timeout)

    store = Recording("job", server)
    for rank in (1, 0):   # rank 1 reports, rank 0 waits for rank 1 and for rank 2, which never reports
        distributed._sessions = 0   # (two ranks in one process: the same session number)
        ex = Exchange()
        ex.store, ex.rank, ex.world = store, rank, 3
        merged = ex.merge(Report(findings=[], steps=5, backward_passes=5), None, timeout=0.5)
        assert store.timeout == timedelta(minutes=30)   # put back
    assert all(t <= timedelta(seconds=1) for _, t in seen), seen
    assert [k for k, _ in seen] == ["set", "set", "wait", "wait"], seen
    assert any("rank 2 did not report" in n for n in merged.notes)
    assert any(n.startswith("rank 1:") for n in merged.notes)

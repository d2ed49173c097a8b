#!/usr/bin/env python3
"""Step-time overhead of nndoctor (and of torch.autograd.detect_anomaly) on ordinary training loops.

For each model, three copies are made from the same initial state, each with its own optimizer:

* ``plain``    -- the unwatched loop,
* ``nndoctor`` -- the same loop on a copy watched by ``nndoctor.watch(model, optimizer)``,
* ``anomaly``  -- the same loop with every block inside ``torch.autograd.detect_anomaly()``.

The watcher is entered once, before the warm-up (so nndoctor's initial deep-inspection phase happens
during the warm-up, not during measurement), kept open across all measured blocks and closed at the end.
Measurement is interleaved in one process: for each rep, every mode runs a block of K steps, in an order
that rotates between reps, and the block's wall time / K is recorded.

The headline ratio is the **median over reps of the per-rep ratio** (mode block time / plain block
time in the same rep). Pairing blocks from the same rep cancels slow drift (thermal, other tenants,
allocator warm-up) that would otherwise leak into a ratio of two independent medians; the spread of the
per-rep ratios (25th-75th percentile) is printed as the noise level. The median per-step time of each
mode over blocks is reported as well.

A step is the ordinary loop body ``zero_grad; loss = loss_fn(model(x), y); backward; step``, with no
host sync per step except ``loss.item()`` every 50 steps (identical in every mode).

Usage::

    python benchmarks/overhead/bench.py [--models cnn,mlp,transformer,lstm] [--reps R] [--steps K]
        [--device cpu|cuda] [--threads N] [--json OUT] [--markdown]

The functions :func:`build`, :func:`run_block` and :func:`measure` are importable, e.g. for a smoke
test::

    from benchmarks.overhead.bench import measure
    res = measure("mlp", reps=2, steps=3, warmup=2, modes=("plain", "anomaly"))
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

REPO_ROOT = Path(__file__).resolve().parents[2]

MODEL_NAMES = ("cnn", "mlp", "transformer", "lstm")
MODES = ("plain", "nndoctor", "anomaly")
ITEM_EVERY = 50  # loss.item() every this many steps, in every mode

# Defaults sized for ~2-4 minutes for all four models on a 2-core CPU (all three modes,
# detect_anomaly included). (reps, steps per block)
DEFAULT_SIZES = {
    "cnn": (16, 5),
    "mlp": (20, 100),
    "transformer": (14, 6),
    "lstm": (16, 8),
}
DEFAULT_WARMUP = 30


# --------------------------------------------------------------------------------------------------
# Models and synthetic data
# --------------------------------------------------------------------------------------------------


class CifarCNN(nn.Module):
    """3 conv layers + 3 dense layers on 3x32x32 input."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32x16x16
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 64x8x8
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 128x4x4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class TinyTransformer(nn.Module):
    """Token embedding + learned positions + 2-layer TransformerEncoder + mean-pool + linear head."""

    def __init__(self, vocab: int = 512, seq_len: int = 64, d_model: int = 128, nhead: int = 4,
                 num_layers: int = 2, num_classes: int = 10):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(1, seq_len, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model=d_model, nhead=nhead, dim_feedforward=4 * d_model,
                                           dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos[:, : tokens.shape[1]]
        h = self.encoder(h)
        return self.head(h.mean(dim=1))


class SeqLSTM(nn.Module):
    """nn.LSTM (hidden 128) + linear head on the last time step."""

    def __init__(self, input_size: int = 16, hidden: int = 128, num_layers: int = 2, num_classes: int = 10):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


@dataclass
class Workload:
    """One benchmark model: a model in its initial state, how to make its optimizer, and data."""

    name: str
    model: nn.Module
    make_optimizer: Callable[[nn.Module], torch.optim.Optimizer]
    loss_fn: nn.Module
    batches: list[tuple[torch.Tensor, torch.Tensor]]
    batch_size: int
    device: torch.device
    description: str = ""

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.batches[step % len(self.batches)]


def _noisy_labels(logits: torch.Tensor, gen: torch.Generator, noise: float = 0.1) -> torch.Tensor:
    """argmax labels from a fixed random 'teacher', with a fraction replaced at random (so a healthy
    model learns but the loss does not collapse to zero on the small cycled pool)."""
    y = logits.argmax(dim=1)
    flip = torch.rand(y.shape, generator=gen) < noise
    y[flip] = torch.randint(0, logits.shape[1], (int(flip.sum()),), generator=gen)
    return y


def _load_digits_standardized() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data, dtype=torch.float32)
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1.0  # constant (always-blank) pixels
    return (x - mean) / std, torch.tensor(d.target, dtype=torch.long)


def build(model_name: str, device: str | torch.device = "cpu", seed: int = 0,
          n_batches: int | None = None) -> Workload:
    """Build a seeded model (initial state) plus a pool of synthetic batches, generated once, on ``device``."""
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed + 1234)
    torch.manual_seed(seed)

    if model_name == "cnn":
        bs, n = 128, n_batches or 16
        model = CifarCNN()
        # class-conditional images: a smooth per-class pattern (8x8, upsampled) plus pixel noise
        protos = nn.functional.interpolate(torch.randn(10, 3, 8, 8, generator=gen), scale_factor=4,
                                           mode="bilinear", align_corners=False)
        batches = []
        for _ in range(n):
            y = torch.randint(0, 10, (bs,), generator=gen)
            x = 0.5 * protos[y] + torch.randn(bs, 3, 32, 32, generator=gen)
            batches.append((x, y))
        make_opt = lambda m: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)  # noqa: E731
        desc = "CIFAR-style CNN, 3 conv + 3 dense, 3x32x32, SGD momentum"
    elif model_name == "mlp":
        bs = 64
        x_all, y_all = _load_digits_standardized()
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
        per_epoch = len(x_all) // bs
        epochs = max(1, -(-(n_batches or 4 * per_epoch) // per_epoch))
        batches = []
        for _ in range(epochs):
            perm = torch.randperm(len(x_all), generator=gen)
            for i in range(per_epoch):
                idx = perm[i * bs:(i + 1) * bs]
                batches.append((x_all[idx].clone(), y_all[idx].clone()))
        if n_batches:
            batches = batches[:n_batches]
        make_opt = lambda m: torch.optim.Adam(m.parameters(), lr=1e-3)  # noqa: E731
        desc = "MLP 64-128-128-10 ReLU on sklearn digits (standardized), Adam"
    elif model_name == "transformer":
        bs, n, vocab, seq = 32, n_batches or 32, 512, 64
        model = TinyTransformer(vocab=vocab, seq_len=seq)
        teacher = torch.randn(vocab, 10, generator=gen)
        batches = []
        for _ in range(n):
            tok = torch.randint(0, vocab, (bs, seq), generator=gen)
            batches.append((tok, _noisy_labels(teacher[tok].sum(1), gen)))
        make_opt = lambda m: torch.optim.AdamW(m.parameters(), lr=3e-4)  # noqa: E731
        desc = "2-layer TransformerEncoder d128 h4, seq 64, token emb + linear head, AdamW"
    elif model_name == "lstm":
        bs, n, seq, feat = 64, n_batches or 32, 50, 16
        model = SeqLSTM(input_size=feat)
        teacher = torch.randn(feat, 10, generator=gen)
        batches = []
        for _ in range(n):
            x = torch.randn(bs, seq, feat, generator=gen)
            batches.append((x, _noisy_labels(x.mean(1) @ teacher, gen)))
        make_opt = lambda m: torch.optim.Adam(m.parameters(), lr=1e-3)  # noqa: E731
        desc = "2-layer LSTM hidden 128, seq 50, linear head, Adam"
    else:
        raise ValueError(f"unknown model {model_name!r}; choose from {', '.join(MODEL_NAMES)}")

    model = model.to(device)
    batches = [(x.to(device), y.to(device)) for x, y in batches]
    return Workload(model_name, model, make_opt, nn.CrossEntropyLoss(), batches, bs, device, desc)


# --------------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Runner:
    """One copy of the model, its optimizer, and its own step counter."""

    mode: str
    model: nn.Module
    optimizer: torch.optim.Optimizer
    step: int = 0
    last_loss: float = float("nan")


def run_block(wl: Workload, r: Runner, steps: int) -> float:
    """Run ``steps`` training steps of runner ``r``; return wall seconds (device-synchronized)."""
    model, opt, loss_fn = r.model, r.optimizer, wl.loss_fn
    ctx = torch.autograd.detect_anomaly() if r.mode == "anomaly" else contextlib.nullcontext()
    _sync(wl.device)
    t0 = time.perf_counter()
    with ctx:
        for _ in range(steps):
            x, y = wl.batch(r.step)
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            r.step += 1
            if r.step % ITEM_EVERY == 0:
                r.last_loss = loss.item()
    _sync(wl.device)
    return time.perf_counter() - t0


def _default_watch(model: nn.Module, optimizer: torch.optim.Optimizer):
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import nndoctor

    return nndoctor.watch(model, optimizer)


def _severity_name(f: Any) -> str:
    sev = getattr(f, "severity", None)
    if sev is None and isinstance(f, dict):
        sev = f.get("severity")
    if sev is None:
        return "?"
    name = getattr(sev, "name", None) or getattr(sev, "value", None) or str(sev)
    return str(name).lower()


def _findings_of(report: Any) -> list:
    if report is None:
        return []
    for attr in ("findings", "diagnoses", "issues"):
        v = getattr(report, attr, None)
        if v is None and isinstance(report, dict):
            v = report.get(attr)
        if v is not None:
            return list(v() if callable(v) else v)
    if isinstance(report, (list, tuple)):
        return list(report)
    return []


def _describe_finding(f: Any) -> str:
    code = getattr(f, "code", None)
    summary = getattr(f, "summary", None)
    if code or summary:
        step = getattr(f, "step", None)
        where = getattr(f, "where", None) or []
        return (f"[{_severity_name(f)}] {code or ''}"
                + (f" @step {step}" if step is not None else "")
                + (f" ({', '.join(map(str, where[:3]))})" if where else "")
                + (f": {summary}" if summary else ""))
    for attr in ("title", "name", "kind", "message"):
        v = getattr(f, attr, None)
        if v is None and isinstance(f, dict):
            v = f.get(attr)
        if v:
            return f"[{_severity_name(f)}] {v}"
    return f"[{_severity_name(f)}] {f!r}"[:300]


class _TapIsolation:
    """Keeps nndoctor's *process-wide* taps (its wrapper of ``torch.autograd.backward`` and torch's
    global optimizer step hooks) attached only while the watched copy runs.

    nndoctor sees backward passes and optimizer steps through process-wide taps, so while a doctor
    is open every other model trained in the process goes through its callbacks too: the ``plain``
    and ``anomaly`` copies would pay part of nndoctor's cost (biasing the ratio low), and their
    backward passes would be counted by the doctor (its analysis window, its loss series). With
    isolation on, the doctor is detached from the taps around every non-nndoctor block (outside the
    timed region), as if each copy were trained in its own process. Uses ``nndoctor.probes.tap``'s
    ``attach``/``detach``; when those are missing, isolation is reported as unavailable.
    """

    def __init__(self, doctor: Any, enabled: bool):
        self.doctor, self.tap, self.attached = doctor, None, True
        self.status = "off"
        if doctor is None or not enabled:
            return
        try:
            from nndoctor.probes import tap
        except Exception:
            tap = None
        if tap is not None and callable(getattr(tap, "attach", None)) and callable(getattr(tap, "detach", None)):
            active = getattr(tap, "_active", None)
            if active is not None and not any(d is doctor for d in active):
                self.status = "not attached"  # e.g. a stand-in watcher: nothing to isolate
            else:
                self.tap, self.status = tap, "on"
        else:
            self.status = "unavailable"

    def for_mode(self, mode: str) -> None:
        if self.tap is None:
            return
        want = mode == "nndoctor"
        if want and not self.attached:
            self.tap.attach(self.doctor)
        elif not want and self.attached:
            self.tap.detach(self.doctor)
        self.attached = want

    def restore(self) -> None:
        if self.tap is not None and not self.attached:
            self.tap.attach(self.doctor)
            self.attached = True


def _pct(xs: Sequence[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def measure(model_name: str, reps: int | None = None, steps: int | None = None, device: str = "cpu",
            warmup: int = DEFAULT_WARMUP, modes: Sequence[str] = MODES, seed: int = 0,
            watch: Callable | None = None, isolate: bool = True, verbose: bool = False) -> dict:
    """Interleaved benchmark of one model. Returns a JSON-able dict of results.

    ``watch(model, optimizer)`` makes the watcher for the ``nndoctor`` copy (default ``nndoctor.watch``);
    it must return an object with ``close()`` and ``report()``. ``isolate``: detach nndoctor's
    process-wide taps around the other modes' blocks (see :class:`_TapIsolation`).
    """
    d_reps, d_steps = DEFAULT_SIZES.get(model_name, (10, 10))
    reps, steps = reps or d_reps, steps or d_steps
    modes = [m for m in MODES if m in modes]
    if "plain" not in modes:
        raise ValueError("the 'plain' mode is needed as the baseline")
    wl = build(model_name, device, seed=seed)

    runners: dict[str, Runner] = {}
    for m in modes:
        mdl = copy.deepcopy(wl.model)
        runners[m] = Runner(m, mdl, wl.make_optimizer(mdl))

    doctor = None
    t_watch = None
    if "nndoctor" in modes:
        t0 = time.perf_counter()
        doctor = (watch or _default_watch)(runners["nndoctor"].model, runners["nndoctor"].optimizer)
        t_watch = time.perf_counter() - t0
    iso = _TapIsolation(doctor, isolate)

    times: dict[str, list[float]] = {m: [] for m in modes}  # seconds per step, one entry per rep
    warmup_s: dict[str, float] = {}
    report = None
    t_start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # detect_anomaly warns on every entry that it slows things down; we know.
            warnings.filterwarnings("ignore", message=".*[Aa]nomaly [Dd]etection.*")
            # the watched copy warms up first, so the first steps the watcher sees are its own
            for m in sorted(modes, key=lambda m: m != "nndoctor"):
                iso.for_mode(m)
                if warmup > 0:
                    warmup_s[m] = run_block(wl, runners[m], warmup) / warmup
            for rep in range(reps):
                k = rep % len(modes)
                order = modes[k:] + modes[:k]
                for m in order:
                    iso.for_mode(m)
                    gc.collect()
                    times[m].append(run_block(wl, runners[m], steps) / steps)
                if verbose:
                    print(f"  {model_name} rep {rep + 1}/{reps}: "
                          + "  ".join(f"{m}={times[m][-1] * 1e3:.2f}ms" for m in modes), file=sys.stderr)
    finally:
        if doctor is not None:
            iso.restore()
            doctor.close()
            report = doctor.report()
    elapsed = time.perf_counter() - t_start

    res: dict[str, Any] = {
        "model": model_name,
        "description": wl.description,
        "batch_size": wl.batch_size,
        "params": sum(p.numel() for p in wl.model.parameters()),
        "reps": reps,
        "steps_per_block": steps,
        "warmup_steps": warmup,
        "modes": modes,
        "seconds": round(elapsed, 3),
        "warmup_ms_per_step": {m: v * 1e3 for m, v in warmup_s.items()},
        "block_ms_per_step": {m: [t * 1e3 for t in ts] for m, ts in times.items()},
        "median_ms_per_step": {m: statistics.median(ts) * 1e3 for m, ts in times.items()},
        "final_loss": {m: r.last_loss for m, r in runners.items()},
        "ratio": {},
    }
    for m in modes:
        if m == "plain":
            continue
        per_rep = [a / b for a, b in zip(times[m], times["plain"])]
        res["ratio"][m] = {
            "median_of_per_rep": statistics.median(per_rep),
            "ratio_of_medians": statistics.median(times[m]) / statistics.median(times["plain"]),
            "ratio_of_mins": min(times[m]) / min(times["plain"]),
            "extra_ms_per_step": statistics.median(a - b for a, b in zip(times[m], times["plain"])) * 1e3,
            "p25": _pct(per_rep, 0.25),
            "p75": _pct(per_rep, 0.75),
            "min": min(per_rep),
            "max": max(per_rep),
            "per_rep": per_rep,
        }
    if doctor is not None:
        fs = _findings_of(report)
        sev = [_severity_name(f) for f in fs]
        serious = [f for f, s in zip(fs, sev) if s in ("warning", "warn", "error", "critical")]
        res["nndoctor"] = {
            "tap_isolation": iso.status,
            "watch_call_ms": t_watch * 1e3 if t_watch is not None else None,
            "findings": len(fs),
            "findings_warning_or_error": len(serious),
            "findings_by_severity": {s: sev.count(s) for s in sorted(set(sev))},
            "finding_descriptions": [_describe_finding(f) for f in fs],
            "report_type": type(report).__name__,
            "report_steps": getattr(report, "steps", None),
            "report_backward_passes": getattr(report, "backward_passes", None),
            "watched_steps": runners["nndoctor"].step,
            "notes": [str(n) for n in (getattr(report, "notes", None) or [])],
            "internal_errors": [str(e) for e in (getattr(report, "internal_errors", None) or [])],
        }
    return res


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def environment(device: str) -> dict:
    cpu = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    env = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu or platform.processor() or None,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(torch.device(device))
        env["cuda"] = torch.version.cuda
    with contextlib.suppress(Exception):
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        import nndoctor

        env["nndoctor"] = getattr(nndoctor, "__version__", None)
    return env


def _fmt_ratio(r: dict | None) -> str:
    if not r:
        return "-"
    return f"{r['median_of_per_rep']:.3f} [{r['p25']:.3f}-{r['p75']:.3f}]"


def text_table(results: list[dict]) -> str:
    hdr = ["model", "batch", "reps x K", "plain ms", "nndoctor ms", "+ms", "anomaly ms",
           "nndoctor/plain [p25-p75]", "anomaly/plain [p25-p75]", "best-block ratios nd|an", "findings (warn+)"]
    rows = []
    for r in results:
        med = r["median_ms_per_step"]
        nd = r.get("nndoctor")
        rows.append([
            r["model"], str(r["batch_size"]), f"{r['reps']} x {r['steps_per_block']}",
            f"{med['plain']:.2f}",
            f"{med['nndoctor']:.2f}" if "nndoctor" in med else "-",
            f"{r['ratio']['nndoctor']['extra_ms_per_step']:+.2f}" if "nndoctor" in r["ratio"] else "-",
            f"{med['anomaly']:.2f}" if "anomaly" in med else "-",
            _fmt_ratio(r["ratio"].get("nndoctor")),
            _fmt_ratio(r["ratio"].get("anomaly")),
            " | ".join(f"{r['ratio'][m]['ratio_of_mins']:.3f}" if m in r["ratio"] else "-"
                       for m in ("nndoctor", "anomaly")),
            f"{nd['findings']} ({nd['findings_warning_or_error']})" if nd else "-",
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(hdr)]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    out = [line(hdr), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    return "\n".join(out)


def markdown_table(results: list[dict]) -> str:
    out = ["| model | batch | plain ms/step | nndoctor ms/step | ratio | anomaly ratio |",
           "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        med = r["median_ms_per_step"]
        nd, an = r["ratio"].get("nndoctor"), r["ratio"].get("anomaly")
        out.append("| {} | {} | {:.2f} | {} | {} | {} |".format(
            r["model"], r["batch_size"], med["plain"],
            f"{med['nndoctor']:.2f}" if "nndoctor" in med else "-",
            f"{nd['median_of_per_rep']:.2f}x" if nd else "-",
            f"{an['median_of_per_rep']:.2f}x" if an else "-"))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated: " + ",".join(MODEL_NAMES))
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES)
                    + " (plain is always run)")
    ap.add_argument("--reps", type=int, default=None, help="blocks per mode (default: per model)")
    ap.add_argument("--steps", type=int, default=None, help="steps per block K (default: per model)")
    ap.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, help="warm-up steps per mode (default %(default)s)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="OUT", default=None, help="write numbers + environment to OUT")
    ap.add_argument("--markdown", action="store_true", help="also print a markdown table")
    ap.add_argument("--no-isolate", action="store_true",
                    help="leave nndoctor's process-wide taps attached during the plain/anomaly blocks too "
                         "(they then also pass through nndoctor's callbacks)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every rep to stderr")
    args = ap.parse_args(argv)

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODEL_NAMES:
            ap.error(f"unknown model {m!r}")
    modes = {m.strip() for m in args.modes.split(",") if m.strip()} | {"plain"}
    for m in modes:
        if m not in MODES:
            ap.error(f"unknown mode {m!r}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        ap.error("--device cuda but torch.cuda.is_available() is False")

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    torch.set_num_threads(args.threads or cores)
    env = environment(args.device)
    print(f"torch {env['torch']}  device {args.device}  threads {torch.get_num_threads()}  "
          f"cpu {env['cpu_model']} ({env['cpu_count']} logical)"
          + (f"  gpu {env['gpu']}" if "gpu" in env else ""))
    print(f"modes: {', '.join(m for m in MODES if m in modes)}; ratios = median over reps of the per-rep "
          f"ratio (block time / plain block time in the same rep), [p25-p75] of those per-rep ratios; "
          f"best-block = fastest block of the mode / fastest plain block (least disturbed by other load); "
          f"+ms = median over reps of (nndoctor - plain) ms/step")

    t0 = time.perf_counter()
    results = []
    for m in models:
        r = measure(m, reps=args.reps, steps=args.steps, device=args.device, warmup=args.warmup,
                    modes=tuple(modes), seed=args.seed, isolate=not args.no_isolate,
                    verbose=args.verbose)
        results.append(r)
        extra = ""
        if "nndoctor" in r:
            extra = (f", nndoctor findings: {r['nndoctor']['findings']}, "
                     f"tap isolation: {r['nndoctor']['tap_isolation']}")
        print(f"  {m}: done in {r['seconds']:.1f}s{extra}", flush=True)
    total = time.perf_counter() - t0

    print()
    print(text_table(results))
    for r in results:
        nd = r.get("nndoctor")
        if nd and nd["findings"]:
            print(f"\nnndoctor findings for {r['model']} (a healthy run should have none at warning/error):")
            for d in nd["finding_descriptions"]:
                print("   ", d)
        if nd:
            if nd.get("report_steps") is not None and nd["report_steps"] != nd["watched_steps"]:
                print(f"\nNOTE {r['model']}: nndoctor counted {nd['report_steps']} steps, "
                      f"the watched copy ran {nd['watched_steps']}")
            for e in nd.get("internal_errors", []):
                print(f"nndoctor internal error ({r['model']}): {e}")
            for n in nd.get("notes", []):
                print(f"nndoctor note ({r['model']}): {n}")
    print(f"\ntotal benchmark time: {total:.1f}s")
    if args.markdown:
        print()
        print(markdown_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "total_seconds": total, "results": results},
                                              indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

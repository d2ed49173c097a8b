"""Data problems (数据未归一化): inputs far from the unit scale the network's init assumes."""
from __future__ import annotations

import math

import numpy as np

from ..findings import Finding
from ..messages import join, msg
from . import Context
from .registry import Diagnosis, register, rule
from .stats import decades, median

SCALE_DECADES = 1.0      # typical feature magnitude >= 10: one decade above unit scale
SPREAD_DECADES = 2.0     # largest vs smallest feature magnitude >= 100x

UNNORMALIZED = register(Diagnosis(
    code="unnormalized-input",
    title="Input features are far from unit scale, or their scales differ by orders of magnitude",
    family="data",
    guide="数据未归一化",
    what="The first layer of the network is fed features whose typical magnitude is far above 1 "
         "(e.g. raw 0-255 pixels), or whose magnitudes differ by orders of magnitude between features "
         "(e.g. 0.01 next to 1000).",
    why="Default initializations assume unit-scale inputs. Large inputs give large pre-activations "
        "(saturated or dead units) and large first-layer gradients; features of very different scales "
        "make the loss surface badly conditioned, so one learning rate is too big for some weights and "
        "too small for others (the guide: '输入特征尺度差异大，导致梯度不稳定').",
    evidence=("per-feature 99th percentile of |x| (min, median, max)", "per-feature mean and std",
              "the first layer", "features judged"),
    remedies=("standardize-inputs", "scale-images", "input-batchnorm"),
    traps=("integer token ids into an Embedding (the first layer is the embedding: not judged)",
           "one-hot / binary features (values only 0 and 1: excluded)",
           "already standardized or [0, 1]-scaled data (magnitudes ~1)",
           "a model that normalizes its input itself (BatchNorm/LayerNorm first, or arithmetic in "
           "forward(): what is judged is the input of the first layer, after it)",
           "sparse features that are mostly 0, e.g. pixels, or mostly at any one value, e.g. those pixels after a "
           "global standardization (left out of the spread test: they have no scale of their own)"),
    thresholds=("typical magnitude (median over features of the 99th percentile of |x|) >= 10: one decade "
                "above the unit scale default inits (Kaiming-uniform) are designed for",
                "or the root mean squares (E[x^2]^1/2) of the dense features (non-zero in >= half the examples, "
                "and not at one value, their median, in half of them or more) span >= 2 decades: the curvatures "
                "along the first layer's weights, which scale with E[x^2], then differ by ~10^4, beyond what one "
                "learning rate serves"),
))


@rule("unnormalized-input")
def check_unnormalized(ctx: Context) -> list[Finding]:
    samples = [s for s in ctx.facts.get("act_samples", []) if s.get("first_layer")]
    if not samples:
        return []
    fl = samples[0]["first_layer"]
    if fl.get("type") in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
                          "InstanceNorm1d", "InstanceNorm2d", "Embedding", "EmbeddingBag") \
            or "feature_p99" not in fl:
        return []
    p99 = np.array(fl["feature_p99"], dtype=float)
    std = np.array(fl["feature_std"], dtype=float)
    mean = np.array(fl["feature_mean"], dtype=float)
    binary = np.array(fl["feature_binary"], dtype=float)
    nonzero = np.array(fl.get("feature_nonzero", [1.0] * len(p99)), dtype=float)
    at_median = np.array(fl.get("feature_at_median", [0.0] * len(p99)), dtype=float)
    keep = np.isfinite(p99) & (binary < 1.0) & (p99 > 0)
    if keep.sum() == 0:
        return []
    mags = p99[keep]
    typical = median(mags)
    scale_dec = math.log10(typical) if typical > 0 else 0.0
    # spread: between the standard deviations of dense features. Features that sit at one value in most
    # examples have no meaningful scale of their own: sparse ones (pixels that are usually 0), and the same
    # after a shift (those pixels after a global standardization, -0.81 with a std of 0.009 from the rare
    # strokes): their std measures how rare the other values are, not a unit
    # Judged on each feature's root mean square, E[x^2]^(1/2): the curvature of the loss along a first-layer
    # weight scales with E[x^2] of the feature it multiplies (mean^2 + variance), not with its variance alone.
    # A feature near a constant (cos(t * 3e-4) in a diffusion model's sinusoidal time embedding: mean 1, std
    # 1e-4) weighs like a unit input and conditions nothing badly; a feature offset far from 0 (a year,
    # 2000 +- 10) weighs like its offset
    rms = np.sqrt(mean ** 2 + std ** 2)
    dense = keep & (nonzero >= 0.5) & (at_median < 0.5) & np.isfinite(rms) & (std > 0)
    spread = decades(float(rms[dense].min()), float(rms[dense].max())) if dense.sum() >= 2 else 0.0
    reasons = []
    if scale_dec >= SCALE_DECADES:
        reasons.append(msg("unnormalized-input.scale", typical=typical))
    if spread >= SPREAD_DECADES:
        reasons.append(msg("unnormalized-input.spread", spread=spread, low=rms[dense].min(), high=rms[dense].max()))
    if not reasons:
        return []
    idx = np.where(keep)[0]
    largest = [int(i) for i in idx[np.argsort(-p99[idx])][:3]]
    smallest = [int(i) for i in idx[np.argsort(p99[idx])][:3]]
    conv = fl.get("type", "").startswith("Conv")
    unit = "channel" if conv else "feature"
    is_image = conv and float(np.nanmax(p99)) > 20
    remedies = ["scale-images", "standardize-inputs", "input-batchnorm"] if is_image else None
    return [UNNORMALIZED.finding(
        "warning", msg("unnormalized-input", layer=ctx.label(fl['name']), reasons=join(reasons, "; ")),
        step=samples[0]["step"], where=[fl["name"]],
        evidence={"typical_magnitude": float(f"{typical:.4g}"), "spread_decades": round(spread, 2),
                  f"largest_{unit}s": {str(i): {"p99_abs": float(f"{p99[i]:.4g}"), "mean": float(f"{mean[i]:.4g}"),
                                                 "std": float(f"{std[i]:.4g}")} for i in largest},
                  f"smallest_{unit}s": {str(i): {"p99_abs": float(f"{p99[i]:.4g}"),
                                                  "mean": float(f"{mean[i]:.4g}")} for i in smallest},
                  f"{unit}s_judged": int(keep.sum()), f"binary_{unit}s_skipped": int((binary >= 1.0).sum())},
        remedy_ids=remedies)]

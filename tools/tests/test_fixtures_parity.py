"""The parity fixtures agree with an independent numpy forward pass written from
/work/shared/reference/poyo-forward.md (float64, no torch).

This pins down the fixtures (a stale or wrongly generated file fails here, in CI, without torch)
and shows, in ~60 lines, the exact computation the Swift forward pass must reproduce.
"""

from __future__ import annotations

import json
import sys
from math import erf, sqrt
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
from poyo_rt import model_file as mf  # noqa: E402

FIXTURES = TOOLS.parent / "Tests" / "POYOTests" / "Fixtures"
NAMES = ["poyo_1p3m", "poyoplus_tasks", "poyo_odd", "poyo_v02"]
_erf = np.vectorize(erf)


def layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w + b


def rotate(x, t, omega, sign=1.0):
    """x [n, heads, dh]; interleaved pairs rotated by angle sign * t * omega[p]."""
    a = sign * np.asarray(t)[:, None] * omega[None, :]
    cos, sin = np.cos(a)[:, None, :], np.sin(a)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = odd * cos + even * sin
    return out


def attention(W, prefix, x, tx, ctx, tc, heads, dh, omega, *, self_attn, rotate_value, mask=None):
    h = layer_norm(x, W[f"{prefix}.norm.weight"], W[f"{prefix}.norm.bias"])
    if self_attn:
        q, k, v = np.split(h @ W[f"{prefix}.to_qkv.weight"].T, 3, axis=-1)
    else:
        c = layer_norm(ctx, W[f"{prefix}.norm_context.weight"], W[f"{prefix}.norm_context.bias"])
        q = h @ W[f"{prefix}.to_q.weight"].T
        k, v = np.split(c @ W[f"{prefix}.to_kv.weight"].T, 2, axis=-1)
    q, k, v = (a.reshape(len(a), heads, dh) for a in (q, k, v))
    q, k = rotate(q, tx, omega), rotate(k, tc, omega)
    if rotate_value:
        v = rotate(v, tc, omega)
    logits = np.einsum("qhd,khd->hqk", q, k) / sqrt(dh)
    if mask is not None:
        logits = np.where(mask[None, None, :], logits, -np.inf)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = np.einsum("hqk,khd->qhd", p, v)
    if rotate_value:
        out = rotate(out, tx, omega, sign=-1.0)
    return out.reshape(len(x), heads * dh) @ W[f"{prefix}.to_out.weight"].T + W[f"{prefix}.to_out.bias"]


def ffn(W, prefix, x):
    h = layer_norm(x, W[f"{prefix}.0.weight"], W[f"{prefix}.0.bias"])
    h = h @ W[f"{prefix}.1.net.0.weight"].T + W[f"{prefix}.1.net.0.bias"]
    value, gate = np.split(h, 2, axis=-1)
    h = value * (0.5 * gate * (1.0 + _erf(gate / sqrt(2.0))))
    return h @ W[f"{prefix}.1.net.3.weight"].T + W[f"{prefix}.1.net.3.bias"]


def reference_forward(description, W, inputs):
    W = {k: v.astype(np.float64) for k, v in W.items()}
    hp = description["hyperparameters"]
    dh, omega = hp["dim_head"], W["rotary_emb.omega"]
    mask = inputs["input_mask"].astype(bool) if "input_mask" in inputs else None
    tin, tlat, tout = inputs["input_timestamps"], inputs["latent_timestamps"], inputs["output_timestamps"]
    x = W["unit_emb.weight"][inputs["input_unit_index"]] + W["token_type_emb.weight"][inputs["input_token_type"]]
    lat = W["latent_emb.weight"][inputs["latent_index"]]
    lat = lat + attention(W, "enc_atn", lat, tlat, x, tin, hp["cross_heads"], dh, omega,
                          self_attn=False, rotate_value=True, mask=mask)
    lat = lat + ffn(W, "enc_ffn", lat)
    for i in range(hp["depth"]):
        lat = lat + attention(W, f"proc_layers.{i}.0", lat, tlat, lat, tlat, hp["self_heads"], dh, omega,
                              self_attn=True, rotate_value=True)
        lat = lat + ffn(W, f"proc_layers.{i}.1", lat)
    q = W["session_emb.weight"][inputs["output_session_index"]]
    if description["kind"] == "POYOPlus":
        q = q + W["task_emb.weight"][inputs["output_decoder_index"]]
    q = q + attention(W, "dec_atn", q, tout, lat, tlat, hp["cross_heads"], dh, omega,
                      self_attn=False, rotate_value=False)
    y = q + ffn(W, "dec_ffn", q)
    if description["kind"] == "POYO":
        return {"output": y @ W["readout.weight"].T + W["readout.bias"]}
    out = {}
    for r in description["readouts"]:
        rows = inputs["output_decoder_index"] == r["id"]
        if rows.any():
            p = f"readout.projections.{r['name']}"
            out[f"output.{r['name']}"] = y[rows] @ W[f"{p}.weight"].T + W[f"{p}.bias"]
    return out


@pytest.mark.parametrize("name", NAMES)
def test_fixture_matches_numpy_reference(name):
    description, weights = mf.read_model_file(FIXTURES / f"{name}.model.safetensors")
    inputs, _ = mf.read_safetensors(FIXTURES / f"{name}.inputs.safetensors")
    expected, _ = mf.read_safetensors(FIXTURES / f"{name}.expected.safetensors")
    got = reference_forward(description, weights, inputs)
    assert sorted(got) == sorted(expected)
    scale = max(np.abs(v).max() for v in expected.values())
    for k in expected:
        assert expected[k].dtype == np.float32
        err = np.abs(got[k] - expected[k]).max()
        assert err <= 1e-4 * scale, f"{name} {k}: max error {err:.3g} vs max|ref| {scale:.3g}"


@pytest.mark.parametrize("name", NAMES)
def test_fixture_window_layout(name):
    """Start/end tokens for every unit first, then spikes in time order within [0, sequence_length)."""
    description, _ = mf.read_model_file(FIXTURES / f"{name}.model.safetensors")
    inputs, _ = mf.read_safetensors(FIXTURES / f"{name}.inputs.safetensors")
    seq = description["hyperparameters"]["sequence_length"]
    types, times = inputs["input_token_type"], inputs["input_timestamps"]
    real = len(types) if "input_mask" not in inputs else int(np.nonzero(types != 0)[0].max()) + 1
    n_units = int((types == 1).sum())
    assert np.array_equal(types[: 2 * n_units], np.tile([1, 2], n_units))
    assert np.array_equal(times[: 2 * n_units], np.tile([0.0, seq], n_units))
    spikes = times[2 * n_units: real] if "input_mask" not in inputs else times[2 * n_units: int(inputs["input_mask"].nonzero()[0].max()) + 1]
    assert np.all(np.diff(spikes) >= 0) and spikes.min() >= 0 and spikes.max() < seq
    assert json.loads(json.dumps(description))["format"] == "poyo-rt-model"

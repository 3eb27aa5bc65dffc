#!/usr/bin/env python3
"""Train a small POYO on the real A2929-200711 recording (head direction from ADN + CA1 units),
export it, score it against a ridge baseline, and write the reference decodes.

    /tmp/tb/bin/python tools/train_a2929_model.py train      # train + export + evaluate + ridge + reference decodes
    /tmp/tb/bin/python tools/train_a2929_model.py evaluate   # the same for the committed model (no training)

Needs torch, torch_brain 0.1.x, safetensors and pynwb in the running interpreter; CPU, one thread,
seeded. Writes demo/a2929/poyo_a2929.safetensors, demo/a2929/reference_decodes.safetensors and
demo/a2929/recording.json. See docs/a2929.md.

Data: tools/a2929_recording.py (the NWB read with pynwb, as an in-memory poyo-rt session at
20000 ticks/s; target (cos ry, sin ry); split train 671-1010 s, valid 1010-1080 s, test 1080-1200 s).

Training: as tools/train_demo_model.py (whose helpers are reused: torch_brain tokenization,
Lightning-layout checkpoint, export with `poyo-rt export` (poyo_rt.export)): torch_brain's `POYO` with a
modality registered here with torch_brain's `register_modality` (`head_direction_cos_sin`, dim 2,
continuous, id 20 = the next free registry id), random windows of the train part, queries at every
ry sample in the window (end of window weighted up), targets z-scored with the train part's
mean/std, MSE, AdamW, warmup + cosine decay. The exporter is told the readout with
`--readout-spec head_direction_cos_sin:20:continuous`.

Scores (R^2 averaged over cos and sin, and the median absolute angle error) are computed with a
torch_brain model rebuilt from the exported file, on windows built as the daemon builds them: window
ends T every 20 ms (multiples of 0.02 s) inside the part, window [T - sequence_length, T), one query
at T, target interpolated at T. Ridge baseline at the same T: spike counts of every unit in bins
covering the same sequence_length before T (bin width and alpha chosen on valid), fit on train.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import a2929_recording as rec_mod  # noqa: E402
import bench_torch_brain as bench  # noqa: E402
import make_fixtures as mk  # noqa: E402
from poyo_rt import model_file as mf  # noqa: E402
from poyo_rt import session_file as sf  # noqa: E402
import train_demo_model as tdm  # noqa: E402

ROOT = TOOLS.parent
A2929 = rec_mod.A2929
MODEL = A2929 / "poyo_a2929.safetensors"
REFERENCE = A2929 / "reference_decodes.safetensors"
RECORDING_JSON = A2929 / "recording.json"

CONFIG = dict(sequence_length=1.0, latent_step=0.125, num_latents_per_step=8, dim=64, depth=2,
              dim_head=32, cross_heads=2, self_heads=4, t_min=1e-4, t_max=4.0)
READOUT = "head_direction_cos_sin"
TIMESTAMP_KEY = "head_direction.timestamps"
VALUE_KEY = "head_direction.cos_sin"
RIDGE_BINS_S = (0.02, 0.05, 0.1)
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-5, 5, 21))


def machine() -> str:
    """CPU model and core count, for the record of the training time."""
    try:
        name = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        name = platform.processor() or platform.machine()
    import os
    return f"{name}, {os.cpu_count()} cores"


def register_readout():
    """Register head_direction_cos_sin in torch_brain's registry (once) -> its ModalitySpec."""
    from torch_brain.nn.loss import MSELoss
    from torch_brain.registry import MODALITY_REGISTRY, DataType, register_modality
    if READOUT not in MODALITY_REGISTRY:
        register_modality(READOUT, dim=2, type=DataType.CONTINUOUS, timestamp_key=TIMESTAMP_KEY,
                          value_key=VALUE_KEY, loss_fn=MSELoss())
    return MODALITY_REGISTRY[READOUT]


# --------------------------------------------------------------------------------------
# training (tools/train_demo_model.py's loop, with this readout)
# --------------------------------------------------------------------------------------

def train(session: sf.Session, args):
    import torch
    from torch_brain.models import POYO

    spec = register_readout()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    config = {**CONFIG, "sequence_length": args.sequence_length}
    dropout = dict(ffn_dropout=args.ffn_dropout, lin_dropout=args.lin_dropout, atn_dropout=0.0)
    model = POYO(readout_spec=spec, **config, **dropout)
    model.unit_emb.initialize_vocab(sorted(session.unit_words))  # unit_10 before unit_2: rows != rig ids
    model.session_emb.initialize_vocab([session.session_id])

    train_mask = session.split_mask("train", session.cursor_ticks)
    y_train = session.cursor_vel[train_mask].astype(np.float64)
    mean, std = y_train.mean(axis=0), y_train.std(axis=0)
    norm = {"mean": [float(x) for x in mean], "std": [float(x) for x in std]}

    win = tdm.Windows(session, model.unit_emb.vocab, model.session_emb.vocab, config)
    start, end = session.splits["train"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * min(1.0, i / args.steps))))
    model.train()
    t_start, log = time.perf_counter(), []
    for step in range(args.steps):
        starts = rng.integers(start, end - win.length_ticks + 1, size=args.batch_size)
        kwargs, mask, ticks = win.batch([win.one(int(s0)) for s0 in starts])
        y = torch.from_numpy(((tdm.targets(session, ticks) - mean) / std).astype(np.float32))
        w = torch.ones(mask.shape)
        w[torch.from_numpy(kwargs["output_timestamps"].numpy() >= config["sequence_length"] - args.end_span)] = args.end_weight
        w = w * mask
        pred = model(**kwargs)
        loss = (((pred - y) ** 2).sum(-1) * w).sum() / w.sum() / 2
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        log.append(loss.item())
        if (step + 1) % 100 == 0 or step == 0:
            print(f"step {step + 1}/{args.steps}  loss {np.mean(log[-100:]):.4f}  lr {schedule.get_last_lr()[0]:.2e}  "
                  f"{time.perf_counter() - t_start:.0f} s", flush=True)
        if time.perf_counter() - t_start > args.max_seconds:
            print(f"stopping at step {step + 1}: time budget of {args.max_seconds} s reached", flush=True)
            break
    info = {"steps": step + 1, "planned_steps": args.steps, "seconds": round(time.perf_counter() - t_start, 1),
            "final_loss": float(np.mean(log[-100:])), "batch_size": args.batch_size, "lr": args.lr,
            "weight_decay": args.weight_decay, "seed": args.seed, "end_weight": args.end_weight,
            "end_span": args.end_span, "threads": 1, "machine": machine(),
            "torch": torch.__version__, **dropout}
    model.eval()
    return model, config, norm, info


def export(model, config: dict, norm: dict, session: sf.Session, out: Path, info: dict) -> None:
    spec = register_readout()
    dataset = [{"selection": [{"brainset": "pynapple", "sessions": [session.session_id]}],
                "config": {"readout": {"readout_id": READOUT, "normalize_mean": norm["mean"],
                                       "normalize_std": norm["std"], "timestamp_key": TIMESTAMP_KEY,
                                       "value_key": VALUE_KEY}}}]
    ckpt = mk.lightning_checkpoint(model, {"_target_": "torch_brain.models.POYO", **config}, dataset)
    ckpt["hyper_parameters"]["training"] = info
    mk.export_checkpoint(ckpt, out, ["--readout-spec", f"{READOUT}:{spec.id}:continuous"])
    mk.check_model_file(out, model)


# --------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------

def r2(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    ss_res = ((y_true - y_pred) ** 2).sum(0)
    ss_tot = ((y_true - y_true.mean(0)) ** 2).sum(0)
    per = 1 - ss_res / ss_tot
    angle = np.angle(np.exp(1j * (np.arctan2(y_pred[:, 1], y_pred[:, 0]) - np.arctan2(y_true[:, 1], y_true[:, 0]))))
    return {"r2": float(per.mean()), "r2_cos": float(per[0]), "r2_sin": float(per[1]),
            "median_abs_angle_error_deg": float(np.degrees(np.median(np.abs(angle))))}


def evaluate_poyo(model, description: dict, session: sf.Session, recording) -> dict:
    norm = description["readouts"][0]["normalization"]
    mean, std = np.array(norm["mean"]), np.array(norm["std"])
    seq = description["hyperparameters"]["sequence_length"]
    win = tdm.Windows(session, description["unit_vocab"], description["session_vocab"], description["hyperparameters"])
    L = win.length_ticks
    scores = {}
    for part in ("train", "valid", "test"):
        T = rec_mod.tick_grid(session, part, seq)
        if part == "train":
            T = T[::5]
        ticks, pred = tdm.predict(model, win, [win.one(int(t) - L, [int(t)]) for t in T])
        assert np.array_equal(ticks, T)
        scores[part] = {**r2(rec_mod.target_at(session, T, recording), pred * std + mean), "windows": int(len(T))}
        print(f"POYO  {part:5s}  R2 {scores[part]['r2']:.3f} (cos {scores[part]['r2_cos']:.3f}, sin "
              f"{scores[part]['r2_sin']:.3f})  median |angle error| {scores[part]['median_abs_angle_error_deg']:.1f} deg"
              f"  [{len(T)} windows]", flush=True)
    return scores


def ridge_fit(X: np.ndarray, y: np.ndarray, alpha: float):
    mx, my = X.mean(0), y.mean(0)
    Xc = X - mx
    W = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ (y - my))
    return lambda Z: (Z - mx) @ W + my


def ridge_baseline(session: sf.Session, recording, sequence_length: float) -> dict:
    """Lagged binned counts covering sequence_length before T; bin width and alpha chosen on valid."""
    T = {p: rec_mod.tick_grid(session, p, sequence_length) for p in ("train", "valid", "test")}
    y = {p: rec_mod.target_at(session, T[p], recording) for p in T}
    best = None
    for bin_s in RIDGE_BINS_S:
        n_bins = int(round(sequence_length / bin_s))
        bin_ticks = int(round(bin_s * session.tick_rate))
        X = {p: rec_mod.binned_counts(session, T[p], bin_ticks, n_bins) for p in T}
        for alpha in RIDGE_ALPHAS:
            predict = ridge_fit(X["train"], y["train"], alpha)
            valid = r2(y["valid"], predict(X["valid"]))["r2"]
            if best is None or valid > best[0]:
                best = (valid, bin_s, alpha, {p: {**r2(y[p], predict(X[p])), "windows": int(len(T[p]))} for p in T})
    valid, bin_s, alpha, scores = best
    print(f"ridge bin {bin_s * 1000:.0f} ms x {int(round(sequence_length / bin_s))} lags, alpha {alpha:g}: "
          + "  ".join(f"{p} R2 {scores[p]['r2']:.3f} ({scores[p]['median_abs_angle_error_deg']:.1f} deg)" for p in scores),
          flush=True)
    return {"bin": bin_s, "lags": int(round(sequence_length / bin_s)), "alpha": alpha, "scores": scores,
            "selection": f"bin in {list(RIDGE_BINS_S)} s x alpha in logspace(-5, 5, 21), best valid R2"}


# --------------------------------------------------------------------------------------
# reference decodes
# --------------------------------------------------------------------------------------

def reference_ticks(session: sf.Session, L: int) -> np.ndarray:
    """60 window end ticks in the test part: 50 every 20 ms over one second (on the daemon's grid),
    10 at arbitrary ticks spread over the test part (not on the grid)."""
    a, b = session.splits["test"]
    dense = a + 10 * session.tick_rate + np.arange(50, dtype=np.int64) * (session.tick_rate // 50)
    rng = np.random.default_rng(7)
    spread = np.sort(rng.integers(a + L, min(b, session.cursor_ticks[-1] + 1), size=10))
    return np.concatenate([dense, spread]).astype(np.int64)


def write_reference(model, description: dict, session: sf.Session, recording, out: Path) -> dict:
    """torch_brain's forward, one unpadded window at a time (batch of 1), query at the window end."""
    norm = description["readouts"][0]["normalization"]
    mean, std = np.array(norm["mean"], np.float32), np.array(norm["std"], np.float32)
    seq = float(description["hyperparameters"]["sequence_length"])
    L = int(round(seq * session.tick_rate))
    ticks = reference_ticks(session, L)
    rows = sf.unit_rows(session, description["unit_vocab"])
    raw, tokens = [], []
    for t in ticks:
        window = sf.make_inputs(session, description, int(t), rows=rows)
        raw.append(mk.forward(model, window)["output"][0])
        tokens.append(len(window["input_unit_index"]))
    raw = np.stack(raw).astype(np.float32)
    tensors = {
        "tick": ticks,
        "window_start_tick": ticks - L,
        "window_start": (ticks - L) / float(session.tick_rate),
        "num_tokens": np.array(tokens, dtype=np.int64),
        "output": raw,
        "output_physical": (raw * std + mean).astype(np.float32),
        "target": rec_mod.target_at(session, ticks, recording).astype(np.float32),
    }
    meta = {"format": "poyo-rt-reference-decodes", "format_version": 1, "session": rec_mod.NWB.name,
            "model": MODEL.name, "session_id": session.session_id, "unit_prefix": rec_mod.UNIT_PREFIX,
            "unit_order": [int(u) for u in session.unit_ids], "readout": description["readouts"][0]["name"],
            "sequence_length": seq, "tick_rate": session.tick_rate, "query_time": seq,
            "ticks": "tick = round(seconds * tick_rate) for NWB spike times (seconds)",
            "window": "spikes with tick - sequence_length * tick_rate <= spike tick < tick; times (spike tick - "
                      "window_start_tick) / tick_rate; start/end tokens of every unit in NWB units-table order; "
                      "spikes by tick, ties in that order; latents create_linspace_latent_tokens(0, sequence_length); "
                      "one query at t = sequence_length",
            "target": "(cos ry, sin ry) of acquisition/CompassDirection/ry linearly interpolated at tick (informational)",
            "generator": "tools/train_a2929_model.py"}
    mf.write_safetensors(out, tensors, {"poyo_rt_reference": json.dumps(meta)})
    print(f"{out}: {len(ticks)} reference decodes, max |raw| = {np.abs(raw).max():.3f}")
    return meta


def write_recording_json(out: Path, description: dict, poyo: dict, ridge: dict, training: dict | None) -> dict:
    splits = {k: list(v) for k, v in rec_mod.SPLITS_S.items()}
    doc = {
        "nwb": "demo/a2929/A2929-200711.nwb",
        "session_word": rec_mod.SESSION_WORD,
        "unit_prefix": rec_mod.UNIT_PREFIX,
        "units": "NWB units-table ids 0..14 (0-6 adn, 7-14 ca1); rig unit N = NWB unit N; session unit order = table order",
        "behaviour": rec_mod.BEHAVIOUR,
        "behaviour_unit": "radian",
        "target": "cos_sin",
        "target_definition": "[cos(ry), sin(ry)]; at a tick: cos and sin linearly interpolated between ry samples",
        "readout": description["readouts"][0]["name"],
        "readout_id": description["readouts"][0]["id"],
        "normalization": description["readouts"][0]["normalization"],
        "splits": splits,
        "split_rule": "seconds on the NWB clock, half-open; a window end T belongs to a part when start <= T < end; "
                      "scored windows lie inside their part (T >= start + sequence_length)",
        "tick_rate": rec_mod.TICK_RATE,
        "ticks": "tick = round(seconds * 20000): the spike times are samples of the 20 kHz acquisition",
        "sequence_length": description["hyperparameters"]["sequence_length"],
        "evaluation": "window ends T every 20 ms (multiples of 0.02 s) inside the part, window [T - sequence_length, T), "
                      "one query at T; R2 averaged over cos and sin",
        "scores": {
            "poyo_test_r2": poyo["test"]["r2"], "ridge_test_r2": ridge["scores"]["test"]["r2"],
            "ridge_alpha": ridge["alpha"], "bin": ridge["bin"], "ridge_lags": ridge["lags"],
            "poyo_test_median_abs_angle_error_deg": poyo["test"]["median_abs_angle_error_deg"],
            "ridge_test_median_abs_angle_error_deg": ridge["scores"]["test"]["median_abs_angle_error_deg"],
            "poyo": poyo, "ridge": ridge["scores"], "ridge_selection": ridge["selection"],
        },
        "training": training,
        "model": "demo/a2929/poyo_a2929.safetensors",
        "generator": "tools/train_a2929_model.py",
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["train", "evaluate"])
    p.add_argument("--nwb", type=Path, default=rec_mod.NWB)
    p.add_argument("--model", type=Path, default=MODEL)
    p.add_argument("--reference", type=Path, default=REFERENCE)
    p.add_argument("--recording-json", type=Path, default=RECORDING_JSON)
    p.add_argument("--sequence-length", type=float, default=CONFIG["sequence_length"])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--end-weight", type=float, default=3.0, help="loss weight of queries in the window's last --end-span s")
    p.add_argument("--end-span", type=float, default=0.1)
    p.add_argument("--ffn-dropout", type=float, default=0.2)
    p.add_argument("--lin-dropout", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=900, help="stop training after this long")
    args = p.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    recording = rec_mod.read_nwb(args.nwb)
    session = rec_mod.to_session(recording)
    print(f"{args.nwb.name}: {len(session.unit_ids)} units, {len(session.spike_ticks)} spikes, "
          f"{len(session.cursor_ticks)} ry samples; splits (s) {rec_mod.SPLITS_S}", flush=True)
    training = None
    if args.command == "train":
        model, config, norm, training = train(session, args)
        export(model, config, norm, session, args.model, training)
        print(f"{args.model}: {args.model.stat().st_size / 1e6:.2f} MB, trained {training['steps']} steps in "
              f"{training['seconds']} s", flush=True)
    elif args.recording_json.exists():
        training = json.loads(args.recording_json.read_text()).get("training")
    model, description = bench.build_torch_brain_model(args.model)
    poyo = evaluate_poyo(model, description, session, recording)
    ridge = ridge_baseline(session, recording, description["hyperparameters"]["sequence_length"])
    write_reference(model, description, session, recording, args.reference)
    doc = write_recording_json(args.recording_json, description, poyo, ridge, training)
    s = doc["scores"]
    print(f"test R2: POYO {s['poyo_test_r2']:.3f}  ridge {s['ridge_test_r2']:.3f} "
          f"(bin {s['bin'] * 1000:.0f} ms, alpha {s['ridge_alpha']:g})"
          + ("" if s["poyo_test_r2"] > s["ridge_test_r2"] else "   WARNING: POYO does not beat ridge"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

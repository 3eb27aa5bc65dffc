#!/usr/bin/env python3
"""Train the bundled demo POYO model on demo/session.safetensors, export it, score it, and write
the reference decodes the daemon's tests compare against.

    /tmp/tb/bin/python tools/train_demo_model.py train      # train + export + evaluate + reference decodes
    /tmp/tb/bin/python tools/train_demo_model.py evaluate   # evaluate demo/poyo_demo.safetensors + reference decodes

Needs torch and torch_brain 0.1.x (and the safetensors package) in the running interpreter.
Runs on the CPU with one thread; seeds are fixed (a rerun on the same machine and versions gives
the same model up to CPU-kernel rounding).

Training: torch_brain's `POYO` (readout cursor_velocity_2d) on random 1 s windows of the train
part, tokenized as torch_brain's `POYO.tokenize` does (start/end tokens for every session unit
from `create_start_end_unit_tokens`, latents from `create_linspace_latent_tokens`, unit rows from
`unit_emb.tokenizer`, window-relative times, queries at every cursor sample inside the window),
targets z-scored with the train part's mean/std, MSE, AdamW with warmup + cosine decay. The model
is saved as a Lightning-layout checkpoint (`model.`-prefixed state_dict, hyper_parameters
model + dataset normalization) and converted with poyo_rt/export.py (`poyo-rt export`).

Every score and every reference decode is computed with a torch_brain model rebuilt from the
exported file (tools/bench_torch_brain.py), i.e. with exactly the weights the daemon loads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import bench_torch_brain as bench  # noqa: E402
import make_fixtures as mk  # noqa: E402
from poyo_rt import model_file as mf  # noqa: E402
from poyo_rt import session_file as sf  # noqa: E402

ROOT = TOOLS.parent
DEMO = ROOT / "demo"
SESSION = DEMO / "session.safetensors"
MODEL = DEMO / "poyo_demo.safetensors"
REFERENCE = DEMO / "reference_decodes.safetensors"

CONFIG = dict(sequence_length=1.0, latent_step=0.125, num_latents_per_step=8, dim=64, depth=2,
              dim_head=32, cross_heads=2, self_heads=4, t_min=1e-4, t_max=4.0)
READOUT = "cursor_velocity_2d"


# --------------------------------------------------------------------------------------
# batches of windows (torch_brain's tokenizer, batched with padding + masks)
# --------------------------------------------------------------------------------------

class Windows:
    """Builds tokenized windows of a session for a model with a given unit/session vocabulary."""

    def __init__(self, session: sf.Session, unit_vocab: dict, session_vocab: dict, config: dict):
        from torch_brain.utils import create_linspace_latent_tokens, create_start_end_unit_tokens
        self.s = session
        self.seq = float(config["sequence_length"])
        start, end = sf.window_ticks(session, 0, self.seq)
        self.length_ticks = end - start
        self.unit_index = session.spike_unit_index
        self.rows = sf.unit_rows(session, unit_vocab)
        self.session_row = session_vocab[session.session_id]
        self.se_type, se_unit, self.se_time = create_start_end_unit_tokens(np.array(session.unit_words), 0, self.seq)
        self.se_rows = self.rows[se_unit]
        self.latent_index, self.latent_timestamps = create_linspace_latent_tokens(
            0, self.seq, step=config["latent_step"], num_latents_per_step=config["num_latents_per_step"])

    def one(self, start_tick: int, query_ticks=None):
        """Window [start_tick, start_tick + sequence_length); queries at the cursor samples inside
        it (training) or at `query_ticks` (may equal the window end)."""
        end_tick = start_tick + self.length_ticks
        unit, t = sf.window_spikes(self.s, start_tick, end_tick, self.unit_index)
        if query_ticks is None:
            lo, hi = np.searchsorted(self.s.cursor_ticks, [start_tick, end_tick], side="left")
            query_ticks = self.s.cursor_ticks[lo:hi]
        query_ticks = np.asarray(query_ticks, dtype=np.int64)
        return {
            "input_unit_index": np.concatenate([self.se_rows, self.rows[unit]]),
            "input_timestamps": np.concatenate([self.se_time, t]),
            "input_token_type": np.concatenate([self.se_type, np.zeros(len(unit), dtype=np.int64)]),
            "output_timestamps": (query_ticks - start_tick) / float(self.s.tick_rate),
            "query_ticks": query_ticks,
        }

    def batch(self, windows: list):
        """Pad a list of windows into forward() kwargs (torch tensors) + the query ticks [B, Q] (-1 = pad)."""
        import torch
        B = len(windows)
        N = max(len(w["input_unit_index"]) for w in windows)
        Q = max(len(w["output_timestamps"]) for w in windows)
        out = {
            "input_unit_index": np.zeros((B, N), np.int64), "input_timestamps": np.zeros((B, N), np.float64),
            "input_token_type": np.zeros((B, N), np.int64), "input_mask": np.zeros((B, N), bool),
            "output_timestamps": np.zeros((B, Q), np.float64), "output_mask": np.zeros((B, Q), bool),
        }
        ticks = np.full((B, Q), -1, np.int64)
        for b, w in enumerate(windows):
            n, q = len(w["input_unit_index"]), len(w["output_timestamps"])
            for k in ("input_unit_index", "input_timestamps", "input_token_type"):
                out[k][b, :n] = w[k]
            out["input_mask"][b, :n] = True
            out["output_timestamps"][b, :q] = w["output_timestamps"]
            out["output_mask"][b, :q] = True
            ticks[b, :q] = w["query_ticks"]
        out["latent_index"] = np.tile(self.latent_index, (B, 1))
        out["latent_timestamps"] = np.tile(self.latent_timestamps, (B, 1))
        out["output_session_index"] = np.full((B, Q), self.session_row, np.int64)
        kwargs = {k: torch.from_numpy(v) for k, v in out.items() if k != "output_mask"}
        return kwargs, torch.from_numpy(out["output_mask"]), ticks


def targets(session: sf.Session, ticks: np.ndarray) -> np.ndarray:
    """Cursor velocity at cursor-sample ticks (-1 = padding -> 0)."""
    idx = np.searchsorted(session.cursor_ticks, np.maximum(ticks, 0))
    idx = np.minimum(idx, len(session.cursor_ticks) - 1)
    y = session.cursor_vel[idx].astype(np.float64)
    y[ticks < 0] = 0
    return y


# --------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------

def train(session: sf.Session, args) -> tuple[object, dict, dict]:
    import torch
    from torch_brain.models import POYO
    from torch_brain.registry import MODALITY_REGISTRY

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dropout = dict(ffn_dropout=args.ffn_dropout, lin_dropout=args.lin_dropout, atn_dropout=0.0)
    model = POYO(readout_spec=MODALITY_REGISTRY[READOUT], **CONFIG, **dropout)
    model.unit_emb.initialize_vocab(sorted(session.unit_words))  # rows != session order on purpose
    model.session_emb.initialize_vocab([session.session_id])

    train_mask = session.split_mask("train", session.cursor_ticks)
    mean = session.cursor_vel[train_mask].astype(np.float64).mean(axis=0)
    std = session.cursor_vel[train_mask].astype(np.float64).std(axis=0)
    norm = {"mean": [float(x) for x in mean], "std": [float(x) for x in std]}

    win = Windows(session, model.unit_emb.vocab, model.session_emb.vocab, CONFIG)
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
        y = torch.from_numpy(((targets(session, ticks) - mean) / std).astype(np.float32))
        # end-of-window emphasis: the daemon queries at the window end
        w = torch.ones(mask.shape)
        w[torch.from_numpy(kwargs["output_timestamps"].numpy() >= CONFIG["sequence_length"] - args.end_span)] = args.end_weight
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
            elapsed = time.perf_counter() - t_start
            print(f"step {step + 1}/{args.steps}  loss {np.mean(log[-100:]):.4f}  lr {schedule.get_last_lr()[0]:.2e}  "
                  f"{elapsed:.0f} s", flush=True)
        if time.perf_counter() - t_start > args.max_seconds:
            print(f"stopping at step {step + 1}: time budget of {args.max_seconds} s reached", flush=True)
            break
    info = {"steps": step + 1, "seconds": round(time.perf_counter() - t_start, 1), "final_loss": float(np.mean(log[-100:])),
            "batch_size": args.batch_size, "lr": args.lr, "weight_decay": args.weight_decay, "seed": args.seed,
            "end_weight": args.end_weight, "end_span": args.end_span, **dropout}
    model.eval()
    return model, norm, info


def export(model, norm: dict, session: sf.Session, out: Path, info: dict) -> None:
    dataset = [{"selection": [{"brainset": "demo", "sessions": [session.session_id]}],
                "config": {"readout": {"readout_id": READOUT, "normalize_mean": norm["mean"],
                                       "normalize_std": norm["std"]}}}]
    ckpt = mk.lightning_checkpoint(model, {"_target_": "torch_brain.models.POYO", **CONFIG}, dataset)
    ckpt["hyper_parameters"]["training"] = info
    mk.export_checkpoint(ckpt, out)
    mk.check_model_file(out, model)


# --------------------------------------------------------------------------------------
# evaluation and reference decodes (with the model rebuilt from the exported file)
# --------------------------------------------------------------------------------------

def r2(y_true: np.ndarray, y_pred: np.ndarray) -> list:
    ss_res = ((y_true - y_pred) ** 2).sum(0)
    ss_tot = ((y_true - y_true.mean(0)) ** 2).sum(0)
    per = 1 - ss_res / ss_tot
    return [float(per[0]), float(per[1]), float(per.mean())]


def predict(model, win: Windows, windows: list, batch_size=64) -> tuple[np.ndarray, np.ndarray]:
    """-> (query ticks [M], raw outputs [M, 2]) over all queries of all windows."""
    import torch
    all_ticks, all_pred = [], []
    with torch.no_grad():
        for i in range(0, len(windows), batch_size):
            kwargs, mask, ticks = win.batch(windows[i:i + batch_size])
            pred = model(**kwargs).numpy()
            m = mask.numpy()
            all_ticks.append(ticks[m])
            all_pred.append(pred[m])
    return np.concatenate(all_ticks), np.concatenate(all_pred).astype(np.float64)


def evaluate(model, description: dict, session: sf.Session) -> dict:
    norm = description["readouts"][0]["normalization"]
    mean, std = np.array(norm["mean"]), np.array(norm["std"])
    win = Windows(session, description["unit_vocab"], description["session_vocab"], description["hyperparameters"])
    L = win.length_ticks
    scores = {}
    for part in ("train", "valid", "test"):
        a, b = session.splits[part]
        # daemon-like: one window per cursor sample T (the window [T - 1 s, T) inside the part), query at T
        T = session.cursor_ticks[(session.cursor_ticks >= a + L) & (session.cursor_ticks < b)]
        if part == "train":
            T = T[::10]  # a tenth is plenty for the training score
        ticks, pred = predict(model, win, [win.one(int(t) - L, [int(t)]) for t in T])
        end = r2(targets(session, ticks), pred * std + mean)
        # training-like: tiling 1 s windows, queries at every cursor sample inside each
        starts = np.arange(a, b - L + 1, L)
        ticks, pred = predict(model, win, [win.one(int(s0)) for s0 in starts])
        spread = r2(targets(session, ticks), pred * std + mean)
        scores[part] = {"end_of_window": end, "end_of_window_queries": int(len(T)),
                        "spread": spread, "spread_queries": int(len(ticks))}
        print(f"{part:5s}  R2 end-of-window (x, y, mean) = {end[0]:.3f} {end[1]:.3f} {end[2]:.3f} "
              f"[{len(T)} windows]   spread over window = {spread[0]:.3f} {spread[1]:.3f} {spread[2]:.3f}")
    return scores


def reference_ticks(session: sf.Session, L: int) -> np.ndarray:
    """60 window end ticks in the test part: 50 every 20 ms over one second on the cursor grid, and
    10 spread over the test part at arbitrary ticks (not on the cursor grid)."""
    a, b = session.splits["test"]
    dense = a + 10 * session.tick_rate + np.arange(50, dtype=np.int64) * (session.tick_rate // 50)
    rng = np.random.default_rng(7)
    spread = np.sort(rng.integers(a + L, b, size=10))
    return np.concatenate([dense, spread]).astype(np.int64)


def write_reference(model, description: dict, session: sf.Session, model_path: Path, out: Path) -> dict:
    """torch_brain's forward, one unpadded window at a time (batch of 1), query at the window end."""
    norm = description["readouts"][0]["normalization"]
    mean, std = np.array(norm["mean"], np.float32), np.array(norm["std"], np.float32)
    seq = float(description["hyperparameters"]["sequence_length"])
    start, end = sf.window_ticks(session, 0, seq)
    L = end - start
    ticks = reference_ticks(session, L)
    raw, tokens = [], []
    rows = sf.unit_rows(session, description["unit_vocab"])
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
    }
    meta = {"format": "poyo-rt-reference-decodes", "format_version": 1, "session": "session.safetensors",
            "model": model_path.name, "session_id": session.session_id, "readout": description["readouts"][0]["name"],
            "sequence_length": seq, "tick_rate": session.tick_rate, "query_time": seq,
            "window": "spikes with tick - sequence_length * tick_rate <= spike tick < tick; times (spike tick - "
                      "window_start_tick) / tick_rate; start/end tokens of every session unit in session order; "
                      "latents create_linspace_latent_tokens(0, sequence_length); one query at t = sequence_length",
            "generator": "tools/train_demo_model.py"}
    mf.write_safetensors(out, tensors, {"poyo_rt_reference": json.dumps(meta)})
    print(f"{out}: {len(ticks)} reference decodes, max |raw| = {np.abs(raw).max():.3f}")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["train", "evaluate"])
    p.add_argument("--session", type=Path, default=SESSION)
    p.add_argument("--model", type=Path, default=MODEL)
    p.add_argument("--reference", type=Path, default=REFERENCE)
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--end-weight", type=float, default=3.0, help="loss weight of queries in the window's last --end-span s")
    p.add_argument("--end-span", type=float, default=0.1)
    p.add_argument("--ffn-dropout", type=float, default=0.2)
    p.add_argument("--lin-dropout", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=540, help="stop training after this long")
    p.add_argument("--scores", type=Path, help="write the scores as JSON here")
    args = p.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    session = sf.read_session(args.session)
    info = None
    if args.command == "train":
        model, norm, info = train(session, args)
        export(model, norm, session, args.model, info)
        print(f"{args.model}: {args.model.stat().st_size / 1e6:.2f} MB, trained {info['steps']} steps in {info['seconds']} s")
    model, description = bench.build_torch_brain_model(args.model)
    scores = evaluate(model, description, session)
    write_reference(model, description, session, args.model, args.reference)
    if args.scores:
        args.scores.write_text(json.dumps({"r2": scores, "training": info, "config": CONFIG}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The calibration proof, offline: does `poyo-rt calibrate` on 3 minutes of a new session reach
what a model trained on that session from the start reaches?

    /tmp/tb/bin/python tools/calibration_experiment.py [--out /tmp/calibration] [--base-seconds 480 --steps 900] [--new-seed 104] [--reuse-base]

1. Sessions from tools/make_demo_session.py with different seeds (different unit populations:
   channel ids, baselines, tuning depths, preferred directions; different cursor paths), each
   with its own session word `synth/s<seed>` and unit words `synth/s<seed>/unit_<rig id>`.
2. A base POYO (the demo's hyperparameters) trained with torch_brain on the base sessions (every
   minute of them), exported with the package's exporter (`poyo-rt export`).
3. The new session: `poyo-rt calibrate` on its first --minutes (the command itself, as a user runs it).
4. Scored on the minutes after the calibration span, daemon-like (one window ending at every
   --stride-th behaviour sample, one query at the window end), with torch_brain models rebuilt
   from the model files:
   - calibrated: the file `poyo-rt calibrate` wrote;
   - from scratch: the same architecture trained only on the new session's calibration minutes
     (all of them: the data calibration had, and the same step budget as the base);
   - uncalibrated: the base with the new session's units and session added at initialization
     (what calibration starts from).
   With --daemon, also through the daemon: `poyo-rt replay` plays the same minutes into `poyo serve`
   over its sockets with the calibrated and the from-scratch files, and an old session with the
   calibrated file (it must decode it as the base does).
Writes OUT/results-s<new seed>.json and prints a table. CPU, one thread; a few minutes per model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(ROOT / "python"))
import make_demo_session as generator  # noqa: E402
import make_fixtures as mk  # noqa: E402
from poyo_rt import session_file as sf  # noqa: E402
from poyo_rt.calibrate import torch_model  # noqa: E402
from poyo_rt.calibrate.data import CalibrationData, pad_batch, r2_score  # noqa: E402
from poyo_rt.sessions import read_recording  # noqa: E402

CONFIG = dict(sequence_length=1.0, latent_step=0.125, num_latents_per_step=8, dim=64, depth=2,
              dim_head=32, cross_heads=2, self_heads=4, t_min=1e-4, t_max=4.0)
READOUT = "cursor_velocity_2d"


def make_session(seed: int, out_dir: Path) -> Path:
    """A synthetic session of tools/make_demo_session.py with its own session and unit words."""
    session, gen = generator.generate(seed)
    session.session_id = f"synth/s{seed}"
    session.unit_words = [f"synth/s{seed}/unit_{i}" for i in session.unit_ids]
    path = out_dir / f"s{seed}.safetensors"
    sf.write_session(path, session, gen)
    return path


def session_data(path: Path, minutes: float, holdout: float = 0.01) -> CalibrationData:
    recording = read_recording(str(path))
    return CalibrationData(recording, recording.behaviour["cursor.vel"], recording.unit_words, recording.session_id,
                           CONFIG["sequence_length"], minutes=minutes, holdout=holdout)


def train(datas: list, seconds: float, steps: int, seed: int, batch_size: int = 16, lr: float = 2e-3, config=None):
    """torch_brain POYO trained from scratch on random 1 s windows of the training parts of `datas`
    (the recipe of tools/train_demo_model.py: AdamW, warmup + cosine, targets z-scored)."""
    import torch
    from torch_brain.models import POYO
    from torch_brain.registry import MODALITY_REGISTRY
    config = config or CONFIG
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = POYO(readout_spec=MODALITY_REGISTRY[READOUT], **config, ffn_dropout=0.2, lin_dropout=0.2, atn_dropout=0.0)
    model.unit_emb.initialize_vocab(sorted(w for d in datas for w in d.unit_words))
    model.session_emb.initialize_vocab(sorted(d.session_word for d in datas))
    values = np.concatenate([d.behaviour_values[d.behaviour_times < d.train.end] for d in datas])
    mean, std = values.mean(0), values.std(0)
    rows = [(np.array(model.unit_emb.tokenizer(d.unit_words)), model.session_emb.tokenizer(d.session_word)) for d in datas]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * min(1.0, i / steps))))
    model.train()
    t0, step = time.perf_counter(), 0
    for step in range(1, steps + 1):
        windows = []
        for _ in range(batch_size):
            k = int(rng.integers(len(datas)))
            d = datas[k]
            start = rng.uniform(d.train.start, d.train.end - d.sequence_length)
            windows.append(d.window(start, rows[k][0], rows[k][1], config["latent_step"], config["num_latents_per_step"]))
        inputs, mask, target = pad_batch(windows)
        kwargs = {k: torch.from_numpy(v) for k, v in inputs.items()}
        pred = model(**kwargs, output_mask=torch.from_numpy(mask))[torch.from_numpy(mask)]
        loss = torch.nn.functional.mse_loss(pred, torch.from_numpy(((target - mean) / std).astype(np.float32)))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 200 == 0:
            print(f"  step {step}  loss {loss.item():.3f}  {time.perf_counter() - t0:.0f} s", flush=True)
        if time.perf_counter() - t0 > seconds:
            break
    model.eval()
    return model, {"mean": [float(x) for x in mean], "std": [float(x) for x in std]}, step, time.perf_counter() - t0


def export(model, norm: dict, sessions: list, out: Path, config=None) -> None:
    dataset = [{"selection": [{"brainset": "synth", "sessions": sessions}],
                "config": {"readout": {"readout_id": READOUT, "normalize_mean": norm["mean"], "normalize_std": norm["std"]}}}]
    config = config or CONFIG
    mk.export_checkpoint(mk.lightning_checkpoint(model, {"_target_": "torch_brain.models.POYO", **config}, dataset), out)


def score(model_path: Path, session_path: Path, start_s: float, stride: int, extend: bool = False) -> float:
    """R² (mean of x, y) of the windows ending at every `stride`-th cursor sample after `start_s`
    (one query at the window end), with the model rebuilt from its file. `extend`: add the
    session's units and session to the vocabulary at initialization first (the uncalibrated model)."""
    import torch
    description, tensors = torch_model.read_base(model_path)
    model = torch_model.build_model(description, tensors).eval()
    data = session_data(session_path, minutes=10)
    if extend:
        torch.manual_seed(0)
        model.unit_emb.extend_vocab(data.unit_words)
        model.session_emb.extend_vocab([data.session_word])
    norm = description["readouts"][0]["normalization"]
    mean, std = np.array(norm["mean"]), np.array(norm["std"])
    rows = np.array(model.unit_emb.tokenizer(data.unit_words))
    srow = model.session_emb.tokenizer(data.session_word)
    hp = description["hyperparameters"]
    L = data.sequence_length
    ends = data.behaviour_times[data.behaviour_times >= start_s + L][::stride]
    preds, targets = [], []
    with torch.no_grad():
        for i in range(0, len(ends), 64):
            windows = [data.window(t - L, rows, srow, hp["latent_step"], hp["num_latents_per_step"], [t])
                       for t in ends[i:i + 64]]
            inputs, mask, target = pad_batch(windows)
            pred = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})[torch.from_numpy(mask)]
            preds.append(pred.double().numpy() * std + mean)
            targets.append(target)
    return r2_score(np.concatenate(targets), np.concatenate(preds))


def replay_r2(model_path: Path, session_path: Path, start_s: float, report: Path) -> float:
    """R² of `poyo-rt replay` (the daemon, `poyo serve`, over its sockets, lock step, a decode every
    20 ms) of the session from `start_s` to its end."""
    command = [sys.executable, "-m", "poyo_rt.cli", "replay", str(session_path), "--model", str(model_path),
               "--interval", f"{start_s:g}:300", "--quiet", "--report", str(report)]
    subprocess.run(command, check=True, env={"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"},
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    readouts = json.loads((report / "report.json").read_text())["readouts"]
    return float(readouts[READOUT]["r2_mean"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/calibration"))
    p.add_argument("--base-seeds", default="101,102,103")
    p.add_argument("--new-seed", type=int, default=104)
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--base-seconds", type=float, default=240, help="training time cap of the base and the from-scratch model")
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--stride", type=int, default=2, help="score every n-th cursor sample (100 Hz)")
    p.add_argument("--daemon", action="store_true", help="also score by replaying through `poyo serve` "
                   "(poyo-rt replay; needs .build/release/poyo or $POYO_BIN, and pyzmq)")
    p.add_argument("--reuse-base", action="store_true", help="keep OUT/base.safetensors if it exists (another --new-seed)")
    p.add_argument("--calibrate-args", default="", help="extra options for poyo-rt calibrate")
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    base_seeds = [int(s) for s in args.base_seeds.split(",")]
    base_paths = [make_session(s, args.out) for s in base_seeds]
    new_path = make_session(args.new_seed, args.out)
    results = {"config": CONFIG, "base_sessions": [p.name for p in base_paths], "new_session": new_path.name,
               "calibration_minutes": args.minutes}

    base = args.out / "base.safetensors"
    if args.reuse_base and base.exists():
        print(f"base: reusing {base}", flush=True)
        results["base_training"] = "reused"
    else:
        print(f"base: training on {len(base_paths)} sessions x 5 min", flush=True)
        base_datas = [session_data(path, minutes=10) for path in base_paths]
        model, norm, steps, seconds = train(base_datas, args.base_seconds, args.steps, seed=0)
        export(model, norm, [d.session_word for d in base_datas], base)
        results["base_training"] = {"steps": steps, "seconds": round(seconds, 1)}

    print(f"from scratch: training on the new session's first {args.minutes:g} min", flush=True)
    scratch_data = session_data(new_path, minutes=args.minutes)
    model, norm, steps, seconds = train([scratch_data], args.base_seconds, args.steps, seed=1)
    scratch = args.out / f"scratch-s{args.new_seed}.safetensors"
    export(model, norm, [scratch_data.session_word], scratch)
    results["scratch_training"] = {"steps": steps, "seconds": round(seconds, 1)}

    calibrated = args.out / f"calibrated-s{args.new_seed}.safetensors"
    command = [sys.executable, "-m", "poyo_rt.cli", "calibrate", "--model", str(base), "--recording", str(new_path),
               "--minutes", str(args.minutes), "--threads", "1", "--output", str(calibrated), *args.calibrate_args.split()]
    print("$ " + " ".join(command[2:]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(command, check=True, env={"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"})
    results["calibration"] = {"command": "poyo-rt " + " ".join(command[3:]), "wall_seconds": round(time.perf_counter() - t0, 1)}

    after = 60 * args.minutes
    results["r2_test"] = {
        "calibrated": score(calibrated, new_path, after, args.stride),
        "from_scratch": score(scratch, new_path, after, args.stride),
        "uncalibrated": score(base, new_path, after, args.stride, extend=True),
        "base_on_a_base_session": score(base, base_paths[0], after, args.stride),
    }
    if args.daemon:
        results["r2_test_through_daemon"] = {
            "calibrated": replay_r2(calibrated, new_path, after, args.out / f"replay-calibrated-s{args.new_seed}"),
            "from_scratch": replay_r2(scratch, new_path, after, args.out / f"replay-scratch-s{args.new_seed}"),
            "calibrated_on_a_base_session": replay_r2(calibrated, base_paths[0], after, args.out / "replay-old"),
            "base_on_a_base_session": replay_r2(base, base_paths[0], after, args.out / "replay-base"),
        }
    r = results["r2_test"]
    results["calibrated_over_scratch"] = r["calibrated"] / r["from_scratch"]
    results["test_span"] = f"{after:.0f} s to the end (300 s), window end every {args.stride * 10} ms"
    (args.out / f"results-s{args.new_seed}.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

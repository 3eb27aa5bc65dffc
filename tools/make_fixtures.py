#!/usr/bin/env python3
"""Generate the torch_brain parity fixtures for the Swift forward pass, and the small
checkpoints the exporter tests read.

    /tmp/tb/bin/python tools/make_fixtures.py                      # Tests/POYOTests/Fixtures/
    /tmp/tb/bin/python tools/make_fixtures.py --exporter-fixtures  # tools/tests/fixtures/

Needs torch and torch_brain 0.1.x in the running interpreter; the torch_brain 0.2.x fixture is
made by re-running this script in a child process with PYTHONPATH=--tb021 (a
`pip install --no-deps --target DIR torch-brain==0.2.1`; its unused `ray` import is stubbed).

Every weight is randomized with large scales (peaky attention, LayerNorm affine far from
identity) so a wrong detail in the Swift port cannot hide behind near-uniform attention or
tiny activations. Each model file is written by exporting a torch.save'd checkpoint with
poyo_rt/export.py (`poyo-rt export`), i.e. with exactly the code users run. Seeds are fixed.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
from poyo_rt import export  # noqa: E402
from poyo_rt import model_file as mf  # noqa: E402
from poyo_rt import window as pw  # noqa: E402

ROOT = TOOLS.parent
FIXTURES = ROOT / "Tests" / "POYOTests" / "Fixtures"
EXPORTER_FIXTURES = TOOLS / "tests" / "fixtures"


# --------------------------------------------------------------------------------------
# torch helpers (torch is imported lazily so the numpy-only modules stay torch-free)
# --------------------------------------------------------------------------------------

def randomize_(model, seed: int) -> None:
    """Every weight random with non-default scales; rotary_emb.omega is left as torch_brain made it."""
    import torch
    import torch.nn as nn
    g = torch.Generator().manual_seed(seed)

    def normal_(p, std, mean=0.0):
        with torch.no_grad():
            p.copy_(torch.randn(p.shape, generator=g) * std + mean)

    for _, module in model.named_modules():
        if isinstance(module, nn.LayerNorm):
            normal_(module.weight, 0.3, 1.0)
            normal_(module.bias, 0.3)
        elif isinstance(module, nn.Linear):
            std = 2.0 / module.in_features ** 0.5
            normal_(module.weight, std)
            if module.bias is not None:
                normal_(module.bias, std)
        elif isinstance(module, nn.Embedding) or type(module).__name__ == "InfiniteVocabEmbedding":
            normal_(module.weight, 1.0)


def state_dict_numpy(model) -> collections.OrderedDict:
    import torch
    return collections.OrderedDict(
        (k, v.detach().cpu().numpy().copy() if isinstance(v, torch.Tensor) else v)
        for k, v in model.state_dict().items())


def lightning_checkpoint(model, model_config: dict, dataset_config: list | None) -> dict:
    """The structure torch_brain's example trainers save (TrainWrapper + save_hyperparameters)."""
    import torch
    return {
        "epoch": 0, "global_step": 0, "pytorch-lightning_version": "2.5.0",
        "state_dict": collections.OrderedDict(("model." + k, v) for k, v in model.state_dict().items()),
        "loops": {}, "callbacks": {}, "optimizer_states": [], "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": {"model": dict(model_config), "dataset": dataset_config or [],
                             "seed": 42, "batch_size": 128},
        "fixture_torch_version": torch.__version__,
    }


def export_checkpoint(obj, out_path: Path, extra_args=()) -> dict:
    """torch.save `obj`, run the exporter's command line on it, return the model description."""
    import torch
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / f"{out_path.name.split('.')[0]}.ckpt"
        torch.save(obj, ckpt)
        rc = export.main([str(ckpt), str(out_path), *extra_args])
    if rc != 0:
        raise SystemExit(f"exporter failed for {out_path}")
    return mf.read_model_file(out_path)[0]


def check_model_file(path: Path, model) -> None:
    """The exported tensors are the model's float32 weights, bit for bit."""
    _, tensors = mf.read_model_file(path)
    reference = {k: v for k, v in state_dict_numpy(model).items() if isinstance(v, np.ndarray)}
    assert set(tensors) == set(reference), set(tensors) ^ set(reference)
    for k, v in reference.items():
        assert np.array_equal(tensors[k], v.astype(np.float32)), k


def forward(model, window: dict, *, v02: bool = False) -> dict:
    """torch_brain eval forward on one window (batch of 1) -> name -> float32 array."""
    import torch
    batch = {}
    for k, v in window.items():
        t = torch.from_numpy(np.asarray(v))
        batch[k] = (t.bool() if k == "input_mask" else t)[None]
    if v02:
        batch["session_index"] = batch.pop("output_session_index")[:, 0]
    model.eval()
    with torch.no_grad():
        out = model(**batch)
    if isinstance(out, dict):
        return {f"output.{name}": v.numpy().astype(np.float32) for name, v in out.items()}
    return {"output": out[0].numpy().astype(np.float32)}


def make_vocab_model(model, sessions: dict) -> dict:
    """Initialize unit/session vocabularies: sessions = {session id: number of units}.
    Returns session id -> (session row, unit rows of that session in local order)."""
    unit_ids = [f"{s}/unit_{i}" for s, n in sessions.items() for i in range(n)]
    model.unit_emb.initialize_vocab(unit_ids)
    model.session_emb.initialize_vocab(list(sessions))
    return {s: (model.session_emb.vocab[s], [model.unit_emb.vocab[f"{s}/unit_{i}"] for i in range(n)])
            for s, n in sessions.items()}


def write_fixture(name: str, out_dir: Path, model, window: dict, *, v02=False) -> dict:
    expected = forward(model, window, v02=v02)
    mf.write_safetensors(out_dir / f"{name}.inputs.safetensors", window)
    mf.write_safetensors(out_dir / f"{name}.expected.safetensors", expected)
    check_model_file(out_dir / f"{name}.model.safetensors", model)
    n_tokens = len(window["input_unit_index"])
    scale = max(float(np.abs(v).max()) for v in expected.values())
    shapes = ", ".join(f"{k} {list(v.shape)}" for k, v in expected.items())
    print(f"{name}: {n_tokens} tokens, {len(window['latent_index'])} latents, "
          f"{len(window['output_timestamps'])} queries; {shapes}; max|ref| = {scale:.4g}")
    return {"name": name, "tokens": n_tokens, "latents": len(window["latent_index"]),
            "queries": len(window["output_timestamps"]), "outputs": shapes, "max_abs": scale}


# --------------------------------------------------------------------------------------
# the fixtures
# --------------------------------------------------------------------------------------

def check_window_construction() -> None:
    """poyo_window must match torch_brain's own tokenizer helpers."""
    from torch_brain.utils import create_linspace_latent_tokens, create_start_end_unit_tokens
    for seq, step, p in ((1.0, 0.125, 16), (0.5, 0.05, 5)):
        a, b = pw.linspace_latents(seq, step, p), create_linspace_latent_tokens(0, seq, step=step, num_latents_per_step=p)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
        a, b = pw.start_end_tokens(7, seq), create_start_end_unit_tokens(np.arange(7), 0, seq)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))


def fixture_poyo_1p3m(out_dir: Path) -> dict:
    """The published poyo_1.3M shape, cursor_velocity_2d, 200 units of the first session at ~20 Hz."""
    from torch_brain.models import POYO
    from torch_brain.registry import MODALITY_REGISTRY
    config = dict(sequence_length=1.0, latent_step=0.125, num_latents_per_step=16, dim=64, depth=6,
                  dim_head=64, cross_heads=2, self_heads=8, t_min=1e-4, t_max=4.0)
    torch_seed(1)
    model = POYO(readout_spec=MODALITY_REGISTRY["cursor_velocity_2d"], **config)
    rows = make_vocab_model(model, {"perich/c_20131003": 200, "perich/m_20150610": 50})
    randomize_(model, seed=101)
    dataset = [{"selection": [{"brainset": "perich_miller_population_2018"}],
                "config": {"readout": {"readout_id": "cursor_velocity_2d",
                                       "normalize_mean": [0.0, 0.0], "normalize_std": [20.0, 20.0]}}}]
    export_checkpoint(lightning_checkpoint(model, {"_target_": "torch_brain.models.POYO", **config}, dataset),
                      out_dir / "poyo_1p3m.model.safetensors")
    rng = np.random.default_rng(11)
    session_row, unit_rows = rows["perich/c_20131003"]
    unit, t = pw.poisson_spikes(rng, 200, 20.0, 1.0)
    window = pw.make_window(unit_rows, unit, t, sequence_length=1.0, latent_step=0.125, num_latents_per_step=16,
                            session_row=session_row, output_timestamps=np.sort(rng.uniform(0.0, 1.0, 10)))
    return write_fixture("poyo_1p3m", out_dir, model, window)


POYOPLUS_TASKS = ("cursor_velocity_2d", "cursor_position_2d", "arm_velocity_2d", "drifting_gratings_orientation")


def fixture_poyoplus_tasks(out_dir: Path) -> dict:
    """POYOPlus with 4 registry tasks (ids 1..4, task_emb 5 rows), queries of mixed tasks in
    random order at random times anywhere in the window."""
    from torch_brain.models import POYOPlus
    from torch_brain.registry import MODALITY_REGISTRY
    config = dict(sequence_length=1.0, latent_step=0.125, num_latents_per_step=8, dim=32, depth=2,
                  dim_head=32, cross_heads=1, self_heads=4, t_min=1e-4, t_max=2.0627)
    torch_seed(2)
    specs = {name: MODALITY_REGISTRY[name] for name in POYOPLUS_TASKS}
    model = POYOPlus(readout_specs=specs, **config)
    rows = make_vocab_model(model, {"ibl/session_a": 24, "ibl/session_b": 40})
    randomize_(model, seed=202)
    dataset = [{"selection": [{"brainset": "example"}],
                "config": {"multitask_readout": [
                    {"readout_id": "cursor_velocity_2d", "normalize_mean": 0.0, "normalize_std": 20.0},
                    {"readout_id": "arm_velocity_2d", "normalize_mean": [0.5, -0.5], "normalize_std": [100.0, 80.0]},
                    {"readout_id": "drifting_gratings_orientation"}]}}]
    export_checkpoint(lightning_checkpoint(model, {"_target_": "torch_brain.models.POYOPlus", **config}, dataset),
                      out_dir / "poyoplus_tasks.model.safetensors")
    rng = np.random.default_rng(22)
    session_row, unit_rows = rows["ibl/session_b"]
    unit, t = pw.poisson_spikes(rng, 40, 15.0, 1.0)
    n_queries = 18
    times = np.concatenate([[0.0, 0.999], rng.uniform(0.0, 1.0, n_queries - 2)])
    decoder = np.concatenate([[1, 4], rng.integers(1, len(POYOPLUS_TASKS) + 1, n_queries - 2)])
    order = rng.permutation(n_queries)
    window = pw.make_window(unit_rows, unit, t, sequence_length=1.0, latent_step=0.125, num_latents_per_step=8,
                            session_row=session_row, output_timestamps=times[order],
                            output_decoder_index=decoder[order])
    return write_fixture("poyoplus_tasks", out_dir, model, window)


def fixture_poyo_odd(out_dir: Path) -> dict:
    """Odd sizes (3 cross heads, 5 self heads, dim_head 24, readout dim 1), a window of the
    second of three sessions, and an input_mask: pad8 padding at the end plus masked tokens inside."""
    from torch_brain.models import POYO
    from torch_brain.registry import MODALITY_REGISTRY
    config = dict(sequence_length=0.5, latent_step=0.05, num_latents_per_step=5, dim=48, depth=2,
                  dim_head=24, cross_heads=3, self_heads=5, t_min=1e-4, t_max=2.0627)
    torch_seed(3)
    model = POYO(readout_spec=MODALITY_REGISTRY["running_speed"], **config)
    rows = make_vocab_model(model, {"allen/s1": 12, "allen/s2": 30, "allen/s3": 9})
    randomize_(model, seed=303)
    export_checkpoint(lightning_checkpoint(model, {"_target_": "torch_brain.models.POYO", **config}, None),
                      out_dir / "poyo_odd.model.safetensors",
                      ["--readout", "running_speed", "--normalization", "running_speed:0.1:3.0"])
    rng = np.random.default_rng(33)
    session_row, unit_rows = rows["allen/s2"]
    unit, t = pw.poisson_spikes(rng, 30, 12.0, 0.5)
    window = pw.make_window(unit_rows, unit, t, sequence_length=0.5, latent_step=0.05, num_latents_per_step=5,
                            session_row=session_row, output_timestamps=np.linspace(0.0, 0.49, 7))
    n = len(window["input_unit_index"])
    padded = -(-n // 8) * 8 + (8 if n % 8 == 0 else 0)  # at least one padding token
    for k in ("input_unit_index", "input_timestamps", "input_token_type"):
        window[k] = np.concatenate([window[k], np.zeros(padded - n, dtype=window[k].dtype)])
    mask = np.zeros(padded, dtype=np.uint8)
    mask[:n] = 1
    mask[[3, 2 * len(unit_rows) + 5, n - 2]] = 0  # an end token, a spike, the last spike
    window["input_mask"] = mask
    return write_fixture("poyo_odd", out_dir, model, window)


def fixture_poyo_v02(out_dir: Path) -> dict:
    """torch_brain 0.2.x POYO (dim_out 3, no registry), exported from a plain state dict + config."""
    import json
    from torch_brain.models import POYO
    assert tb_version().startswith("0.2"), tb_version()
    config = dict(sequence_length=1.0, latent_step=0.25, num_latents_per_step=4, dim=32, depth=2,
                  dim_head=16, cross_heads=2, self_heads=2, t_min=1e-4, t_max=2.0627)
    torch_seed(4)
    model = POYO(dim_out=3, **config)
    rows = make_vocab_model(model, {"s_first": 10, "s_second": 40})
    randomize_(model, seed=404)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps({**config, "dim_out": 3}))
        export_checkpoint(model.state_dict(), out_dir / "poyo_v02.model.safetensors", ["--config", str(cfg)])
    rng = np.random.default_rng(44)
    session_row, unit_rows = rows["s_first"]
    unit, t = pw.poisson_spikes(rng, 10, 30.0, 1.0)
    window = pw.make_window(unit_rows, unit, t, sequence_length=1.0, latent_step=0.25, num_latents_per_step=4,
                            session_row=session_row, output_timestamps=np.sort(rng.uniform(0.0, 1.0, 6)))
    return write_fixture("poyo_v02", out_dir, model, window, v02=True)


def tb_version() -> str:
    """Version of the torch_brain this process imports (0.1.x has no __version__)."""
    import torch_brain
    from importlib import metadata
    return getattr(torch_brain, "__version__", None) or metadata.version("torch_brain")


def torch_seed(seed: int) -> None:
    import torch
    torch.manual_seed(seed)


# --------------------------------------------------------------------------------------
# torch_brain 0.2.x in a child process
# --------------------------------------------------------------------------------------

def stub_ray() -> None:
    """torch_brain 0.2.x imports `ray` (its data pipeline) at package import; the model needs none of it."""
    import importlib.abc
    import importlib.machinery
    import types

    class RayStub(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name == "ray" or name.startswith("ray."):
                return importlib.machinery.ModuleSpec(name, self, is_package=True)
            return None

        def create_module(self, spec):
            m = types.ModuleType(spec.name)
            m.__path__ = []
            m.__getattr__ = lambda attr: type(attr, (), {})
            return m

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, RayStub())


def run_v02_child(out_dir: Path, tb021: str) -> dict:
    env = {**os.environ, "PYTHONPATH": tb021}
    result = subprocess.run([sys.executable, __file__, "--v02-child", "--out", str(out_dir)],
                            env=env, capture_output=True, text=True)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise SystemExit("the torch_brain 0.2.x child process failed")
    import json
    lines = result.stdout.strip().splitlines()
    print("\n".join(lines[:-1]))
    return json.loads(lines[-1])


# --------------------------------------------------------------------------------------
# README of the fixtures
# --------------------------------------------------------------------------------------

README = """# POYO parity fixtures

Generated by `tools/make_fixtures.py` (do not edit by hand); regenerate with

    /tmp/tb/bin/python tools/make_fixtures.py

(torch {torch}, torch_brain {tb01} in `/tmp/tb`; torch_brain {tb02} from
`pip install --no-deps --target /tmp/tb021 torch-brain==0.2.1` for `poyo_v02`). Seeds are fixed,
so a rerun with the same versions reproduces the files.

Each configuration NAME has three safetensors files:

- `NAME.model.safetensors`: the model file (docs/model-format.md), made by torch.save'ing the
  torch_brain checkpoint and running `poyo-rt export` on it. Every weight is random
  with large scales (embeddings N(0,1), LayerNorm weight 1 + 0.3 N, bias 0.3 N, linear weights and
  biases N(0, (2/sqrt(fan_in))^2)); `rotary_emb.omega` is torch_brain's.
- `NAME.inputs.safetensors`: one unbatched window, named as torch_brain's forward() arguments:
  `input_unit_index` I64 [N], `input_timestamps` F64 [N], `input_token_type` I64 [N],
  `latent_index` I64 [L], `latent_timestamps` F64 [L], `output_session_index` I64 [Q],
  `output_timestamps` F64 [Q], POYOPlus only `output_decoder_index` I64 [Q] (registry ids), and,
  where present, `input_mask` U8 [N] (1 = attend, 0 = ignore; torch got it as bool). Absent
  `input_mask` means every token is attended. Tokens are laid out as torch_brain's tokenizer does:
  [u0 start, u0 end, u1 start, u1 end, ...] (types 1 and 2 at t = 0 and t = sequence_length), then
  the spikes (type 0) in time order; latents from create_linspace_latent_tokens. Times are seconds
  from the window start.
- `NAME.expected.safetensors`: torch_brain's `model.eval()` forward on that window (batch of 1,
  batch dimension removed), F32: `output` [Q, dim_out] for POYO; for POYOPlus `output.<task>`
  [rows of that task in query order, task dim]. Raw model units (before the normalization in the
  model file's metadata is undone).

Compare with a tolerance (CPU kernels round differently): about 1e-4 relative to max|ref| is
ample; the Swift port should get well below that.

| fixture | tokens N | latents L | queries Q | expected outputs | max abs ref |
|---|---|---|---|---|---|
{rows}

- `poyo_1p3m`: the published poyo_1.3M shape (sequence_length 1.0, latent_step 0.125, 16 latents
  per step, dim 64, depth 6, dim_head 64, cross/self heads 2/8, t_max 4.0), readout
  cursor_velocity_2d (normalization mean [0,0], std [20,20] from the Lightning hyper_parameters),
  vocabulary of two sessions (200 + 50 units); the window holds the 200 units of the first
  session at ~20 Hz Poisson. Exported from a Lightning-style `.ckpt`.
- `poyoplus_tasks`: POYOPlus, readout_specs = cursor_velocity_2d (1), cursor_position_2d (2),
  arm_velocity_2d (3), drifting_gratings_orientation (4, multinomial dim 8); task_emb has 5 rows
  and is indexed by registry id. dim 32, depth 2, dim_head 32, cross 1 / self 4 heads, 8 latents
  per step. The window is the second session's 40 units; 18 queries of mixed tasks in random
  order at random times (including t = 0 and t = 0.999). Normalization: cursor_velocity_2d
  std 20, arm_velocity_2d mean [0.5,-0.5] std [100,80], the others null.
- `poyo_odd`: dim 48, dim_head 24 (omega has 12 entries, 6 non-zero), 3 cross heads, 5 self heads,
  5 latents per step, depth 2, sequence_length 0.5, latent_step 0.05 (10 steps), readout
  running_speed (id 16, dim 1, normalization mean 0.1 std 3 given by option). Vocabulary of
  three sessions; the window is the second session's 30 units. N = 248 includes 3 tokens of pad8
  padding at the end (unit 0, type 0, t = 0). `input_mask` (U8) is 0 for that padding and for
  three real tokens: index 3 (an end token), index 2*30+5 (a spike) and index 243 (a spike).
- `poyo_v02`: torch_brain 0.2.1 POYO (dim_out 3, no registry; forward takes `session_index (B,)`,
  the inputs file still has `output_session_index` [Q], all equal), dim 32, depth 2, dim_head 16,
  cross/self heads 2/2, 4 latents per step, latent_step 0.25. Exported from a plain
  `torch.save(model.state_dict())` plus a JSON config: readout name `output`, id 0, continuous,
  normalization null.
"""


def write_readme(out_dir: Path, results: list, versions: dict) -> None:
    rows = "\n".join(f"| `{r['name']}` | {r['tokens']} | {r['latents']} | {r['queries']} | "
                     f"{r['outputs']} | {r['max_abs']:.4g} |" for r in results)
    (out_dir / "README.md").write_text(README.format(rows=rows, **versions))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, help="output folder (default: Tests/POYOTests/Fixtures or tools/tests/fixtures)")
    p.add_argument("--exporter-fixtures", action="store_true", help="write the exporter test checkpoints instead")
    p.add_argument("--tb021", default="/tmp/tb021", help="where torch_brain 0.2.1 is installed (pip --target)")
    p.add_argument("--only", action="append", help="generate only these parity fixtures")
    p.add_argument("--v02-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.v02_child:
        import json
        stub_ray()
        result = fixture_poyo_v02(args.out)
        result["torch_brain"] = tb_version()
        print(json.dumps(result))
        return 0

    if args.exporter_fixtures:
        import make_exporter_fixtures
        return make_exporter_fixtures.main(args.out or EXPORTER_FIXTURES, args.tb021)

    import torch
    torch.set_num_threads(1)
    out_dir = args.out or FIXTURES
    out_dir.mkdir(parents=True, exist_ok=True)
    check_window_construction()
    wanted = args.only or ["poyo_1p3m", "poyoplus_tasks", "poyo_odd", "poyo_v02"]
    results, tb02 = [], "0.2.1"
    for name in wanted:
        if name == "poyo_v02":
            r = run_v02_child(out_dir, args.tb021)
            tb02 = r.pop("torch_brain")
            results.append(r)
        else:
            results.append(globals()[f"fixture_{name}"](out_dir))
    if not args.only:
        write_readme(out_dir, results, {"torch": torch.__version__, "tb01": tb_version(), "tb02": tb02})
    return 0


if __name__ == "__main__":
    sys.exit(main())

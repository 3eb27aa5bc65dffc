"""Small torch checkpoints for tools/tests/test_export*.py (run via `make_fixtures.py --exporter-fixtures`).

They are made with torch.save by real torch_brain models, shaped like what users hold:

- poyo_v01_lightning.ckpt: POYO 0.1.x in a Lightning checkpoint (`model.` keys, config in
  hyper_parameters, normalization in hyper_parameters["dataset"]), with the clutter a real
  one carries: optimizer state tensors, a ModalitySpec, a DataType and a loss module in the
  callbacks state (classes the safe reader must stub, not import).
- poyoplus_v01_lightning.ckpt: POYOPlus over the whole registry, task_emb with 20 rows (0.1.1+).
- poyoplus_v010_lightning.ckpt: the same with 19 rows (0.1.0 sized it len(readout_specs)); its
  hyper_parameters are an omegaconf DictConfig, as Lightning stores them for Container hparams.
- poyo_state_dict.pt + poyo_state_dict.yaml: torch.save(model.state_dict()) of a 0.1.x POYO and
  its model config.
- poyo_v02_state_dict.pt + poyo_v02_config.json: a torch_brain 0.2.x POYO (dim_out 3).
- tensors_edge.pt: float16/bfloat16/float64/int/bool tensors, strided and offset views,
  shared storages: the reader's corner cases.

reference.json records, for every tensor, what torch.load returns (shape, dtype, sha256 of
the float32/native bytes) and the vocabularies, so the tests check the torch-free reader
exactly even where torch is not installed.
"""

from __future__ import annotations

import collections
import hashlib
import json
import subprocess
import sys
import os
from pathlib import Path

import numpy as np

import make_fixtures as mk

TINY = dict(sequence_length=1.0, latent_step=0.5, num_latents_per_step=2, dim=8, depth=1,
            dim_head=8, cross_heads=1, self_heads=2, t_min=1e-4, t_max=2.0627)
TINY_PLUS = dict(TINY, dim=4, self_heads=1)


def digest(array: np.ndarray) -> dict:
    a = np.ascontiguousarray(array)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}


def torch_reference(path: Path) -> dict:
    """What torch.load says the file holds: tensors by flat key, plus vocabularies."""
    import torch
    obj = torch.load(path, map_location="cpu", weights_only=False)
    flat = {}

    def walk(prefix, x):
        if isinstance(x, torch.Tensor):
            t = x.detach()
            flat[prefix] = digest(t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy())
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(f"{prefix}/{k}" if prefix else str(k), v)
        elif isinstance(x, (list, tuple)):
            for i, v in enumerate(x):
                walk(f"{prefix}/{i}", v)
    walk("", obj)
    sd = obj.get("state_dict", obj) if isinstance(obj, dict) else {}
    vocabs = {k: dict(v) for k, v in sd.items() if k.endswith(".vocab") and isinstance(v, dict)}
    return {"tensors": flat, "vocabs": vocabs}


def lightning_clutter(ckpt: dict, model) -> dict:
    """What a real Lightning checkpoint carries besides the weights."""
    import torch
    from torch_brain.nn.loss import MSELoss
    from torch_brain.registry import MODALITY_REGISTRY, DataType
    params = list(model.parameters())
    ckpt["optimizer_states"] = [{
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros_like(params[0])}},
        "param_groups": [{"lr": 1e-3, "weight_decay": 1e-4, "params": list(range(len(params)))}],
    }]
    ckpt["lr_schedulers"] = [{"base_lrs": [1e-3], "last_epoch": 3, "_step_count": 4}]
    ckpt["callbacks"] = {"DecodingStitchEvaluator": {"modality_spec": MODALITY_REGISTRY["cursor_velocity_2d"],
                                                     "type": DataType.CONTINUOUS, "loss": MSELoss()}}
    return ckpt


def poyo_v01(out: Path) -> None:
    from torch_brain.models import POYO
    from torch_brain.registry import MODALITY_REGISTRY
    mk.torch_seed(5)
    model = POYO(readout_spec=MODALITY_REGISTRY["cursor_velocity_2d"], **TINY)
    mk.make_vocab_model(model, {"perich/c_20131003": 3, "perich/m_20150610": 2})
    mk.randomize_(model, seed=505)
    dataset = [{"selection": [{"brainset": "perich_miller_population_2018"}],
                "config": {"readout": {"readout_id": "cursor_velocity_2d", "normalize_mean": 0.0,
                                       "normalize_std": 20.0, "timestamp_key": "cursor.timestamps",
                                       "metrics": [{"metric": {"_target_": "torchmetrics.R2Score"}}]}}}]
    ckpt = mk.lightning_checkpoint(model, {"_target_": "torch_brain.models.POYO", **TINY}, dataset)
    save(lightning_clutter(ckpt, model), out / "poyo_v01_lightning.ckpt")


def poyoplus_v01(out: Path, rows: int, name: str) -> None:
    import torch
    from torch_brain.models import POYOPlus
    from torch_brain.nn import Embedding
    from torch_brain.registry import MODALITY_REGISTRY
    mk.torch_seed(6)
    model = POYOPlus(readout_specs=MODALITY_REGISTRY, **TINY_PLUS)
    if rows != model.task_emb.num_embeddings:
        model.task_emb = Embedding(rows, TINY_PLUS["dim"])  # torch_brain 0.1.0
    mk.make_vocab_model(model, {"ibl/a": 3, "ibl/b": 2})
    mk.randomize_(model, seed=606 + rows)
    dataset = [{"selection": [{"brainset": "b1"}], "config": {"multitask_readout": [
                    {"readout_id": "cursor_velocity_2d", "normalize_mean": [1.0, -1.0], "normalize_std": [20.0, 10.0]},
                    {"readout_id": "running_speed", "normalize_mean": 0.5, "normalize_std": 4.0}]}},
               {"selection": [{"brainset": "b2"}], "config": {"multitask_readout": [
                    {"readout_id": "cursor_velocity_2d", "normalize_mean": [1.0, -1.0], "normalize_std": [20.0, 10.0]},
                    {"readout_id": "gabor_orientation"}]}}]
    ckpt = mk.lightning_checkpoint(model, {"_target_": "torch_brain.models.POYOPlus", **TINY_PLUS}, dataset)
    if rows == 19:
        from omegaconf import OmegaConf
        ckpt["hyper_parameters"] = OmegaConf.create(ckpt["hyper_parameters"])
        ckpt["hparams_type"] = type(ckpt["hyper_parameters"])
    save(lightning_clutter(ckpt, model), out / name)


def poyo_state_dict(out: Path) -> None:
    import yaml
    from torch_brain.models import POYO
    from torch_brain.registry import MODALITY_REGISTRY
    mk.torch_seed(7)
    config = dict(TINY, num_latents_per_step=3, depth=2, t_max=4.0)
    model = POYO(readout_spec=MODALITY_REGISTRY["arm_velocity_2d"], **config)
    mk.make_vocab_model(model, {"nlb/jenkins": 4})
    mk.randomize_(model, seed=707)
    save(model.state_dict(), out / "poyo_state_dict.pt")
    (out / "poyo_state_dict.yaml").write_text(
        "# model config of poyo_state_dict.pt (examples/poyo/configs/model style)\n"
        + yaml.safe_dump({"_target_": "torch_brain.models.POYO", **config, "ffn_dropout": 0.2,
                          "lin_dropout": 0.4, "atn_dropout": 0.2, "emb_init_scale": 0.02}, sort_keys=False))


def poyo_v02_state_dict(out: Path) -> None:
    """Runs in the torch_brain 0.2.x child process."""
    from torch_brain.models import POYO
    mk.torch_seed(8)
    config = dict(TINY, dim_out=3)
    model = POYO(**config)
    mk.make_vocab_model(model, {"s1": 2, "s2": 3})
    mk.randomize_(model, seed=808)
    save(model.state_dict(), out / "poyo_v02_state_dict.pt")
    (out / "poyo_v02_config.json").write_text(json.dumps(config, indent=1) + "\n")


def tensors_edge(out: Path) -> None:
    import torch
    g = torch.Generator().manual_seed(9)
    base = torch.randn(6, 5, generator=g)
    edge = collections.OrderedDict(
        f32=torch.randn(3, 4, generator=g),
        f16=torch.randn(7, generator=g).half(),
        bf16=torch.randn(2, 3, generator=g).bfloat16(),
        f64=torch.randn(2, 2, generator=g).double(),
        i64=torch.arange(-3, 9),
        i32=torch.arange(5, dtype=torch.int32),
        u8=torch.arange(250, 256, dtype=torch.uint8),
        boolean=torch.tensor([True, False, True]),
        transposed=base.t(),
        strided=base[1:, ::2],
        offset=base[4],
        shared=base,  # same storage as the three views above
        scalar=torch.tensor(2.5),
        empty=torch.zeros(0, 3),
        param=torch.nn.Parameter(torch.randn(2, 2, generator=g)),
        nested={"inner": [torch.ones(2), {"deep": torch.full((1,), 7.0)}]},
        vocab=collections.OrderedDict([("NA", 0), ("a", 1)]),
    )
    save(edge, out / "tensors_edge.pt")


def save(obj, path: Path) -> None:
    import torch
    torch.save(obj, path)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main(out: Path, tb021: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get("POYO_FIXTURES_V02_CHILD"):
        mk.stub_ray()
        poyo_v02_state_dict(out)
        return 0
    poyo_v01(out)
    poyoplus_v01(out, 20, "poyoplus_v01_lightning.ckpt")
    poyoplus_v01(out, 19, "poyoplus_v010_lightning.ckpt")
    poyo_state_dict(out)
    tensors_edge(out)
    env = {**os.environ, "PYTHONPATH": tb021, "POYO_FIXTURES_V02_CHILD": "1"}
    subprocess.run([sys.executable, mk.__file__, "--exporter-fixtures", "--out", str(out)], env=env, check=True)
    reference = {p.name: torch_reference(p) for p in sorted(out.glob("*.pt")) + sorted(out.glob("*.ckpt"))}
    (out / "reference.json").write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out / 'reference.json'}")
    return 0

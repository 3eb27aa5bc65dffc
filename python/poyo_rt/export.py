#!/usr/bin/env python3
"""Export a torch_brain POYO / POYO+ checkpoint to a poyo-rt model file (docs/model-format.md).

    poyo-rt export CHECKPOINT OUTPUT.safetensors [options]

CHECKPOINT is either a Lightning `.ckpt` from torch_brain's example trainers (weights under
`state_dict` prefixed `model.`, the model config in `hyper_parameters["model"]`, readout
normalization in `hyper_parameters["dataset"]`), or a plain `torch.save(model.state_dict())`
with the config given by `--config FILE` (YAML or JSON) and/or options. Both torch_brain APIs
are understood: 0.1.x (POYO with a registry `readout_spec`, POYOPlus with `readout_specs`) and
0.2.x (POYO with `dim_out`).

The checkpoint is read without torch (poyo_rt/torch_checkpoint.py): no code in it is run.
Every tensor of the model must be present with the right shape and nothing else may be there;
otherwise the export stops with one line on stderr naming the key, and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from . import model_file as mf
from . import torch_checkpoint

EXPORTER = "export_torch_brain 1"

# torch_brain 0.1.x MODALITY_REGISTRY (torch_brain/registry.py): name -> (id, dim, type,
# timestamp_key, value_key). Ids are assigned in registration order starting at 1.
REGISTRY = {
    "cursor_velocity_2d": (1, 2, "continuous", "cursor.timestamps", "cursor.vel"),
    "cursor_position_2d": (2, 2, "continuous", "cursor.timestamps", "cursor.pos"),
    "arm_velocity_2d": (3, 2, "continuous", "behavior.timestamps", "behavior.hand_vel"),
    "drifting_gratings_orientation": (4, 8, "multinomial", "drifting_gratings.timestamps", "drifting_gratings.orientation_id"),
    "drifting_gratings_temporal_frequency": (5, 5, "multinomial", "drifting_gratings.timestamps", "drifting_gratings.temporal_frequency_id"),
    "natural_movie_one_frame": (6, 900, "multinomial", "natural_movie_one.timestamps", "natural_movie_one.frame"),
    "natural_movie_two_frame": (7, 900, "multinomial", "natural_movie_two.timestamps", "natural_movie_two.frame"),
    "natural_movie_three_frame": (8, 3600, "multinomial", "natural_movie_three.timestamps", "natural_movie_three.frame"),
    "locally_sparse_noise_frame": (9, 8000, "multinomial", "locally_sparse_noise.timestamps", "locally_sparse_noise.frame"),
    "static_gratings_orientation": (10, 6, "multinomial", "static_gratings.timestamps", "static_gratings.orientation_id"),
    "static_gratings_spatial_frequency": (11, 5, "multinomial", "static_gratings.timestamps", "static_gratings.spatial_frequency_id"),
    "static_gratings_phase": (12, 5, "multinomial", "static_gratings.timestamps", "static_gratings.phase_id"),
    "natural_scenes": (13, 119, "multinomial", "natural_scenes.timestamps", "natural_scenes.frame"),
    "gabor_orientation": (14, 4, "multinomial", "gabors.timestamps", "gabors.gabors_orientation"),
    "gabor_pos_2d": (15, 2, "continuous", "gabors.timestamps", "gabors.pos_2d"),
    "running_speed": (16, 1, "continuous", "running.timestamps", "running.running_speed"),
    "gaze_pos_2d": (17, 2, "continuous", "gaze.timestamps", "gaze.pos_2d"),
    "pupil_location": (18, 2, "continuous", "pupil.timestamps", "pupil.location"),
    "pupil_size_2d": (19, 2, "continuous", "pupil.timestamps", "pupil.size_2d"),
}

# torch_brain constructor defaults (identical in 0.1.x and 0.2.x)
DEFAULTS = {"num_latents_per_step": 64, "dim": 512, "depth": 2, "dim_head": 64,
            "cross_heads": 1, "self_heads": 8, "t_min": 1e-4, "t_max": 2.0627}
# config keys that do not describe the inference model
IGNORED_CONFIG_KEYS = {"_target_", "ffn_dropout", "lin_dropout", "atn_dropout", "emb_init_scale",
                       "readout_spec", "readout_specs", "dim_out"}


EXAMPLES = """examples:
  poyo-rt export poyo_mp.ckpt poyo_mp.safetensors        # Lightning checkpoint (config inside)
  poyo-rt export state_dict.pt m.safetensors --config model.yaml --readout cursor_velocity_2d \\
      --normalization cursor_velocity_2d:0,0:20,20         # 0.1.x state dict
  poyo-rt export state_dict.pt m.safetensors --sequence-length 1 --latent-step 0.125   # 0.2.x, dim_out
"""


class ExportError(Exception):
    """A checkpoint that cannot be exported; the message names the key at fault."""


# --------------------------------------------------------------------------------------
# what the checkpoint holds
# --------------------------------------------------------------------------------------

#: Prefixes that wrappers put in front of every key: torch.compile (`_orig_mod.`), DataParallel /
#: DistributedDataParallel (`module.`), a LightningModule holding the model as `self.model`.
WRAPPER_PREFIXES = ("_orig_mod.", "module.", "model.")


def strip_wrappers(state_dict: dict, prefixes=WRAPPER_PREFIXES) -> dict:
    """Remove wrapper prefixes shared by *every* key, in any nesting and order
    (`module._orig_mod.x`, `_orig_mod.module.x`, `model.module._orig_mod.x`, ...).

    Parameters
    ----------
    state_dict : dict
        Key -> tensor (or vocabulary), keys as saved.
    prefixes : tuple of str
        The wrapper prefixes to strip.

    Returns
    -------
    dict
        The same values under the model's own key names.
    """
    while state_dict:
        prefix = next((p for p in prefixes if all(isinstance(k, str) and k.startswith(p) for k in state_dict)), None)
        if prefix is None:
            return state_dict
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items()}
    return state_dict


def split_checkpoint(obj) -> tuple[dict, dict]:
    """-> (state dict with torch_brain's own key names, Lightning hyper_parameters or {})."""
    obj = obj if isinstance(obj, dict) else torch_checkpoint.plain(obj)
    if not isinstance(obj, dict):
        raise ExportError(f"checkpoint holds a {type(obj).__name__}, expected a state dict or a Lightning checkpoint")
    if "state_dict" in obj and isinstance(obj["state_dict"], dict):
        hparams = torch_checkpoint.plain(obj.get("hyper_parameters") or {})
        state_dict = strip_wrappers(obj["state_dict"], ("_orig_mod.", "module."))
        outside = [k for k in state_dict if not k.startswith("model.")]
        if outside:
            raise ExportError(f"unknown key {outside[0]} in state_dict (expected every key under 'model.', "
                              f"after any wrapper prefix {', '.join(WRAPPER_PREFIXES[:2])})")
        state_dict = strip_wrappers({k[len("model."):]: v for k, v in state_dict.items()})
        return state_dict, hparams if isinstance(hparams, dict) else {}
    return strip_wrappers(dict(obj)), {}


def _example_key(state_dict) -> str:
    """A key of the file, for messages about missing keys: shows which names it uses."""
    keys = sorted(k for k in state_dict if isinstance(k, str))
    preferred = [k for k in keys if k.endswith(".weight")] or keys
    return f"; the file's keys look like '{preferred[0]}' ({len(keys)} keys)" if preferred else "; the file has no keys"


def load_config_file(path) -> dict:
    """A YAML or JSON file: either the model's kwargs, or a whole training config with `model:`
    (and optionally `dataset:` for normalization)."""
    text = Path(path).read_text()
    if str(path).endswith(".json"):
        cfg = json.loads(text)
    else:
        try:
            import yaml
        except ImportError:
            raise ExportError(f"--config {path}: PyYAML is not installed; give the config as JSON") from None
        cfg = yaml.safe_load(text)
    if not isinstance(cfg, dict):
        raise ExportError(f"--config {path}: expected a mapping")
    return cfg


def find_readout_configs(hparams: dict) -> dict:
    """readout name -> its dataset config entries (normalize_mean/std, timestamp_key, ...).

    POYO's trainer: dataset[i].config.readout = {readout_id, normalize_mean, ...};
    POYO+'s trainer: dataset[i].config.multitask_readout = [{readout_id, ...}, ...].
    """
    found = {}
    datasets = hparams.get("dataset")
    if isinstance(datasets, dict):
        datasets = [datasets]
    for entry in datasets if isinstance(datasets, list) else []:
        config = entry.get("config") if isinstance(entry, dict) else None
        if not isinstance(config, dict):
            continue
        readouts = config.get("multitask_readout") or []
        if isinstance(config.get("readout"), dict):
            readouts = [config["readout"], *readouts]
        for r in readouts:
            if isinstance(r, dict) and "readout_id" in r:
                found.setdefault(r["readout_id"], []).append(r)
    if not found and isinstance(hparams.get("readout_id"), str):
        found[hparams["readout_id"]] = [{"readout_id": hparams["readout_id"]}]
    return found


def _per_channel(value, dim, where):
    values = [float(v) for v in value] if isinstance(value, (list, tuple)) else [float(value)] * dim
    if len(values) != dim:
        raise ExportError(f"{where}: {len(values)} values for a readout of dim {dim}")
    return values


def normalization_from_configs(name, dim, configs):
    """z-scoring from the dataset configs; refuses entries that disagree."""
    seen = set()
    for c in configs:
        if "normalize_mean" in c or "normalize_std" in c:
            mean = _per_channel(c.get("normalize_mean", 0.0), dim, f"dataset {name}.normalize_mean")
            std = _per_channel(c.get("normalize_std", 1.0), dim, f"dataset {name}.normalize_std")
            seen.add((tuple(mean), tuple(std)))
    if len(seen) > 1:
        raise ExportError(f"dataset: readout {name} has different normalize_mean/std in different "
                          f"recordings; choose one with --normalization {name}:MEAN:STD")
    if not seen:
        return None
    mean, std = seen.pop()
    return {"mean": list(mean), "std": list(std)}


def parse_normalization(text: str) -> dict:
    """`name:m0,m1:s0,s1` (or a JSON file {name: {mean: [...], std: [...]}}) -> name -> (mean, std)."""
    if Path(text).is_file():
        data = json.loads(Path(text).read_text())
        return {k: (v["mean"], v["std"]) for k, v in data.items()}
    parts = text.split(":")
    if len(parts) != 3:
        raise ExportError(f"--normalization {text}: expected NAME:MEAN[,MEAN...]:STD[,STD...] or a JSON file")
    name, mean, std = parts
    try:
        return {name: ([float(x) for x in mean.split(",")], [float(x) for x in std.split(",")])}
    except ValueError:
        raise ExportError(f"--normalization {text}: mean and std must be numbers") from None


def parse_readout_spec(text: str) -> tuple[str, dict]:
    """`NAME:ID:TYPE` for a modality that is not in torch_brain's registry."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in mf.READOUT_TYPES:
        raise ExportError(f"--readout-spec {text}: expected NAME:ID:TYPE with TYPE one of {mf.READOUT_TYPES}")
    return parts[0], {"id": int(parts[1]), "type": parts[2]}


# --------------------------------------------------------------------------------------
# state dict -> model description + tensors
# --------------------------------------------------------------------------------------

def _tensor(state_dict, key, ndim=None):
    if key not in state_dict:
        raise ExportError(f"missing key {key}{_example_key(state_dict)}")
    value = state_dict[key]
    if not isinstance(value, np.ndarray):
        raise ExportError(f"{key}: expected a tensor, found {type(value).__name__}")
    if ndim is not None and value.ndim != ndim:
        raise ExportError(f"{key}: expected {ndim} dimensions, shape is {list(value.shape)}")
    return value


def _vocab(state_dict, key):
    vocab = state_dict.get(key)
    if vocab is None:
        raise ExportError(f"missing key {key} (the embedding vocabulary); was the model's vocab initialized?"
                          f"{_example_key(state_dict)}")
    if not isinstance(vocab, dict) or not all(isinstance(w, str) and isinstance(i, int) for w, i in vocab.items()):
        raise ExportError(f"{key}: expected a dict word -> row")
    return dict(vocab)


def infer_shape_hyperparameters(state_dict) -> dict:
    """Everything but sequence_length / latent_step / t_min / t_max follows from the shapes."""
    dim = _tensor(state_dict, "unit_emb.weight", 2).shape[1]
    dim_head = 2 * _tensor(state_dict, "rotary_emb.omega", 1).shape[0]
    depth = 0
    while f"proc_layers.{depth}.0.to_qkv.weight" in state_dict:
        depth += 1
    hp = {
        "num_latents_per_step": _tensor(state_dict, "latent_emb.weight", 2).shape[0],
        "dim": dim, "depth": depth, "dim_head": dim_head,
        "cross_heads": _tensor(state_dict, "enc_atn.to_q.weight", 2).shape[0] // dim_head,
        "self_heads": (_tensor(state_dict, "proc_layers.0.0.to_qkv.weight", 2).shape[0] // (3 * dim_head)
                       if depth else DEFAULTS["self_heads"]),
    }
    return hp


def resolve_hyperparameters(state_dict, model_config: dict, overrides: dict) -> dict:
    config = {k: v for k, v in model_config.items() if k not in IGNORED_CONFIG_KEYS}
    config.update({k: v for k, v in overrides.items() if v is not None})
    unknown = [k for k in config if k not in mf.HYPERPARAMETER_KEYS]
    if unknown:
        raise ExportError(f"model config: unknown key {unknown[0]}")
    inferred = infer_shape_hyperparameters(state_dict)
    hp = {**DEFAULTS, **inferred}
    for k, v in config.items():
        if k in inferred and int(v) != inferred[k]:
            raise ExportError(f"model config: {k} = {v}, but the weights say {inferred[k]}")
        hp[k] = v
    for k in ("sequence_length", "latent_step"):
        if k not in hp:
            raise ExportError(f"{k} is not in the checkpoint; give it with --{k.replace('_', '-')} or --config")
    return hp


def resolve_readouts(kind, state_dict, hparams, model_config, args) -> tuple[list, str]:
    """-> (readout entries of the description, torch_brain API tag)."""
    specs = {n: {"id": i, "dim": d, "type": t, "timestamp_key": tk, "value_key": vk}
             for n, (i, d, t, tk, vk) in REGISTRY.items()}
    for text in args.readout_spec or []:
        name, spec = parse_readout_spec(text)
        specs[name] = {**specs.get(name, {"timestamp_key": None, "value_key": None}), **spec}
    configs = find_readout_configs(hparams)
    api = "0.1"

    if kind == "POYO":
        dim_out = _tensor(state_dict, "readout.weight", 2).shape[0]
        name = args.readout or (next(iter(configs)) if len(configs) == 1 else None)
        if len(configs) > 1 and not args.readout:
            raise ExportError(f"dataset: several readouts {sorted(configs)}; choose one with --readout")
        if "dim_out" in model_config and int(model_config["dim_out"]) != dim_out:
            raise ExportError(f"model config: dim_out = {model_config['dim_out']}, but readout.weight has {dim_out} rows")
        if name is None:
            # torch_brain 0.2.x (dim_out, no registry), or a 0.1.x state dict nobody named the readout of
            api = "0.2" if "dim_out" in model_config else "unknown"
            if "dim_out" not in model_config:
                print("warning: no readout name in the checkpoint or options: exporting it as 'output' (id 0, "
                      "continuous), as for a torch_brain 0.2.x model; for a 0.1.x registry readout pass "
                      "--readout NAME", file=sys.stderr)
            names = [("output", {"id": 0, "dim": dim_out, "type": "continuous",
                                 "timestamp_key": None, "value_key": None})]
        else:
            names = [(name, specs.get(name))]
    else:
        names = []
        for key in state_dict:
            m = re.fullmatch(r"readout\.projections\.(.+)\.weight", key)
            if m:
                names.append((m.group(1), specs.get(m.group(1))))
        if not names:
            raise ExportError("missing key readout.projections.<task>.weight (a POYOPlus model has at least one task)"
                              f"{_example_key(state_dict)}")

    readouts = []
    for name, spec in names:
        if spec is None:
            raise ExportError(f"readout {name} is not in torch_brain's registry; describe it with --readout-spec {name}:ID:TYPE")
        weight = "readout.weight" if kind == "POYO" else f"readout.projections.{name}.weight"
        dim = _tensor(state_dict, weight, 2).shape[0]
        if spec.get("dim") is not None and spec["dim"] != dim:
            raise ExportError(f"{weight}: {dim} rows, but readout {name} has dim {spec['dim']}")
        entry = {"name": name, "id": spec["id"], "dim": dim, "type": spec["type"],
                 "timestamp_key": spec.get("timestamp_key"), "value_key": spec.get("value_key"),
                 "normalization": normalization_from_configs(name, dim, configs.get(name, []))}
        for c in configs.get(name, []):
            for k in ("timestamp_key", "value_key"):
                if isinstance(c.get(k), str):
                    entry[k] = c[k]
        readouts.append(entry)

    for text in args.normalization or []:
        for name, (mean, std) in parse_normalization(text).items():
            match = [r for r in readouts if r["name"] == name]
            if not match:
                raise ExportError(f"--normalization: the model has no readout {name} (it has {[r['name'] for r in readouts]})")
            r = match[0]
            r["normalization"] = {"mean": _per_channel(mean if len(mean) > 1 else mean[0], r["dim"], f"--normalization {name} mean"),
                                  "std": _per_channel(std if len(std) > 1 else std[0], r["dim"], f"--normalization {name} std")}
    return readouts, api


def detect_kind(state_dict, model_config, requested):
    target = str(model_config.get("_target_", ""))
    from_config = "POYOPlus" if target.endswith("POYOPlus") else "POYO" if target.endswith("POYO") else None
    from_weights = "POYOPlus" if "task_emb.weight" in state_dict else "POYO" if "readout.weight" in state_dict else None
    kind = requested or from_config or from_weights
    if kind is None:
        raise ExportError(f"missing key readout.weight (POYO) or task_emb.weight (POYOPlus){_example_key(state_dict)}")
    if from_weights and kind != from_weights:
        raise ExportError(f"--kind/_target_ says {kind}, but the weights are a {from_weights}")
    return kind


def convert(state_dict: dict, hparams: dict, args, source: dict) -> tuple[dict, dict]:
    """A torch_brain state dict (tensors as numpy arrays) -> (model description, tensors)."""
    model_config = dict(hparams.get("model") or {})
    if args.config:
        file_cfg = load_config_file(args.config)
        if "model" in file_cfg and isinstance(file_cfg["model"], dict):
            hparams = {**hparams, **file_cfg}
            model_config.update(file_cfg["model"])
        else:
            model_config.update(file_cfg)
    kind = detect_kind(state_dict, model_config, args.kind)
    overrides = {"sequence_length": args.sequence_length, "latent_step": args.latent_step,
                 "t_min": args.t_min, "t_max": args.t_max}
    hp = resolve_hyperparameters(state_dict, model_config, overrides)
    readouts, api = resolve_readouts(kind, state_dict, hparams, model_config, args)

    unit_vocab = _vocab(state_dict, "unit_emb.vocab")
    session_vocab = _vocab(state_dict, "session_emb.vocab")
    tensors = {}
    for key, value in state_dict.items():
        if key in ("unit_emb.vocab", "session_emb.vocab"):
            continue
        if not isinstance(value, np.ndarray):
            what = value.qualname if isinstance(value, torch_checkpoint.Stub) else type(value).__name__
            raise ExportError(f"{key}: a {what}, not a plain tensor (unknown key, or a tensor type "
                              f"this exporter does not read)")
        if value.dtype.kind != "f":
            raise ExportError(f"{key}: dtype {value.dtype}, expected floating point weights")
        tensors[key] = value.astype(np.float32)

    if kind == "POYOPlus":
        rows = _tensor(state_dict, "task_emb.weight", 2).shape[0]
        usable = [r for r in readouts if r["id"] < rows]
        for r in readouts:
            if r["id"] >= rows:
                print(f"warning: task_emb.weight has {rows} rows, so readout {r['name']} (id {r['id']}) can never "
                      f"be queried (torch_brain 0.1.0 sized task_emb as len(readout_specs)); it is left out",
                      file=sys.stderr)
                tensors.pop(f"readout.projections.{r['name']}.weight", None)
                tensors.pop(f"readout.projections.{r['name']}.bias", None)
        readouts = usable
        if args.readout:
            keep = set(args.readout.split(","))
            missing = keep - {r["name"] for r in readouts}
            if missing:
                raise ExportError(f"--readout: the model has no task {sorted(missing)[0]}")
            for r in readouts:
                if r["name"] not in keep:
                    tensors.pop(f"readout.projections.{r['name']}.weight", None)
                    tensors.pop(f"readout.projections.{r['name']}.bias", None)
            readouts = [r for r in readouts if r["name"] in keep]

    description = mf.make_description(kind, hp, unit_vocab, session_vocab, readouts,
                                      {**source, "torch_brain_api": api, "exporter": EXPORTER})
    try:
        mf.validate(description, tensors)
    except mf.ModelFileError as e:
        raise ExportError(str(e)) from None
    return description, tensors


# --------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="poyo-rt export", description=__doc__.split("\n\n")[0], epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="Lightning .ckpt or torch.save'd state dict")
    p.add_argument("output", help="model file to write (.safetensors)")
    p.add_argument("--config", help="YAML/JSON: the model kwargs, or a training config with model: (and dataset:)")
    p.add_argument("--kind", choices=mf.KINDS, help="model class (default: from the config or the weights)")
    p.add_argument("--readout", help="POYO: the registry name of its readout (0.1.x); POYOPlus: comma-separated tasks to keep")
    p.add_argument("--readout-spec", action="append", metavar="NAME:ID:TYPE",
                   help="describe a modality that is not in torch_brain's registry (repeatable)")
    p.add_argument("--normalization", action="append", metavar="NAME:MEAN:STD",
                   help="z-scoring of a readout, e.g. cursor_velocity_2d:0,0:20,20, or a JSON file (repeatable)")
    p.add_argument("--sequence-length", type=float, help="seconds (for a state dict without a config)")
    p.add_argument("--latent-step", type=float, help="seconds (for a state dict without a config)")
    p.add_argument("--t-min", type=float, help="rotary t_min (informational; omega is in the weights)")
    p.add_argument("--t-max", type=float, help="rotary t_max (informational; omega is in the weights)")
    p.add_argument("--allow-torch-load", action="store_true",
                   help="if the safe reader cannot parse the file, fall back to torch.load(weights_only=False); "
                        "this RUNS CODE from the checkpoint: only for files you trust")
    return p


def read_checkpoint(path, allow_torch_load=False):
    try:
        return torch_checkpoint.load(path)
    except torch_checkpoint.CheckpointError as e:
        if not allow_torch_load:
            hint = " (or pass --allow-torch-load for a file you trust)" if "legacy" in str(e) else ""
            raise ExportError(f"{e}{hint}") from None
    import torch  # only on explicit request

    def to_numpy(x):
        if isinstance(x, torch.Tensor):
            return x.detach().float().numpy() if x.dtype == torch.bfloat16 else x.detach().numpy()
        if isinstance(x, dict):
            return type(x)((k, to_numpy(v)) for k, v in x.items())
        return x
    return to_numpy(torch.load(path, map_location="cpu", weights_only=False))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        state_dict, hparams = split_checkpoint(read_checkpoint(args.checkpoint, args.allow_torch_load))
        description, tensors = convert(state_dict, hparams, args, {"checkpoint": Path(args.checkpoint).name})
        mf.write_model_file(args.output, description, tensors)
    except (ExportError, mf.ModelFileError, OSError) as e:
        print(f"poyo-rt export: error: {e}", file=sys.stderr)
        return 1
    r = ", ".join(f"{x['name']}[{x['dim']}]" for x in description["readouts"])
    print(f"wrote {args.output}: {description['kind']} dim {description['hyperparameters']['dim']} "
          f"depth {description['hyperparameters']['depth']}, {len(description['unit_vocab'])} units, "
          f"{len(description['session_vocab'])} sessions, readouts {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

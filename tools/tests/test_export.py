"""poyo_rt.export (`poyo-rt export`): checkpoints users hold -> model files (docs/model-format.md).

Runs with numpy + safetensors + pytest only (the exporter never needs torch). The expected
tensors come from fixtures/reference.json, which torch.load produced when the fixtures were made.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
from poyo_rt import export  # noqa: E402
from poyo_rt import model_file as mf  # noqa: E402
from poyo_rt import torch_checkpoint as tc  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
EXPORTER = [sys.executable, "-m", "poyo_rt.export"]


def run_cli(*args):
    return subprocess.run([*EXPORTER, *map(str, args)], capture_output=True, text=True)


def export_ok(tmp_path, checkpoint, *options):
    out = tmp_path / "model.safetensors"
    r = run_cli(FIXTURES / checkpoint, out, *options)
    assert r.returncode == 0, r.stderr
    return mf.read_model_file(out), r


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def assert_tensors_are_torchs(tensors, checkpoint, prefix=""):
    """Every exported tensor is, bit for bit, the float32 tensor torch.load gave."""
    ref = REFERENCE[checkpoint]["tensors"]
    for name, a in tensors.items():
        r = ref[prefix + name]
        assert a.dtype == np.float32 and list(a.shape) == r["shape"], name
        assert r["dtype"] == "float32" and sha(a) == r["sha256"], name


# --------------------------------------------------------------------------------------
# the checkpoints users hold
# --------------------------------------------------------------------------------------

def test_lightning_poyo_v01(tmp_path):
    (desc, tensors), _ = export_ok(tmp_path, "poyo_v01_lightning.ckpt")
    assert desc["kind"] == "POYO"
    assert desc["hyperparameters"] == {"sequence_length": 1.0, "latent_step": 0.5, "num_latents_per_step": 2,
                                       "dim": 8, "depth": 1, "dim_head": 8, "cross_heads": 1, "self_heads": 2,
                                       "t_min": 1e-4, "t_max": 2.0627}
    vocabs = REFERENCE["poyo_v01_lightning.ckpt"]["vocabs"]
    assert desc["unit_vocab"] == vocabs["model.unit_emb.vocab"]
    assert list(desc["unit_vocab"]) == list(vocabs["model.unit_emb.vocab"])  # row order kept
    assert desc["session_vocab"] == vocabs["model.session_emb.vocab"]
    (r,) = desc["readouts"]
    assert r == {"name": "cursor_velocity_2d", "id": 1, "dim": 2, "type": "continuous",
                 "timestamp_key": "cursor.timestamps", "value_key": "cursor.vel",
                 "normalization": {"mean": [0.0, 0.0], "std": [20.0, 20.0]}}
    assert desc["source"]["torch_brain_api"] == "0.1"
    prefix = "state_dict/model."
    assert set(tensors) == {k[len(prefix):] for k in REFERENCE["poyo_v01_lightning.ckpt"]["tensors"]
                            if k.startswith(prefix)}
    assert_tensors_are_torchs(tensors, "poyo_v01_lightning.ckpt", "state_dict/model.")


def test_lightning_poyoplus_task_emb_20_rows(tmp_path):
    (desc, tensors), _ = export_ok(tmp_path, "poyoplus_v01_lightning.ckpt")
    assert desc["kind"] == "POYOPlus"
    assert tensors["task_emb.weight"].shape == (20, 4)
    assert [r["id"] for r in desc["readouts"]] == list(range(1, 20))
    assert [r["name"] for r in desc["readouts"]] == list(export.REGISTRY)  # readout_specs order
    by_name = {r["name"]: r for r in desc["readouts"]}
    assert by_name["cursor_velocity_2d"]["normalization"] == {"mean": [1.0, -1.0], "std": [20.0, 10.0]}
    assert by_name["running_speed"]["normalization"] == {"mean": [0.5], "std": [4.0]}
    assert by_name["gabor_orientation"]["normalization"] is None
    assert by_name["natural_scenes"]["type"] == "multinomial" and by_name["natural_scenes"]["dim"] == 119
    assert tensors["readout.projections.locally_sparse_noise_frame.weight"].shape == (8000, 4)
    assert_tensors_are_torchs(tensors, "poyoplus_v01_lightning.ckpt", "state_dict/model.")


def test_lightning_poyoplus_task_emb_19_rows_drops_the_unreachable_task(tmp_path):
    (desc, tensors), r = export_ok(tmp_path, "poyoplus_v010_lightning.ckpt")
    assert tensors["task_emb.weight"].shape == (19, 4)
    names = [x["name"] for x in desc["readouts"]]
    assert "pupil_size_2d" not in names and len(names) == 18
    assert "readout.projections.pupil_size_2d.weight" not in tensors
    assert "pupil_size_2d" in r.stderr and "19 rows" in r.stderr
    # hyper_parameters were an omegaconf DictConfig: still understood
    assert {x["name"]: x["normalization"] for x in desc["readouts"]}["running_speed"] == {"mean": [0.5], "std": [4.0]}
    assert_tensors_are_torchs(tensors, "poyoplus_v010_lightning.ckpt", "state_dict/model.")


POYO_STATE_DICT_CONFIG = {"_target_": "torch_brain.models.POYO", "sequence_length": 1.0, "latent_step": 0.5,
                          "num_latents_per_step": 3, "dim": 8, "depth": 2, "dim_head": 8, "cross_heads": 1,
                          "self_heads": 2, "t_min": 0.0001, "t_max": 4.0, "ffn_dropout": 0.2}


def test_plain_state_dict_with_yaml_config(tmp_path):
    yaml = pytest.importorskip("yaml")  # PyYAML is optional; JSON configs need nothing
    assert {**yaml.safe_load((FIXTURES / "poyo_state_dict.yaml").read_text()), "ffn_dropout": 0.2} == \
        {**POYO_STATE_DICT_CONFIG, "lin_dropout": 0.4, "atn_dropout": 0.2, "emb_init_scale": 0.02}
    check_plain_state_dict(tmp_path, FIXTURES / "poyo_state_dict.yaml")


def test_plain_state_dict_with_json_training_config(tmp_path):
    """A whole training config (model: + dataset:) works as --config too."""
    config = tmp_path / "train.json"
    config.write_text(json.dumps({"model": POYO_STATE_DICT_CONFIG, "dataset": [{"config": {"readout": {
        "readout_id": "arm_velocity_2d", "normalize_mean": [0.5, -0.5], "normalize_std": [100, 80]}}}]}))
    check_plain_state_dict(tmp_path, config, with_options=False)


def check_plain_state_dict(tmp_path, config, with_options=True):
    options = ["--readout", "arm_velocity_2d", "--normalization", "arm_velocity_2d:0.5,-0.5:100,80"]
    (desc, tensors), _ = export_ok(tmp_path, "poyo_state_dict.pt", "--config", config, *(options if with_options else []))
    hp = desc["hyperparameters"]
    assert (hp["depth"], hp["num_latents_per_step"], hp["t_max"]) == (2, 3, 4.0)
    (r,) = desc["readouts"]
    assert (r["name"], r["id"], r["value_key"]) == ("arm_velocity_2d", 3, "behavior.hand_vel")
    assert r["normalization"] == {"mean": [0.5, -0.5], "std": [100.0, 80.0]}
    assert_tensors_are_torchs(tensors, "poyo_state_dict.pt")


def test_torch_brain_0_2_state_dict_with_json_config(tmp_path):
    (desc, tensors), _ = export_ok(tmp_path, "poyo_v02_state_dict.pt", "--config", FIXTURES / "poyo_v02_config.json")
    (r,) = desc["readouts"]
    assert r == {"name": "output", "id": 0, "dim": 3, "type": "continuous", "timestamp_key": None,
                 "value_key": None, "normalization": None}
    assert desc["source"]["torch_brain_api"] == "0.2"
    assert desc["session_vocab"] == REFERENCE["poyo_v02_state_dict.pt"]["vocabs"]["session_emb.vocab"]
    assert_tensors_are_torchs(tensors, "poyo_v02_state_dict.pt")


def test_hyperparameters_from_options_and_normalization_file(tmp_path):
    norm = tmp_path / "norm.json"
    norm.write_text(json.dumps({"output": {"mean": [1, 2, 3], "std": [4, 5, 6]}}))
    (desc, _), _ = export_ok(tmp_path, "poyo_v02_state_dict.pt", "--sequence-length", "1.0",
                             "--latent-step", "0.5", "--t-max", "3", "--normalization", norm)
    assert desc["hyperparameters"]["t_max"] == 3.0
    assert desc["readouts"][0]["normalization"] == {"mean": [1.0, 2.0, 3.0], "std": [4.0, 5.0, 6.0]}


def test_scalar_normalization_option_is_repeated(tmp_path):
    (desc, _), _ = export_ok(tmp_path, "poyo_v01_lightning.ckpt", "--normalization", "cursor_velocity_2d:0:100")
    assert desc["readouts"][0]["normalization"] == {"mean": [0.0, 0.0], "std": [100.0, 100.0]}


def test_poyoplus_subset_of_tasks(tmp_path):
    (desc, tensors), _ = export_ok(tmp_path, "poyoplus_v01_lightning.ckpt", "--readout", "cursor_velocity_2d,running_speed")
    assert [r["name"] for r in desc["readouts"]] == ["cursor_velocity_2d", "running_speed"]
    assert not any(k.startswith("readout.projections.natural") for k in tensors)
    assert tensors["task_emb.weight"].shape == (20, 4)


# --------------------------------------------------------------------------------------
# the model file itself
# --------------------------------------------------------------------------------------

def test_model_file_is_valid_safetensors_and_aligned(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    (desc, tensors), _ = export_ok(tmp_path, "poyoplus_v01_lightning.ckpt")
    path = tmp_path / "model.safetensors"
    loaded = safetensors_numpy.load_file(path)
    assert sorted(loaded) == sorted(tensors)
    assert all(np.array_equal(loaded[k], tensors[k]) for k in tensors)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert (8 + n) % 8 == 0
    assert json.loads(header["__metadata__"]["poyo_rt"]) == desc
    odd = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start = 8 + n + info["data_offsets"][0]
        assert info["dtype"] == "F32" and start % 4 == 0, name
        if start % 8:
            odd += 1
            assert int(np.prod(info["shape"])) * 4 % 8 != 0, f"{name} could have been 8-byte aligned"
    # only tensors of an odd number of floats, placed last, may miss 8-byte alignment
    assert odd <= sum(1 for k, v in tensors.items() if v.size % 2)


# --------------------------------------------------------------------------------------
# refusals: non-zero exit, one line on stderr naming the key
# --------------------------------------------------------------------------------------

def assert_refused(r, *fragments):
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("poyo-rt export: error:")
    for f in fragments:
        assert f in lines[0], lines[0]


def rewrite_pickle(tmp_path, checkpoint, old: bytes, new: bytes) -> Path:
    """Copy a checkpoint with a string of the same length replaced inside data.pkl."""
    assert len(old) == len(new)
    out = tmp_path / checkpoint
    with zipfile.ZipFile(FIXTURES / checkpoint) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/data.pkl"):
                assert data.count(old) == 1
                data = data.replace(old, new)
            zout.writestr(info, data)
    return out


def test_refuses_unknown_key(tmp_path):
    bad = rewrite_pickle(tmp_path, "poyo_v01_lightning.ckpt", b"model.enc_ffn.0.bias", b"model.enc_ffn.9.bias")
    assert_refused(run_cli(bad, tmp_path / "o.safetensors"), "enc_ffn.9.bias")
    assert not (tmp_path / "o.safetensors").exists()


def test_refuses_key_outside_the_model(tmp_path):
    bad = rewrite_pickle(tmp_path, "poyo_v01_lightning.ckpt", b"model.enc_ffn.0.bias", b"extra.enc_ffn.0.bias")
    assert_refused(run_cli(bad, tmp_path / "o.safetensors"), "extra.enc_ffn.0.bias")


def convert(state_dict, hparams=None, *options):
    args = export.build_parser().parse_args(["in", "out", *options])
    return export.convert(state_dict, hparams or {}, args, {})


def lightning_state_dict(checkpoint):
    return export.split_checkpoint(tc.load(FIXTURES / checkpoint))


def test_refuses_missing_key():
    sd, hp = lightning_state_dict("poyo_v01_lightning.ckpt")
    del sd["proc_layers.0.1.1.net.3.bias"]
    with pytest.raises(export.ExportError, match=r"missing tensor proc_layers\.0\.1\.1\.net\.3\.bias"):
        convert(sd, hp)


def test_refuses_shape_mismatch():
    sd, hp = lightning_state_dict("poyo_v01_lightning.ckpt")
    sd["dec_atn.to_kv.weight"] = sd["dec_atn.to_kv.weight"][:, :-1]
    with pytest.raises(export.ExportError, match=r"dec_atn\.to_kv\.weight: shape \[16, 7\]"):
        convert(sd, hp)


def test_refuses_vocab_that_does_not_match_the_embedding():
    sd, hp = lightning_state_dict("poyo_v01_lightning.ckpt")
    sd["unit_emb.vocab"] = {**sd["unit_emb.vocab"], "extra/unit": 99}
    with pytest.raises(export.ExportError, match="unit_emb.weight: shape"):
        convert(sd, hp)


def test_refuses_config_that_contradicts_the_weights():
    sd, hp = lightning_state_dict("poyo_v01_lightning.ckpt")
    hp["model"]["depth"] = 3
    with pytest.raises(export.ExportError, match="depth = 3, but the weights say 1"):
        convert(sd, hp)


def test_refuses_readout_of_the_wrong_dim():
    sd, hp = lightning_state_dict("poyo_v01_lightning.ckpt")
    with pytest.raises(export.ExportError, match="readout.weight: 2 rows, but readout running_speed has dim 1"):
        convert(sd, hp, "--readout", "running_speed")


def test_refuses_conflicting_normalization():
    sd, hp = lightning_state_dict("poyoplus_v01_lightning.ckpt")
    hp["dataset"][1]["config"]["multitask_readout"][0]["normalize_std"] = 5.0
    with pytest.raises(export.ExportError, match="cursor_velocity_2d has different normalize_mean/std"):
        convert(sd, hp)


def test_refuses_unregistered_task_unless_described():
    sd, hp = lightning_state_dict("poyoplus_v01_lightning.ckpt")
    for part in ("weight", "bias"):
        sd[f"readout.projections.my_task.{part}"] = sd.pop(f"readout.projections.running_speed.{part}")
    with pytest.raises(export.ExportError, match="readout my_task is not in torch_brain's registry"):
        convert(sd, hp)
    desc, _ = convert(sd, hp, "--readout-spec", "my_task:16:binary")
    assert {r["name"]: (r["id"], r["type"]) for r in desc["readouts"]}["my_task"] == (16, "binary")


def test_refuses_missing_sequence_length(tmp_path):
    assert_refused(run_cli(FIXTURES / "poyo_v02_state_dict.pt", tmp_path / "o.safetensors"),
                   "sequence_length", "--sequence-length")


def test_refuses_non_model_checkpoint(tmp_path):
    assert_refused(run_cli(FIXTURES / "tensors_edge.pt", tmp_path / "o.safetensors"), "readout.weight")


def test_refuses_truncated_file(tmp_path):
    data = (FIXTURES / "poyo_v01_lightning.ckpt").read_bytes()
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(data[:-3000])
    assert_refused(run_cli(bad, tmp_path / "o.safetensors"), "bad.ckpt")


def test_refuses_corrupt_file(tmp_path):
    bad = tmp_path / "bad.ckpt"
    data = bytearray((FIXTURES / "poyo_v01_lightning.ckpt").read_bytes())
    i = data.find(b"model.enc_atn.to_q.weight")  # inside data.pkl: CRC check fails
    data[i:i + 5] = b"XXXXX"
    bad.write_bytes(bytes(data))
    assert_refused(run_cli(bad, tmp_path / "o.safetensors"), "corrupt")


def test_refuses_missing_file(tmp_path):
    assert_refused(run_cli(tmp_path / "nope.ckpt", tmp_path / "o.safetensors"), "nope.ckpt")


def test_registry_table_matches_torch_brain():
    registry = pytest.importorskip("torch_brain.registry")
    for name, spec in registry.MODALITY_REGISTRY.items():
        i, dim, kind, tkey, vkey = export.REGISTRY[name]
        assert (spec.id, spec.dim, spec.type.name.lower(), spec.timestamp_key, spec.value_key) == (i, dim, kind, tkey, vkey)
    assert len(registry.MODALITY_REGISTRY) == len(export.REGISTRY)


@pytest.mark.parametrize("wrap", [
    lambda sd: {"state_dict": {"model._orig_mod." + k: v for k, v in sd.items()}},  # Lightning + torch.compile
    lambda sd: {"module." + k: v for k, v in sd.items()},  # DataParallel
    lambda sd: {"model." + k: v for k, v in sd.items()},  # a LightningModule's own state_dict()
    lambda sd: {"module._orig_mod." + k: v for k, v in sd.items()},  # DDP around torch.compile
    lambda sd: {"_orig_mod.module." + k: v for k, v in sd.items()},  # torch.compile around DDP
    lambda sd: {"state_dict": {"model.module._orig_mod." + k: v for k, v in sd.items()}},  # Lightning + both
    lambda sd: {"state_dict": {"_orig_mod.model." + k: v for k, v in sd.items()}},  # compiled LightningModule
    lambda sd: {"module.model.module." + k: v for k, v in sd.items()},  # DDP(LightningModule(DDP(model)))
], ids=["lightning_compile", "dp", "lightning_module", "ddp_compile", "compile_ddp", "lightning_ddp_compile",
        "compiled_lightning_module", "ddp_lightning_ddp"])
def test_wrapper_prefixes_are_removed(wrap):
    sd, _ = lightning_state_dict("poyo_v01_lightning.ckpt")
    got, _ = export.split_checkpoint(wrap(sd))
    assert list(got) == list(sd)


def test_model_file_reader_refuses_other_formats(tmp_path):
    desc, tensors = mf.read_model_file(export_ok(tmp_path, "poyo_v01_lightning.ckpt")[1] and tmp_path / "model.safetensors")
    for field, value, message in (("format_version", 2, "version 1"), ("kind", "Transformer", "kind"),
                                  ("unit_vocab", {"NA": 0, "a": 2}, "unit_vocab|unit_emb.weight")):
        bad = tmp_path / f"bad_{field}.safetensors"
        mf.write_safetensors(bad, tensors, {mf.METADATA_KEY: json.dumps({**desc, field: value})})
        with pytest.raises(mf.ModelFileError, match=message):
            mf.read_model_file(bad)
    half = tmp_path / "f16.safetensors"
    mf.write_safetensors(half, {**tensors, "readout.bias": tensors["readout.bias"].astype(np.float16)},
                         {mf.METADATA_KEY: json.dumps(desc)})
    with pytest.raises(mf.ModelFileError, match="readout.bias: dtype float16"):
        mf.read_model_file(half)


def test_missing_keys_name_an_example_key_of_the_file():
    """Keys under a prefix no wrapper uses: the message shows what the file's keys look like."""
    sd, _ = lightning_state_dict("poyo_v01_lightning.ckpt")
    got, _ = export.split_checkpoint({"net." + k: v for k, v in sd.items()})
    with pytest.raises(export.ExportError, match=r"missing key readout.weight .*the file's keys look like 'net\.[a-z_.0-9]+weight'"):
        export.detect_kind(got, {}, None)
    with pytest.raises(export.ExportError, match=r"missing key unit_emb.weight; the file's keys look like 'net\."):
        export._tensor(got, "unit_emb.weight")

"""A poyo-rt model file (or a torch_brain checkpoint) as a torch_brain 0.1.x model, and back.

The reverse of ``poyo_rt.export``: the model is rebuilt with the file's hyperparameters, its
vocabularies initialized in row order, and every weight loaded with ``strict=True``, so the
torch_brain model computes exactly what the daemon computes from the same file.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from .. import export
from .. import model_file as mf
from .data import CalibrationError


def read_base(path) -> tuple[dict, dict]:
    """A poyo-rt model file or a torch_brain checkpoint -> (model description, name -> float32 array).

    Raises
    ------
    CalibrationError
        The file is neither, or the checkpoint cannot be exported (the exporter's message).
    """
    p = Path(path)
    if not p.is_file():
        raise CalibrationError(f"--model {path}: no such file")
    try:
        return mf.read_model_file(p)
    except (mf.ModelFileError, ValueError, OSError):
        pass
    try:
        args = export.build_parser().parse_args([str(p), "unused.safetensors"])
        state_dict, hparams = export.split_checkpoint(export.read_checkpoint(str(p)))
        return export.convert(state_dict, hparams, args, {"checkpoint": p.name})
    except export.ExportError as error:
        raise CalibrationError(f"--model {path}: neither a poyo-rt model file nor an exportable torch_brain "
                               f"checkpoint ({error})") from None


def modality_spec(readout: dict):
    """The registry's ModalitySpec for this readout, or an equivalent one for a custom readout."""
    from torch_brain.nn.loss import MSELoss
    from torch_brain.registry import MODALITY_REGISTRY, DataType, ModalitySpec
    spec = MODALITY_REGISTRY.get(readout["name"])
    if spec is not None and spec.id == readout["id"] and spec.dim == readout["dim"]:
        return spec
    return ModalitySpec(id=readout["id"], dim=readout["dim"], type=DataType[readout["type"].upper()],
                        timestamp_key=readout.get("timestamp_key") or "", value_key=readout.get("value_key") or "",
                        loss_fn=MSELoss())


def build_model(description: dict, tensors: dict):
    """(description, tensors) -> torch_brain POYO / POYOPlus with exactly these weights (strict load)."""
    import torch
    from torch_brain.models import POYO, POYOPlus
    from torch_brain.nn import Embedding
    hp = description["hyperparameters"]
    kwargs = {k: hp[k] for k in mf.HYPERPARAMETER_KEYS}
    if description["kind"] == "POYO":
        model = POYO(readout_spec=modality_spec(description["readouts"][0]), **kwargs)
    else:
        model = POYOPlus(readout_specs={r["name"]: modality_spec(r) for r in description["readouts"]}, **kwargs)
        rows = tensors["task_emb.weight"].shape[0]
        if model.task_emb.num_embeddings != rows:
            model.task_emb = Embedding(rows, hp["dim"])
    state = collections.OrderedDict((k, torch.from_numpy(np.array(v, np.float32))) for k, v in tensors.items())
    for name in ("unit", "session"):
        vocab = description[f"{name}_vocab"]
        words = [w for w, _ in sorted(vocab.items(), key=lambda item: item[1]) if w != "NA"]
        getattr(model, f"{name}_emb").initialize_vocab(words)
        state[f"{name}_emb.vocab"] = collections.OrderedDict(sorted(vocab.items(), key=lambda item: item[1]))
    model.load_state_dict(state, strict=True)
    return model


def model_tensors(model) -> dict:
    """The model's weights as the model file stores them (name -> float32 array, vocabularies left out)."""
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()
            if k not in ("unit_emb.vocab", "session_emb.vocab")}

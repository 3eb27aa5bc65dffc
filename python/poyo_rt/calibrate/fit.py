"""Fitting a new session's embeddings into a frozen torch_brain POYO / POYO+ (needs torch).

``extend_vocab`` appends one ``unit_emb`` row per new unit and one ``session_emb`` row for the new
session, initialized as torch_brain initializes any word (normal, std ``init_scale``). Every
other parameter is frozen; inside the two embedding matrices the old rows get no gradient and
are copied back after every step, so the calibrated model decodes the old sessions bit for bit
as before. The loss is the readout's (MSE on z-scored targets for a continuous readout), on
random 1 s windows of the training part with queries at every behaviour sample inside, as
torch_brain trains; the held-out part scores every epoch and the best epoch is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .data import CalibrationData, CalibrationError, pad_batch, r2_score


@dataclass
class FitSettings:
    """Optimization settings. ``epochs`` is a cap; early stopping ends a fit after ``patience``
    epochs without a better held-out R², and ``max_seconds`` caps the wall time."""

    epochs: int = 200
    batch_size: int = 16
    lr: float = 1e-2
    patience: int = 20
    max_seconds: float = 600.0
    seed: int = 0


@dataclass
class FitResult:
    """What a calibration did. R² are on the held-out part, averaged over the readout's channels."""

    r2_before: float
    r2_after: float
    best_epoch: int
    epochs: int
    seconds: float
    history: list = field(default_factory=list)    # per epoch: (train loss, held-out R²)


class Calibration:
    """A torch_brain model extended with a recording's units and session, ready to fit.

    Parameters
    ----------
    model : torch_brain POYO or POYOPlus
        Built from the base model file (``torch_model.build_model``); extended in place.
    description : dict
        The base model file's description.
    data : CalibrationData
    readout : dict
        The description's readout to fit (its ``id``, ``name`` and ``normalization``).
    """

    def __init__(self, model, description: dict, data: CalibrationData, readout: dict):
        import torch
        if readout["type"] != "continuous":
            raise CalibrationError(f"readout {readout['name']} is {readout['type']}: calibrate fits continuous readouts")
        if readout["dim"] != data.dim:
            raise CalibrationError(f"readout {readout['name']} has {readout['dim']} channels, the behaviour has {data.dim}")
        known = [w for w in data.unit_words if w in model.unit_emb.vocab]
        if known:
            raise CalibrationError(f"{len(known)} of the recording's units are already in the model's unit vocabulary "
                                   f"(e.g. {known[0]}): give another --unit-prefix")
        if data.session_word in model.session_emb.vocab:
            raise CalibrationError(f"session '{data.session_word}' is already in the model's session vocabulary: "
                                   f"give another --session-word")
        self.model, self.description, self.data, self.readout = model, description, data, readout
        self.kind = description["kind"]
        hp = description["hyperparameters"]
        self.latent_step, self.latents_per_step = float(hp["latent_step"]), int(hp["num_latents_per_step"])
        norm = readout.get("normalization") or {"mean": [0.0] * data.dim, "std": [1.0] * data.dim}
        self.mean, self.std = np.asarray(norm["mean"], np.float64), np.asarray(norm["std"], np.float64)

        self.old_units, self.old_sessions = len(model.unit_emb.vocab), len(model.session_emb.vocab)
        model.unit_emb.extend_vocab(list(data.unit_words))
        model.session_emb.extend_vocab([data.session_word])
        self.unit_rows = np.array(model.unit_emb.tokenizer(list(data.unit_words)), np.int64)
        self.session_row = int(model.session_emb.tokenizer(data.session_word))
        for p in model.parameters():
            p.requires_grad_(False)
        self.embeddings = [(model.unit_emb.weight, self.old_units), (model.session_emb.weight, self.old_sessions)]
        self.frozen_rows = [w.detach()[:n].clone() for w, n in self.embeddings]
        for w, n in self.embeddings:
            w.requires_grad_(True)
            mask = torch.ones(w.shape[0], 1)
            mask[:n] = 0
            w.register_hook(lambda grad, mask=mask: grad * mask)

    # ---- forward ------------------------------------------------------------------------------

    def _window(self, start: float, query_times=None) -> dict:
        return self.data.window(start, self.unit_rows, self.session_row, self.latent_step, self.latents_per_step,
                                query_times)

    def _forward(self, windows: list):
        """-> (predictions, shape (M, dim), z-scored; targets (M, dim), physical)."""
        import torch
        inputs, mask, target = pad_batch(windows)
        kwargs = {k: torch.from_numpy(v) for k, v in inputs.items()}
        if self.kind == "POYO":
            pred = self.model(**kwargs, output_mask=torch.from_numpy(mask))
            return pred[torch.from_numpy(mask)], target
        kwargs["output_decoder_index"] = torch.from_numpy(np.where(mask, self.readout["id"], 0).astype(np.int64))
        return self.model(**kwargs)[self.readout["name"]], target

    def predict(self, starts, query_times: Optional[list] = None, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Physical predictions and targets over the windows starting at ``starts`` (seconds),
        queries at the behaviour samples inside each, or at ``query_times[i]`` for window i."""
        import torch
        self.model.eval()
        preds, targets = [], []
        with torch.no_grad():
            for i in range(0, len(starts), batch_size):
                chunk = range(i, min(i + batch_size, len(starts)))
                windows = [self._window(float(starts[j]), None if query_times is None else query_times[j]) for j in chunk]
                pred, target = self._forward(windows)
                preds.append(pred.double().numpy() * self.std + self.mean)
                targets.append(target)
        return np.concatenate(preds), np.concatenate(targets)

    def validation_r2(self) -> float:
        pred, target = self.predict(self.data.validation_starts())
        return r2_score(target, pred)

    # ---- fit ----------------------------------------------------------------------------------

    def fit(self, settings: FitSettings, on_epoch: Optional[Callable[[int, float, float], None]] = None) -> FitResult:
        """Fits the new rows; keeps those of the epoch with the best held-out R².

        ``on_epoch(epoch, train_loss, held_out_r2)`` is called after every epoch (epoch 1-based).
        """
        import torch
        torch.manual_seed(settings.seed)
        rng = np.random.default_rng(settings.seed)
        t0 = time.perf_counter()
        r2_before = self.validation_r2()
        best = (r2_before, 0, self._new_rows())
        weights = [w for w, _ in self.embeddings]
        optimizer = torch.optim.AdamW(weights, lr=settings.lr, weight_decay=0.0)
        history, epoch = [], 0
        for epoch in range(1, settings.epochs + 1):
            self.model.train()
            starts = self.data.training_starts(rng)
            losses = []
            for i in range(0, len(starts), settings.batch_size):
                windows = [self._window(float(s)) for s in starts[i:i + settings.batch_size]]
                pred, target = self._forward(windows)
                y = torch.from_numpy(((target - self.mean) / self.std).astype(np.float32))
                loss = torch.nn.functional.mse_loss(pred, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                self._restore_frozen_rows()
                losses.append(loss.item())
            r2 = self.validation_r2()
            history.append((float(np.mean(losses)), r2))
            if on_epoch:
                on_epoch(epoch, float(np.mean(losses)), r2)
            if r2 > best[0]:
                best = (r2, epoch, self._new_rows())
            if epoch - best[1] >= settings.patience or time.perf_counter() - t0 > settings.max_seconds:
                break
        self._set_new_rows(best[2])
        return FitResult(r2_before=r2_before, r2_after=best[0], best_epoch=best[1], epochs=epoch,
                         seconds=time.perf_counter() - t0, history=history)

    def _new_rows(self) -> list:
        return [w.detach()[n:].clone() for w, n in self.embeddings]

    def _set_new_rows(self, rows: list) -> None:
        import torch
        with torch.no_grad():
            for (w, n), r in zip(self.embeddings, rows):
                w[n:] = r

    def _restore_frozen_rows(self) -> None:
        import torch
        with torch.no_grad():
            for (w, n), r in zip(self.embeddings, self.frozen_rows):
                w[:n] = r

"""``poyo-rt calibrate``: a new session's units and session fitted into a frozen model.

    poyo-rt calibrate --model BASE --recording REC [--minutes 3] --output NEW.safetensors

BASE is a poyo-rt model file or a torch_brain checkpoint; REC a capture log of ``poyo serve`` with
the task's behaviour messages, or any recording ``poyo-rt replay`` reads (NWB, temporaldata,
poyo-rt session file). The first ``--minutes`` of REC (from its first
behaviour sample) are used: the first 80 % to fit, the last 20 % held out to score every epoch
and stop early. NEW holds every word of BASE (decoding the old sessions exactly as BASE does) and
the recording's units and session; its ``source.calibration`` says how it was made. Needs torch
and torch_brain (``pip install './python[calibrate]'``); CPU only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

from . import INSTALL_HINT, torch_available
from .data import CalibrationError

EXAMPLES = """examples:
  poyo-rt calibrate --model base.safetensors --recording today.nwb --behaviour cursor_velocity \\
      --unit-prefix rig2/2026-11-30/unit_ --session-word rig2/2026-11-30 --output today.safetensors
  poyo-rt calibrate --model base.safetensors --recording session.safetensors --minutes 3 --output new.safetensors
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="poyo-rt calibrate", description=__doc__.split("\n\n")[0], epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="base model: a poyo-rt model file or a torch_brain checkpoint")
    p.add_argument("--recording", required=True, help="the new session: a capture log of poyo serve (with the task's "
                                                       "behaviour), an NWB, temporaldata HDF5 or poyo-rt session file")
    p.add_argument("--output", required=True, help="calibrated model file to write (.safetensors)")
    p.add_argument("--minutes", type=float, default=3.0, help="minutes of the recording to use, from its start (default 3)")
    p.add_argument("--holdout", type=float, default=0.2, help="fraction held out at the end for validation (default 0.2)")
    p.add_argument("--session-word", help="the new session's vocabulary word (default: the recording's session id)")
    p.add_argument("--unit-prefix", help="rig unit N becomes the word PN (default: the file's unit words, "
                                         "else '<session word>/unit_')")
    p.add_argument("--behaviour", help="the behaviour series to fit (default: the readout's value_key, e.g. cursor.vel; "
                                       "capture logs: the readout's name)")
    p.add_argument("--readout", help="the readout to fit (default: the model's first)")
    p.add_argument("--epochs", type=int, default=200, help="at most this many epochs (default 200)")
    p.add_argument("--patience", type=int, default=20, help="stop after this many epochs without a better held-out R²")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-2, help="AdamW learning rate of the new embeddings")
    p.add_argument("--max-seconds", type=float, default=600, help="stop fitting after this long (default 600)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--seed", type=int, default=0)
    return p


def choose_readout(description: dict, name: Optional[str]) -> dict:
    readouts = description["readouts"]
    if name is None:
        return readouts[0]
    for r in readouts:
        if r["name"] == name:
            return r
    raise CalibrationError(f"--readout {name}: the model has {', '.join(r['name'] for r in readouts)}")


def unit_words(recording, session_word: str, unit_prefix: Optional[str]) -> tuple[list, Optional[str]]:
    """-> (word of each unit, the prefix when words are prefix + rig id)."""
    if unit_prefix is None and recording.unit_words is not None:
        words = list(recording.unit_words)
        ids = [str(int(i)) for i in recording.unit_ids]
        prefixes = {w[: len(w) - len(i)] for w, i in zip(words, ids) if w.endswith(i)}
        if len(prefixes) == 1 and all(w.endswith(i) for w, i in zip(words, ids)):
            return words, prefixes.pop()
        return words, None
    prefix = unit_prefix if unit_prefix is not None else f"{session_word}/unit_"
    return [f"{prefix}{int(i)}" for i in recording.unit_ids], prefix


def run(args: argparse.Namespace) -> int:
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import model_file as mf
    from ..sessions import read_recording
    from . import torch_model
    from .capture_source import is_capture_log, read_capture_recording
    from .data import CalibrationData
    from .fit import Calibration, FitSettings

    console = Console(stderr=True)
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    description, tensors = torch_model.read_base(args.model)
    readout = choose_readout(description, args.readout)
    if is_capture_log(args.recording):
        recording = read_capture_recording(args.recording, args.behaviour or readout["name"])
    else:
        recording = read_recording(args.recording, behaviour=args.behaviour or readout.get("value_key"))
    behaviour = next(iter(recording.behaviour.values()))
    session_word = args.session_word or recording.session_id or Path(args.recording).stem
    words, prefix = unit_words(recording, session_word, args.unit_prefix)
    seq = float(description["hyperparameters"]["sequence_length"])
    data = CalibrationData(recording, behaviour, words, session_word, seq, args.minutes, args.holdout)
    model = torch_model.build_model(description, tensors)
    calibration = Calibration(model, description, data, readout)
    console.print(f"{args.recording}: {data.num_units} units, session '{session_word}', fitting "
                  f"{data.train.duration:.0f} s, holding out {data.valid.duration:.0f} s; readout {readout['name']} "
                  f"<- {behaviour.name}")

    settings = FitSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                           max_seconds=args.max_seconds, seed=args.seed)
    columns = (TextColumn("calibrating"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs"),
               TextColumn("held-out R² {task.fields[r2]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("fit", total=settings.epochs, r2="-")
        result = calibration.fit(settings, lambda epoch, loss, r2: progress.update(task, completed=epoch, r2=f"{r2:.3f}"))

    source = dict(description.get("source") or {})
    source["calibration"] = {
        "tool": "poyo-rt calibrate", "base_model": Path(args.model).name, "recording": Path(args.recording).name,
        "session": session_word, "units": data.num_units, "readout": readout["name"], "behaviour": behaviour.name,
        "minutes": round(data.train.duration / 60 + data.valid.duration / 60, 3), "holdout": args.holdout,
        "held_out_r2_before": round(result.r2_before, 4), "held_out_r2_after": round(result.r2_after, 4),
        "epochs": result.epochs, "best_epoch": result.best_epoch, "seconds": round(result.seconds, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    new = mf.make_description(description["kind"], description["hyperparameters"], dict(model.unit_emb.vocab),
                              dict(model.session_emb.vocab), description["readouts"], source)
    mf.write_model_file(args.output, new, torch_model.model_tensors(model))
    wall = time.perf_counter() - wall
    print(f"held-out R² ({data.valid.duration:.0f} s): before {result.r2_before:.3f}, after {result.r2_after:.3f} "
          f"(best epoch {result.best_epoch} of {result.epochs}); fit {result.seconds:.1f} s, wall {wall:.1f} s")
    print(f"wrote {args.output}: {len(new['unit_vocab']) - 1} units, {len(new['session_vocab']) - 1} sessions "
          f"(+{data.num_units} units, +1 session)")
    unit_line = f"unit_prefix: {prefix}" if prefix else "units: {rig id: word, ...} (the recording's unit words)"
    print(f"serve it: model: {args.output}, session: {session_word}, {unit_line}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not torch_available():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from .. import model_file as mf
    from ..sessions import SessionError
    try:
        return run(args)
    except (CalibrationError, SessionError, mf.ModelFileError, OSError) as error:
        print(f"poyo-rt calibrate: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

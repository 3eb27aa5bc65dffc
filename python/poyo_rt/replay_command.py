"""``poyo-rt replay``: a recorded session through a real daemon, scored, with a report.

    poyo-rt replay SESSION --model MODEL [--speed 1|N|max] [--interval test|START:END]
                   [--behaviour NAME] [--target cos_sin] [--unit-prefix P | --units MAPFILE]
                   [--session-word W] [--report DIR] [--endpoints SPIKES OUTPUTS]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Optional

import numpy as np

from . import model_file, scoring
from .daemon import ServeProcess
from .replay import play, tick_rate_of
from .sessions import Recording, SessionError, read_recording
from .targets import TARGETS, align, transform
from .vocabulary import bind, read_unit_map

LOCKSTEP_BUDGET = 10.0  # seconds: in lock step nothing waits behind a tick, so none is skipped


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("session", help="NWB file, temporaldata / brainsets HDF5 file, poyo-rt session file, or capture log")
    p.add_argument("--model", required=True, help="model file (poyo-rt export writes one)")
    p.add_argument("--speed", default="max", help="times real time (1 = as a rig), or 'max': lock step, as fast as "
                                                  "the daemon decodes (default)")
    p.add_argument("--interval", default=None, help="part to play: a split name (train, valid, test) or START:END "
                                                    "in seconds; default the whole recording")
    p.add_argument("--behaviour", default=None, help="behaviour series to score against (e.g. ry, or "
                                                     "acquisition/CompassDirection/ry; cursor.vel)")
    p.add_argument("--target", default=None, choices=sorted(TARGETS),
                   help="derive the target from the behaviour (cos_sin: an angle -> its cos and sin); default identity")
    p.add_argument("--readout", default=None, help="the model readout scored (default: the one of the target's dimension)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--unit-prefix", default=None, help="rig unit N is the model's unit word PREFIX+N (NWB)")
    group.add_argument("--units", default=None, metavar="MAPFILE", help="YAML/JSON {rig unit id: unit word}")
    p.add_argument("--session-word", default=None, help="the model's session word (default: the file's session id)")
    p.add_argument("--info", default=None, metavar="JSON",
                   help="defaults for the options above (recording.json; default: recording.json beside SESSION)")
    p.add_argument("--hop", type=float, default=0.02, help="seconds between ticks (default 0.02: 50 Hz)")
    p.add_argument("--budget", type=float, default=None, help="latency budget in seconds (default: hop)")
    p.add_argument("--tick-rate", type=int, default=None, help="ticks per second of the rig clock (default: detected)")
    p.add_argument("--report", default=None, metavar="DIR", help="write report.json, report.html, outputs.npz here")
    p.add_argument("--poyo-bin", default=None, help="the poyo binary (default $POYO_BIN, then .build/release/poyo)")
    p.add_argument("--endpoints", nargs=2, default=None, metavar=("SPIKES", "OUTPUTS"),
                   help="replay into a running daemon (its SUB and PUB endpoints) instead of starting one")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def apply_info(args: argparse.Namespace) -> Optional[dict]:
    """Fills options left out from the recording's description file (recording.json)."""
    path = Path(args.info) if args.info else Path(args.session).with_name("recording.json")
    if not path.is_file():
        if args.info:
            raise SessionError(f"{args.info}: no such file")
        return None
    try:
        info = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SessionError(f"{path}: not a readable JSON description of the recording ({error})") from None
    if not isinstance(info, dict):
        raise SessionError(f"{path}: a recording description is a JSON object")
    replay = info.get("replay", info)
    for option, key in (("behaviour", "behaviour"), ("target", "target"), ("unit_prefix", "unit_prefix"),
                        ("session_word", "session_word"), ("readout", "readout"), ("tick_rate", "tick_rate")):
        if getattr(args, option) is None and replay.get(key) is not None and not (option == "unit_prefix" and args.units):
            setattr(args, option, replay[key])
    return info


def interval_of(spec: Optional[str], recording: Recording, info: Optional[dict]) -> tuple[float, float, str]:
    """(start, end) seconds and a description, from ``--interval``."""
    if spec is None:
        return 0.0, float(recording.duration), "whole recording"
    if ":" in spec:
        try:
            start, end = (float(x) for x in spec.split(":", 1))
        except ValueError:
            raise SessionError(f"--interval {spec}: expected a split name or START:END in seconds") from None
        if not 0 <= start < end:
            raise SessionError(f"--interval {spec}: START must be >= 0 and before END")
        return start, end, f"{start:g}:{end:g} s"
    splits = dict(recording.intervals)
    for name, bounds in ((info or {}).get("splits") or {}).items():
        splits.setdefault(name, np.array([bounds], dtype=np.float64))
    if spec not in splits:
        raise SessionError(f"--interval {spec}: the recording has no such part (it has {', '.join(splits) or 'no split'}; "
                           f"give START:END in seconds)")
    parts = np.asarray(splits[spec], dtype=np.float64).reshape(-1, 2)
    return float(parts[:, 0].min()), float(parts[:, 1].max()), f"{spec} part"


def choose_readout(description: dict, name: Optional[str], dims: int) -> dict:
    readouts = description["readouts"]
    if name is not None:
        for r in readouts:
            if r["name"] == name:
                return r
        raise SessionError(f"--readout {name}: the model has {', '.join(r['name'] for r in readouts)}")
    fitting = [r for r in readouts if r["dim"] == dims or r.get("type") == "multinomial" and dims == 1]
    if len(fitting) == 1:
        return fitting[0]
    have = ", ".join(f"{r['name']} ({r['dim']} dims)" for r in readouts)
    if not fitting:
        raise SessionError(f"the behaviour has {dims} columns and no readout of the model has that dimension ({have}); "
                           f"derive the target with --target (e.g. cos_sin for an angle)")
    raise SessionError(f"several readouts fit the behaviour ({have}): choose one with --readout")


def run(args: argparse.Namespace) -> int:
    info = apply_info(args)
    recording = read_recording(args.session, behaviour=args.behaviour)
    behaviour = transform(next(iter(recording.behaviour.values())), args.target or "identity")
    try:
        description, _ = model_file.read_model_file(args.model)
    except (model_file.ModelFileError, OSError, ValueError) as error:
        raise SessionError(f"{args.model}: not a poyo-rt model file ({error})") from None
    binding = bind(recording, description, unit_prefix=args.unit_prefix,
                   unit_map=read_unit_map(args.units) if args.units else None, session_word=args.session_word)
    readout = choose_readout(description, args.readout, behaviour.values.shape[1])
    categorical = readout.get("type") == "multinomial"
    if not categorical and readout["dim"] != behaviour.values.shape[1]:
        raise SessionError(f"readout {readout['name']} has {readout['dim']} dims, the target {behaviour.values.shape[1]}")
    start_s, end_s, interval_name = interval_of(args.interval, recording, info)
    rate = tick_rate_of(recording, args.tick_rate)
    speed = None if str(args.speed) == "max" else float(args.speed)
    if speed is not None and speed <= 0:
        raise SessionError("--speed must be positive or 'max'")
    hp = description["hyperparameters"]
    budget = args.budget if args.budget is not None else args.hop
    spike_ticks = np.rint(recording.spike_times * rate).astype(np.int64)
    spike_units = binding.to_wire(recording.spike_units)
    start_tick, end_tick = int(round(start_s * rate)), int(round(end_s * rate))
    if end_tick - start_tick <= round(hp["sequence_length"] * rate):
        raise SessionError(f"the interval {start_s:g}-{end_s:g} s is shorter than one window ({hp['sequence_length']:g} s)")

    config = {"model": str(Path(args.model).resolve()), "session": binding.session_word,
              **binding.config(description["unit_vocab"]), "hop": args.hop,
              "budget": LOCKSTEP_BUDGET if speed is None else budget, "output_offsets": [0.0],
              "stall_timeout": 5.0, "status_interval": 0.2, "threads": 1, "publish_raw_values": True}
    progress = _Progress(args.quiet, start_tick, end_tick, rate, readout["name"], behaviour, categorical)
    daemon = None
    try:
        if args.endpoints:
            spikes, outputs, check = args.endpoints[0], args.endpoints[1], (lambda: None)
        else:
            daemon = ServeProcess(config, binary=args.poyo_bin)
            spikes, outputs, check = daemon.spikes, daemon.outputs, daemon.check_alive
        with progress:
            replay = play(spike_ticks, spike_units, start_tick, end_tick, spikes_endpoint=spikes,
                          outputs_endpoint=outputs, tick_rate=rate, hop=args.hop,
                          sequence_length=hp["sequence_length"], speed=speed, check_alive=check,
                          on_progress=progress.update)
    finally:
        log = daemon.log if daemon is not None else ""
        if daemon is not None:
            daemon.close()
    report, arrays = build_report(args, recording, behaviour, readout, description, binding, replay, config,
                                  (start_s, end_s, interval_name), info, log, speed, budget, categorical)
    paths = {}
    if args.report:
        from .report import replay_report
        paths = replay_report.write(report, arrays, args.report)
    from .report.replay_report import print_table
    print_table(report, paths)
    return 0


def score(replay, readout: dict, behaviour, categorical: bool, tick_rate: int):
    """(times s (K,), decoded (K, D), truth (K, D), scores dict) for one readout."""
    ticks, values = scoring.readout_series(replay.outputs, readout["name"])
    times = ticks / float(tick_rate)
    truth, inside = align(behaviour, times, categorical=categorical)
    times, decoded = times[inside], values[inside].astype(np.float64)
    if len(times) < 2:
        return times, decoded, truth, {"n_scored": int(len(times)), "r2": None, "r2_mean": None}
    if categorical:
        return times, decoded, truth, {"n_scored": int(len(times)), "accuracy": scoring.accuracy(truth, decoded)}
    r2 = scoring.r_squared(truth, decoded)
    return times, decoded, truth, {"n_scored": int(len(times)), "r2": [float(x) for x in r2], "r2_mean": float(r2.mean())}


#: A mean R^2 below this gets a hint: far worse than decoding the recorded mean, most often the
#: wrong --behaviour or --target. (One dimension of the right series can fall below -1 over a
#: few seconds where it hardly varies: the mean is the test.)
R2_HINT_BELOW = -1.0


def _by_dim(dims: list, values) -> str:
    return ", ".join(f"{d} {v:.3g}" for d, v in zip(dims, values))


def score_notes(scores: dict, decoded, truth, output_times, behaviour, behaviour_name: str, target: str, dims: list,
                interval: tuple, available: list, readout: str, categorical: bool) -> dict:
    """What the report says about a score that is missing or far below 0, and why.

    Returns ``{}`` when the score needs no comment; else ``r2_note`` (one sentence for the table,
    the JSON and the page) and, for R^2 far below 0, ``r2_check`` (the means and standard
    deviations of the decoded and recorded series, the series used, the file's series).
    """
    what = "accuracy" if categorical else "R^2"
    span = [float(behaviour.timestamps[0]), float(behaviour.timestamps[-1])]
    start, end = interval[0], interval[1]
    if scores.get("n_scored", 0) < 2:
        if len(output_times) == 0:
            note = f"{what} not computed: the daemon published no output of {readout}"
        elif span[1] < start or span[0] > end:
            note = (f"{what} not computed: no behaviour samples in {start:g}-{end:g} s "
                    f"(behaviour '{behaviour_name}' covers {span[0]:g}-{span[1]:g} s)")
        else:
            note = (f"{what} not computed: {scores.get('n_scored', 0)} of {len(output_times)} outputs "
                    f"({float(output_times[0]):g}-{float(output_times[-1]):g} s) lie where behaviour "
                    f"'{behaviour_name}' has samples ({span[0]:g}-{span[1]:g} s); at least 2 are needed")
        return {"r2_note": note, "behaviour_span_s": span}
    if categorical or scores.get("r2") is None:
        return {}
    r2 = np.asarray([np.nan if v is None else v for v in scores["r2"]], dtype=np.float64)
    if not np.all(np.isfinite(r2)):
        constant = [d for d, v in zip(dims, r2) if not np.isfinite(v)]
        return {"r2_note": f"R^2 of {', '.join(constant)} not computed: the recorded target is constant over the "
                           f"{scores['n_scored']} outputs scored"}
    if r2.mean() >= R2_HINT_BELOW:
        return {}
    d_mean, d_std = decoded.mean(axis=0), decoded.std(axis=0)
    t_mean, t_std = truth.mean(axis=0), truth.std(axis=0)
    recorded = behaviour_name if target == "identity" else f"{target} of {behaviour_name}"
    ratio = np.where(t_std > 0, d_std / np.where(t_std > 0, t_std, 1.0), np.inf)
    note = (f"R^2 far below 0: the decoded series (mean {_by_dim(dims, d_mean)}; std {_by_dim(dims, d_std)}) and "
            f"the recorded {recorded} (mean {_by_dim(dims, t_mean)}; std {_by_dim(dims, t_std)}) differ: means by "
            f"{_by_dim(dims, np.abs(d_mean - t_mean))}, standard deviations by a factor {_by_dim(dims, ratio)}. "
            f"Check --behaviour / --target (used: --behaviour {behaviour_name} --target {target}); "
            f"the file's behaviour series: {', '.join(available) or 'none listed'}")
    check = {"decoded_mean": d_mean.tolist(), "decoded_std": d_std.tolist(), "recorded_mean": t_mean.tolist(),
             "recorded_std": t_std.tolist(), "mean_difference": np.abs(d_mean - t_mean).tolist(),
             "std_ratio": ratio.tolist(), "behaviour": behaviour_name, "target": target,
             "behaviour_series": list(available)}
    return {"r2_note": note, "r2_check": check}


def build_report(args, recording, behaviour, readout, description, binding, replay, config, interval, info, log,
                 speed, budget, categorical):
    rate = replay.tick_rate
    times, decoded, truth, scores = score(replay, readout, behaviour, categorical, rate)
    dims = [f"{i}" for i in range(decoded.shape[1] if decoded.ndim == 2 and decoded.shape[1] else readout["dim"])]
    if args.target == "cos_sin":
        dims = ["cos", "sin"]
    elif readout["dim"] == 2:
        dims = ["x", "y"]
    output_times = scoring.readout_series(replay.outputs, readout["name"])[0] / float(rate)
    scores.update(score_notes(scores, decoded, truth, output_times, behaviour, next(iter(recording.behaviour)),
                              args.target or "identity", dims, interval, recording.behaviour_available,
                              readout["name"], categorical))
    lat = scoring.stage_latencies_ms(replay.outputs, replay.arrivals_ns)
    window_ends = sorted({o.window_end for o in replay.outputs})
    neural_seconds = (replay.end_tick - replay.start_tick) / rate
    status = replay.final_status
    counters = {}
    if status is not None:
        counters = {"received": status.received, "accepted": status.accepted, "late": status.late,
                    "dropped": status.dropped, "missed_messages": status.missed_messages,
                    "rejected": int(np.sum(status.rejections)), "unknown_units": status.daemon_count("unknown_units")}
    references = reference_scores(info, args.interval)
    report = {
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "recording": {"path": str(args.session), "format": recording.format, "session_word": binding.session_word,
                      "units": int(len(binding.rig_ids)), "behaviour": next(iter(recording.behaviour)),
                      "target": args.target or "identity",
                      "spikes": int(np.sum((recording.spike_times >= interval[0]) & (recording.spike_times < interval[1])))},
        "model": {"path": str(args.model), "kind": description["kind"],
                  "readouts": [r["name"] for r in description["readouts"]]},
        "played": {"interval": interval[2], "start_s": interval[0], "end_s": interval[1], "seconds": neural_seconds,
                   "wall_seconds": replay.wall_seconds, "speed": "max (lock step)" if speed is None else speed,
                   "tick_rate": rate, "first_tick_s": replay.first_tick / rate, "last_tick_s": replay.last_tick / rate},
        "daemon": {"hop_s": args.hop, "budget_s": budget, "budget_enforced_s": config["budget"],
                   "config": {k: v for k, v in config.items() if k not in ("units",)}, "log_tail": log.strip().splitlines()[-12:]},
        "alignment": "linear interpolation of the recorded behaviour (after the target transform) at each output's timestamp",
        "readouts": {readout["name"]: {"type": readout.get("type", "continuous"), "dims": dims, "target": args.target or "identity",
                                       "unit": behaviour.unit, **scores}},
        "reference_r2": references,
        "ticks": {"expected": replay.expected_ticks, "outputs": len(window_ends),
                  "run": status.ticks_run if status else None, "skipped": status.ticks_skipped if status else None,
                  "failed": status.daemon_count("ticks_failed") if status else None},
        "latency_ms": {name: scoring.percentiles(v) for name, v in lat.items()},
        "latency_stages": {**{k: v[2] for k, v in scoring.STAGES.items()},
                           "end_to_end": "watermark received by the daemon -> output received by replay"},
        "latency_note": ("Stage times are the daemon's CLOCK_MONOTONIC stamps in each output; end to end adds the "
                         "publication to this process on the same host. In lock step (--speed max) the budget is not "
                         "enforced (a tick never waits behind another); the line shows the configured budget."),
        "falcon_normalized_latency": scoring.falcon_normalized_latency(replay.outputs, neural_seconds),
        "counters": counters,
    }
    arrays = {f"{readout['name']}/time_s": times, f"{readout['name']}/decoded": decoded, f"{readout['name']}/truth": truth,
              "latency/window_end_s": np.array(window_ends, dtype=np.float64) / rate,
              **{f"latency/{k}_ms": v for k, v in lat.items()}}
    if speed is None:
        report["ticks"]["skipped_note"] = "lock step: the budget is not enforced"
    return _clean(report), arrays


def reference_scores(info: Optional[dict], split: Optional[str]) -> dict:
    """Scores the recording's description gives for the part played (``scores.<name>.<split>``:
    e.g. a ridge baseline and torch_brain's own decodes of the same windows), by name."""
    scores = (info or {}).get("scores") or {}
    return {name: value[split] for name, value in scores.items()
            if split and isinstance(value, dict) and isinstance(value.get(split), dict) and "r2" in value[split]}


def _clean(value):
    """NaN -> None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class _Progress:
    """A rich progress bar: recording time played, ticks decoded, live R^2."""

    def __init__(self, quiet: bool, start_tick: int, end_tick: int, rate: int, readout: str, behaviour, categorical):
        self.quiet, self.start, self.end, self.rate = quiet or not sys.stderr.isatty(), start_tick, end_tick, rate
        self.readout, self.behaviour, self.categorical = readout, behaviour, categorical
        self._progress = None
        self._last_r2 = ""

    def __enter__(self):
        if not self.quiet:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            self._progress = Progress(TextColumn("replay"), BarColumn(), TextColumn("{task.fields[played]}"),
                                      TextColumn("{task.fields[ticks]} ticks"), TextColumn("{task.fields[r2]}"),
                                      TimeElapsedColumn(), transient=False)
            self._progress.__enter__()
            self._task = self._progress.add_task("replay", total=(self.end - self.start) / self.rate, played="", ticks=0, r2="")
        return self

    def update(self, replay, watermark: int) -> None:
        if self._progress is None:
            return
        done = (watermark - self.start) / self.rate
        r2 = ""
        ticks, values = scoring.readout_series(replay.outputs[-3000:], self.readout)
        if len(ticks) > 10 and not self.categorical:
            truth, inside = align(self.behaviour, ticks / self.rate)
            if inside.sum() > 10:
                r2 = f"R^2 {scoring.r_squared(truth, values[inside]).mean():.3f} (last {inside.sum()})"
        self._progress.update(self._task, completed=done, played=f"{done:.1f}/{(self.end - self.start) / self.rate:.1f} s",
                              ticks=len({o.window_end for o in replay.outputs}), r2=r2)

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="poyo-rt replay", description=(
        "Play a recorded session (NWB, temporaldata / brainsets HDF5, poyo-rt session file) through a poyo serve "
        "daemon over its sockets, as a rig would, and report how well (R^2) and how fast (latency) it decoded. "
        "See docs/replay.md."))
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except SessionError as error:
        print(f"poyo-rt replay: error: {error}", file=sys.stderr)
        return 2

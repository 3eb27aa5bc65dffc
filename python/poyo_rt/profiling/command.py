"""``poyo-rt profile``: the daemon's latency, stage by stage, under a synthetic or recorded load;
a sweep of loads (the cost curve and this machine's capacity); two runs compared.

    poyo-rt profile --model MODEL [--units 200 --rate 20 --hop 0.02 --seconds 60 --threads 1] [--report DIR]
    poyo-rt profile --model MODEL --sweep units=50,100,200,500,1000 rate=5,20,40 [--seconds 5] --report DIR
    poyo-rt profile --model MODEL --session FILE [--unit-prefix P] --report DIR
    poyo-rt profile --compare A.json B.json --report DIR
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

from ..daemon import find_poyo_binary
from ..sessions import SessionError
from . import load, machine, model_facts
from .rig import RigError
from .run import Settings, daemon_config, profile

DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "Tests" / "POYOTests" / "Fixtures" / "poyo_1p3m.model.safetensors"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="model file (default: the poyo_1.3M-shaped test fixture in a source tree)")
    p.add_argument("--units", type=int, default=200, help="units of the synthetic rig (default 200)")
    p.add_argument("--rate", type=float, default=20.0, help="Hz per unit of the synthetic rig (default 20)")
    p.add_argument("--hop", type=float, default=0.02, help="seconds between ticks (default 0.02: a 50 Hz loop)")
    p.add_argument("--budget", type=float, default=None, help="the daemon's latency budget, seconds (default: the hop)")
    p.add_argument("--seconds", type=float, default=None,
                   help="seconds measured (default 60; 5 per sweep point), after one window of warm-up")
    p.add_argument("--threads", type=int, default=1, help="the model's threads (default 1)")
    p.add_argument("--sweep", nargs="+", default=None, metavar="KEY=V1,V2",
                   help="loads run in turn: units=50,100,200 rate=5,20,40 (every combination)")
    p.add_argument("--report", default=None, metavar="DIR", help="write profile.json, profile.html and ticks CSV here")
    p.add_argument("--compare", nargs=2, default=None, metavar=("A.json", "B.json"),
                   help="two profile.json files side by side (no run)")
    p.add_argument("--session", default=None, help="play a recorded session (NWB, temporaldata, poyo-rt) instead")
    p.add_argument("--start", type=float, default=0.0, help="with --session: seconds into the recording to start")
    p.add_argument("--unit-prefix", default=None, help="with --session: rig unit N is the model's word PREFIX+N")
    p.add_argument("--unit-map", default=None, metavar="MAPFILE", help="with --session: YAML/JSON {rig id: word}")
    p.add_argument("--session-word", default=None, help="with --session: the model's session word")
    p.add_argument("--endpoints", nargs=2, default=None, metavar=("SPIKES", "OUTPUTS"),
                   help="profile a running daemon (configured for this load) instead of starting one")
    p.add_argument("--pid", type=int, default=None, help="with --endpoints: the daemon's pid (CPU, memory, threads)")
    p.add_argument("--ingest-cpu", type=int, default=None, help="pin the daemon's ingest thread to this CPU")
    p.add_argument("--model-cpu", type=cpu_list, default=None, metavar="CPU[,CPU...]",
                   help="pin the daemon's scheduler thread to this CPU (a list: to the first, its model workers to the others)")
    p.add_argument("--realtime-priority", type=int, default=None, metavar="N",
                   help="run the daemon's ingest, scheduler and model worker threads SCHED_FIFO at N (1-99; needs root, "
                        "CAP_SYS_NICE or LimitRTPRIO)")
    p.add_argument("--busy-poll", action="store_true",
                   help="the daemon's busy_poll: its scheduler and model worker threads spin between ticks (each keeps a CPU busy)")
    p.add_argument("--no-encode-ahead", dest="encode_ahead", action="store_false",
                   help="the daemon's encode_ahead off: every tick attends the encoder to its whole window (default: on, "
                        "the next window's spikes so far are attended between ticks)")
    p.add_argument("--burst-at", type=float, default=None, metavar="S",
                   help="add an oversized burst at S seconds of the stream (a forced slow tick)")
    p.add_argument("--burst-spikes", type=int, default=60_000, help="spikes of that burst, within 1 ms (default 60000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--poyo-bin", default=None, help="the poyo binary (default $POYO_BIN, then .build/release/poyo)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def cpu_list(text: str):
    """``2`` as 2, ``2,3`` as [2, 3] (the daemon's ``model_cpu``)."""
    try:
        cpus = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a CPU number or a comma list of them (e.g. 2 or 2,3)") from None
    return cpus[0] if len(cpus) == 1 else cpus


def sweep_points(specs: Optional[list], units: int, rate: float) -> list:
    """[(units, rate)] of ``--sweep units=A,B rate=C,D`` (every combination, in order of load)."""
    if not specs:
        return [(units, rate)]
    values = {"units": [units], "rate": [rate]}
    for spec in specs:
        key, _, text = spec.partition("=")
        if key not in values or not text:
            raise SessionError(f"--sweep {spec}: expected units=N,N,... or rate=HZ,HZ,...")
        try:
            values[key] = [int(v) if key == "units" else float(v) for v in text.split(",")]
        except ValueError:
            raise SessionError(f"--sweep {spec}: not a list of numbers") from None
    points = list(itertools.product(values["units"], values["rate"]))
    return sorted(points, key=lambda p: p[0] * p[1])


def run(args: argparse.Namespace) -> int:
    from ..report import profile_report
    if args.compare:
        runs = [json.loads(Path(p).read_text()) for p in args.compare]
        for path, data in zip(args.compare, runs):
            data.setdefault("label", Path(path).parent.name or Path(path).stem)
        paths = profile_report.write_comparison(runs, args.report) if args.report else {}
        profile_report.print_comparison(runs, paths)
        return 0
    model = Path(args.model) if args.model else DEFAULT_MODEL
    if not model.is_file():
        raise SessionError(f"{model}: no such model file (give --model)")
    if args.endpoints is None and args.pid is not None:
        raise SessionError("--pid is the pid of a running daemon: give its --endpoints too (without them profile starts its own)")
    if args.endpoints is not None:
        given = [flag for flag, value in (("--realtime-priority", args.realtime_priority), ("--busy-poll", args.busy_poll or None),
                                          ("--no-encode-ahead", None if args.encode_ahead else True),
                                          ("--model-cpu", args.model_cpu), ("--ingest-cpu", args.ingest_cpu)) if value is not None]
        if given:
            raise SessionError(f"{', '.join(given)} configure{'s' if len(given) == 1 else ''} the daemon profile starts; with --endpoints the "
                               "running daemon has its own configuration (its threads' scheduling shows with --pid)")
    binary = find_poyo_binary(args.poyo_bin) if args.endpoints is None else (args.poyo_bin or None)
    points = sweep_points(args.sweep, args.units, args.rate)
    if args.session and len(points) > 1:
        raise SessionError("--sweep plays synthetic loads; it cannot be combined with --session")
    seconds = args.seconds if args.seconds is not None else (5.0 if len(points) > 1 else 60.0)
    settings = Settings(hop=args.hop, budget=args.budget, threads=args.threads, ingest_cpu=args.ingest_cpu,
                        model_cpu=args.model_cpu, realtime_priority=args.realtime_priority, busy_poll=args.busy_poll,
                        # A running daemon (--endpoints) has its own setting: not known here.
                        encode_ahead=args.encode_ahead if args.endpoints is None else None)
    from .. import model_file
    description, _ = model_file.read_model_file(model)
    settings.sequence_length = float(description["hyperparameters"]["sequence_length"])
    out = Path(args.report) if args.report else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="poyo-rt-profile-") as work, _Progress(args.quiet) as progress:
        for index, (units, rate) in enumerate(points):
            if args.session:
                _defaults_from_description(args)
                stream, binding = load.recorded(args.session, str(model), seconds=settings.sequence_length + seconds,
                                                start_s=args.start, unit_prefix=args.unit_prefix, unit_map=args.unit_map,
                                                session_word=args.session_word)
                served = model
            else:
                stream = load.poisson(units, rate, settings.sequence_length + seconds, seed=args.seed + index,
                                      burst_at_s=args.burst_at, burst_spikes=args.burst_spikes if args.burst_at is not None else 0)
                if args.endpoints is None:
                    served, session_word, prefix = load.model_for_units(str(model), units, Path(work) / f"model-{units}.safetensors")
                    binding = {"session": session_word, "unit_prefix": prefix}
                else:
                    binding = {}
            config = daemon_config(str(served), binding, settings) if args.endpoints is None else None
            label = f"{stream.units_bound} units" + ("" if args.session else f" at {rate:g} Hz")
            task = progress.start(label, (stream.end_tick - stream.start_tick) / stream.tick_rate)
            result, table = profile(stream, settings, config=config, endpoints=tuple(args.endpoints) if args.endpoints else None,
                                    pid=args.pid, binary=binary, workdir=str(Path(work) / f"point-{index}"),
                                    on_progress=lambda s: progress.advance(task, s))
            progress.done(task)
            result["label"] = label
            result["load"]["rate_hz"] = None if args.session else rate
            if out is not None:
                from .ticks import write_csv
                name = "ticks.csv" if len(points) == 1 else f"ticks-{units}u-{rate:g}hz.csv"
                write_csv(table, out / name)
                result["csv"] = name
            results.append(result)
    spikes = int(np.mean([r["tokens_per_window"]["mean"] or 0 for r in results]) - 2 * results[0]["load"]["units"])
    facts = model_facts.inspect(binary or "poyo", str(model), results[0]["load"]["units"], spikes) if binary else {"path": str(model)}
    facts.update({"kind": facts.get("kind") or description["kind"], "file_kind": description["kind"]})
    threads = next((r["daemon"]["threads"] for r in results if r["daemon"]["threads"]), [])
    report = {
        "format": "poyo-rt profile 1",
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": "poyo-rt profile " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["profile"] else sys.argv[1:]),
        "label": args.report and Path(args.report).name or "profile",
        "machine": {**machine.describe(), "daemon_threads": threads,
                    "pinned": any(t["pinned"] for t in threads),
                    "scheduling": sorted({t["policy"] for t in threads})},
        "model": facts,
        "configuration": {"hop_s": settings.hop, "budget_s": settings.budget_s, "threads": settings.threads,
                          "seconds_per_point": seconds, "sequence_length_s": settings.sequence_length,
                          "ingest_cpu": settings.ingest_cpu, "model_cpu": settings.model_cpu,
                          "realtime_priority": settings.realtime_priority, "busy_poll": settings.busy_poll,
                          "encode_ahead": settings.encode_ahead,
                          "session": args.session, "binary": str(binary) if binary else None,
                          "endpoints": args.endpoints},
        "runs": results,
        "sweep": profile_report.sweep_curve(results, settings.hop) if len(results) > 1 else None,
    }
    paths = profile_report.write(report, out) if out is not None else {}
    profile_report.print_summary(report, paths)
    return 0


def _defaults_from_description(args: argparse.Namespace) -> None:
    """``--session-word`` / ``--unit-prefix`` left out: those of the recording's description
    (``recording.json`` beside it), as ``poyo-rt replay`` takes them."""
    path = Path(args.session).with_name("recording.json")
    if not path.is_file():
        return
    try:
        info = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return
    info = info.get("replay", info) if isinstance(info, dict) else {}
    if args.session_word is None and isinstance(info.get("session_word"), str):
        args.session_word = info["session_word"]
    if args.unit_prefix is None and args.unit_map is None and isinstance(info.get("unit_prefix"), str):
        args.unit_prefix = info["unit_prefix"]


class _Progress:
    """A rich progress bar per run (seconds of the stream played)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet or not sys.stderr.isatty()
        self._progress = None

    def __enter__(self):
        if not self.quiet:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
            self._progress = Progress(TextColumn("profile {task.description}"), BarColumn(),
                                      TextColumn("{task.completed:.1f}/{task.total:.1f} s"), TimeRemainingColumn())
            self._progress.__enter__()
        return self

    def start(self, label: str, total: float):
        return self._progress.add_task(label, total=total) if self._progress else None

    def advance(self, task, seconds: float) -> None:
        if self._progress is not None:
            self._progress.update(task, completed=seconds)

    def done(self, task) -> None:
        if self._progress is not None:
            self._progress.update(task, completed=self._progress.tasks[task].total)

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="poyo-rt profile", description=(
        "Profile the daemon's latency: drive poyo serve with a synthetic Poisson rig (or a recorded session) in "
        "real time over its sockets and record every tick's stages, skipped ticks, CPU and memory; --sweep for "
        "the cost curve and this machine's capacity, --compare for two runs side by side. See docs/profile.md."))
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except (SessionError, ValueError, OSError, RigError) as error:
        # A file missing, not JSON, not a model (ModelFileError), a rig that cannot start: one line each.
        print(f"poyo-rt profile: error: {error}", file=sys.stderr)
        return 2

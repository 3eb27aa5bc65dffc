"""The ``poyo-rt`` command: one entry point, a subcommand per job.

    poyo-rt replay SESSION --model MODEL [...]               # a recorded session through the daemon, scored
    poyo-rt profile --model MODEL [--sweep ...] [--report DIR]  # latency per stage, cost curve, capacity
    poyo-rt export CHECKPOINT OUTPUT.safetensors [options]   # torch_brain checkpoint -> model file
    poyo-rt calibrate --model BASE --recording REC --output NEW.safetensors   # a new session (needs torch)
"""

from __future__ import annotations

import importlib
import sys
from typing import Optional, Sequence

COMMANDS = {
    "replay": ("poyo_rt.replay_command", "play a recorded session (NWB, temporaldata, poyo-rt) through the daemon and score it"),
    "profile": ("poyo_rt.profiling.command", "measure the daemon's latency per stage under a load, sweep loads, compare runs"),
    "export": ("poyo_rt.export", "convert a torch_brain checkpoint into a poyo-rt model file"),
    "calibrate": ("poyo_rt.calibrate.command", "fit a new session's units and session into a model (needs torch)"),
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--version"]:
        from importlib.metadata import version
        print(f"poyo-rt {version('poyo-rt')} (Python package)")
        return 0
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        usage = "usage: poyo-rt {" + ",".join(COMMANDS) + "} ...\n\n" + "\n".join(
            f"  {name:9s} {text}" for name, (_, text) in COMMANDS.items()) + "\n\n`poyo-rt COMMAND --help` for its options."
        if argv and argv[0] not in ("-h", "--help"):
            print(f"poyo-rt: error: unknown command '{argv[0]}'\n{usage}", file=sys.stderr)
            return 2
        print(usage)
        return 0
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())

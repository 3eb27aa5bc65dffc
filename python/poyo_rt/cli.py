"""The ``poyo-rt`` command: one entry point, a subcommand per job.

    poyo-rt export CHECKPOINT OUTPUT.safetensors [options]   # torch_brain checkpoint -> model file
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"export": "poyo_rt.export"}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print("usage: poyo-rt {" + ",".join(commands) + "} ...\n\n" + __doc__.split("\n\n")[1], file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib
    return importlib.import_module(commands[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())

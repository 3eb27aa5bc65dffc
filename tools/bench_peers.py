#!/usr/bin/env python3
"""poyo-rt against every alternative a user could pick: torch_brain eager, torch.compile, ONNX Runtime.

Set up once (the peers need torch, torch_brain 0.1.2 and ONNX Runtime; poyo-rt needs a release build):

    python3 -m venv /tmp/tb && /tmp/tb/bin/pip install torch torch-brain==0.1.2 onnxruntime onnx onnxscript -e ./python
    swift build -c release

Run (on a quiet machine; the defaults are the real benchmark, 20 short rounds of 20 windows:
about 5 minutes on two cores, plus compile and export):

    /tmp/tb/bin/python tools/bench_peers.py --model Tests/POYOTests/Fixtures/poyo_1p3m.model.safetensors \\
        [--threads 1,2] [--rounds 20] [--iterations 20] [--windows 50] [--json peers.json] [--avx2-only]
    # smoke test: --rounds 1 --iterations 10 --threads 1

W windows (Poisson spikes, U units at HZ, seeded) are built with tools/bench_torch_brain.py's window
builder, the one that mirrors `poyo bench`. Every torch/ONNX peer is timed on that same list (forward
call only, batch of 1, inputs already tensors/arrays). poyo-rt is timed by `poyo bench --json`, which
builds its own windows of the same distribution (same recipe and seed, Swift's generator: not the
same spikes), and `poyo forward` runs the first --check windows themselves for the agreement check.

Per thread count T (outer loop), the peers run round-robin R times (poyo-rt, eager, compile, onnx,
poyo-rt, ...) to spread machine noise; each turn is a few untimed warm-up calls then --iterations timed
ones. Reported per peer and T: the median over rounds of each round's p50 / p90 / p99 (the rule of
`poyo bench`), peer p50 / poyo-rt p50, and "paired": the median over rounds of the peer's p50 over
poyo-rt's in the same round (`paired_ratios`; robust to this VM's slow episodes of 1-3 s, which can
cover a whole poyo-rt turn: hence the many short rounds of the defaults). torch uses
torch.set_num_threads(T); ONNX Runtime a session
with intra_op_num_threads=T, inter_op_num_threads=1, sequential, all graph optimizations; poyo-rt
--threads T. torch.compile (default mode) bakes the thread count into its kernels, so it is compiled
anew for every T (torch._dynamo.reset()); its compile time is reported (inductor's on-disk cache in
/tmp may shorten later runs). The ONNX model is exported once with torch.onnx.export(dynamo=True),
with a dynamic token axis.

Agreement: on the first --check windows every peer's outputs are compared with torch_brain eager run
in float64 (the model's exact value) at every T: max|out - ref| / max(1, max|ref|) must be <= --tol
(1e-4), else the script exits 1 after the report. The same error against float32 eager is printed
for information: float32 eager itself is up to ~2e-4 off float64 on some windows of poyo_1.3M
(outputs up to ~30), so it is no reference at 1e-4; poyo-rt reads 8.2e-5 from float64 on the --check
windows of poyo_1.3M (session 6).
A peer that cannot be built here is reported unavailable with its reason and skipped.

--avx2-only emulates the AVX2 machine class on an AVX-512 machine for torch: before torch is
imported it sets ATEN_CPU_CAPABILITY=avx2 (ATen's vectorized kernels), inductor's cpp.simdlen to
256 (the code torch.compile generates), MKL_ENABLE_INSTRUCTIONS=AVX2 (MKL's sgemm, torch's matrix products) and
ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN). ONNX Runtime has no such switch: on an AVX-512 machine its
numbers stay faster than they would be on the AVX2 machine class (conservative for poyo-rt's ratio).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_torch_brain as btb  # noqa: E402
from poyo_rt import model_file as mf  # noqa: E402

PEERS = ("poyo-rt", "torch eager", "torch.compile", "onnxruntime")
TOKENIZED = ("input_unit_index", "input_timestamps", "input_token_type", "input_mask", "latent_index",
             "latent_timestamps", "output_session_index", "output_timestamps", "output_decoder_index")


def cpu_info() -> dict:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name")), "?")
    except OSError:
        model = platform.processor() or "?"
    flags = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").exists() else []
    return {"model": model, "avx512f": "avx512f" in flags, "avx2": "avx2" in flags, "cores": os.cpu_count()}


def named_outputs(result) -> dict:
    """torch_brain's result -> {name: numpy array}, named as `poyo forward` names its outputs."""
    if isinstance(result, dict):  # POYOPlus: task name -> tensor
        return {f"output.{k}": v.detach().numpy() for k, v in result.items()}
    return {"output": result.detach().numpy()}


def scaled_error(got: dict, ref: dict) -> float:
    """max over outputs of max|got - ref| / max(1, max|ref|); inf when names or sizes differ or an
    output is not finite (a NaN would otherwise vanish in max() and read as agreement)."""
    worst = 0.0
    for name, r in ref.items():
        g = got.get(name)
        if g is None or g.size != r.size or not np.all(np.isfinite(g)):
            return float("inf")
        worst = max(worst, float(np.abs(g.reshape(r.shape) - r).max()) / max(1.0, float(np.abs(r).max())))
    return worst


def export_onnx(model, window: dict, path: Path) -> None:
    """Export a thin wrapper whose forward takes the tokenized tensors (token axis dynamic).

    Pitfalls handled here: the unit/session InfiniteVocabEmbedding put their vocabularies (dicts) into
    the state_dict, which the exporter cannot carry, so they are swapped for plain nn.Embedding with
    the same weights; the rotary embedding's omega is cast to float64 (the timestamps are float64),
    which eager does implicitly and the exporter needs explicitly.
    """
    import torch
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" etc.
    warnings.filterwarnings("ignore", message=".*axis name.*")  # one dynamic axis shared by the input_* tensors
    m = copy.deepcopy(model)
    for name in ("unit_emb", "session_emb"):
        weight = getattr(m, name).weight.detach().clone()
        emb = torch.nn.Embedding.from_pretrained(weight, freeze=True, padding_idx=0)
        emb.is_lazy = lambda: False  # POYO.forward asks its embeddings whether a vocabulary is loaded
        setattr(m, name, emb)
    m.rotary_emb.omega = m.rotary_emb.omega.double()
    names = [k for k in TOKENIZED if k in window]

    class Tokenized(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_unit_index, input_timestamps, input_token_type, latent_index, latent_timestamps,
                    output_session_index, output_timestamps, input_mask=None, output_decoder_index=None):
            given = dict(input_unit_index=input_unit_index, input_timestamps=input_timestamps,
                         input_token_type=input_token_type, input_mask=input_mask, latent_index=latent_index,
                         latent_timestamps=latent_timestamps, output_session_index=output_session_index,
                         output_timestamps=output_timestamps, output_decoder_index=output_decoder_index)
            result = self.inner(**{k: v for k, v in given.items() if v is not None})
            return tuple(result[k] for k in sorted(result)) if isinstance(result, dict) else result

    kwargs = {k: torch.from_numpy(window[k])[None] for k in names}
    n_in = torch.export.Dim("n_in")
    dynamic = {k: ({1: n_in} if k.startswith("input_") else None) for k in names}
    program = torch.onnx.export(Tokenized(m).eval(), (), kwargs=kwargs, dynamo=True, dynamic_shapes=dynamic,
                                input_names=names, verbose=False)
    program.save(str(path))


def compile_model(model, call, num_windows):
    """torch.compile(model) for the current thread count, warmed up until two calls in a row compile nothing.

    Inductor bakes torch.get_num_threads() into its kernels and dynamo does not guard on it, so every
    thread count starts from torch._dynamo.reset(). The first call compiles for its shapes, the second
    (another token count) recompiles with a dynamic token axis. Returns (compiled model, warm-up calls).
    """
    import torch
    torch._dynamo.reset()
    compiled = torch.compile(model)
    counters = torch._dynamo.utils.counters["stats"]
    quiet, n = 0, 0
    while quiet < 2 and n < 10:
        graphs = counters["unique_graphs"]
        call(compiled, n % num_windows)
        quiet, n = (quiet + 1 if counters["unique_graphs"] == graphs else 0), n + 1
    return compiled, n


def ort_runner(ort, onnx_path, threads, names, arrays):
    """-> run(i): ONNX Runtime on window i ({name: array}); T intra-op threads, sequential, all optimizations."""
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    feeds = [i.name for i in session.get_inputs()]
    outs = [o.name for o in session.get_outputs()]
    return lambda i: dict(zip(names, session.run(outs, {k: arrays[i][k] for k in feeds})))


def percentiles(times_ms: list) -> dict:
    s = sorted(times_ms)
    return {f"p{p}_ms": btb.percentile(s, p) for p in (50, 90, 99)}


def at_least(minimum: int):
    """argparse type: an integer of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is not at least {minimum}")
        return value
    return parse


positive, non_negative = at_least(1), at_least(0)


def paired_ratios(rounds: dict) -> dict:
    """Each peer's p50 over poyo-rt's p50 in the same round, and the median of those ratios.

    ``rounds`` maps a peer to its per-round percentiles (``p50_ms``), in round order, poyo-rt's
    included. A round's turns follow each other within seconds, so a slow episode of this kind of
    machine (1-3 s in which every window runs ~35 % slower) that covers one peer's turn makes that
    round an outlier, which the median over rounds leaves out; a ratio of per-peer medians instead
    compares turns from different rounds, and a peer with short turns (poyo-rt: ~0.8 s for 100
    windows, against 2.5-5 s for torch) has more of them wholly inside an episode.

    Returns peer -> {"ratios": [...], "median": float}; poyo-rt and peers without rounds are left out.
    """
    base = rounds.get("poyo-rt") or []
    out = {}
    for name, per_round in rounds.items():
        if name == "poyo-rt" or not base:
            continue
        ratios = [peer["p50_ms"] / own["p50_ms"] for peer, own in zip(per_round, base) if own["p50_ms"] > 0]
        if ratios:
            out[name] = {"ratios": ratios, "median": statistics.median(ratios)}
    return out


def parse_arguments(argv=None):
    """The command line, checked before any work: (arguments, thread counts, peers to skip).
    A bad value exits with status 2 and a message naming the option (argparse)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="poyo-rt model file")
    p.add_argument("--poyo-bin", default=os.environ.get("POYO_BIN", ".build/release/poyo"))
    p.add_argument("--units", type=int, default=200)
    p.add_argument("--rate", type=float, default=20.0, help="firing rate of every unit, Hz")
    p.add_argument("--queries", type=int, default=1)
    p.add_argument("--windows", type=positive, default=50, help="distinct windows every peer is timed on")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--rounds", type=positive, default=20, help="round-robin passes over the peers")
    p.add_argument("--iterations", type=positive, default=20, help="timed calls per peer per round")
    p.add_argument("--warmup", type=non_negative, default=5, help="untimed calls before each timed turn")
    p.add_argument("--check", type=positive, default=10, help="windows compared for agreement")
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", metavar="PATH", help="write everything as JSON here")
    p.add_argument("--skip", default="", help="comma-separated peers to leave out: poyo-rt, torch.compile, onnxruntime")
    p.add_argument("--avx2-only", action="store_true",
                   help="torch on AVX2 kernels only: ATen, MKL, oneDNN, and torch.compile's generated code (inductor cpp.simdlen 256); ONNX Runtime unaffected")
    args = p.parse_args(argv)
    try:
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        p.error(f"--threads {args.threads!r}: comma-separated positive integers, e.g. 1,2")
    if not threads or min(threads) < 1:
        p.error(f"--threads {args.threads!r}: comma-separated positive integers, e.g. 1,2")
    skip = [name.strip() for name in args.skip.split(",") if name.strip()]
    unknown = [name for name in skip if name not in PEERS or name == "torch eager"]
    if unknown:
        p.error(f"--skip {', '.join(unknown)}: --skip takes poyo-rt, torch.compile, onnxruntime (torch eager is the reference)")
    if args.check > args.windows:
        p.error(f"--check {args.check} is more than --windows {args.windows}")
    return args, threads, skip


def main(argv=None) -> int:
    args, threads, skip = parse_arguments(argv)
    if args.avx2_only:
        # Read when torch (and its MKL and oneDNN) are first loaded, just below.
        os.environ["ATEN_CPU_CAPABILITY"] = "avx2"
        os.environ["MKL_ENABLE_INSTRUCTIONS"] = "AVX2"
        os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    import torch

    if args.avx2_only:
        # The C++ that torch.compile generates picks its vector width from the CPU, not from
        # ATEN_CPU_CAPABILITY: pin it to AVX2's 256 bits too. (torch 2.15 mixing its AVX-512
        # generated code with AVX2 ATen returned NaN for every window after the recompile for a
        # dynamic token axis; the agreement check now reports such a peer as failed.)
        import torch._inductor.config as inductor_config
        inductor_config.cpp.simdlen = 256
    try:
        import onnxruntime as ort
    except ImportError as e:
        ort = None
        ort_missing = str(e)
    torch.set_num_threads(threads[0])
    model, description = btb.build_torch_brain_model(args.model)
    try:
        make_window = btb.window_builder(description, args.units, args.rate, args.queries)
    except ValueError as e:  # a window the model cannot take (e.g. --units beyond its vocabulary)
        print(f"bench_peers.py: error: {e}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    windows = [make_window(rng) for _ in range(args.windows)]
    batches = [{k: torch.from_numpy(v)[None] for k, v in w.items()} for w in windows]
    arrays = [{k: v[None] for k, v in w.items()} for w in windows]
    check = list(range(min(args.check, len(windows))))
    with torch.no_grad():
        reference = [named_outputs(model(**batches[i])) for i in check]
        model64 = copy.deepcopy(model).double()  # information only: who is closer to exact arithmetic
        exact = [named_outputs(model64(**batches[i])) for i in check]
        del model64

    info = {"cpu": cpu_info(), "torch": torch.__version__, "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "onnxruntime": ort.__version__ if ort else None, "python": platform.python_version(),
            "tokens_per_window": float(np.mean([len(w["input_unit_index"]) for w in windows]))}
    print(f"CPU {info['cpu']['model']} ({info['cpu']['cores']} cores, avx512f {'yes' if info['cpu']['avx512f'] else 'no'}); "
          f"torch {info['torch']} (ATen {info['aten_cpu_capability']}), onnxruntime {info['onnxruntime']}")
    print(f"{args.windows} windows of {args.units} units at {args.rate:g} Hz, {info['tokens_per_window']:.0f} tokens on "
          f"average; threads {threads}, {args.rounds} round(s) x {args.iterations} iterations")

    status = {name: {"available": True} if name not in skip else {"available": False, "reason": "skipped (--skip)"}
              for name in PEERS}
    vs_float32 = {name: {} for name in PEERS}  # vs eager float32: shown, not checked
    vs_float64 = {name: {} for name in PEERS}  # vs eager float64: the check (--tol)
    work = Path(tempfile.mkdtemp(prefix="bench_peers_"))

    def unavailable(name, error):
        while error.__cause__ is not None:  # the root cause, not the exporter's "step 1/3 failed" wrapper
            error = error.__cause__
        reason = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines() or [""]
        status[name] = {"available": False, "reason": f"{type(error).__name__}: {reason[0][:200]}"}
        print(f"{name}: unavailable ({status[name]['reason']})")

    # poyo-rt: the binary must run the check windows
    poyo = str(Path(args.poyo_bin))

    def poyo_outputs(t):
        outs = []
        for i in check:
            src, dst = work / f"window{i}.safetensors", work / f"poyo{i}.safetensors"
            mf.write_safetensors(src, windows[i])
            subprocess.run([poyo, "forward", "--model", args.model, "--inputs", str(src), "--output", str(dst),
                            "--threads", str(t)], check=True, capture_output=True, text=True)
            outs.append(mf.read_safetensors(dst)[0])
        return outs

    try:
        if status["poyo-rt"]["available"]:
            poyo_outputs(threads[0])
    except (OSError, subprocess.CalledProcessError) as e:
        unavailable("poyo-rt", RuntimeError(getattr(e, "stderr", None) or e))
    # ONNX: export once
    onnx_path = work / "poyo.onnx"
    if ort is None and status["onnxruntime"]["available"]:
        unavailable("onnxruntime", ImportError(ort_missing))
    elif status["onnxruntime"]["available"]:
        start = time.perf_counter()
        try:
            export_onnx(model, windows[0], onnx_path)
            status["onnxruntime"]["export_s"] = time.perf_counter() - start
            print(f"onnxruntime: exported in {status['onnxruntime']['export_s']:.1f} s")
        except Exception as e:  # noqa: BLE001 - any export failure makes the peer unavailable
            unavailable("onnxruntime", e)

    def torch_call(fn):
        def call(i):
            with torch.no_grad():
                return fn(**batches[i])
        return call

    results = {}
    for t in threads:
        torch.set_num_threads(t)
        calls = {"torch eager": torch_call(model)}  # window index -> raw outputs
        if status["torch.compile"]["available"]:
            try:
                start = time.perf_counter()
                compiled, n = compile_model(model, lambda m, i: torch_call(m)(i), len(windows))
                calls["torch.compile"] = torch_call(compiled)
                status["torch.compile"].setdefault("compile_s", {})[t] = time.perf_counter() - start
                print(f"torch.compile: compiled for {t} thread(s) in {time.perf_counter() - start:.1f} s ({n} calls)")
            except Exception as e:  # noqa: BLE001 - any compile failure makes the peer unavailable
                unavailable("torch.compile", e)
        if status["onnxruntime"]["available"]:
            try:
                names = sorted(reference[0])  # "output", or "output.<task>" of a POYOPlus in the export's order
                calls["onnxruntime"] = ort_runner(ort, onnx_path, t, names, arrays)
            except Exception as e:  # noqa: BLE001
                unavailable("onnxruntime", e)

        # agreement with eager (single-thread reference) on the check windows
        got = {name: [named_outputs(call(i)) if name != "onnxruntime" else call(i) for i in check]
               for name, call in calls.items()}
        if status["poyo-rt"]["available"]:
            got["poyo-rt"] = poyo_outputs(t)
        for name, outs in got.items():
            vs_float32[name][t] = max(scaled_error(g, r) for g, r in zip(outs, reference))
            vs_float64[name][t] = max(scaled_error(g, r) for g, r in zip(outs, exact))

        rounds = {name: [] for name in PEERS if name in calls or (name == "poyo-rt" and status[name]["available"])}
        for r in range(args.rounds):
            for name in rounds:
                if name == "poyo-rt":
                    out = subprocess.run([poyo, "bench", "--model", args.model, "--units", str(args.units),
                                          "--rate", str(args.rate), "--queries", str(args.queries),
                                          "--threads", str(t), "--iterations", str(args.iterations),
                                          "--warmup", str(args.warmup), "--seed", str(args.seed), "--json"],
                                         check=True, capture_output=True, text=True).stdout
                    stats = json.loads(out)
                    rounds[name].append({k: stats[k] for k in ("p50_ms", "p90_ms", "p99_ms")})
                    continue
                call, times = calls[name], []
                for i in range(args.warmup):
                    call(i % len(windows))
                for i in range(args.iterations):
                    start = time.perf_counter_ns()
                    call(i % len(windows))
                    times.append((time.perf_counter_ns() - start) / 1e6)
                rounds[name].append(percentiles(times))
        summary = {name: {k: statistics.median(x[k] for x in rs) for k in ("p50_ms", "p90_ms", "p99_ms")} | {"rounds": rs}
                   for name, rs in rounds.items()}
        base = summary.get("poyo-rt", {}).get("p50_ms")
        for s in summary.values():
            s["ratio_to_poyo_rt"] = s["p50_ms"] / base if base else None
        for name, paired in paired_ratios(rounds).items():
            summary[name]["paired_ratios"] = paired["ratios"]
            summary[name]["paired_ratio_median"] = paired["median"]
        results[t] = summary

    # report
    print(f"\n{'peer':<15} {'threads':>7} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'/poyo-rt':>9} {'paired':>9} {'vs f64':>9} {'vs f32':>9}")
    for t in threads:
        for name in PEERS:
            if name not in results[t]:
                continue
            s, err64, err32 = results[t][name], vs_float64[name].get(t, float("nan")), vs_float32[name].get(t, float("nan"))
            ratio = f"{s['ratio_to_poyo_rt']:.2f}x" if s["ratio_to_poyo_rt"] else "-"
            paired = f"{s['paired_ratio_median']:.2f}x" if "paired_ratio_median" in s else "-"
            print(f"{name:<15} {t:>7} {s['p50_ms']:>9.2f} {s['p90_ms']:>9.2f} {s['p99_ms']:>9.2f} {ratio:>9} {paired:>9} "
                  f"{err64:>9.1e} {err32:>9.1e}")
    for name in PEERS:
        if not status[name]["available"]:
            print(f"{name}: unavailable - {status[name]['reason']}")
    print(f"(median over {args.rounds} round(s) of each round's percentiles; /poyo-rt: the ratio of those medians; "
          "paired: the median over rounds of the peer's p50 / poyo-rt's p50 in the same round; vs f64 = max|out - eager float64| / "
          f"max(1, max|eager|) on {len(check)} window(s), checked against --tol;\n vs f32: the same against float32 eager, "
          "for information)")
    failed = [f"{n} ({t} threads): {e:.2e}" for n, errs in vs_float64.items() for t, e in errs.items() if not e <= args.tol]
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "settings": vars(args), "peers": status,
                                               "agreement_vs_float32": vs_float32,
                                               "agreement_vs_float64": vs_float64, "results": results, "failed": failed},
                                              indent=1, default=str))
    if failed:
        print(f"AGREEMENT FAILED (tolerance {args.tol:g}): " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

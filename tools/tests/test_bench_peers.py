"""bench_peers' paired ratio: each peer against poyo-rt in the same round, the median over rounds."""

import sys

import pytest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_peers  # noqa: E402


def turns(*p50s):
    return [{"p50_ms": p, "p90_ms": p, "p99_ms": p} for p in p50s]


def test_an_episode_over_one_turn_is_an_outlier_round():
    # poyo-rt's turn in rounds 0 and 1 fell in a slow episode (x1.35); the peer's did not.
    rounds = {"poyo-rt": turns(10.8, 10.8, 8.0, 8.0, 8.0), "torch.compile": turns(24.0, 24.0, 24.0, 24.0, 24.0),
              "onnxruntime": turns(28.0, 28.0, 28.0, 37.8, 28.0)}
    paired = bench_peers.paired_ratios(rounds)
    assert set(paired) == {"torch.compile", "onnxruntime"}
    assert paired["torch.compile"]["ratios"] == [24.0 / 10.8, 24.0 / 10.8, 3.0, 3.0, 3.0]
    assert paired["torch.compile"]["median"] == 3.0
    # An episode over the peer's own turn in round 3: that round's ratio is high, the median is not.
    assert paired["onnxruntime"]["median"] == 3.5


def test_rounds_pair_by_position_and_skip_missing_peers():
    paired = bench_peers.paired_ratios({"poyo-rt": turns(4.0, 5.0), "torch eager": turns(20.0, 20.0)})
    assert paired["torch eager"]["ratios"] == [5.0, 4.0]
    assert paired["torch eager"]["median"] == 4.5
    assert bench_peers.paired_ratios({"torch eager": turns(20.0)}) == {}


@pytest.mark.parametrize("arguments, message", [
    (["--threads", "1,x"], "--threads '1,x'"),
    (["--threads", "0"], "--threads '0'"),
    (["--rounds", "0"], "--rounds: 0 is not at least 1"),
    (["--iterations", "0"], "--iterations: 0 is not at least 1"),
    (["--windows", "0"], "--windows: 0 is not at least 1"),
    (["--warmup", "-1"], "--warmup: -1 is not at least 0"),
    (["--windows", "5", "--check", "6"], "--check 6 is more than --windows 5"),
    (["--skip", "bogus"], "--skip bogus:"),
])
def test_bad_arguments_exit_2_naming_the_option_before_any_work(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_peers.parse_arguments(["--model", "unused.safetensors", *arguments])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_skip_names_may_have_spaces_after_commas():
    args, threads, skip = bench_peers.parse_arguments(
        ["--model", "m.safetensors", "--skip", "poyo-rt, onnxruntime", "--threads", "2,1"])
    assert skip == ["poyo-rt", "onnxruntime"]
    assert threads == [2, 1]
    assert (args.rounds, args.iterations) == (20, 20)

"""The model file is checked as a whole, as the safetensors format defines it: every file the
reference library (the `safetensors` package) refuses, poyo-rt refuses too, naming the rule, in
every path that loads a safetensors file (`inspect`, `forward --model`, `forward --inputs`,
`serve`; SIGHUP reload is in test_serve.py).

Each case is a header (and data section) built by hand; the reference library's verdict is asked
(`safe_open`), not assumed, so the test follows the library if its rules change.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import pytest
import safetensors

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "Tests" / "POYOTests" / "Fixtures" / "poyo_1p3m.model.safetensors"


def poyo() -> str:
    path = Path(os.environ.get("POYO_BIN", ROOT / ".build" / "debug" / "poyo"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build with `swift build` or set POYO_BIN")
    return str(path)


def entry(dtype="F32", shape=(1,), offsets=(0, 4)) -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def header(entries) -> bytes:
    return json.dumps(entries).encode()


# name -> (file bytes, what poyo's message must say). Files are `u64 length, header, data`
# unless the case writes raw bytes.
def framed(header_bytes: bytes, data: bytes = b"", length=None) -> bytes:
    return struct.pack("<Q", len(header_bytes) if length is None else length) + header_bytes + data


CASES = {
    "empty_file": (b"", "8-byte header length"),
    "seven_bytes": (b"\x02\x00\x00\x00\x00\x00\x00", "8-byte header length"),
    "header_over_100MB": (framed(b"{}", length=100_000_001), "at most 100000000 bytes"),
    "header_longer_than_file": (framed(b"{}", length=64), "the header lies inside the file"),
    "header_not_utf8": (framed(b'{"a\xff": 1}'), "UTF-8"),
    "header_empty": (framed(b""), "the header is JSON"),
    "header_a_list": (framed(b"[]"), "the header is a JSON object"),
    "header_a_string": (framed(b'"x"'), "the header is a JSON object"),
    "header_cut_short": (framed(b'{"a": {"dtype": "F32"'), "the header is JSON"),
    "text_after_the_object": (framed(b"{} x"), "the header is JSON"),
    "entry_not_an_object": (framed(header({"a": 1})), "a tensor entry is"),
    "entry_without_dtype": (framed(header({"a": {"shape": [1], "data_offsets": [0, 4]}}), b"\0" * 4), "has no dtype"),
    "unknown_dtype": (framed(header({"a": entry("F128")}), b"\0" * 4), "dtype is one the format defines"),
    "dtype_not_a_string": (framed(header({"a": entry(7)}), b"\0" * 4), "dtype is not a string"),
    "negative_dimension": (framed(header({"a": entry(shape=(-1,))}), b"\0" * 4), "shape is a list of non-negative integers"),
    "fractional_dimension": (framed(header({"a": entry(shape=(1.0,))}), b"\0" * 4), "shape is a list of non-negative integers"),
    "shape_not_a_list": (framed(header({"a": {**entry(), "shape": 4}}), b"\0" * 4), "shape is not a list"),
    "three_offsets": (framed(header({"a": entry(offsets=(0, 4, 8))}), b"\0" * 8), "data_offsets are two non-negative integers"),
    "negative_offset": (framed(header({"a": entry(offsets=(-4, 0))}), b"\0" * 4), "data_offsets are two non-negative integers"),
    "offset_beyond_64_bits": (framed(header({"a": entry(offsets=(0, 2**64))}), b"\0" * 4), "data_offsets are two non-negative integers"),
    "offsets_reversed": (framed(header({"a": entry(offsets=(4, 0))}), b"\0" * 4), "begin <= end"),
    "gap_between_tensors": (framed(header({"a": entry(), "b": entry(offsets=(8, 12))}), b"\0" * 12),
                            "contiguous from 0, without gaps or overlaps"),
    "overlapping_tensors": (framed(header({"a": entry(shape=(2,), offsets=(0, 8)), "b": entry(shape=(2,), offsets=(4, 12))}),
                                   b"\0" * 12), "contiguous from 0, without gaps or overlaps"),
    "first_tensor_not_at_0": (framed(header({"a": entry(offsets=(4, 8))}), b"\0" * 8), "contiguous from 0"),
    "bytes_after_the_tensors": (framed(header({"a": entry()}), b"\0" * 12), "the tensors cover the whole data section"),
    "data_section_truncated": (framed(header({"a": entry(shape=(4,), offsets=(0, 16))}), b"\0" * 8),
                               "data_offsets lie inside the data section"),
    "size_disagrees_with_shape": (framed(header({"a": entry(shape=(3,), offsets=(0, 8))}), b"\0" * 8),
                                  "element count times its dtype's size"),
    "shape_overflows": (framed(header({"a": entry(shape=(2**62, 2**62), offsets=(0, 4))}), b"\0" * 4), "fits 64 bits"),
    "sub_byte_dtype_not_whole_bytes": (framed(header({"a": entry("F4", shape=(3,), offsets=(0, 2))}), b"\0" * 2),
                                       "whole number of bytes"),
    "metadata_not_strings": (framed(header({"__metadata__": {"a": 1}})), "__metadata__ maps strings to strings"),
    "metadata_a_list": (framed(header({"__metadata__": ["a"]})), "__metadata__ maps strings to strings"),
    "metadata_twice": (framed(b'{"__metadata__": {"a": "b"}, "__metadata__": {"a": "c"}}'), "appears more than once"),
    "deeply_nested": (framed(b'{"__metadata__": ' + b"[" * 5000 + b"]" * 5000 + b"}"), "nested deeper than"),
}

# Files the reference library accepts: poyo-rt reads them as safetensors too (and then says
# what they lack to be a model), except where it is deliberately stricter.
VALID = {
    "empty_header": framed(b"{}"),
    "padded_with_spaces": framed(b"{}      "),
    "leading_whitespace": framed(b"  {}"),
    "unknown_entry_fields": framed(header({"a": {**entry(), "extra": [1, 2]}}), b"\0" * 4),
    "tensors_out_of_name_order": framed(header({"b": entry(offsets=(4, 8)), "a": entry()}), b"\0" * 8),
    "zero_sized_tensor": framed(header({"a": entry(shape=(0, 3), offsets=(0, 0))})),
    "escaped_names": framed(b'{"a\\u00e9\\/b\\ud83d\\ude00": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}', b"\0"),
    "other_dtypes": framed(header({"a": entry("C64", offsets=(0, 8)), "b": entry("F8_E8M0", offsets=(8, 9)),
                                   "c": entry("F4", shape=(2,), offsets=(9, 10))}), b"\0" * 10),
}
# Accepted by the reference library, refused by poyo-rt: a key given twice is ambiguous (the
# reference keeps one of them).
STRICTER = {
    "tensor_twice": (framed(b'{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, '
                            b'"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}', b"\0"), "appears more than once"),
}


def reference_refuses(path: Path) -> bool:
    try:
        with safetensors.safe_open(str(path), framework="np") as f:
            list(f.keys())
        return False
    except Exception:  # the library raises SafetensorError, OSError or ValueError depending on the rule
        return True


def inspect(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([poyo(), "inspect", "--model", str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_file_the_reference_refuses_is_refused_naming_the_rule(tmp_path, name):
    content, says = CASES[name]
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(content)
    assert reference_refuses(path), f"the reference library accepts {name}: the case is wrong"
    result = inspect(path)
    assert result.returncode != 0, result.stdout
    assert "not a valid safetensors file (rule: " in result.stderr and says in result.stderr, result.stderr
    assert "Fatal error" not in result.stderr and "Trace" not in result.stderr


@pytest.mark.parametrize("name", sorted(VALID))
def test_files_the_reference_accepts_are_read(tmp_path, name):
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(VALID[name])
    assert not reference_refuses(path)
    result = inspect(path)
    assert result.returncode != 0 and "not a poyo-rt model file" in result.stderr, result.stderr
    assert "not a valid safetensors file" not in result.stderr, result.stderr


@pytest.mark.parametrize("name", sorted(STRICTER))
def test_poyo_is_stricter_on_keys_given_twice(tmp_path, name):
    content, says = STRICTER[name]
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(content)
    result = inspect(path)
    assert result.returncode != 0 and says in result.stderr, result.stderr


def test_every_load_path_applies_the_rules(tmp_path):
    """forward (model and inputs) and serve read through the same checks."""
    bad = tmp_path / "gap.safetensors"
    bad.write_bytes(CASES["gap_between_tensors"][0])
    out = tmp_path / "out.safetensors"
    forward_model = subprocess.run([poyo(), "forward", "--model", str(bad), "--inputs", str(bad), "--output", str(out)],
                                   capture_output=True, text=True, timeout=60)
    forward_inputs = subprocess.run([poyo(), "forward", "--model", str(MODEL), "--inputs", str(bad), "--output", str(out)],
                                    capture_output=True, text=True, timeout=60)
    serve = subprocess.run([poyo(), "serve", "--model", str(bad), "--session", "s", "--unit-prefix", "u",
                            "--spikes", "tcp://127.0.0.1:*", "--outputs", "tcp://127.0.0.1:*"],
                           capture_output=True, text=True, timeout=60)
    for result in (forward_model, forward_inputs, serve):
        assert result.returncode != 0 and "rule: data_offsets are contiguous from 0" in result.stderr, result.stderr
    assert serve.returncode == 2


def test_a_session_file_given_as_a_model_is_named(tmp_path):
    result = inspect(ROOT / "demo" / "session.safetensors")
    assert result.returncode != 0
    assert "not a poyo-rt model file: it is a poyo-rt session file" in result.stderr, result.stderr
    assert "dtype" not in result.stderr


@pytest.mark.parametrize("path, said", [
    (ROOT / "demo" / "cursor_session.h5", "not a safetensors file: it is an HDF5 file (a recording in NWB or temporaldata?"),
    (ROOT / "demo" / "a2929" / "A2929-200711.nwb", "not a safetensors file: it is an HDF5 file"),
])
def test_a_recording_given_as_a_model_is_named(path, said):
    result = inspect(path)
    assert result.returncode != 0 and said in result.stderr, result.stderr


def test_a_capture_log_given_as_a_model_is_named(tmp_path):
    log = tmp_path / "run.log"
    log.write_bytes(b"PYRTCAP1" + bytes(64))
    result = inspect(log)
    assert result.returncode != 0 and "it is a capture log of `poyo serve`" in result.stderr, result.stderr

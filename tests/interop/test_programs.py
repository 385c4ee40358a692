"""The compatibility suite: plain-PyTorch programs in ``programs/`` run under real PyTorch and under
``python -m ember run``; the numbers they print must agree within float tolerance.

All programs run in two subprocesses (one per library) through ``_driver.py``, so each library is
imported once; each program is then compared in its own test.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROGRAMS = sorted(p for p in (HERE / "programs").glob("p*.py"))
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)\b")

# Programs whose numbers go through long float32 chains get a looser tolerance.
TOLERANCE = {"default": (2e-3, 1e-5), "p07_gan.py": (5e-3, 1e-4), "p08_policy_gradient.py": (5e-3, 1e-4),
             "p13_einsum_linalg.py": (1e-6, 1e-12)}
# A module another part of ember provides; without it the program is skipped with this reason.
NEEDS = {"p04_lstm_tagger.py": ("LSTM", "nn.LSTM is not available in this ember build"),
         "p05_transformer_classifier.py": ("TransformerEncoderLayer",
                                           "nn.TransformerEncoderLayer is not available in this ember build"),
         "p19_rnn_regression.py": ("GRU", "nn.GRU is not available in this ember build")}


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")  # two processes share the CI cores
    env["PYTHONHASHSEED"] = "0"
    return env


def _split(out: str) -> dict:
    sections: dict = {}
    current = None
    for line in out.splitlines():
        if line.startswith("@@@ "):
            current = line[4:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return sections


@pytest.fixture(scope="module")
def runs():
    pytest.importorskip("torch")
    paths = [str(p) for p in PROGRAMS]
    driver = str(HERE / "_driver.py")
    procs = {
        "torch": subprocess.Popen([sys.executable, driver, *paths], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(HERE)),
        "ember": subprocess.Popen([sys.executable, "-m", "ember", "run", driver, *paths], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(HERE)),
    }
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        out[name] = (_split(stdout), stderr)
    return out


def _normalise(line: str) -> tuple:
    text = line.replace("ember.", "torch.")
    numbers = [float(m) for m in NUMBER.findall(text)]
    skeleton = NUMBER.sub("#", text)
    return skeleton, numbers


def compare_outputs(expected: list, actual: list, rtol: float, atol: float) -> None:
    """Same lines, same words; numbers equal within ``rtol``/``atol`` (``True``/``False`` exactly)."""
    assert len(actual) == len(expected), f"{len(actual)} lines printed, PyTorch printed {len(expected)}:\n" \
                                         + "\n".join(actual)
    for e_line, a_line in zip(expected, actual):
        es, en = _normalise(e_line)
        as_, an = _normalise(a_line)
        assert as_ == es, f"line differs:\n  torch: {e_line}\n  ember: {a_line}"
        assert len(an) == len(en)
        for x, y in zip(en, an):
            ok = (x != x and y != y) or abs(x - y) <= atol + rtol * abs(x)
            assert ok, f"numbers differ ({y} vs {x}):\n  torch: {e_line}\n  ember: {a_line}"


@pytest.mark.parametrize("program", [p.name for p in PROGRAMS])
def test_program_matches_pytorch(runs, program):
    need = NEEDS.get(program)
    if need is not None:
        import ember.nn
        if not hasattr(ember.nn, need[0]):
            pytest.skip(need[1])
    torch_out, torch_err = runs["torch"]
    ember_out, ember_err = runs["ember"]
    expected = torch_out.get(program)
    assert expected is not None, f"the PyTorch run did not reach {program}:\n{torch_err[-2000:]}"
    if any(line.startswith("@@@ERROR") for line in expected):
        pytest.skip(f"{program} fails under this PyTorch: {expected[-1]}")
    actual = ember_out.get(program)
    assert actual is not None, f"the ember run did not reach {program}:\n{ember_err[-3000:]}"
    errors = [line for line in actual if line.startswith("@@@ERROR")]
    assert not errors, f"{program} failed under ember: {errors[0]}\n{ember_err[-3000:]}"
    rtol, atol = TOLERANCE.get(program, TOLERANCE["default"])
    compare_outputs(expected, actual, rtol, atol)


def test_suite_has_at_least_15_programs():
    assert len(PROGRAMS) >= 15


def test_comparison_catches_differences():
    """The comparison itself can fail: a changed number, word or line count is reported."""
    with pytest.raises(AssertionError, match="numbers differ"):
        compare_outputs(["loss 0.5"], ["loss 0.51"], 1e-3, 1e-6)
    with pytest.raises(AssertionError, match="line differs"):
        compare_outputs(["same True"], ["same False"], 1e-3, 1e-6)
    with pytest.raises(AssertionError, match="lines printed"):
        compare_outputs(["a 1"], [], 1e-3, 1e-6)
    compare_outputs(["dtype torch.float32 1.0"], ["dtype ember.float32 1.0000001"], 1e-3, 1e-6)

"""The corpus scripts (tests/run/scripts/) print the same metrics under real PyTorch (run in
this process, as ``python script.py`` would) and under ferrotorch (``python -m ferrotorch.run
script.py`` in a child process): both start from the same NumPy-generated weights and data."""

import contextlib
import io
import os
import runpy
import sys

import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "run"))

from _corpus import CORPUS, needs_of  # noqa: E402
from _subprocess import SCRIPTS, metrics, run_shimmed  # noqa: E402


def run_with_torch(path, monkeypatch):
    """Runs the script as ``__main__`` on real PyTorch in this process (a child process would
    spend most of its time importing torch); returns what it printed. ``torch.compile`` is
    numerically transparent, so it is switched off rather than spend a minute compiling."""
    monkeypatch.setattr(sys, "argv", [path])
    monkeypatch.syspath_prepend(SCRIPTS)
    monkeypatch.setattr(torch, "compile", lambda model=None, **options: model)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only contend with the other test workers
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            runpy.run_path(path, run_name="__main__")
    finally:
        torch.set_num_threads(threads)
    return output.getvalue()


@pytest.mark.parametrize("script", [pytest.param(s, marks=needs_of(s)) for s in CORPUS])
def test_metrics_agree_with_pytorch(script, monkeypatch):
    path = os.path.join(SCRIPTS, script)
    expected = metrics(run_with_torch(path, monkeypatch))
    with_ferrotorch = run_shimmed(path)
    assert with_ferrotorch.returncode == 0, with_ferrotorch.stderr
    got = metrics(with_ferrotorch.stdout)
    tolerances = CORPUS[script][1]
    assert set(expected) == set(got) == set(tolerances)
    for name, (rtol, atol) in tolerances.items():
        assert got[name] == pytest.approx(expected[name], rel=rtol, abs=atol), name


def test_torch_names_under_the_shim_are_ferrotorch_names():
    """Real torch already imported in this process is set aside while the hook is on."""
    import importlib

    import ferrotorch
    from ferrotorch import run

    run.install()
    try:
        assert importlib.import_module("torch") is ferrotorch
        assert importlib.import_module("torch.nn.functional") is ferrotorch.nn.functional
    finally:
        run.uninstall()
    assert importlib.import_module("torch") is torch
    assert sys.modules["torch.nn.functional"] is torch.nn.functional

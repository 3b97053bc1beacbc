"""Runs Python in a child process with this checkout's ferrotorch importable."""

import os
import subprocess
import sys

import ferrotorch

PACKAGE_ROOT = os.path.dirname(os.path.dirname(ferrotorch.__file__))
SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")


def run_python(*args, cwd=None):
    """``python *args`` with ferrotorch on the path; the finished process (text output)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def run_shimmed(*args, cwd=None):
    """``python -m ferrotorch.run *args``."""
    return run_python("-m", "ferrotorch.run", *args, cwd=cwd)


def metrics(stdout):
    """The ``METRIC name value`` lines of a corpus script's output, as a dict."""
    found = {}
    for line in stdout.splitlines():
        if line.startswith("METRIC "):
            _, name, value = line.split()
            found[name] = float(value)
    return found

"""``manual_seed`` makes the whole stack reproducible: module initialisation, dropout, random
permutations and sampling draw the same numbers after the same seed, in this process or another."""

import json
import os

import numpy as np

import ferrotorch as ft
import ferrotorch.nn.functional as F
from _seeded_run import seeded_run
from _subprocess import run_python


def test_the_same_seed_gives_the_same_run():
    assert seeded_run(0) == seeded_run(0)


def test_another_seed_gives_another_run():
    first, second = seeded_run(0), seeded_run(1)
    assert all(first[key] != second[key] for key in first)


def test_a_fresh_process_gives_the_same_run():
    done = run_python(os.path.join(os.path.dirname(__file__), "_seeded_run.py"), "7")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == seeded_run(7)


def test_restoring_the_rng_state_replays_the_draws():
    ft.manual_seed(3)
    ft.rand(4)
    state = ft.get_rng_state()
    first = (ft.randperm(6).tolist(), F.dropout(ft.ones(6), 0.5).tolist())
    ft.set_rng_state(state)
    assert (ft.randperm(6).tolist(), F.dropout(ft.ones(6), 0.5).tolist()) == first


def test_an_explicit_generator_ignores_the_global_seed():
    draws = []
    for global_seed in (0, 1):
        ft.manual_seed(global_seed)
        generator = ft.Generator().manual_seed(11)
        draws.append((ft.randperm(8, generator=generator).tolist(), ft.randn(3, generator=generator).tolist()))
    assert draws[0] == draws[1]
    np.testing.assert_array_equal(np.sort(draws[0][0]), np.arange(8))

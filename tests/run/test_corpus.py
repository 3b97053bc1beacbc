"""Realistic PyTorch scripts (tests/run/scripts/) run unchanged through ``python -m ferrotorch.run``.

Each script prints ``METRIC name value`` lines; a case checks that training worked (loss fell,
accuracy rose) or, for deterministic outputs, that the value equals what PyTorch 2.15 prints for
the same script (the scripts start from NumPy-generated weights). A case whose script needs
torch names ferrotorch does not have yet is skipped, naming them, until they exist.
"""

import math
import os

import pytest

from _corpus import needs_of
from _subprocess import SCRIPTS, metrics, run_shimmed


def run_script(name):
    done = run_shimmed(os.path.join(SCRIPTS, name))
    assert done.returncode == 0, done.stderr
    return metrics(done.stdout)


def test_mlp_regression_learns():
    m = run_script("mlp_regression.py")
    assert m["final_loss"] < 0.02 and m["final_loss"] < m["initial_loss"] / 10


def test_cnn_classifier_separates_the_classes():
    m = run_script("cnn_classifier.py")
    assert m["test_accuracy"] >= 0.95
    assert m["final_loss"] < 0.1


def test_lstm_learns_the_sequence_mean():
    m = run_script("lstm_sequence.py")
    assert m["final_loss"] < 0.02 and m["final_loss"] < m["initial_loss"] / 10


def test_functional_tour_matches_pytorch():
    m = run_script("functional_tour.py")
    assert m["count"] == 32
    assert m["checksum"] == pytest.approx(542.399946, rel=1e-5)  # PyTorch 2.15's output


def test_checkpointed_compiled_model_learns():
    m = run_script("checkpoint_compile.py")
    assert m["initial_loss"] == pytest.approx(3.98752, rel=1e-5)  # PyTorch 2.15's output
    assert m["final_loss"] < 0.05


@needs_of("optim_training.py")
def test_optimizer_and_scheduler_training():
    m = run_script("optim_training.py")
    assert m["final_loss"] < 0.05
    assert m["final_lr"] == pytest.approx(0.0025)


@needs_of("save_load.py")
def test_state_dict_round_trip_through_save_and_load():
    m = run_script("save_load.py")
    assert m["epoch"] == 3
    assert m["output_sum"] == pytest.approx(0.672474, abs=1e-5)  # PyTorch 2.15's output


@needs_of("dataloader_training.py")
def test_dataloader_training():
    m = run_script("dataloader_training.py")
    assert m["batches"] == 10
    assert m["accuracy"] >= 0.95


@needs_of("seeded_setup.py")
def test_seeded_setup_boilerplate():
    m = run_script("seeded_setup.py")
    assert m["min_log"] == pytest.approx(math.log(2.0 ** -23), abs=1e-5)
    assert m["int32_max"] == 2 ** 31 - 1
    assert m["pi"] == pytest.approx(math.pi, abs=1e-6)

"""The corpus scripts' table: what each needs from ferrotorch and how closely its metrics must
agree with PyTorch's."""

import functools

import pytest

import ferrotorch

# script -> (torch names it needs beyond nn/autograd/tensors, {metric: (rtol, atol) against PyTorch}).
# Training metrics are float32 sums over hundreds of steps; counts and exact outputs agree tightly.
TRAINING = (1e-2, 1e-4)
EXACT = (1e-5, 1e-6)
CORPUS = {
    "mlp_regression.py": ((), {"initial_loss": EXACT, "final_loss": TRAINING}),
    "cnn_classifier.py": ((), {"final_loss": TRAINING, "test_accuracy": EXACT}),
    "lstm_sequence.py": ((), {"initial_loss": EXACT, "final_loss": TRAINING}),
    "functional_tour.py": ((), {"checksum": EXACT, "count": EXACT}),
    "checkpoint_compile.py": ((), {"initial_loss": EXACT, "final_loss": TRAINING}),
    "optim_training.py": (("optim.Adam", "optim.lr_scheduler.StepLR"), {"final_loss": TRAINING, "final_lr": EXACT}),
    "save_load.py": (("save", "load"), {"epoch": EXACT, "output_sum": EXACT}),
    # The shuffled batch order comes from each library's own generator: only the outcome compares.
    "dataloader_training.py": (("utils.data.DataLoader", "utils.data.TensorDataset", "optim.SGD"),
                               {"batches": EXACT, "accuracy": (0.0, 0.03)}),
    "seeded_setup.py": (("backends.cudnn", "use_deterministic_algorithms", "finfo", "iinfo", "pi"),
                        {"min_log": EXACT, "int32_max": EXACT, "pi": EXACT}),
}


def missing(names):
    """The dotted ``torch.`` names among ``names`` that ferrotorch lacks."""
    def lookup(name):
        return functools.reduce(lambda obj, part: getattr(obj, part, None), name.split("."), ferrotorch)
    return [name for name in names if lookup(name) is None]


def needs(*names):
    """Skips a case until ferrotorch has every one of ``names`` (dotted, relative to torch)."""
    absent = missing(names)
    return pytest.mark.skipif(bool(absent), reason="ferrotorch lacks torch." + ", torch.".join(absent))


def needs_of(script):
    """The skip mark for ``script``'s needs."""
    return needs(*CORPUS[script][0])

"""Writes the reference checkpoints the serialization tests load, WITH PyTorch, and next to each
``<name>.pt`` its expectations: ``<name>.json`` (structure, see ../describe.py) and ``<name>.npz``
(tensor values). Run from anywhere with an interpreter that has torch:

    /work/torchenv/bin/python tests/serialization/data/make_reference.py

With the ``safetensors`` package (and NumPy) instead, it writes ``reference.safetensors`` and its
expectations the same way.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from describe import describe  # noqa: E402


def write_expectations(name, tree, arrays):
    with open(os.path.join(HERE, f"{name}.json"), "w") as f:
        json.dump(tree, f, indent=1, sort_keys=True)
    np.savez(os.path.join(HERE, f"{name}.npz"), **{k.lstrip("/") or "_": v for k, v in arrays.items()})


def torch_references():
    import torch

    torch.manual_seed(0)

    class Small(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(3, 4)
            self.norm = torch.nn.BatchNorm1d(4)  # running stats + int64 num_batches_tracked
            self.head = torch.nn.Linear(4, 4)
            self.tied = self.head  # the same weights under two names
            self.register_buffer("mask", torch.tensor([True, False, True, True]))
            self.register_buffer("halves", torch.randn(2, 3).half())
            self.register_buffer("brain", torch.randn(3, 2).bfloat16())
            self.register_buffer("doubles", torch.randn(2, 2, dtype=torch.float64))
            self.register_buffer("counts", torch.arange(5, dtype=torch.int64) - 2)

    model = Small()
    model.train()
    model.norm(torch.randn(8, 4))  # non-default running stats
    references = {"state_dict": model.state_dict()}

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    references["objects"] = {
        "noncontiguous": base.t(),
        "base": base,
        "view": base[1:, 1:3],  # shares base's storage at an offset
        "parameter": torch.nn.Parameter(torch.randn(2, 2)),
        "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False),
        "grad_leaf": torch.ones(2, requires_grad=True),
        "scalar": torch.tensor(3.5),
        "empty": torch.empty(0, 3),
        "special": torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0]),
        "nested": {"list": [torch.tensor([1, 2], dtype=torch.int32), (torch.tensor([1.5], dtype=torch.float64), 3)],
                   "text": "x", "number": 1.5, "count": 7, "none": None, "flag": True},
        "int8": torch.tensor([-3, 4], dtype=torch.int8),
        "uint8": torch.tensor([0, 255], dtype=torch.uint8),
        "int16": torch.tensor([-300, 2], dtype=torch.int16),
        "size": torch.Size([2, 3]),
        "dtype": torch.float16,
        "device": torch.device("cpu"),
    }

    net = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(2):
        optimizer.zero_grad()
        net(torch.randn(4, 3)).pow(2).sum().backward()
        optimizer.step()
    references["adam"] = optimizer.state_dict()

    for name, obj in references.items():
        torch.save(obj, os.path.join(HERE, f"{name}.pt"))
        tree, arrays = describe(torch.load(os.path.join(HERE, f"{name}.pt"), weights_only=True), torch)
        write_expectations(name, tree, arrays)


def safetensors_reference():
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensors = {
        "weight": rng.standard_normal((3, 4)).astype(np.float32),
        "bias": rng.standard_normal(4).astype(np.float64),
        "half": rng.standard_normal((2, 2)).astype(np.float16),
        "steps": np.arange(-2, 3, dtype=np.int64),
        "small": np.array([-1, 2], dtype=np.int8),
        "pixels": np.array([0, 255], dtype=np.uint8),
        "mask": np.array([True, False]),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 2), dtype=np.float32),
    }
    save_file(tensors, os.path.join(HERE, "reference.safetensors"), metadata={"format": "np", "note": "reference"})
    np.savez(os.path.join(HERE, "reference_safetensors.npz"), **tensors)


if __name__ == "__main__":
    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
    if torch is not None:
        torch_references()
    try:
        import safetensors.numpy  # noqa: F401

        safetensors_reference()
    except ImportError:
        pass

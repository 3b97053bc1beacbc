"""One seeded run through the random parts of the stack, as JSON-able lists; run as a script
(``python _seeded_run.py SEED``) it prints them, for comparison across processes."""

import json
import sys

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch import nn


def seeded_run(seed):
    """Module initialisation, dropout, permutations and sampling drawn after ``manual_seed(seed)``."""
    ft.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.5), nn.Linear(6, 3))
    conv = nn.Conv2d(1, 2, 3)
    lstm = nn.LSTM(3, 4)
    x = ft.randn(5, 4)
    return {
        "params": [p.detach().flatten().tolist() for m in (model, conv, lstm) for p in m.parameters()],
        "dropout_output": model(x).detach().flatten().tolist(),
        "functional_dropout": F.dropout(ft.ones(8), p=0.5).tolist(),
        "randperm": ft.randperm(10).tolist(),
        "randint": ft.randint(0, 100, (5,)).tolist(),
        "multinomial": ft.multinomial(ft.tensor([0.1, 0.2, 0.7]), 4, replacement=True).tolist(),
        "bernoulli": ft.bernoulli(ft.full((6,), 0.5)).tolist(),
        "normal_": ft.empty(3).normal_().tolist(),
    }


if __name__ == "__main__":
    print(json.dumps(seeded_run(int(sys.argv[1]))))

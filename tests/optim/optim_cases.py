"""The optimizer/option combinations the optim tests run, each with its NumPy reference."""

import pytest

import ferrotorch as ft
import optim_reference as ref

O = ft.optim

CASES = [
    (O.SGD, dict(lr=0.1), ref.sgd),
    (O.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.05), ref.sgd),
    (O.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True), ref.sgd),
    (O.Adam, dict(lr=0.01), ref.adam),
    (O.Adam, dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True), ref.adam),
    (O.Adam, dict(lr=0.01, maximize=True, decoupled_weight_decay=True, weight_decay=0.1), ref.adam),
    (O.AdamW, dict(lr=0.01), ref.adamw),
    (O.AdamW, dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.2), ref.adamw),
    (O.Adamax, dict(lr=0.01, weight_decay=0.1), ref.adamax),
    (O.Adamax, dict(lr=0.01, maximize=True), ref.adamax),
    (O.NAdam, dict(lr=0.01), ref.nadam),
    (O.NAdam, dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01, maximize=True), ref.nadam),
    (O.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), ref.nadam),
    (O.RAdam, dict(lr=0.01), ref.radam),
    (O.RAdam, dict(lr=0.01, betas=(0.9, 0.5), weight_decay=0.1, maximize=True), ref.radam),
    (O.RAdam, dict(lr=0.01, betas=(0.9, 0.5), weight_decay=0.1, decoupled_weight_decay=True), ref.radam),
    (O.RMSprop, dict(lr=0.01), ref.rmsprop),
    (O.RMSprop, dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1), ref.rmsprop),
    (O.RMSprop, dict(lr=0.01, centered=True, maximize=True), ref.rmsprop),
    (O.Adagrad, dict(lr=0.1), ref.adagrad),
    (O.Adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5, maximize=True), ref.adagrad),
    (O.Adadelta, dict(), ref.adadelta),
    (O.Adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True), ref.adadelta),
]


def case_id(case):
    cls, options, _ = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in options.items())


def cases(subset=None):
    """``CASES`` as pytest params, optionally only the first option set of each optimizer."""
    chosen = CASES
    if subset == "first":
        seen, chosen = set(), []
        for case in CASES:
            if case[0] not in seen:
                seen.add(case[0])
                chosen.append(case)
    return [pytest.param(*c, id=case_id(c)) for c in chosen]

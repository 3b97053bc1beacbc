"""``ferrotorch.compile`` and ``ferrotorch.compiler``: accepted and a no-op, with PyTorch's
argument checks."""

import pytest

import ferrotorch as ft
from ferrotorch import nn


def double(x):
    return x * 2


def test_compiling_a_module_returns_it():
    model = nn.Linear(2, 2)
    assert ft.compile(model) is model
    assert ft.compile(model, fullgraph=True, dynamic=True, backend="eager", mode=None, disable=True) is model


def test_compiling_a_function_returns_it():
    assert ft.compile(double, mode="max-autotune") is double
    assert ft.compile(double, options={"triton.cudagraphs": False}) is double


def test_bare_decorator():
    @ft.compile
    def f(x):
        return x + 1

    assert f(ft.tensor([1.0])).tolist() == [2.0]
    assert f.__name__ == "f"


def test_decorator_with_arguments():
    @ft.compile(mode="reduce-overhead", fullgraph=True)
    def f(x):
        return x - 1

    assert f(ft.tensor([1.0])).tolist() == [0.0]
    assert f.__name__ == "f"


def test_decorating_none_is_refused():
    with pytest.raises(RuntimeError, match="Model can't be None"):
        ft.compile()(None)


def test_mode_and_options_together_are_refused():
    with pytest.raises(RuntimeError, match="Either mode or options can be specified, but both can't be specified"):
        ft.compile(double, mode="default", options={})


def test_unknown_mode_is_refused():
    with pytest.raises(RuntimeError, match="Unrecognized mode=fastest, should be one of: default, lite"):
        ft.compile(double, mode="fastest")


def test_a_non_callable_is_refused():
    with pytest.raises(AssertionError, match="A callable function is expected, but <class 'int'> is provided."):
        ft.compile(3)


def test_compiler_namespace():
    assert ft.compiler.is_compiling() is False
    assert ft.compiler.is_dynamo_compiling() is False
    assert ft.compiler.disable(double) is double
    assert ft.compiler.disable()(double) is double
    assert ft.compiler.allow_in_graph(double) is double
    assert ft.compiler.reset() is None

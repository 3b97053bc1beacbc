"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn


def layers(n):
    return [nn.Linear(i + 1, i + 2) for i in range(n)]


def test_sequential_forward_chains_modules():
    a, b = nn.Linear(2, 3), nn.Linear(3, 1)
    x = ft.randn(4, 2)
    np.testing.assert_allclose(nn.Sequential(a, b)(x).detach().numpy(), b(a(x)).detach().numpy())


def test_sequential_indexing_and_negative_index():
    mods = layers(3)
    seq = nn.Sequential(*mods)
    assert seq[0] is mods[0] and seq[-1] is mods[2]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]


def test_sequential_slice_is_sequential_with_original_names():
    mods = layers(4)
    part = nn.Sequential(*mods)[1:3]
    assert type(part) is nn.Sequential and list(part) == mods[1:3]
    assert list(part._modules) == ["1", "2"]


def test_sequential_ordered_dict_constructor_names():
    seq = nn.Sequential(OrderedDict([("first", nn.Identity()), ("second", nn.Flatten())]))
    assert list(seq._modules) == ["first", "second"] and isinstance(seq.second, nn.Flatten)


def test_sequential_append_insert_extend_pop_del_renumber():
    mods = layers(5)
    seq = nn.Sequential(mods[0])
    seq.append(mods[2]).insert(1, mods[1]).extend([mods[3], mods[4]])
    assert list(seq) == mods and len(seq) == 5
    assert seq.pop(1) is mods[1]
    del seq[-1]
    assert list(seq) == [mods[0], mods[2], mods[3]] and list(seq._modules) == ["0", "1", "2"]
    del seq[0:2]
    assert list(seq) == [mods[3]]


def test_sequential_setitem_replaces():
    seq = nn.Sequential(*layers(2))
    new = nn.Identity()
    seq[-1] = new
    assert seq[1] is new


def test_sequential_add_concatenates():
    a, b = nn.Sequential(*layers(2)), nn.Sequential(nn.Identity())
    both = a + b
    assert list(both) == list(a) + list(b)
    with pytest.raises(ValueError, match="supports only objects of Sequential class"):
        a + [nn.Identity()]


def test_sequential_mul_repeats_modules():
    seq = nn.Sequential(nn.Identity())
    assert len(seq * 3) == 3 and (seq * 3)[2] is seq[0]


def test_module_list_behaves_as_list():
    mods = layers(4)
    ml = nn.ModuleList(mods[:2])
    ml.append(mods[3])
    ml.insert(2, mods[2])
    assert list(ml) == mods and ml[-1] is mods[3]
    assert type(ml[1:3]) is nn.ModuleList and list(ml[1:3]) == mods[1:3]
    assert ml.pop(0) is mods[0] and list(ml._modules) == ["0", "1", "2"]
    ml += [nn.Identity()]
    assert len(ml) == 4 and len(list(ml.parameters())) == 6


def test_module_list_repr_compresses_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.Identity()])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3): Identity()\n"
        ")"
    )
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_module_dict_keeps_insertion_order():
    md = nn.ModuleDict({"b": nn.Identity(), "a": nn.Flatten()})
    md["c"] = nn.Linear(1, 1)
    assert list(md) == ["b", "a", "c"] and "a" in md and len(md) == 3
    assert md.pop("a").__class__ is nn.Flatten
    assert list(md.keys()) == ["b", "c"]
    assert [n for n, _ in md.named_parameters()] == ["c.weight", "c.bias"]


def test_parameter_list_wraps_tensors_as_parameters():
    pl = nn.ParameterList([ft.zeros(2), nn.Parameter(ft.ones(3))])
    pl.append(ft.ones(1))
    assert len(pl) == 3 and all(isinstance(p, nn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert len(pl[1:]) == 2
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl()


def test_parameter_list_repr():
    pl = nn.ParameterList([ft.zeros(2, 3), ft.zeros(4, dtype=ft.float64)])
    assert repr(pl) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [torch.float32 of size 2x3]\n"
        "    (1): Parameter containing: [torch.float64 of size 4]\n"
        ")"
    )


def test_parameter_dict_behaves_as_dict():
    pd = nn.ParameterDict({"w": ft.zeros(2)})
    pd["b"] = ft.ones(1)
    assert list(pd) == ["w", "b"] and isinstance(pd["b"], nn.Parameter)
    assert pd.get("missing") is None and "w" in pd
    assert pd.popitem()[0] == "b" and list(pd.keys()) == ["w"]
    assert [n for n, _ in pd.named_parameters()] == ["w"]


def test_parameter_dict_repr():
    pd = nn.ParameterDict(OrderedDict([("a", ft.zeros(2, 3)), ("b", ft.zeros(1, dtype=ft.float64))]))
    assert repr(pd) == (
        "ParameterDict(\n"
        "    (a): Parameter containing: [torch.FloatTensor of size 2x3]\n"
        "    (b): Parameter containing: [torch.DoubleTensor of size 1]\n"
        ")"
    )


def test_containers_state_dict_keys():
    model = nn.Sequential(nn.ModuleList([nn.Linear(1, 1)]), nn.ModuleDict({"x": nn.Linear(1, 1, bias=False)}))
    assert list(model.state_dict()) == ["0.0.weight", "0.0.bias", "1.x.weight"]

"""default_collate and default_convert on every supported element type, and their errors."""

import collections
import types

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.utils.data import default_collate, default_convert
from ferrotorch.utils.data._utils.collate import collate, collate_tensor_fn

Point = collections.namedtuple("Point", ["x", "y"])


class Labelled(dict):
    """A dict subclass with an attribute that a shallow copy keeps."""

    tag = "kept"


def assert_tensor(t, values, dtype):
    assert isinstance(t, ft.Tensor)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(values))


def test_tensors_are_stacked_along_a_new_first_dim():
    a = ft.from_numpy(np.arange(6.0).reshape(2, 3)).t()  # non-contiguous
    b = ft.from_numpy(np.arange(6.0, 12.0).reshape(2, 3)).t()
    out = default_collate([a, b])
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(out.numpy(), np.stack([a.numpy(), b.numpy()]))


def test_numpy_arrays_become_a_stacked_tensor():
    out = default_collate([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)])
    assert_tensor(out, [[1, 2], [3, 4]], ft.int32)


@pytest.mark.parametrize(
    "values, dtype",
    [([np.float64(1.5), np.float64(2.5)], ft.float64), ([np.float32(1.5)], ft.float32),
     ([np.int64(3), np.int64(4)], ft.int64), ([np.bool_(True), np.bool_(False)], ft.bool)],
)
def test_numpy_scalars_keep_their_dtype(values, dtype):
    assert_tensor(default_collate(values), [v.item() for v in values], dtype)


def test_python_numbers():
    assert_tensor(default_collate([1.5, 2.0]), [1.5, 2.0], ft.float64)
    assert_tensor(default_collate([1, 2, 3]), [1, 2, 3], ft.int64)
    assert_tensor(default_collate([True, False]), [True, False], ft.bool)


def test_strings_and_bytes_stay_lists():
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_dicts_are_collated_per_key():
    out = default_collate([{"A": 0, "B": "x"}, {"A": 100, "B": "y"}])
    assert set(out) == {"A", "B"}
    assert_tensor(out["A"], [0, 100], ft.int64)
    assert out["B"] == ["x", "y"]


def test_mutable_mapping_type_is_kept():
    out = default_collate([collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)])
    assert type(out) is collections.OrderedDict and list(out) == ["b", "a"]
    labelled = default_collate([Labelled(v=1.0), Labelled(v=2.0)])
    assert type(labelled) is Labelled and labelled.tag == "kept"
    assert_tensor(labelled["v"], [1.0, 2.0], ft.float64)


class KeywordMapping(collections.abc.Mapping):
    """Immutable, and built from keywords only, so it cannot be rebuilt from a dict."""

    def __init__(self, **items):
        self._items = items

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)


def test_immutable_mapping_is_rebuilt_by_its_type_or_as_dict():
    proxy = types.MappingProxyType({"k": 1})
    out = default_collate([proxy, proxy])
    assert type(out) is types.MappingProxyType
    assert_tensor(out["k"], [1, 1], ft.int64)
    out = default_collate([KeywordMapping(k=1), KeywordMapping(k=2)])
    assert type(out) is dict
    assert_tensor(out["k"], [1, 2], ft.int64)


def test_namedtuples_keep_their_type():
    out = default_collate([Point(0, 1.0), Point(2, 3.0)])
    assert type(out) is Point
    assert_tensor(out.x, [0, 2], ft.int64)
    assert_tensor(out.y, [1.0, 3.0], ft.float64)


def test_tuples_and_lists_are_transposed_into_lists():
    out = default_collate([(0, 1), (2, 3)])
    assert isinstance(out, list) and len(out) == 2
    assert_tensor(out[0], [0, 2], ft.int64)
    assert_tensor(out[1], [1, 3], ft.int64)
    nested = default_collate([[ft.tensor([1.0]), "a"], [ft.tensor([2.0]), "b"]])
    assert_tensor(nested[0], [[1.0], [2.0]], ft.float32)
    assert nested[1] == ("a", "b")  # a column of the transposed batch, as in PyTorch


def test_sequences_of_unequal_length_are_refused():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])


def test_unsupported_types_raise_type_error():
    with pytest.raises(TypeError, match=r"batch must contain tensors, numpy arrays, numbers, dicts or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None])


def test_custom_collate_fn_map_extends_the_defaults():
    def collate_set(batch, *, collate_fn_map=None):
        return sorted(set().union(*batch))

    out = collate([{"s": {1, 2}, "t": ft.ones(2)}, {"s": {2, 3}, "t": ft.zeros(2)}],
                  collate_fn_map={set: collate_set, ft.Tensor: collate_tensor_fn})
    assert out["s"] == [1, 2, 3] and out["t"].shape == (2, 2)


def test_default_convert_converts_numpy_only():
    out = default_convert(np.array([0, 1]))
    assert_tensor(out, [0, 1], ft.int64)
    assert_tensor(default_convert(np.float32(2.5)), 2.5, ft.float32)
    assert default_convert(0) == 0 and default_convert("s") == "s"
    strings = np.array(["a", "b"])
    assert default_convert(strings) is strings
    t = ft.ones(2)
    assert default_convert(t) is t


def test_default_convert_walks_containers():
    point = default_convert(Point(np.array(0), np.array(1)))
    assert type(point) is Point
    assert_tensor(point.x, 0, ft.int64)
    pair = default_convert((np.array([0, 1]), 3))
    assert isinstance(pair, list) and pair[1] == 3
    assert_tensor(pair[0], [0, 1], ft.int64)
    mapping = default_convert({"a": np.array([1.5])})
    assert_tensor(mapping["a"], [1.5], ft.float64)
    listed = default_convert([np.array([1]), "x"])
    assert isinstance(listed, list) and listed[1] == "x"

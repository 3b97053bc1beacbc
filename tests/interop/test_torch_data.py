"""ferrotorch.utils.data against torch.utils.data: the same seeds give the same splits, sampler
orders, shuffled batches and worker seeds; default_collate builds the same structures."""

import collections
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ferrotorch as ft  # noqa: E402
import ferrotorch.utils.data as fdata  # noqa: E402
import torch.utils.data as tdata  # noqa: E402

LIBS = [(ft, fdata), (torch, tdata)]
Point = collections.namedtuple("Point", ["x", "y"])


def both(fn):
    """fn(lib, data_module) for ferrotorch and torch."""
    return [fn(lib, data) for lib, data in LIBS]


def plain(x):
    """Nested Python values with tensors as (dtype name, values), comparable across libraries."""
    if isinstance(x, (ft.Tensor, torch.Tensor)):
        return (str(x.dtype).split(".")[-1], x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: plain(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return x


def assert_same(fn):
    ours, theirs = both(fn)
    assert ours == theirs


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
def test_random_split_same_subsets(lengths):
    assert_same(lambda lib, data: [s.indices for s in data.random_split(
        range(11 if isinstance(lengths[0], float) else 10), lengths, generator=lib.Generator().manual_seed(42))])


def test_random_split_default_generator():
    def split(lib, data):
        lib.manual_seed(7)
        return [s.indices for s in data.random_split(range(9), [4, 5])]

    assert_same(split)


@pytest.mark.parametrize("kwargs", [{}, {"num_samples": 23}, {"replacement": True, "num_samples": 70}])
def test_random_sampler_same_order(kwargs):
    assert_same(lambda lib, data: list(data.RandomSampler(range(9), generator=lib.Generator().manual_seed(3), **kwargs)))


def test_random_sampler_without_generator_same_order():
    def order(lib, data):
        lib.manual_seed(12)
        return list(data.RandomSampler(range(9)))

    assert_same(order)


def test_subset_and_weighted_samplers_same_order():
    assert_same(lambda lib, data: list(data.SubsetRandomSampler([4, 8, 15, 16, 23], generator=lib.Generator().manual_seed(1))))
    assert_same(lambda lib, data: list(data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0], 12, generator=lib.Generator().manual_seed(1))))
    assert_same(lambda lib, data: list(data.WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3], 5, replacement=False, generator=lib.Generator().manual_seed(2))))


@pytest.mark.parametrize("n, replicas, shuffle, drop_last", [(10, 3, True, False), (10, 3, True, True), (5, 4, False, False)])
def test_distributed_sampler_same_shares(n, replicas, shuffle, drop_last):
    def shares(lib, data):
        out = []
        for epoch in (0, 1):
            for rank in range(replicas):
                sampler = data.DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=4, drop_last=drop_last)
                sampler.set_epoch(epoch)
                out.append((list(sampler), len(sampler)))
        return out

    assert_same(shares)


def test_batch_sampler_same_batches_and_errors():
    assert_same(lambda lib, data: list(data.BatchSampler(range(10), 4, False)))
    for args in [(range(3), 0, False), (range(3), 2, 1)]:
        messages = []
        for _, data in LIBS:
            with pytest.raises(ValueError) as error:
                data.BatchSampler(*args)
            messages.append(str(error.value))
        assert messages[0] == messages[1]


class Numbers:
    """A map-style dataset for either library (the library is chosen by name, so it forks cleanly)."""

    def __init__(self, lib_name, n=11):
        self.lib_name, self.n = lib_name, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        lib = ft if self.lib_name == "ft" else torch
        return {"x": lib.full((2,), float(i)), "i": i, "tag": f"t{i}"}


class Draws:
    """What each worker's random streams give."""

    def __init__(self, lib_name):
        self.lib_name = lib_name

    def __len__(self):
        return 4

    def __getitem__(self, i):
        lib, data = (ft, fdata) if self.lib_name == "ft" else (torch, tdata)
        info = data.get_worker_info()
        return [info.id, info.seed, lib.rand(3).tolist(), lib.randint(0, 100, (4,)).tolist(), random.random(),
                float(np.random.rand())]


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_same_shuffled_batches(workers):
    def batches(lib, data):
        lib.manual_seed(2024)
        name = "ft" if lib is ft else "torch"
        loader = data.DataLoader(Numbers(name), batch_size=3, shuffle=True, num_workers=workers,
                                 timeout=30 if workers else 0)
        return [plain(b) for b in loader]

    assert_same(batches)


def test_dataloader_with_generator_same_batches():
    assert_same(lambda lib, data: [plain(b) for b in data.DataLoader(
        list(range(10)), batch_size=4, shuffle=True, drop_last=True, generator=lib.Generator().manual_seed(9))])


def test_workers_get_the_same_seeds_and_random_streams():
    def draws(lib, data):
        lib.manual_seed(77)
        name = "ft" if lib is ft else "torch"
        return list(data.DataLoader(Draws(name), batch_size=None, num_workers=2, timeout=30))

    assert_same(draws)


def test_iterable_loader_length_same():
    class Stream(fdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    class TorchStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    for batch_size, drop_last in [(2, False), (2, True), (None, False)]:
        ours = fdata.DataLoader(Stream(), batch_size=batch_size, drop_last=drop_last)
        theirs = tdata.DataLoader(TorchStream(), batch_size=batch_size, drop_last=drop_last)
        assert len(ours) == len(theirs)
        assert [plain(b) for b in ours] == [plain(b) for b in theirs]


COLLATE_CASES = [
    lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    lambda lib: [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)],
    lambda lib: [np.float32(1.5), np.float32(2.5)],
    lambda lib: [1.5, 2.5],
    lambda lib: [1, 2],
    lambda lib: [True, False],
    lambda lib: ["a", "b"],
    lambda lib: [{"a": 1, "b": [lib.tensor(1), "s"]}, {"a": 2, "b": [lib.tensor(2), "t"]}],
    lambda lib: [collections.OrderedDict(z=1.0, y=2), collections.OrderedDict(z=3.0, y=4)],
    lambda lib: [Point(1, (2.0, "u")), Point(3, (4.0, "v"))],
    lambda lib: [(1, np.float64(2.0)), (3, np.float64(4.0))],
]


@pytest.mark.parametrize("case", range(len(COLLATE_CASES)))
def test_default_collate_same_structure(case):
    assert_same(lambda lib, data: plain(data.default_collate(COLLATE_CASES[case](lib))))


@pytest.mark.parametrize("case", [
    lambda lib: (np.array([1, 2]), 3),
    lambda lib: {"k": np.float64(1.0), "s": "x"},
    lambda lib: Point(np.array(0), [np.array([1.5])]),
])
def test_default_convert_same_structure(case):
    assert_same(lambda lib, data: plain(data.default_convert(case(lib))))


@pytest.mark.parametrize("batch", [[object()], [np.array(["a"])], [[1, 2], [3]]])
def test_default_collate_same_errors(batch):
    errors = []
    for _, data in LIBS:
        with pytest.raises((TypeError, RuntimeError)) as error:
            data.default_collate(batch)
        errors.append((error.type, str(error.value)))
    assert errors[0] == errors[1]


def test_worker_exception_message_same_shape():
    messages = []
    for lib, data in LIBS:
        class Fails(data.Dataset):
            def __len__(self):
                return 1

            def __getitem__(self, i):
                raise ValueError("bad")

        with pytest.raises(ValueError) as error:
            list(data.DataLoader(Fails(), num_workers=1, timeout=30))
        messages.append(str(error.value).splitlines()[0])
    assert messages[0] == messages[1] == "Caught ValueError in DataLoader worker process 0."

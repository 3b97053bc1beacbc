"""DataLoader in the main process (num_workers=0): batching, samplers, arguments, length, errors."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
    get_worker_info,
)


class Stream(IterableDataset):
    def __init__(self, n, length=None):
        self.n, self.length = n, length

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n if self.length is None else self.length


class Records(Dataset):
    """Samples of mixed types, as a typical dataset returns them."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": ft.full((2,), float(i)), "label": i, "name": f"s{i}"}


def test_batches_in_order_with_short_last_batch():
    x = ft.from_numpy(np.arange(14.0).reshape(7, 2))
    batches = list(DataLoader(TensorDataset(x), batch_size=3))
    assert [len(b[0]) for b in batches] == [3, 3, 1]
    np.testing.assert_array_equal(ft.cat([b[0] for b in batches]).numpy(), x.numpy())


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(list(range(7)), batch_size=3, drop_last=True)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]
    assert len(loader) == 2


def test_mixed_samples_are_collated_per_field():
    batch = next(iter(DataLoader(Records(), batch_size=2)))
    assert batch["x"].shape == (2, 2) and batch["label"].tolist() == [0, 1] and batch["name"] == ["s0", "s1"]


def test_batch_size_none_converts_single_samples():
    items = list(DataLoader([np.array([1, 2]), np.array([3, 4])], batch_size=None))
    assert all(isinstance(t, ft.Tensor) for t in items) and items[1].tolist() == [3, 4]


def test_custom_collate_fn():
    loader = DataLoader(list(range(5)), batch_size=2, collate_fn=lambda batch: sum(batch))
    assert list(loader) == [1, 5, 4]


def test_shuffle_is_a_permutation_fixed_by_the_generator():
    def order(seed):
        loader = DataLoader(list(range(10)), batch_size=4, shuffle=True, generator=ft.Generator().manual_seed(seed))
        return [i for b in loader for i in b.tolist()]

    assert order(3) == order(3) and sorted(order(3)) == list(range(10))
    assert order(3) != order(4)


def test_shuffle_without_generator_follows_manual_seed():
    def order():
        ft.manual_seed(11)
        return [b.item() for b in DataLoader(list(range(8)), shuffle=True)]

    assert order() == order()


def test_each_epoch_reshuffles():
    loader = DataLoader(list(range(20)), batch_size=20, shuffle=True, generator=ft.Generator().manual_seed(0))
    assert next(iter(loader)).tolist() != next(iter(loader)).tolist()


def test_sampler_and_batch_sampler_arguments():
    loader = DataLoader(list(range(6)), sampler=[5, 3, 1], batch_size=2)
    assert [b.tolist() for b in loader] == [[5, 3], [1]]
    loader = DataLoader(list(range(6)), batch_sampler=[[0, 5], [2]])
    assert [b.tolist() for b in loader] == [[0, 5], [2]]
    assert loader.batch_size is None and not loader.drop_last


def test_default_samplers():
    assert isinstance(DataLoader(range(3)).sampler, SequentialSampler)
    loader = DataLoader(range(3), shuffle=True, batch_size=2)
    assert isinstance(loader.sampler, RandomSampler) and isinstance(loader.batch_sampler, BatchSampler)
    assert loader.batch_sampler.batch_size == 2


def test_iterable_dataset_batches_and_drop_last():
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (1, 4, False)])
def test_len_map_and_iterable(n, batch_size, drop_last):
    expected = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)) == expected
    assert len(DataLoader(Stream(n), batch_size=batch_size, drop_last=drop_last)) == expected
    assert len(DataLoader(Stream(n), batch_size=None)) == n


def test_iterable_yielding_more_than_its_len_warns():
    loader = DataLoader(Stream(4, length=2), batch_size=1)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        list(loader)


def test_get_worker_info_is_none_in_the_main_process():
    assert get_worker_info() is None


def test_pin_memory_without_accelerator_warns_and_returns_the_data():
    x = ft.arange(4.0)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batch = next(iter(DataLoader(TensorDataset(x), batch_size=4, pin_memory=True)))
    np.testing.assert_array_equal(batch[0].numpy(), x.numpy())


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
        ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
        ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified in multiprocessing"),
        ({"num_workers": 1, "prefetch_factor": -1}, ValueError, "prefetch_factor option should be non-negative"),
        ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers > 0"),
        ({"sampler": [0], "shuffle": True}, ValueError, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, ValueError, "batch_size=None option disables auto-batching"),
        ({"multiprocessing_context": "fork"}, ValueError, "multiprocessing_context can only be used with multi-process"),
        ({"num_workers": 1, "multiprocessing_context": "bogus"}, ValueError, "should specify a valid start method in"),
        ({"num_workers": 1, "multiprocessing_context": 3}, TypeError, "should be a valid context object"),
    ],
)
def test_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(list(range(4)), **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"shuffle": True}, "expected unspecified shuffle option"), ({"sampler": [0]}, "expected unspecified sampler"),
     ({"batch_sampler": [[0]]}, "expected unspecified batch_sampler")],
)
def test_iterable_dataset_refuses_orderings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(Stream(3), **kwargs)


def test_fixed_attributes_cannot_be_reassigned():
    loader = DataLoader(list(range(4)))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 2
    loader.num_workers = 0  # not fixed


def test_timeout_needs_workers():
    with pytest.raises(AssertionError, match="requires timeout == 0"):
        iter(DataLoader(list(range(4)), timeout=1))


def test_dataset_errors_propagate_unchanged_in_process():
    class Broken(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        next(iter(DataLoader(Broken())))

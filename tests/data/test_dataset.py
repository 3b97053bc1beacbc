"""Datasets: TensorDataset, StackDataset, ConcatDataset, ChainDataset, Subset, random_split."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.utils.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class Batched(Squares):
    """Counts calls to __getitems__, to show wrappers forward whole batches."""

    def __init__(self, n):
        super().__init__(n)
        self.batch_calls = 0

    def __getitems__(self, indices):
        self.batch_calls += 1
        return [self[i] for i in indices]


class Stream(IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def test_base_dataset_getitem_is_abstract():
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__"):
        Dataset()[0]


def test_tensor_dataset_indexes_rows_of_every_tensor():
    x = ft.from_numpy(np.arange(12.0).reshape(4, 3)).t().contiguous().t()  # strided rows
    y = ft.tensor([10, 11, 12, 13])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    row, label = ds[2]
    np.testing.assert_array_equal(row.numpy(), [6.0, 7.0, 8.0])
    assert label.item() == 12
    np.testing.assert_array_equal(ds[1:3][1].numpy(), [11, 12])


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(ft.zeros(3), ft.zeros(4))


def test_stack_dataset_tuple_and_dict_samples():
    a, b = Squares(3), Squares(3)
    assert StackDataset(a, b)[2] == (4, 4)
    assert StackDataset(x=a, y=b)[1] == {"x": 1, "y": 1}
    assert len(StackDataset(a, b)) == 3


def test_stack_dataset_getitems_uses_nested_getitems():
    batched = Batched(4)
    ds = StackDataset(x=batched, y=Squares(4))
    assert ds.__getitems__([3, 0]) == [{"x": 9, "y": 9}, {"x": 0, "y": 0}]
    assert StackDataset(batched, Squares(4)).__getitems__([1, 2]) == [(1, 1), (4, 4)]
    assert batched.batch_calls == 2


def test_stack_dataset_argument_errors():
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(Squares(2), y=Squares(2))
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(x=Squares(2), y=Squares(3))


def test_concat_dataset_maps_indices_across_parts():
    ds = ConcatDataset([Squares(2), Squares(3), Squares(1)])
    assert ds.cumulative_sizes == [2, 5, 6]
    assert len(ds) == 6
    assert [ds[i] for i in range(6)] == [0, 1, 0, 1, 4, 0]
    assert ds[-2] == 4
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ds[-7]


def test_dataset_add_concatenates_and_iterable_add_chains():
    assert len(Squares(2) + Squares(3)) == 5
    assert list(Stream([1, 2]) + Stream([3])) == [1, 2, 3]


def test_concat_dataset_rejects_empty_and_iterable():
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream([1])])


def test_chain_dataset_iterates_and_sums_lengths():
    ds = ChainDataset([Stream([1, 2]), Stream([]), Stream([3])])
    assert list(ds) == [1, 2, 3]
    assert len(ds) == 3
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([Squares(2)]))


def test_subset_selects_indices_and_forwards_batches():
    batched = Batched(10)
    sub = Subset(batched, [7, 2, 5])
    assert len(sub) == 3
    assert sub[0] == 49 and sub[-1] == 25
    assert sub.__getitems__([2, 1]) == [25, 4]
    assert batched.batch_calls == 1


def test_subset_subclass_must_override_getitems_with_getitem():
    class OnlyGetitem(Subset):
        def __getitem__(self, idx):
            return 0

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        OnlyGetitem(Squares(3), [0])


def test_random_split_lengths_partition_the_dataset():
    g = ft.Generator().manual_seed(1)
    parts = random_split(Squares(10), [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    # The same permutation ferrotorch.randperm draws from the same seed, cut in order.
    perm = ft.randperm(10, generator=ft.Generator().manual_seed(1)).tolist()
    assert parts[0].indices == perm[:3] and parts[1].indices == perm[3:]


@pytest.mark.parametrize(
    "n, fractions, expected",
    [
        (10, [0.3, 0.3, 0.4], [3, 3, 4]),
        (11, [0.3, 0.3, 0.4], [4, 3, 4]),  # floors 3, 3, 4: one left, to the first split
        (7, [0.25, 0.25, 0.25, 0.25], [2, 2, 2, 1]),  # floors 1 each: three left, round robin
        (5, [0.5, 0.5], [3, 2]),
    ],
)
def test_random_split_fractions_round_like_pytorch(n, fractions, expected):
    parts = random_split(Squares(n), fractions, generator=ft.Generator().manual_seed(0))
    assert [len(p) for p in parts] == expected


def test_random_split_errors_and_empty_split_warning():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        random_split(Squares(5), [2, 2])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(Squares(5), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(2), [0.95, 0.05])

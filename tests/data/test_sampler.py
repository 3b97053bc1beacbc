"""Samplers: sequential, random (with and without replacement), subset, weighted, batch, distributed."""

import pytest

import ferrotorch as ft
from ferrotorch.utils.data import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def generator(seed):
    return ft.Generator().manual_seed(seed)


def test_base_sampler_iter_is_abstract():
    with pytest.raises(NotImplementedError):
        iter(Sampler())


def test_sequential_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(range(4))) == 4


def test_random_sampler_is_the_seeded_permutation():
    sampler = RandomSampler(range(6), generator=generator(5))
    assert list(sampler) == ft.randperm(6, generator=generator(5)).tolist()
    assert len(sampler) == 6


def test_random_sampler_num_samples_repeats_permutations():
    # 14 samples of 6: two whole permutations, then the first 2 of a third.
    g = generator(2)
    expected = [ft.randperm(6, generator=g).tolist() for _ in range(3)]
    sampler = RandomSampler(range(6), num_samples=14, generator=generator(2))
    assert list(sampler) == expected[0] + expected[1] + expected[2][:2]
    assert len(sampler) == 14


def test_random_sampler_with_replacement_draws_in_chunks_of_32():
    g = generator(9)
    expected = ft.randint(high=5, size=(32,), dtype=ft.int64, generator=g).tolist()
    expected += ft.randint(high=5, size=(8,), dtype=ft.int64, generator=g).tolist()
    got = list(RandomSampler(range(5), replacement=True, num_samples=40, generator=generator(9)))
    assert got == expected and all(0 <= i < 5 for i in got)


def test_random_sampler_without_generator_follows_manual_seed():
    ft.manual_seed(7)
    first = list(RandomSampler(range(8)))
    ft.manual_seed(7)
    assert list(RandomSampler(range(8))) == first
    assert sorted(first) == list(range(8))


def test_random_sampler_argument_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler([])


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [10, 20, 30, 40]
    order = ft.randperm(4, generator=generator(3)).tolist()
    sampler = SubsetRandomSampler(indices, generator=generator(3))
    assert list(sampler) == [indices[i] for i in order]
    assert len(sampler) == 4


def test_weighted_random_sampler_never_draws_zero_weights():
    sampler = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=generator(0))
    got = list(sampler)
    assert len(got) == 50 == len(sampler) and set(got) <= {1, 3}


def test_weighted_random_sampler_without_replacement_is_distinct():
    got = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False, generator=generator(0)))
    assert sorted(got) == [0, 1, 2, 3, 4]


def test_weighted_random_sampler_matches_multinomial():
    weights = ft.tensor([0.1, 0.5, 0.2, 0.2], dtype=ft.float64)
    expected = ft.multinomial(weights, 10, True, generator=generator(4)).tolist()
    assert list(WeightedRandomSampler([0.1, 0.5, 0.2, 0.2], 10, generator=generator(4))) == expected


def test_weighted_random_sampler_argument_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=True"):
        WeightedRandomSampler([1.0], True)
    with pytest.raises(ValueError, match="replacement should be a boolean value, but got replacement=0"):
        WeightedRandomSampler([1.0], 1, replacement=0)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(1, 2\)"):
        WeightedRandomSampler([[1.0, 2.0]], 1)


@pytest.mark.parametrize(
    "drop_last, expected",
    [(False, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]), (True, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])],
)
def test_batch_sampler_groups_indices(drop_last, expected):
    sampler = BatchSampler(SequentialSampler(range(10)), 3, drop_last)
    assert list(sampler) == expected
    assert len(sampler) == len(expected)


def test_batch_sampler_exact_multiple_and_plain_iterable():
    assert list(BatchSampler([5, 6, 7, 8], 2, True)) == [[5, 6], [7, 8]]
    assert list(BatchSampler(iter([1, 2, 3]), 2, False)) == [[1, 2], [3]]


def test_batch_sampler_argument_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=True"):
        BatchSampler(range(3), True, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 2, 1)


@pytest.mark.parametrize(
    "n, replicas, drop_last, expected",
    [
        # 10 over 3: padded to 12 by repeating 0, 1; rank r takes every 3rd from r.
        (10, 3, False, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]),
        # 10 over 3 dropping the tail: 9 kept.
        (10, 3, True, [[0, 3, 6], [1, 4, 7], [2, 5, 8]]),
        (4, 2, True, [[0, 2], [1, 3]]),
        # 2 over 5: padding longer than the data repeats it whole.
        (2, 5, False, [[0], [1], [0], [1], [0]]),
    ],
)
def test_distributed_sampler_rank_shares_unshuffled(n, replicas, drop_last, expected):
    shares = [list(DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last))
              for rank in range(replicas)]
    assert shares == expected
    assert len(DistributedSampler(range(n), replicas, 0, shuffle=False, drop_last=drop_last)) == len(expected[0])


def test_distributed_sampler_shuffles_by_seed_plus_epoch():
    perm = ft.randperm(8, generator=generator(3 + 2)).tolist()
    sampler = DistributedSampler(range(8), num_replicas=2, rank=1, seed=3)
    sampler.set_epoch(2)
    assert list(sampler) == perm[1::2]
    shares = [set(DistributedSampler(range(8), 2, r, seed=3)) for r in range(2)]
    assert shares[0].isdisjoint(shares[1]) and shares[0] | shares[1] == set(range(8))


def test_distributed_sampler_epochs_differ():
    sampler = DistributedSampler(range(20), num_replicas=1, rank=0)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first and sorted(list(sampler)) == sorted(first)


def test_distributed_sampler_argument_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
        DistributedSampler(range(4))

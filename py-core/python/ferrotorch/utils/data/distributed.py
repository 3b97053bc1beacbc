"""DistributedSampler: each of ``num_replicas`` processes loads its own share of a dataset."""

import math

import ferrotorch

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Gives rank ``rank`` of ``num_replicas`` every ``num_replicas``-th index of one (optionally shuffled)
    ordering, so the ranks' shares are disjoint and equally long. Without ``drop_last`` the ordering is
    padded by repeating its start; with it, the tail that does not divide evenly is dropped. The
    shuffle is seeded by ``seed + epoch``: call :meth:`set_epoch` before each epoch."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            # ferrotorch has no process groups to ask for the world size or rank.
            raise RuntimeError("Requires distributed package to be available")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            generator = ferrotorch.Generator().manual_seed(self.seed + self.epoch)
            indices = ferrotorch.randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        else:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding > 0 else []
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the epoch, which (with ``seed``) decides the next shuffle; the same on every rank."""
        self.epoch = epoch

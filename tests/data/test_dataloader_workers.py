"""DataLoader with worker processes: same results as in-process loading, shared-memory transport
(and no leaked segments), seeding, worker info, persistent workers, and crashes that raise instead
of hanging. Every loader that could hang has a ``timeout`` as a guard."""

import gc
import os
import random
import signal
import time

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from ferrotorch.utils.data._utils.worker import WorkerInfo

GUARD = 30  # seconds: a loader that should never wait this long


def own_segments():
    """Shared-memory segments this process's loaders left in /dev/shm."""
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"ftdl_{os.getpid()}_")]


def shared_memory_ranges():
    """(start, end) of this process's mappings of (unlinked) DataLoader segments."""
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "/dev/shm/ftdl_" in line:
                start, end = line.split()[0].split("-")
                ranges.append((int(start, 16), int(end, 16)))
    return ranges


pytestmark = pytest.mark.skipif(
    not (os.path.isdir("/dev/shm") and os.path.exists("/proc/self/maps")), reason="needs Linux /dev/shm"
)


class Numbers(Dataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return ft.full((3,), float(i)), i


class Mixed(Dataset):
    """Every dtype and layout the transport must carry, plus non-tensor fields."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        base = ft.from_numpy(np.arange(6.0).reshape(2, 3) + i)
        return {
            "strided": base.t(),
            "bool": ft.tensor([i % 2 == 0]),
            "uint8": ft.tensor([i], dtype=ft.uint8),
            "int16": ft.tensor([-i], dtype=ft.int16),
            "half": ft.tensor([i + 0.5], dtype=ft.float16),
            "bf16": ft.tensor([i + 0.25], dtype=ft.bfloat16),
            "double": ft.tensor([i / 3], dtype=ft.float64),
            "empty": ft.zeros(0, 2),
            "name": f"item{i}",
            "label": i,
        }


class Draws(Dataset):
    """Returns what the worker's random streams give, and who it is."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return {"ft": ft.rand(1).item(), "py": random.random(), "np": float(np.random.rand()),
                "id": info.id, "seed": info.seed, "workers": info.num_workers,
                "is_copy": isinstance(info.dataset, Draws)}


class Pids(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return os.getpid()


class Sharded(IterableDataset):
    """range(n), split between workers by get_worker_info, as in PyTorch's documentation."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        per_worker = -(-self.n // info.num_workers)
        start = info.id * per_worker
        return iter(range(start, min(start + per_worker, self.n)))


class Heavy(Dataset):
    """Runs kernels big enough to use the thread pool."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        total = ft.ones(1_000_000).sum()
        product = ft.ones(256, 256) @ ft.ones(256, 256)
        return total + product[0, 0] + i


class FailsAt(Dataset):
    def __init__(self, bad):
        self.bad = bad

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"bad sample {i}")
        return i


class ExitsInWorker(Dataset):
    """Worker 1 leaves abruptly: with os._exit(3), or killed by a signal."""

    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if get_worker_info().id == 1:
            if self.how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(GUARD)
        return i


def flatten(batches):
    """Batches as nested Python values, for comparing two loaders."""
    def plain(x):
        if isinstance(x, ft.Tensor):
            return (str(x.dtype), tuple(x.shape), x.float().tolist() if x.dtype == ft.bfloat16 else x.tolist())
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        return x
    return [plain(b) for b in batches]


def test_workers_give_the_same_batches_as_the_main_process():
    def run(workers):
        loader = DataLoader(Numbers(), batch_size=3, shuffle=True, num_workers=workers,
                            generator=ft.Generator().manual_seed(8), timeout=GUARD if workers else 0)
        return flatten(loader)

    assert run(2) == run(0)


def test_every_dtype_and_layout_survives_the_transport():
    def run(workers):
        return flatten(DataLoader(Mixed(), batch_size=2, num_workers=workers, timeout=GUARD if workers else 0))

    assert run(2) == run(0)


def test_out_of_order_loading_yields_every_batch():
    loader = DataLoader(Numbers(9), batch_size=2, num_workers=2, in_order=False, timeout=GUARD)
    labels = sorted(i for _, labels in loader for i in labels.tolist())
    assert labels == list(range(9))


def test_batches_wrap_shared_memory_and_no_segment_leaks():
    loader = DataLoader(Numbers(), batch_size=4, num_workers=2, timeout=GUARD)
    batches = list(loader)
    ranges = shared_memory_ranges()
    for values, labels in batches:
        for t in (values, labels):
            assert any(start <= t.data_ptr() < end for start, end in ranges)
    assert own_segments() == []  # names are unlinked as soon as the batch is mapped
    values = batches[0][0]
    values.add_(1)  # the mapping is private to us now, and writable
    assert values[0].tolist() == [1.0, 1.0, 1.0]


def test_abandoned_epoch_and_deleted_loader_leave_no_segments():
    loader = DataLoader(Numbers(20), batch_size=1, num_workers=2, prefetch_factor=4, timeout=GUARD)
    iterator = iter(loader)
    next(iterator)  # other batches are in flight or waiting in the queue
    del iterator
    gc.collect()
    assert own_segments() == []


def test_worker_info_seeds_and_streams():
    ft.manual_seed(5)
    base_seed = ft.empty((), dtype=ft.int64).random_().item()  # what the loader draws first
    ft.manual_seed(5)
    items = list(DataLoader(Draws(), batch_size=None, num_workers=2, timeout=GUARD))
    assert [item["id"] for item in items] == [0, 1, 0, 1]
    for item in items:
        assert item["seed"] == base_seed + item["id"] and item["workers"] == 2 and item["is_copy"]
    for worker_id in (0, 1):
        firsts = next(item for item in items if item["id"] == worker_id)
        expected_ft = ft.rand(1, generator=ft.Generator().manual_seed(base_seed + worker_id)).item()
        assert firsts["ft"] == expected_ft
        assert firsts["py"] == random.Random(base_seed + worker_id).random()
    assert items[0]["np"] != items[1]["np"]


def test_same_manual_seed_gives_the_same_order_and_augmentation():
    def run():
        ft.manual_seed(21)
        loader = DataLoader(Draws(), batch_size=2, shuffle=True, num_workers=2, timeout=GUARD)
        return flatten(loader)

    assert run() == run()


def test_worker_init_fn_runs_in_each_worker():
    def init(worker_id):
        get_worker_info().dataset.n = 100 + worker_id  # configures this worker's copy only

    class Sized(Dataset):
        n = 0

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return self.n

    assert [b.item() for b in DataLoader(Sized(), num_workers=2, worker_init_fn=init, timeout=GUARD)] == [100, 101]


def test_worker_info_is_frozen():
    info = WorkerInfo(id=0, num_workers=1, seed=0, dataset=None)
    with pytest.raises(AttributeError):
        info.id = 1


def test_iterable_dataset_sharded_by_worker_info():
    loader = DataLoader(Sharded(7), batch_size=2, num_workers=2, timeout=GUARD)
    assert sorted(i for batch in loader for i in batch.tolist()) == list(range(7))


def test_persistent_workers_are_reused_across_epochs():
    loader = DataLoader(Pids(), batch_size=None, num_workers=2, persistent_workers=True, timeout=GUARD)
    first = list(loader)
    second = list(loader)
    assert first == second and os.getpid() not in first and len(set(first)) == 2
    fresh = DataLoader(Pids(), batch_size=None, num_workers=2, timeout=GUARD)
    assert set(fresh).isdisjoint(fresh)


def test_persistent_workers_restart_cleanly_after_an_abandoned_epoch():
    loader = DataLoader(Sharded(6), batch_size=1, num_workers=2, persistent_workers=True, timeout=GUARD)
    iterator = iter(loader)
    next(iterator)
    assert sorted(b.item() for b in loader) == list(range(6))
    assert sorted(b.item() for b in loader) == list(range(6))
    del loader, iterator
    gc.collect()
    assert own_segments() == []


def test_big_kernels_run_in_forked_workers():
    # The parent's thread pool is running; a forked child must build its own or it would hang.
    assert ft.ones(2_000_000).sum().item() == 2_000_000
    values = [b.item() for b in DataLoader(Heavy(), num_workers=2, timeout=GUARD)]
    assert values == [1_000_256.0, 1_000_257.0]


def test_spawn_context_loads_a_picklable_dataset():
    dataset = TensorDataset(ft.arange(6.0), ft.arange(6))
    loader = DataLoader(dataset, batch_size=4, num_workers=1, multiprocessing_context="spawn", timeout=GUARD)
    assert flatten(loader) == flatten(DataLoader(dataset, batch_size=4))


def test_dataset_exception_is_reraised_with_worker_id_and_traceback():
    iterator = iter(DataLoader(FailsAt(3), batch_size=None, num_workers=2, timeout=GUARD))
    assert [next(iterator) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match=r"Caught ValueError in DataLoader worker process 1\.") as error:
        next(iterator)
    assert "Original Traceback" in str(error.value) and "ValueError: bad sample 3" in str(error.value)
    assert list(iterator) == [4, 5]  # the loader goes on, as PyTorch's does


def test_unimportable_exception_type_arrives_as_runtime_error():
    class LocalError(Exception):
        pass

    class Fails(Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            raise LocalError("boom")

    with pytest.raises(RuntimeError, match="in DataLoader worker process 0") as error:
        list(DataLoader(Fails(), num_workers=1, timeout=GUARD))
    assert "LocalError: boom" in str(error.value)


def test_worker_init_fn_exception_is_reraised():
    def init(worker_id):
        1 / 0

    with pytest.raises(ZeroDivisionError, match="Caught ZeroDivisionError in DataLoader worker process 0"):
        list(DataLoader(Numbers(2), num_workers=1, worker_init_fn=init, timeout=GUARD))


@pytest.mark.parametrize(
    "how, message",
    [("exit", r"exited unexpectedly with exit code 3 \(worker id 1\)"),
     ("signal", r"is killed by signal: Killed \(worker id 1\)")],
)
def test_worker_that_dies_raises_instead_of_hanging(how, message):
    loader = DataLoader(ExitsInWorker(how), batch_size=None, num_workers=2, timeout=GUARD)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) " + message):
        list(loader)
    gc.collect()
    assert own_segments() == []


def test_persistent_loader_starts_new_workers_after_a_crash():
    loader = DataLoader(ExitsInWorker("exit"), batch_size=None, num_workers=2, persistent_workers=True, timeout=GUARD)
    for _ in range(2):
        with pytest.raises(RuntimeError, match=r"exited unexpectedly with exit code 3 \(worker id 1\)"):
            list(loader)


def test_timeout_raises_runtime_error():
    iterator = iter(DataLoader(Slow(), num_workers=1, timeout=0.3))
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.3 seconds"):
        next(iterator)
    worker = iterator._workers[0]
    del iterator  # shutdown does not wait for the sleeping worker
    gc.collect()
    assert not worker.is_alive()

"""The import hook of ``ferrotorch.run``: which modules ``torch*`` names resolve to, identities,
error messages, and ``install`` / ``uninstall``."""

import importlib
import importlib.util
import pickle
import sys

import numpy as np
import pytest

import ferrotorch
from ferrotorch import run

TORCH_MODULES = [
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.optim",
    "torch.optim.lr_scheduler", "torch.utils", "torch.utils.data", "torch.utils.checkpoint", "torch.autograd",
    "torch.distributions", "torch.amp", "torch.linalg", "torch.random", "torch.nn.modules.linear",
]


@pytest.fixture
def shim():
    run.install()
    try:
        yield
    finally:
        run.uninstall()


@pytest.mark.parametrize("name", TORCH_MODULES)
def test_torch_module_is_the_ferrotorch_module(shim, name):
    assert importlib.import_module(name) is importlib.import_module("ferro" + name)


def test_torch_cuda_resolves_without_a_device(shim):
    import torch.cuda

    assert torch.cuda is ferrotorch.cuda
    assert torch.cuda.is_available() is False
    assert torch.cuda.device_count() == 0


def test_import_statement_forms(shim):
    namespace = {}
    exec(
        "import torch\n"
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        "from torch import nn as nn2, Tensor\n"
        "from torch.nn import Module, functional\n"
        "from torch.utils.checkpoint import checkpoint\n",
        namespace,
    )
    assert namespace["torch"] is ferrotorch
    assert namespace["nn"] is namespace["nn2"] is ferrotorch.nn
    assert namespace["F"] is namespace["functional"] is ferrotorch.nn.functional
    assert namespace["Tensor"] is ferrotorch.Tensor
    assert namespace["Module"] is ferrotorch.nn.Module
    assert namespace["checkpoint"] is ferrotorch.utils.checkpoint.checkpoint


def test_identities(shim):
    import torch

    assert torch.Tensor is ferrotorch.Tensor
    assert torch.float32 is ferrotorch.float32
    assert torch.int64 is ferrotorch.long
    assert isinstance(ferrotorch.nn.Linear(2, 3), torch.nn.Module)
    assert isinstance(torch.ones(2), ferrotorch.Tensor)


def test_ferrotorch_keeps_its_own_module_specs(shim):
    import torch.nn.functional  # noqa: F401

    assert ferrotorch.__spec__.name == "ferrotorch"
    assert ferrotorch.nn.__spec__.name == "ferrotorch.nn"
    assert ferrotorch.nn.functional.__spec__.name == "ferrotorch.nn.functional"


def test_find_spec_answers_torch(shim):
    assert importlib.util.find_spec("torch.nn") is not None


def test_missing_submodule_names_both_modules(shim):
    with pytest.raises(ModuleNotFoundError, match=r"No module named 'torch\.no_such_module': ferrotorch\.run maps "
                                                  r"it to 'ferrotorch\.no_such_module', which does not exist") as info:
        import torch.no_such_module  # noqa: F401
    assert info.value.name == "torch.no_such_module"


def test_attribute_that_is_not_a_module_is_not_importable(shim):
    with pytest.raises(ModuleNotFoundError, match=r"'ferrotorch\.Tensor', which does not exist"):
        importlib.import_module("torch.Tensor")


@pytest.mark.parametrize("torch_name, ferro_name", [
    ("torchvision", "ferrovision"), ("torchaudio", "ferroaudio"), ("torchtext", "ferrotext"),
])
def test_family_packages_map_when_installed_and_say_so_when_not(shim, torch_name, ferro_name):
    assert run.ALIASES[torch_name] == ferro_name
    if importlib.util.find_spec(ferro_name) is not None:
        assert importlib.import_module(torch_name) is importlib.import_module(ferro_name)
        return
    with pytest.raises(ModuleNotFoundError, match=f"No module named '{torch_name}': ferrotorch.run maps "
                                                  f"'{torch_name}' to '{ferro_name}', which is not installed"):
        importlib.import_module(torch_name)
    with pytest.raises(ModuleNotFoundError, match=f"'{ferro_name}', which is not installed"):
        importlib.import_module(torch_name + ".models")


def test_unpickling_torch_names_gives_ferrotorch_objects(shim):
    model = ferrotorch.nn.Linear(3, 2)
    stream = pickle.dumps(model, protocol=0)
    renamed = stream.replace(b"cferrotorch\n", b"ctorch\n").replace(b"ferrotorch.", b"torch.")
    assert b"ferrotorch" not in renamed and b"torch.nn.modules.linear" in renamed
    restored = pickle.loads(renamed)
    assert type(restored) is ferrotorch.nn.Linear
    np.testing.assert_array_equal(restored.weight.detach().numpy(), model.weight.detach().numpy())


def test_install_twice_adds_one_finder():
    run.install()
    run.install()
    try:
        assert sum(type(f).__name__ == "TorchAliasFinder" for f in sys.meta_path) == 1
        assert run.installed()
    finally:
        run.uninstall()
    assert not run.installed()


def test_uninstall_restores_the_modules_it_found():
    sentinel = type(sys)("torch")
    previous = sys.modules.get("torch")
    sys.modules["torch"] = sentinel
    try:
        run.install()
        assert importlib.import_module("torch") is ferrotorch
        run.uninstall()
        assert sys.modules["torch"] is sentinel
    finally:
        run.uninstall()
        if previous is None:
            sys.modules.pop("torch", None)
        else:
            sys.modules["torch"] = previous


def test_uninstall_removes_the_aliases():
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] == "torch"}
    try:
        run.install()
        import torch.nn  # noqa: F401
        run.uninstall()
        assert "torch" not in sys.modules and "torch.nn" not in sys.modules
    finally:
        sys.modules.update(saved)

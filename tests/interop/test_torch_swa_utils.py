"""ferrotorch.optim.swa_utils against PyTorch: AveragedModel state dicts after several updates
(SWA, EMA, custom functions, buffers) and update_bn's recomputed statistics."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ferrotorch as ft  # noqa: E402


def build_pair(dtype="float64"):
    """The same small model (Linear, BatchNorm1d, Linear) in both libraries."""
    models = []
    for lib in (torch, ft):
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))
        models.append(model.to(getattr(lib, dtype)))
    copy_state(*models)
    return models


def copy_state(t_model, f_model):
    f_model.load_state_dict({k: ft.from_numpy(v.detach().numpy().copy()) for k, v in t_model.state_dict().items()})


def numpy_state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


AVERAGING = {
    "swa": lambda S: {},
    "swa-buffers": lambda S: {"use_buffers": True},
    "ema-avg_fn": lambda S: {"avg_fn": S.get_ema_avg_fn(0.9)},
    "ema-multi": lambda S: {"multi_avg_fn": S.get_ema_multi_avg_fn(0.75), "use_buffers": True},
    "swa-multi": lambda S: {"multi_avg_fn": S.get_swa_multi_avg_fn()},
    "swa-avg_fn": lambda S: {"avg_fn": S.get_swa_avg_fn()},
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", AVERAGING)
def test_averaged_model_matches_torch(name, dtype):
    rng = np.random.default_rng(0)
    t_model, f_model = build_pair(dtype)
    t_avg = torch.optim.swa_utils.AveragedModel(t_model, **AVERAGING[name](torch.optim.swa_utils))
    f_avg = ft.optim.swa_utils.AveragedModel(f_model, **AVERAGING[name](ft.optim.swa_utils))
    for _ in range(4):
        with torch.no_grad():
            for p in t_model.parameters():
                p.add_(torch.from_numpy(rng.standard_normal(tuple(p.shape))).to(p.dtype))
            t_model(torch.from_numpy(rng.standard_normal((5, 3))).to(getattr(torch, dtype)))  # moves the BN stats
        copy_state(t_model, f_model)
        t_avg.update_parameters(t_model)
        f_avg.update_parameters(f_model)
    t_state, f_state = numpy_state(t_avg), numpy_state(f_avg)
    assert list(f_state) == list(t_state)
    tol = 1e-13 if dtype == "float64" else 1e-6
    for key in t_state:
        assert f_state[key].dtype == t_state[key].dtype, key
        np.testing.assert_allclose(f_state[key], t_state[key], rtol=tol, atol=tol, err_msg=key)


def test_update_bn_matches_torch():
    rng = np.random.default_rng(1)
    t_model, f_model = build_pair()
    t_model.eval()
    f_model.eval()
    batches = [rng.standard_normal((n, 3)) for n in (4, 6, 5)]
    torch.optim.swa_utils.update_bn([(torch.from_numpy(x), 0) for x in batches], t_model)
    ft.optim.swa_utils.update_bn([(ft.from_numpy(x), 0) for x in batches], f_model)
    t_state, f_state = numpy_state(t_model), numpy_state(f_model)
    for key in t_state:
        np.testing.assert_allclose(f_state[key], t_state[key], rtol=1e-13, atol=1e-13, err_msg=key)
    assert f_model.training == t_model.training and f_model[1].momentum == t_model[1].momentum


def test_averaging_function_errors_match_torch():
    for name in ("get_ema_avg_fn", "get_ema_multi_avg_fn"):
        messages = []
        for lib in (torch, ft):
            with pytest.raises(ValueError) as info:
                getattr(lib.optim.swa_utils, name)(-0.1)
            messages.append(str(info.value))
        assert messages[1] == messages[0]

"""Discovery of the pip-installed NVIDIA libraries (ferrotorch/cuda/_libs.py) on a fake
site-packages layout, and where the core actually loaded NVRTC from."""

import os

import pytest

from ferrotorch.cuda import _libs


def make_dirs(root, *relatives):
    for relative in relatives:
        os.makedirs(os.path.join(root, relative))


def test_finds_the_cuda13_wheel_folder(tmp_path):
    make_dirs(tmp_path, "nvidia/cu13/lib")
    assert _libs.library_dirs([str(tmp_path)]) == [str(tmp_path / "nvidia/cu13/lib")]


def test_finds_the_per_library_folders_of_cuda12_wheels(tmp_path):
    make_dirs(tmp_path, "nvidia/cublas/lib", "nvidia/cuda_nvrtc/lib")
    assert _libs.library_dirs([str(tmp_path)]) == [
        str(tmp_path / "nvidia/cuda_nvrtc/lib"),
        str(tmp_path / "nvidia/cublas/lib"),
    ]


def test_keeps_search_path_order_and_drops_duplicates(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    make_dirs(first, "nvidia/cu13/lib")
    make_dirs(second, "nvidia/cu13/lib")
    found = _libs.library_dirs([str(second), str(first), str(second)])
    assert found == [str(second / "nvidia/cu13/lib"), str(first / "nvidia/cu13/lib")]


def test_ignores_missing_folders_and_non_string_entries(tmp_path):
    make_dirs(tmp_path, "nvidia/other/lib")
    assert _libs.library_dirs([str(tmp_path), "", None, str(tmp_path / "missing")]) == []


def test_register_returns_the_registered_folders(tmp_path):
    make_dirs(tmp_path, "nvidia/cu13/lib")
    assert _libs.register([str(tmp_path)]) == [str(tmp_path / "nvidia/cu13/lib")]


def test_unknown_library_name_raises_value_error():
    with pytest.raises(ValueError, match="unknown CUDA library"):
        _libs.library_location("cudnn9")


def test_nvrtc_loads_from_the_loader_path_or_a_registered_wheel():
    location = _libs.library_location("nvrtc")
    if location is None:
        pytest.skip("libnvrtc not found")
    assert location == "loader path" or location in _libs.library_dirs() or "lib" in location


def test_a_missing_driver_is_reported_as_none_not_a_crash():
    location = _libs.library_location("cuda")
    assert location is None or isinstance(location, str)

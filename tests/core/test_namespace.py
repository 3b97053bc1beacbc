"""The torch top-level namespace beyond tensor ops: finfo/iinfo, constants, determinism and
matmul-precision switches, backends, legacy tensor types, typename."""

import math
import warnings

import numpy as np
import pytest

import ferrotorch as ft

FLOAT_INFO = [  # dtype, NumPy twin (bfloat16: its known values), bits
    (ft.float16, np.float16, 16),
    (ft.float32, np.float32, 32),
    (ft.float64, np.float64, 64),
]


# --- finfo / iinfo ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,np_dtype,bits", FLOAT_INFO)
def test_finfo_matches_ieee_limits(dtype, np_dtype, bits):
    info, ref = ft.finfo(dtype), np.finfo(np_dtype)
    assert info.bits == bits
    assert info.eps == float(ref.eps)
    assert info.max == float(ref.max) and info.min == float(ref.min)
    assert info.tiny == float(ref.tiny) == info.smallest_normal
    assert info.resolution == 10.0 ** -ref.precision
    assert info.dtype == str(dtype).split(".")[1]


def test_finfo_bfloat16_has_float32_range_and_8_bit_mantissa():
    info = ft.finfo(ft.bfloat16)
    assert (info.bits, info.eps, info.resolution) == (16, 2.0 ** -7, 0.01)
    assert info.max == (2 - 2.0 ** -7) * 2.0 ** 127 == -info.min
    assert info.tiny == 2.0 ** -126
    assert ft.tensor(info.max, dtype=ft.bfloat16).item() == info.max  # representable


def test_finfo_default_is_default_dtype():
    assert ft.finfo() == ft.finfo(ft.get_default_dtype())
    previous = ft.get_default_dtype()
    ft.set_default_dtype(ft.float64)
    try:
        assert ft.finfo().bits == 64
    finally:
        ft.set_default_dtype(previous)


def test_finfo_repr():
    assert repr(ft.finfo(ft.float32)) == (
        "finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, eps=1.19209e-07, "
        "smallest_normal=1.17549e-38, tiny=1.17549e-38, dtype=float32)"
    )
    assert str(ft.finfo(ft.float16)).startswith("finfo(resolution=0.001, min=-65504, max=65504, eps=0.000976562,")


@pytest.mark.parametrize("dtype,np_dtype", [
    (ft.uint8, np.uint8), (ft.int8, np.int8), (ft.int16, np.int16), (ft.int32, np.int32), (ft.int64, np.int64),
])
def test_iinfo_matches_numpy(dtype, np_dtype):
    info, ref = ft.iinfo(dtype), np.iinfo(np_dtype)
    assert (info.bits, info.min, info.max) == (ref.bits, int(ref.min), int(ref.max))
    assert isinstance(info.max, int) and info.dtype == str(dtype).split(".")[1]


def test_iinfo_repr():
    assert repr(ft.iinfo(ft.uint8)) == "iinfo(min=0, max=255, dtype=uint8)"
    assert repr(ft.iinfo(ft.int32)) == "iinfo(min=-2.14748e+09, max=2.14748e+09, dtype=int32)"


def test_info_objects_are_read_only_and_compare_by_dtype():
    info = ft.finfo(ft.float32)
    with pytest.raises(AttributeError, match="not writable"):
        info.eps = 1.0
    assert info == ft.finfo(ft.float32) and info != ft.finfo(ft.float64)
    assert hash(info) == hash(ft.finfo(ft.float32))


@pytest.mark.parametrize("call,match", [
    (lambda: ft.finfo(ft.int32), "requires a floating point input type"),
    (lambda: ft.iinfo(ft.float32), "requires an integer input type"),
    (lambda: ft.iinfo(ft.bool), "torch.bool is not supported by torch.iinfo"),
    (lambda: ft.finfo("float32"), "must be torch.dtype, not str"),
])
def test_info_rejects_wrong_dtypes(call, match):
    with pytest.raises(TypeError, match=match):
        call()


# --- constants -------------------------------------------------------------------------------

def test_constants():
    assert ft.pi == math.pi and ft.e == math.e
    assert ft.inf == math.inf and math.isnan(ft.nan)
    assert ft.newaxis is None
    assert tuple(ft.zeros(2, 3)[:, ft.newaxis].shape) == (2, 1, 3)


# --- determinism and matmul precision --------------------------------------------------------

@pytest.fixture
def restore_switches():
    yield
    ft.use_deterministic_algorithms(False)
    ft.set_float32_matmul_precision("highest")


def test_deterministic_algorithms_default_off(restore_switches):
    assert not ft.are_deterministic_algorithms_enabled()
    assert not ft.is_deterministic_algorithms_warn_only_enabled()
    assert ft.get_deterministic_debug_mode() == 0


@pytest.mark.parametrize("mode,warn_only,level", [(True, False, 2), (True, True, 1), (False, True, 0)])
def test_use_deterministic_algorithms_sets_debug_mode(restore_switches, mode, warn_only, level):
    ft.use_deterministic_algorithms(mode, warn_only=warn_only)
    assert ft.are_deterministic_algorithms_enabled() is mode
    assert ft.is_deterministic_algorithms_warn_only_enabled() is warn_only
    assert ft.get_deterministic_debug_mode() == level


@pytest.mark.parametrize("level,name", [(0, "default"), (1, "warn"), (2, "error")])
def test_set_deterministic_debug_mode_by_name_or_level(restore_switches, level, name):
    for value in (level, name):
        ft.set_deterministic_debug_mode(value)
        assert ft.get_deterministic_debug_mode() == level
        assert ft.are_deterministic_algorithms_enabled() is (level > 0)
        assert ft.is_deterministic_algorithms_warn_only_enabled() is (level == 1)


@pytest.mark.parametrize("value,error,match", [
    ("x", RuntimeError, "expected one of `default`, `warn`, `error`, but got x"),
    (3, RuntimeError, "expected 0, 1, or 2, but got 3"),
    (1.0, TypeError, "debug_mode must be str or int"),
])
def test_set_deterministic_debug_mode_validates(restore_switches, value, error, match):
    with pytest.raises(error, match=match):
        ft.set_deterministic_debug_mode(value)


def test_use_deterministic_algorithms_requires_bools(restore_switches):
    with pytest.raises(TypeError, match=r"argument 'mode' \(position 1\) must be bool, not int"):
        ft.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'warn_only' must be bool, not int"):
        ft.use_deterministic_algorithms(True, warn_only=1)
    assert not ft.are_deterministic_algorithms_enabled()


def test_float32_matmul_precision(restore_switches):
    assert ft.get_float32_matmul_precision() == "highest"
    for precision in ("high", "medium", "highest"):
        ft.set_float32_matmul_precision(precision)
        assert ft.get_float32_matmul_precision() == precision


def test_float32_matmul_precision_unknown_string_warns_and_keeps(restore_switches):
    ft.set_float32_matmul_precision("high")
    with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
        ft.set_float32_matmul_precision("low")
    assert ft.get_float32_matmul_precision() == "high"
    with pytest.raises(RuntimeError, match="expects a str, but got int"):
        ft.set_float32_matmul_precision(3)


# --- backends --------------------------------------------------------------------------------

def test_backends_without_a_gpu():
    b = ft.backends
    # cuDNN is available where its library loads, GPU or not (tests/cuda/test_cudnn.py).
    assert (b.cudnn.version() is None) == (not b.cudnn.is_available())
    assert b.cuda.is_built() is True  # every wheel has the CUDA backend; a GPU need not be present
    assert b.mps.is_available() is False and b.mps.is_built() is False
    assert b.mkldnn.is_available() is False and b.openmp.is_available() is False
    assert b.cudnn.is_acceptable(ft.zeros(1)) is False


def test_cudnn_flags_default_and_settable():
    cudnn = ft.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, False, False, True)
    cudnn.benchmark = True
    try:
        assert ft.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = False


def test_cudnn_allow_tf32_reaches_the_core():
    cudnn = ft.backends.cudnn
    cudnn.allow_tf32 = False
    try:
        assert cudnn.allow_tf32 is False and ft._C._cuda_conv_allow_tf32() is False
        with cudnn.flags(allow_tf32=True):
            assert ft._C._cuda_conv_allow_tf32() is True
        assert ft._C._cuda_conv_allow_tf32() is False
    finally:
        cudnn.allow_tf32 = True
    assert ft._C._cuda_conv_allow_tf32() is True


def test_cudnn_flags_context_sets_and_restores_even_on_error():
    cudnn = ft.backends.cudnn
    with pytest.raises(ValueError):
        with cudnn.flags(enabled=False, deterministic=True):
            assert cudnn.enabled is False and cudnn.deterministic is True
            assert cudnn.benchmark is False and cudnn.allow_tf32 is True
            raise ValueError
    assert cudnn.enabled is True and cudnn.deterministic is False


def test_cudnn_set_flags_returns_previous_values():
    cudnn = ft.backends.cudnn
    previous = cudnn.set_flags(_benchmark=True)
    try:
        assert previous == (True, False, None, False, True) and cudnn.benchmark is True
    finally:
        cudnn.set_flags(*previous)
    assert cudnn.benchmark is False


def test_mkldnn_flags_context():
    mkldnn = ft.backends.mkldnn
    with mkldnn.flags(enabled=False):
        assert mkldnn.enabled is False
    assert mkldnn.enabled is True


def test_cuda_matmul_allow_tf32_is_the_float32_matmul_precision(restore_switches):
    matmul = ft.backends.cuda.matmul
    assert matmul.allow_tf32 is False
    matmul.allow_tf32 = True
    assert ft.get_float32_matmul_precision() == "high"
    ft.set_float32_matmul_precision("highest")
    assert matmul.allow_tf32 is False
    ft.set_float32_matmul_precision("medium")
    assert matmul.allow_tf32 is True


def test_cuda_matmul_reduced_precision_flags_and_unknown_names():
    matmul = ft.backends.cuda.matmul
    assert matmul.allow_bf16_reduced_precision_reduction is True
    assert matmul.allow_fp16_reduced_precision_reduction is True
    matmul.allow_bf16_reduced_precision_reduction = False
    try:
        assert matmul.allow_bf16_reduced_precision_reduction is False
    finally:
        matmul.allow_bf16_reduced_precision_reduction = True
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        matmul.foo
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        matmul.foo = 1


def test_cuda_sdp_switches():
    cuda = ft.backends.cuda
    assert cuda.flash_sdp_enabled() and cuda.math_sdp_enabled()
    cuda.enable_flash_sdp(False)
    try:
        assert cuda.flash_sdp_enabled() is False and cuda.mem_efficient_sdp_enabled() is True
    finally:
        cuda.enable_flash_sdp(True)


def test_cpu_capability_is_a_known_name():
    assert ft.backends.cpu.get_cpu_capability() in {"DEFAULT", "VSX", "Z VECTOR", "NO AVX", "AVX2", "AVX512", "SVE256"}


# --- legacy tensor types ---------------------------------------------------------------------

LEGACY = [
    ("FloatTensor", ft.float32), ("DoubleTensor", ft.float64), ("HalfTensor", ft.float16),
    ("BFloat16Tensor", ft.bfloat16), ("ByteTensor", ft.uint8), ("CharTensor", ft.int8),
    ("ShortTensor", ft.int16), ("IntTensor", ft.int32), ("LongTensor", ft.int64), ("BoolTensor", ft.bool),
]


@pytest.mark.parametrize("name,dtype", LEGACY)
def test_legacy_type_constructs_by_sizes_and_by_data(name, dtype):
    cls = getattr(ft, name)
    assert cls(2, 3).dtype == dtype and tuple(cls(2, 3).shape) == (2, 3)
    assert tuple(cls(ft.Size([4])).shape) == (4,)
    assert tuple(cls().shape) == (0,)
    data = cls([1, 0, 1])
    assert data.dtype == dtype and data.tolist() == [True, False, True] if dtype == ft.bool else data.tolist() == [1, 0, 1]


@pytest.mark.parametrize("name,dtype", LEGACY)
def test_legacy_type_isinstance_and_type_name(name, dtype):
    cls = getattr(ft, name)
    t = ft.zeros(2, dtype=dtype)
    assert isinstance(t, cls)
    assert t.type() == "torch." + name == ft.typename(t)
    others = [getattr(ft, n) for n, d in LEGACY if d != dtype]
    assert not any(isinstance(t, other) for other in others)
    assert not issubclass(cls, ft.Tensor) and not isinstance(1.0, cls)


def test_legacy_constructor_data_forms():
    assert ft.FloatTensor((2, 3)).tolist() == [2.0, 3.0]  # a tuple is data, not sizes
    assert ft.LongTensor([1.7, -2.2]).tolist() == [1, -2]
    assert ft.FloatTensor(np.array([1, 2])).tolist() == [1.0, 2.0]
    assert tuple(ft.FloatTensor([[1, 2], [3, 4]]).shape) == (2, 2)
    assert tuple(ft.FloatTensor(0).shape) == (0,)


def test_legacy_constructor_from_tensor_aliases_it():
    x = ft.zeros(3, requires_grad=True)
    y = ft.FloatTensor(x)
    assert y is not x and y.requires_grad
    with ft.no_grad():
        y[0] = 5.0
    assert x[0].item() == 5.0
    with pytest.raises(TypeError, match="expected FloatTensor"):
        ft.FloatTensor(ft.zeros(2, dtype=ft.int64))


@pytest.mark.parametrize("call,error,match", [
    (lambda: ft.FloatTensor(2.5), TypeError, "data must be a sequence"),
    (lambda: ft.FloatTensor("abc"), TypeError, "invalid data type 'str'"),
    (lambda: ft.FloatTensor([1], [2]), TypeError, "invalid combination of arguments"),
    (lambda: ft.FloatTensor(-1), RuntimeError, "negative dimension"),
    (lambda: ft.FloatTensor([1], device="meta"), RuntimeError, "legacy constructor expects device type: cpu"),
])
def test_legacy_constructor_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_tensor_type_accepts_legacy_types_and_names():
    t = ft.tensor([1.5, 2.5])
    assert t.type(ft.DoubleTensor).dtype == ft.float64
    assert t.type("torch.IntTensor").tolist() == [1, 2]
    assert t.type(ft.int64).dtype == ft.int64
    assert t.type(ft.FloatTensor) is t
    with pytest.raises(ValueError, match="invalid type: 'torch.Foo'"):
        t.type("torch.Foo")


def test_set_default_tensor_type():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ft.set_default_tensor_type(ft.DoubleTensor)
            assert ft.get_default_dtype() == ft.float64 and ft.zeros(1).dtype == ft.float64
            ft.set_default_tensor_type("torch.FloatTensor")
            assert ft.get_default_dtype() == ft.float32
            with pytest.raises(TypeError, match="only floating-point types are supported"):
                ft.set_default_tensor_type(ft.LongTensor)
            with pytest.raises(AttributeError, match="has no attribute 'Foo'"):
                ft.set_default_tensor_type("torch.Foo")
        finally:
            ft.set_default_dtype(ft.float32)


def test_set_default_tensor_type_is_deprecated():
    with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
        ft.set_default_tensor_type(ft.FloatTensor)


def test_typename():
    assert ft.typename(1) == "int"
    assert ft.typename(ft.nn.Linear(1, 1)) == "ferrotorch.nn.modules.linear.Linear"
    assert ft.typename(ft.nn.Linear) == "ferrotorch.nn.modules.linear.Linear"
    assert ft.typename(ft.zeros(1, dtype=ft.bool)) == "torch.BoolTensor"


# --- the rest of the namespace ---------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "finfo", "iinfo", "backends", "special", "use_deterministic_algorithms", "FloatTensor", "typename",
    "diff", "cross", "cdist", "cov", "corrcoef", "vander", "combinations", "chain_matmul", "is_nonzero",
    "is_same_size", "dropout", "alpha_dropout", "feature_dropout", "embedding", "batch_norm",
    "group_norm", "instance_norm", "cosine_similarity", "pairwise_distance", "pdist", "i0", "sinc",
    "polygamma", "mvlgamma",
])
def test_top_level_names_exist(name):
    assert hasattr(ft, name)
    assert callable(ft.linalg.cross)


@pytest.mark.skipif(ft.cuda.is_available(), reason="a CUDA device is present")
def test_accelerator_without_a_gpu_answers_as_pytorchs_cuda_build():
    assert ft.accelerator.is_available() is False
    assert ft.accelerator.current_accelerator() == ft.device("cuda")
    assert ft.accelerator.current_accelerator(check_available=True) is None
    assert ft.accelerator.device_count() == 0
    for call in (ft.accelerator.current_device_index, ft.accelerator.synchronize):
        with pytest.raises(RuntimeError, match="Found no NVIDIA driver|No CUDA GPUs are available"):
            call()

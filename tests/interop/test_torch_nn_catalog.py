"""The whole of ``nn`` against PyTorch (skipped where PyTorch is not installed): every module
and function name PyTorch has exists here (bar a short, explained list), and a catalog of
constructors gives the same repr and the same state_dict keys, shapes and dtypes, so PyTorch
checkpoints load."""

import inspect

import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

# Names of torch.nn that ferrotorch leaves out, and why.
ABSENT_MODULES = {
    "DataParallel": "multi-GPU wrapper; ferrotorch drives one device",
    "SyncBatchNorm": "needs torch.distributed",
    "Container": "deprecated alias kept by PyTorch for old pickles",
    "AdaptiveLogSoftmaxWithLoss": "not in the nn issue's list",
    "FractionalMaxPool2d": "not in the nn issue's list",
    "FractionalMaxPool3d": "not in the nn issue's list",
    "LinearCrossEntropyLoss": "experimental in PyTorch 2.15",
    "NLLLoss2d": "deprecated alias of NLLLoss",
}
ABSENT_FUNCTIONS = {
    "Callable", "DType", "Optional", "ScalingType", "SwizzleType", "Tensor",  # typing re-exports
    "assert_int_or_pair", "boolean_dispatch", "handle_torch_function", "has_torch_function",
    "has_torch_function_unary", "has_torch_function_variadic",  # PyTorch's internal machinery
    "conv_tbc", "native_channel_shuffle",  # internal/legacy kernels
    "grouped_mm", "scaled_mm", "scaled_addmm", "scaled_addmm_", "scaled_grouped_mm",  # low-precision GEMM APIs
    "linear_cross_entropy",  # experimental in PyTorch 2.15
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d", "fractional_max_pool3d_with_indices",
}


def torch_module_names():
    return sorted(n for n, c in vars(torch.nn).items() if inspect.isclass(c) and issubclass(c, torch.nn.Module))


def test_every_torch_nn_module_exists():
    missing = [n for n in torch_module_names() if n not in ABSENT_MODULES and not hasattr(ft.nn, n)]
    assert missing == []


def test_every_torch_nn_functional_exists():
    names = [n for n in dir(torch.nn.functional) if not n.startswith("_") and callable(getattr(torch.nn.functional, n))]
    missing = [n for n in names if n not in ABSENT_FUNCTIONS and not hasattr(ft.nn.functional, n)]
    assert missing == []


# Constructor calls written once for both libraries (`nn` is either library's nn).
CATALOG = [
    "nn.Linear(5, 3)", "nn.Linear(5, 3, bias=False)", "nn.Bilinear(2, 3, 4)", "nn.Identity()",
    "nn.Flatten()", "nn.Unflatten(1, (2, 3))",
    "nn.Conv1d(4, 6, 3, stride=2, padding=1)", "nn.Conv2d(3, 8, (3, 5), dilation=2, groups=1, bias=False)",
    "nn.Conv2d(4, 8, 3, padding='same', padding_mode='reflect', groups=2)", "nn.Conv3d(2, 4, 3)",
    "nn.ConvTranspose1d(4, 2, 3, output_padding=1, stride=2)", "nn.ConvTranspose2d(4, 6, 3, groups=2)",
    "nn.ConvTranspose3d(2, 2, 2)",
    "nn.MaxPool1d(3)", "nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", "nn.MaxPool3d(2, return_indices=True)",
    "nn.AvgPool1d(2)", "nn.AvgPool2d(3, count_include_pad=False, divisor_override=2)", "nn.AvgPool3d(2)",
    "nn.AdaptiveAvgPool1d(4)", "nn.AdaptiveAvgPool2d((2, None))", "nn.AdaptiveAvgPool3d(1)",
    "nn.AdaptiveMaxPool1d(3)", "nn.AdaptiveMaxPool2d(2, return_indices=True)", "nn.AdaptiveMaxPool3d(1)",
    "nn.MaxUnpool1d(2)", "nn.MaxUnpool2d(2, stride=2)", "nn.MaxUnpool3d(2)",
    "nn.LPPool1d(2, 3)", "nn.LPPool2d(1.5, 2)", "nn.LPPool3d(2, 2)",
    "nn.BatchNorm1d(5)", "nn.BatchNorm2d(4, momentum=None, affine=False)", "nn.BatchNorm3d(3, track_running_stats=False)",
    "nn.InstanceNorm1d(3)", "nn.InstanceNorm2d(3, affine=True, track_running_stats=True)", "nn.InstanceNorm3d(2)",
    "nn.LayerNorm((4, 5))", "nn.LayerNorm(4, elementwise_affine=False)", "nn.LayerNorm(4, bias=False)",
    "nn.GroupNorm(2, 4)", "nn.RMSNorm(6)", "nn.LocalResponseNorm(3)", "nn.CrossMapLRN2d(3)",
    "nn.Embedding(10, 3, padding_idx=0)", "nn.EmbeddingBag(10, 3, mode='max')",
    "nn.Dropout(0.3)", "nn.Dropout1d()", "nn.Dropout2d(0.1, inplace=True)", "nn.Dropout3d()",
    "nn.AlphaDropout(0.2)", "nn.FeatureAlphaDropout()",
    "nn.ReLU()", "nn.ReLU6(inplace=True)", "nn.LeakyReLU(0.2)", "nn.ELU(alpha=0.5)", "nn.SELU()", "nn.CELU(2.0)",
    "nn.GELU(approximate='tanh')", "nn.SiLU()", "nn.Mish()", "nn.Softplus(beta=2, threshold=10)", "nn.Softsign()",
    "nn.Hardtanh(-2, 2)", "nn.Hardsigmoid()", "nn.Hardswish()", "nn.PReLU(3)", "nn.RReLU(0.1, 0.3)", "nn.GLU(-1)",
    "nn.LogSigmoid()", "nn.Tanhshrink()", "nn.Softshrink(0.3)", "nn.Hardshrink()", "nn.Threshold(0.1, 20)",
    "nn.Sigmoid()", "nn.Tanh()", "nn.Softmax(dim=1)", "nn.Softmin(dim=0)", "nn.LogSoftmax(dim=-1)", "nn.Softmax2d()",
    "nn.L1Loss()", "nn.MSELoss(reduction='sum')", "nn.CrossEntropyLoss(weight=L.ones(3), ignore_index=1, label_smoothing=0.1)",
    "nn.NLLLoss()", "nn.BCELoss()", "nn.BCEWithLogitsLoss(pos_weight=L.ones(2))", "nn.KLDivLoss(reduction='batchmean')",
    "nn.PoissonNLLLoss()", "nn.GaussianNLLLoss()", "nn.SmoothL1Loss(beta=0.5)", "nn.HuberLoss(delta=2.0)",
    "nn.MarginRankingLoss()", "nn.HingeEmbeddingLoss()", "nn.MultiLabelMarginLoss()", "nn.MultiLabelSoftMarginLoss()",
    "nn.MultiMarginLoss()", "nn.SoftMarginLoss()", "nn.CosineEmbeddingLoss()", "nn.TripletMarginLoss()",
    "nn.CTCLoss(blank=1, zero_infinity=True)",
    "nn.ZeroPad1d(2)", "nn.ZeroPad2d((1, 2, 3, 4))", "nn.ZeroPad3d(1)", "nn.ConstantPad1d(2, 1.5)", "nn.ConstantPad2d(1, 0.0)",
    "nn.ConstantPad3d(1, 2.0)", "nn.ReflectionPad1d(2)", "nn.ReflectionPad2d((1, 1, 2, 0))", "nn.ReflectionPad3d(1)",
    "nn.ReplicationPad1d(1)", "nn.ReplicationPad2d(2)", "nn.ReplicationPad3d(1)",
    "nn.CircularPad1d(1)", "nn.CircularPad2d(2)", "nn.CircularPad3d(1)",
    "nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)", "nn.Upsample(size=(4, 5))",
    "nn.UpsamplingNearest2d(scale_factor=2)", "nn.UpsamplingBilinear2d(size=3)",
    "nn.PixelShuffle(2)", "nn.PixelUnshuffle(3)", "nn.ChannelShuffle(2)", "nn.Fold((4, 5), 2)", "nn.Unfold(3, padding=1)",
    "nn.PairwiseDistance()", "nn.CosineSimilarity(dim=0)",
    "nn.RNN(4, 6, num_layers=2, nonlinearity='relu', bidirectional=True)", "nn.LSTM(4, 6, proj_size=3, batch_first=True)",
    "nn.GRU(3, 5, bias=False, dropout=0.5, num_layers=2)", "nn.RNNCell(3, 4)", "nn.LSTMCell(3, 4)", "nn.GRUCell(3, 4, bias=False)",
    "nn.MultiheadAttention(8, 2)", "nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True, batch_first=True)",
    "nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)",
    "nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, norm_first=True, activation='gelu')",
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), 2, enable_nested_tensor=False)",
    "nn.Transformer(8, 2, 1, 1, 16)",
    "nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3))",
]


def build(expr, lib):
    return eval(expr, {"nn": lib.nn, "L": lib})


@pytest.mark.parametrize("expr", CATALOG)
def test_same_repr_and_state_dict_layout(expr):
    ours, theirs = build(expr, ft), build(expr, torch)
    assert repr(ours) == repr(theirs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        if isinstance(value, torch.nn.parameter.UninitializedParameter):
            continue
        assert tuple(ours_sd[key].shape) == tuple(value.shape), key
        assert str(ours_sd[key].dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key


@pytest.mark.parametrize("expr", [e for e in CATALOG if "Lazy" not in e])
def test_torch_state_dict_loads(expr):
    ours, theirs = build(expr, ft), build(expr, torch)
    state = {k: ft.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in ours.state_dict().items():
        assert (value.numpy() == theirs.state_dict()[key].numpy()).all(), key

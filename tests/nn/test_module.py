"""nn.Module: registration, iteration, state_dict, dtype moves, hooks, repr, copying."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn


class Net(nn.Module):
    """Two layers, a persistent and a non-persistent buffer, a shared submodule."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)
        self.scale = nn.Parameter(ft.ones(1))
        self.register_buffer("running", ft.zeros(2))
        self.register_buffer("scratch", ft.zeros(5), persistent=False)

    def forward(self, x):
        return self.fc2(self.fc1(x)) * self.scale + self.running


def test_assigned_parameters_and_modules_are_registered():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["fc1", "fc2"]
    assert list(net._buffers) == ["running", "scratch"]
    assert "fc1" not in net.__dict__ and net.fc1 is net._modules["fc1"]


def test_named_parameters_are_dotted_in_registration_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def test_named_parameters_prefix_and_recurse():
    net = Net()
    assert [n for n, _ in net.named_parameters(prefix="m")][:2] == ["m.scale", "m.fc1.weight"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameter_listed_once_unless_duplicates_kept():
    seq = nn.Sequential(nn.Linear(2, 2))
    seq.append(seq[0])
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4


def test_buffers_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == ["running", "scratch"]
    assert list(net.children()) == [net.fc1, net.fc2]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "fc2"]


def test_reassigning_plain_value_over_parameter_is_type_error():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'scale'"):
        net.scale = 3
    net.scale = None
    assert net.scale is None and "scale" in net._parameters


def test_assigning_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ft.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_register_errors():
    net = Net()
    with pytest.raises(KeyError, match='contain'):
        net.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="already exists"):
        net.register_buffer("fc1", ft.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        net.add_module("x", 3)


def test_delattr_removes_registered_entries():
    net = Net()
    del net.fc2
    del net.running
    assert "fc2" not in net._modules and "running" not in net._buffers
    with pytest.raises(AttributeError, match="has no attribute 'fc2'"):
        net.fc2


def test_get_submodule_and_get_parameter():
    seq = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 3)))
    assert seq.get_submodule("1.0") is seq[1][0]
    assert seq.get_parameter("1.0.bias") is seq[1][0].bias
    with pytest.raises(AttributeError, match="has no attribute `x`"):
        seq.get_submodule("1.x")


def test_buffer_class_assignment_registers_buffer():
    m = nn.Module()
    m.b = nn.Buffer(ft.ones(2), persistent=False)
    assert "b" in m._buffers and "b" not in m.state_dict()


def test_state_dict_keys_exclude_non_persistent_buffers():
    assert list(Net().state_dict()) == ["scale", "running", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def test_state_dict_is_ordered_and_detached_and_shares_storage():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["fc1.weight"].requires_grad
    sd["fc1.weight"].fill_(2.0)
    assert (net.fc1.weight == 2.0).all()
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_state_dict_prefix():
    assert next(iter(Net().state_dict(prefix="model."))) == "model.scale"


def test_load_state_dict_round_trip_copies_values():
    a, b = Net(), Net()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    assert b.fc1.weight.data_ptr() != a.fc1.weight.data_ptr()


def test_load_state_dict_strict_reports_missing_and_unexpected():
    net = Net()
    sd = net.state_dict()
    del sd["fc2.bias"]
    sd["extra"] = ft.zeros(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    assert str(info.value) == (
        'Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "fc2.bias". '
        '\n\tUnexpected key(s) in state_dict: "extra". '
    )
    result = net.load_state_dict(sd, strict=False)
    assert result == (["fc2.bias"], ["extra"])


def test_load_state_dict_size_mismatch_raises_even_when_not_strict():
    net = Net()
    sd = net.state_dict()
    sd["fc1.bias"] = ft.zeros(7)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.bias: copying a param with shape "
                       r"torch.Size\(\[7\]\) from checkpoint, the shape in current model is torch.Size\(\[4\]\)."):
        net.load_state_dict(sd, strict=False)


def test_load_state_dict_assign_takes_the_tensors():
    net = Net()
    sd = {k: v.clone() for k, v in Net().state_dict().items()}
    net.load_state_dict(sd, assign=True)
    assert net.fc1.weight.data_ptr() == sd["fc1.weight"].data_ptr()
    assert isinstance(net.fc1.weight, nn.Parameter) and net.fc1.weight.requires_grad


def test_state_dict_hooks():
    net = nn.Linear(2, 2)
    seen = []
    net._register_state_dict_hook(lambda m, sd, prefix, meta: seen.append((m, list(sd), prefix)))
    net.register_load_state_dict_post_hook(lambda m, keys: seen.append(keys.missing_keys[:]))
    net.state_dict()
    net.load_state_dict({"weight": ft.zeros(2, 2)}, strict=False)
    assert seen[0] == (net, ["weight", "bias"], "") and seen[1] == ["bias"]


def test_train_eval_recurse():
    net = Net()
    assert net.training and net.eval() is net
    assert not net.fc1.training
    net.train()
    assert net.fc2.training


def test_requires_grad_and_zero_grad():
    net = Net()
    net(ft.randn(2, 3)).sum().backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert (net.fc1.weight.grad == 0).all()
    net.zero_grad()
    assert net.fc1.weight.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_keeps_parameter_objects():
    net = Net()
    weight = net.fc1.weight
    assert net.double() is net
    assert net.fc1.weight is weight and weight.dtype == ft.float64 and isinstance(weight, nn.Parameter)
    assert net.running.dtype == ft.float64
    net.to(ft.float16)
    assert net.fc2.bias.dtype == ft.float16
    net.float().bfloat16()
    assert net.scale.dtype == ft.bfloat16
    net.half()
    assert net.scale.dtype == ft.float16


def test_to_integer_dtype_is_type_error():
    with pytest.raises(TypeError, match="only accepts floating point"):
        nn.Linear(2, 2).to(ft.int64)


def test_cpu_is_a_no_op_and_cuda_behaves_as_tensor_to_cuda():
    net = nn.Linear(2, 2)
    assert net.cpu() is net
    try:
        ft.zeros(1).to("cuda")
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e)):
            net.to("cuda")
        with pytest.raises(RuntimeError, match=str(e)):
            net.cuda()
    else:
        assert net.cuda().weight.device.type == "cuda"


def test_apply_visits_children_then_self():
    net = Net()
    order = []
    net.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "Linear", "Net"]


def test_forward_pre_hook_can_replace_args():
    lin = nn.Linear(2, 2)
    calls = []

    def hook(module, args):
        calls.append((module, args))
        return (args[0] * 0,)

    handle = lin.register_forward_pre_hook(hook)
    x = ft.ones(1, 2)
    out = lin(x)
    assert calls[0][0] is lin and calls[0][1][0] is x
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None])
    handle.remove()
    lin(x)
    assert len(calls) == 1


def test_forward_hook_with_kwargs_and_prepend_order():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("a"))
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(kwargs["factor"]) or out + 1,
                            with_kwargs=True, prepend=True)
    out = m(ft.ones(2), factor=3.0)
    assert order == [3.0, "a"]
    np.testing.assert_allclose(out.numpy(), [4.0, 4.0])


def test_handle_as_context_manager_removes_hook():
    lin = nn.Linear(2, 2)
    calls = []
    with lin.register_forward_hook(lambda *a: calls.append(1)):
        lin(ft.ones(1, 2))
    lin(ft.ones(1, 2))
    assert calls == [1]


def test_full_backward_hook_receives_input_and_output_grads():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gin, gout: seen.append((m, gin, gout)))
    x = ft.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    module, grad_input, grad_output = seen[0]
    assert module is lin and len(grad_input) == 1 and len(grad_output) == 1
    np.testing.assert_allclose(grad_output[0].numpy(), np.ones((4, 2)))
    expected = np.ones((4, 2)) @ lin.weight.detach().numpy()
    np.testing.assert_allclose(grad_input[0].numpy(), expected, rtol=1e-6)


def test_full_backward_hook_can_replace_grad_input():
    lin = nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0,))
    x = ft.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((4, 3)))


def test_full_backward_hook_without_input_grad_gets_none():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gin, gout: seen.append(gin))
    lin(ft.randn(4, 3)).sum().backward()
    assert seen == [(None,)]


def test_repr_nests_children_with_indentation():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (fc2): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )
    assert repr(nn.Sequential(nn.Sequential(nn.Identity()))) == (
        "Sequential(\n  (0): Sequential(\n    (0): Identity()\n  )\n)"
    )


def test_dir_lists_registered_names():
    names = dir(Net())
    assert {"fc1", "scale", "running", "forward", "state_dict"} <= set(names)


def test_deepcopy_gives_independent_parameters():
    net = Net()
    twin = copy.deepcopy(net)
    assert twin.fc1.weight.data_ptr() != net.fc1.weight.data_ptr()
    assert isinstance(twin.fc1.weight, nn.Parameter) and twin.fc1.weight.requires_grad
    with ft.no_grad():
        twin.fc1.weight.fill_(5.0)
    assert not (net.fc1.weight == 5.0).any()


def test_deepcopy_keeps_shared_modules_shared():
    seq = nn.Sequential(nn.Linear(2, 2))
    seq.append(seq[0])
    twin = copy.deepcopy(seq)
    assert twin[0] is twin[1] and twin[0] is not seq[0]


def test_pickle_round_trip_keeps_values_and_structure():
    net = Net()
    restored = pickle.loads(pickle.dumps(net))
    assert repr(restored) == repr(net)
    for (na, pa), (nb, pb) in zip(net.state_dict().items(), restored.state_dict().items()):
        assert na == nb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    assert isinstance(restored.fc1.weight, nn.Parameter) and restored.fc1.weight.requires_grad
    assert "scratch" in restored._non_persistent_buffers_set


def test_missing_forward_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(ft.ones(1))


def test_full_backward_hook_gets_a_grad_for_every_tensor_input_zero_when_not_required():
    bl = nn.Bilinear(2, 3, 1, dtype=ft.float64)
    seen = []
    bl.register_full_backward_hook(lambda m, gin, gout: seen.append(gin))
    x1 = ft.randn(4, 2, dtype=ft.float64, requires_grad=True)
    x2 = ft.randn(4, 3, dtype=ft.float64)
    bl(x1, x2).sum().backward()
    w = bl.weight.detach().numpy()[0]
    np.testing.assert_allclose(seen[0][0].numpy(), x2.numpy() @ w.T, rtol=1e-12)
    # x2 does not require grad: PyTorch passes zeros for it.
    np.testing.assert_array_equal(seen[0][1].numpy(), np.zeros((4, 3)))
    assert x2.grad is None

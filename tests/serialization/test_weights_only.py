"""``load(weights_only=True)``: the restricted unpickler accepts checkpoints and allowlisted
globals, and a crafted pickle never runs code (it fails with PyTorch's style of message)."""

import io
import os
import pickle
import struct
from collections import OrderedDict

import pytest

import ferrotorch as ft
from ferrotorch import serialization
from helpers import checkpoint_bytes


class Point:
    """A user class saved inside a checkpoint (module-level so pickle can name it)."""

    def __init__(self, x):
        self.x = x


@pytest.fixture(autouse=True)
def no_user_globals():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


@pytest.fixture
def marker(tmp_path):
    """A file the malicious payloads try to create; it must never appear."""
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a crafted pickle ran code"


def load_pickle(data_pkl, records=None, **kwargs):
    return ft.load(io.BytesIO(checkpoint_bytes(data_pkl, records)), **kwargs)


def op_global(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def op_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


class RunsShell:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_reduce_to_os_system_is_refused(marker):
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)Weights only load failed.*GLOBAL posix\.system was not an allowed global"):
        load_pickle(pickle.dumps(RunsShell(marker), protocol=2))


def test_stack_global_to_os_system_is_refused(marker):
    with pytest.raises(pickle.UnpicklingError, match="posix.system"):
        load_pickle(pickle.dumps(RunsShell(marker), protocol=4))


def test_global_builtins_eval_is_refused(marker):
    payload = b"\x80\x02" + op_global("builtins", "eval") + op_str(f"open({str(marker)!r}, 'w')") + b"\x85R."
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)GLOBAL eval was not an allowed global.*add_safe_globals\(\[eval\]\)"):
        load_pickle(payload)


def test_inst_and_obj_opcodes_are_refused(marker):
    inst = b"(" + op_str(f"touch {marker}") + b"ios\nsystem\n."
    obj = b"(" + op_global("os", "system") + op_str(f"touch {marker}") + b"o."
    for payload in (inst, obj):
        with pytest.raises(pickle.UnpicklingError):
            load_pickle(payload)


def test_ext_and_newobj_ex_opcodes_are_refused():
    for payload in (b"\x80\x02\x82\x01.", b"\x80\x04)}\x92."):
        with pytest.raises(pickle.UnpicklingError, match="Unsupported operand"):
            load_pickle(payload)


def test_allowed_callable_with_bad_arguments_runs_nothing(marker):
    # OrderedDict is allowed, but the arguments are not pairs: it raises, nothing else happens.
    payload = b"\x80\x02" + op_global("collections", "OrderedDict") + op_str(f"touch {marker}") + b"\x85\x85R."
    with pytest.raises((TypeError, ValueError)):
        load_pickle(payload)
    # A rebuild function fed a string instead of a storage.
    payload = (b"\x80\x02" + op_global("torch._utils", "_rebuild_tensor_v2") + b"(" + op_str("os.system")
               + b"K\x00K\x01\x85K\x01\x85\x89" + op_global("collections", "OrderedDict") + b")Rt" + b"R.")
    with pytest.raises(RuntimeError, match="expected a storage"):
        load_pickle(payload)


def test_reduce_arguments_must_be_a_tuple():
    payload = b"\x80\x02" + op_global("builtins", "set") + b"]R."
    with pytest.raises(pickle.UnpicklingError, match="unrecognized function"):
        load_pickle(payload)


def test_build_is_refused_on_plain_containers(marker):
    payload = b"\x80\x02]" + b"}" + op_str("__class__") + op_str("x") + b"sb."
    with pytest.raises(pickle.UnpicklingError, match="Can only build"):
        load_pickle(payload)


def test_build_on_ordered_dict_only_sets_instance_attributes():
    state = b"}" + op_str("_metadata") + b"}s"
    payload = b"\x80\x02" + op_global("collections", "OrderedDict") + b")R" + state + b"b."
    loaded = load_pickle(payload)
    assert type(loaded) is OrderedDict and loaded._metadata == {}


def test_persistent_id_must_name_a_storage():
    payload = b"\x80\x02(" + op_str("module") + op_str("x") + b"tQ."
    with pytest.raises(pickle.UnpicklingError, match="Only persistent_load of storage"):
        load_pickle(payload)


def test_protocol_4_containers():
    assert load_pickle(b"\x80\x04(K\x01K\x02\x91.") == frozenset({1, 2})
    assert load_pickle(b"\x80\x04\x8f\x94(K\x01\x90.") == {1}
    assert load_pickle(b"\x80\x04(\x8c\x01aK\x01d.") == {"a": 1}


def test_corrupt_streams_fail_cleanly():
    for payload in (b"\x80\x02", b"\x80\x02R.", b"\x80\x02h\x05.", b"\x80\x02(t0.", b"\x80\x02X\xff\xff\x00\x00ab."):
        with pytest.raises(pickle.UnpicklingError):
            load_pickle(payload)


def test_unknown_user_class_names_the_global_and_add_safe_globals_allows_it():
    buffer = io.BytesIO()
    ft.save({"p": Point(3), "t": ft.ones(1)}, buffer)
    name = f"{Point.__module__}.Point"
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {name} was not an allowed global"):
        ft.load(io.BytesIO(buffer.getvalue()))
    serialization.add_safe_globals([Point])
    assert serialization.get_safe_globals() == [Point]
    loaded = ft.load(io.BytesIO(buffer.getvalue()))
    assert isinstance(loaded["p"], Point) and loaded["p"].x == 3
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ft.load(io.BytesIO(buffer.getvalue()))


def test_safe_globals_context_manager_is_scoped():
    buffer = io.BytesIO()
    ft.save(Point(1), buffer)
    with serialization.safe_globals([Point]):
        assert ft.load(io.BytesIO(buffer.getvalue())).x == 1
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ft.load(io.BytesIO(buffer.getvalue()))


def test_add_safe_globals_under_another_name():
    payload = b"\x80\x02" + op_global("somewhere.else", "Point") + b")\x81}" + op_str("x") + b"K\x05sb."
    serialization.add_safe_globals([(Point, "somewhere.else.Point")])
    assert serialization.get_safe_globals() == [(Point, "somewhere.else.Point")]
    assert load_pickle(payload).x == 5
    with pytest.raises(ValueError, match="tuple of length 2"):
        serialization.add_safe_globals([(Point,)])


def test_weights_only_false_loads_user_classes():
    buffer = io.BytesIO()
    ft.save({"p": Point(4)}, buffer)
    assert ft.load(io.BytesIO(buffer.getvalue()), weights_only=False)["p"].x == 4


def test_explicit_pickle_module_requires_weights_only_false():
    buffer = io.BytesIO()
    ft.save(ft.ones(1), buffer)
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
        ft.load(io.BytesIO(buffer.getvalue()), pickle_module=pickle)
    assert ft.load(io.BytesIO(buffer.getvalue()), pickle_module=pickle, weights_only=False).tolist() == [1.0]

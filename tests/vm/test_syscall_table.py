"""VMLogic covers the whole syscall table, and the not-yet-built functions say so."""

from __future__ import annotations

import inspect

import pytest

from outlayer import errors
from outlayer.errors import InternalError, UnsupportedHostFunction
from outlayer.syscalls import GUEST_ERROR_KINDS, SYSCALLS, Syscall
from outlayer.vm.logic import VMLogic

from .conftest import VM


@pytest.mark.parametrize("sc", SYSCALLS, ids=lambda s: s.name)
def test_every_syscall_has_a_method_with_the_tables_parameters(sc: Syscall) -> None:
    method = getattr(VMLogic, sc.name, None)
    assert callable(method), f"VMLogic.{sc.name} is missing"
    params = list(inspect.signature(method).parameters)
    assert params[0] == "self"
    assert tuple(params[1:]) == sc.params


UNSUPPORTED = [s for s in SYSCALLS if s.name.startswith("bls12381_")]


@pytest.mark.parametrize("sc", UNSUPPORTED, ids=lambda s: s.name)
def test_unbuilt_functions_raise_unsupported_naming_themselves(vm: VM, sc: Syscall) -> None:
    with pytest.raises(UnsupportedHostFunction) as info:
        getattr(vm.logic, sc.name)(*[0] * len(sc.params))
    assert sc.name in info.value.message
    assert "not available" in info.value.message


@pytest.mark.parametrize(("kind", "name"), sorted(GUEST_ERROR_KINDS.items()))
def test_guest_errors_raise_their_class(vm: VM, kind: int, name: str) -> None:
    message = f"{name} happened: ✓"
    with pytest.raises(errors.HostError) as info:
        vm.logic.outlayer_guest_error(kind, *vm.put(message.encode()))
    assert type(info.value) is errors.GUEST_ERRORS[name]
    assert (info.value.kind, info.value.message) == (name, message)
    assert vm.burnt() == 2_609_863_200 + len(message.encode()) * 3_801_333  # memory read only


def test_unknown_guest_error_kind_is_internal(vm: VM) -> None:
    with pytest.raises(InternalError, match="unknown error kind 99: oops"):
        vm.logic.outlayer_guest_error(99, *vm.put(b"oops"))


def test_guest_error_message_with_bad_utf8_is_kept(vm: VM) -> None:
    with pytest.raises(errors.JSException) as info:
        vm.logic.outlayer_guest_error(3, *vm.put(b"bad \xff"))
    assert info.value.message == "bad \ufffd"

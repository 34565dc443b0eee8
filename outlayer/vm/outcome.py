"""What one contract call produced, as VMLogic hands it to the runner (nearcore's VMOutcome).

On failure nothing may be committed, yet the changes the call tried to make are worth
showing while debugging. So there are two fields: `storage_changes` is what to commit
(always empty when `error` is set) and `attempted_changes` is the overlay as it stood when
the call ended, success or not. Likewise `storage_usage` is the committed figure (the
starting one after a failure), and `return_data` is None after a failure. Logs and burnt
gas stay, as on NEAR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from outlayer.errors import OutLayerError
from outlayer.vm.overlay import AccessEntry


@dataclass(frozen=True, slots=True)
class OutcomeError:
    """The error a call ended with: the error class's NEAR name and its message."""

    kind: str
    message: str

    @classmethod
    def of(cls, error: OutLayerError) -> OutcomeError:
        return cls(error.kind, error.message)


@dataclass(frozen=True, slots=True)
class VMOutcome:
    return_data: bytes | None
    logs: tuple[str, ...]
    burnt_gas: int
    used_gas: int
    #: key -> new value (None = removed), sorted by key; empty when the call failed.
    storage_changes: Mapping[bytes, bytes | None]
    #: the overlay at the end of the call, sorted by key, kept even when it failed.
    attempted_changes: Mapping[bytes, bytes | None]
    storage_usage: int
    error: OutcomeError | None
    #: cost name -> (units, gas); see GasCounter.profile.
    profile: Mapping[str, tuple[int, int]]
    #: every storage access in call order; see outlayer.vm.overlay.
    access_log: tuple[AccessEntry, ...]
    #: which parameter table priced the call (Params.name).
    params_name: str

    @property
    def ok(self) -> bool:
        return self.error is None

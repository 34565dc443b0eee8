"""Reading a contract's source file, with the errors a user can act on."""

from __future__ import annotations

from pathlib import Path

from outlayer.errors import UserError


def read(path: Path, error: type[UserError] = UserError) -> bytes:
    """The file's bytes; a missing file, a directory or an unreadable file is `error`."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"contract file not found: {path}") from None
    except IsADirectoryError:
        raise error(f"contract path is a directory, not a file: {path}") from None
    except OSError as exc:
        raise error(f"cannot read contract file {path}: {exc.strerror}") from None

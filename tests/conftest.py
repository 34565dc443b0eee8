"""Tests read plain text from the CLI, pytest and node subprocesses: colours are switched off
here, whatever the shell or the CI says (FORCE_COLOR, CI, a TTY)."""

import os

for _name in ("FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS"):
    os.environ.pop(_name, None)
os.environ["NO_COLOR"] = "1"
os.environ["PY_COLORS"] = "0"

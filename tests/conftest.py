"""Tests read plain text from the CLI, pytest and node subprocesses: colours are switched off
here, whatever the shell or the CI says (FORCE_COLOR, CI, a TTY)."""

import os

for _name in ("FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS"):
    os.environ.pop(_name, None)
os.environ["NO_COLOR"] = "1"
os.environ["PY_COLORS"] = "0"

# CI (.ci/run sets OUTLAYER_REQUIRE_ALL) runs the property tests on hypothesis's fixed
# seed: a new random example cannot turn a submission red by chance; local runs keep
# exploring (and keep what they find in .hypothesis/).
if os.environ.get("OUTLAYER_REQUIRE_ALL") == "1":
    from hypothesis import settings as _settings

    _settings.register_profile("ci", derandomize=True, database=None)
    _settings.load_profile("ci")

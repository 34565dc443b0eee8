"""near-sdk-js contracts on OutLayer: `outlayer build` and the auto-build of deploy.

See docs/NEAR_SDK_JS.md. `build(path)` bundles a .ts/.js contract written with near-sdk-js
2.0.0 into one ES module; `ContractSimulator.deploy`, `outlayer deploy` and `outlayer run`
build a near-sdk-js source file automatically (`build_if_needed`).
"""

from outlayer.sdkjs.bundler import (
    BuildError,
    Bundle,
    build,
    build_if_needed,
    check_toolchain,
    is_bundle,
    needs_build,
)

__all__ = ["BuildError", "Bundle", "build", "build_if_needed", "check_toolchain", "is_bundle",
           "needs_build"]

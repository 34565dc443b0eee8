"""L4 guest code: what turns a contract into something an SES compartment can run.

`npm` fetches the pinned JavaScript packages (SES, acorn) at setup; `transform` turns an
ES-module contract into a compartment script at deploy time, with acorn running inside
OutLayer's own QuickJS guest; `options` holds the per-contract realm options.
"""

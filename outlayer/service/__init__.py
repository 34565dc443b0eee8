"""The OutLayer node: NEAR JSON-RPC and the web playground over one chain (`outlayer serve`)."""

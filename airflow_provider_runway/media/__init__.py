"""Media at rest, in the worker: inputs read from where they live, outputs stored, sidecars and idempotency keys.

Rule: modules here may import ``runway/`` and touch files (local paths, ``ObjectStoragePath``),
but never speak HTTP to Runway (the hook does) nor touch XCom or task state (``execution/`` does).
"""

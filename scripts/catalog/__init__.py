"""Build the provider's model catalog from the official runwayml SDK plus a small hand-kept overlay.

    .venv/bin/python -m scripts.catalog          # rewrite airflow_provider_runway/runway/catalog.json
    .venv/bin/python -m scripts.catalog --check  # exit 1, listing the differences, if it is stale

``make catalog`` runs the first. The SDK (the version uv.lock installs) defines endpoints,
models and fields (``schema.py``); ``overlay.json`` holds what the SDK does not say (prices,
CometAPI's offer and rules, default models, dates, sources). ``tests/unit/test_catalog_drift.py``
fails when the committed catalog no longer matches what the two give.
"""

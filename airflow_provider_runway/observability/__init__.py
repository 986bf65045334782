"""What the provider tells a deployment's monitoring: metrics through Airflow's ``Stats``.

Rule: a leaf — imports nothing of this package, so the hook and ``execution/`` may both use it.
"""

"""The fault tests share the in-process DAG runner of tests/conftest.py (``run_dag_source``)."""

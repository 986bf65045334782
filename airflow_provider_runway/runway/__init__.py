"""Runway's API as data and pure functions: the catalog, request bodies, credits, task answers, failures,
the retry policy and the poll schedule.

Rule: modules here import only the standard library and each other — never Airflow, an HTTP
library or a file system — so the hook, the operators and the trigger share one reading of the
API, and every decision is tested without a server.
"""

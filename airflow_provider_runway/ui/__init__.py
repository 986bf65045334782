"""The Runway view in the Airflow UI: what a run's Runway tasks made, what it cost and what failed.

An Airflow plugin (entry point ``airflow.plugins``) that mounts a small FastAPI app in the API
server and shows its pages as tabs on a DAG run and on a task instance. The pages are rendered
on the server from what the tasks recorded (XCom outcomes, the sidecars beside the outputs);
stored outputs are served from here with HTTP Range support, or through short-lived presigned
URLs of the object storage. Every route asks the auth manager for the user's access to the DAG.

Rule: ``ui/`` reads what ``execution/`` recorded and ``media/`` stored, and never talks to
Runway: it may import ``runway/``, ``media/``, ``execution/`` and ``operators/`` (their XCom
keys), never ``hooks/``. Importing this package (and ``routes``) costs nothing; FastAPI and the
API server's modules load only in the API server, when Airflow asks the plugin for its app.
"""

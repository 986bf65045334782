"""How an Airflow task runs a Runway task: the shared wait, the remembered task id, outcomes in XCom.

Rule: the Airflow glue the operators and the sensor share; it may import ``runway/``, ``media/``
and the hook, and it is the only room besides the operators that reads a task's context.
"""

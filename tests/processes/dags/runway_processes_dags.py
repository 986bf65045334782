"""DAGs run by the ``processes`` tests with a real scheduler, triggerer and LocalExecutor.

Copied into the temporary AIRFLOW_HOME's dags folder; ``runway_default`` points at the emulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

MAPPED_IMAGES = [f"https://images.example.org/runway-processes/frame-{i:02d}.jpg" for i in range(10)]
START = datetime(2026, 1, 1)

# Triggerer kill: ten paid creates, then ten deferred sensors (one trigger each).
with DAG(
    "runway_proc_mapped",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_tasks=16,
    tags=["runway", "processes-test"],
):
    submit = RunwayImageToVideoOperator.partial(task_id="submit", prompt_text="a slow pan").expand(
        prompt_image=MAPPED_IMAGES
    )
    RunwayTaskSensor.partial(task_id="wait", deferrable=True, poll_interval=1).expand(runway_task_id=submit.output)

# Worker kill (blocking): one task that submits and waits in the worker; its second try must reconnect.
# Resubmit: a try whose Runway task was cancelled; the retry must legitimately submit a new one.
for _name in ("blocking", "resubmit"):
    with DAG(f"runway_proc_{_name}", schedule=None, start_date=START, catchup=False, tags=["runway", "processes-test"]):
        RunwayImageToVideoOperator(
            task_id="submit_and_wait",
            prompt_image=f"https://images.example.org/runway-processes/{_name}.jpg",
            wait_for_completion=True,
            deferrable=False,
            poll_interval=1,
            retries=1,
            retry_delay=timedelta(seconds=1),
        )

# A user acting on deferred sensors (mark failed / mark success / clear) through the REST API: the
# trigger's on_kill (Airflow >= 3.3) cancels that sensor's Runway task and no other one. A short
# not-visible grace lets the cleared sensor's re-run give up quickly on its deleted task.
USER_KILL_IMAGES = [f"https://images.example.org/runway-processes/user-kill-{i}.jpg" for i in range(4)]
with DAG("runway_proc_user_kill", schedule=None, start_date=START, catchup=False, tags=["runway", "processes-test"]):
    user_kill_submit = RunwayImageToVideoOperator.partial(task_id="submit", prompt_text="a long take").expand(
        prompt_image=USER_KILL_IMAGES
    )
    RunwayTaskSensor.partial(task_id="wait", deferrable=True, poll_interval=1, not_visible_grace=10).expand(
        runway_task_id=user_kill_submit.output
    )

"""DAGs run by the ``processes`` tests with a real scheduler, triggerer and LocalExecutor.

Copied into the temporary AIRFLOW_HOME's dags folder; ``runway_default`` points at the emulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

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

# A user marks a deferred sensor success (map index 0) or failed (map index 1) after its Runway
# task SUCCEEDED but before the trigger polled again (a long poll interval keeps that window
# open): the finished task and its video must survive. Both API flavors in one run.
MARK_FLAVORS = {
    "cometapi": ("runway_default", {}),
    "runway": ("runway_direct", {"model": "gen4_turbo", "ratio": "1280:720", "duration": 5}),
}
with DAG(
    "runway_proc_mark_after_success", schedule=None, start_date=START, catchup=False, tags=["runway", "processes-test"]
):
    for _flavor, (_conn_id, _model) in MARK_FLAVORS.items():
        _submitted = RunwayImageToVideoOperator.partial(
            task_id=f"submit_{_flavor}", runway_conn_id=_conn_id, **_model
        ).expand(prompt_image=[f"https://images.example.org/runway-processes/mark-{_flavor}-{i}.jpg" for i in range(2)])
        RunwayTaskSensor.partial(
            task_id=f"wait_{_flavor}", runway_conn_id=_conn_id, deferrable=True, poll_interval=30
        ).expand(runway_task_id=_submitted.output)


@task
def create_runway_tasks(params: dict | None = None) -> list[str]:
    """``params["count"]`` paid creates from one worker: the waits, not the creates, are under test."""
    from airflow_provider_runway.hooks.runway import RunwayHook
    from airflow_provider_runway.runway.bodies import build_image_to_video_body

    hook = RunwayHook("runway_default")
    count = int((params or {})["count"])
    return [
        hook.submit_image_to_video(
            build_image_to_video_body(prompt_image=f"https://images.example.org/runway-processes/many-{i:04d}.jpg")
        )
        for i in range(count)
    ]


# Many deferred waits from one mapped sensor: one triggerer holding hundreds (scale), or two
# triggerers sharing them while one is killed (ha). The test sets the count in the run's conf.
for _name, _poll in (("scale", 5), ("ha", 5)):
    with DAG(
        f"runway_proc_{_name}",
        schedule=None,
        start_date=START,
        catchup=False,
        params={"count": 10},
        tags=["runway", "processes-test"],
    ):
        RunwayTaskSensor.partial(task_id="wait", deferrable=True, poll_interval=_poll).expand(
            runway_task_id=create_runway_tasks()
        )

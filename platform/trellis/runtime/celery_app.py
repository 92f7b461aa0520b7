"""Celery wiring: one Celery instance per app, every task run inside the app context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from trellis.outbox.nudges import LISTEN_SECONDS, listener_step, nudge_key
from trellis.redis_client import connect


def broker_url(redis_url: str) -> str:
    """kombu spells Unix-socket Redis ``redis+socket://``; redis-py spells it ``unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://") :]
    return redis_url


def celery_init_app(app: Flask) -> Celery:
    state = app.extensions["trellis"]

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    url = broker_url(state.redis_url)
    celery: Celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=url,
        broker_transport_options={
            "global_keyprefix": f"{state.config.redis_namespace}:",
            # A request that publishes a task must not hang on an unreachable or stuck
            # Redis. (A worker's BRPOP is not affected: kombu reads its reply only once
            # the socket is readable.)
            "socket_connect_timeout": state.config.redis_timeout_seconds,
            "socket_timeout": state.config.redis_timeout_seconds,
        },
        result_backend_transport_options={"global_keyprefix": f"{state.config.redis_namespace}:"},
        result_backend=url,
        task_always_eager=state.config.task_always_eager,
        task_acks_late=True,  # a task lost with its worker is redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=3600,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
    )
    # Web processes nudge workers through a Redis list (trellis.outbox.nudges); this hears them.
    # Its client of its own: BLPOP blocks longer than the app's Redis timeout allows.
    listener_redis = connect(
        state.redis_url, state.config.redis_timeout_seconds, blocking_seconds=LISTEN_SECONDS
    )
    celery.steps["worker"].add(
        listener_step(listener_redis, nudge_key(state.config.redis_namespace), celery.send_task)
    )
    state.plugins.hook.register_celery_tasks(celery=celery)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery

from celery import shared_task

from common.tasks import RELIABLE

from . import drain, sentry_sync, services, sweep


@shared_task(name=drain.DRAIN_TASK, **RELIABLE)  # published by name (drain.task_publish)
def drain_deliveries(slot=0):
    return drain.deliveries_drain(slot=slot, process=services.deliveries_process)


@shared_task
def requeue_stale_deliveries():
    return services.deliveries_requeue_stale()


@shared_task(name=sentry_sync.PUSH_TASK, **RELIABLE)
def push_to_sentry(sync_id):
    return sentry_sync.sync_push(sync_id=sync_id)


@shared_task
def requeue_stale_sentry_syncs():
    return sentry_sync.syncs_requeue_stale()


@shared_task
def reconcile_from_sentry():
    try:
        result = sentry_sync.reconcile_run()
    except sentry_sync.ReconcileBusy:
        return "busy: another run holds the lease"
    return result.summary() if result else "not configured"


@shared_task
def sweep_sentry_issues():
    try:
        result = sweep.sweep_run()
    except sentry_sync.ReconcileBusy:
        return "busy: another sweep holds the lease"
    return result.summary() if result else "not configured"

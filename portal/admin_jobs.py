"""What the admin jobs page shows: queued, scheduled and failed jobs per queue, and retry."""
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from portal import jobs


def _describe(job: Job | None, job_id: str) -> dict:
    if job is None:
        return {"id": job_id, "func": "?", "status": "desconhecida"}
    exc = (job.latest_result().exc_string if job.latest_result() else "") or ""
    return {"id": job.id, "func": job.func_name, "args": job.args, "status": job.get_status(refresh=False),
            "enqueued_at": job.enqueued_at, "ended_at": job.ended_at, "retries_left": job.retries_left,
            "error": exc.strip().splitlines()[-1] if exc else ""}


def job_overview(limit: int = 50) -> list[dict]:
    conn = jobs.get_redis()
    out = []
    for name in jobs.QUEUES:
        q = jobs.queue(name)
        failed = FailedJobRegistry(queue=q)
        sections = {
            "queued": q.get_job_ids()[:limit],
            "started": StartedJobRegistry(queue=q).get_job_ids()[:limit],
            "scheduled": ScheduledJobRegistry(queue=q).get_job_ids()[:limit],
            "failed": failed.get_job_ids()[:limit],
        }
        out.append({"name": name, "count": len(q), "failed_count": failed.count, **{
            k: [_describe(j, i) for i, j in zip(ids, Job.fetch_many(ids, connection=conn))] for k, ids in sections.items()}})
    return out


def requeue_failed(job_id: str) -> bool:
    for name in jobs.QUEUES:
        registry = FailedJobRegistry(queue=jobs.queue(name))
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            return True
    return False

"""The purge as a job: the sweep queues it when something is due."""

from datetime import datetime

from portal.jobs import app_job
from portal.retention import purge


@app_job
def purge_job(now_iso: str | None = None) -> dict[str, int]:
    """One bounded purge run; `now_iso` lets the sweep run it at the sweep's own moment."""
    now = datetime.fromisoformat(now_iso) if now_iso else None
    report = purge.run(now)
    return {"done": len(report.done), "skipped": len(report.skipped)}

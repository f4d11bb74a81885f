"""Run work on a file the portal did not make within the configured time and memory.

Every parse of such a file (upload checks, page images, template renders, burn-in) goes
through run_bounded: a child process limited to SIGNET_FILE_MEMORY_MB and killed after
SIGNET_FILE_TIMEOUT seconds. A refusal comes back as PdfRejected with its message.
"""

import logging

from flask import current_app, has_app_context

from portal.pdfs.errors import FileRefused, rejection, rejection_for_failure
from portal.sandbox import SandboxFailure, run_isolated

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0
DEFAULT_MEMORY_MB = 768


def run_bounded(target, *args):
    """target(*args) in the sandbox; PdfRejected when the file is refused or too much.

    The app's limits apply; outside an app (a script, a test of rendering) the defaults do.
    """
    config = current_app.config if has_app_context() else {}
    try:
        return run_isolated(target, *args,
                            timeout=config.get("SIGNET_FILE_TIMEOUT", DEFAULT_TIMEOUT),
                            memory_mb=config.get("SIGNET_FILE_MEMORY_MB", DEFAULT_MEMORY_MB))
    except FileRefused as refused:
        raise rejection(refused.code, **refused.numbers) from None
    except SandboxFailure as failure:
        log.warning("%s gave no result within the bounds: %s", target.__name__, failure)
        raise rejection_for_failure(failure.reason) from failure

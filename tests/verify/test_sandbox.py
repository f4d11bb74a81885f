"""The sandbox: a child that hangs, eats memory, crashes or raises never takes the caller down."""

import asyncio
import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.sandbox import (
    CALLS_PER_WORKER,
    CRASHED,
    FAILED,
    OUT_OF_MEMORY,
    TIMEOUT,
    SandboxFailure,
    run_isolated,
)
from portal.verify.report import build_report
from portal.verify.verdicts import (
    AUTHENTIC,
    FOREIGN,
    INVALID,
    MODIFIED,
    PROBLEM_TOO_COMPLEX,
    UNSIGNED,
)
from tests.factories import make_user
from tests.fixtures import fixture_bytes
from tests.verify import garbage
from tests.verify import sandbox_targets as targets
from tests.verify.support import register_final, sealed_by_portal, sealed_elsewhere

LIMITS = {"timeout": 10, "memory_mb": 512}


def failure_of(target, *args, **limits) -> SandboxFailure:
    with pytest.raises(SandboxFailure) as failed:
        run_isolated(target, *args, **{**LIMITS, **limits})
    return failed.value


def test_the_childs_result_comes_back():
    result = run_isolated(targets.answer, {"a": [1, 2]}, **LIMITS)

    assert result["echo"] == {"a": [1, 2]}
    assert result["pid"] != os.getpid()


def test_a_child_past_its_deadline_is_killed(tmp_path):
    pid_file = tmp_path / "pid"

    failure = failure_of(targets.sleep_then_answer, 600, str(pid_file), timeout=1)

    assert failure.reason == TIMEOUT
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


@pytest.mark.parametrize("target", [targets.allocate_all_at_once, targets.allocate_step_by_step])
def test_a_child_over_its_memory_limit_stops_there(target):
    failure = failure_of(target, 2048, memory_mb=256)

    assert failure.reason in (OUT_OF_MEMORY, CRASHED)


def test_a_segfault_in_the_child_is_a_crash_not_ours():
    failure = failure_of(targets.crash_hard)

    assert failure.reason == CRASHED
    assert "-11" in failure.detail  # killed by SIGSEGV
    assert run_isolated(targets.answer, 1, **LIMITS)["echo"] == 1  # and the next one works


@pytest.mark.parametrize(("target", "expected"), [
    (targets.raise_error, "ValueError: a parser gave up"),
    (targets.recurse_forever, "RecursionError"),
])
def test_an_exception_in_the_child_comes_back_as_a_failure(target, expected):
    failure = failure_of(target)

    assert failure.reason == FAILED
    assert expected in failure.detail


def test_a_worker_that_answered_serves_the_next_call():
    first = run_isolated(targets.pid, **LIMITS)

    assert run_isolated(targets.pid, **LIMITS) == first


@pytest.mark.parametrize("target", [targets.raise_error, targets.crash_hard])
def test_a_worker_retires_after_a_call_that_failed(target):
    before = run_isolated(targets.pid, **LIMITS)
    with pytest.raises(SandboxFailure):
        run_isolated(target, **LIMITS)

    after = run_isolated(targets.pid, **LIMITS)

    assert after != before
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)


def test_a_worker_that_served_its_last_call_hands_over_without_a_failure():
    pids = [run_isolated(targets.pid, **LIMITS) for _ in range(2 * CALLS_PER_WORKER + 1)]

    assert len(set(pids)) >= 2
    assert max(pids.count(pid) for pid in set(pids)) <= CALLS_PER_WORKER


def test_a_worker_whose_memory_grew_retires_after_answering():
    grown = run_isolated(targets.keep_allocated, 200, **LIMITS)

    assert run_isolated(targets.pid, **LIMITS) != grown


def test_each_call_gets_its_own_memory_limit_in_a_reused_worker():
    assert failure_of(targets.allocate_all_at_once, 300, memory_mb=256).reason in (
        OUT_OF_MEMORY, CRASHED)
    worker = run_isolated(targets.pid, memory_mb=256, timeout=10)

    assert run_isolated(targets.allocate_all_at_once, 300, memory_mb=768, timeout=10) > 0
    assert run_isolated(targets.pid, **LIMITS) == worker
    assert failure_of(targets.allocate_all_at_once, 300, memory_mb=256).reason in (
        OUT_OF_MEMORY, CRASHED)


def test_a_child_that_exits_without_answering_is_a_crash():
    assert failure_of(targets.exit_quietly).reason == CRASHED


def test_a_check_out_of_time_is_reported_as_too_complex(make_app):
    app = make_app(SIGNET_VERIFY_TIMEOUT=0.001)
    with app.app_context():
        report = build_report(sealed_by_portal())

    assert report.verdict == INVALID
    assert report.problem_code == PROBLEM_TOO_COMPLEX and report.problem


def test_an_issued_file_stays_authentic_when_its_seal_cannot_be_checked(make_app):
    app = make_app(SIGNET_VERIFY_TIMEOUT=0.001)
    with app.app_context():
        pdf = sealed_by_portal()
        register_final(make_user().id, pdf)
        report = build_report(pdf)

    assert report.verdict == AUTHENTIC  # the registry alone decides
    assert report.seal is None
    assert report.problem_code == PROBLEM_TOO_COMPLEX and report.problem


def test_a_check_out_of_memory_is_reported_as_too_complex(make_app):
    app = make_app(SIGNET_VERIFY_MEMORY_MB=64)
    with app.app_context():
        report = build_report(garbage.huge_object_graph(20_000))  # needs ~150 MB to read

    assert report.verdict == INVALID
    assert report.problem_code == PROBLEM_TOO_COMPLEX


def test_checks_from_many_threads_at_once_all_get_their_verdict(app, tmp_path):
    # The Flask dev server and threaded WSGI servers call from several threads at once.
    with app.app_context():
        files = {MODIFIED: sealed_by_portal(), FOREIGN: sealed_elsewhere(tmp_path / "other"),
                 UNSIGNED: fixture_bytes("plain.pdf")}

    def verdict_of(expected):
        with app.app_context():
            return expected, build_report(files[expected]).verdict

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(verdict_of, [*files] * 4))

    assert all(expected == verdict for expected, verdict in results)


def test_a_check_works_inside_a_running_event_loop(app):
    # As in a test session driving a browser with Playwright, or an async server. In a thread
    # of its own: Playwright's loop may already run in this one.
    async def check():
        asyncio.get_running_loop()
        with app.app_context():
            return build_report(fixture_bytes("plain.pdf")).verdict

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, check()).result() == UNSIGNED


def test_a_forked_worker_starts_its_own_sandbox():
    # gunicorn and RQ fork workers from a process that may have used the sandbox already.
    run_isolated(targets.answer, "parent", **LIMITS)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: report its own check through the pipe, then vanish
        try:
            outcome = run_isolated(targets.answer, "worker", **LIMITS)["echo"]
        except BaseException as error:  # noqa: B036 - anything must reach the parent
            outcome = repr(error)
        os.write(writer, pickle.dumps(outcome))
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        outcome = pickle.loads(pipe.read())  # noqa: S301 - our own child's bytes
    os.waitpid(pid, 0)

    assert outcome == "worker"
    assert run_isolated(targets.answer, "parent again", **LIMITS)["echo"] == "parent again"

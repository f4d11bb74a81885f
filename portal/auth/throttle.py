"""Failed password logins slow an account down; they never lock its owner out.

Three brakes, each against its own abuse:
- per address (views.py, the rate limiter): one machine guessing many accounts;
- per account and address (views.py, the rate limiter): one machine guessing one account, which
  leaves the same account alone from every other address (a shared office address included);
- per account, from anywhere (here): after a few failures in a row every further attempt must
  wait, the wait doubling up to a ceiling, so guesses spread over many addresses gain nothing.
  A browser that has signed in to this account before (a known device, remembered in a signed
  cookie) is not held back: its owner gets in while strangers wait.
"""

from datetime import timedelta
from math import ceil

from flask import current_app
from sqlalchemy import update

from portal.auth.models import User
from portal.extensions import db
from portal.models_base import utcnow


def seconds_to_wait(user: User) -> int:
    """How long the account's next attempt from an unknown device must wait (0: go ahead)."""
    delay = _delay_after(user.failed_logins or 0)
    if not delay or user.last_failed_login_at is None:
        return 0
    remaining = user.last_failed_login_at + timedelta(seconds=delay) - utcnow()
    return max(0, ceil(remaining.total_seconds()))


def _delay_after(failures: int) -> int:
    config = current_app.config
    free = config["SIGNET_LOGIN_FREE_FAILURES"]
    if failures < free:
        return 0
    # 2, 4, 8 ... seconds; the exponent is capped first so a huge count cannot overflow.
    return min(2 ** min(failures - free + 1, 30), config["SIGNET_LOGIN_MAX_DELAY_SECONDS"])


def note_failure(user: User) -> None:
    """Count a wrong password in the open transaction (atomically: attempts arrive together)."""
    db.session.execute(
        update(User).where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1, last_failed_login_at=utcnow())
    )

"""Fixtures for verification tests whose outcome cannot depend on the database."""

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import base_config

# Short enough that files built to exhaust the checker cost the suite little, long enough
# that ordinary files never come near it.
TEST_TIMEOUT_SECONDS = 5


@pytest.fixture(scope="module")
def sqlite_only_app(tmp_path_factory):
    """An app on its own SQLite file, shared by a module: for hostile files and the fuzz test,
    where only the sandbox and the verdict rules matter (the registry runs on both databases in
    test_report.py)."""
    folder = tmp_path_factory.mktemp("verify")
    app = create_app({**base_config(folder, f"sqlite:///{folder / 'signet.db'}"),
                      "SIGNET_VERIFY_TIMEOUT": TEST_TIMEOUT_SECONDS})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

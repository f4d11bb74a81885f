"""Fixtures of the auth tests: the OpenID provider for single sign-on."""

import pytest

from tests.auth.oidc_support import OIDCProvider


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """A real OpenID provider on loopback, one per test process."""
    provider = OIDCProvider(tmp_path_factory.mktemp("oidc") / "provider.log")
    yield provider
    provider.stop()


@pytest.fixture
def sso_app(app, oidc_provider):
    """The shared app with single sign-on through the test provider (put back after the test)."""
    app.config.update(oidc_provider.settings())
    return app

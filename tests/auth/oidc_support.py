"""A real OpenID provider for the single sign-on tests: node `oidc-provider` on loopback.

Started once per test process (tests/oidc_provider/provider.mjs, its package installed by
`make test`); `sign_in_at_provider` plays the browser on the provider's side: its sign-in page,
then the redirect back to Signet, whose URL it returns unvisited.
"""

import re
import selectors
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from tests.services import free_port, service_missing

FOLDER = Path(__file__).resolve().parent.parent / "oidc_provider"
CLIENT_ID, CLIENT_SECRET = "signet", "signet-test-secret"  # as in provider.mjs
START_SECONDS = 20
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


class OIDCProvider:
    def __init__(self, log_path: Path):
        node = shutil.which("node")
        if node is None:
            service_missing("node (for the OpenID provider)", "not installed (apt-get install "
                            "nodejs npm)")
        if not (FOLDER / "node_modules" / "oidc-provider").is_dir():
            service_missing("oidc-provider", "its package is not installed (make test, or "
                            "npm ci --prefix tests/oidc_provider)")
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # noqa: SIM115 (open while the process runs)
        self.process = subprocess.Popen([node, "provider.mjs", str(self.port)], cwd=FOLDER,
                                        stdout=subprocess.PIPE, stderr=self._log)
        if not self._ready():
            self.stop()
            service_missing("oidc-provider", f"did not start; see {log_path}")

    def _ready(self) -> bool:
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline:
                if selector.select(timeout=deadline - time.monotonic()):
                    line = self.process.stdout.readline()
                    if not line:  # exited
                        return False
                    if line.strip() == b"ready":
                        return True
        return False

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def settings(self, **overrides) -> dict:
        """Signet's settings for this provider (the callback on 127.0.0.1, any port)."""
        return {
            "SIGNET_OIDC_DISCOVERY_URL": self.discovery_url,
            "SIGNET_OIDC_CLIENT_ID": CLIENT_ID,
            "SIGNET_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "SIGNET_OIDC_SCOPES": "openid email profile groups",
            "SIGNET_OIDC_NAME": "Test IdP",
            "SIGNET_BASE_URL": "http://127.0.0.1",
            **overrides,
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self._log.close()


def sign_in_at_provider(authorize_url: str, account: str) -> str:
    """Sign in as `account` on the provider's page; the URL it sends the browser back to."""
    provider = urlsplit(authorize_url).netloc
    with requests.Session() as browser:
        page = browser.get(authorize_url, timeout=10)  # to its sign-in page
        assert page.status_code == 200, page.text[:500]
        action = _FORM_ACTION.search(page.text)
        assert action, page.text[:500]
        response = browser.post(urljoin(page.url, action.group(1)),
                                data={"prompt": "login", "login": account, "password": "any"},
                                allow_redirects=False, timeout=10)
        for _hop in range(10):
            assert response.status_code in (302, 303), response.text[:500]
            location = urljoin(response.url, response.headers["Location"])
            if urlsplit(location).netloc != provider:
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back")


def local_path(url: str) -> str:
    """The path and query of a URL, for the Flask test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path

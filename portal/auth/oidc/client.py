"""The OpenID Connect client: Authlib's Flask client, with PKCE (S256) and a nonce.

Bound to a request: Authlib keeps the state, the nonce and the PKCE verifier in the Flask session
between the redirect to the provider and the callback, and reads the callback's parameters from
the request. Everything the provider says is checked here (state, code, ID token signature,
issuer, audience, nonce); what the claims mean for Signet is `accounts`' business.
"""

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app, request
from flask_babel import gettext as _

from portal.errors import DomainError

log = logging.getLogger(__name__)

_NAME = "signet_oidc"  # Authlib's key prefix for its state in the session


class SSOFailed(DomainError):
    """The exchange with the provider did not prove who is signing in."""

    status = 400


def _client() -> FlaskOAuth2App:
    """The client for the settings in force, made once per app and settings.

    Authlib caches the provider's discovery document and keys in the client: keeping it saves
    two requests per sign-in; settings changed at run time (tests) get a new one.
    """
    config = current_app.config
    secret = config.get("SIGNET_OIDC_CLIENT_SECRET") or None
    key = (config["SIGNET_OIDC_DISCOVERY_URL"], config["SIGNET_OIDC_CLIENT_ID"], secret,
           config["SIGNET_OIDC_SCOPES"], config["SIGNET_OIDC_TIMEOUT"])
    clients = current_app.extensions.setdefault("signet_oidc_clients", {})
    if key not in clients:
        client_kwargs = {
            "scope": config["SIGNET_OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": config["SIGNET_OIDC_TIMEOUT"],
        }
        if secret is None:  # a public client: PKCE alone protects the code
            client_kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 (a method name)
        clients.clear()
        clients[key] = FlaskOAuth2App(
            FlaskIntegration(_NAME), _NAME, client_id=config["SIGNET_OIDC_CLIENT_ID"],
            client_secret=secret, server_metadata_url=config["SIGNET_OIDC_DISCOVERY_URL"],
            client_kwargs=client_kwargs)
    return clients[key]


def _unreachable(error: Exception) -> SSOFailed:
    log.warning("OpenID provider unreachable: %s", error)
    return SSOFailed(_("The sign-in provider cannot be reached right now. Try again in a few "
                       "minutes, or ask your administrator."), 503)


def _not_confirmed() -> SSOFailed:
    return SSOFailed(_("The sign-in provider did not confirm this sign-in. Start again."))


def authorization_redirect(redirect_uri: str):
    """The redirect that sends the browser to the provider's sign-in page."""
    try:
        return _client().authorize_redirect(redirect_uri)
    except requests.RequestException as error:
        raise _unreachable(error) from error
    except (AuthlibBaseError, RuntimeError, ValueError, KeyError) as error:  # no usable discovery
        log.warning("OpenID provider's discovery document unusable: %r", error)
        raise _unreachable(error) from error


def finish_authorization() -> dict:
    """The callback: check the answer, redeem the code and return the verified claims.

    The ID token's claims (signature, issuer, audience, expiry and nonce checked by Authlib),
    completed by the userinfo endpoint's when it has one (the same `sub`).
    """
    error = request.args.get("error")
    if error:
        # The description is the provider's text, carried by a link anyone can forge: logged,
        # never shown.
        log.info("OpenID provider answered %s: %s", error[:100],
                 request.args.get("error_description", "")[:300])
        if error == "access_denied":
            raise SSOFailed(_("Sign-in was cancelled or refused at the sign-in provider."), 403)
        raise _not_confirmed()
    client = _client()
    try:
        _check_issuer(client)
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            raise _not_confirmed()  # no ID token: nothing proves who this is
        if client.load_server_metadata().get("userinfo_endpoint"):
            extra = client.userinfo(token=token)
            if extra.get("sub") != claims["sub"]:
                raise _not_confirmed()
            claims.update(extra)
        return claims
    except MismatchingStateError as mismatch:
        raise SSOFailed(_("This sign-in link is no longer valid: it was used already or "
                          "started in another browser. Start again.")) from mismatch
    except requests.RequestException as error:
        raise _unreachable(error) from error
    except (OAuthError, AuthlibBaseError, RuntimeError, ValueError) as error:
        # RuntimeError, ValueError: Authlib on a discovery document or token it cannot use.
        log.info("OpenID sign-in not confirmed: %r", error)
        raise _not_confirmed() from error


def _check_issuer(client: FlaskOAuth2App) -> None:
    """RFC 9207: a provider that names itself in the answer must be the one we asked."""
    issuer = request.args.get("iss")
    if issuer is not None and issuer != client.load_server_metadata().get("issuer"):
        raise _not_confirmed()

"""Who is calling: a personal API token (`Authorization: Bearer ocx_…`) or the browser session.

A presented but unknown, expired or revoked token is a 401 at once (no fall-through to the
session). The session is accepted only for a signed-in user and, like ninja's `django_auth`,
with Django's CSRF check on unsafe methods; it is checked only once a session user exists, so
an anonymous POST gets a 401, not a CSRF 403.

Once the user is known, a route inside a brand (`/brands/{slug}/...`) resolves the caller's
actor right away, before the request body is validated: someone outside the brand gets a 404
whatever they send, never a 422 that would tell them the route and brand exist.
"""

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from opencx.platform.actor import Actor
from opencx.platform.models import User
from opencx.platform.roles import Capability
from opencx.platform.selectors import actor_for
from opencx.platform.services import api_token_authenticate

BRAND_PARAM = "slug"


class CsrfFailed(HttpError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed: send the X-CSRFToken header with the cookie.")


class ApiTokenAuth(HttpBearer):
    def __init__(self, capability: Capability | None = None) -> None:
        super().__init__()
        self.capability = capability

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_token_authenticate(secret=token.strip())
        if user is None:
            raise AuthenticationError(message="Invalid, expired or revoked API token.")
        return admit(request, user, self.capability)


class BrowserSessionAuth(APIKeyCookie):
    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self, csrf: bool = True, capability: Capability | None = None) -> None:
        super().__init__(csrf=csrf)
        self.capability = capability

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise CsrfFailed()
        return admit(request, user, self.capability)


token_auth = ApiTokenAuth()
session_auth = BrowserSessionAuth(csrf=True)
AUTH = [token_auth, session_auth]


def requiring(capability: Capability) -> list:
    """`auth=` for a write that needs `capability`: checked once the actor is known, before the
    body is validated, so a member without it gets a 403 whatever they send."""
    return [ApiTokenAuth(capability), BrowserSessionAuth(csrf=True, capability=capability)]


def admit(request: HttpRequest, user: User, capability: Capability | None = None) -> User:
    """Resolve the actor of a route inside a brand (404 for non-members), keep it, and check
    the route's capability if it names one (403)."""
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get(BRAND_PARAM) if match is not None else None
    if slug is not None:
        request.api_actor = actor_for(user=user, brand_slug=slug)
        if capability is not None:
            request.api_actor.require(capability)
    return user


def brand_actor(request: HttpRequest, slug: str) -> Actor:
    """The caller's actor in the brand `slug`; 404 when they are not a member of it."""
    actor = getattr(request, "api_actor", None)
    if actor is not None and actor.brand.slug == slug:
        return actor
    return actor_for(user=caller(request), brand_slug=slug)


def caller(request: HttpRequest) -> User:
    """The authenticated user of an API request."""
    return request.auth

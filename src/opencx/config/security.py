"""Security settings: strict unless DEBUG, so production passes `manage.py check --deploy`."""

from .environment import env


def security_settings(debug: bool) -> dict:
    if debug:
        return {"SESSION_COOKIE_HTTPONLY": True, "X_FRAME_OPTIONS": "DENY"}
    secure = env.bool("SECURE_COOKIES", default=True)
    return {
        "SESSION_COOKIE_SECURE": secure,
        "CSRF_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": env.bool("SECURE_SSL_REDIRECT", default=True),
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_HSTS_SECONDS": env.int("SECURE_HSTS_SECONDS", default=31536000),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        # Health probes come over plain HTTP from the orchestrator.
        "SECURE_REDIRECT_EXEMPT": [r"^healthz$", r"^readyz$"],
    }

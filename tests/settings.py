"""Settings for the test suite: production settings, spoken over plain HTTP, with fast hashing."""

from opencx.config.settings import *  # noqa: F403

# The test client and the live server speak plain HTTP; HTTPS settings are checked by
# tests/config/test_settings.py against the real module.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Cached analyses must not leak between tests that reuse primary keys.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

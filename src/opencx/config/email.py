"""EMAIL_URL (smtp://user:pass@host:port, or consolemail://), default: print to the console."""

from .environment import env


def email_settings() -> dict:
    config = env.email_url("EMAIL_URL", default="consolemail://")
    return {
        "EMAIL_BACKEND": config["EMAIL_BACKEND"],
        "EMAIL_HOST": config.get("EMAIL_HOST", ""),
        "EMAIL_PORT": config.get("EMAIL_PORT", 25),
        "EMAIL_HOST_USER": config.get("EMAIL_HOST_USER", ""),
        "EMAIL_HOST_PASSWORD": config.get("EMAIL_HOST_PASSWORD", ""),
        "EMAIL_USE_TLS": config.get("EMAIL_USE_TLS", False),
        "EMAIL_USE_SSL": config.get("EMAIL_USE_SSL", False),
        "DEFAULT_FROM_EMAIL": env.str("DEFAULT_FROM_EMAIL", default="OpenCX <noreply@localhost>"),
    }

"""SMS_URL: which SMS provider sends text messages (see opencx.platform.sms).

`console://` (default: printed), `file:///path/to/dir` (one JSON file per message), or
`twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=%2B447700900123` (any Twilio-compatible API).
"""

from .environment import env


def sms_settings() -> dict:
    return {
        "SMS_URL": env.str("SMS_URL", default="console://"),
        "SMS_TIMEOUT": env.float("SMS_TIMEOUT", default=10.0),
    }

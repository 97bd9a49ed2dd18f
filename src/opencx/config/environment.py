"""Where OpenCX keeps its files, and the values read from the environment.

Everything configurable comes from environment variables; nothing is read from files a user
has to write. In embedded mode the secret key is generated once and kept in the data directory.
"""

import os
import secrets
from pathlib import Path

import environ

env = environ.Env()


def data_dir() -> Path:
    path = Path(os.environ.get("OPENCX_DATA_DIR", "./data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """SECRET_KEY from the environment, else the one generated on first start."""
    if value := os.environ.get("SECRET_KEY"):
        return value
    key_file = directory / "secret_key"
    if not key_file.exists():
        # Created with 0600 so only the owner can read it.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()

"""Inbox fixtures: inboxes of each kind, and a real IMAP server (Debian's dovecot) on loopback.

The IMAP tests skip, saying why, when the dovecot binary is absent (`apt-get install
dovecot-imapd`; `.ci/run` installs it). One dovecot per test process runs as the test's own user
with a generated configuration in a temporary folder: maildir storage, plain IMAP on a free
loopback port, one password for every mailbox name (so each test takes a fresh, empty mailbox).
Run as root, it drops to Debian's `dovecot`/`dovenull` users, as it insists.
"""

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from opencx.inbox import services
from opencx.platform.roles import Role

from ..conftest import _free_port

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None
)
MAILBOX_USER = "support@bottega.test"
MAILBOX_PASSWORD = "imap-secret"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  chroot =
}}
service submission-login {{
  chroot =
}}
service anvil {{
  chroot =
}}
service auth-worker {{
  user = {internal_user}
}}
"""


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    log: Path

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox, as a mail server would (IMAP APPEND)."""
        imap = self.connect()
        try:
            status, detail = imap.append(folder, None, None, raw)
            assert status == "OK", detail
        finally:
            imap.logout()


def _users() -> dict:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return {
            "internal_user": me.pw_name,
            "internal_group": grp.getgrgid(os.getgid()).gr_name,
            "login_user": me.pw_name,
            "mail_uid": me.pw_uid,
            "mail_gid": me.pw_gid,
        }
    internal = pwd.getpwnam("dovecot")
    return {
        "internal_user": "dovecot",
        "internal_group": "dovecot",
        "login_user": "dovenull",
        "mail_uid": internal.pw_uid,
        "mail_gid": internal.pw_gid,
    }


def _answering(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
            return probe.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _stop(config: Path) -> None:
    subprocess.run(
        [DOVECOT, "-c", str(config), "stop"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
        check=False,
    )


@dataclass
class Dovecot:
    port: int
    root: Path
    mailboxes: int = 0


@pytest.fixture(scope="session")
def dovecot():
    """One dovecot per test process; each test gets its own mailbox (`imap_server`)."""
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd): no IMAP server")
    root = Path(tempfile.mkdtemp(prefix="opencx-dovecot-"))
    root.chmod(0o755)  # dovecot's own users must reach the folder when run as root
    port = _free_port()
    users = _users()
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        os.chown(root / "mail", users["mail_uid"], users["mail_gid"])
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, password=MAILBOX_PASSWORD, **users))
    # The daemon keeps its standard streams: a pipe here would never reach end of file.
    with open(root / "start.log", "wb") as start_log:
        started = subprocess.run(
            [DOVECOT, "-c", str(config)], stdout=start_log, stderr=subprocess.STDOUT
        )
    if started.returncode != 0:
        output = (root / "start.log").read_text(errors="replace")
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"dovecot did not start: {output}")
    deadline = time.monotonic() + 15
    while not _answering(port):
        if time.monotonic() > deadline:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            _stop(config)
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(f"dovecot is not answering on port {port}:\n{log}")
        time.sleep(0.05)
    try:
        yield Dovecot(port=port, root=root)
    finally:
        _stop(config)
        pid_file = root / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_server(dovecot):
    """A fresh, empty mailbox on the shared dovecot (UIDs start at 1): every user name logs
    in with the one password, and a new name gets a new maildir."""
    dovecot.mailboxes += 1
    user = f"box{dovecot.mailboxes}@bottega.test"
    return ImapServer("127.0.0.1", dovecot.port, user, MAILBOX_PASSWORD, dovecot.root / "log")


@pytest.fixture
def email_inbox(owner_actor, store):
    """An e-mail inbox at the store; its servers are placeholders until a test points them
    at real ones."""
    return services.inbox_create_email(
        actor=owner_actor,
        name="Milano support",
        location=store,
        address="support@bottega.test",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_ssl=False,
        imap_user=MAILBOX_USER,
        imap_password=MAILBOX_PASSWORD,
        smtp_host="127.0.0.1",
        smtp_port=1,
        smtp_starttls=False,
    )


@pytest.fixture
def api_channel(owner_actor, store):
    """(inbox, bearer token) of an API inbox at the store."""
    issued = services.inbox_create_api(actor=owner_actor, name="Shop backend", location=store)
    return issued.inbox, issued.token


@pytest.fixture
def agent_at(make_actor):
    """agent_at(location, available=True, capacity=10) -> a fresh agent's actor."""

    def make(location, *, available=True, capacity=10, role=Role.AGENT):
        actor = make_actor(role, location)
        services.agent_status_set(actor=actor, available=available, capacity=capacity)
        return actor

    return make

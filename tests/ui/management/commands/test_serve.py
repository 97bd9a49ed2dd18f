"""`opencx serve` refuses a thread count that inbound messages could fill."""

import pytest
from django.core.management import CommandError, call_command

from opencx.ui.management.commands.serve import check_threads_for_people


def test_serve_refuses_threads_that_inbound_messages_could_all_hold(settings):
    settings.INBOUND_LANES, settings.INBOUND_WAITING = 1, 8
    with pytest.raises(CommandError, match=r"WEB_THREADS is 8, but inbound messages may hold 9"):
        call_command("serve", "--threads", "8", "--no-worker")


def test_the_default_threads_leave_room_for_people(settings):
    settings.INBOUND_LANES, settings.INBOUND_WAITING = 1, 8
    check_threads_for_people(16)  # the default: no error
    settings.INBOUND_WAITING = 15
    with pytest.raises(CommandError, match="lower INBOUND_WAITING"):
        check_threads_for_people(16)

"""`opencx serve` keeps inbound messages from holding every thread of a worker."""

import pytest
from django.core.management import CommandError, call_command

from opencx.ui.management.commands.serve import leave_threads_for_people


def test_the_default_threads_leave_room_for_people(settings):
    settings.INBOUND_LANES, settings.INBOUND_WAITING = 1, 8
    assert leave_threads_for_people(16) == ""
    assert settings.INBOUND_WAITING == 8


def test_fewer_threads_shorten_the_waiting_line_and_say_so(settings):
    settings.INBOUND_LANES, settings.INBOUND_WAITING = 1, 8
    note = leave_threads_for_people(4)
    assert settings.INBOUND_WAITING == 2  # 1 storing + 2 waiting: one of the 4 left for people
    assert note == (
        "INBOUND_WAITING lowered from 8 to 2, so that inbound messages leave a thread of the 4 "
        "for people's pages."
    )


def test_serve_refuses_threads_the_lanes_alone_would_fill(settings):
    settings.INBOUND_LANES, settings.INBOUND_WAITING = 4, 8
    with pytest.raises(CommandError, match=r"WEB_THREADS is 4, but INBOUND_LANES is 4"):
        call_command("serve", "--threads", "4", "--no-worker")

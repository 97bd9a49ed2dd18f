import time

from hypothesis import given
from hypothesis import strategies as st

from opencx.integrations.signing import sign, signature_of, verify_signature

secrets_ = st.text(min_size=1, max_size=60)
bodies = st.binary(max_size=500)


@given(secret=secrets_, body=bodies)
def test_a_signature_verifies(secret, body):
    assert verify_signature(secret=secret, header=sign(secret=secret, body=body), body=body)


@given(secret=secrets_, body=bodies, extra=st.binary(min_size=1, max_size=20))
def test_a_changed_body_fails(secret, body, extra):
    header = sign(secret=secret, body=body)
    assert not verify_signature(secret=secret, header=header, body=body + extra)


@given(secret=secrets_, other=secrets_, body=bodies)
def test_another_secret_fails(secret, other, body):
    header = sign(secret=secret, body=body)
    assert verify_signature(secret=other, header=header, body=body) == (other == secret)


def test_an_old_or_future_timestamp_fails():
    now = time.time()
    old = sign(secret="s", body=b"{}", timestamp=int(now) - 301)
    future = sign(secret="s", body=b"{}", timestamp=int(now) + 301)
    recent = sign(secret="s", body=b"{}", timestamp=int(now) - 299)
    assert not verify_signature(secret="s", header=old, body=b"{}", now=now)
    assert not verify_signature(secret="s", header=future, body=b"{}", now=now)
    assert verify_signature(secret="s", header=recent, body=b"{}", now=now)
    assert verify_signature(secret="s", header=old, body=b"{}", now=now, tolerance_s=600)


def test_header_format_and_the_signed_message():
    body = b'{"a":1}'
    header = sign(secret="whsec_x", body=body, timestamp=1700000000)
    expected = signature_of(secret="whsec_x", timestamp=1700000000, body=body)
    assert header == f"t=1700000000,v1={expected}"
    assert len(expected) == 64


def test_a_header_with_a_second_signature_verifies_when_either_matches():
    good = sign(secret="new", body=b"x", timestamp=100)
    header = good + ",v1=" + "0" * 64
    assert verify_signature(secret="new", header=header, body=b"x", now=100)


@given(header=st.text(max_size=120))
def test_garbage_headers_are_false_not_errors(header):
    assert verify_signature(secret="s", header=header, body=b"") is False


def test_a_tampered_timestamp_fails():
    header = sign(secret="s", body=b"x", timestamp=1000)
    forged = header.replace("t=1000", "t=1001")
    assert not verify_signature(secret="s", header=forged, body=b"x", now=1000)

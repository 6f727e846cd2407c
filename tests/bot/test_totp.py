"""TOTP (RFC 6238): the RFC's test vectors, the drift window, the replay guard, the URI."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from bot import totp

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890"
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode().rstrip("=")
NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("moment", "code"),
    [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924")],
)
def test_rfc_6238_sha1_vectors(moment: int, code: str) -> None:
    assert totp.code_at(RFC_SECRET, totp.step_of(moment), digits=8) == code


def test_six_digit_code_keeps_leading_zeros() -> None:
    # the 8-digit 07081804 truncates to 081804
    assert totp.code_at(RFC_SECRET, totp.step_of(1111111109)) == "081804"


def test_step_of_is_thirty_seconds() -> None:
    assert totp.step_of(0) == 0
    assert totp.step_of(29.999) == 0
    assert totp.step_of(30) == 1
    assert totp.step_of(59) == 1


def test_new_secret_is_160_bit_base32_without_padding() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and "=" not in secret
    assert len(base64.b32decode(secret)) == 20
    assert totp.new_secret() != secret


def test_current_and_neighbouring_steps_are_accepted() -> None:
    secret = totp.new_secret()
    now = totp.step_of(NOW)
    for drift in (-1, 0, 1):
        code = totp.code_at(secret, now + drift)
        assert totp.verify(secret, code, NOW, None) == now + drift


def test_two_steps_away_is_refused() -> None:
    secret = totp.new_secret()
    now = totp.step_of(NOW)
    for drift in (-2, 2):
        code = totp.code_at(secret, now + drift)
        # a random secret could collide with a neighbour's code by chance; skip that case
        if code in {totp.code_at(secret, now + d) for d in (-1, 0, 1)}:
            continue
        assert totp.verify(secret, code, NOW, None) is None


def test_a_code_works_once() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, totp.step_of(NOW))
    step = totp.verify(secret, code, NOW, None)
    assert step == totp.step_of(NOW)
    assert totp.verify(secret, code, NOW, step) is None
    # an older step is refused too, a newer one still works
    assert totp.verify(secret, totp.code_at(secret, step - 1), NOW, step) is None
    assert totp.verify(secret, totp.code_at(secret, step + 1), NOW, step) == step + 1


def test_spaces_are_ignored_and_junk_refused() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, totp.step_of(NOW))
    assert totp.verify(secret, f" {code[:3]} {code[3:]} ", NOW, None) == totp.step_of(NOW)
    for junk in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦", code + "0"):
        assert totp.verify(secret, junk, NOW, None) is None


def test_secret_in_lower_case_or_with_padding_works() -> None:
    step = totp.step_of(NOW)
    padded = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(RFC_SECRET.lower(), step) == totp.code_at(RFC_SECRET, step)
    assert totp.code_at(padded, step) == totp.code_at(RFC_SECRET, step)


def test_provisioning_uri() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "anna@koers.test")
    assert uri == "otpauth://totp/Koers:anna@koers.test?secret=JBSWY3DPEHPK3PXP&issuer=Koers"
    odd = urlsplit(totp.provisioning_uri("JBSWY3DPEHPK3PXP", "a b+c@x.test", issuer="Koers & Co"))
    assert odd.scheme == "otpauth" and odd.netloc == "totp"
    assert odd.path == "/Koers%20%26%20Co:a%20b%2Bc@x.test"
    assert parse_qs(odd.query) == {"secret": ["JBSWY3DPEHPK3PXP"], "issuer": ["Koers & Co"]}

"""TLS contexts for the PS3.15 BCP 195 profiles: what each builder enforces."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from dicompile.runtime.errors import TLSConfigurationError
from dicompile.runtime.security.tls import (
    BCP195_CIPHERS,
    EXTENDED_CIPHERS,
    TLSConfig,
    TLSProfile,
    client_context,
    server_context,
)


def tls12_suites(context: ssl.SSLContext) -> set[str]:
    return {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}


def test_client_defaults_verify_and_check_hostname() -> None:
    context = client_context(TLSConfig())
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert tls12_suites(context) <= set(BCP195_CIPHERS.split(":"))
    assert tls12_suites(context)  # at least one suite remains


def test_extended_profile_keeps_only_ecdhe() -> None:
    context = client_context(TLSConfig(profile=TLSProfile.BCP195_EXTENDED))
    suites = tls12_suites(context)
    assert suites and suites <= set(EXTENDED_CIPHERS.split(":"))
    assert not any(s.startswith("DHE-") for s in suites)


def test_minimum_version_below_tls12_is_refused() -> None:
    with pytest.raises(TLSConfigurationError, match=r"below TLS 1\.2"):
        client_context(TLSConfig(minimum_version=ssl.TLSVersion.TLSv1_1))
    context = client_context(TLSConfig(minimum_version=ssl.TLSVersion.TLSv1_3))
    assert context.minimum_version is ssl.TLSVersion.TLSv1_3


def test_bad_cipher_list_is_named() -> None:
    with pytest.raises(TLSConfigurationError, match="NOT-A-CIPHER"):
        client_context(TLSConfig(ciphers="NOT-A-CIPHER"))


def test_server_needs_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(TLSConfigurationError, match="certificate"):
        server_context(TLSConfig())
    missing = tmp_path / "missing.pem"
    with pytest.raises(TLSConfigurationError, match=r"missing\.pem"):
        server_context(TLSConfig(certificate=missing, private_key=missing))


def test_key_without_certificate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TLSConfigurationError, match="without its certificate"):
        client_context(TLSConfig(private_key=tmp_path / "k.pem"))


def test_client_without_verification_when_asked() -> None:
    context = client_context(TLSConfig(verify_peer=False))
    assert context.verify_mode is ssl.CERT_NONE and not context.check_hostname

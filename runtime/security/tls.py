"""TLS for DICOM associations: ``ssl.SSLContext`` builders for the PS3.15 secure transport
connection profiles.

Theory of operation
-------------------
PS3.15 Annex B defines the profiles; the later editions (2016 on) replace the old ones
(B.1 Basic TLS with 3DES, B.3 AES TLS) with those of BCP 195 (RFC 7525, now RFC 9325):

* :attr:`TLSProfile.BCP195` (B.9): TLS 1.2 or later with the BCP 195 recommended cipher
  suites: ECDHE or DHE key exchange, AES-GCM (RFC 7525 §4.2);
* :attr:`TLSProfile.BCP195_NON_DOWNGRADING` (B.10, the default): the same, and never a
  version below TLS 1.2, whatever the peer offers;
* :attr:`TLSProfile.BCP195_EXTENDED` (B.11): TLS 1.2 or later, ECDHE with AES-GCM only.

Nothing here weakens a context below Python's defaults: the older versions that PS3.15 B.9
still tolerates for fallback are not enabled (OpenSSL 3 refuses them at its default
security level anyway), so B.9 and B.10 differ only in what a configuration may lower.
TLS 1.3 cipher suites are OpenSSL's (all AEAD, all acceptable to BCP 195).

Mutual authentication is the DICOM norm (PS3.15 B.9: both sides identify with X.509
certificates): a server given CA certificates requires and verifies the client's
certificate unless told otherwise; a client verifies the server's certificate against its
CA certificates and, by default, the host name it connected to (RFC 6125).
"""

from __future__ import annotations

import enum
import os
import ssl
from typing import Final

import attrs

from dicompile.runtime.errors import TLSConfigurationError

#: RFC 7525 §4.2 recommended TLS 1.2 cipher suites, in OpenSSL's names.
BCP195_CIPHERS: Final = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
    )
)
#: The extended profile keeps only the ephemeral elliptic-curve suites.
EXTENDED_CIPHERS: Final = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    )
)


class TLSProfile(enum.Enum):
    """PS3.15 Annex B secure transport connection profiles."""

    BCP195 = "bcp195"
    BCP195_NON_DOWNGRADING = "bcp195-nd"
    BCP195_EXTENDED = "bcp195-ex"


def _path(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else os.fspath(value)


@attrs.frozen
class TLSConfig:
    """What a TLS endpoint is configured with.

    Parameters
    ----------
    certificate, private_key
        Our certificate chain and key (PEM).  A server needs them; a client sends them
        for mutual authentication.
    ca_certificates
        PEM file of the CAs that vouch for the peer; None uses the system's (client) or
        accepts no client certificate (server).
    verify_peer
        Server: require and verify a client certificate (mutual authentication; on by
        default when ``ca_certificates`` is given).  Client: verify the server's.
    check_hostname
        Client only: the server certificate must name the host connected to.
    ciphers
        An OpenSSL cipher list for TLS 1.2 replacing the profile's.
    minimum_version
        The lowest TLS version; never below TLS 1.2 (PS3.15 B.10).
    """

    certificate: str | None = attrs.field(default=None, converter=_path)
    private_key: str | None = attrs.field(default=None, converter=_path)
    ca_certificates: str | None = attrs.field(default=None, converter=_path)
    verify_peer: bool | None = None
    check_hostname: bool = True
    profile: TLSProfile = TLSProfile.BCP195_NON_DOWNGRADING
    ciphers: str | None = None
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2


def _base(config: TLSConfig, purpose: ssl.Purpose) -> ssl.SSLContext:
    protocol = (
        ssl.PROTOCOL_TLS_SERVER if purpose is ssl.Purpose.CLIENT_AUTH else ssl.PROTOCOL_TLS_CLIENT
    )
    context = ssl.SSLContext(protocol)
    if config.minimum_version < ssl.TLSVersion.TLSv1_2:
        raise TLSConfigurationError(
            f"minimum TLS version {config.minimum_version.name} is below TLS 1.2, which the"
            " BCP 195 profiles of PS3.15 Annex B forbid"
        )
    context.minimum_version = config.minimum_version
    ciphers = config.ciphers or (
        EXTENDED_CIPHERS if config.profile is TLSProfile.BCP195_EXTENDED else BCP195_CIPHERS
    )
    try:
        context.set_ciphers(ciphers)
    except ssl.SSLError as exc:
        raise TLSConfigurationError(f"cipher list {ciphers!r} selects no usable suite") from exc
    context.options |= ssl.OP_NO_COMPRESSION  # CRIME; RFC 7525 §3.3
    if config.certificate is not None:
        try:
            context.load_cert_chain(config.certificate, config.private_key)
        except (OSError, ssl.SSLError) as exc:
            raise TLSConfigurationError(
                f"cannot load certificate {config.certificate} / key {config.private_key}: {exc}"
            ) from exc
    elif config.private_key is not None:
        raise TLSConfigurationError("a private key was given without its certificate")
    if config.ca_certificates is not None:
        try:
            context.load_verify_locations(cafile=config.ca_certificates)
        except (OSError, ssl.SSLError) as exc:
            raise TLSConfigurationError(
                f"cannot load CA certificates {config.ca_certificates}: {exc}"
            ) from exc
    return context


def server_context(config: TLSConfig) -> ssl.SSLContext:
    """A server-side context for a Storage SCP or any acceptor.

    Raises
    ------
    TLSConfigurationError
        No certificate, unreadable files, or settings the profile forbids.

    References
    ----------
    PS3.15 B.9-B.11; RFC 7525 (BCP 195).
    """
    if config.certificate is None:
        raise TLSConfigurationError("a TLS server needs a certificate and its private key")
    context = _base(config, ssl.Purpose.CLIENT_AUTH)
    verify = (
        config.verify_peer if config.verify_peer is not None else config.ca_certificates is not None
    )
    if verify:
        if config.ca_certificates is None:
            raise TLSConfigurationError("verifying client certificates needs CA certificates")
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def client_context(config: TLSConfig) -> ssl.SSLContext:
    """A client-side context for an SCU or any requestor.

    Raises
    ------
    TLSConfigurationError
        Unreadable files or settings the profile forbids.

    References
    ----------
    PS3.15 B.9-B.11; RFC 7525 (BCP 195); RFC 6125 (host names).
    """
    context = _base(config, ssl.Purpose.SERVER_AUTH)
    verify = config.verify_peer if config.verify_peer is not None else True
    if verify:
        if config.ca_certificates is None:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        context.check_hostname = config.check_hostname
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context

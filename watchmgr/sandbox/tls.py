"""HTTPS for the sandbox, set up as Elasticsearch 8/9 set it up at first start.

ES creates its own CA, signs the HTTP layer's certificate with it and prints the CA's SHA-256
fingerprint so that clients can pin it. `certificates(directory)` does the same: on first use it
makes `ca.crt` (+ `ca.key`) and `http.crt` / `http.key` for ``127.0.0.1``, ``::1`` and
``localhost``; later it reuses them (and re-issues the server's pair from the kept CA if that
was removed). The server sends its certificate followed by the CA, as ES's ``http.p12`` holds
both, so a client pinning the CA's fingerprint finds it in the chain. `trustme` makes the keys
and certificates; it is needed only to create them.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
HTTP_CERT = "http.crt"
HTTP_KEY = "http.key"
#: The names the server's certificate is valid for: the loopback addresses the sandbox binds.
SERVER_NAMES = ("127.0.0.1", "::1", "localhost")


class TlsSetupError(Exception):
    """The certificates cannot be made or read; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Certificates:
    """The files of one sandbox's TLS set-up."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / CA_CERT

    @property
    def chain(self) -> Path:
        return self.directory / HTTP_CERT

    @property
    def key(self) -> Path:
        return self.directory / HTTP_KEY

    def fingerprint(self) -> str:
        """The CA certificate's SHA-256 fingerprint, 64 lower-case hex digits (as ES prints it)."""
        der = ssl.PEM_cert_to_DER_cert(self.ca.read_text(encoding="ascii"))
        return hashlib.sha256(der).hexdigest()

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting the certificate chain."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.chain, self.key)
        except (OSError, ssl.SSLError) as err:
            raise TlsSetupError(
                f"cannot load {self.chain} and {self.key} ({err}); remove them to have new "
                "ones made"
            ) from err
        return context


def certificates(directory: Path) -> Certificates:
    """The TLS files in `directory`, made there first when missing."""
    found = Certificates(directory)
    if found.ca.is_file() and found.chain.is_file() and found.key.is_file():
        return found
    try:
        import trustme
    except ImportError as err:
        raise TlsSetupError(
            "making the sandbox's certificates needs the 'trustme' package: "
            "pip install 'watchmgr[sandbox-tls]'"
        ) from err
    ca_key = directory / CA_KEY
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if found.ca.is_file():
            if not ca_key.is_file():
                raise TlsSetupError(
                    f"{found.ca} exists but {ca_key} does not, so no server certificate can be "
                    f"signed by it; remove {found.ca} to have a new CA made (and trust that one)"
                )
            ca = trustme.CA.from_pem(found.ca.read_bytes(), ca_key.read_bytes())
        else:
            ca = trustme.CA(organization_name="watchmgr sandbox")
            _write(ca_key, ca.private_key_pem.bytes(), secret=True)
            _write(found.ca, ca.cert_pem.bytes())
        issued = ca.issue_cert(*SERVER_NAMES)
        chain = b"".join(blob.bytes() for blob in issued.cert_chain_pems) + ca.cert_pem.bytes()
        _write(found.key, issued.private_key_pem.bytes(), secret=True)
        _write(found.chain, chain)
    except OSError as err:
        raise TlsSetupError(
            f"cannot write the sandbox's certificates in {directory}: {err}"
        ) from err
    return found


def _write(path: Path, data: bytes, secret: bool = False) -> None:
    """Write `data`; a private key readable by its owner only, from its first byte on."""
    path.touch(mode=0o600 if secret else 0o644, exist_ok=True)
    path.write_bytes(data)

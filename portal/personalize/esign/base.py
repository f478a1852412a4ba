"""The signature provider interface and registry.

A provider only talks to the signing service (built-in OTP pages, or a commercial API); the envelope's
states, events, stored files and the "one valid contract per unit" rule live in esign.services, shared by
every provider. Which provider new envelopes use: setting ESIGN_PROVIDER (default "builtin").
"""
from flask import current_app


class CallbackRejected(Exception):
    """A provider callback that must not change anything (bad secret, unknown envelope): HTTP status + reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class SignatureProvider:
    name = ""
    label = ""

    def create_envelope(self, envelope, pdf: bytes) -> None:
        """Register the document and the envelope's signers (name, e-mail, phone, CPF) with the service.
        May set envelope.external_id and each signer's external_id / sign_url. Raise ServiceError on refusal."""
        raise NotImplementedError

    def signer_status(self, envelope) -> dict[int, str]:
        """signer.id → "pending" | "signed" | "refused", as the service knows it now."""
        raise NotImplementedError

    def handle_callback(self, request):
        """Verify a webhook/callback and apply it through esign.services; return the envelope it concerned.
        Raise CallbackRejected when it is not authentic or not ours (nothing is changed)."""
        raise CallbackRejected(404, "Este provedor não recebe notificações.")

    def download_signed(self, envelope) -> bytes:
        """The final signed PDF."""
        raise NotImplementedError

    def cancel(self, envelope, reason: str) -> None:
        """Stop the envelope at the service (best effort for remote services: the local state is the truth)."""
        raise NotImplementedError


PROVIDERS: dict[str, SignatureProvider] = {}


def register_provider(provider: SignatureProvider) -> SignatureProvider:
    PROVIDERS[provider.name] = provider
    return provider


def get_provider(name: str | None = None) -> SignatureProvider:
    name = name or current_app.config.get("ESIGN_PROVIDER") or "builtin"
    try:
        return PROVIDERS[name]
    except KeyError:
        raise LookupError(f"unknown signature provider {name!r}") from None

"""Normalizers and validators for contact data: one implementation, used by every form and import."""
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from validate_docbr import CNPJ, CPF


class InvalidValue(ValueError):
    pass


def digits(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isdigit())


def email(value: str | None) -> str:
    value = (value or "").strip().lower()
    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=False).normalized.lower()
    except EmailNotValidError as exc:
        # Non-ASCII mailboxes need SMTPUTF8, which most providers refuse: reject them up front.
        raise InvalidValue("E-mail inválido.") from exc


def phone(value: str | None, region: str = "BR") -> str:
    """E.164 (+5511987654321) or InvalidValue."""
    try:
        parsed = phonenumbers.parse((value or "").strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue("Telefone inválido.") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidValue("Telefone inválido.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def cpf(value: str | None) -> str:
    value = digits(value)
    if not CPF().validate(value):
        raise InvalidValue("CPF inválido.")
    return value


def cnpj(value: str | None) -> str:
    value = digits(value)
    if not CNPJ().validate(value):
        raise InvalidValue("CNPJ inválido.")
    return value

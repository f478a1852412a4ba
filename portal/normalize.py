"""Normalizers and validators for input: contact data, ids and free text. One implementation, used by every
route, form, API and import (pure functions: services and the web layer both import them)."""
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from validate_docbr import CNPJ, CPF


class InvalidValue(ValueError):
    pass


# Every primary key is an INTEGER column (int4 on PostgreSQL); an id beyond it names no row, and SQLite's
# driver raises OverflowError past int8 instead of answering "no row".
ID_MAX = 2**31 - 1
FORBIDDEN_TEXT = "Contém caracteres não permitidos (caractere nulo ou inválido)."
# NUL: PostgreSQL refuses it in text and JSON; a lone surrogate cannot be encoded as UTF-8 by any driver.
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def row_id(value) -> int | None:
    """An id written in ASCII digits (int() also takes '١' and other scripts' digits) within INTEGER range;
    None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= ID_MAX else None
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(ID_MAX)):
        return None
    number = int(text)
    return number if number <= ID_MAX else None


def has_forbidden_text(value) -> bool:
    return isinstance(value, str) and _FORBIDDEN.search(value) is not None


def forbidden_fields(data, prefix: str = "") -> dict[str, str]:
    """{field path: message} for every string (keys included) holding NUL or a lone surrogate, walking nested
    objects and lists: {"extra": {"a": ["\\x00"]}} → {"extra.a[0]": FORBIDDEN_TEXT}."""
    found: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if has_forbidden_text(key):
                path = f"{prefix}.?" if prefix else "?"
                found[path] = FORBIDDEN_TEXT
            found.update(forbidden_fields(value, path))
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            found.update(forbidden_fields(value, f"{prefix}[{index}]"))
    elif has_forbidden_text(data):
        found[prefix] = FORBIDDEN_TEXT
    return found


def digits(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isdigit())


def email(value: str | None) -> str:
    value = (value or "").strip().lower()
    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=False).normalized.lower()
    except EmailNotValidError as exc:
        # Non-ASCII mailboxes need SMTPUTF8, which most providers refuse: reject them up front.
        raise InvalidValue("E-mail inválido.") from exc


def _parse_phone(text: str, region: str):
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def phone(value: str | None, region: str = "BR") -> str:
    """E.164 (+5511987654321) or InvalidValue."""
    text = (value or "").strip()
    if any(ch.isalpha() for ch in text):
        # phonenumbers reads letters through the keypad ("CASA" → 2272): a fake number, then a dedup key.
        raise InvalidValue("Telefone não pode conter letras.")
    parsed = None
    if text.lstrip("(").startswith("00"):
        # "00 55 11 …" / "0055…" is how people dial abroad; phonenumbers reads BR's "00xx" as a carrier code.
        parsed = _parse_phone("+" + digits(text)[2:], region)
    parsed = parsed or _parse_phone(text, region)
    if parsed is None:
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

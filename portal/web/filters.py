"""Template filters: money, dates, phones — the one place each is formatted."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.numbers import format_currency, format_decimal
from flask import current_app


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def brl(cents) -> str:
    """Integer centavos → 'R$ 1.234,56'."""
    if cents is None:
        return "—"
    return format_currency(cents / 100, "BRL", locale="pt_BR").replace("\xa0", " ")


def number(value, digits=0) -> str:
    if value is None:
        return "—"
    return format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale="pt_BR")


def to_local(value: datetime) -> datetime:
    return value.astimezone(local_tz())


def date_br(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%d/%m/%Y")


def datetime_br(value: datetime | None) -> str:
    if value is None:
        return "—"
    return to_local(value).strftime("%d/%m/%Y %H:%M")


def phone_br(value: str | None) -> str:
    if not value:
        return "—"
    try:
        return phonenumbers.format_number(phonenumbers.parse(value, "BR"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return value


def cpf_br(value: str | None) -> str:
    if not value or len(value) != 11:
        return value or "—"
    return f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}"


def cnpj_br(value: str | None) -> str:
    if not value or len(value) != 14:
        return value or "—"
    return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"


FILTERS = {"brl": brl, "number": number, "date_br": date_br, "datetime_br": datetime_br,
           "phone_br": phone_br, "cpf_br": cpf_br, "cnpj_br": cnpj_br, "local": to_local}


def register(app):
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["today"] = lambda: date.today()

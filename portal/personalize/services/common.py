"""Field rules shared by the personalization services: money, quantities, local date-times, URLs."""
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import current_app

from portal.web.csv_import import parse_decimal

MAX_CENTS = 10_000_000_00  # R$ 10 milhões: far above any finish, far below integer limits
MAX_QUANTITY = Decimal("99999999.99")  # Numeric(10, 2)


def field(errors: dict, name: str, parse, *args):
    """Run one field rule; its ValueError message lands in `errors[name]`."""
    try:
        return parse(*args)
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def parse_text(value, what: str, max_len: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValueError(f"Informe {what}.")
    if len(text) > max_len:
        raise ValueError(f"Use no máximo {max_len} caracteres.")
    return text


def parse_money(value) -> int:
    """'1.234,56', '1234.56', 'R$ 89' → integer centavos; blank → 0."""
    text = str(value if value is not None else "").replace("R$", "").strip()
    if not text:
        return 0
    amount = parse_decimal(text)
    if amount < 0:
        raise ValueError("O valor não pode ser negativo.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Use no máximo duas casas decimais.")
    cents = int(amount * 100)
    if cents > MAX_CENTS:
        raise ValueError("Valor alto demais.")
    return cents


def money_text(cents: int | None) -> str:
    """Centavos → '1.234,56' for form inputs (the brl filter adds the R$ for display)."""
    if cents is None:
        return ""
    reais, rest = divmod(int(cents), 100)
    return f"{reais:,}".replace(",", ".") + f",{rest:02d}"


def parse_quantity(value, blank: Decimal | None = None) -> Decimal:
    text = str(value if value is not None else "").strip()
    if not text:
        if blank is None:
            raise ValueError("Informe a quantidade.")
        return blank
    qty = parse_decimal(text)
    if qty <= 0:
        raise ValueError("A quantidade precisa ser maior que zero.")
    if qty > MAX_QUANTITY:
        raise ValueError("Quantidade grande demais.")
    if qty != qty.quantize(Decimal("0.01")):
        raise ValueError("Use no máximo duas casas decimais.")
    return qty.quantize(Decimal("0.01"))


def quantity_text(value) -> str:
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", ",")


def line_total(quantity: Decimal, unit_price_cents: int) -> int:
    """Quantity × price, rounded half-up to the centavo (the way a quote on paper is rounded)."""
    return int((Decimal(quantity) * unit_price_cents).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def parse_local_datetime(value, what: str) -> datetime:
    """'2026-03-02T18:00' (datetime-local input) or '02/03/2026 18:00' in the portal's timezone → UTC."""
    text = str(value or "").strip()
    if not text:
        raise ValueError(f"Informe {what}.")
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            naive = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    else:
        raise ValueError("Data e hora inválidas: use dd/mm/aaaa hh:mm.")
    return naive.replace(tzinfo=local_tz()).astimezone(timezone.utc)


def local_input(value: datetime | None) -> str:
    """UTC → the value a datetime-local input shows."""
    return value.astimezone(local_tz()).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_url(value) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    if not text.lower().startswith(("http://", "https://")):
        raise ValueError("Use um endereço que comece com http:// ou https://.")
    if len(text) > 500 or any(ch.isspace() for ch in text):
        raise ValueError("Endereço inválido.")
    return text


def parse_position(value) -> int:
    text = str(value if value is not None else "").strip()
    if not text:
        return 0
    try:
        number = int(text)
    except ValueError as exc:
        raise ValueError("Informe um número inteiro.") from exc
    if not -9999 <= number <= 9999:
        raise ValueError("Informe um número entre -9999 e 9999.")
    return number


def as_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "y", "on", "true", "sim", "yes")

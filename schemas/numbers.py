"""Numbers as people type them, as stored, and as printed; share arithmetic.

Pure functions used by the readers (parsing), the rule engine (kinds, messages),
the sections (exact sums) and the legacy narrative (shares).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


class NumberError(ValueError):
    """A figure that cannot be used in a computation (message in Chinese)."""


def parse_number(raw: str) -> Decimal | None:
    """ "1,591", "１５９１", " 12 " -> Decimal; anything else -> None.

    Thousands separators are accepted only in their proper places, so "1,5"
    is not silently read as 15.
    """
    text = raw.strip().translate(_FULL_WIDTH).replace(" ", "")
    if _GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    elif not _PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the patterns above exclude it
        return None


def canonical(number: Decimal) -> str:
    """Decimal -> the text stored and printed: no exponent, entered precision kept."""
    if number == number.to_integral_value() and number.as_tuple().exponent >= 0:
        return str(int(number))
    return format(number, "f")


def format_number(x) -> str:
    """12.0 -> "12"; 35.90 -> "35.9"; 24252.311082 -> "24252.311082": a figure as a message
    prints it, to every place it was written (a float prints its shortest exact repr)."""
    number = to_decimal(repr(float(x)) if isinstance(x, float) else x)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def to_decimal(x) -> Decimal:
    if isinstance(x, Decimal):
        return x
    text = str(x).replace(",", "").strip()
    try:
        return Decimal(text)
    except InvalidOperation:
        raise NumberError(f"“{x}”不是数字，不能计算占比。") from None


def share_value(part, whole) -> Decimal:
    """part / whole in percent, exact (Decimal)."""
    whole = to_decimal(whole)
    if whole == 0:
        raise NumberError(f"总数为 0，不能计算占比（部分为 {part}）。")
    return to_decimal(part) * 100 / whole


def format_share(part, whole) -> str:
    """Whole percent rounded half up; a non-zero share under 1% with one decimal
    ("0.4%"), so no non-zero count reads as 0%; under 0.05% "不足0.1%"."""
    value = share_value(part, whole)
    if value == 0 or value >= 1:
        return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"
    tenth = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{tenth}%" if tenth > 0 else "不足0.1%"


def thousands(value) -> str:
    """1591 -> "1,591"; decimals keep their entered precision."""
    text = format(to_decimal(value), "f")
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return sign + grouped + (f".{fraction}" if fraction else "")

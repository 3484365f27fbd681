"""Subscriber account numbers: digits with a trailing mod-10 (Luhn) check digit.

Pure functions, shared by every channel that reads an account number typed by
a person: bank purposes, terminals, the API and the portal.
"""

import re

# Prefixes people put before an account number in a payment purpose.
_PREFIX_RE = r"(?:л\s*/\s*с|лс|л\.с\.|acc(?:ount)?|№|no\.?|#)"
_CANDIDATE_RE = re.compile(
    r"(?:%s\s*[:.]?\s*)?(?<![\d])(\d(?:[\d \-]{3,18})\d)(?![\d])" % _PREFIX_RE,
    re.IGNORECASE,
)


def luhn_check_digit(base):
    """Return the mod-10 (Luhn) check digit for the string of digits ``base``."""
    total = 0
    for index, char in enumerate(reversed(base)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def make_account_ref(base):
    """Append the check digit to the digits ``base``."""
    base = str(base)
    return base + luhn_check_digit(base)


def normalize(text):
    """Strip spaces, dashes and common prefixes; return the digits or ''."""
    if not text:
        return ""
    text = re.sub(r"^\s*%s\s*[:.]?\s*" % _PREFIX_RE, "", str(text), flags=re.I)
    return re.sub(r"[\s\-]", "", text)


def is_valid(ref):
    """True when ``ref`` (normalized) is digits whose last one verifies."""
    return (
        bool(ref)
        and ref.isdigit()
        and 4 <= len(ref) <= 20
        and luhn_check_digit(ref[:-1]) == ref[-1]
    )


class InvalidAccountRef(ValueError):
    """An account number that ``check`` rejects.

    ``code`` says why, for the caller to word it in the reader's language:
    ``empty``, ``not_digits``, ``length`` or ``check_digit``. The English
    message is for logs and callers outside Odoo.
    """

    def __init__(self, code, text):
        self.code = code
        self.text = text
        super().__init__(_REASONS[code].format(text=text))


_REASONS = {
    "empty": "empty account number",
    "not_digits": "account number {text!r} must contain digits only",
    "length": "account number {text!r} has a wrong length",
    "check_digit": "account number {text!r} fails its check digit",
}


def check(text):
    """Return the normalized account number or raise ``InvalidAccountRef``
    whose ``code`` names why."""
    ref = normalize(text)
    if not ref:
        raise InvalidAccountRef("empty", text)
    if not ref.isdigit():
        raise InvalidAccountRef("not_digits", text)
    if not 4 <= len(ref) <= 20:
        raise InvalidAccountRef("length", text)
    if not is_valid(ref):
        raise InvalidAccountRef("check_digit", text)
    return ref


def extract(text):
    """Return the valid account numbers found in a free text, in order."""
    found = []
    for match in _CANDIDATE_RE.finditer(text or ""):
        for ref in _split_candidate(match.group(1)):
            if ref not in found:
                found.append(ref)
    return found


# Shortest account number looked for inside a run of numbers ("1000017 1500").
_MIN_PART_LEN = 5


def _split_candidate(candidate):
    """Valid numbers of a run of digits, spaces and dashes.

    The whole run first ("100 00 17", "10000-25"); else the longest valid
    runs of consecutive parts, left to right, so that an amount or a date
    typed after the number ("л/с 1000017 1500 руб", "acc 1000017 - 30.00")
    does not hide it.
    """
    joined = re.sub(r"[\s\-]", "", candidate)
    if is_valid(joined):
        return [joined]
    parts = re.split(r"[\s\-]+", candidate)
    found, start = [], 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            ref = "".join(parts[start:end])
            if len(ref) >= _MIN_PART_LEN and is_valid(ref):
                found.append(ref)
                start = end
                break
        else:
            start += 1
    return found

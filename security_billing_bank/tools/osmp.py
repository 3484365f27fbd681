"""The OSMP/QIWI check-pay protocol of the payment terminal networks: its
result codes, the formats of its parameters and its error.

Result codes answered by ``_osmp_check`` / ``_osmp_pay`` (see README.md,
"Payment terminals (OSMP/QIWI)"):

===  =====================================================================
0    OK: the account can be paid (check) / the payment is recorded (pay,
     also when a pay is repeated with the same txn_id, sum and account).
1    Temporary error, retry later: payments of the provider are paused.
4    Invalid account format: the core ``_security_parse_account_ref``
     rejects the typed number (not digits, wrong length, bad check digit).
5    Account not found in the provider's company.
7    Payment refused: the recorded payment of this txn_id was cancelled by
     the accountant, or the billing refused it (the core registration raised
     a UserError/ValidationError; the comment gives the reason).
8    Refused for technical reasons: the provider is misconfigured (journal
     missing, archived or of another company).
79   Account not active: the subscriber is archived or no longer a
     subscriber, or all its MMR contracts are terminated and it owes nothing.
90   Payment not finished: the txn_id is recorded but its payment is back in
     draft (being corrected by the accountant).
241  Sum too small (below the provider's minimum, or not positive).
242  Sum too large (above the provider's maximum).
243  Cannot check the account: the number matches several subscribers.
300  Other error: unknown command, missing or malformed txn_id, sum or
     txn_date, or a txn_id reused with another sum or account (the
     accountant gets an alert).
===  =====================================================================

The functions here are pure: they format what the protocol sends, and touch
no database (the check and pay handling is in
``models/security_terminal_provider_osmp.py``).
"""

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

RESULT_OK = 0
RESULT_TEMPORARY = 1
RESULT_BAD_ACCOUNT_FORMAT = 4
RESULT_ACCOUNT_NOT_FOUND = 5
RESULT_REFUSED = 7
RESULT_TECHNICAL = 8
RESULT_ACCOUNT_INACTIVE = 79
RESULT_NOT_FINISHED = 90
RESULT_SUM_TOO_SMALL = 241
RESULT_SUM_TOO_LARGE = 242
RESULT_CANNOT_CHECK = 243
RESULT_OTHER = 300

# Parameters of a request, the same for check and pay (GET query or POST form).
PARAMS = ("command", "txn_id", "account", "sum", "txn_date")

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
TXN_ID_RE = re.compile(r"^\d{1,20}$")
SUM_RE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
TXN_DATE_RE = re.compile(r"^\d{14}$")
TXN_DATE_FORMAT = "%Y%m%d%H%M%S"
# characters XML 1.0 cannot carry, even escaped
XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# tags of an answer, in the order the protocol gives them
ANSWER_TAGS = ("osmp_txn_id", "prv_txn", "sum", "result", "comment")


class OsmpError(Exception):
    """A request the protocol answers with a non-zero result code."""

    def __init__(self, result, comment):
        super().__init__(comment)
        self.result = result
        self.comment = comment


def format_sum(text):
    """The sum of a request as the answer echoes it ("150" -> "150.00"), or
    None when ``text`` is missing or not a well-formed sum."""
    if text is None or not SUM_RE.match(text):
        return None
    return "%.2f" % Decimal(text)


def mask_name(name):
    """'Ivan Petrov' -> 'I*** P***': enough to recognise, not to learn."""
    return " ".join(word[0] + "***" for word in (name or "").split())


def render_xml(answer):
    """The XML document of an answer.

    :param dict answer: ``osmp_txn_id``, ``prv_txn``, ``sum``, ``result``,
        ``comment`` (None values are left out) and ``fields``, a list of
        ``(name, value)`` shown by the terminal after a check
    :return: the UTF-8 XML text of the ``<response>``
    :rtype: str
    """
    root = ET.Element("response")
    for tag in ANSWER_TAGS:
        value = answer.get(tag)
        if value is not None:
            ET.SubElement(root, tag).text = XML_INVALID_RE.sub("", str(value))
    if answer.get("fields"):
        fields_node = ET.SubElement(root, "fields")
        for index, (name, value) in enumerate(answer["fields"], start=1):
            node = ET.SubElement(fields_node, f"field{index}", name=name)
            node.text = XML_INVALID_RE.sub("", str(value))
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body

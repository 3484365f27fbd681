"""Device-app status files: the line each alarm app shows on its main screen
(hub id, monthly fee, balance, currency, blocked, next payment date), written
as the vendors' servers want it.

Pure functions, no ORM: the connector (``security.app.connector``) collects
the rows and picks the serializer of its vendor. A row is a tuple in
``ROW_FIELDS`` order: ``(hubId, subscriptionFee, balance, currency, blocked,
paymentDate)``, amounts as floats rounded to 2 decimals, ``blocked`` a
boolean, the date as ``yyyy-mm-dd``; every value but the hub id is validated
before it gets here.
"""

import csv
import hashlib
import io
import json
from json.encoder import encode_basestring

from .spreadsheet import csv_text

ROW_FIELDS = (
    "hubId",
    "subscriptionFee",
    "balance",
    "currency",
    "blocked",
    "paymentDate",
)
FILENAME_FORMAT = "%Y-%m-%d-%H-%M-%S"
# value style -> one row; arguments: escaped hub id, fee, balance, currency,
# "true"/"false", date (all but the hub id validated, nothing to escape)
JSON_ROW_TEMPLATES = {
    "string": '{"hubId":%s,"subscriptionFee":"%.2f","balance":"%.2f",'
    '"currency":"%s","blocked":"%s","paymentDate":"%s"}',
    "native": '{"hubId":%s,"subscriptionFee":%.2f,"balance":%.2f,'
    '"currency":"%s","blocked":%s,"paymentDate":"%s"}',
}


def string_row(row):
    """A row as the strings of the Ajax example, in ``ROW_FIELDS`` order."""
    hub, fee, balance, currency, blocked, payment_date = row
    return (
        hub,
        "%.2f" % fee,
        "%.2f" % balance,
        currency,
        "true" if blocked else "false",
        payment_date,
    )


def row_digest(row):
    """A short digest of a row's content (changes-only mode)."""
    text = "|".join(string_row(row))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def json_array(rows, value_style="string"):
    """One JSON object a line; amounts always with 2 decimals.

    String style (the Ajax specification's example) quotes every value;
    native style writes numbers (``300.00``) and booleans. Validated
    values (amounts, ISO currency, ISO date) need no escaping; the device
    id is escaped.
    """
    if not rows:
        return "[]\n"
    template = JSON_ROW_TEMPLATES[value_style]
    lines = [
        template
        % (
            encode_basestring(hub),
            fee,
            balance,
            currency,
            "true" if blocked else "false",
            payment_date,
        )
        for hub, fee, balance, currency, blocked, payment_date in rows
    ]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def serialize_ajax(rows, value_style="string"):
    """The Ajax billing server's JSON file: ``(content, "json", mimetype)``."""
    return json_array(rows, value_style), "json", "application/json"


def serialize_webhook(rows, now, company, mode, value_style="string"):
    """The generic webhook's JSON document: ``{"company", "generatedAt",
    "mode", "count", "records": [...]}``; ``now`` is a naive UTC datetime.
    Returns ``(content, "json", mimetype)``."""
    head = json.dumps(
        {
            "company": company,
            "generatedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "mode": mode,
            "count": len(rows),
        },
        separators=(",", ":"),
    )
    content = '%s,"records":%s}\n' % (
        head[:-1],
        json_array(rows, value_style).rstrip(),
    )
    return content, "json", "application/json"


def serialize_csv(rows):
    """The rows as CSV with a header line: ``(content, "csv", "text/csv")``.

    Text cells escaped against formulas (``csv_text``); the amounts (fee,
    balance) are numbers and stay as they are.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROW_FIELDS)
    for row in rows:
        hub, fee, balance, currency, blocked, payment_date = string_row(row)
        writer.writerow(
            (
                csv_text(hub),
                fee,
                balance,
                csv_text(currency),
                csv_text(blocked),
                csv_text(payment_date),
            )
        )
    return out.getvalue(), "csv", "text/csv"

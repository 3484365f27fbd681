# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Parse 1CClientBankExchange (format 1.03) bank statement files.

Only turns bytes into the structure expected by ``account.statement.import``;
raises ValueError on foreign files and UserError on broken 1C files.
"""

import re
from datetime import datetime
from decimal import Decimal

from odoo import api, models
from odoo.exceptions import UserError

HEADER_MARK = "1CClientBankExchange"
ENCODING_KEY = "Кодировка"
ENCODINGS = {"windows": "cp1251", "dos": "cp866"}
ENCODING_NAMES = {"cp1251": "Windows", "cp866": "DOS", "utf-8": "UTF-8"}
DEFAULT_ENCODING = "cp1251"

ACCOUNT_SECTION = "СекцияРасчСчет"
ACCOUNT_SECTION_END = "КонецРасчСчет"
DOCUMENT_SECTION = "СекцияДокумент"
DOCUMENT_SECTION_END = "КонецДокумента"
FILE_END = "КонецФайла"
SECTION_ENDS = {
    ACCOUNT_SECTION: ACCOUNT_SECTION_END,
    DOCUMENT_SECTION: DOCUMENT_SECTION_END,
}
MARKERS = {ACCOUNT_SECTION, ACCOUNT_SECTION_END, DOCUMENT_SECTION_END, FILE_END}

ACCOUNT_KEY = "РасчСчет"
BALANCE_KEYS = ("НачальныйОстаток", "ВсегоПоступило", "ВсегоСписано", "КонечныйОстаток")
HEADER_DATE_KEYS = ("ДатаСоздания", "ДатаНачала", "ДатаКонца")
PURPOSE_KEY = "НазначениеПлатежа"
LEGACY_PURPOSE_KEYS = tuple(f"{PURPOSE_KEY}{index}" for index in range(1, 7))

DATE_RE = re.compile(r"\d{2}\.\d{2}\.\d{4}")
# At most 15 integer digits: what a float and a numeric column hold exactly.
AMOUNT_RE = re.compile(r"\d{1,15}(?:\.\d{1,2})?")
BALANCE_RE = re.compile(r"-?\d{1,15}(?:\.\d{1,2})?")
OUR_ACCOUNT_RE = re.compile(r"\d{20}")
# Control characters a text line may not hold (tab is tolerated).
CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Counterparty fields, per direction: what the other side is called.
PARTY_PREFIX = {"in": "Плательщик", "out": "Получатель"}
OUR_PREFIX = {"in": "Получатель", "out": "Плательщик"}
BOOKING_DATE_KEY = {"in": "ДатаПоступило", "out": "ДатаСписано"}


class AccountStatementImport1CParser(models.AbstractModel):
    _name = "account.statement.import.1c.parser"
    _description = "Bank Statement Import 1CClientBankExchange parser"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------
    @api.model
    def parse(self, data_file):
        """Return a list of ``(None, account_number, [statement_vals])``.

        One triplet per own account holding transactions. The currency is
        None: 1C files carry none, the import wizard uses the journal's.
        """
        if not self._is_1c_file(data_file):
            raise ValueError("Not a 1CClientBankExchange file.")
        lines = self._split_lines(self._decode(data_file))
        header, sections, documents, end_line = self._read_blocks(lines)
        accounts = self._own_accounts(header, sections)
        self._check_header_dates(header)
        self._check_sections(sections)
        if not documents:
            raise self._error(
                end_line, self.env._("the file contains no payment document.")
            )
        transactions = self._documents_transactions(documents, accounts)
        self._make_unique_ids_distinct(transactions)
        return [
            (
                None,
                account,
                [self._statement_vals(account, header, sections, account_lines)],
            )
            for account, account_lines in transactions.items()
            if account_lines
        ]

    @api.model
    def _is_1c_file(self, data_file):
        if not isinstance(data_file, bytes):
            return False
        first_line = data_file.split(b"\n", 1)[0].rstrip(b"\r \t")
        return first_line == HEADER_MARK.encode("ascii")

    @api.model
    def _error(self, line, problem):
        return UserError(
            self.env._(
                "1C bank statement file, line %(line)s: %(problem)s",
                line=line,
                problem=problem,
            )
        )

    # ------------------------------------------------------------------
    # Encoding
    # ------------------------------------------------------------------
    @api.model
    def _decode(self, data_file):
        encoding = self._detect_encoding(data_file)
        try:
            text = data_file.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data_file.count(b"\n", 0, exc.start) + 1
            raise self._error(
                line,
                self.env._(
                    "byte 0x%(byte)02X cannot be decoded with the declared "
                    "encoding %(encoding)s.",
                    byte=data_file[exc.start],
                    encoding=ENCODING_NAMES[encoding],
                ),
            ) from None
        # DOS files may end with a Ctrl-Z end-of-file character.
        return text.rstrip("\x1a")

    @api.model
    def _detect_encoding(self, data_file):
        """Read the Кодировка header line; its key is Cyrillic, so look for
        it as cp1251, cp866 and UTF-8 bytes; check the bytes match."""
        patterns = {
            codec: re.compile(rb"\s*%s\s*=(.*)" % re.escape(ENCODING_KEY.encode(codec)))
            for codec in ENCODING_NAMES
        }
        for number, raw_line in enumerate(data_file.split(b"\n"), start=1):
            for codec, pattern in patterns.items():
                match = pattern.fullmatch(raw_line)
                if match:
                    value = match.group(1).decode("ascii", "replace").strip()
                    return self._check_encoding(number, value, codec)
        return DEFAULT_ENCODING

    @api.model
    def _check_encoding(self, line, value, key_codec):
        declared = ENCODINGS.get(value.lower())
        if not declared:
            raise self._error(
                line,
                self.env._(
                    "unknown encoding %(value)r, expected Windows or DOS.",
                    value=value,
                ),
            )
        if declared != key_codec:
            raise self._error(
                line,
                self.env._(
                    "the file declares the encoding %(declared)s but is "
                    "written in %(actual)s.",
                    declared=ENCODING_NAMES[declared],
                    actual=ENCODING_NAMES[key_codec],
                ),
            )
        return declared

    @api.model
    def _split_lines(self, text):
        """Split on LF only (CRLF tolerated) so line numbers match bytes."""
        lines = []
        for number, line in enumerate(text.split("\n"), start=1):
            line = line.rstrip("\r")
            bad = CONTROL_RE.search(line)
            if bad:
                raise self._error(
                    number,
                    self.env._(
                        "control character 0x%(char)02X is not allowed.",
                        char=ord(bad.group()),
                    ),
                )
            lines.append(line)
        return lines

    # ------------------------------------------------------------------
    # Structure: header, account sections, documents
    # ------------------------------------------------------------------
    @api.model
    def _read_blocks(self, lines):
        """Return (header, sections, documents, end_line).

        header maps key -> list of values; sections and documents are dicts
        with ``line`` (opening line), ``type`` and ``fields`` {key: (value,
        line)}."""
        header, blocks = {}, []
        current = None
        for number, line in enumerate(lines[1:], start=2):
            key, sep, value = (part.strip() for part in line.partition("="))
            if not key and not sep:
                continue
            if key in MARKERS and not value:
                current = self._apply_marker(key, number, current, blocks)
                if key == FILE_END:
                    self._check_after_end(lines, number)
                    return self._split_blocks(header, blocks) + (number,)
            elif key == DOCUMENT_SECTION and sep:
                current = self._open_block(key, value, number, current)
            elif not sep:
                raise self._error(
                    number,
                    self.env._("expected Key=Value, got %(text)r (no '=').", text=line),
                )
            elif not key:
                raise self._error(number, self.env._("empty key before '='."))
            elif current:
                self._add_field(current, key, value, number)
            else:
                header.setdefault(key, []).append((value, number))
        last_line = max(
            (n for n, line in enumerate(lines, start=1) if line.strip()), default=1
        )
        self._raise_truncated(current, last_line)

    @api.model
    def _apply_marker(self, marker, number, current, blocks):
        if marker == ACCOUNT_SECTION:
            return self._open_block(marker, "", number, current)
        if marker == FILE_END:
            if current:
                raise self._unclosed(current, number)
            return None
        expected_opening = (
            ACCOUNT_SECTION if marker == ACCOUNT_SECTION_END else DOCUMENT_SECTION
        )
        if not current or current["kind"] != expected_opening:
            raise self._error(
                number,
                self.env._(
                    "%(marker)s without a matching %(opening)s.",
                    marker=marker,
                    opening=expected_opening,
                ),
            )
        blocks.append(current)
        return None

    @api.model
    def _open_block(self, kind, block_type, number, current):
        if current:
            raise self._unclosed(current, number)
        return {"kind": kind, "type": block_type, "line": number, "fields": {}}

    @api.model
    def _unclosed(self, block, number):
        return self._error(
            number,
            self.env._(
                "section %(section)s opened at line %(opening)s is not closed "
                "by %(end)s.",
                section=block["kind"],
                opening=block["line"],
                end=SECTION_ENDS[block["kind"]],
            ),
        )

    @api.model
    def _add_field(self, block, key, value, number):
        if key in block["fields"]:
            raise self._error(
                number,
                self.env._(
                    "field %(key)s repeated in the section opened at line %(opening)s.",
                    key=key,
                    opening=block["line"],
                ),
            )
        block["fields"][key] = (value, number)

    @api.model
    def _check_after_end(self, lines, end_line):
        for number, line in enumerate(lines[end_line:], start=end_line + 1):
            if line.strip():
                raise self._error(
                    number,
                    self.env._("unexpected content after %(end)s.", end=FILE_END),
                )

    @api.model
    def _raise_truncated(self, current, last_line):
        if current:
            raise self._unclosed(current, last_line)
        raise self._error(
            last_line,
            self.env._("%(end)s is missing: the file is truncated.", end=FILE_END),
        )

    @api.model
    def _split_blocks(self, header, blocks):
        sections = [b for b in blocks if b["kind"] == ACCOUNT_SECTION]
        documents = [b for b in blocks if b["kind"] == DOCUMENT_SECTION]
        return header, sections, documents

    # ------------------------------------------------------------------
    # Field values
    # ------------------------------------------------------------------
    @api.model
    def _value(self, block, key, required=False):
        value, _line = block["fields"].get(key, ("", None))
        if required and not value:
            raise self._error(
                block["line"],
                self.env._(
                    "field %(key)s is missing in the section %(section)s.",
                    key=key,
                    section=block["kind"],
                ),
            )
        return value

    @api.model
    def _line_of(self, block, key):
        return block["fields"].get(key, ("", block["line"]))[1]

    @api.model
    def _parse_date(self, value, line):
        if not value:
            return None
        try:
            if not DATE_RE.fullmatch(value):
                raise ValueError(value)
            return datetime.strptime(value, "%d.%m.%Y").date()
        except ValueError:
            raise self._error(
                line,
                self.env._(
                    "malformed date %(value)r, expected dd.mm.yyyy.", value=value
                ),
            ) from None

    @api.model
    def _parse_amount(self, value, line, pattern=AMOUNT_RE):
        if not pattern.fullmatch(value):
            raise self._error(
                line,
                self.env._(
                    "malformed amount %(value)r, expected a decimal number with "
                    "a point, e.g. 1500.00.",
                    value=value,
                ),
            )
        return Decimal(value)

    @api.model
    def _block_date(self, block, key, required=False):
        value = self._value(block, key, required=required)
        return self._parse_date(value, self._line_of(block, key))

    @api.model
    def _block_balance(self, block, key):
        value = self._value(block, key)
        if not value:
            return None
        return self._parse_amount(value, self._line_of(block, key), BALANCE_RE)

    # ------------------------------------------------------------------
    # Own accounts and balances
    # ------------------------------------------------------------------
    @api.model
    def _own_accounts(self, header, sections):
        """Ordered own accounts: header РасчСчет lines, then sections."""
        found = list(header.get(ACCOUNT_KEY, []))
        for section in sections:
            found.append((self._value(section, ACCOUNT_KEY, True), section["line"]))
        accounts = {}
        for account, line in found:
            if not OUR_ACCOUNT_RE.fullmatch(account):
                raise self._error(
                    line,
                    self.env._(
                        "malformed account number %(value)r, expected 20 digits.",
                        value=account,
                    ),
                )
            accounts.setdefault(account, [])
        if not accounts:
            raise self._error(
                1, self.env._("the file declares no bank account (РасчСчет).")
            )
        return accounts

    @api.model
    def _check_header_dates(self, header):
        for key in HEADER_DATE_KEYS:
            for value, line in header.get(key, []):
                self._parse_date(value, line)

    @api.model
    def _check_sections(self, sections):
        """Validate every balance section, even of accounts without
        transactions: a broken value anywhere rejects the whole file."""
        for section in sections:
            self._section_dates(section)
            for key in BALANCE_KEYS:
                self._block_balance(section, key)

    @api.model
    def _statement_vals(self, account, header, sections, transactions):
        own = [s for s in sections if self._value(s, ACCOUNT_KEY) == account]
        start, end = self._period(own, header, transactions)
        vals = {
            "name": f"1C {account} {start:%d.%m.%Y}-{end:%d.%m.%Y}",
            "date": end,
            "transactions": transactions,
        }
        if own:
            first = min(own, key=lambda s: self._section_dates(s)[0] or start)
            last = max(own, key=lambda s: self._section_dates(s)[1] or end)
            balance_start = self._block_balance(first, "НачальныйОстаток")
            balance_end = self._block_balance(last, "КонечныйОстаток")
            if balance_start is not None:
                vals["balance_start"] = float(balance_start)
            if balance_end is not None:
                vals["balance_end_real"] = float(balance_end)
        return vals

    @api.model
    def _section_dates(self, section):
        return (
            self._block_date(section, "ДатаНачала"),
            self._block_date(section, "ДатаКонца"),
        )

    @api.model
    def _period(self, own_sections, header, transactions):
        starts = [self._section_dates(s)[0] for s in own_sections]
        ends = [self._section_dates(s)[1] for s in own_sections]
        starts += [self._parse_date(v, n) for v, n in header.get("ДатаНачала", [])]
        ends += [self._parse_date(v, n) for v, n in header.get("ДатаКонца", [])]
        dates = [t["date"] for t in transactions]
        start = min(filter(None, starts), default=None) or min(dates)
        end = max(filter(None, ends), default=None) or max(dates)
        return start, end

    # ------------------------------------------------------------------
    # Documents -> transactions
    # ------------------------------------------------------------------
    @api.model
    def _documents_transactions(self, documents, accounts):
        """Fill ``accounts`` {account: [transaction]} and return it."""
        for document in documents:
            directions = self._directions(document, accounts)
            for direction, account in directions:
                accounts[account].append(
                    self._transaction(document, direction, account)
                )
        return accounts

    @api.model
    def _party_accounts(self, document, prefix):
        return {
            self._value(document, f"{prefix}Счет"),
            self._value(document, f"{prefix}РасчСчет"),
        } - {""}

    @api.model
    def _directions(self, document, accounts):
        """[(direction, own account)]: a transfer between two own accounts
        yields both an outgoing and an incoming transaction."""
        result = []
        for direction, prefix in OUR_PREFIX.items():
            for account in sorted(self._party_accounts(document, prefix)):
                if account in accounts:
                    result.append((direction, account))
                    break
        if not result:
            raise self._error(
                document["line"],
                self.env._(
                    "document no. %(number)s involves none of the file's "
                    "accounts (РасчСчет) as payer or recipient.",
                    number=self._value(document, "Номер") or "?",
                ),
            )
        return result

    @api.model
    def _transaction(self, document, direction, account):
        number = self._value(document, "Номер", required=True)
        doc_date = self._block_date(document, "Дата", required=True)
        amount = self._parse_amount(
            self._value(document, "Сумма", required=True),
            self._line_of(document, "Сумма"),
        )
        booked = self._booking_dates(document)[direction] or doc_date
        party = self._party(document, direction)
        transaction = {
            "payment_ref": self._purpose(document) or self._fallback_ref(document),
            "date": booked,
            "amount": float(amount if direction == "in" else -amount),
            "ref": number,
            "transaction_type": document["type"],
            "unique_import_id": self._unique_import_id(
                account, direction, doc_date, number, amount, party
            ),
            "transaction_details": self._details(document, direction, party),
        }
        if party["name"]:
            transaction["partner_name"] = party["name"]
        if party["account"]:
            transaction["account_number"] = party["account"]
        return transaction

    @api.model
    def _booking_dates(self, document):
        return {
            direction: self._block_date(document, key)
            for direction, key in BOOKING_DATE_KEY.items()
        }

    @api.model
    def _party(self, document, direction):
        prefix = PARTY_PREFIX[direction]
        return {
            "account": self._value(document, f"{prefix}Счет")
            or self._value(document, f"{prefix}РасчСчет"),
            "name": self._value(document, f"{prefix}1")
            or self._value(document, prefix),
            "inn": self._value(document, f"{prefix}ИНН"),
            "kpp": self._value(document, f"{prefix}КПП"),
            "bik": self._value(document, f"{prefix}БИК"),
            "bank": self._value(document, f"{prefix}Банк1"),
        }

    @api.model
    def _purpose(self, document):
        purpose = self._value(document, PURPOSE_KEY)
        if purpose:
            return purpose
        parts = (self._value(document, key) for key in LEGACY_PURPOSE_KEYS)
        return " ".join(part for part in parts if part)

    @api.model
    def _fallback_ref(self, document):
        number = self._value(document, "Номер")
        return f"{document['type'] or DOCUMENT_SECTION} {number}"

    @api.model
    def _unique_import_id(self, account, direction, doc_date, number, amount, party):
        """Stable across re-imports: built from document content only."""
        return ":".join(
            (
                "1C",
                account,
                direction,
                doc_date.isoformat(),
                number,
                f"{amount:.2f}",
                party["account"],
                party["inn"],
            )
        )

    @api.model
    def _details(self, document, direction, party):
        """JSON-ready details for the matcher (statement line
        ``transaction_details``)."""
        return {
            "format": HEADER_MARK,
            "direction": direction,
            "document_type": document["type"],
            "partner_account": party["account"],
            "partner_name": party["name"],
            "partner_inn": party["inn"],
            "partner_kpp": party["kpp"],
            "partner_bik": party["bik"],
            "partner_bank": party["bank"],
            "purpose": self._purpose(document),
            "fields": {key: value for key, (value, _n) in document["fields"].items()},
        }

    @api.model
    def _make_unique_ids_distinct(self, transactions):
        """Identical documents in one file get an occurrence suffix, so the
        unique constraint never fails and re-imports stay idempotent."""
        used = set()
        for lines in transactions.values():
            for line in lines:
                uid, occurrence = line["unique_import_id"], 1
                while line["unique_import_id"] in used:
                    occurrence += 1
                    line["unique_import_id"] = f"{uid}#{occurrence}"
                used.add(line["unique_import_id"])

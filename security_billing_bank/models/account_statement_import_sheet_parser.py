# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Payment-system registries (CSV/XLSX) through the OCA sheet parser.

Registry mappings (``security_is_registry``) are checked row by row before the
OCA parser reads them, so a broken row rejects the file with its line number
instead of being silently read as zero or skipped; the payment id becomes the
line's import id and the account number column is kept on the line.
"""

import re
from datetime import datetime

from odoo import api, models
from odoo.exceptions import UserError

# The OCA parser reads an .xlsx with xlrd first, then falls back to CSV.
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
REQUIRED_COLUMNS = ("timestamp_column", "amount_column", "transaction_id_column")


class AccountStatementImportSheetParser(models.TransientModel):
    _inherit = "account.statement.import.sheet.parser"

    def _parse_lines(self, mapping, data_file, currency_code):
        if not mapping.security_is_registry:
            return super()._parse_lines(mapping, data_file, currency_code)
        rows = self._security_registry_rows(mapping, data_file)
        lines = super()._parse_lines(mapping, data_file, currency_code)
        return self._security_attach_registry_rows(lines, rows)

    @api.model
    def _convert_line_to_transactions(self, line):
        transactions = super()._convert_line_to_transactions(line)
        if "security_payment_id" in line:
            for transaction in transactions:
                transaction.update(self._security_registry_transaction_vals(line))
                if not line.get("description"):
                    transaction["payment_ref"] = self.env._(
                        "Registry payment %(id)s", id=line["security_payment_id"]
                    )
        return transactions

    @api.model
    def _security_registry_transaction_vals(self, line):
        """The payment id alone is the import id (no timestamp: a payment
        re-sent with another date is still the same payment)."""
        return {
            "unique_import_id": line["security_payment_id"],
            "security_account_ref": line["security_account_ref"] or False,
        }

    # ------------------------------------------------------------ validation
    @api.model
    def _security_error(self, line, problem):
        return UserError(
            self.env._(
                "Payment registry, line %(line)s: %(problem)s",
                line=line,
                problem=problem,
            )
        )

    @api.model
    def _security_registry_rows(self, mapping, data_file):
        """Check every row; return ``{payment_id: {"line", "account"}}``."""
        data = self._security_open(mapping, data_file)
        header = self.parse_header(data, mapping) if data else []
        columns = self._security_registry_columns(mapping, header)
        rows = {}
        for number, values in self._security_iter_rows(mapping, data):
            row = self._security_check_row(mapping, columns, number, values)
            first = rows.get(row["payment_id"])
            if first:
                raise self._security_error(
                    number,
                    self.env._(
                        "payment id %(id)s repeats line %(first)s.",
                        id=row["payment_id"],
                        first=first["line"],
                    ),
                )
            rows[row["payment_id"]] = {"line": number, "account": row["account"]}
        if not rows:
            raise self._security_error(
                mapping.header_lines_skip_count or 1,
                self.env._("the registry holds no payment."),
            )
        return rows

    @api.model
    def _security_open(self, mapping, data_file):
        """The OCA reader (xlrd workbook or csv reader), or a clear error."""
        if not data_file or not data_file.strip():
            raise self._security_error(1, self.env._("the file is empty."))
        if data_file[:4] not in (XLSX_MAGIC, XLS_MAGIC):
            self._security_check_encoding(mapping, data_file)
        try:
            return self._parse_data(mapping, data_file)
        except UserError:
            raise
        except Exception as exc:
            kind = "XLSX" if data_file[:4] in (XLSX_MAGIC, XLS_MAGIC) else "CSV"
            raise UserError(
                self.env._(
                    "Payment registry: the file cannot be read as %(kind)s "
                    "(truncated or damaged?): %(error)s",
                    kind=kind,
                    error=exc,
                )
            ) from None

    @api.model
    def _security_check_encoding(self, mapping, data_file):
        """A text registry must be in the mapping's encoding: no guessing
        (the OCA fallback may misread Cyrillic comments)."""
        encoding = mapping.file_encoding or "utf-8"
        try:
            data_file.decode(encoding)
        except UnicodeDecodeError as exc:
            raise self._security_error(
                data_file.count(b"\n", 0, exc.start) + 1,
                self.env._(
                    "byte 0x%(byte)02X is not valid %(encoding)s: save the "
                    "registry in that encoding or change the encoding of the "
                    "mapping %(mapping)s.",
                    byte=data_file[exc.start],
                    encoding=encoding,
                    mapping=mapping.name,
                ),
            ) from None

    @api.model
    def _security_registry_columns(self, mapping, header):
        """``{mapping field: column index}``; names the missing columns."""
        fields_ = [*REQUIRED_COLUMNS, "security_account_ref_column"]
        columns, missing = {}, []
        for fname in fields_:
            name = (mapping[fname] or "").strip()
            if not name:
                if fname in REQUIRED_COLUMNS:
                    missing.append(mapping._fields[fname].string)
                continue
            if mapping.no_header:
                columns[fname] = int(name)
            elif name in header:
                columns[fname] = header.index(name)
            else:
                missing.append(name)
        if missing:
            raise self._security_error(
                mapping.header_lines_skip_count or 1,
                self.env._(
                    "the header lacks the column(s) %(missing)s (found: %(found)s).",
                    missing=", ".join(repr(name) for name in missing),
                    found=", ".join(repr(name) for name in header) or "-",
                ),
            )
        return columns

    @api.model
    def _security_iter_rows(self, mapping, data):
        """``(line number, values)`` of the data rows, as the OCA parser
        reads them (same skipped header, footer and empty rows)."""
        if isinstance(data, tuple):
            rows = self._security_xlsx_rows(mapping, data)
        else:
            rows = ((data.line_num, list(values)) for values in data)
        rows = list(rows)
        if mapping.footer_lines_skip_count:
            rows = rows[: -mapping.footer_lines_skip_count]
        for number, values in rows:
            if mapping.skip_empty_lines and not any(
                str(value).strip() for value in values
            ):
                continue
            yield number, values

    @api.model
    def _security_xlsx_rows(self, mapping, data):
        book, sheet = data
        for row in range(mapping.header_lines_skip_count, sheet.nrows):
            values = []
            for col in range(mapping.offset_column, sheet.row_len(row)):
                value = sheet.cell_value(row, col)
                if sheet.cell_type(row, col) == 3:  # xlrd.XL_CELL_DATE
                    value = self._security_xlsx_date(value, book, row)
                values.append(value)
            yield row + 1, values

    @api.model
    def _security_xlsx_date(self, value, book, row):
        from xlrd.xldate import xldate_as_datetime

        try:
            return xldate_as_datetime(value, book.datemode)
        except Exception:
            raise self._security_error(
                row + 1, self.env._("the date cell holds no valid date.")
            ) from None

    @api.model
    def _security_check_row(self, mapping, columns, number, values):
        needed = max(columns.values()) + 1
        if len(values) < needed:
            missing = [
                mapping[fname]
                for fname, index in columns.items()
                if index >= len(values)
            ]
            raise self._security_error(
                number,
                self.env._(
                    "missing column(s) %(columns)s: the row has %(count)s value(s).",
                    columns=", ".join(repr(name) for name in missing),
                    count=len(values),
                ),
            )
        payment_id = self._security_text(values[columns["transaction_id_column"]])
        if not payment_id:
            raise self._security_error(number, self.env._("the payment id is empty."))
        self._security_check_date(mapping, number, values[columns["timestamp_column"]])
        self._security_check_amount(mapping, number, values[columns["amount_column"]])
        account_index = columns.get("security_account_ref_column")
        account = (
            self._security_text(values[account_index])
            if account_index is not None
            else ""
        )
        return {"payment_id": payment_id, "account": account}

    @api.model
    def _security_text(self, value):
        """Cell text; whole numbers read from XLSX as 1000017.0 -> '1000017'."""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    @api.model
    def _security_check_date(self, mapping, number, value):
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if not isinstance(value, str):
                raise ValueError(text)
            return datetime.strptime(text, mapping.timestamp_format)
        except ValueError:
            raise self._security_error(
                number,
                self.env._(
                    "malformed date %(value)r, expected the format %(format)s.",
                    value=text,
                    format=mapping.timestamp_format,
                ),
            ) from None

    @api.model
    def _security_check_amount(self, mapping, number, value):
        amount = self._security_amount(mapping, value)
        if amount is None:
            raise self._security_error(
                number,
                self.env._(
                    "amount %(value)r is not a number (expected e.g. 1500.00).",
                    value=self._security_text(value),
                ),
            )
        if not amount:
            raise self._security_error(number, self.env._("the amount is zero."))
        return amount

    @api.model
    def _security_amount(self, mapping, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        thousands, decimal = mapping._get_float_separators()
        text = re.sub(r"\s", "", str(value))
        if thousands:
            text = text.replace(thousands, "")
        if decimal and decimal != ".":
            text = text.replace(decimal, ".")
        if not re.fullmatch(r"[-+]?\d{1,15}(?:\.\d{1,2})?", text):
            return None
        return float(text)

    # ----------------------------------------------------------- attaching
    @api.model
    def _security_attach_registry_rows(self, lines, rows):
        """Give every parsed line its payment id and account number."""
        for line in lines:
            payment_id = self._security_text(line.get("transaction_id", ""))
            row = rows.get(payment_id)
            if not row:  # pragma: no cover - both readers see the same rows
                raise UserError(
                    self.env._(
                        "Payment registry: payment id %(id)s was not checked.",
                        id=payment_id,
                    )
                )
            line["security_payment_id"] = payment_id
            line["security_account_ref"] = row["account"]
        return lines

"""Spreadsheet cells that stay text: no formula, number or link is made of a
subscriber's name, street or device id when a file is opened in a
spreadsheet (CSV injection, OWASP).

Shared by every file we write: the XLSX reports, the debt registry and the
device-app status CSV.
"""

# a spreadsheet reads a cell starting with one of these as a formula
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# xlsxwriter.Workbook options: ``write()`` keeps strings as strings
XLSX_TEXT_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def csv_text(value):
    """``value`` as a CSV text cell: a leading apostrophe when it starts like
    a formula (= + - @ tab or carriage return), so that spreadsheets show it
    instead of evaluating it. ``None``/``False`` give an empty cell."""
    text = "" if value is None or value is False else str(value)
    if text.startswith(CSV_FORMULA_PREFIXES):
        return "'" + text
    return text

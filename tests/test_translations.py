"""Every addon ships complete and safe Russian and Ukrainian translations.

For each addon, the terms Odoo exports from the installed code (the same
export as ``--i18n-export``: fields and their help, selections, views, menus,
actions, data records, ``_()``/``env._()`` messages, QWeb and JavaScript)
are compared with the committed ``i18n/<addon>.pot`` and with ``i18n/ru.po``
and ``i18n/uk.po``:

- the ``.pot`` must be the current export (same terms, same references);
- every term must be translated in each ``.po``, not empty, not fuzzy;
- a translation must keep the placeholders (``%s``, ``%d``, ``%(name)s``,
  ``{name}``, ``{}``, ``${...}``) and the markup tags of its source, so that a
  translation can neither break the formatting of a message nor a page.

``./dev i18n`` regenerates the ``.pot`` files and merges them into the
``.po`` files; then translate what it lists.
"""

import io
import re
from collections import Counter
from pathlib import Path

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

LANGS = ("ru", "uk")

# Addons whose .pot, ru.po and uk.po are written on another branch: these
# files may be absent here (the checks then skip). Empty when every addon's
# files are merged: a missing file then fails.
PENDING = set()

HOW_TO_FIX = (
    "Run `./dev i18n` (exports each addon's .pot from a database with the "
    "current code, merges it into ru.po and uk.po with msgmerge and lists "
    "what is left to translate), translate the listed entries, commit the "
    ".pot and .po files."
)

# printf-style (%s, %d, %(name)s, %(min).2f, %%), str.format ({}, {0},
# {name}, {amount:.2f}) and JavaScript template (${expr}) placeholders
PLACEHOLDER_RE = re.compile(
    r"%(?:\(\w+\))?[-#0+]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]"
    r"|\$\{[^{}]*\}"
    r"|\{\w*(?:[.\[!:][^{}]*)?\}"
)
# placeholders taking their value by position: their order must be kept
POSITIONAL_RE = re.compile(r"^(?:%[^(]|\{\d*(?:[!:].*)?\}$)")
TAG_RE = re.compile(r"</?([A-Za-z][\w.:-]*)")

_EXPORTS = {}


def fresh_export(cr, addon):
    """The addon's translation template exported from the database, parsed."""
    if addon not in _EXPORTS:
        buffer = io.BytesIO()
        trans_export(None, [addon], buffer, "po", cr)
        _EXPORTS[addon] = polib.pofile(buffer.getvalue().decode())
    return _EXPORTS[addon]


def placeholder_errors(msgid, msgstr):
    """How the placeholders or markup tags of msgstr differ from msgid's."""
    errors = []
    src, dst = PLACEHOLDER_RE.findall(msgid), PLACEHOLDER_RE.findall(msgstr)
    if Counter(src) != Counter(dst):
        missing = sorted((Counter(src) - Counter(dst)).elements())
        extra = sorted((Counter(dst) - Counter(src)).elements())
        if missing:
            errors.append("lacks placeholder(s) %s" % ", ".join(missing))
        if extra:
            errors.append("has placeholder(s) not in the source: %s" % ", ".join(extra))
    else:
        src_pos = [p for p in src if POSITIONAL_RE.match(p)]
        dst_pos = [p for p in dst if POSITIONAL_RE.match(p)]
        if src_pos != dst_pos:
            errors.append(
                "changes the order of positional placeholders %s -> %s (use named"
                " ones in the source to reorder)" % (src_pos, dst_pos)
            )
    if Counter(TAG_RE.findall(msgid)) != Counter(TAG_RE.findall(msgstr)):
        errors.append(
            "changes the markup tags %s -> %s"
            % (sorted(TAG_RE.findall(msgid)), sorted(TAG_RE.findall(msgstr)))
        )
    return errors


def short(text, width=100):
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


class TranslationsMixin:
    """Checks the i18n folder of ``addon`` (set by the test classes below)."""

    addon = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.i18n = Path(get_module_path(cls.addon)) / "i18n"
        cls.export = fresh_export(cls.env.cr, cls.addon)

    def _fail(self, what, problems):
        self.fail(
            "%s: %s (%d):\n  %s\n%s"
            % (self.addon, what, len(problems), "\n  ".join(problems), HOW_TO_FIX)
        )

    def _check_po(self, lang):
        path = self.i18n / ("%s.po" % lang)
        if not path.exists():
            if self.addon in PENDING:
                self.skipTest(
                    "%s is in PENDING: its po files are written on another branch"
                    % self.addon
                )
            self.fail(
                "%s has no %s: every addon ships ru.po and uk.po. %s"
                % (self.addon, path.relative_to(path.parents[2]), HOW_TO_FIX)
            )
        po = polib.pofile(str(path))
        entries = {e.msgid: e for e in po if not e.obsolete}
        problems = []
        for term in self.export:
            entry = entries.get(term.msgid)
            if entry is None:
                problems.append("missing: %s" % short(term.msgid))
            elif not entry.msgstr.strip():
                problems.append("empty: %s" % short(term.msgid))
            elif entry.fuzzy:
                problems.append("fuzzy: %s" % short(term.msgid))
            else:
                problems += [
                    "%s: %s translated as %s"
                    % (error, short(term.msgid), short(entry.msgstr))
                    for error in placeholder_errors(term.msgid, entry.msgstr)
                ]
        if problems:
            self._fail("i18n/%s.po is incomplete or unsafe" % lang, problems)
        if self.addon in PENDING:
            self.fail(
                "%s is in PENDING but its %s.po is complete: remove it from PENDING"
                % (self.addon, lang)
            )

    def test_pot_is_current(self):
        path = self.i18n / ("%s.pot" % self.addon)
        if not path.exists() and self.addon in PENDING:
            self.skipTest(
                "%s is in PENDING: its .pot is exported on another branch" % self.addon
            )
        self.assertTrue(
            path.exists(), "%s has no i18n/%s. %s" % (self.addon, path.name, HOW_TO_FIX)
        )
        committed = {e.msgid: e for e in polib.pofile(str(path))}
        fresh = {e.msgid: e for e in self.export}
        problems = [
            "new in the code: %s" % short(m) for m in fresh if m not in committed
        ]
        problems += [
            "gone from the code: %s" % short(m) for m in committed if m not in fresh
        ]
        problems += [
            "references changed: %s" % short(m)
            for m in fresh
            if m in committed
            and sorted(fresh[m].occurrences) != sorted(committed[m].occurrences)
        ]
        if problems:
            self._fail("i18n/%s is stale" % path.name, problems)

    def test_ru_po(self):
        self._check_po("ru")

    def test_uk_po(self):
        self._check_po("uk")


@tagged("post_install", "-at_install")
class TestTranslationsSecurityBilling(TranslationsMixin, TransactionCase):
    addon = "security_billing"


@tagged("post_install", "-at_install")
class TestTranslationsSecurityBillingPortal(TranslationsMixin, TransactionCase):
    addon = "security_billing_portal"


@tagged("post_install", "-at_install")
class TestTranslationsSecurityBillingBank(TranslationsMixin, TransactionCase):
    addon = "security_billing_bank"

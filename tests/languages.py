"""Russian and Ukrainian in a test database: the languages activated and the
addons' translations (``i18n/ru.po``, ``i18n/uk.po``) loaded.

Code translations (``_()``, ``env._()``) are read from the po files when
used; field labels, views, templates and data records need the terms in the
database, which ``_load_module_terms`` writes (rolled back with the test).
"""

LANGS = ("ru_RU", "uk_UA")
ADDONS = ("security_billing", "security_billing_portal", "security_billing_bank")


def install_languages(env, langs=LANGS, modules=ADDONS):
    """Activate ``langs`` and load the translations of ``modules`` in them.

    :param env: an environment of the test.
    :param langs: language codes such as ``ru_RU``.
    :param modules: names of the installed modules whose terms to load.
    :return: the activated ``res.lang`` records.
    """
    langs = list(langs)
    records = env["res.lang"]
    for code in langs:
        records |= env["res.lang"]._activate_lang(code)
    env["ir.module.module"]._load_module_terms(list(modules), langs, overwrite=True)
    return records

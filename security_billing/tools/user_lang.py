"""Run an RPC entry point in the caller's language.

XML-RPC and JSON-RPC clients other than the web client often send no
context: Odoo then answers in English. The integrator API's methods run in
the language of the calling user unless the context names one.
"""

import functools


def in_user_lang(method):
    """Decorate a model method so that it runs with ``lang`` in its context:
    the context's own when given, else the user's language.

    :param method: a method of a model (``self`` first).
    :return: the wrapped method; put ``@api.model`` above it.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not self.env.context.get("lang") and self.env.user.lang:
            self = self.with_context(lang=self.env.user.lang)
        return method(self, *args, **kwargs)

    return wrapper

"""Tell the user who started a background work (a billing run, a bank
import) that it ended."""

from odoo import SUPERUSER_ID


def notify_owner(record, user, message, warning=False, sticky=True):
    """Post ``message`` on ``record`` for ``user`` (it reaches their inbox)
    and show it in their browser.

    Posted as OdooBot: Odoo notifies neither the author of a message nor the
    user who posts it. OdooBot, portal users and no user get only the
    message on the record.

    :param record: a record of a model with ``mail.thread`` (one record).
    :param user: the ``res.users`` who started the work (may be empty).
    :param str message: the text, already in the user's language.
    :param bool warning: show the browser notification as a warning.
    :param bool sticky: keep the browser notification until closed.
    """
    notify = bool(user) and user.id != SUPERUSER_ID and not user.share
    record.with_user(SUPERUSER_ID).message_post(
        body=message,
        subtype_xmlid="mail.mt_note",
        partner_ids=user.partner_id.ids if notify else [],
    )
    if notify:
        user._bus_send(
            "simple_notification",
            {
                "type": "warning" if warning else "success",
                "title": record.display_name,
                "message": message,
                "sticky": sticky,
            },
        )

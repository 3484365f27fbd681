"""Who may see a company's billing figures (reports, debt registry)."""

from odoo.exceptions import AccessError

BILLING_USER_GROUP = "security_billing.group_security_billing_user"


def check_billing_company_access(env, company, what):
    """Raise AccessError unless the user of ``env`` is a billing user and
    ``company`` is one of the user's companies; superuser mode passes.

    ``what`` names what was asked for, in the error message.
    """
    if env.su:
        return
    user = env.user
    if not user.has_group(BILLING_USER_GROUP):
        raise AccessError(
            env._(
                "User %(user)s may not get %(what)s: it needs the group "
                "'Security Billing / User'.",
                user=user.login,
                what=what,
            )
        )
    if len(company) != 1 or company.id not in user._get_company_ids():
        raise AccessError(
            env._(
                "User %(user)s may not get %(what)s of company %(company)s: "
                "it is not one of the user's companies.",
                user=user.login,
                what=what,
                company=", ".join(company.sudo().mapped("name")) or "-",
            )
        )

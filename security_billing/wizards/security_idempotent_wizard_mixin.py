import uuid

from odoo import fields, models


class SecurityIdempotentWizardMixin(models.AbstractModel):
    """An idempotency key carried by the form of a money wizard.

    The key is a default of the form: the web client sends it back with the
    record, so the same form confirmed twice, or saved again by a resubmitted
    request (a second wizard record), has one key. Its external id
    ``<prefix>:<key>`` is claimed once in ``security.payment.request``, the
    idempotency keys of every payment channel.
    """

    _name = "security.idempotent.wizard.mixin"
    _description = "Security Billing Idempotency Key of Wizards"
    _security_idempotency_prefix = None  # e.g. "manual"

    idempotency_key = fields.Char(
        default=lambda self: uuid.uuid4().hex,
        copy=False,
        help="Idempotency key of this form: confirming the same form again "
        "(double-click, resubmission) books it once.",
    )

    def _get_external_id(self):
        """``<prefix>:<key>``; a wizard created without a key falls back on
        its own id."""
        self.ensure_one()
        key = self.idempotency_key or f"wizard-{self.id}"
        return f"{self._security_idempotency_prefix}:{key}"

    def _claim_key(self, partner, amount):
        """Claim this form's external id: ``(request, created)``; not
        created, the form was already booked (a concurrent confirmation
        waits for the first one, then is replayed and finds it)."""
        self.ensure_one()
        # bookkeeping of the form, not a document of the user
        return (
            self.env["security.payment.request"]
            .sudo()
            ._claim(self._get_external_id(), self.company_id, partner, amount)
        )

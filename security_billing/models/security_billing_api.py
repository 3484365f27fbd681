from odoo import models


class SecurityBillingApi(models.AbstractModel):
    """The documented integration surface for XML-RPC integrators.

    Public ``@api.model`` methods only; each checks the caller belongs to the
    API or manager group, validates its arguments with a clear error naming
    the problem, and writes nothing on bad input.
    """

    _name = "security.billing.api"
    _description = "Security Billing Integrator API"

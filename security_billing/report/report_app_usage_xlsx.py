from collections import defaultdict

from odoo import models
from odoo.tools import SQL


class ReportAppUsageXlsx(models.AbstractModel):
    """Active app users per site and per vendor versus what the latest
    invoice of the contract billed for them (per-app-user lines)."""

    _name = "report.security_billing.report_app_usage_xlsx"
    _inherit = "report.security_billing.abstract_xlsx"
    _description = "Security Billing App Users XLSX"

    def generate_xlsx_report(self, workbook, data, objs):
        company, date = self._get_report_params(data, objs)
        currency = company.currency_id
        formats = self._get_formats(workbook, currency)
        sites = self.env["security.site"].search(
            [("company_id", "=", company.id)], order="partner_id, name, id"
        )
        billed = self._get_billed_app_users(sites.contract_id, date)
        site_rows = self._get_site_rows(sites, billed)
        self._write_table(
            workbook,
            self.env._("By Site"),
            self._get_site_columns(),
            site_rows,
            formats,
            currency,
        )
        self._write_table(
            workbook,
            self.env._("By Vendor"),
            self._get_vendor_columns(),
            self._get_vendor_rows(site_rows),
            formats,
            currency,
        )

    def _get_site_columns(self):
        _ = self.env._
        return [
            (_("Account"), "text", 12),
            (_("Subscriber"), "text", 26),
            (_("Site"), "text", 26),
            (_("Vendor"), "text", 12),
            (_("Device ID"), "text", 14),
            (_("App Users"), "int", 10),
            (_("Contract"), "text", 22),
            (_("Latest Invoice"), "text", 18),
            (_("Billed App Users"), "int", 12),
            (_("Billed Amount"), "money", 14),
            (_("Unbilled App Users"), "int", 12),
        ]

    def _get_vendor_columns(self):
        _ = self.env._
        return [
            (_("Vendor"), "text", 14),
            (_("Sites"), "int", 10),
            (_("App Users"), "int", 10),
            (_("Billed App Users"), "int", 12),
            (_("Billed Amount"), "money", 14),
            (_("Unbilled App Users"), "int", 12),
        ]

    def _get_billed_app_users(self, contracts, date):
        """``{contract_id: (invoice name, quantity, amount)}`` of the
        per-app-user lines of each contract's latest posted invoice."""
        if not contracts:
            return {}
        self.env["account.move"].flush_model()
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH latest AS (
                    SELECT DISTINCT ON (m.security_contract_id)
                           m.security_contract_id AS contract_id, m.id, m.name
                      FROM account_move m
                     WHERE m.security_contract_id IN %(contracts)s
                       AND m.move_type = 'out_invoice'
                       AND m.state = 'posted'
                       AND m.invoice_date <= %(date)s
                     ORDER BY m.security_contract_id, m.invoice_date DESC, m.id DESC
                )
                SELECT latest.contract_id, latest.name,
                       COALESCE(SUM(aml.quantity), 0),
                       COALESCE(SUM(aml.price_subtotal), 0)
                  FROM latest
                  LEFT JOIN account_move_line aml
                         ON aml.move_id = latest.id
                        AND aml.display_type = 'product'
                        AND aml.product_id IN (
                            SELECT pp.id
                              FROM product_product pp
                              JOIN product_template pt
                                ON pt.id = pp.product_tmpl_id
                             WHERE pt.security_per_app_user)
                 GROUP BY latest.contract_id, latest.name
                """,
                contracts=tuple(contracts.ids),
                date=date,
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _get_site_rows(self, sites, billed):
        """One row per site; the contract's billed figures go on the row of
        its first site, with the contract's unbilled app users."""
        users_by_contract = defaultdict(int)
        for site in sites:
            users_by_contract[site.contract_id.id] += site.app_user_count
        vendors = dict(sites._fields["vendor"]._description_selection(self.env))
        rows, seen = [], set()
        for site in sites:
            contract = site.contract_id
            first = contract and contract.id not in seen
            seen.add(contract.id)
            invoice, quantity, amount = billed.get(contract.id, (False, 0.0, 0.0))
            rows.append(
                (
                    site.partner_id.security_account_ref or "",
                    site.partner_id.name,
                    site.name,
                    vendors.get(site.vendor, site.vendor),
                    site.device_id or "",
                    site.app_user_count,
                    contract.display_name or "",
                    (invoice or "") if first else "",
                    quantity if first else 0,
                    amount if first else 0.0,
                    users_by_contract[contract.id] - quantity
                    if first
                    else (0 if contract else site.app_user_count),
                )
            )
        return rows

    def _get_vendor_rows(self, site_rows):
        totals = defaultdict(lambda: [0, 0, 0, 0.0, 0])
        for row in site_rows:
            total = totals[row[3]]
            total[0] += 1
            total[1] += row[5]
            total[2] += row[8]
            total[3] += row[9]
            total[4] += row[10]
        return [(vendor, *figures) for vendor, figures in sorted(totals.items())]

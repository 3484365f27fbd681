"""The OSMP protocol's pure helpers (tools/osmp.py): what the answer echoes,
shows and renders, without a database."""

from odoo.tests import BaseCase, tagged

from odoo.addons.security_billing_bank.tools import osmp


@tagged("post_install", "-at_install")
class TestOsmpTools(BaseCase):
    def test_format_sum_echoes_well_formed_sums_only(self):
        self.assertEqual(osmp.format_sum("150"), "150.00")
        self.assertEqual(osmp.format_sum("150.5"), "150.50")
        self.assertEqual(osmp.format_sum("0.01"), "0.01")
        for bad in (None, "", "150,00", "1.234", "-5", "1e3", " 150"):
            with self.subTest(text=bad):
                self.assertIsNone(osmp.format_sum(bad))

    def test_mask_name_keeps_first_letters(self):
        self.assertEqual(osmp.mask_name("Ivan Petrov"), "I*** P***")
        self.assertEqual(osmp.mask_name("  Анна  "), "А***")
        self.assertEqual(osmp.mask_name(False), "")

    def test_render_xml_orders_tags_and_drops_what_xml_cannot_carry(self):
        body = osmp.render_xml(
            {
                "comment": "OK\x01",
                "result": 0,
                "sum": "60.00",
                "prv_txn": None,
                "osmp_txn_id": "7000000001",
                "fields": [("disp1", "I*** P***"), ("disp2", "<60.00>")],
            }
        )
        self.assertEqual(
            body,
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<response><osmp_txn_id>7000000001</osmp_txn_id><sum>60.00</sum>"
            "<result>0</result><comment>OK</comment><fields>"
            '<field1 name="disp1">I*** P***</field1>'
            '<field2 name="disp2">&lt;60.00&gt;</field2></fields></response>',
        )

    def test_render_xml_without_fields(self):
        body = osmp.render_xml({"result": 300, "comment": "", "fields": []})
        self.assertTrue(
            body.endswith("<response><result>300</result><comment /></response>")
        )

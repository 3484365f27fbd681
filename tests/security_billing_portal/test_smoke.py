"""Smoke tests of security_billing_portal: installed, views load, access rules, web."""

from ..smoke import smoke_test_classes

TestSmoke, TestWebSmoke = smoke_test_classes("security_billing_portal", __name__)

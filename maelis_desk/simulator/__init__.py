"""The demo Maelis: a SOAP 1.1 server honouring shared/maelis-contract.md.

Production code never imports this package; only the launcher does, when no
Maelis URL is configured, and the tests.
"""

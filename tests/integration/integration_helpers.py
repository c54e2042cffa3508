"""Shared facts of the integration tests."""

DEMO_FAMILY = 1312  # the hand-written demo family of the simulator

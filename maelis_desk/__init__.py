"""Maelis Desk: the counter application of the city's régies de recettes."""

__version__ = "0.1.0"

"""A second Maelis, written from the contract alone (see server.py). Imports nothing of maelis_desk."""

from .server import ODD, PASSWORD, USER, ContractServer, CountingServer

__all__ = ["ODD", "PASSWORD", "USER", "ContractServer", "CountingServer"]

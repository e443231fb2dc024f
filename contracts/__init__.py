"""Bourse's Vyper contracts: sources, compiled artifacts, deploy helpers and predeploys."""

from .artifacts import Artifact, load
from .errors import ContractsError, UnknownContract

__all__ = ["Artifact", "load", "ContractsError", "UnknownContract"]

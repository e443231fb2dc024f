"""The contracts package's exceptions."""

from __future__ import annotations

import difflib


class ContractsError(Exception):
    """Root of every error raised by `contracts`."""


class UnknownContract(ContractsError, KeyError):
    def __init__(self, name: str, known: list[str]) -> None:
        near = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        super().__init__(f"no artifact named {name!r}{hint}")
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


class DeploymentFailed(ContractsError):
    def __init__(self, name: str, tx_hash: str) -> None:
        super().__init__(f"deploying {name} failed (transaction {tx_hash} reverted)")

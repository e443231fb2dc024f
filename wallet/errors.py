"""The wallet's exceptions: one root, messages built from fields, built-in bases where the meaning matches."""

from __future__ import annotations

import difflib


class WalletError(Exception):
    """Root of every error raised by `wallet`."""


class UnknownAccount(WalletError, KeyError):
    def __init__(self, name: str, known: list[str]) -> None:
        near = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        super().__init__(f"no account named {name!r} in the keystore{hint}")
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


class AccountExists(WalletError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is already in the keystore")


class WrongPassword(WalletError, ValueError):
    def __init__(self, alias: str) -> None:
        super().__init__(f"wrong password for {alias}")
        self.alias = alias


class InvalidKeystore(WalletError, ValueError):
    """A keystore file that is not Web3 Secret Storage V3 or uses an unsupported cipher/KDF."""


class InvalidKey(WalletError, ValueError):
    """A private key, mnemonic, derivation path or extended key that is malformed."""


class PasswordError(WalletError):
    """No password could be obtained (empty, mismatched confirmation, unreadable file)."""


class RpcError(WalletError):
    """The node answered a JSON-RPC call with an error, or could not be reached."""

    def __init__(self, method: str, message: str, code: int | None = None, data: object = None) -> None:
        where = f" ({code})" if code is not None else ""
        super().__init__(f"{method}: {message}{where}")
        self.method, self.message, self.code, self.data = method, message, code, data
        self.trace = ""  # source frames of a revert, when the node reports them


class TransactionFileError(WalletError, ValueError):
    """An unsigned/signed transaction or vault proposal file that cannot be used."""


class TransactionFailed(WalletError):
    def __init__(self, tx_hash: str) -> None:
        super().__init__(f"transaction {tx_hash} reverted")
        self.tx_hash = tx_hash


class BackupError(WalletError, ValueError):
    """SLIP-39 shares that do not combine, or a secret that cannot be split."""


class PolicyError(WalletError, ValueError):
    """A policy file that cannot be parsed or names an unknown rule."""


class PolicyViolation(WalletError):
    """A signing request that breaks a rule; nothing was signed and no counter changed."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"refused by policy rule {rule}: {detail}")
        self.rule, self.detail = rule, detail


class AuditLogError(WalletError):
    """The audit log does not verify: a line was edited, removed or reordered."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"audit log broken at line {line}: {reason}")
        self.line, self.reason = line, reason


class SignerError(WalletError):
    """The policy signer refused a request or could not be reached."""

    def __init__(self, message: str, code: int | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.code, self.rule = code, rule


class ReserveError(WalletError, ValueError):
    """Liability input or a proof that cannot be used for proof of reserves."""

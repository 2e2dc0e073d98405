"""The one error the sandbox raises: a message that says what failed and what to do about it."""


class SandboxError(RuntimeError):
    """A control plane that cannot be built, started or reached; the message names the fix or the log."""

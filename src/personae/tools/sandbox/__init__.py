"""Running a `python` tool a tenant wrote, isolated by the operating system.

`Sandbox.run` starts the tool in a bubblewrap jail of its own (`bubblewrap.py`: fresh
namespaces, a read-only view of only the interpreter and its standard library, a private
bounded `/tmp`, an unprivileged uid, the seccomp filter of `seccomp.py`), under the
kernel's limits (`limits.py`: memory, CPU, file size, open files, processes), with a wall
clock and an output cap (`process.py`). A tool allowed the network reaches it only
through `egress.py`, the proxy that applies the allow-list. `runner.py` is what runs
inside. Where the jail cannot be set up, python tools fail saying why, unless the
installation chose the weaker process mode (`PERSONAE_TOOL_SANDBOX=process`)."""

from personae.tools.sandbox.bubblewrap import SandboxUnavailable
from personae.tools.sandbox.limits import Limits
from personae.tools.sandbox.process import Sandbox

__all__ = ["Limits", "Sandbox", "SandboxUnavailable"]

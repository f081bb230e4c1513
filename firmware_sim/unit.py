"""A service started as its systemd unit starts it, on a machine without systemd.

Benchmarks and integration tests read the unit file (``deploy/systemd/*.service``) so that
what they measure or test is what a Pi runs: its ``Environment=`` settings, its
``ExecStartPre=`` commands, then its ``ExecStart=``. The ``homerpm`` console script
becomes ``python -m vitals.cli`` of this interpreter, and the unit's system paths (config
file, cache directory) become paths the caller chooses.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CONSOLE_SCRIPT = "homerpm"


@dataclass(frozen=True)
class Unit:
    environment: Mapping[str, str]
    exec_start_pre: tuple[tuple[str, ...], ...]
    exec_start: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> Unit:
        """The ``[Service]`` lines this module runs (one assignment a line, as ours are)."""
        env: dict[str, str] = {}
        pre: list[tuple[str, ...]] = []
        start: tuple[str, ...] = ()
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if not sep:
                continue
            if key == "Environment":
                name, _, setting = value.partition("=")
                env[name] = setting
            elif key == "ExecStartPre":
                pre.append(tuple(shlex.split(value)))
            elif key == "ExecStart":
                start = tuple(shlex.split(value))
        if not start:
            raise ValueError(f"{path}: no ExecStart=")
        return cls(env, tuple(pre), start)

    def localized(self, paths: Mapping[str, str]) -> Unit:
        """This unit with each system path in ``paths`` (a prefix of an environment value
        or a command argument) replaced by the local one."""
        def local(text: str) -> str:
            for system, here in paths.items():
                if text.startswith(system):
                    return here + text[len(system):]
            return text

        def command(argv: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(local(arg) for arg in argv)

        return Unit({k: local(v) for k, v in self.environment.items()},
                    tuple(command(c) for c in self.exec_start_pre), command(self.exec_start))

    def service_environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        """``extra`` (a bus address, ``PYTHONPATH``) with the unit's ``Environment=`` on top.
        systemd starts a service with a clean environment, so not with a caller's
        ``PYTHONDONTWRITEBYTECODE`` (which would make the precompile step compile twice)."""
        return {**extra, **self.environment, "PYTHONDONTWRITEBYTECODE": ""}

    async def run_pre(self, env: Mapping[str, str]) -> list[str]:
        """Run the ``ExecStartPre=`` commands in order with ``env`` (over this process's
        environment), as systemd does before ``ExecStart=``; returns their standard output.
        A failing command raises ``CalledProcessError`` (its stderr attached)."""
        outputs = []
        for command in self.exec_start_pre:
            done = await asyncio.to_thread(
                subprocess.run, self.argv(command), env={**os.environ, **env}, check=True,
                capture_output=True, text=True)
            outputs.append(done.stdout)
        return outputs

    @staticmethod
    def argv(command: tuple[str, ...]) -> list[str]:
        """``command`` runnable here: the console script as this interpreter's module."""
        program, *args = command
        if Path(program).name != CONSOLE_SCRIPT:
            return [program, *args]
        return [sys.executable, "-m", "vitals.cli", *args]

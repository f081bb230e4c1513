"""``homerpm gateway precompile``: write the bytecode the gateway service loads, before it starts.

The systemd unit runs the gateway with ``PYTHONOPTIMIZE=2`` (no docstrings: ~3 MB less
RSS on a 60 MB budget) and ``PYTHONPYCACHEPREFIX`` in its cache directory. Neither pip's
``.pyc`` files (written without optimisation) nor Debian's standard-library ones fit that
level, and ``/usr`` and ``/opt`` are read-only to the service: without a cache the
gateway would compile some 570 modules from source at every start, paying for it in
memory for the rest of its life. The unit's ``ExecStartPre`` runs this command, with the
same environment, in a short-lived process: it imports what the gateway imports and
writes the cache of every module then loaded, exactly what the gateway then reads. Only
the first start after an install or upgrade compiles; later ones find the cache current
and take about a second.
"""

from __future__ import annotations

import compileall
import importlib
import sys

#: What ``homerpm gateway run`` imports: its start-up, then what it imports lazily when a
#: Bluetooth device is configured, bleak's BlueZ backend, the ECG analysis, the codec for
#: the broker's host name and the reader of packaged data files (quirks, default rules).
#: tests/gateway/test_unit_start.py fails when the gateway loads a module this misses.
RUN_PATH = (
    "vitals.cli",
    "gateway.app",
    "device_drivers.ble.source",
    "device_drivers.ble.cursors",
    "device_drivers.ble.bleak_transport",
    "bleak.backends.bluezdbus.client",
    "bleak.backends.bluezdbus.scanner",
    "edge_rules.ecg",
    "encodings.idna",
    "importlib.readers",
)


def precompile(modules: tuple[str, ...] = RUN_PATH) -> int:
    """Import ``modules``, then write the bytecode cache (at this interpreter's optimisation
    level and cache prefix) of every module loaded from source that lacks a current one.
    Returns the number of modules cached."""
    for name in modules:
        importlib.import_module(name)
    sources = sorted({
        spec.origin for spec in (getattr(m, "__spec__", None) for m in list(sys.modules.values()))
        if spec is not None and spec.has_location and str(spec.origin).endswith(".py")
    })
    # compile_file, not the imports themselves: it also covers what was imported before
    # this ran (the CLI) and works where PYTHONDONTWRITEBYTECODE is set.
    return sum(compileall.compile_file(path, quiet=2) for path in sources)

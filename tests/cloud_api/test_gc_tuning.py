"""The collector tuning of the cloud's own processes (cloud_api/gc_tuning.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import cloud_api.api.app as app_module
from cloud_api.api.app import create_app
from cloud_api.gc_tuning import GC_THRESHOLDS
from cloud_api.settings import CloudSettings

REPO = Path(__file__).resolve().parents[2]


def test_tune_gc_freezes_start_up_objects_and_raises_the_thresholds() -> None:
    # In a child process: it changes process-wide state, which this test run must keep.
    probe = ("import gc, json; from cloud_api.gc_tuning import tune_gc; "
             "before = gc.get_threshold(); tune_gc(); "
             "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(REPO)})
    before, after, frozen = json.loads(out.stdout)
    assert after == list(GC_THRESHOLDS) and before != after
    assert frozen > 1000  # the modules, classes and functions loaded so far


@pytest.mark.parametrize("enabled", [True, False])
def test_the_api_tunes_the_collector_only_when_asked(
    enabled: bool, api_settings: CloudSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(app_module, "tune_gc", lambda: calls.append("tuned"))
    with TestClient(create_app(api_settings.model_copy(update={"gc_tuning": enabled}))) as api:
        assert api.get("/healthz").status_code == 200
    assert calls == (["tuned"] if enabled else [])


def test_the_setting_is_off_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOMERPM_GC_TUNING", raising=False)
    assert CloudSettings().gc_tuning is False
    monkeypatch.setenv("HOMERPM_GC_TUNING", "true")
    assert CloudSettings().gc_tuning is True

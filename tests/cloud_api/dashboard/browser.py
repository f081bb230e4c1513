"""Shared browser-test plumbing: Debian's chromium driven by Playwright (no downloads)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/dashboard/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()

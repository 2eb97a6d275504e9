"""The report as a customer sees it: headless Chromium renders the HTML of a six-week migration
from the file alone (nothing fetched), and the picture shows the page and the timeline's bars."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from offboard.report.timeline import ACTOR_COLOURS
from tests.report.png import read_png

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_CHROMIUM = "OFFBOARD_TEST_CHROMIUM"  # scripts/test sets it to `required`: no skip there
WINDOW = (1280, 2000)


@pytest.fixture
def chromium():
    if not CHROMIUM.is_file():
        if os.environ.get(REQUIRE_CHROMIUM) == "required":
            pytest.fail(f"{CHROMIUM} is required ({REQUIRE_CHROMIUM}=required) and missing: run scripts/setup")
        pytest.skip(f"no {CHROMIUM} to take the report's screenshot: scripts/setup installs Debian's chromium package")
    return CHROMIUM


def screenshot(chromium: Path, page: Path, folder: Path) -> Path:
    picture = folder / "report.png"
    subprocess.run([str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={folder / 'profile'}",
                    f"--screenshot={picture}", f"--window-size={WINDOW[0]},{WINDOW[1]}", page.as_uri()],
                   check=True, capture_output=True, timeout=60)
    return picture


def test_chromium_shows_the_report_with_its_timeline(chromium, six_weeks, tmp_path):
    image = read_png(screenshot(chromium, six_weeks.html_path, tmp_path))
    assert (image.width, image.height) == WINDOW
    sampled = list(image.pixels(every=2))
    inked = sum(1 for pixel in sampled if pixel != (255, 255, 255))
    assert inked / len(sampled) > 0.05, f"the page looks blank: {inked} of {len(sampled)} pixels are not white"
    colours = {pixel for pixel in sampled}
    # the bars of the people waited on and of the machine steps are drawn in their colours
    for actor in ("customer", "ch-msp"):
        hex_colour = ACTOR_COLOURS[actor]
        assert tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)) in colours, f"no bar of {actor} in the picture"

"""An app process gives freed large buffers back to the operating system
(webapp/system/memory.py): an export builds 3.5 MB pages in threads and frees them in
another, which glibc's default thresholds turn into heaps that only grow."""

from __future__ import annotations

import subprocess
import sys

#: Pages of varying size built by two threads and freed by the main one, as the export does;
#: prints how far the process's peak RSS rose, in MB.
EXPORT_LIKE_PAGES = """
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor

def peak_mb():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())[1]) / 1024

def build(n):
    return ("y" * (3_000_000 + (n * 7919) % 1_000_000) + "\\r\\n").encode()

before = peak_mb()
with ThreadPoolExecutor(2) as builders:
    pages = deque()
    for n in range(400):
        pages.append(builders.submit(build, n))
        if len(pages) > 2:
            page = pages.popleft().result()
            sent = page.replace(b",", b";") + b"!"
            del page, sent
print(peak_mb() - before)
"""
AN_APP = "from webapp import create_app; create_app({'SECRET_KEY': 'x', 'SCHEDULER': False})\n"


def peak_growth_mb(setup: str) -> float:
    finished = subprocess.run([sys.executable, "-c", setup + EXPORT_LIKE_PAGES],
                              capture_output=True, text=True, check=True, timeout=120)
    return float(finished.stdout.strip().splitlines()[-1])


def test_an_app_process_does_not_keep_freed_pages():
    without_the_setting = peak_growth_mb("")
    in_an_app = peak_growth_mb(AN_APP)
    assert in_an_app < 0.7 * without_the_setting, (in_an_app, without_the_setting)

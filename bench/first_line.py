# make bench: Python's first line and its resident pages (bench/first_line.c
# is the static program's twin). The first line carries CLOCK_MONOTONIC read
# just before it is written; the Makefile turns it into a TSC value with the
# kernel's "monotonic zero" boot line. VmRSS is read just before the exit.
import time
print("bench: python_first_line_ns", time.monotonic_ns(), flush=True)
with open("/proc/self/status") as f:
    rss = [line.split()[1] for line in f if line.startswith("VmRSS:")]
print("bench: python_rss_kb", rss[0] if rss else "missing", flush=True)

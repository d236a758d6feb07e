"""Times Python prometheus_client's MultiProcessCollector on a multiprocess directory.

Usage (the directory the `multiprocess` bench leaves with PROMSTACK_MP_BENCH_DIR set):
    PROMSTACK_MP_BENCH_DIR=/tmp/mpb cargo bench -p promstack --bench multiprocess -- 8_processes
    python3 std-ext/benches/multiprocess_python.py /tmp/mpb

Prints the median of merge + text exposition and of the merge alone, in microseconds, as
Criterion's numbers are medians.
"""
import glob
import os
import statistics
import sys
import time

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector


def median_us(f, runs):
    f()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    files = glob.glob(os.path.join(path, '*.db'))
    scrape = median_us(lambda: generate_latest(registry), runs)
    merge = median_us(lambda: list(MultiProcessCollector.merge(files, accumulate=True)), runs)
    print('python %s: %d files, merge + encode %.0f us, merge alone %.0f us'
          % (sys.modules['prometheus_client'].__file__, len(files), scrape, merge))


if __name__ == '__main__':
    main()

"""Times Python prometheus_client's MultiProcessCollector on a multiprocess directory.

Usage (the directory the `multiprocess` bench leaves with PROMSTACK_MP_BENCH_DIR set):
    PROMSTACK_MP_BENCH_DIR=/tmp/mpb cargo bench -p promstack --bench multiprocess -- 8_processes
    python3 std-ext/benches/multiprocess_python.py /tmp/mpb

Prints the median of merge + text exposition and of the merge alone, in microseconds, wall-clock
(as Criterion's medians) and CPU time (comparable on a busy machine with the CPU time of
`cargo run --release -p promstack --example mp_scrape_time -- DIR`).
"""
import glob
import os
import statistics
import sys
import time

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector


def median_us(f, runs):
    """Median wall-clock and CPU time of `f`, in microseconds."""
    f()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        f()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1e6, statistics.median(cpu) * 1e6


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    files = glob.glob(os.path.join(path, '*.db'))
    scrape = median_us(lambda: generate_latest(registry), runs)
    merge = median_us(lambda: list(MultiProcessCollector.merge(files, accumulate=True)), runs)
    print('python %s: %d files, merge + encode median %.0f us wall, %.0f us cpu; '
          'merge alone %.0f us wall, %.0f us cpu'
          % (sys.modules['prometheus_client'].__file__, len(files), scrape[0], scrape[1], merge[0], merge[1]))


if __name__ == '__main__':
    main()

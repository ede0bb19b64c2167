"""Shared pieces of the alternating benchmark harnesses (bench_analysis.py, bench_update.py,
bench_dense_sweep.py, bench_iterative_alternating.py): thread settings that must precede the NumPy
import, the load average, the summary lines every harness prints, and the atomic JSON report.

Each harness runs the Swift side (`attractor bench ... --json`, a separate process) and the NumPy
side (this process) in rounds, A B A B ..., so that load from other processes on the shared machine
falls on both sides; it prints both medians, their ratio, the thread counts and the load average
before and after, and writes everything to a JSON file (default report-bench/<name>.json, git-ignored).
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def set_blas_threads(threads):
    """Sets the BLAS thread variables (before NumPy is imported) and returns them for the Swift side."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def load_average():
    return [round(x, 2) for x in os.getloadavg()]


def numpy_blas():
    """NumPy's OpenBLAS: the kernel set chosen at load time and its configuration string.

    Asks the OpenBLAS library NumPy loaded (found in /proc/self/maps) through ctypes, trying the
    symbol names of a plain OpenBLAS and of the scipy-openblas build NumPy's wheels bundle; falls
    back to the build configuration in numpy.show_config() (no threadpoolctl). Returns
    {"core": ..., "config": ...} with None where nothing was found.
    """
    import ctypes
    import numpy as np

    core = config = None
    try:
        paths = sorted({line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower()})
    except OSError:
        paths = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("", ""), ("scipy_", "64_"), ("scipy_", "_"), ("", "64_")):
            for field, name in (("core", "get_corename"), ("config", "get_config")):
                function = getattr(lib, f"{prefix}openblas_{name}{suffix}", None)
                if function is not None and (core if field == "core" else config) is None:
                    function.restype = ctypes.c_char_p
                    value = function()
                    if field == "core":
                        core = value.decode() if value else None
                    else:
                        config = value.decode() if value else None
    if config is None:
        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            config = blas.get("openblas configuration") or blas.get("name")
        except Exception:  # noqa: BLE001 - older NumPy: no dict mode
            pass
    return {"core": core, "config": config}


def run_swift(cmd):
    """Runs `attractor ... --json` and returns its JSON object."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def median(values):
    return float(statistics.median(values))


def write_json(path, obj):
    """Writes obj as JSON to path atomically (temporary file, then rename)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def default_json(name):
    return str(pathlib.Path("report-bench") / f"{name}.json")


def summary(name, swift_seconds, numpy_seconds, threads, load_before, load_after, extra=None):
    """Prints the closing lines every harness shares and returns the JSON summary."""
    import numpy as np

    s, n = median(swift_seconds), median(numpy_seconds)
    print(f"ratio NumPy / Swift (time, medians): {n / s:.2f}  (> 1: Swift faster); "
          f"of best runs {min(numpy_seconds) / min(swift_seconds):.2f}")
    blas = numpy_blas()
    print(f"BLAS threads: {threads} on both sides; cores: {os.cpu_count()}; NumPy {np.__version__}, "
          f"Python {sys.version.split()[0]}; NumPy's OpenBLAS kernels: {blas['core']} ({blas['config']})")
    print(f"load average before: {' '.join(map(str, load_before))}; after: {' '.join(map(str, load_after))}")
    result = {
        "benchmark": name,
        "swiftMedianSeconds": s,
        "numpyMedianSeconds": n,
        "ratioNumPyOverSwift": n / s,
        "ratioOfBestRuns": min(numpy_seconds) / min(swift_seconds),
        "swiftSeconds": list(swift_seconds),
        "numpySeconds": list(numpy_seconds),
        "blasThreads": threads,
        "cores": os.cpu_count(),
        "numpyVersion": np.__version__,
        "numpyBlasCore": blas["core"],
        "numpyBlasConfig": blas["config"],
        "loadAverageBefore": load_before,
        "loadAverageAfter": load_after,
    }
    if extra:
        result.update(extra)
    return result

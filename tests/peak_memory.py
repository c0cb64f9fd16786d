"""The peak-RSS reader that child processes of memory tests and benchmarks run.

``PEAK_MB`` is Python source defining ``peak_mb()``: put it at the top of the
code a fresh ``python -c`` child runs, measure a baseline, do the work, measure
again. Memory figures, not times: they do not depend on machine load.
"""

PEAK_MB = r'''
import resource

def peak_mb():
    # VmHWM: this process's own peak RSS. ru_maxrss would do on a fresh process,
    # but Linux carries the parent's peak into it across fork+exec.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
'''

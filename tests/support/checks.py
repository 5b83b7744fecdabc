"""Shared by the end-to-end test scripts: running their test_ functions, skipping what cannot run
here, and a full disk (a 2 MB tmpfs, which only root can mount)."""
import contextlib
import os
import subprocess
import sys
import traceback


class Skip(Exception):
    """A check that cannot run on this machine."""


@contextlib.contextmanager
def tiny_disk(path):
    """Mounts a 2 MB tmpfs at `path` (created) for the `with` block; raises Skip when it cannot."""
    path.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M", "tmpfs", str(path)],
                                           capture_output=True).returncode != 0:
        raise Skip("needs root to mount a 2 MB tmpfs")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)])


def run_checks(namespace, names=()):
    """Runs the named test_ functions of a script's namespace (default: all), prints one line each
    and exits 1 if any failed."""
    chosen = list(names) or [name for name in namespace if name.startswith("test_") and callable(namespace[name])]
    passed = failed = skipped = 0
    for name in chosen:
        try:
            namespace[name]()
            passed += 1
            print(f"ok    {name}")
        except Skip as why:
            skipped += 1
            print(f"skip  {name}: {why}")
        except Exception:
            failed += 1
            print(f"FAIL  {name}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    sys.exit(1 if failed else 0)

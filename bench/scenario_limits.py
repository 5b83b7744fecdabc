#!/usr/bin/env python3
"""Time and memory of `alignsim validate` on hostile scenarios of growing size (docs/reliability.md).

    /usr/bin/python3 bench/scenario_limits.py --alignsim build/sim/app/alignsim [--sizes 0.5,1,2,4]

For each shape and size (MiB, up to the 4 MiB a scenario may hold) it writes a scenario in a
temporary folder and prints the wall time and the peak memory of `alignsim validate` on it:

  events        valid events of ~190 bytes, each requiring the one before it
  references    a few thousand events, then one event excluding them all, one id per line
  numbers       `k = [1,1,...]` lines of 4000 bytes: the parser's dearest per byte
  errors        agents with bad ids: 100 diagnostics, then only their count

and, past the limits, a 5 MiB file, inline tables 5000 deep and a 5000-byte line, each refused at
once. Linear time and memory show as seconds and MiB per MiB that do not grow with the size.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HEAD = '''[scenario]
name = "limits"
title = "A scenario of growing size"
[parameters]
start = "1950-01"
end = "1951-12"
[[agents]]
id = "AA"
name = "Atlantis"
capability = 0.5
[[agents]]
id = "BB"
name = "Borduria"
capability = 0.5
[[issues]]
id = "ideology"
meaning = "planned (-1) or market (+1)"
[interests.AA]
ideology = { position = 1.0, salience = 1.0 }
[interests.BB]
ideology = { position = -1.0, salience = 1.0 }
'''


def event(k, extra=""):
    return (f'\n[[events]]\nid = "e{k}"\ndate = "1950-03"\ntitle = "event {k}"\nkind = "visit"\nactors = ["AA", "BB"]\n'
            f'source = [1]\n{extra}[[events.shocks]]\nfrom = "AA"\nto = "BB"\ngoldstein = 2.8\n')


def shape(name, size):
    """Text of about `size` bytes."""
    out = [HEAD]
    n = len(HEAD)
    if name == "events":
        k = 0
        while n < size:
            out.append(event(k, f'requires = ["e{k - 1}"]\n' if k else ""))
            n += len(out[-1])
            k += 1
    elif name == "references":
        events = 3000
        for k in range(events):
            out.append(event(k))
            n += len(out[-1])
        refs = []
        while n < size:
            refs.append(f'"e{len(refs) % events}",\n')
            n += len(refs[-1])
        out.append(event(events, "excludes = [\n" + "".join(refs) + "]\n"))
    elif name == "numbers":
        k = 0
        while n < size:
            out.append(f"k{k} = [" + "1," * 1995 + "1]\n")
            n += len(out[-1])
            k += 1
        out.insert(1, "[extra]\n")  # the numbers sit in a table of their own; the loader rejects it last
    elif name == "errors":
        k = 0
        while n < size:
            out.append(f'[[agents]]\nid = "bad id {k}"\nname = "x"\ncapability = 1\n')
            n += len(out[-1])
            k += 1
    return "".join(out)


def measure(alignsim, path):
    """Wall seconds, peak MiB (of this process alone, from wait4), exit status, first stderr line."""
    t0 = time.perf_counter()
    p = subprocess.Popen([alignsim, "validate", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, p.returncode, err.splitlines()[:1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alignsim", required=True)
    ap.add_argument("--sizes", default="0.5,1,2,4", help="sizes in MiB, comma-separated (default %(default)s)")
    a = ap.parse_args()
    sizes = [float(s) for s in a.sizes.split(",")]
    folder = pathlib.Path(tempfile.mkdtemp(prefix="alignsim_limits_"))
    print(f"alignsim validate, {os.cpu_count()} cores; wall seconds and peak resident MiB")
    print(f"{'shape':<12} {'MiB':>5} {'seconds':>8} {'s/MiB':>7} {'peak MiB':>9} exit")
    for name in ("numbers", "events", "references", "errors"):
        for size in sorted(sizes, reverse=True):
            path = folder / f"{name}_{size}.toml"
            text = shape(name, int(size * (1 << 20)) - 4096)
            path.write_text(text)
            mib = len(text.encode()) / (1 << 20)
            seconds, peak, code, _ = measure(a.alignsim, path)
            print(f"{name:<12} {mib:5.2f} {seconds:8.2f} {seconds / mib:7.2f} {peak:9.0f} {code}")
            path.unlink()
    for name, text in (("5 MiB", HEAD + ("# " + "-" * 1021 + "\n") * 5 * 1024),
                       ("5000 deep", HEAD + "deep = " + "{ a = " * 5000 + "1" + " }" * 5000 + "\n"),
                       ("long line", HEAD + 'note = "' + "x" * 5000 + '"\n')):
        path = folder / "refused.toml"
        path.write_text(text)
        seconds, _, code, first = measure(a.alignsim, path)
        print(f"refused: {name:<10} {seconds:6.2f} s, exit {code}: {first[0] if first else ''}")
    path.unlink()
    folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())

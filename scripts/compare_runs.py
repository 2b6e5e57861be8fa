#!/usr/bin/python3
"""Compare two result trees of efmpi run files bit for bit, ignoring timing.

    /usr/bin/python3 scripts/compare_runs.py A B

A and B are folders (e.g. two `OUT=... configs/paper/reproduce.sh` results)
or two .h5 files. For every run file (*.h5) under A, the file at the same
relative path under B must exist, and so must the reverse. Two run files
agree when every dataset is bitwise equal (same dtype, shape and bytes;
NaN payloads included) except trajectory/time_s and the timing/ group, and
every attribute is equal except those that name a clock or a path
(started_at, finished_at, *_path, *_path_abs, working_dir; in the config
attribute, the `output = ...` line, which names the file itself). Every
sweep.csv must agree cell for cell except the time_s and file columns,
and tables.md files line for line except the dated "# Tables regenerated"
line, the paths of A and B themselves read as the same. (Figures: compare
the PNGs with cmp; efmpi plot writes the same bytes for the same runs.)

Prints one line per difference and a summary; exit status 0 when the trees
agree, 1 when they differ, 2 on bad usage. Needs h5py and numpy.
"""
import csv
import os
import sys

import h5py
import numpy as np

SKIP_DATASETS = {"trajectory/time_s"}
SKIP_GROUPS = ("timing/",)
SKIP_ATTRS = {"started_at", "finished_at", "output_path", "output_path_abs",
              "config_path", "config_path_abs", "working_dir"}
SKIP_COLUMNS = {"time_s", "file"}
# Root attributes that earlier versions wrote under an ambiguous name, and
# their current names (hdf5io.LegacyAttrs): a file of either layout compares
# with one of the other.
RENAMED_ATTRS = {"alpha": "contraction_alpha", "split_alpha": "dirichlet_alpha"}


def root_attrs(f):
    """The root attributes of an open run file, under their current names."""
    out = dict(f.attrs)
    for old, cur in RENAMED_ATTRS.items():
        if old in out:
            out.setdefault(cur, out[old])
            del out[old]
    return out


def datasets(f):
    """Every dataset of an open HDF5 file, by path."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj

    f.visititems(visit)
    return out


def drop_output(config):
    """The effective config text without its line naming the output file."""
    return "\n".join(l for l in config.splitlines() if not l.startswith("output = "))


def same_array(a, b):
    """Bitwise equality of two numpy arrays (object arrays: element equality)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "O":
        return all(x == y for x, y in zip(a.ravel(), b.ravel()))
    return np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def attr_equal(name, x, y):
    if name == "config" and isinstance(x, str) and isinstance(y, str):
        x, y = drop_output(x), drop_output(y)
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return same_array(np.asarray(x), np.asarray(y))
    if isinstance(x, float) and isinstance(y, float):
        return np.float64(x).tobytes() == np.float64(y).tobytes()
    return x == y


def compare_h5(pa, pb, diffs):
    with h5py.File(pa, "r") as fa, h5py.File(pb, "r") as fb:
        aa, ab = root_attrs(fa), root_attrs(fb)
        for name in sorted(set(aa) | set(ab)):
            if name in SKIP_ATTRS:
                continue
            if name not in aa or name not in ab:
                diffs.append(f"{pa}: attribute {name} only in one file")
            elif not attr_equal(name, aa[name], ab[name]):
                diffs.append(f"{pa}: attribute {name} differs")
        da, db = datasets(fa), datasets(fb)
        for name in sorted(set(da) | set(db)):
            if name in SKIP_DATASETS or name.startswith(SKIP_GROUPS):
                continue
            if name not in da or name not in db:
                diffs.append(f"{pa}: dataset {name} only in one file")
                continue
            a, b = da[name][()], db[name][()]
            if not same_array(np.asarray(a), np.asarray(b)):
                diffs.append(f"{pa}: dataset {name} differs")
    return 1


def compare_csv(pa, pb, diffs):
    with open(pa, newline="") as fa, open(pb, newline="") as fb:
        ra, rb = list(csv.reader(fa)), list(csv.reader(fb))
    if not ra or not rb or ra[0] != rb[0] or len(ra) != len(rb):
        diffs.append(f"{pa}: header or row count differs")
        return
    keep = [i for i, c in enumerate(ra[0]) if c not in SKIP_COLUMNS]
    for n, (x, y) in enumerate(zip(ra[1:], rb[1:]), start=2):
        for i in keep:
            if x[i] != y[i]:
                diffs.append(f"{pa}:{n}: column {ra[0][i]}: {x[i]!r} vs {y[i]!r}")


def compare_text(pa, pb, roots, diffs):
    """Line for line but the dated heading, each tree's root folder (which
    the summaries print) written as ROOT."""
    def lines(path, root):
        with open(path) as f:
            text = f.read()
        # the root as an absolute path and as given, each followed by "/"
        # (so that a short relative root never matches inside a word)
        for r in (os.path.abspath(root), root):
            text = text.replace(r + "/", "ROOT/")
        return [l for l in text.splitlines() if not l.startswith("# Tables regenerated")]

    la, lb = lines(pa, roots[0]), lines(pb, roots[1])
    if la != lb:
        diffs.append(f"{pa}: differs")


def files(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".h5") or n in ("sweep.csv", "tables.md"):
                out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    a, b = argv[1], argv[2]
    diffs = []
    if os.path.isfile(a):
        compare_h5(a, b, diffs)
        runs = 1
    else:
        fa, fb = files(a), files(b)
        for only, where in ((fa - fb, b), (fb - fa, a)):
            for p in sorted(only):
                diffs.append(f"{p}: missing under {where}")
        runs = 0
        for p in sorted(fa & fb):
            pa, pb = os.path.join(a, p), os.path.join(b, p)
            if p.endswith(".h5"):
                try:
                    runs += compare_h5(pa, pb, diffs)
                except OSError as e:  # unreadable, or still being written
                    diffs.append(f"{pa}: cannot compare: {e}")
            elif p.endswith(".csv"):
                compare_csv(pa, pb, diffs)
            else:
                compare_text(pa, pb, (os.path.normpath(a), os.path.normpath(b)), diffs)
    for d in diffs:
        print(d)
    print(f"compare_runs: {runs} run files compared, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Executes scripts/notebooks/west_midlands.ipynb on a real run and checks every cell ran cleanly.

Run by ctest as
    test_notebook.py --carecast BIN --source REPO_ROOT --workdir DIR [--file RESULT.h5]

Pipeline (skipped with --file, which uses an existing result file instead):
  1. DIR/tiny.toml = tests/data/tiny.toml with `save_trajectories = 200`;
  2. BIN run DIR/tiny.toml -n 200 --seed 3 -q -o DIR/run.h5;
  3. BIN attribute DIR/run.h5 --variable unmet_hours --year 1;
  4. CARECAST_RESULT=DIR/run.h5 MPLBACKEND=Agg jupyter nbconvert --to notebook --execute
     --ExecutePreprocessor.timeout=300 --output DIR/executed.ipynb REPO/scripts/notebooks/west_midlands.ipynb

Checks: the committed notebook is valid and has its outputs cleared; each step exits 0;
in the executed notebook every code cell ran, no cell has an error output or a traceback on
stderr, the fan-chart, comparison and tornado cells each display PNG images (5 fan charts,
one comparison chart per default variable when the file has vs_ groups, one tornado chart
per attribution group), and the run's path is printed.
Prints "test_notebook: P passed, F failed"; exits 1 on failure.
"""

import base64
import os
import shutil
import subprocess
import sys

from carecast_test_support import MIN_PNG_BYTES, Checks, fresh_workdir, parse_args, plot_env, png_problem, result_file

FAN_CHARTS = 5
COMPARE_CHARTS = 7


def nbconvert_command():
    jupyter = shutil.which("jupyter")
    if jupyter:
        return [jupyter, "nbconvert"]
    return [sys.executable, "-m", "nbconvert"]


def images(cell):
    found = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            found.append(base64.b64decode(data["image/png"]))
    return found


def main():
    args = parse_args("test_notebook", file_option=True)
    workdir = fresh_workdir(args.workdir)
    notebook = os.path.join(args.source, "scripts", "notebooks", "west_midlands.ipynb")
    c = Checks("test_notebook")

    try:
        import nbformat
    except ImportError:
        c.check("nbformat is installed (scripts/setup installs python3-nbformat)", False)
        return c.finish()

    committed = nbformat.read(notebook, as_version=4)
    try:
        nbformat.validate(committed)
        valid = True
    except Exception as e:  # nbformat.ValidationError and friends
        valid, why = False, str(e)
    c.check("the committed notebook is valid nbformat", valid, "" if valid else why)
    code_cells = [cell for cell in committed.cells if cell.cell_type == "code"]
    c.check("the committed notebook has its outputs cleared",
            all(not cell.get("outputs") and cell.get("execution_count") is None for cell in code_cells))

    result = result_file(args, c)
    if result is None:
        return c.abort()

    sys.path.insert(0, os.path.join(args.source, "scripts"))
    import carecast_results as cr
    with cr.open_result(result) as f:
        compared = len(cr.compared_scenarios(f)) > 0
        attributions = len(cr.attribution_groups(f))
    c.check("the result file has vs_ groups", compared)
    c.check("the result file has an attribution group", attributions > 0)

    executed = os.path.join(workdir, "executed.ipynb")
    env = plot_env(workdir, CARECAST_RESULT=result, PYDEVD_DISABLE_FILE_VALIDATION="1",
                   JUPYTER_RUNTIME_DIR=os.path.join(workdir, "jupyter_runtime"),
                   IPYTHONDIR=os.path.join(workdir, "ipython"))
    proc = subprocess.run(nbconvert_command() + ["--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=300",
                                                 "--output", executed, notebook],
                          capture_output=True, text=True, env=env, timeout=900, cwd=workdir)
    c.check("jupyter nbconvert --execute exits 0", proc.returncode == 0,
            f"rc={proc.returncode} {proc.stderr.strip()[-3000:]}")
    if not os.path.isfile(executed):
        c.check("nbconvert wrote the executed notebook", False, executed)
        return c.finish()

    nb = nbformat.read(executed, as_version=4)
    cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    c.check("every code cell was executed", all(cell.get("execution_count") is not None for cell in cells),
            str([cell.get("execution_count") for cell in cells]))
    errors = [f"cell {i}: {out.get('ename')}: {out.get('evalue')}" for i, cell in enumerate(cells)
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    c.check("no cell has an error output", not errors, "; ".join(errors))
    tracebacks = [f"cell {i}: {out.get('text', '')[:300]}" for i, cell in enumerate(cells)
                  for out in cell.get("outputs", [])
                  if out.get("output_type") == "stream" and out.get("name") == "stderr"
                  and ("Traceback" in out.get("text", "") or "Error" in out.get("text", ""))]
    c.check("no cell prints a traceback or error on stderr", not tracebacks, "; ".join(tracebacks))
    printed = "".join(out.get("text", "") for cell in cells for out in cell.get("outputs", [])
                      if out.get("output_type") == "stream")
    c.check("the notebook prints the result file it read", result in printed, printed[:300])

    def section(marker):
        hits = [cell for cell in cells if marker in cell.source]
        return images(hits[0]) if hits else None

    for name, marker, expected in (("fan charts", "plot_fan.fan_charts", FAN_CHARTS),
                                   ("comparison charts", "plot_compare.compare_charts",
                                    COMPARE_CHARTS if compared else 0),
                                   ("tornado charts", "plot_tornado.tornado_figure", attributions)):
        pngs = section(marker)
        # Each image: the PNG magic number and more than 5000 bytes.
        ok = pngs is not None and len(pngs) == expected and \
            not any(png_problem(p, min_bytes=MIN_PNG_BYTES + 1) for p in pngs)
        c.check(f"the {name} cell displays {expected} PNG image(s)", ok,
                "no such cell" if pngs is None else f"{len(pngs)} images, sizes {[len(p) for p in pngs]}")

    return c.finish()


if __name__ == "__main__":
    sys.exit(main())

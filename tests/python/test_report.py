#!/usr/bin/env python3
"""Builds the HTML report of a real run and checks it in headless Chromium.

Run by ctest as
    test_report.py --carecast BIN --source REPO_ROOT --workdir DIR [--file RESULT.h5]

Pipeline (steps 1-3 skipped with --file, which uses an existing result file instead):
  1. DIR/tiny.toml = tests/data/tiny.toml with `save_trajectories = 200`;
  2. BIN run DIR/tiny.toml -n 200 --seed 3 -q -o DIR/run.h5;
  3. BIN attribute DIR/run.h5 --variable unmet_hours --year 1;
  4. scripts/report.py DIR/run.h5 -o DIR/report.html.

What is checked:
  - report.py exits 0 and prints the path it wrote;
  - the page is self-contained: no <script>, <link>, <iframe>, <object>, @import or url(),
    no http(s):// anywhere, and every src/href is a data: URI or a #fragment;
  - its content: the run settings, the headline table (a row per scenario, a difference row per
    non-base scenario with P(better)), the resolved configuration in <details>, no "Traceback",
    "nan" or "n/a" in the tables;
  - the images: as many <img> as expected (5 fan charts, 7 comparison charts when the file has
    vs_ groups, one tornado chart per attribution group), each a data:image/png;base64 URI
    whose bytes decode to a PNG (magic number, IHDR width and height > 0) of a plausible size;
  - in headless Chromium (--headless --no-sandbox --disable-gpu, own --user-data-dir):
      a) --dump-dom of the report: the DOM holds the same data-URI <img> elements and the
         tables; with --enable-logging=stderr --v=0, no console message (":CONSOLE" lines,
         e.g. "Uncaught ...") is logged while it loads;
      b) --dump-dom of a wrapper page written to DIR (not the report) that loads report.html in
         an iframe (--allow-file-access-from-files) and writes, for every <img> of the report,
         whether it loaded, its natural size and its rendered size: every image must have
         decoded (complete, naturalWidth/Height > 0) and be laid out with a non-zero box;
      c) --screenshot of the report: a PNG that is not blank (pixel spread, share of non-white
         pixels).
Prints "test_report: P passed, F failed"; exits 1 on failure.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys

from carecast_test_support import Checks, fresh_workdir, parse_args, plot_env, png_problem, result_file

FAN_CHARTS = 5
COMPARE_CHARTS = 7
CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]

WRAPPER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>report image check</title></head><body>
<pre id="result">pending</pre>
<iframe id="report" src="REPORT" width="1200" height="900"></iframe>
<script>
document.getElementById("report").addEventListener("load", function () {
  var out = document.getElementById("result");
  try {
    var images = Array.prototype.slice.call(this.contentDocument.images);
    out.textContent = JSON.stringify(images.map(function (img) {
      var box = img.getBoundingClientRect();
      return {complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
              width: box.width, height: box.height, data: img.src.indexOf("data:image/png;base64,") === 0};
    }));
  } catch (e) {
    out.textContent = "ERROR " + e;
  }
});
</script>
</body></html>
"""


def chromium(binary, workdir, extra, url, timeout=180):
    args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--disable-extensions", f"--user-data-dir={os.path.join(workdir, 'chromium-profile')}",
            "--virtual-time-budget=5000"] + extra + [url]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, HOME=workdir))


def main():
    args = parse_args("test_report", file_option=True)
    workdir = fresh_workdir(args.workdir)
    c = Checks("test_report")

    result = result_file(args, c)
    if result is None:
        return c.abort()

    sys.path.insert(0, os.path.join(args.source, "scripts"))
    import carecast_results as cr
    with cr.open_result(result) as f:
        scenarios = cr.scenario_names(f)
        base = cr.base_scenario(f)
        compared = cr.compared_scenarios(f)
        attributions = len(cr.attribution_groups(f))
        config = cr.attr(f, "config", "")
    expected_images = FAN_CHARTS + (COMPARE_CHARTS if compared else 0) + attributions

    # 4. The report.
    report = os.path.join(workdir, "report.html")
    env = plot_env(workdir)
    proc = subprocess.run([sys.executable, os.path.join(args.source, "scripts", "report.py"), result, "-o", report],
                          capture_output=True, text=True, env=env, timeout=600)
    c.check("report.py exits 0", proc.returncode == 0, f"rc={proc.returncode} {proc.stderr.strip()[-2000:]}")
    c.check("report.py prints the path it wrote", report in proc.stdout, proc.stdout.strip())
    if not c.check("the report exists", os.path.isfile(report)):
        return c.finish()
    with open(report, encoding="utf-8") as fh:
        page = fh.read()

    # Self-contained.
    lower = page.lower()
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "@import", "url("):
        c.check(f"the page has no {tag}", tag not in lower)
    c.check("the page names no http(s):// address", "http://" not in lower and "https://" not in lower)
    refs = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page, flags=re.IGNORECASE)
    external = [r[:60] for r in refs if not (r.startswith("data:") or r.startswith("#"))]
    c.check("every src/href is a data: URI or a #fragment", not external, str(external))

    # Content.
    for text in ("Run settings", "Headline figures", "Fan charts", "Scenario comparison",
                 "What drives the results", "<details>", "Trajectories", "Seed"):
        c.check(f"the page has '{text}'", text in page)
    c.check("the page shows the resolved configuration (escaped)", "[[scenario]]" in page and
            "save_trajectories" in page and len(config) > 0)
    headline = re.search(r'<table class="headline">(.*?)</table>', page, flags=re.S)
    rows = re.findall(r'<tr><td class="name">([^<]*)</td>', headline.group(1)) if headline else []
    c.check("the headline table has a row per scenario",
            [r.replace(" (base)", "") for r in rows] == scenarios, f"{rows} vs {scenarios}")
    difference = re.search(r'<table class="difference">(.*?)</table>', page, flags=re.S)
    drows = re.findall(r'<tr><td class="name">([^<]*)</td>', difference.group(1)) if difference else []
    c.check("the difference table has a row per non-base scenario with P(better)",
            drows == compared and len(compared) == len(scenarios) - 1 and
            (difference is not None and difference.group(1).count("P(better)") >= len(compared)),
            f"{drows} vs {compared}")
    tables = "".join(m for m in re.findall(r"<table.*?</table>", page, flags=re.S))
    cells = re.findall(r"<td[^>]*>(.*?)</td>", tables, flags=re.S)
    bad_cells = [x for x in cells if re.search(r"\bnan\b|n/a|inf\b", x, flags=re.I)]
    c.check("no table cell is nan, inf or n/a", not bad_cells, str(bad_cells[:5]))
    c.check("the page has no Traceback", "Traceback" not in page)
    c.check(f"the page names the base scenario '{base}'", f"{base} (base)" in page)

    # Images decode.
    uris = re.findall(r'<img\s+src="(data:[^"]*)"', page)
    c.check(f"the page has {expected_images} <img> (fan, comparison, tornado)",
            len(uris) == expected_images and len(re.findall(r"<img\b", page)) == expected_images,
            f"{len(uris)} data-URI images, {len(re.findall(r'<img', page))} <img>")
    bad = []
    for i, uri in enumerate(uris):
        if not uri.startswith("data:image/png;base64,"):
            bad.append(f"{i}: {uri[:30]}")
            continue
        try:
            data = base64.b64decode(uri.split(",", 1)[1], validate=True)
        except ValueError as e:
            bad.append(f"{i}: {e}")
            continue
        why = png_problem(data, min_width=300, min_height=200)  # and at least 5000 bytes
        if why:
            bad.append(f"{i}: {why}")
    c.check("every image is a base64 PNG with IHDR width and height > 0 and plausible size", not bad, "; ".join(bad))

    # Headless Chromium.
    binary = next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)
    if not c.check("chromium is installed (scripts/setup installs it)", binary is not None):
        return c.finish()
    url = "file://" + report

    # a) The DOM, and the console while loading.
    dom = chromium(binary, workdir, ["--enable-logging=stderr", "--v=0", "--dump-dom"], url)
    c.check("chromium --dump-dom of the report exits 0", dom.returncode == 0,
            f"rc={dom.returncode} {dom.stderr.strip()[-1500:]}")
    dom_images = re.findall(r'<img\s+src="data:image/png;base64,', dom.stdout)
    c.check("the DOM holds every <img> with a data:image/png URI", len(dom_images) == expected_images,
            f"{len(dom_images)} of {expected_images}")
    c.check("the DOM holds the headline and difference tables",
            'class="headline"' in dom.stdout and (not compared or 'class="difference"' in dom.stdout))
    c.check("the DOM shows no error text", "Traceback" not in dom.stdout and "Uncaught" not in dom.stdout)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    c.check("no console message while the report loads", not console, "; ".join(console[:5]))

    # b) Every image decodes and has a layout box (measured from a wrapper page, not the report).
    wrapper = os.path.join(workdir, "image_check.html")
    with open(wrapper, "w", encoding="utf-8") as fh:
        fh.write(WRAPPER.replace("REPORT", os.path.basename(report)))
    probe = chromium(binary, workdir, ["--allow-file-access-from-files", "--dump-dom"], "file://" + wrapper)
    found = re.search(r'<pre id="result">(.*?)</pre>', probe.stdout, flags=re.S)
    measured = None
    if found:
        try:
            measured = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        except ValueError:
            measured = None
    detail = found.group(1)[:300] if found else f"rc={probe.returncode} {probe.stderr.strip()[-800:]}"
    if c.check("the wrapper page measured the report's images", isinstance(measured, list), detail):
        broken = [i for i, m in enumerate(measured)
                  if not (m["complete"] and m["data"] and m["naturalWidth"] > 0 and m["naturalHeight"] > 0
                          and m["width"] > 0 and m["height"] > 0)]
        c.check("every image loaded in Chromium with a non-zero natural and rendered size",
                len(measured) == expected_images and not broken,
                f"{len(measured)} images measured, broken: {broken} {measured[:2]}")

    # c) A screenshot that is not blank.
    shot = os.path.join(workdir, "report.png")
    snap = chromium(binary, workdir, ["--window-size=1200,2400", f"--screenshot={shot}"], url)
    if c.check("chromium --screenshot writes a PNG", snap.returncode == 0 and os.path.isfile(shot),
               f"rc={snap.returncode} {snap.stderr.strip()[-800:]}"):
        import matplotlib.image as mpimg
        import numpy as np
        pixels = mpimg.imread(shot)[..., :3]
        non_white = float(np.mean(np.any(pixels < 0.95, axis=2)))
        c.check("the screenshot is not blank", float(np.std(pixels)) > 0.05 and non_white > 0.05,
                f"std={np.std(pixels):.3f} non-white share={non_white:.3f}")

    return c.finish()


if __name__ == "__main__":
    sys.exit(main())

"""report.html: the markdown report as one self-contained page (figures embedded, nothing
outside the page), and it renders in headless Chromium with every figure loaded (skipped with
its reason where Chromium is not installed: Debian `apt-get install -y chromium`, as .ci/run does)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.execute.store import load_runs, load_table, read_probe
from bench.models import MODELS
from bench.probes.structure import structural_params
from bench.report.build import write_report
from bench.report.html import inline, to_html

FIXTURE = Path(__file__).parent / "fixtures" / "results_small.csv"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
# appended to a copy of the page: counts the figures the browser decoded
PROBE = ("<script>window.addEventListener('load',function(){var m=document.images,ok=0;"
         "for(var i=0;i<m.length;i++){if(m[i].complete&&m[i].naturalWidth>0)ok++}"
         "document.body.setAttribute('data-figures',ok+'/'+m.length)})</script>")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """A report with figures, from the small results fixture."""
    out = tmp_path_factory.mktemp("html")
    shutil.copy(FIXTURE, out / "results.csv")
    write_report(out, load_table(out), load_runs(out), read_probe(out, "speed.csv"), read_probe(out, "gradflow.csv"),
                 structural_params(), order=tuple(MODELS))
    return out


def test_inline_markup_and_figure_links():
    figures = {"headline": "fig-headline"}
    text = inline("**bold** `a<b|c` [headline.png](headline.png) [x](#claim-1) fill_in _note_ *stalled*", figures)
    assert "<strong>bold</strong>" in text and "<code>a&lt;b|c</code>" in text
    assert '<a href="#fig-headline">headline.png</a>' in text and '<a href="#claim-1">x</a>' in text
    assert "fill_in" in text and "<em>note</em>" in text and "<em>stalled</em>" in text


def test_tables_notes_details_and_the_answer_box(tmp_path):
    page = to_html("\n".join(["# Title", "", "The answer: rnn falls.", "", "> **Note:** 2 records left out",
                              "", "## Verdicts", "", "| # | claim | x |", "|---|---|---|", "| 1 | a \\| b | 0.5 |",
                              "", "<details><summary>numbers</summary>", "", "- one", "- two", "</details>"]),
                   tmp_path, "t")
    assert '<div class="answer">' in page and page.index("rnn falls") < page.index("</div>") < page.index("Verdicts")
    assert "<blockquote><strong>Note:</strong> 2 records left out</blockquote>" in page
    assert "<td>a | b</td>" in page and '<td class="num">0.5</td>' in page
    assert "<details><summary>numbers</summary>" in page and "<li>two</li>" in page


def test_the_page_is_self_contained(page):
    html = (page / "report.html").read_text()
    figures = re.findall(r"^!\[[^\]]*\]\(([^)]+)\)$", (page / "report.md").read_text(), flags=re.M)
    assert len(figures) >= 2
    sources = re.findall(r'<img[^>]* src="([^"]+)"', html)
    assert len(sources) == len(figures) and all(s.startswith("data:image/png;base64,") for s in sources)
    for figure in figures:
        assert f'id="fig-{Path(figure).stem.replace("_", "-")}"' in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)  # nothing outside the page
    assert "http://" not in html and "https://" not in html and "file:" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: apt-get install -y chromium; "
                                             ".ci/run installs it)")
def test_the_page_renders_in_headless_chromium_with_every_figure(page, tmp_path):
    figures = len(re.findall(r"^!\[", (page / "report.md").read_text(), flags=re.M))
    probe = tmp_path / "probe.html"
    probe.write_text((page / "report.html").read_text().replace("</body>", PROBE + "</body>"))
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-figures="{figures}/{figures}"' in dom.stdout  # the page loaded and decoded every figure
    assert "Benchmark report" in dom.stdout and "Verdicts" in dom.stdout
    shot = tmp_path / "page.png"
    subprocess.run([*common, "--window-size=1280,2000", f"--screenshot={shot}", (page / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000

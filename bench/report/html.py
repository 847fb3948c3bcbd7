"""report.html: the markdown report as one self-contained page (figures embedded as base64 PNG,
tables styled and sortable by a click on a header, no file or address outside the page).

The converter reads only the markdown this package writes: headings, paragraphs, `- ` lists,
pipe tables, `> ` notes, images on their own line, the raw HTML lines it emits (`<a id>`, `<details>`),
and inline code, bold, italics and links. Links to a figure embedded in the page jump to it.
"""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path

CSS = """
body{font:15px/1.5 -apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;max-width:1180px;margin:2em auto;
padding:0 1.2em;color:#1d2430}
h1{font-size:1.7em;border-bottom:2px solid #d8dee6;padding-bottom:.3em}
h2{font-size:1.35em;border-bottom:1px solid #e4e8ee;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.12em;margin-top:1.6em}
code{background:#f1f3f6;border-radius:3px;padding:0 .25em;font-size:.92em}
table{border-collapse:collapse;margin:.8em 0;font-size:.86em;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #d8dee6;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#eef2f7;cursor:pointer;position:sticky;top:0;white-space:nowrap}
th:after{content:' \\2195';color:#9aa5b1;font-size:.8em}
tr:nth-child(even) td{background:#f8fafc}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.2em 0;text-align:center}
figure img{max-width:100%;height:auto;border:1px solid #e4e8ee}
figcaption{font-size:.9em;color:#4a5562;margin-top:.3em}
details{margin:.6em 0}summary{cursor:pointer;color:#2a5db0}
blockquote{border-left:4px solid #d9a33b;background:#fdf7ea;margin:1em 0;padding:.4em 1em}
.answer{background:#f3f8f1;border-left:4px solid #5a9e4b;padding:.4em 1em;margin:1em 0}
"""
# click a header to sort its table (numbers as numbers); no library, no network
SCRIPT = """
document.querySelectorAll('table').forEach(function(t){t.querySelectorAll('th').forEach(function(th,i){
th.addEventListener('click',function(){var b=t.tBodies[0],rows=Array.from(b.rows),up=th.dataset.up!=='1';
var key=function(r){var s=r.cells[i]?r.cells[i].innerText:'';var n=parseFloat(s.replace(/[,x%]/g,''));
return isNaN(n)?s:n};rows.sort(function(a,c){var x=key(a),y=key(c);
if(typeof x===typeof y){return (x<y?-1:x>y?1:0)*(up?1:-1)}return (typeof x==='number'?-1:1)*(up?1:-1)});
th.dataset.up=up?'1':'0';rows.forEach(function(r){b.appendChild(r)})})})});
"""
NUMBER = re.compile(r"^[-+]?[\d,.]+(e[-+]?\d+)?[kMGx%]?$")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def inline(text: str, figures: dict[str, str]) -> str:
    """Markdown inline spans to HTML: `code`, **bold**, *italic* / _italic_, [text](href)."""
    spans: list[str] = []

    def keep(markup: str) -> str:
        spans.append(markup)
        return f"\x00{len(spans) - 1}\x00"

    text = re.sub(r"`([^`]+)`", lambda m: keep(f"<code>{html.escape(m.group(1))}</code>"), text)
    text = html.escape(text, quote=False).replace("\\|", "|")

    def link(match: re.Match) -> str:
        label, href = match.group(1), html.unescape(match.group(2))
        name = Path(href).stem
        if href.rsplit(".", 1)[-1] in ("png", "svg", "pdf") and name in figures:
            href = f"#{figures[name]}"  # the figure is embedded in this page
        return keep(f'<a href="{html.escape(href)}">{label}</a>')

    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", link, text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)([^*]+?)\*(?![\w*])", r"<em>\1</em>", text)
    text = re.sub(r"(?<!\w)_(?!\s)([^_]+?)_(?!\w)", r"<em>\1</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], text)


def _cells(line: str) -> list[str]:
    body = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


def _table(lines: list[str], figures: dict[str, str]) -> str:
    head, rows = _cells(lines[0]), [_cells(x) for x in lines[2:]]

    def td(cell: str) -> str:
        kind = ' class="num"' if NUMBER.match(cell.replace(" ", "")) else ""
        return f"<td{kind}>{inline(cell, figures)}</td>"

    return ("<table><thead><tr>" + "".join(f"<th>{inline(c, figures)}</th>" for c in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(td(c) for c in row) + "</tr>" for row in rows) + "</tbody></table>")


def _image(caption: str, src: str, folder: Path) -> str:
    path = folder / src
    figure_id = f"fig-{slug(Path(src).stem)}"
    if not path.is_file():
        return f'<figure id="{figure_id}"><p><em>missing figure {html.escape(src)}</em></p></figure>'
    raw = path.read_bytes()
    data = base64.b64encode(raw).decode("ascii")
    alt = html.escape(caption)
    # one scale for every figure: the PNGs are drawn at 150 dpi, shown at about 90 (CSS caps the rest)
    width = int.from_bytes(raw[16:20], "big") if raw[:8] == b"\x89PNG\r\n\x1a\n" else 0
    size = f' width="{round(width * 0.6)}"' if width else ""
    return (f'<figure id="{figure_id}"><img alt="{alt}"{size} src="data:image/png;base64,{data}">'
            f"<figcaption>{alt}</figcaption></figure>")


IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)$")


def to_html(markdown_text: str, folder: Path, title: str, answer_box: bool = True) -> str:
    """The page for `markdown_text` (figures read from `folder`). With `answer_box`, the blocks
    between the title and the first figure, note or second heading (the answer) are boxed."""
    lines = markdown_text.splitlines()
    figures = {Path(m.group(2)).stem: f"fig-{slug(Path(m.group(2)).stem)}"
               for m in (IMAGE.match(x.strip()) for x in lines) if m}
    out, paragraph, items, table = [], [], [], []
    boxed = False

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph), figures)}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i, figures)}</li>" for i in items) + "</ul>")
            items.clear()
        if table:
            out.append(_table(table, figures))
            table.clear()

    for raw in lines:
        line = raw.rstrip()
        heading = re.match(r"^(#{1,6}) (.*)$", line)
        image = IMAGE.match(line.strip())
        if table and not line.startswith("|"):
            flush()
        if image:
            flush()
            caption = f"<p><strong>{inline(image.group(1), figures)}</strong></p>"
            if out and out[-1] == caption:
                out.pop()  # the markdown's bold caption line: the figure's own caption shows it
        if boxed and (image or line.startswith("> ") or (heading and len(heading.group(1)) > 1)):
            flush()
            out.append("</div>")
            boxed = False
        if not line.strip():
            flush()
        elif heading:
            flush()
            level, text = len(heading.group(1)), heading.group(2)
            out.append(f'<h{level} id="{slug(text)}">{inline(text, figures)}</h{level}>')
            if level == 1 and answer_box:
                out.append('<div class="answer">')
                boxed, answer_box = True, False
        elif line.startswith("|"):
            if paragraph or items:
                flush()
            table.append(line)
        elif image:
            flush()
            out.append(_image(image.group(1), image.group(2), folder))
        elif line.startswith("<"):
            flush()
            out.append(line)  # the raw HTML the report writes itself (anchors, details)
        elif line.startswith("> "):
            flush()
            out.append(f"<blockquote>{inline(line[2:], figures)}</blockquote>")
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:])
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    flush()
    if boxed:
        out.append("</div>")
    body = "\n".join(out)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n"
            f"<script>{SCRIPT}</script>\n</body></html>\n")

"""pages.py: reads what the tests need out of nthpi's HTML pages, its
/metrics and its logs (standard library only: html.parser and a few
patterns)."""

import html
import html.parser
import os
import re

# One sample line of /metrics: name, {labels}, value.
SAMPLE = re.compile(r'^([a-z_]+)(\{[a-z]+="[^"]*"\})? (-?[0-9.e+]+)$')


class Element:
    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = dict(attrs)
        self.text = ""


class Page(html.parser.HTMLParser):
    """Parses a page once; keeps every element with its attributes, the text
    inside elements with an id or a class (for td.digit, #n-error), and the
    table rows of #tasks."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "wbr", "source",
            "col", "area", "base", "embed", "param", "track"}

    def __init__(self, body):
        super().__init__(convert_charrefs=True)
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        self.source = body
        self.elements = []
        self.open = []
        self.rows = []       # [{"attrs":..., "cells": {class: text}}]
        self._row = None
        self._cell = None
        self.feed(body)
        self.close()

    def handle_starttag(self, tag, attrs):
        e = Element(tag, attrs)
        self.elements.append(e)
        if tag == "tr" and e.attrs.get("id", "").startswith("task-"):
            self._row = {"attrs": e.attrs, "cells": {}}
            self.rows.append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = e.attrs.get("class", "")
            self._row["cells"][self._cell] = ""
        if tag not in self.VOID:
            self.open.append(e)

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                break
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        for e in self.open:
            e.text += data
        if self._row is not None and self._cell is not None:
            self._row["cells"][self._cell] += data

    def by_id(self, ident):
        for e in self.elements:
            if e.attrs.get("id") == ident:
                return e
        return None

    def find(self, tag, **attrs):
        """Elements with that tag whose attributes have those values."""
        out = []
        for e in self.elements:
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v
                                    for k, v in attrs.items()):
                out.append(e)
        return out

    def row(self, task_id):
        for r in self.rows:
            if r["attrs"].get("id") == "task-%d" % task_id:
                return r
        return None


def decimals_shown(body, n):
    """Finds "3." followed by n decimals (in any grouping of whitespace and
    tags) in a task page. Returns (decimals as one string, list of group
    lengths) or (None, None)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    # The mark around the n-th decimal belongs to its group; any other tag
    # separates.
    text = re.sub(r"</?mark\b[^>]*>", "", body)
    text = html.unescape(re.sub(r"<[^>]*>", " ", text))
    for m in re.finditer(r"3\.((?:\s*\d)+)", text):
        groups = m.group(1).split()
        digits = "".join(groups)
        if len(digits) == n:
            return digits, [len(g) for g in groups]
    return None, None


def marked_digit(body):
    """The text of <mark id="nth">, stripped, or None."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    m = re.search(r'<mark\b[^>]*\bid="nth"[^>]*>(.*?)</mark>', body, re.S)
    return html.unescape(m.group(1)).strip() if m else None


def log_since(path, offset):
    with open(path, errors="replace") as f:
        f.seek(offset)
        return f.read()


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def scrape_metrics(s):
    """GET /metrics. Returns (status, headers, {"name{labels}": value},
    problems)."""
    st, h, body = s.request("GET", "/metrics")
    samples, problems, typed = {}, [], set()
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("bad line %r" % line)
            continue
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in typed and base not in typed:
            problems.append("no TYPE before %r" % line)
        samples[name + (m.group(2) or "")] = float(m.group(3))
    return st, h, samples, problems

"""Turns a bench.sh run (results/<timestamp>/raw.csv) into table.md and chart.svg.

usage: python3 report.py RESULTS_DIR

Per cell and server: the median over rounds of req/s, of the ratio to Netty epoll *of the same round*, and of the
server's CPU time per request (us). A run whose server failed (0 req/s) counts as 0 in the median and is flagged.
"""
import csv
import html
import os
import statistics
import sys
from collections import defaultdict

REFERENCE = "netty-epoll"
CELL_TITLES = {
    "echo1k10": "echo 1 KiB x10",
    "echo1k100": "echo 1 KiB x100",
    "echo10k10": "echo 10 KiB x10",
    "echo100k10": "echo 100 KiB x10",
    "http": "HTTP hello (wrk -t1 -c100)",
}
COLORS = {
    "tulip": "#d6336c", "netty-epoll": "#1c7ed6", "netty-nio": "#74c0fc", "c-epoll": "#868e96",
    "uvloop": "#37b24d", "asyncio": "#8ce99a", "node": "#f59f00",
}


def color(peer):
    if peer.startswith("tulip"):
        shades = {"tulip-protocol": "#c2255c", "tulip-streams": "#e64980", "tulip-sock": "#f783ac",
                  "tulip-http": "#c2255c"}
        return shades.get(peer, COLORS["tulip"])
    return COLORS.get(peer, "#495057")


def load(path):
    rows = list(csv.DictReader(open(path)))
    for r in rows:
        r["round"] = int(r["round"])
        for k in ("reqs_per_s", "cpu_us_per_req", "p50_us", "p99_us"):
            r[k] = float(r[k] or 0)
        r["errors"] = int(float(r["errors"] or 0))
    return rows


def summarize(rows):
    cells = []
    by = defaultdict(list)
    ref = {}
    for r in rows:
        if r["cell"] not in cells:
            cells.append(r["cell"])
        by[(r["cell"], r["peer"])].append(r)
        if r["peer"] == REFERENCE:
            ref[(r["cell"], r["round"])] = r["reqs_per_s"]
    out = {}
    for cell in cells:
        peers = []
        for (c, p), rs in by.items():
            if c != cell:
                continue
            ratios = [r["reqs_per_s"] / ref[(c, r["round"])] for r in rs if ref.get((c, r["round"]), 0) > 0]
            cpus = [r["cpu_us_per_req"] for r in rs if r["reqs_per_s"] > 0]
            peers.append({
                "peer": p,
                "rps": statistics.median(r["reqs_per_s"] for r in rs),
                "ratio": statistics.median(ratios) if ratios else None,
                "cpu": statistics.median(cpus) if cpus else None,
                "p99": statistics.median(r["p99_us"] for r in rs),
                "errors": sum(r["errors"] for r in rs),
                "failed": sum(1 for r in rs if r["reqs_per_s"] <= 0),
                "rounds": len(rs),
                "all": [r["reqs_per_s"] for r in sorted(rs, key=lambda r: r["round"])],
            })
        peers.sort(key=lambda x: -x["rps"])
        out[cell] = peers
    return out


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def table(summary, meta):
    lines = ["# Tulip side-by-side benchmark", ""]
    lines += ["```", meta.strip(), "```", ""]
    lines += ["Medians over rounds. *vs Netty epoll*: median of the per-round ratio to Netty epoll (one event-loop "
              "thread) in the same round. *CPU us/req*: the server process's user+system CPU time over the measured "
              "window divided by the requests served (lower is better; steadier than req/s on a noisy machine). "
              "Server on core 0, load on core 1, 127.0.0.1.", ""]
    all_peers = []
    for peers in summary.values():
        for p in peers:
            if p["peer"] not in all_peers:
                all_peers.append(p["peer"])
    lines += ["## Ratio to Netty epoll (req/s)", ""]
    cells = list(summary)
    lines.append("| server | " + " | ".join(CELL_TITLES.get(c, c) for c in cells) + " |")
    lines.append("|---" * (len(cells) + 1) + "|")
    for name in all_peers:
        row = [name]
        for c in cells:
            p = next((p for p in summary[c] if p["peer"] == name), None)
            row.append("" if p is None else fmt_ratio(p["ratio"]))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for cell, peers in summary.items():
        lines += [f"## {CELL_TITLES.get(cell, cell)}", ""]
        lines.append("| server | req/s | vs Netty epoll | CPU us/req | p99 us | errors | per round req/s |")
        lines.append("|---|---:|---:|---:|---:|---:|---|")
        for p in peers:
            flag = f" ({p['failed']} failed)" if p["failed"] else ""
            cpu = "-" if p["cpu"] is None else f"{p['cpu']:.2f}"
            lines.append(f"| {p['peer']}{flag} | {p['rps']:,.0f} | {fmt_ratio(p['ratio'])} | {cpu} | "
                         f"{p['p99']:,.0f} | {p['errors']} | {' / '.join(f'{x:,.0f}' for x in p['all'])} |")
        lines.append("")
    return "\n".join(lines)


def chart(summary, title):
    """Horizontal bar chart, one panel per cell (bars = median req/s, label = req/s and ratio), like uvloop's."""
    width, left, right, bar_h, gap, panel_gap = 960, 150, 300, 16, 4, 36
    y = 50
    parts = []
    for cell, peers in summary.items():
        parts.append(f'<text x="10" y="{y}" font-size="15" font-weight="bold">'
                     f'{html.escape(CELL_TITLES.get(cell, cell))}</text>')
        y += 10
        top = max((p["rps"] for p in peers), default=1) or 1
        for p in peers:
            w = (width - left - right) * p["rps"] / top
            parts.append(f'<text x="{left - 8}" y="{y + bar_h - 4}" font-size="12" text-anchor="end">'
                         f'{html.escape(p["peer"])}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color(p["peer"])}"/>')
            label = f'{p["rps"]:,.0f} req/s'
            if p["ratio"] is not None:
                label += f'  ({p["ratio"]:.2f}x)'
            if p["cpu"] is not None:
                label += f'  {p["cpu"]:.1f} us CPU/req'
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h - 4}" font-size="12">{label}</text>')
            y += bar_h + gap
        y += panel_gap
    height = y
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<text x="10" y="24" font-size="17" font-weight="bold">{html.escape(title)}</text>')
    return head + "".join(parts) + "</svg>\n"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    d = sys.argv[1]
    rows = load(os.path.join(d, "raw.csv"))
    if not rows:
        print("report.py: no rows in raw.csv", file=sys.stderr)
        sys.exit(1)
    meta = open(os.path.join(d, "meta.txt")).read() if os.path.exists(os.path.join(d, "meta.txt")) else ""
    summary = summarize(rows)
    with open(os.path.join(d, "table.md"), "w") as f:
        f.write(table(summary, meta) + "\n")
    with open(os.path.join(d, "chart.svg"), "w") as f:
        f.write(chart(summary, "Requests per second, one event-loop thread (median; ratio to Netty epoll; server CPU per request)"))


if __name__ == "__main__":
    main()

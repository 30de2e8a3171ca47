#!/usr/bin/env python3
"""ansi2html.py: renders `tmux capture-pane -e -p` output (SGR colour escapes) as an HTML page
of a terminal, for a Chromium screenshot of Neovim. Usage: ansi2html.py IN.ansi OUT.html [title]"""
import html
import re
import sys

BASE16 = ["#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
          "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"]
FG, BG = "#e0e2ea", "#14161b"   # Neovim's default dark scheme (NvimLightGrey2 on NvimDarkGrey1)


def xterm256(n: int) -> str:
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (v, v, v)


def colour(params, i):
    """Parses 38/48 extended colours at params[i]; returns (css, next index)."""
    if i + 1 < len(params) and params[i + 1] == 5 and i + 2 < len(params):
        return xterm256(params[i + 2]), i + 3
    if i + 1 < len(params) and params[i + 1] == 2 and i + 4 < len(params):
        return "#%02x%02x%02x" % tuple(params[i + 2:i + 5]), i + 5
    return None, len(params)


def apply_sgr(st, params):
    if not params:
        params = [0]
    i = 0
    while i < len(params):
        p = params[i]
        if p == 0:
            st.clear()
        elif p == 1:
            st["bold"] = True
        elif p == 3:
            st["italic"] = True
        elif p in (4, 21) or p == 4:
            st["underline"] = True
        elif p == 7:
            st["reverse"] = True
        elif p == 9:
            st["strike"] = True
        elif p == 22:
            st.pop("bold", None)
        elif p == 23:
            st.pop("italic", None)
        elif p == 24:
            st.pop("underline", None)
        elif p == 27:
            st.pop("reverse", None)
        elif p == 29:
            st.pop("strike", None)
        elif 30 <= p <= 37:
            st["fg"] = BASE16[p - 30]
        elif 90 <= p <= 97:
            st["fg"] = BASE16[p - 90 + 8]
        elif 40 <= p <= 47:
            st["bg"] = BASE16[p - 40]
        elif 100 <= p <= 107:
            st["bg"] = BASE16[p - 100 + 8]
        elif p == 39:
            st.pop("fg", None)
        elif p == 49:
            st.pop("bg", None)
        elif p in (38, 48, 58):
            c, i = colour(params, i)
            if c and p != 58:
                st["fg" if p == 38 else "bg"] = c
            continue
        i += 1


def style(st):
    fg, bg = st.get("fg", FG), st.get("bg", BG)
    if st.get("reverse"):
        fg, bg = bg, fg
    css = ["color:" + fg]
    if bg != BG:
        css.append("background:" + bg)
    if st.get("bold"):
        css.append("font-weight:bold")
    if st.get("italic"):
        css.append("font-style:italic")
    deco = [d for d, k in (("underline", "underline"), ("line-through", "strike")) if st.get(k)]
    if deco:
        css.append("text-decoration:" + " ".join(deco))
    return ";".join(css)


def convert(text: str) -> str:
    out, st = [], {}
    for line in text.rstrip("\n").split("\n"):
        parts = re.split(r"\x1b\[([0-9;:]*)m", line)
        row = []
        for k, part in enumerate(parts):
            if k % 2 == 1:
                apply_sgr(st, [int(x) if x else 0 for x in re.split(r"[;:]", part)] if part else [])
            elif part:
                row.append('<span style="%s">%s</span>' % (style(st), html.escape(part)))
        out.append("".join(row) or " ")
    return "\n".join(out)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "Neovim"
    with open(src, encoding="utf-8", errors="replace") as f:
        body = convert(f.read())
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>html,body{{margin:0;background:{BG}}}
pre{{margin:0;padding:10px 12px;color:{FG};background:{BG};font:15px/1.25 "DejaVu Sans Mono","Symbola",monospace;white-space:pre}}</style>
<pre>{body}</pre>"""
    with open(dst, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()

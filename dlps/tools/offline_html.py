"""The page `dvc plots show` writes, with Vega inlined so it renders offline (DVC's own page loads Vega from a CDN).

`python -m dlps.tools.offline_html vega-5.20.2.tgz vega-lite-5.2.0.tgz vega-embed-6.18.2.tgz` (the npm registry's
tarballs of the versions DVC's default page names) rewrites .dvc/plots.html; `.dvc/config` points
`plots.html_template` at it. The page has no `{scripts}` placeholder, so DVC adds no script of its own."""

from __future__ import annotations

import hashlib
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".dvc" / "plots.html"
BUILDS = {"vega": "package/build/vega.min.js", "vega-lite": "package/build/vega-lite.min.js",
          "vega-embed": "package/build/vega-embed.min.js"}


def members(tgz: Path) -> tuple[str, str, str]:
    """(package@version, its minified build, its LICENSE) from an npm tarball."""
    import json

    with tarfile.open(tgz) as tar:
        def text(name: str) -> str:
            return tar.extractfile(name).read().decode()

        meta = json.loads(text("package/package.json"))
        return f"{meta['name']}@{meta['version']}", text(BUILDS[meta["name"]]), text("package/LICENSE")


def page(tarballs: list[Path]) -> str:
    head, scripts = [], []
    for tgz in tarballs:
        name, js, licence = members(tgz)
        if "</script" in js or "{" + "plot_divs}" in js:
            raise SystemExit(f"{name}: cannot be inlined as is")
        sha = hashlib.sha256(tgz.read_bytes()).hexdigest()
        head.append(f"{name} (npm tarball sha256 {sha}), BSD-3-Clause:\n{licence.strip()}")
        scripts.append(f"<script>{js}</script>")
    notice = "\n\n".join(head).replace("--", "- -")
    return ("<!DOCTYPE html>\n<html>\n<head>\n{refresh_tag}\n<title>DVC Plot</title>\n"
            f"<!-- Written by `python -m dlps.tools.offline_html`: Vega inlined so the page needs no network.\n\n"
            f"{notice}\n-->\n" + "\n".join(scripts)
            + "\n<style>table { border-spacing: 15px; }</style>\n</head>\n<body>\n{plot_divs}\n</body>\n</html>\n")


def main() -> None:
    OUT.write_text(page([Path(p) for p in sys.argv[1:]]))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()

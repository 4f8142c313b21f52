"""The screenshots of the network pages the README links: ResNet-50's and ViT-B/16's modules
chart (the top of the page) and roofline with its table (the end), as headless Chromium draws
them at 1400 px wide. Run from the repository root; needs matplotlib (with Pillow) and chromium:

    python docs/screenshots/take.py

Each page is cut into the two parts before it is drawn (its own head and stylesheet kept), so
that each screenshot is one part, whatever the length of the tables between them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

HERE = Path(__file__).resolve().parent
NETWORKS = ("resnet50", "vit_b_16")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WIDTH = 1400


def page(network: str) -> str:
    command = [sys.executable, "-m", "convcost", "compare", network, "--device", "a100", "--dtype", "fp16"]
    return subprocess.run([*command, "--format", "html"], capture_output=True, text=True, check=True).stdout


def parts(text: str) -> dict[str, str]:
    """The page's top (up to its first table) and its roofline to the end, each a page."""
    head, body = text.split("<body>\n", 1)
    first_table = body.index('<div class="scroll">')
    top = body[: body.rindex("<h2>", 0, first_table)]
    roofline = body[body.index('<h2 id="roofline">') :]
    return {"modules": f"{head}<body>\n{top}</body></html>\n", "roofline": f"{head}<body>\n{roofline}"}


def shoot(html: str, out: Path, workdir: Path) -> None:
    source = workdir / f"{out.stem}.html"
    source.write_text(html, encoding="utf-8")
    raw = workdir / f"{out.stem}.png"
    profile = tempfile.mkdtemp(dir=workdir)
    subprocess.run(
        ["chromium", *FLAGS, f"--user-data-dir={profile}", f"--screenshot={raw}",
         f"--window-size={WIDTH},2000", source.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    image = Image.open(raw).convert("RGB")
    blank = Image.new("RGB", image.size, (255, 255, 255))
    box = ImageChops.difference(image, blank).getbbox()  # what was drawn, and a margin round it
    assert box is not None, out
    image = image.crop((0, 0, min(WIDTH, box[2] + 40), min(image.height, box[3] + 30)))
    image.save(out, optimize=True)


def main() -> None:
    if shutil.which("chromium") is None:
        sys.exit("take.py: needs chromium on the PATH")
    with tempfile.TemporaryDirectory() as folder:
        for network in NETWORKS:
            for part, html in parts(page(network)).items():
                out = HERE / f"{network}-{part}.png"
                shoot(html, out, Path(folder))
                print(f"{out.relative_to(HERE.parent.parent)}: {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

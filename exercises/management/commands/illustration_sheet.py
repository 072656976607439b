"""A contact sheet of the bundled illustrations, to check every drawing by eye."""

import base64
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.html import escape

from exercises.illustrations import load_poses, render_frame, render_svg

LIBRARY = Path(__file__).resolve().parents[2] / "library" / "exercises.json"


class Command(BaseCommand):
    help = (
        "Draw every bundled illustration (or those named with --slugs) on a PDF contact "
        "sheet: each exercise's still drawing at 40 mm wide, as handouts print it, and a "
        "strip of frames of its moving picture."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=Path("illustrations.pdf"))
        parser.add_argument("--slugs", default="", help="Comma-separated slugs (default: all).")

    def handle(self, *args, out: Path, slugs: str, **options):
        from weasyprint import HTML

        poses = load_poses()
        names = {e["slug"]: e["name"] for e in json.loads(LIBRARY.read_text(encoding="utf-8"))}
        wanted = [s.strip() for s in slugs.split(",") if s.strip()] or sorted(poses)
        missing = [s for s in wanted if s not in poses]
        if missing:
            raise CommandError(f"No pose for: {', '.join(missing)}")
        rows = []
        for slug in wanted:
            pose, title = poses[slug], names.get(slug, slug)
            if pose.get("still"):
                strip = '<span class="note">Still: nothing moves.</span>'
            else:
                frames = [render_frame(pose, title=title, progress=p) for p in FRAMES]
                strip = "".join(_img(svg, "frame") for svg in frames)
            rows.append(
                f"<section><h2>{escape(title)} <small>{escape(slug)}</small></h2>"
                f"{_img(render_svg(pose, title=title), 'still')}{strip}</section>"
            )
        html = (
            "<style>@page{size:A4;margin:9mm}body{font:8pt sans-serif}"
            "section{break-inside:avoid;margin:0 0 3mm}h2{font-size:8pt;margin:0 0 1mm}"
            "img{vertical-align:top;object-fit:contain;border:0.3pt solid #ccc;margin-right:1mm}"
            ".still{width:40mm;height:30mm}.frame{width:27mm;height:20mm;margin-top:10mm}"
            "small,.note{color:#666;font-weight:normal}.note{display:inline-block;margin-top:14mm}"
            "</style>" + "".join(rows)
        )
        HTML(string=html).write_pdf(out)
        self.stdout.write(f"{len(rows)} illustration(s) drawn on {out}")


# The frame strip: the moving picture at these moments of its movement (0 the start).
FRAMES = (0.0, 0.25, 0.5, 0.75, 1.0)


def _img(svg: str, css_class: str) -> str:
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return f'<img class="{css_class}" src="{src}" alt="">'

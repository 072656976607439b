"""A contact sheet of the bundled illustrations, to check every drawing by eye."""

import base64
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.html import escape

from exercises.illustrations import load_poses, render_svg

LIBRARY = Path(__file__).resolve().parents[2] / "library" / "exercises.json"


class Command(BaseCommand):
    help = (
        "Draw every bundled illustration (or those named with --slugs) on a PDF contact "
        "sheet: each exercise's name, slug and still drawing, printed at 40 mm wide."
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
        cells = []
        for slug in wanted:
            svg = render_svg(poses[slug], title=names.get(slug, slug)).encode()
            src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
            cells.append(
                f'<figure><img src="{src}" alt=""><figcaption>{escape(names.get(slug, slug))}'
                f"<br><small>{escape(slug)}</small></figcaption></figure>"
            )
        html = (
            "<style>@page{size:A4;margin:10mm}body{font:8pt sans-serif}"
            "figure{display:inline-block;width:42mm;margin:0 2mm 4mm 0;vertical-align:top;"
            "break-inside:avoid}img{width:40mm;height:32mm;object-fit:contain;"
            "border:0.3pt solid #ccc}small{color:#666}</style>" + "".join(cells)
        )
        HTML(string=html).write_pdf(out)
        self.stdout.write(f"{len(cells)} illustration(s) drawn on {out}")

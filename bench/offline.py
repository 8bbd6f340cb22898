"""Move files to a GPU machine that reaches no index or hub through a channel of small transfers: pieces of one blob.

    python -m bench.offline pack FILES.tsv PIECES_DIR [--piece-bytes 64000000]   # here: manifest + pieces
    python -m bench.offline unpack PIECE... --manifest M --blob B --dest DIR       # there: each call, in order

FILES.tsv has one `name<TAB>source path` line per file (name relative to DEST; its first folder is its group,
e.g. `whl/trl-1.14.2-py3-none-any.whl`). The files are concatenated in that order and cut into pieces of at most
`--piece-bytes`; the manifest lists (name, size, sha256). On the far side every call appends its piece to the
blob and cuts out each file that is now complete and checks its hash, so work can start on the first files (the
model, the wheels) while later pieces (vLLM) are still on their way. `unpack --complete GROUP` exits 0 once every
file of GROUP is there. Put what is needed first first: only the order of files not yet sent may change.

bench/gpu_results.sh drives it for the Qwen run of issue 26 (its header has the whole sequence).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from nano_r1.files import sha256

PIECE_BYTES = 64_000_000  # a 64 MiB transfer with the repository's ~2.5 MB beside it


def pack(files_tsv: Path, out: Path, piece_bytes: int = PIECE_BYTES) -> list[Path]:
    rows = [line.split("\t") for line in files_tsv.read_text().splitlines() if line.strip()]
    if any(len(r) != 2 for r in rows):
        raise SystemExit(f"error: {files_tsv}: every line is `name<TAB>path`")
    manifest = [{"name": name, "size": os.path.getsize(src), "sha256": sha256(Path(src))} for name, src in rows]
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(json.dumps({"piece_bytes": piece_bytes, "files": manifest}, indent=1))
    pieces, piece, used = [], None, 0
    for (_, src), entry in zip(rows, manifest):
        with open(src, "rb") as f:
            left = entry["size"]
            while left:
                if piece is None or used == piece_bytes:
                    if piece:
                        piece.close()
                    pieces.append(out / f"piece.{len(pieces):03d}")
                    piece, used = open(pieces[-1], "wb"), 0
                n = min(left, piece_bytes - used)
                piece.write(f.read(n))
                used, left = used + n, left - n
    if piece:
        piece.close()
    return pieces


def unpack(pieces: list[Path], manifest_path: Path, blob: Path, dest: Path) -> list[str]:
    """Append the pieces that continue the blob (a piece sent twice is skipped), then cut out complete files."""
    meta = json.loads(manifest_path.read_text())
    size = blob.stat().st_size if blob.exists() else 0
    blob.parent.mkdir(parents=True, exist_ok=True)
    for p in sorted(pieces):
        start = int(p.name.rsplit(".", 1)[-1]) * meta["piece_bytes"]
        if start == size:
            with open(blob, "ab") as out, open(p, "rb") as src:
                shutil.copyfileobj(src, out)
            size = blob.stat().st_size
        elif start > size:
            raise SystemExit(f"error: {p.name} starts at byte {start:,} but the blob holds {size:,}: "
                             "a piece before it is missing")
    cut, offset = [], 0
    with open(blob, "rb") as f:
        for entry in meta["files"]:
            target = dest / entry["name"]
            if offset + entry["size"] <= size and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(target.name + ".part")
                f.seek(offset)
                with open(part, "wb") as out:
                    left = entry["size"]
                    while left:
                        chunk = f.read(min(left, 1 << 24))
                        out.write(chunk)
                        left -= len(chunk)
                if sha256(part) != entry["sha256"]:
                    part.unlink()
                    raise SystemExit(f"error: {entry['name']}: sha256 differs from the manifest")
                part.replace(target)
                cut.append(entry["name"])
            offset += entry["size"]
    print(f"[offline] blob {size:,} of {offset:,} bytes ({size / max(offset, 1):.0%}); cut {len(cut)} file(s)",
          file=sys.stderr)
    return cut


def complete(manifest_path: Path, dest: Path, group: str) -> bool:
    names = [e["name"] for e in json.loads(manifest_path.read_text())["files"] if e["name"].split("/")[0] == group]
    return bool(names) and all((dest / n).exists() for n in names)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.offline", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("files_tsv", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--piece-bytes", type=int, default=PIECE_BYTES)
    u = sub.add_parser("unpack")
    u.add_argument("pieces", type=Path, nargs="*")
    u.add_argument("--manifest", type=Path, required=True)
    u.add_argument("--blob", type=Path, required=True)
    u.add_argument("--dest", type=Path, required=True)
    u.add_argument("--complete", metavar="GROUP", help="only say (exit 0/1) whether every file of GROUP is there")
    a = ap.parse_args(argv)
    if a.cmd == "pack":
        pieces = pack(a.files_tsv, a.out, a.piece_bytes)
        print(f"{len(pieces)} pieces in {a.out}")
        return 0
    if a.complete:
        return 0 if complete(a.manifest, a.dest, a.complete) else 1
    unpack(a.pieces, a.manifest, a.blob, a.dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""bench/offline.py: files cut into pieces here come out whole and checked there, the early ones first."""

import pytest

from bench.offline import complete, pack, unpack


def staged(tmp_path, sizes, piece_bytes):
    src = tmp_path / "src"
    src.mkdir()
    lines = []
    for i, (name, size) in enumerate(sizes):
        path = src / f"f{i}"
        path.write_bytes(bytes((i * 31 + j) % 251 for j in range(size)))
        lines.append(f"{name}\t{path}")
    (tmp_path / "files.tsv").write_text("\n".join(lines) + "\n")
    return pack(tmp_path / "files.tsv", tmp_path / "pieces", piece_bytes), src


def test_files_come_out_whole_as_soon_as_their_last_piece_arrives(tmp_path):
    pieces, src = staged(tmp_path, [("data/a.jsonl", 5), ("model.gguf", 23), ("whl/x.whl", 9)], piece_bytes=8)
    assert len(pieces) == 5  # 37 bytes in pieces of 8
    man, blob, dest = tmp_path / "pieces/manifest.json", tmp_path / "far/blob", tmp_path / "far/files"
    assert unpack(pieces[:1], man, blob, dest) == ["data/a.jsonl"]
    assert complete(man, dest, "data") and not complete(man, dest, "model.gguf")
    assert unpack(pieces[:1], man, blob, dest) == []  # a piece sent twice is skipped
    assert unpack(pieces[1:4], man, blob, dest) == ["model.gguf"]
    assert unpack(pieces[4:], man, blob, dest) == ["whl/x.whl"]
    for i, name in enumerate(["data/a.jsonl", "model.gguf", "whl/x.whl"]):
        assert (dest / name).read_bytes() == (src / f"f{i}").read_bytes()


def test_a_gap_or_a_damaged_piece_is_one_line_not_a_wrong_file(tmp_path):
    pieces, _ = staged(tmp_path, [("model.gguf", 20)], piece_bytes=8)
    man, blob, dest = tmp_path / "pieces/manifest.json", tmp_path / "far/blob", tmp_path / "far/files"
    with pytest.raises(SystemExit, match="a piece before it is missing"):
        unpack(pieces[1:2], man, blob, dest)
    pieces[1].write_bytes(b"x" * 8)
    with pytest.raises(SystemExit, match="sha256 differs"):
        unpack(pieces, man, blob, dest)
    assert not (dest / "model.gguf").exists()

"""storefile.py: the digit store and its check file as the tests write and
read them: the format of common/storesum.h, written here a second time, in
Python, so that the tests also check that the C and this agree.

    import storefile
    storefile.put(path, b"3141592653")       # the store and PATH.check
    storefile.put(path, data, check=False)   # as an older version left it
    info = storefile.read_check(path)        # {"bytes": ..., "crc": [...]}
    storefile.damaged_blocks(path)           # blocks that do not match
"""

import hashlib
import os

BLOCK = 65536

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of data, continued from crc."""
    c = crc ^ 0xFFFFFFFF
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def check_text(data, block=BLOCK):
    """The check file's bytes for a store holding data."""
    n = (len(data) + block - 1) // block
    lines = ["nthpi digit store check 1", "bytes %d" % len(data),
             "block %d" % block,
             "sha256 " + hashlib.sha256(data).hexdigest(), "blocks %d" % n]
    lines += ["%08x" % crc32c(data[i * block:(i + 1) * block])
              for i in range(n)]
    text = ("\n".join(lines) + "\n").encode()
    return text + b"end %08x\n" % crc32c(text)


def _replace(path, data):
    tmp = path + ".test"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def put(path, data, check=True):
    """Replaces the store at path with data (bytes or str) as the worker
    does: each file by a temp file and a rename, the store first. With
    check=False the check file is removed: what an older version left."""
    if isinstance(data, str):
        data = data.encode()
    _replace(path, data)
    if check:
        _replace(path + ".check", check_text(data))
    elif os.path.exists(path + ".check"):
        os.unlink(path + ".check")


def read_check(path):
    """The check file of the store at path as a dict (bytes, block, sha256,
    crc), or None if it is missing or not whole."""
    try:
        with open(path + ".check", "rb") as f:
            text = f.read()
    except OSError:
        return None
    if len(text) < 13 or not text.endswith(b"\n") or \
            text[-13:-9] != b"end " or \
            int(text[-9:-1], 16) != crc32c(text[:-13]):
        return None
    lines = text[:-13].decode().splitlines()
    head = dict(line.split(" ", 1) for line in lines[1:5])
    return {"bytes": int(head["bytes"]), "block": int(head["block"]),
            "sha256": head["sha256"], "crc": [int(x, 16) for x in lines[5:]]}


def damaged_blocks(path):
    """The blocks of the store at path that do not match its check file
    (None if it has none): [] when the pair is whole and matches."""
    info = read_check(path)
    if info is None:
        return None
    with open(path, "rb") as f:
        data = f.read()
    if len(data) != info["bytes"] or \
            hashlib.sha256(data).hexdigest() != info["sha256"]:
        return [-1]
    b = info["block"]
    return [i for i, c in enumerate(info["crc"])
            if crc32c(data[i * b:(i + 1) * b]) != c]

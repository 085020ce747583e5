#!/usr/bin/python3
"""librpm oracle for the RPM library tests and the parse benchmark.

Run with Debian's /usr/bin/python3 (python3-rpm). Modes:
  oracle.py FILE...            one JSON object per line per file (the fields tests/rpm compares)
  oracle.py --list FILE...     same for apt header lists (uncompressed): {"headers": [...]}
  oracle.py --payload FILE...  the payload archive: regular files with content
                               {"path", "ok", "entries": [[name, mode, size, sha256, mtime], ...]}
  oracle.py --verdict FILE...  does librpm read the package? ts.hdrFromFdno with its default checks
                               (header digests, structure), signatures off: {"path", "ok", "error"}
  oracle.py --bench N FILE...  read the same fields of the files N times in total; print
                               {"packages": n, "seconds": s} (no JSON per package)
Strings are librpm's bytes (surrogateescape) shown as UTF-8 with \\xNN for invalid bytes.
"""
import hashlib
import json
import os
import sys
import time

os.environ["LC_ALL"] = "C"
os.environ["LANG"] = "C"
import rpm  # noqa: E402

T = rpm

def txt(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        b = v
    else:
        b = v.encode("utf-8", "surrogateescape")
    return b.decode("utf-8", "backslashreplace")

def hx(v):
    if v is None:
        return None
    if isinstance(v, str):
        v = v.encode("utf-8", "surrogateescape")
    return v.hex()

def lst(h, tag):
    v = h[tag]
    if v is None:
        return []
    if not isinstance(v, list):
        v = [v]
    return v

def tlist(h, tag):
    return [txt(x) for x in lst(h, tag)]

SCALAR_STR = ["name", "version", "release", "arch", "os", "sourcerpm", "buildhost", "packager",
              "vendor", "license", "group", "url", "summary", "description", "distribution",
              "disttag", "rpmversion", "cookie", "optflags", "disturl", "payloadformat",
              "payloadcompressor", "payloadflags", "platform", "vcs", "prein", "postin", "preun",
              "postun", "pretrans", "posttrans", "verifyscript"]
SCALAR_INT = ["epoch", "buildtime", "size", "longsize", "archivesize", "longarchivesize",
              "sigsize", "longsigsize", "sourcepackage"]
STR_ARRAYS = ["buildarchs", "prefixes", "instprefixes", "preinprog", "postinprog", "preunprog",
              "postunprog", "pretransprog", "posttransprog", "verifyscriptprog"]
BINS = ["sigmd5", "siggpg", "gif", "xpm", "icon"]

def deps(h, kind):
    names = tlist(h, kind + "name")
    flags = lst(h, kind + "flags")
    vers = tlist(h, kind + "version")
    return {"names": names, "flags": flags, "versions": vers}

def fields(h):
    d = {}
    for t in SCALAR_STR:
        d[t] = txt(h[t])
    for t in SCALAR_INT:
        d[t] = h[t]
    for t in STR_ARRAYS:
        d[t] = tlist(h, t)
    for t in BINS:
        d[t] = hx(h[t])
    d["sha1header"] = txt(h["sha1header"])
    d["files"] = {
        "names": tlist(h, "filenames"),
        "sizes": lst(h, "filesizes") or lst(h, "longfilesizes"),
        "longsizes": lst(h, "longfilesizes"),
        "modes": lst(h, "filemodes"),
        "rdevs": lst(h, "filerdevs"),
        "mtimes": lst(h, "filemtimes"),
        "digests": tlist(h, "filedigests"),
        "linktos": tlist(h, "filelinktos"),
        "flags": lst(h, "fileflags"),
        "users": tlist(h, "fileusername"),
        "groups": tlist(h, "filegroupname"),
        "verifyflags": lst(h, "fileverifyflags"),
        "devices": lst(h, "filedevices"),
        "inodes": lst(h, "fileinodes"),
        "langs": tlist(h, "filelangs"),
        "classes": tlist(h, "fileclass"),
        "digestalgo": h["filedigestalgo"],
    }
    for k in ("require", "provide", "conflict", "obsolete"):
        d[k + "s"] = deps(h, k)
    d["changelog"] = {
        "times": lst(h, "changelogtime"),
        "names": tlist(h, "changelogname"),
        "texts": tlist(h, "changelogtext"),
    }
    return d

def ts():
    t = rpm.TransactionSet()
    t.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
    return t

def read(t, path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return t.hdrFromFdno(fd)
    finally:
        os.close(fd)

IO_TYPES = {"gzip": "gzdio", "bzip2": "bzdio", "xz": "xzdio", "lzma": "lzdio", "zstd": "zstdio"}

def payload(t, path):
    fd = rpm.fd.open(path)
    try:
        h = t.hdrFromFdno(fd)
        comp = txt(h["payloadcompressor"]) or "gzip"
        pfd = rpm.fd(fd, "r", flags=IO_TYPES.get(comp, "ufdio"))
        files = rpm.files(h)
        archive = files.archive(pfd)
        out = []
        for f in archive:
            if not archive.hascontent():
                continue
            data = archive.read()
            if (f.mode & 0o170000) != 0o100000 or not data:
                continue
            out.append([txt(f.name), f.mode, len(data), hashlib.sha256(data).hexdigest(), f.mtime])
        return out
    finally:
        fd.close()

def main(argv):
    if argv and argv[0] == "--bench":
        n = int(argv[1])
        files = argv[2:]
        t = ts()
        start = time.perf_counter()
        done = 0
        while done < n:
            for p in files:
                fields(read(t, p))
                done += 1
                if done >= n:
                    break
        print(json.dumps({"packages": done, "seconds": time.perf_counter() - start}))
        return
    if argv and argv[0] == "--verdict":
        rpm.setVerbosity(rpm.RPMLOG_EMERG)
        t = rpm.TransactionSet()
        t.setVSFlags(rpm._RPMVSF_NOSIGNATURES)
        for p in argv[1:]:
            try:
                read(t, p)
                d = {"path": p, "ok": True}
            except Exception as e:
                d = {"path": p, "ok": False, "error": str(e)}
            sys.stdout.write(json.dumps(d) + "\n")
        return
    if argv and argv[0] == "--list":
        # apt tags (1000000+) are unknown to python3-rpm ("invalid type for tag"): not compared here
        for p in argv[1:]:
            out = [fields(h) for h in rpm.readHeaderListFromFile(p)]
            print(json.dumps({"path": p, "ok": True, "headers": out}, ensure_ascii=False))
        return
    if argv and argv[0] == "--payload":
        t = ts()
        for p in argv[1:]:
            try:
                d = {"path": p, "ok": True, "entries": payload(t, p)}
            except Exception as e:
                d = {"path": p, "ok": False, "error": str(e)}
            sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
        return
    t = ts()
    for p in argv:
        try:
            d = fields(read(t, p))
            d["path"] = p
            d["ok"] = True
        except Exception as e:  # librpm rejects the file
            d = {"path": p, "ok": False, "error": str(e)}
        sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main(sys.argv[1:])

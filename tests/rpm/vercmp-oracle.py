# librpm's answer for "A<TAB>B" lines on stdin: "<cmp>\t<eA>\t<vA>\t<rA>" per line, where cmp is
# labelCompare of the labels as rpm.ver() parses them (librpm's parseEVR), None printed as "\x00".
import sys
import rpm

def parts(s):
    v = rpm.ver(s)
    return (v.e, v.v, v.r)

def show(x):
    return "\x00" if x is None else x

out = []
for line in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\n"):
    if not line:
        continue
    a, b = line.split("\t")
    try:
        pa, pb = parts(a), parts(b)
    except ValueError:
        out.append("invalid")
        continue
    try:
        c = rpm.labelCompare(pa, pb)
    except ValueError:  # an empty version: refused here, not always by rpm.ver()
        out.append("invalid")
        continue
    out.append("%d\t%s\t%s\t%s" % (c, show(pa[0]), show(pa[1]), show(pa[2])))
sys.stdout.write("\n".join(out) + "\n")

#!/usr/bin/python3
"""The seed's approach, for the benchmark: read a dnstap Frame Streams file by hand (only the
python3 standard library), decode the protobuf by hand, count qtypes and the top query names
of client queries (CQ)."""
import collections, struct, sys

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            return v, i

def fields(b):
    i = 0
    while i < len(b):
        k, i = varint(b, i); t = k & 7
        if t == 0: v, i = varint(b, i)
        elif t == 2: n, i = varint(b, i); v = b[i:i + n]; i += n
        elif t == 5: v = b[i:i + 4]; i += 4
        else: v = b[i:i + 8]; i += 8
        yield k >> 3, v

def question(m):  # first question name (uncompressed, as queries carry it) and qtype
    i, labels = 12, []
    while m[i]:
        labels.append(m[i + 1:i + 1 + m[i]].decode('ascii', 'replace').lower()); i += 1 + m[i]
    return '.'.join(labels) + '.', struct.unpack_from('>H', m, i + 1)[0]

qtypes, names, n = collections.Counter(), collections.Counter(), 0
with open(sys.argv[1], 'rb') as f:
    while hdr := f.read(4):
        ln, = struct.unpack('>I', hdr)
        if ln == 0:  # control frame
            f.read(struct.unpack('>I', f.read(4))[0]); continue
        n += 1
        for k, v in fields(f.read(ln)):
            if k == 14:
                msg = dict(fields(v))
                if msg.get(1) == 5 and 10 in msg:
                    name, qt = question(msg[10]); qtypes[qt] += 1; names[name] += 1
print(n, 'messages')
for qt, c in qtypes.most_common(): print('qtype', qt, c)
for name, c in names.most_common(10): print(c, name)

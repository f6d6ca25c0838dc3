#!/usr/bin/env python3
"""ddk-conformance: does include/ddk carry exactly the WDK's names, values,
types and layouts?

Every name include/ddk defines (macros, enum constants, typedefs, struct and
union tags, functions) is enumerated from include/ddk itself (its #define
lines, and clang's JSON AST of <ndis.h> on the host).  For each name the
numbers that can be computed are computed twice, by the same method:

  - under include/ddk (host clang, Linux x86_64, the way ndisemu builds), and
  - under a WDK include tree (clang -target x86_64-pc-windows-msvc, the way
    wdk-check.sh / a WDK build sees it), or from a facts file that an earlier
    run against a kit wrote (--facts; this is what `make check` does).

A generated C file defines one constant per number; it is compiled to LLVM IR
and the numbers are read from the global initializers.  Numbers:
  value     macro constant or enum constant: its value and its type (size and
            signedness, e.g. i32 for int/LONG/NDIS_STATUS, u32 for ULONG)
  type      typedef or tag: sizeof, alignof, and for integer types signedness
  field     every field, flattened through anonymous members and nested
            through named inline ones: offset and size
  proto     each function's and non-integer typedef's type, and
  mtype     the type each NET_BUFFER(_LIST) accessor macro yields: against a
            kit, __builtin_types_compatible_p of the WDK's type with
            include/ddk's spelled out in the kit's typedef names; the fact is
            a hash of include/ddk's spelling once the kit agreed with it, so a
            facts-file run still notices a changed prototype or macro type.

Output: a table of differences (name, what, include/ddk, WDK), and the names
include/ddk defines that the WDK does not.  Exit 0 only with no differences.

  ddk_conformance.py --kit DIR [--write-facts FILE]
  ddk_conformance.py --facts FILE
DIR is a wdk-check.sh header tree (/tmp/wdk-env/<kit>: overlay/, wdk/km,
wdk/shared, sdk/shared) or a kit's Include/<version> directory (km/, shared/).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DDK = os.path.join(ROOT, "include", "ddk")
# driver/vfo.vcxproj's NDIS contract; include/ddk describes NDIS 6.30 x64.
DEFINES = ["-DNDIS_MINIPORT_DRIVER=1", "-DNDIS630_MINIPORT=1", "-DNDIS630=1", "-DPOOL_NX_OPTIN=1"]
# include/ddk's own plumbing: include guards and helpers it #undefs again.
GUARD = re.compile(r"^(VFO_DDK_\w+_H|DDK_WDM_H)$")


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# ---------------------------------------------------------------- compilers --
class Side:
    """One way of compiling a translation unit that includes <ndis.h>."""

    def __init__(self, name, cc, flags):
        self.name, self.cc, self.flags = name, cc, flags

    def compile_ir(self, body, workdir):
        src = os.path.join(workdir, self.name + ".c")
        with open(src, "w") as f:
            f.write("#include <ndis.h>\n" + body)
        p = run([self.cc] + self.flags + ["-w", "-ferror-limit=0", "-S", "-emit-llvm", "-o", "-", src])
        return p.returncode, p.stdout, p.stderr, src

    def output(self, extra, body, workdir):
        src = os.path.join(workdir, self.name + "_q.c")
        with open(src, "w") as f:
            f.write("#include <ndis.h>\n" + body)
        p = run([self.cc] + self.flags + extra + [src])
        if p.returncode != 0:
            sys.exit("ddk-conformance: %s compile failed:\n%s" % (self.name, p.stderr[:3000]))
        return p.stdout


def host_side(cc):
    return Side("ddk", cc, ["-std=gnu11", "-I", DDK] + DEFINES)


def kit_side(kit, ntddi, workdir):
    if os.path.isdir(os.path.join(kit, "overlay")):      # a wdk-check.sh tree
        inc = []
        for d in ("overlay", "wdk/km", "wdk/shared", "sdk/shared"):
            inc += ["-isystem", os.path.join(kit, d)]
        inc += ["-idirafter", os.path.join(kit, "wdk/km/crt"), "-idirafter", os.path.join(kit, "casefix")]
    elif os.path.isdir(os.path.join(kit, "km")) and os.path.isdir(os.path.join(kit, "shared")):
        # A kit's Include/<version>.  ndis.h's NDIS_API_VERSION_AVAILABLE pastes
        # "0x ## major" onto a macro argument, which clang (unlike MSVC) does
        # not expand first: a patched copy in a scratch directory goes first.
        overlay = os.path.join(workdir, "overlay")
        os.makedirs(overlay, exist_ok=True)
        with open(os.path.join(kit, "km", "ndis.h"), "rb") as f:
            s = f.read()
        s = re.sub(rb"^#define NDIS_API_VERSION_AVAILABLE\(major,minor\) (.*)$",
                   lambda m: b"#define NDIS_API_VERSION_AVAILABLE_X_(major,minor) " + m.group(1) +
                   b"\n#define NDIS_API_VERSION_AVAILABLE(major,minor) NDIS_API_VERSION_AVAILABLE_X_(major,minor)",
                   s, flags=re.M)
        with open(os.path.join(overlay, "ndis.h"), "wb") as f:
            f.write(s)
        inc = ["-isystem", overlay, "-isystem", os.path.join(kit, "km"), "-isystem", os.path.join(kit, "shared"),
               "-idirafter", os.path.join(kit, "km", "crt")]
    else:
        sys.exit("ddk-conformance: %s is neither a wdk-check.sh tree nor a kit Include/<version> dir" % kit)
    flags = ["-target", "x86_64-pc-windows-msvc", "-nostdlibinc", "-fms-extensions", "-fms-compatibility",
             "-fms-compatibility-version=19.30", "-D_AMD64_", "-DAMD64", "-D_WIN64", "-D_KERNEL_MODE",
             "-DWINNT=1", "-DNTDDI_VERSION=%s" % ntddi, "-D_WIN32_WINNT=0x%s" % ntddi[2:6],
             "-DWINVER=0x%s" % ntddi[2:6]] + DEFINES + inc
    return Side("wdk", os.environ.get("CLANG", "clang"), flags)


# ---------------------------------------------------- include/ddk's names --
def ddk_macros():
    """#define'd names of include/ddk: name -> parameter list (None: object-like)"""
    defined, undefined = {}, set()
    for fn in sorted(os.listdir(DDK)):
        if not fn.endswith(".h"):
            continue
        with open(os.path.join(DDK, fn)) as f:
            for line in f:
                m = re.match(r"\s*#\s*define\s+(\w+)(\(([^)]*)\))?", line)
                if m:
                    params = [x.strip() for x in m.group(3).split(",")] if m.group(2) else None
                    defined.setdefault(m.group(1), params)
                m = re.match(r"\s*#\s*undef\s+(\w+)", line)
                if m:
                    undefined.add(m.group(1))
    return {n: f for n, f in defined.items() if n not in undefined and not GUARD.match(n)}


def walk_decls(ast):
    """Top-level declarations whose (expansion) location is in include/ddk.
    clang's JSON only names a location's file when it changes, so the walk
    keeps the last one seen, in the order clang printed them."""
    state = {"file": None}

    def see(loc):
        if not isinstance(loc, dict):
            return
        for k in ("spellingLoc", "expansionLoc"):
            if k in loc:
                see(loc[k])
        if "file" in loc:
            state["file"] = loc["file"]

    def visit(node):
        see(node.get("loc"))
        rng = node.get("range") or {}
        where = state["file"]
        see(rng.get("begin"))
        see(rng.get("end"))
        for ch in node.get("inner", []) or []:
            visit(ch)
        return where

    out = []
    for node in ast.get("inner", []):
        where = visit(node)
        if where and os.path.abspath(where).startswith(DDK + os.sep) and not node.get("isImplicit"):
            out.append(node)
    return out


def record_fields(rec, by_id, prefix=""):
    """(path, is_bitfield) for every field of a RecordDecl; anonymous members
    are flattened (C addresses them directly), named inline ones nested."""
    out = []
    inner = rec.get("inner", []) or []
    inline = {n["id"]: n for n in inner if n.get("kind") == "RecordDecl"}
    for n in inner:
        if n.get("kind") != "FieldDecl":
            continue
        name = n.get("name", "")
        tdesc = n.get("type", {}).get("desugaredQualType") or n.get("type", {}).get("qualType", "")
        sub = None
        for rid, r in inline.items():   # a field whose type is a record defined inline
            if ("(anonymous" in tdesc or "(unnamed" in tdesc or (r.get("name") and tdesc.split()[-1] == r.get("name"))) \
                    and tdesc.startswith(r.get("tagUsed", "struct")):
                if r.get("_used"):
                    continue
                sub = r
                break
        if not name:                    # anonymous struct/union member
            if sub is not None:
                sub["_used"] = True
                out += record_fields(sub, by_id, prefix)
            continue
        path = prefix + name
        out.append((path, "isBitfield" in n))
        if sub is not None:
            sub["_used"] = True
            out += record_fields(sub, by_id, path + ".")
    return out


def ddk_inventory(host, workdir):
    """All of include/ddk's names, with what kind of numbers each has."""
    body_ast = host.flags + ["-fsyntax-only", "-Xclang", "-ast-dump=json"]
    src = os.path.join(workdir, "inv.c")
    with open(src, "w") as f:
        f.write("#include <ndis.h>\n")
    p = run([host.cc] + body_ast + [src])
    if p.returncode != 0:
        sys.exit("ddk-conformance: include/ddk does not compile:\n" + p.stderr[:3000])
    ast = json.loads(p.stdout)
    decls = walk_decls(ast)
    by_id = {}
    inv = {"macro": {}, "enumconst": [], "type": {}, "func": {}, "tag": {}}
    defined_now = set(re.findall(r"^#define (\w+)", host.output(["-E", "-dM"], "", workdir), re.M))
    for n, fnlike in ddk_macros().items():
        if n in defined_now:
            inv["macro"][n] = fnlike
    for d in decls:
        k = d.get("kind")
        if k == "EnumDecl":
            for c in d.get("inner", []) or []:
                if c.get("kind") == "EnumConstantDecl":
                    inv["enumconst"].append(c["name"])
        elif k == "RecordDecl" and d.get("completeDefinition") and d.get("name"):
            inv["tag"][d["name"]] = (d.get("tagUsed", "struct"), record_fields(d, by_id))
        elif k == "TypedefDecl":
            t = d.get("type", {})
            inv["type"][d["name"]] = {"qual": t.get("qualType", ""), "desugared": t.get("desugaredQualType", ""),
                                      "node": d}
        elif k == "FunctionDecl":
            inv["func"][d["name"]] = d.get("type", {}).get("qualType", "")
    # anonymous typedef'd records (typedef struct { ... } X;): fields via the typedef
    anon = {}
    for d in decls:
        if d.get("kind") == "RecordDecl" and d.get("completeDefinition") and not d.get("name"):
            anon[d["id"]] = d
    for name, t in inv["type"].items():
        for ch in t["node"].get("inner", []) or []:
            own = ch.get("ownedTagDecl")
            if own and own.get("id") in anon:
                t["fields"] = record_fields(anon[own["id"]], by_id)
    return inv


# ---------------------------------------------------------- the numbers --
INTTYPE = "((__typeof__(%s))-1 < (__typeof__(%s))0 ? 0 : 1)"


def base_name(key):
    """'offset|NDIS_OID_REQUEST.Header' -> NDIS_OID_REQUEST; 'size|struct _X' -> _X"""
    return key.split("|", 1)[1].split(".")[0].split(" ")[-1]


def is_integer_type(inv, n):
    """A typedef of an integer type (not enum: MSVC enums are int, the host's
    may be unsigned int; not a record, pointer, array or function)."""
    t = inv["type"].get(n)
    if not t:
        return False
    q = t["desugared"] or t["qual"]
    return not q.startswith(("struct", "union", "enum")) and not re.search(r"[*(\[]", q)


def probes(inv, fields_of):
    """(key, C expression) for every number; keys are 'what|name'."""
    out = []
    constants = [n for n, fl in inv["macro"].items() if fl is None] + inv["enumconst"]
    for n in constants:
        out.append(("value|" + n, "(unsigned long long)(%s)" % n))
        out.append(("vsize|" + n, "sizeof(%s)" % n))
        out.append(("vunsigned|" + n, INTTYPE % (n, n)))
    for n in list(inv["type"]) + ["%s %s" % (tag, t) for t, (tag, _) in inv["tag"].items()]:
        out.append(("size|" + n, "sizeof(%s)" % n))
        out.append(("align|" + n, "_Alignof(%s)" % n))
        if is_integer_type(inv, n):
            out.append(("unsigned|" + n, "((%s)-1 < (%s)0 ? 0 : 1)" % (n, n)))
        for path, bit in fields_of(n):
            if bit:
                continue
            out.append(("offset|%s.%s" % (n, path), "__builtin_offsetof(%s, %s)" % (n, path)))
            out.append(("fsize|%s.%s" % (n, path), "sizeof(((%s *)0)->%s)" % (n, path)))
    return out


def evaluate(side, probe_list, workdir):
    """Compute each probe under one side; probes that do not compile there
    (not a constant, not an integer, a field that does not exist) come back
    as None.  Bad lines are found from the compiler's messages and dropped,
    a few rounds at most."""
    live = dict(probe_list)
    bad = set()
    for _ in range(12):
        keys = [k for k in live if k not in bad]
        lines, names = [], {}
        for i, k in enumerate(keys):
            v = "p%d" % i
            names[v] = k
            lines.append("const unsigned long long %s = (unsigned long long)(%s);" % (v, live[k]))
        body = "\n".join(lines) + "\n"
        rc, ir, err, src = side.compile_ir(body, workdir)
        if rc == 0:
            res = {}
            for m in re.finditer(r"^@(p\d+) = (?:dso_local )?(?:local_unnamed_addr )?constant i64 (-?\d+)", ir, re.M):
                res[names[m.group(1)]] = int(m.group(2)) & 0xFFFFFFFFFFFFFFFF
            for m in re.finditer(r"^@(p\d+) = .*", ir, re.M):
                if names[m.group(1)] not in res:
                    bad.add(names[m.group(1)])   # not a constant initializer
            out = {k: res.get(k) for k in live}
            for k in bad:
                out[k] = None
            return out
        errlines = set(int(m.group(1)) for m in re.finditer(re.escape(src) + r":(\d+):\d+: error", err))
        if not errlines:
            sys.exit("ddk-conformance: %s compile failed outside the probes:\n%s" % (side.name, err[:3000]))
        for ln in errlines:
            if 2 <= ln <= len(keys) + 1:
                bad.add(keys[ln - 2])
    sys.exit("ddk-conformance: %s: too many rounds of compile errors" % side.name)


def render(key, v):
    what = key.split("|", 1)[0]
    if v is None:
        return "-"
    if what == "value":
        return "0x%X" % v
    return str(v)


def normalize(values):
    """value + vsize + vunsigned -> 'value|N' = 'i32 0x...' (sign-extended to
    the constant's own width, so 0xC0000001 as int reads the same on both)."""
    res = {}
    for k, v in values.items():
        what, name = k.split("|", 1)
        if what in ("vsize", "vunsigned"):
            continue
        if what == "value":
            size, uns = values.get("vsize|" + name), values.get("vunsigned|" + name)
            if v is None or size is None or uns is None or size > 8:
                res[k] = None
                continue
            bits = size * 8
            x = v & ((1 << bits) - 1)
            if not uns and x >> (bits - 1):
                x -= 1 << bits
            res[k] = "%s%d %s" % ("u" if uns else "i", bits, ("-0x%X" % -x) if x < 0 else "0x%X" % x)
        elif what == "unsigned":
            res[k] = None if v is None else ("unsigned" if v else "signed")
        else:
            res[k] = None if v is None else str(v)
    return res


# ---------------------------------------------------------------- types --
BUILTIN_WORDS = set("void char short int long signed unsigned float double _Bool const volatile".split())
# Arguments for include/ddk's accessor macros, by parameter name, so the type
# each yields can be compared (NET_BUFFER_LIST_CONTEXT_DATA_START is a PUCHAR).
MACRO_ARGS = {"nbl": "((PNET_BUFFER_LIST)0)", "nb": "((PNET_BUFFER)0)", "irp": "((PIRP)0)",
              "id": "TcpIpChecksumNetBufferListInfo"}


def spelled_with_typedefs(q):
    words = set(re.findall(r"[A-Za-z_]\w*", q))
    return bool(words) and not words <= BUILTIN_WORDS


def type_checks(inv, host, workdir):
    """(key, C type as include/ddk spells it, C type or expression to compare
    it with in the WDK).  Types spelled only with C keywords are left to the
    size/signedness facts: on the LP64 host ULONG must be 'unsigned int'."""
    out = []
    for n, qual in inv["func"].items():
        out.append(("proto|" + n, qual, "__typeof__(%s)" % n))
    for n, t in inv["type"].items():
        q = t["qual"]
        if is_integer_type(inv, n) or (t["desugared"] or q).startswith("enum"):
            continue
        if not spelled_with_typedefs(q) or q.startswith(("struct ", "union ", "enum ")) and "*" not in q:
            continue
        out.append(("proto|" + n, q, n))
    exprs = {}
    for n, params in inv["macro"].items():
        if params and all(p in MACRO_ARGS for p in params):
            exprs[n] = "%s(%s)" % (n, ", ".join(MACRO_ARGS[p] for p in params))
    for n, q in macro_types(host, exprs, workdir).items():
        if spelled_with_typedefs(q):
            out.append(("mtype|" + n, q, "__typeof__(%s)" % exprs[n]))
    return out


def macro_types(host, exprs, workdir):
    """The type each macro expression has under include/ddk, as clang spells
    it (typedef names kept).  Expressions that do not compile are dropped."""
    names = sorted(exprs)
    for _ in range(6):
        body = "".join("typedef __typeof__(%s) ddkc_t%d;\n" % (exprs[n], i) for i, n in enumerate(names))
        src = os.path.join(workdir, "mtypes.c")
        with open(src, "w") as f:
            f.write("#include <ndis.h>\n" + body)
        p = run([host.cc] + host.flags + ["-w", "-ferror-limit=0", "-fsyntax-only", "-Xclang", "-ast-dump=json", src])
        if p.returncode == 0:
            out = {}
            for d in json.loads(p.stdout).get("inner", []):
                m = re.match(r"ddkc_t(\d+)$", d.get("name", ""))
                if m and d.get("inner"):
                    expr = (d["inner"][0].get("inner") or [{}])[0]
                    q = expr.get("type", {}).get("qualType")
                    if q:
                        out[names[int(m.group(1))]] = q
            return out
        bad = set(int(m.group(1)) - 2 for m in re.finditer(re.escape(src) + r":(\d+):\d+: error", p.stderr))
        names = [n for i, n in enumerate(names) if i not in bad]
    return {}


def type_fact(qual):
    """A type as a number: the first 8 bytes of its spelling's SHA-256."""
    return "h:" + hashlib.sha256(qual.encode()).hexdigest()[:16]


# ----------------------------------------------------------------- main --
def kit_names(kit, workdir):
    """Every macro and declared name under the kit (clang -dM, -ast-list)."""
    macros = set(re.findall(r"^#define (\w+)", kit.output(["-E", "-dM"], "", workdir), re.M))
    decl = set(l.strip() for l in kit.output(["-fsyntax-only", "-Xclang", "-ast-list"], "", workdir).splitlines())
    return macros | decl, macros


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--kit", help="WDK include tree (see above)")
    g.add_argument("--facts", help="facts file of an earlier --kit run (no kit needed)")
    ap.add_argument("--write-facts", help="with --kit: write the kit's facts for include/ddk's names here")
    ap.add_argument("--ntddi", default="0x0A00000B", help="NTDDI_VERSION for the kit compile (default 0x0A00000B)")
    ap.add_argument("--cc", default=os.environ.get("CLANG", "clang"), help="clang for the include/ddk side")
    a = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="ddk-conformance.")
    try:
        host = host_side(a.cc)
        inv = ddk_inventory(host, workdir)

        def fields_of(n):
            if n in inv["type"]:
                return inv["type"][n].get("fields", [])
            tag = n.split(" ", 1)[1]
            return inv["tag"].get(tag, ("", []))[1]

        plist = probes(inv, fields_of)
        mine = normalize(evaluate(host, plist, workdir))
        tchecks = type_checks(inv, host, workdir)
        for k, q, _ in tchecks:
            mine[k] = type_fact(q)
        names = set(inv["macro"]) | set(inv["enumconst"]) | set(inv["type"]) | set(inv["func"]) | set(inv["tag"])

        if a.kit:
            kit = kit_side(os.path.abspath(a.kit), a.ntddi, workdir)
            present, wdk_macros = kit_names(kit, workdir)
            wdk_raw = evaluate(kit, [p for p in plist if base_name(p[0]) in present],
                               workdir)
            theirs = normalize(wdk_raw)
            # The WDK's type of each, against include/ddk's spelled out in the
            # kit's own typedefs: the same type or not.  A function that is a
            # macro in the WDK (NdisAcquireSpinLock, ...) has no prototype there.
            compat = evaluate(kit, [(k, "__builtin_types_compatible_p(%s, %s)" % (w, q))
                                    for k, q, w in tchecks if base_name(k) in present
                                    and not (k.startswith("proto|") and base_name(k) in wdk_macros)],
                              workdir)
            for k, q, _ in tchecks:
                if k.startswith("proto|") and base_name(k) in wdk_macros:
                    theirs[k] = type_fact(q)
                elif compat.get(k) == 1:
                    theirs[k] = type_fact(q)
                elif k in compat:
                    theirs[k] = "incompatible" if compat[k] == 0 else "not-expressible"
            missing = sorted(n for n in names if n not in present)
            source = "WDK " + a.kit
        else:
            theirs, missing, plain = read_facts(a.facts)
            source = "facts " + os.path.relpath(a.facts)
            known = set(base_name(k) for k in theirs) | set(missing) | plain
            unknown = sorted(n for n in names if n not in known)
            missing = sorted(set(missing) & names)
        diffs = []
        for k in sorted(mine):
            name = k.split("|", 1)[1]
            base = base_name(k)
            if base in missing:
                continue
            if mine[k] is None and not (k.startswith("value|") and theirs.get(k) is not None):
                continue    # include/ddk claims nothing here (an opaque type, say)
            if mine[k] != theirs.get(k, None):
                diffs.append((k, mine[k], theirs.get(k)))
        if not a.kit:
            for n in unknown:
                diffs.append(("name|" + n, "defined", "not in the facts file"))

        if a.kit and a.write_facts:
            write_facts(a.write_facts, a.kit, theirs, missing, names)

        print("ddk-conformance: include/ddk vs %s" % source)
        print("  %d names (%d macros, %d enum constants, %d typedefs, %d tags, %d functions); %d numbers compared"
              % (len(names), len(inv["macro"]), len(inv["enumconst"]), len(inv["type"]), len(inv["tag"]),
                 len(inv["func"]), len(mine)))
        if diffs:
            w = max(len(d[0]) for d in diffs)
            print("\n  %-*s  %-22s  %s" % (w, "what|name", "include/ddk", "WDK" if a.kit else "facts"))
            for k, m, t in diffs:
                print("  %-*s  %-22s  %s" % (w, k, m if m is not None else "-", t if t is not None else "-"))
        if missing:
            print("\n  names include/ddk defines that the WDK does not (%d):" % len(missing))
            for n in missing:
                print("    " + n)
        print("\nddk-conformance: %d difference(s), %d name(s) not in the WDK" % (len(diffs), len(missing)))
        return 0 if not diffs and not missing else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def write_facts(path, kit, theirs, missing, names):
    with open(path, "w") as f:
        f.write("# ddk-conformance facts: numbers the real WDK gives for the names include/ddk\n"
                "# defines (x64, NDIS 6.30 miniport defines).  Numbers only.  Regenerate with\n"
                "#   tools/ddk-conformance/ddk-conformance --kit <WDK include tree> --write-facts <this file>\n"
                "# Format: <what>|<name> TAB <number>.  name|X: a name without numbers (function,\n"
                "# function-like macro).  missing|X: a name the WDK lacks.\n")
        numbered = set()
        for k in sorted(theirs):
            if theirs[k] is None:
                continue
            f.write("%s\t%s\n" % (k, theirs[k]))
            numbered.add(base_name(k))
        for n in sorted(names):
            if n in missing:
                f.write("missing|%s\n" % n)
            elif n not in numbered:
                f.write("name|%s\n" % n)


def read_facts(path):
    theirs, missing, plain = {}, [], set()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            key, _, val = line.partition("\t")
            what, name = key.split("|", 1)
            if what == "missing":
                missing.append(name)
            elif what == "name":
                plain.add(name)
            else:
                theirs[key] = val
    return theirs, missing, plain


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""check_jobs.py: checks the Kubernetes Job manifests of scripts/fleet/k8s
without a cluster, and runs their commands locally (tests/test_fleet_k8s.sh).

  check_jobs.py check FILE...        validate (exit 1 with the reasons)
  check_jobs.py run FILE [--index I] [--set NAME=VALUE]...

`check` reads each file with a parser of the YAML subset the manifests use
(block mappings and sequences, plain and quoted scalars, `|` literal
blocks; anything else is an error naming the line; where PyYAML is
installed its reading must agree) and validates it against the fields of
the batch/v1 Job schema that the manifests use, strictly: an unknown field,
a wrong type (an env value that is a number, not a string), a restartPolicy
a Job refuses (Always), a mount of an undeclared volume, an Indexed Job
without completions are errors. The fleet's own rules: an Indexed Job's
command reads JOB_COMPLETION_INDEX, and every TK_SHARDS (across the files
given) equals the Indexed Job's completions.

`run` runs the first container's command as the pod would: with the
manifest's env (NAME=VALUE overrides it, e.g. TK_FLEET_DIR for the mount
path), JOB_COMPLETION_INDEX=I for an Indexed Job, and this process's PATH
and HOME; its exit status is the command's.
"""
import json
import os
import re
import subprocess
import sys


class ManifestError(Exception):
    pass


# ---------------------------------------------------------------- YAML subset

def _strip_comment(text):
    """The text without a trailing comment (a # after whitespace, outside quotes)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'" and (i == 0 or text[i - 1] in " :-["):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def _scalar(text, where):
    """The value of a one-line scalar: quoted string, int, bool, null or plain string."""
    if text.startswith('"'):
        try:
            return json.loads(text)
        except ValueError:
            raise ManifestError(f"{where}: unsupported double-quoted string {text}")
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise ManifestError(f"{where}: unterminated single-quoted string")
        return text[1:-1].replace("''", "'")
    if text[0] in "[{&*!%@`|>":
        if text in ("[]", "{}"):
            return [] if text == "[]" else {}
        raise ManifestError(f"{where}: unsupported YAML (flow collections, anchors, tags, "
                            f"folded blocks): {text}")
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", text):
        return float(text)
    if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return text.lower() == "true"
    if text in ("null", "Null", "NULL", "~"):
        return None
    if ": " in text or text.endswith(":"):
        raise ManifestError(f"{where}: a mapping where a scalar belongs: {text}")
    return text


class _Parser:
    """Indentation-driven reader of the subset; one instance per file."""

    def __init__(self, text, name):
        if "\t" in "".join(line[:len(line) - len(line.lstrip())] for line in text.split("\n")):
            raise ManifestError(f"{name}: a tab in the indentation")
        self.lines = text.split("\n")
        self.name = name
        self.i = 0

    def where(self, i=None):
        return f"{self.name}:{(self.i if i is None else i) + 1}"

    def _next(self):
        """Index, indent and text of the next line with content, or None."""
        j = self.i
        while j < len(self.lines):
            text = _strip_comment(self.lines[j])
            if text.strip() and text.strip() not in ("---",):
                return j, len(text) - len(text.lstrip()), text.strip()
            if text.strip() == "---" and j > 0 and any(
                    _strip_comment(x).strip() for x in self.lines[:j]):
                raise ManifestError(f"{self.where(j)}: more than one document")
            j += 1
        return None

    def document(self):
        nxt = self._next()
        if nxt is None:
            raise ManifestError(f"{self.name}: empty file")
        value = self.node(nxt[1])
        rest = self._next()
        if rest is not None:
            raise ManifestError(f"{self.where(rest[0])}: unexpected indentation")
        return value

    def node(self, indent):
        j, ind, text = self._next()
        if ind != indent:
            raise ManifestError(f"{self.where(j)}: unexpected indentation")
        if text == "-" or text.startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def _key(self, j, text):
        m = re.match(r'("(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\s"\'#][^:]*?)\s*:(?:\s+(.*))?$', text)
        if not m:
            raise ManifestError(f"{self.where(j)}: expected 'key: value', got: {text}")
        key = _scalar(m.group(1), self.where(j))
        return str(key), (m.group(2) or "")

    def mapping(self, indent):
        out = {}
        while True:
            nxt = self._next()
            if nxt is None or nxt[1] < indent:
                return out
            j, ind, text = nxt
            if ind > indent or text == "-" or text.startswith("- "):
                raise ManifestError(f"{self.where(j)}: unexpected indentation")
            key, rest = self._key(j, text)
            if key in out:
                raise ManifestError(f"{self.where(j)}: duplicate key '{key}'")
            self.i = j + 1
            out[key] = self.value(indent, rest, j, allow_same_indent_seq=True)

    def value(self, indent, rest, j, allow_same_indent_seq):
        """The value after 'key:' (rest: the text after the colon) at indent."""
        if rest in ("|", "|-", "|+"):
            return self.literal(indent, rest)
        if rest:
            return _scalar(rest, self.where(j))
        nxt = self._next()
        if nxt is None:
            return None
        _, ind, text = nxt
        if ind > indent:
            return self.node(ind)
        if allow_same_indent_seq and ind == indent and (text == "-" or text.startswith("- ")):
            return self.sequence(indent)
        return None

    def literal(self, indent, style):
        """A | block: the lines indented more than the key, verbatim."""
        body, block = [], None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip():
                ind = len(line) - len(line.lstrip())
                if ind <= indent:
                    break
                if block is None:
                    block = ind
                if ind < block:
                    raise ManifestError(f"{self.where()}: literal block line indented less "
                                        "than its first line")
                body.append(line[block:])
            else:
                body.append("")
            self.i += 1
        text = "\n".join(body)
        if style == "|+":
            return text + "\n"
        text = text.rstrip("\n")
        return text + "\n" if style == "|" and text else text

    def sequence(self, indent):
        out = []
        while True:
            nxt = self._next()
            if nxt is None or nxt[1] < indent:
                return out
            j, ind, text = nxt
            if ind > indent:
                raise ManifestError(f"{self.where(j)}: unexpected indentation")
            if not (text == "-" or text.startswith("- ")):
                return out
            item = text[1:].strip()
            if not item:
                self.i = j + 1
                nxt = self._next()
                if nxt is None or nxt[1] <= indent:
                    out.append(None)
                else:
                    out.append(self.node(nxt[1]))
            elif re.match(r'("[^"]*"|\'[^\']*\'|[^\s"\'#][^:]*?)\s*:(\s|$)', item):
                # "- key: v": a mapping whose first key sits after the dash.
                col = ind + (len(text) - len(item))
                self.lines[j] = " " * col + item
                self.i = j
                out.append(self.mapping(col))
            elif item in ("|", "|-", "|+"):
                self.i = j + 1
                out.append(self.literal(ind, item))
            else:
                self.i = j + 1
                out.append(_scalar(item, self.where(j)))


def load(path):
    """The manifest at path, read with the subset parser (checked against PyYAML
    where it is installed)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    value = _Parser(text, path).document()
    try:
        import yaml  # optional: a second opinion on the reading
    except ImportError:
        return value
    if yaml.safe_load(text) != value:
        raise ManifestError(f"{path}: the subset parser and PyYAML read it differently")
    return value


# ---------------------------------------------------------------- the schema

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?")
QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")


def _str(pattern=None, enum=None, nonempty=False):
    def check(v, where, errs):
        if not isinstance(v, str):
            errs.append(f"{where}: must be a string, not {type(v).__name__} {v!r}")
        elif enum and v not in enum:
            errs.append(f"{where}: '{v}' is not one of {', '.join(enum)}")
        elif pattern and not pattern.fullmatch(v):
            errs.append(f"{where}: '{v}' is not a valid name")
        elif nonempty and not v:
            errs.append(f"{where}: must not be empty")
    return check


def _int(minimum):
    def check(v, where, errs):
        if not isinstance(v, int) or isinstance(v, bool):
            errs.append(f"{where}: must be an integer, not {v!r}")
        elif v < minimum:
            errs.append(f"{where}: must be >= {minimum}, not {v}")
    return check


def _bool(v, where, errs):
    if not isinstance(v, bool):
        errs.append(f"{where}: must be true or false, not {v!r}")


def _quantity(v, where, errs):
    if isinstance(v, bool) or not isinstance(v, (int, str)) or not QUANTITY.fullmatch(str(v)):
        errs.append(f"{where}: '{v}' is not a resource quantity")


def _abs_path(v, where, errs):
    if not isinstance(v, str) or not v.startswith("/"):
        errs.append(f"{where}: must be an absolute path, not {v!r}")


def _list(item, nonempty=False):
    def check(v, where, errs):
        if not isinstance(v, list):
            errs.append(f"{where}: must be a list")
            return
        if nonempty and not v:
            errs.append(f"{where}: must not be empty")
        for k, x in enumerate(v):
            item(x, f"{where}[{k}]", errs)
    return check


def _map_of(key, value):
    def check(v, where, errs):
        if not isinstance(v, dict):
            errs.append(f"{where}: must be a mapping")
            return
        for k, x in v.items():
            key(k, f"{where} key {k!r}", errs)
            value(x, f"{where}.{k}", errs)
    return check


def _obj(fields, required=()):
    def check(v, where, errs):
        if not isinstance(v, dict):
            errs.append(f"{where}: must be a mapping")
            return
        for k in required:
            if k not in v:
                errs.append(f"{where}: missing required field '{k}'")
        for k, x in v.items():
            if k not in fields:
                errs.append(f"{where}: unknown field '{k}' (known: {', '.join(sorted(fields))})")
            else:
                fields[k](x, f"{where}.{k}", errs)
    return check


_labels = _map_of(_str(re.compile(r"([a-z0-9.-]+/)?[A-Za-z0-9][-A-Za-z0-9_.]{0,62}")),
                  _str(LABEL_VALUE))
_meta_fields = {"name": _str(DNS_LABEL), "namespace": _str(DNS_LABEL), "labels": _labels,
                "annotations": _map_of(_str(), _str())}
_env = _obj({"name": _str(ENV_NAME), "value": _str()}, ["name"])
_resources = _obj({k: _map_of(_str(enum=["cpu", "memory", "ephemeral-storage"]), _quantity)
                   for k in ("requests", "limits")})
_mount = _obj({"name": _str(DNS_LABEL), "mountPath": _abs_path, "readOnly": _bool,
               "subPath": _str()}, ["name", "mountPath"])
_container = _obj({"name": _str(DNS_LABEL), "image": _str(nonempty=True),
                   "command": _list(_str()), "args": _list(_str()), "workingDir": _abs_path,
                   "env": _list(_env), "resources": _resources,
                   "volumeMounts": _list(_mount)}, ["name", "image"])
_volume = _obj({"name": _str(DNS_LABEL),
                "persistentVolumeClaim": _obj({"claimName": _str(DNS_SUBDOMAIN),
                                               "readOnly": _bool}, ["claimName"]),
                "emptyDir": _obj({"medium": _str(enum=["", "Memory"]),
                                  "sizeLimit": _quantity})}, ["name"])
_pod_spec = _obj({"restartPolicy": _str(enum=["Never", "OnFailure"]),
                  "containers": _list(_container, nonempty=True),
                  "volumes": _list(_volume)}, ["restartPolicy", "containers"])
_job_spec = _obj({"completionMode": _str(enum=["NonIndexed", "Indexed"]),
                  "completions": _int(1), "parallelism": _int(0), "backoffLimit": _int(0),
                  "activeDeadlineSeconds": _int(1), "ttlSecondsAfterFinished": _int(0),
                  "template": _obj({"metadata": _obj(_meta_fields),
                                    "spec": _pod_spec}, ["spec"])}, ["template"])
_job = _obj({"apiVersion": _str(enum=["batch/v1"]), "kind": _str(enum=["Job"]),
             "metadata": _obj(_meta_fields, ["name"]), "spec": _job_spec},
            ["apiVersion", "kind", "metadata", "spec"])


def _unique(names, where, what, errs):
    seen = set()
    for n in names:
        if n in seen:
            errs.append(f"{where}: two {what} named '{n}'")
        seen.add(n)


def _env_of(container):
    return {e.get("name"): e.get("value") for e in container.get("env", []) or []
            if isinstance(e, dict)}


def check_job(job, where):
    """The schema errors of one Job (empty: valid), then the cross-field rules."""
    errs = []
    _job(job, where, errs)
    if errs:
        return errs
    spec = job["spec"]
    pod = spec["template"]["spec"]
    if spec.get("completionMode") == "Indexed" and "completions" not in spec:
        errs.append(f"{where}.spec: an Indexed Job needs completions")
    volumes = [v["name"] for v in pod.get("volumes", [])]
    _unique(volumes, f"{where}.spec.template.spec.volumes", "volumes", errs)
    for v in pod.get("volumes", []):
        if ("persistentVolumeClaim" in v) + ("emptyDir" in v) != 1:
            errs.append(f"{where}: volume '{v['name']}' needs exactly one source")
    _unique([c["name"] for c in pod["containers"]], f"{where}.spec.template.spec.containers",
            "containers", errs)
    for c in pod["containers"]:
        cw = f"{where} container '{c['name']}'"
        _unique([e["name"] for e in c.get("env", [])], cw, "env variables", errs)
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                errs.append(f"{cw}: mounts '{m['name']}', which is not a volume of the pod")
    return errs


def check_fleet(jobs):
    """The fleet's rules over all the files: the index is read, TK_SHARDS agrees."""
    errs, shards, completions = [], {}, None
    for where, job in jobs:
        spec = job["spec"]
        for c in spec["template"]["spec"]["containers"]:
            env = _env_of(c)
            if "TK_SHARDS" in env:
                shards[f"{where} container '{c['name']}'"] = env["TK_SHARDS"]
            if spec.get("completionMode") == "Indexed":
                completions = str(spec["completions"])
                if "JOB_COMPLETION_INDEX" not in " ".join(c.get("command", []) + c.get("args", [])):
                    errs.append(f"{where}: container '{c['name']}' of an Indexed Job does not "
                                "read JOB_COMPLETION_INDEX")
    for w, n in shards.items():
        if completions is not None and n != completions:
            errs.append(f"{w}: TK_SHARDS is {n}, the Indexed Job has {completions} completions")
    return errs


def cmd_check(paths):
    jobs, errs = [], []
    for p in paths:
        try:
            job = load(p)
        except (ManifestError, OSError) as e:
            errs.append(str(e))
            continue
        e = check_job(job, p)
        errs += e
        if not e:
            jobs.append((p, job))
    if not errs:
        errs = check_fleet(jobs)
    for e in errs:
        print(f"check_jobs: {e}", file=sys.stderr)
    if errs:
        return 1
    for p, job in jobs:
        s = job["spec"]
        print(f"ok {p}: Job {job['metadata']['name']} ({s.get('completionMode', 'NonIndexed')}, "
              f"{s.get('completions', 1)} completions)")
    return 0


def cmd_run(path, index, sets):
    job = load(path)
    errs = check_job(job, path)
    if errs:
        for e in errs:
            print(f"check_jobs: {e}", file=sys.stderr)
        return 1
    spec = job["spec"]
    c = spec["template"]["spec"]["containers"][0]
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env.update(_env_of(c))
    if spec.get("completionMode") == "Indexed":
        if index is None or not 0 <= index < spec["completions"]:
            print(f"check_jobs: run {path}: --index must be 0..{spec['completions'] - 1}",
                  file=sys.stderr)
            return 2
        env["JOB_COMPLETION_INDEX"] = str(index)
    elif index is not None:
        print(f"check_jobs: run {path}: not an Indexed Job, no --index", file=sys.stderr)
        return 2
    for s in sets:
        name, eq, value = s.partition("=")
        if not eq or not ENV_NAME.fullmatch(name):
            print(f"check_jobs: --set '{s}' is not NAME=VALUE", file=sys.stderr)
            return 2
        env[name] = value
    argv = c.get("command", []) + c.get("args", [])
    if not argv:
        print(f"check_jobs: run {path}: the container has no command", file=sys.stderr)
        return 2
    return subprocess.run(argv, env=env, check=False).returncode


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        return cmd_check(argv[1:])
    if len(argv) >= 2 and argv[0] == "run":
        path, index, sets, rest = argv[1], None, [], argv[2:]
        while rest:
            if rest[0] == "--index" and len(rest) >= 2 and re.fullmatch(r"[0-9]+", rest[1]):
                index = int(rest[1])
            elif rest[0] == "--set" and len(rest) >= 2:
                sets.append(rest[1])
            else:
                print(f"check_jobs: run: bad option {rest[0]}", file=sys.stderr)
                return 2
            rest = rest[2:]
        try:
            return cmd_run(path, index, sets)
        except (ManifestError, OSError) as e:
            print(f"check_jobs: {e}", file=sys.stderr)
            return 1
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

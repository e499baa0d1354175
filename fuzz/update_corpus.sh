#!/bin/sh
# Rebuilds the seed corpora fuzz/corpus/<target>/ from what the repository holds, so they follow it:
#   - every configuration: conformance/cases/**/*.toml and *.json (not the *.expect.json expectations),
#     examples/** (*.toml, *.json, and configurations in C++ raw strings), ```toml and ```json blocks of
#     README.md and docs/*.md, and configurations in the raw strings of tests/**/*.cpp;
#   - for values_fuzzer, every string value of those configurations plus the names and examples of SPEC §2;
#   - for proxy_header_fuzzer, PROXY v1 and v2 headers (valid, truncated, malformed) built here;
#   - for structured_fuzzer, fixed pseudo-random byte strings (its input is choices, not text).
# Each seed is named by the SHA-1 of its contents, as libFuzzer names corpus files, so a rerun changes nothing
# unless the sources changed. The corpus folders are generated: a rerun deletes files it would not write.
# Needs python3 (3.11 or newer for tomllib; without it, values_fuzzer gets no strings from TOML files).
#
# usage: fuzz/update_corpus.sh
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
exec python3 - "$repo" <<'PYTHON'
import hashlib
import json
import re
import struct
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python before 3.11
    tomllib = None

repo = Path(sys.argv[1])
corpus_root = repo / "fuzz" / "corpus"


def detect_json(text):
    """berth's detect_format(): JSON starts with '{', or '[' followed by a value; a TOML header is '[' + key."""
    stripped = text.lstrip(" \t\r\n")
    if stripped.startswith("{"):
        return True
    if not stripped.startswith("["):
        return False
    rest = stripped[1:]
    following = rest.lstrip(" \t\r\n")
    if not following:
        return False
    c = following[0]
    if c == "[" and rest[:1] == "[":  # "[[" is a TOML array of tables
        return False
    return c in "{][-" or c.isdigit()


def configurations():
    """(format, text) for every configuration in the repository."""
    found = []
    cases = repo / "conformance" / "cases"
    if cases.is_dir():
        for path in sorted(cases.rglob("*")):
            if not path.is_file() or path.name.endswith(".expect.json"):
                continue
            if path.suffix in (".toml", ".json"):
                found.append((path.suffix[1:], path.read_text(encoding="utf-8", errors="surrogateescape")))
    examples = repo / "examples"
    if examples.is_dir():
        for path in sorted(examples.rglob("*")):
            if path.is_file() and path.suffix in (".toml", ".json"):
                found.append((path.suffix[1:], path.read_text(encoding="utf-8")))
    markdown = [repo / "README.md"] + sorted((repo / "docs").glob("*.md"))
    fence = re.compile(r"^```(toml|json)[^\n]*\n(.*?)^```", re.M | re.S)
    for path in markdown:
        if path.is_file():
            for kind, body in fence.findall(path.read_text(encoding="utf-8")):
                found.append((kind, body))
    raw = re.compile(r'R"([^ ()\\\t\n]{0,16})\((.*?)\)\1"', re.S)
    sources = sorted(examples.rglob("*.cpp")) if examples.is_dir() else []
    sources += sorted((repo / "tests").rglob("*.cpp"))
    for path in sources:
        for _, body in raw.findall(path.read_text(encoding="utf-8")):
            if detect_json(body):
                if '"' in body:  # a JSON document, not a bare number or a C++ string that happens to start with '['
                    found.append(("json", body))
            elif "server" in body:
                found.append(("toml", body))
    return found


def strings_in(value, out):
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.append(key)
            strings_in(item, out)
    elif isinstance(value, list):
        for item in value:
            strings_in(item, out)


SPEC_VALUES = [
    # SocketAddr (SPEC §2.1), valid and each kind of mistake
    "0.0.0.0:25", "[::]:25", "[2001:db8::2]:25", "[fe80::1%2]:993", "127.0.0.1:0", "[::ffff:192.0.2.1]:65535",
    "2001:db8::2", "127.0.0.1", "localhost:25", "*:25", "0.0.0.0:65536", "01.2.3.4:25", "[fe80::1%eth0]:25",
    " 0.0.0.0:25", "0.0.0.0:+25", "[127.0.0.1]:25", ":25", "25", "[::]:025",
    # IpMask (SPEC §2.3)
    "10.0.0.0/8", "192.0.2.10", "2001:db8::/32", "::1", "0.0.0.0/0", "::/0", "10.1.2.3/8", "10.0.0.0/255.0.0.0",
    "fd00::/7", "10.0.0.0/33", "::/129", " 10.0.0.0/8 ", "::ffff:10.0.0.1/104", "0.0.0.0", "::ffff:0:0/96",
    # Duration (SPEC §2.2)
    "1m", "30s", "0ms", "1500ms", "1d", "90s", "18446744073709551615ms", "18446744073709551616ms", "1.5s",
    "1m30s", "10 s", "-1s", "+5s", "1w", "5sec", "60000", "1MS",
    # names in every spelling (SPEC §2.4, §2.5)
    "smtp", "lmtp", "imap", "pop3", "managesieve", "manageSieve", "http", "https", "SMTP",
    "TLSv1.2", "TLSv1.3", "0x0303", "0x0304", "tls12", "tls13", "TLSv1.1", "SSLv3",
    "TLS13_AES_256_GCM_SHA384", "TLS13_AES_128_GCM_SHA256", "TLS13_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "tls13-aes-256-gcm-sha384", "tls-ecdhe-rsa-with-aes-128-gcm-sha256", "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_AES_256_GCM_SHA384",
]


def proxy_headers():
    signature = b"\r\n\r\n\x00\r\nQUIT\n"

    def v2(version_command, family_transport, body):
        return signature + bytes([version_command, family_transport]) + struct.pack(">H", len(body)) + body

    inet = bytes([192, 0, 2, 1, 198, 51, 100, 2]) + struct.pack(">HH", 56324, 25)
    inet6 = bytes(range(16)) + bytes(15) + b"\x01" + struct.pack(">HH", 1, 65535)
    tlvs = b"\x01\x00\x02h2" + b"\x02\x00\x0bexample.com" + b"\x04\x00\x00"
    payload = b"EHLO client.example\r\n"
    headers = [
        b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n" + payload,
        b"PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 65535\r\n",
        b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
        b"PROXY UNKNOWN\r\n",
        b"PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n" + payload,
        b"PROXY TCP4 192.0.2.1 198.51.100.2 56324",       # truncated
        b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\n",  # LF without CR
        b"PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n",    # doubled space
        b"PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n",
        b"PROXY TCP4 192.0.2.1 198.51.100.2 025 25\r\n",
        b"PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",
        b"PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",
        b"PROXY " + b"x" * 101 + b"\r\n",
        v2(0x21, 0x11, inet) + payload,
        v2(0x21, 0x11, inet + tlvs),
        v2(0x21, 0x21, inet6),
        v2(0x21, 0x31, bytes(216)),
        v2(0x21, 0x12, inet),
        v2(0x21, 0x00, b""),
        v2(0x20, 0x00, b"") + payload,
        v2(0x20, 0x11, inet),
        v2(0x11, 0x11, inet),                   # version 1 in a v2 header
        v2(0x22, 0x11, inet),                   # command 2
        v2(0x21, 0x41, inet),                   # family 4
        v2(0x21, 0x11, inet[:8]),               # address block truncated
        v2(0x21, 0x11, inet + b"\x01\x00\x09h2"),  # TLV longer than the header
        signature + b"\x21\x11\xff\xff",        # larger than any limit
        signature[:7],
    ]
    return headers


def structured_seeds():
    seeds = []
    state = hashlib.sha256(b"berth structured_fuzzer seeds").digest()
    for i in range(32):
        data = b""
        while len(data) < 64 + 30 * i:
            state = hashlib.sha256(state).digest()
            data += state
        seeds.append(data[: 64 + 30 * i])
    seeds.append(bytes(64))
    seeds.append(b"\xff" * 64)
    return seeds


def write_corpus(target, inputs):
    folder = corpus_root / target
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for data in inputs:
        if isinstance(data, str):
            data = data.encode("utf-8", errors="surrogateescape")
        wanted[hashlib.sha1(data).hexdigest()] = data
    for path in folder.iterdir():
        if path.name not in wanted:
            path.unlink()
    for name, data in wanted.items():
        path = folder / name
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    print(f"fuzz/corpus/{target}: {len(wanted)} seeds")


configs = configurations()
toml_texts = [text for kind, text in configs if kind == "toml"]
json_texts = [text for kind, text in configs if kind == "json"]

values = list(SPEC_VALUES)
for kind, text in configs:
    try:
        document = json.loads(text) if kind == "json" else (tomllib.loads(text) if tomllib else None)
    except ValueError:  # json.JSONDecodeError and tomllib.TOMLDecodeError are both ValueErrors
        continue
    strings_in(document, values)

write_corpus("toml_resolve_fuzzer", toml_texts)
write_corpus("convert_roundtrip_fuzzer", toml_texts)
write_corpus("json_resolve_fuzzer", json_texts)
write_corpus("values_fuzzer", [v for v in values if len(v.encode("utf-8", errors="surrogateescape")) <= 256])
write_corpus("proxy_header_fuzzer", proxy_headers())
write_corpus("structured_fuzzer", structured_seeds())
PYTHON

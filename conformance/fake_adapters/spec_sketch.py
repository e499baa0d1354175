#!/usr/bin/env python3
"""A small, independent Python reading of SPEC §1-§4 and §7 that prints the §6 document.

It exists to exercise the conformance runner on passing cases and to cross-check the cases
(two independent readings of the documents must agree); berth neither uses nor ships it.
It reports no line or column (tomllib gives none), and its codes follow berth's code list.

usage: spec_sketch.py FILE      exit 0 valid, 1 invalid, 2 unreadable file
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass

# Fields whose server-wide (TOML) or system (JSON) value is skipped: empty here; the deliberately
# broken adapter beside this file fills it to prove that the runner's diffs are readable.
IGNORE_SERVER_WIDE: set[str] = set()

STARTTLS_PORTS = {25, 587, 143, 110, 4190}
IMPLICIT_TLS_PORTS = {465, 993, 995}
INT32_MAX = 2**31 - 1

TOML_PROTOCOLS = {"smtp": "smtp", "lmtp": "lmtp", "imap": "imap", "pop3": "pop3",
                  "managesieve": "manageSieve", "http": "http", "https": "http"}
JSON_PROTOCOLS = {"smtp", "lmtp", "imap", "pop3", "manageSieve", "http"}
TOML_VERSIONS = {"TLSv1.2": "tls12", "0x0303": "tls12", "TLSv1.3": "tls13", "0x0304": "tls13"}
JSON_VERSIONS = {"tls12", "tls13"}
CIPHERS = {  # TOML name -> (JSON name, version)
    "TLS13_AES_256_GCM_SHA384": ("tls13-aes-256-gcm-sha384", "tls13"),
    "TLS13_AES_128_GCM_SHA256": ("tls13-aes-128-gcm-sha256", "tls13"),
    "TLS13_CHACHA20_POLY1305_SHA256": ("tls13-chacha20-poly1305-sha256", "tls13"),
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": ("tls-ecdhe-ecdsa-with-aes-256-gcm-sha384", "tls12"),
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": ("tls-ecdhe-ecdsa-with-aes-128-gcm-sha256", "tls12"),
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": ("tls-ecdhe-ecdsa-with-chacha20-poly1305-sha256", "tls12"),
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": ("tls-ecdhe-rsa-with-aes-256-gcm-sha384", "tls12"),
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": ("tls-ecdhe-rsa-with-aes-128-gcm-sha256", "tls12"),
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": ("tls-ecdhe-rsa-with-chacha20-poly1305-sha256", "tls12"),
}
JSON_CIPHERS = {json_name: version for json_name, version in CIPHERS.values()}


@dataclass(frozen=True)
class FieldRow:
    """One row of SPEC §1 (bind and protocol are read separately)."""
    name: str            # §6 output name
    json_input: str      # NetworkListener property
    toml_key: str        # relative to server.listener.<id>.
    toml_server: str     # relative to server.; "" when none
    kind: str            # bool | int | duration | linger | versions | ciphers | masks
    default: object
    low: int = 0
    high: int = 0
    nullable: bool = False
    json_system: str = ""


ROWS = [
    FieldRow("maxConnections", "maxConnections", "max-connections", "max-connections", "int", 8192, 1, 2**32 - 1,
             json_system="maxConnections"),
    FieldRow("socketReuseAddress", "socketReuseAddress", "socket.reuse-addr", "socket.reuse-addr", "bool", True),
    FieldRow("socketReusePort", "socketReusePort", "socket.reuse-port", "socket.reuse-port", "bool", True),
    FieldRow("socketBacklog", "socketBacklog", "socket.backlog", "socket.backlog", "int", 1024, 1, INT32_MAX),
    FieldRow("socketTtl", "socketTtl", "socket.ttl", "socket.ttl", "int", None, 1, 255, True),
    FieldRow("socketSendBufferSize", "socketSendBufferSize", "socket.send-buffer-size", "socket.send-buffer-size",
             "int", None, 1, INT32_MAX, True),
    FieldRow("socketReceiveBufferSize", "socketReceiveBufferSize", "socket.recv-buffer-size",
             "socket.recv-buffer-size", "int", None, 1, INT32_MAX, True),
    FieldRow("socketLinger", "socketLinger", "socket.linger", "socket.linger", "linger", None, nullable=True),
    FieldRow("socketTosV4", "socketTosV4", "socket.tos", "socket.tos", "int", None, 1, 255, True),
    FieldRow("socketNoDelay", "socketNoDelay", "socket.nodelay", "socket.nodelay", "bool", True),
    FieldRow("useTls", "useTls", "tls.enable", "tls.enable", "bool", True),
    FieldRow("tlsImplicit", "tlsImplicit", "tls.implicit", "tls.implicit", "bool", False),
    FieldRow("tlsTimeout", "tlsTimeout", "tls.timeout", "tls.timeout", "duration", 60000, 1),
    FieldRow("tlsDisableProtocols", "tlsDisableProtocols", "tls.disable-protocols", "tls.disable-protocols",
             "versions", []),
    FieldRow("tlsDisableCipherSuites", "tlsDisableCipherSuites", "tls.disable-ciphers", "tls.disable-ciphers",
             "ciphers", []),
    FieldRow("tlsIgnoreClientOrder", "tlsIgnoreClientOrder", "tls.ignore-client-order", "tls.ignore-client-order",
             "bool", True),
    FieldRow("proxyTrustedNetworks", "overrideProxyTrustedNetworks", "proxy.trusted-networks",
             "proxy.trusted-networks", "masks", [], json_system="proxyTrustedNetworks"),
]
LIST_KINDS = {"versions", "ciphers", "masks"}
OUTPUT_ORDER = ["name", "protocol", "bind"] + [r.name for r in ROWS]
TOML_LISTENER_KEYS = {"bind", "protocol"} | {r.toml_key for r in ROWS}
TOML_SERVER_SECTIONS = {"socket", "tls", "proxy"}
TOML_SERVER_KEYS = {r.toml_server for r in ROWS if "." in r.toml_server}
JSON_PROPERTIES = {"name", "bind", "protocol"} | {r.json_input for r in ROWS}
UNSET = object()  # `false` on an optional numeric option: unset, even over a server-wide value


class Bad(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Report:
    def __init__(self):
        self.diagnostics: list[dict] = []

    def add(self, severity: str, code: str, path: str, message: str):
        entry = {"severity": severity, "code": code, "path": path, "message": message}
        if entry not in self.diagnostics:
            self.diagnostics.append(entry)

    def error(self, code, path, message):
        self.add("error", code, path, message)

    def warning(self, code, path, message):
        self.add("warning", code, path, message)

    def has_errors(self) -> bool:
        return any(d["severity"] == "error" for d in self.diagnostics)


# ---------------------------------------------------------------------------------------------
# value grammars (SPEC §2)


def format_ipv6(address: ipaddress.IPv6Address) -> str:
    if address.ipv4_mapped is not None:  # RFC 5952 §5; Python 3.11 prints these in hex
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


def parse_ipv4(text: str) -> ipaddress.IPv4Address:
    parts = text.split(".")
    if len(parts) != 4 or not all(re.fullmatch(r"[0-9]{1,3}", p) for p in parts):
        raise Bad("bind.invalid", f"{text!r} is not an IPv4 address")
    if any(len(p) > 1 and p[0] == "0" for p in parts):
        raise Bad("bind.leading-zero", f"{text!r}: an IPv4 octet may not start with 0")
    if any(int(p) > 255 for p in parts):
        raise Bad("bind.invalid", f"{text!r}: an octet is above 255")
    return ipaddress.IPv4Address(text)


def parse_ipv6(text: str) -> ipaddress.IPv6Address:
    if "%" in text or not re.fullmatch(r"[0-9A-Fa-f:.]+", text):
        raise Bad("bind.invalid", f"{text!r} is not an IPv6 address")
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        raise Bad("bind.invalid", f"{text!r} is not an IPv6 address") from None


def parse_port(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text) or int(text) > 65535:
        raise Bad("bind.bad-port", f"port {text!r} is not a number from 0 to 65535")
    return int(text)


def parse_socket_addr(text: str) -> tuple[str, int]:
    """SPEC §2.1: Rust's SocketAddr grammar. Returns the canonical form and the port."""
    if text != text.strip() or any(c.isspace() for c in text):
        raise Bad("bind.whitespace", f"{text!r} contains whitespace")
    if text.startswith("["):
        m = re.fullmatch(r"\[([^\]]*)\](?::(.*))?", text)
        if not m:
            raise Bad("bind.invalid", f"{text!r} is not an address")
        host, port_text = m.groups()
        scope = ""
        if "%" in host:
            host, scope = host.split("%", 1)
            if not re.fullmatch(r"[0-9]+", scope) or int(scope) > 2**32 - 1:
                raise Bad("bind.named-scope", f"scope id {scope!r} must be a number")
        address = parse_ipv6(host)
        if port_text is None:
            raise Bad("bind.missing-port", f"{text!r} has no port")
        port = parse_port(port_text)
        scope_text = f"%{int(scope)}" if scope and int(scope) != 0 else ""
        return f"[{format_ipv6(address)}{scope_text}]:{port}", port
    if text.count(":") >= 2:
        try:
            parse_ipv6(text)
        except Bad:
            raise Bad("bind.invalid", f"{text!r} is not an address") from None
        raise Bad("bind.missing-port", f"{text!r} has no port (IPv6 needs brackets: [{text}]:25)")
    if "*" in text:
        raise Bad("bind.wildcard", f"{text!r}: use 0.0.0.0 or [::] instead of *")
    host, sep, port_text = text.rpartition(":")
    if not sep:
        if re.fullmatch(r"[0-9.]+", text) and "." in text:
            parse_ipv4(text)
            raise Bad("bind.missing-port", f"{text!r} has no port")
        if re.search(r"[A-Za-z]", text):
            raise Bad("bind.host-name", f"{text!r} is a host name, not an address")
        raise Bad("bind.missing-port", f"{text!r} is not an address with a port")
    if re.search(r"[A-Za-z]", host):
        raise Bad("bind.host-name", f"{host!r} is a host name, not an address")
    address = parse_ipv4(host)
    port = parse_port(port_text)
    return f"{address}:{port}", port


def parse_ip_mask(text: str) -> tuple[str, bool]:
    """SPEC §2.3. Returns the canonical form and whether host bits are set."""
    text = text.strip()
    address_text, sep, prefix_text = text.partition("/")
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    try:
        address = parse_ipv4(address_text) if "." in address_text and ":" not in address_text \
            else parse_ipv6(address_text)
    except Bad:
        raise Bad("ip-mask.invalid", f"{text!r} is not an address or network") from None
    full = address.max_prefixlen
    if sep:
        if not re.fullmatch(r"[0-9]{1,3}", prefix_text):
            raise Bad("ip-mask.invalid", f"{text!r}: the prefix must be a number")
        prefix = int(prefix_text)
    else:
        prefix = full
    if address.version == 4 and int(address) == 0:
        raise Bad("ip-mask.unspecified-v4", f"{text!r}: 0.0.0.0 would trust every IPv4 peer")
    if prefix < 8:
        raise Bad("ip-mask.prefix-too-short", f"{text!r}: a prefix shorter than /8 trusts too much")
    if prefix > full:
        raise Bad("ip-mask.prefix-too-long", f"{text!r}: the prefix is longer than /{full}")
    shown = format_ipv6(address) if address.version == 6 else str(address)
    host_bits = int(address) & ((1 << (full - prefix)) - 1) != 0
    return (shown if prefix == full else f"{shown}/{prefix}"), host_bits


DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_text(text: str) -> int:
    """SPEC §2.2: <digits><unit>, case-insensitive."""
    m = re.fullmatch(r"([0-9]+)([A-Za-z]+)", text)
    if m:
        unit = m.group(2).lower()
        if unit not in DURATION_UNITS:
            raise Bad("duration.unknown-unit", f"{text!r}: the unit must be ms, s, m, h or d")
        return int(m.group(1)) * DURATION_UNITS[unit]
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[0-9]+[.,][0-9]+[A-Za-z]*", text):
        raise Bad("duration.fraction", f"{text!r}: write a whole number in a smaller unit")
    if re.fullmatch(r"([0-9]+[A-Za-z]+){2,}", text):
        raise Bad("duration.compound", f"{text!r}: write one number and one unit")
    raise Bad("duration.invalid", f"{text!r} is not a duration")


# ---------------------------------------------------------------------------------------------
# one resolved value with where it came from


@dataclass
class Given:
    value: object            # canonical value, or UNSET
    path: str                # where it was written (the key or pointer, no index)
    items: list | None = None  # for lists: (canonical, element path) pairs


def check_int(value: int, row: FieldRow) -> int:
    if not (row.low <= value <= row.high):
        extra = " (Stalwart would read 0 as unset: write false for that)" if value == 0 and row.nullable else ""
        raise Bad("value.out-of-range", f"{value} is outside {row.low}..{row.high}{extra}")
    return value


def check_duration(ms: int, row: FieldRow) -> int:
    if row.kind == "linger" and ms % 1000:
        raise Bad("linger.not-whole-seconds", f"{ms} ms is not a whole number of seconds")
    if ms < row.low:
        raise Bad("value.out-of-range", f"the duration must be at least {row.low} ms")
    return ms


def parse_list_item(kind: str, raw, surface: str, report: Report, path: str) -> str:
    if not isinstance(raw, str):
        raise Bad("value.wrong-type", f"expected a string, got {json.dumps(raw)}")
    if kind == "versions":
        table = TOML_VERSIONS if surface == "toml" else {v: v for v in JSON_VERSIONS}
        if raw not in table:
            raise Bad("tls.unknown-version", f"unknown TLS version {raw!r}")
        return table[raw]
    if kind == "ciphers":
        table = {k: v[0] for k, v in CIPHERS.items()} if surface == "toml" else {v: v for v in JSON_CIPHERS}
        if raw not in table:
            raise Bad("tls.unknown-cipher", f"unknown cipher suite {raw!r}")
        return table[raw]
    if kind == "masks":
        canonical, host_bits = parse_ip_mask(raw)
        if host_bits:
            report.warning("ip-mask.host-bits", path, f"{raw.strip()!r} has host bits set")
        return canonical
    canonical, _ = parse_socket_addr(raw)
    return canonical


# ---------------------------------------------------------------------------------------------
# TOML (SPEC §2.6, §3, §4)

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(part: str) -> str:
    return part if BARE_KEY.fullmatch(part) else json.dumps(part)


def substitute_env(text: str) -> str:
    def replace(m):
        if m.group(1) not in os.environ:
            raise Bad("env.unset", f"environment variable {m.group(1)} is not set")
        return os.environ[m.group(1)]
    return re.sub(r"%\{env:([^}]*)\}%", replace, text)


def toml_scalar(raw):
    return substitute_env(raw) if isinstance(raw, str) else raw


def read_toml_value(row: FieldRow, raw, path: str, report: Report) -> Given:
    """Reads one TOML value (listener or server-wide); raises Bad for the first problem."""
    if row.kind in LIST_KINDS:
        elements = [(raw, path)] if not isinstance(raw, list) else [(r, f"{path}[{i}]") for i, r in enumerate(raw)]
        items, failed = [], False
        for element, element_path in elements:
            try:
                items.append((parse_list_item(row.kind, toml_scalar(element), "toml", report, element_path),
                              element_path))
            except Bad as e:
                report.error(e.code, element_path, str(e))
                failed = True
        if failed:
            raise Bad("", "")
        return Given(sorted({c for c, _ in items}), path, items)
    raw = toml_scalar(raw)
    if row.kind == "bool":
        if isinstance(raw, bool):
            return Given(raw, path)
        if raw in ("true", "false"):
            return Given(raw == "true", path)
        raise Bad("value.wrong-type", f"expected true or false, got {json.dumps(raw)}")
    if raw is False and row.nullable:
        return Given(UNSET, path)
    if row.kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return Given(check_int(raw, row), path)
        if isinstance(raw, str) and re.fullmatch(r"[0-9]+", raw):
            return Given(check_int(int(raw), row), path)
        raise Bad("value.wrong-type", f"expected an integer, got {json.dumps(raw)}")
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 0:
            raise Bad("value.out-of-range", f"a duration cannot be negative: {raw}")
        return Given(check_duration(raw, row), path)
    if isinstance(raw, str):
        return Given(check_duration(parse_duration_text(raw), row), path)
    raise Bad("value.wrong-type", f"expected a duration, got {json.dumps(raw)}")


def lookup(table: dict, dotted: str):
    node = table
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def warn_unknown_keys(table: dict, known: set[str], prefix: str, path: str, report: Report):
    """Unknown keys under a listener or a server section, with the full key; nested tables recurse."""
    for key, value in table.items():
        relative = f"{prefix}{key}"
        full = f"{path}.{toml_key(key)}"
        if relative in known:
            continue
        if isinstance(value, dict) and any(k.startswith(relative + ".") for k in known):
            warn_unknown_keys(value, known, relative + ".", full, report)
            continue
        report.warning("key.unknown", full, f"unknown key {full}")


def resolve_toml(text: str, report: Report) -> list[dict]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        report.error("toml.syntax", "", str(e))
        return []
    server = doc.get("server") if isinstance(doc.get("server"), dict) else {}
    for section in TOML_SERVER_SECTIONS:
        if isinstance(server.get(section), dict):
            warn_unknown_keys(server[section], TOML_SERVER_KEYS, f"{section}.", f"server.{section}", report)

    server_values: dict[str, Given | None] = {}
    for row in ROWS:
        raw = lookup(server, row.toml_server)
        path = f"server.{row.toml_server}"
        if raw is None or row.name in IGNORE_SERVER_WIDE or (isinstance(raw, list) and not raw):
            server_values[row.name] = None
            continue
        try:
            server_values[row.name] = read_toml_value(row, raw, path, report)
        except Bad as e:
            if e.code:
                report.error(e.code, path, str(e))
            server_values[row.name] = Given(Bad, path)  # poisons every listener that inherits it

    listeners_table = server.get("listener") if isinstance(server.get("listener"), dict) else {}
    resolved, binds = [], []
    for listener_id, table in listeners_table.items():
        base = f"server.listener.{toml_key(listener_id)}"
        if not isinstance(table, dict):
            report.error("listener.not-a-table", base, f"{base} must be a table")
            continue
        warn_unknown_keys(table, TOML_LISTENER_KEYS, "", base, report)
        clean = True
        out = {"name": listener_id}

        raw_protocol = table.get("protocol")
        if raw_protocol is None:
            report.error("listener.missing-protocol", f"{base}.protocol", "a listener needs a protocol")
            clean = False
        else:
            try:
                protocol = toml_scalar(raw_protocol)
                if not isinstance(protocol, str):
                    raise Bad("value.wrong-type", f"expected a protocol name, got {json.dumps(protocol)}")
                if protocol.lower() not in TOML_PROTOCOLS:
                    raise Bad("protocol.unknown", f"unknown protocol {protocol!r}")
                out["protocol"] = TOML_PROTOCOLS[protocol.lower()]
            except Bad as e:
                report.error(e.code, f"{base}.protocol", str(e))
                clean = False

        raw_bind = table.get("bind")
        bind_items = []
        if raw_bind is None or raw_bind == []:
            report.error("listener.missing-bind", f"{base}.bind", "a listener needs at least one bind address")
            clean = False
        else:
            elements = [(raw_bind, f"{base}.bind")] if not isinstance(raw_bind, list) else \
                [(r, f"{base}.bind[{i}]") for i, r in enumerate(raw_bind)]
            for element, element_path in elements:
                try:
                    element = toml_scalar(element)
                    if not isinstance(element, str):
                        raise Bad("value.wrong-type", f"expected an address string, got {json.dumps(element)}")
                    bind_items.append((parse_socket_addr(element), element_path))
                except Bad as e:
                    report.error(e.code, element_path, str(e))
                    clean = False
            binds.extend((canonical, element_path) for (canonical, _), element_path in bind_items)
        out["bind"] = sorted({canonical for (canonical, _), _ in bind_items})

        sources = {}
        for row in ROWS:
            raw = lookup(table, row.toml_key)
            path = f"{base}.{row.toml_key}"
            given = None
            if raw is not None and not (row.kind in LIST_KINDS and raw == []):
                try:
                    given = read_toml_value(row, raw, path, report)
                except Bad as e:
                    if e.code:
                        report.error(e.code, path, str(e))
                    clean = False
                    continue
            server_given = server_values[row.name]
            if raw == [] and server_given is not None and server_given.value:
                report.warning("list.empty-inherits", path,
                               f"an empty list inherits server.{row.toml_server}")
            if given is None:
                given = server_given
            if given is not None and given.value is Bad:
                clean = False
                continue
            out[row.name] = row.default if given is None else (None if given.value is UNSET else given.value)
            sources[row.name] = given.path if given else "default"
        if clean:
            clean = cross_checks(out, sources, report)
        if clean:
            port_convention_warnings(out, bind_items, report)
            resolved.append(out)
    duplicate_binds(binds, report)
    return resolved


# ---------------------------------------------------------------------------------------------
# checks across fields and listeners


def cross_checks(out: dict, sources: dict, report: Report) -> bool:
    ok = True
    disabled = set(out["tlsDisableProtocols"])
    if disabled >= JSON_VERSIONS:
        report.error("tls.all-versions-disabled", sources["tlsDisableProtocols"], "every TLS version is disabled")
        ok = False
    for version in sorted(JSON_VERSIONS - disabled):
        suites = {s for s, v in JSON_CIPHERS.items() if v == version}
        if suites <= set(out["tlsDisableCipherSuites"]):
            report.error("tls.all-ciphers-disabled", sources["tlsDisableCipherSuites"],
                         f"every cipher suite of {version} is disabled")
            ok = False
    return ok


def port_convention_warnings(out: dict, bind_items: list, report: Report):
    implicit = out["useTls"] and out["tlsImplicit"]
    for (canonical, port), path in bind_items:
        if implicit and port in STARTTLS_PORTS:
            report.warning("tls.port-convention", path, f"implicit TLS on {canonical}, a STARTTLS port")
        elif not implicit and port in IMPLICIT_TLS_PORTS:
            report.warning("tls.port-convention", path, f"no implicit TLS on {canonical}, an implicit-TLS port")


def duplicate_binds(binds: list, report: Report):
    seen = set()
    for canonical, path in binds:
        if canonical in seen:
            report.error("bind.duplicate", path, f"{canonical} is bound twice")
        seen.add(canonical)


# ---------------------------------------------------------------------------------------------
# JSON (SPEC §7)


def pointer(*parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def json_set(raw, path: str) -> list[tuple[object, str]]:
    if isinstance(raw, list):
        return [(r, f"{path}/{i}") for i, r in enumerate(raw)]
    if isinstance(raw, dict):
        for key, flag in raw.items():
            if flag is not True:
                raise Bad("value.wrong-type", f"a set member's value must be true ({pointer(key)})")
        return [(key, path + pointer(key)) for key in raw]
    raise Bad("value.wrong-type", "expected an array or an object of members")


def read_json_value(row: FieldRow, raw, path: str, report: Report) -> Given:
    if row.kind in LIST_KINDS:
        items, failed = [], False
        for element, element_path in json_set(raw, path):
            try:
                items.append((parse_list_item(row.kind, element, "json", report, element_path), element_path))
            except Bad as e:
                report.error(e.code, element_path, str(e))
                failed = True
        if failed:
            raise Bad("", "")
        return Given(sorted({c for c, _ in items}), path, items)
    if row.kind == "bool":
        if isinstance(raw, bool):
            return Given(raw, path)
        raise Bad("value.wrong-type", f"expected true or false, got {json.dumps(raw)}")
    if row.kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return Given(check_int(raw, row), path)
        raise Bad("value.wrong-type", f"expected an integer, got {json.dumps(raw)}")
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 0:
            raise Bad("value.out-of-range", f"a duration cannot be negative: {raw}")
        return Given(check_duration(raw, row), path)
    if isinstance(raw, str):
        return Given(check_duration(parse_duration_text(raw), row), path)
    raise Bad("value.wrong-type", f"expected a duration, got {json.dumps(raw)}")


def json_objects(doc, report: Report):
    """The listener objects with their pointers, and the system-level object (if any)."""
    if isinstance(doc, list):
        return [(pointer(i), o) for i, o in enumerate(doc)], {}, ""
    if isinstance(doc, dict) and "methodResponses" in doc:
        found = []
        responses = doc["methodResponses"] if isinstance(doc["methodResponses"], list) else []
        for i, response in enumerate(responses):
            if isinstance(response, list) and len(response) >= 2 and response[0] == "x:NetworkListener/get" \
                    and isinstance(response[1], dict) and isinstance(response[1].get("list"), list):
                found += [(pointer("methodResponses", i, 1, "list", j), o) for j, o in enumerate(response[1]["list"])]
        return found, {}, "id"
    if isinstance(doc, dict) and "listeners" in doc:
        for key in doc:
            if key not in ("listeners", "maxConnections", "proxyTrustedNetworks"):
                report.error("json.unknown-property", pointer(key), f"unknown property {key!r}")
        listeners = doc["listeners"] if isinstance(doc["listeners"], list) else []
        if not isinstance(doc["listeners"], list):
            report.error("json.shape", pointer("listeners"), "listeners must be an array")
        return [(pointer("listeners", i), o) for i, o in enumerate(listeners)], doc, ""
    if isinstance(doc, dict):
        return [("", doc)], {}, ""
    report.error("json.shape", "", "expected a NetworkListener, an array, a wrapper or a JMAP response")
    return [], {}, ""


def resolve_json(text: str, report: Report) -> list[dict]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        report.error("json.syntax", "", str(e))
        return []
    objects, system, ignored_property = json_objects(doc, report)

    system_values: dict[str, Given | None] = {}
    for row in ROWS:
        raw = system.get(row.json_system) if row.json_system else None
        system_values[row.name] = None
        if raw is None or row.name in IGNORE_SERVER_WIDE or raw == []:
            continue
        try:
            system_values[row.name] = read_json_value(row, raw, pointer(row.json_system), report)
        except Bad as e:
            if e.code:
                report.error(e.code, pointer(row.json_system), str(e))
            system_values[row.name] = Given(Bad, pointer(row.json_system))

    resolved, binds, names = [], [], set()
    for base, obj in objects:
        if not isinstance(obj, dict):
            report.error("json.shape", base, "a NetworkListener must be an object")
            continue
        clean = True
        for key in obj:
            if key not in JSON_PROPERTIES and key != ignored_property:
                report.error("json.unknown-property", base + pointer(key), f"unknown property {key!r}")
                clean = False
        name = obj.get("name")
        if name is None:
            report.error("listener.missing-name", base + "/name", "a listener needs a name")
            clean = False
        elif not isinstance(name, str):
            report.error("value.wrong-type", base + "/name", "the name must be a string")
            clean = False
        elif name == "":
            report.error("listener.empty-name", base + "/name", "the name cannot be empty")
            clean = False
        elif name in names:
            report.error("json.duplicate-name", base + "/name", f"a second listener is named {name!r}")
            clean = False
        else:
            names.add(name)
        out = {"name": name}

        protocol = obj.get("protocol")
        if protocol is None:
            out["protocol"] = "smtp"
        elif isinstance(protocol, str) and protocol in JSON_PROTOCOLS:
            out["protocol"] = protocol
        else:
            report.error("protocol.unknown" if isinstance(protocol, str) else "value.wrong-type",
                         base + "/protocol", f"unknown protocol {json.dumps(protocol)}")
            clean = False

        bind_items = []
        raw_bind = obj.get("bind")
        try:
            elements = [] if raw_bind is None else json_set(raw_bind, base + "/bind")
        except Bad as e:
            report.error(e.code, base + "/bind", str(e))
            elements, clean = [], False
            raw_bind = "bad"
        if not elements and raw_bind != "bad":
            report.error("listener.missing-bind", base + "/bind", "a listener needs at least one bind address")
            clean = False
        for element, element_path in elements:
            try:
                if not isinstance(element, str):
                    raise Bad("value.wrong-type", f"expected an address string, got {json.dumps(element)}")
                bind_items.append((parse_socket_addr(element), element_path))
            except Bad as e:
                report.error(e.code, element_path, str(e))
                clean = False
        binds.extend((canonical, path) for (canonical, _), path in bind_items)
        out["bind"] = sorted({canonical for (canonical, _), _ in bind_items})

        sources = {}
        for row in ROWS:
            raw = obj.get(row.json_input)
            path = base + pointer(row.json_input)
            given = None
            if raw is not None and not (row.kind in LIST_KINDS and raw in ([], {})):
                try:
                    given = read_json_value(row, raw, path, report)
                except Bad as e:
                    if e.code:
                        report.error(e.code, path, str(e))
                    clean = False
                    continue
            system_given = system_values[row.name]
            if raw in ([], {}) and system_given is not None and system_given.value:
                report.warning("list.empty-inherits", path, f"an empty list inherits {system_given.path}")
            if given is None:
                given = system_given
            if given is not None and given.value is Bad:
                clean = False
                continue
            out[row.name] = row.default if given is None else given.value
            sources[row.name] = given.path if given else "default"
        if clean:
            clean = cross_checks(out, sources, report)
        if clean:
            port_convention_warnings(out, bind_items, report)
            resolved.append(out)
    duplicate_binds(binds, report)
    return resolved


# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        text = open(argv[1], encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2
    report = Report()
    listeners = (resolve_json if argv[1].endswith(".json") else resolve_toml)(text, report)
    document = {
        "listeners": [{k: l[k] for k in OUTPUT_ORDER} for l in sorted(listeners, key=lambda l: l["name"])],
        "diagnostics": report.diagnostics,
    }
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 1 if report.has_errors() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

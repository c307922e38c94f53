"""One polite HTTP client for the site inspection: http.client, one request at a time, only
http/https, only the hosts in scope, bounded (bytes, time, redirects), and an address check made
after name resolution (a host that resolves outside what is allowed is never connected to).

Nothing here follows a redirect by itself: `Fetcher.get` walks the chain, checking every hop
against the scope before any connection is made to it."""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

USER_AGENT = "BaomiSiteInspector/1.0"
SCHEMES = ("http", "https")
_SAFE = "/%:@!$&'()*+,;=-._~"      # what stays as written in a path (non-ASCII and spaces are percent-encoded)


class Refused(Exception):
    """A URL that is not fetched; `code` is a stable reason (out_of_scope, scheme, address, …)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code, self.detail = code, detail


def normalise(url: str, base: str | None = None) -> str | None:
    """Absolute URL without the fragment, scheme and host lower-case, default port dropped; None
    for what is not http/https or cannot be parsed."""
    try:
        u = urlsplit(urljoin(base, url.strip()) if base else url.strip())
        if u.scheme.lower() not in SCHEMES or not u.hostname:
            return None
        host = u.hostname.lower()
        port = u.port
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[u.scheme.lower()]
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = quote(u.path or "/", safe=_SAFE)
    query = quote(u.query, safe=_SAFE + "?")
    return urlunsplit((u.scheme.lower(), netloc, path, query, ""))


@dataclass
class Scope:
    """Which hosts may be fetched. `hosts`: the start URL's host and every --allow-host;
    same_host=False also takes their sub-domains (www. dropped: www.x.gov.cn covers files.x.gov.cn).
    loopback_only: connect only to loopback addresses (tests, demos)."""
    hosts: set[str]
    same_host: bool = False
    loopback_only: bool = False

    def host_ok(self, host: str) -> bool:
        host = host.lower().strip("[]")
        for h in self.hosts:
            if host == h:
                return True
            if not self.same_host:
                root = h[4:] if h.startswith("www.") else h
                if host == root or host.endswith("." + root):
                    return True
        return False

    def check_url(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, path+query) or Refused."""
        u = urlsplit(url)
        scheme = u.scheme.lower()
        if scheme not in SCHEMES:
            raise Refused("scheme", scheme)
        host = (u.hostname or "").lower()
        if not host:
            raise Refused("bad_url")
        if not self.host_ok(host):
            raise Refused("out_of_scope", host)
        port = u.port or (443 if scheme == "https" else 80)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        return scheme, host, port, path

    def address(self, host: str, port: int) -> str:
        """The address to connect to (resolved once, checked), or Refused."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise Refused("dns", type(exc).__name__)
        for info in infos:
            addr = info[4][0]
            ip = ipaddress.ip_address(addr.split("%")[0])
            if self.loopback_only and not ip.is_loopback:
                continue
            if ip.is_multicast or ip.is_unspecified:
                continue
            return addr
        raise Refused("address", host)


@dataclass
class Response:
    url: str                       # the final URL (after redirects)
    status: int
    content_type: str
    body: bytes
    truncated: bool = False
    redirects: list[str] = field(default_factory=list)
    ms: float = 0.0
    charset: str | None = None     # from the Content-Type header


@dataclass
class Limits:
    max_bytes: int = 20 * 1024 * 1024     # one resource
    timeout_s: float = 15.0               # connect and each read
    max_redirects: int = 5
    deadline_s: float = 120.0             # one response in all (a server dripping bytes is cut off)


class _Conn(http.client.HTTPConnection):
    """Connects to the checked address, not to whatever the name resolves to at connect time."""

    def __init__(self, host, port, addr, timeout):
        super().__init__(host, port, timeout=timeout)
        self._addr = addr

    def connect(self):
        self.sock = socket.create_connection((self._addr, self.port), self.timeout)


class _TLSConn(http.client.HTTPSConnection):
    def __init__(self, host, port, addr, timeout, context):
        super().__init__(host, port, timeout=timeout, context=context)
        self._addr = addr
        self._ctx = context

    def connect(self):
        raw = socket.create_connection((self._addr, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(raw, server_hostname=self.host)


class Fetcher:
    """GET with the scope checked before each hop. `requests` counts every request made."""

    def __init__(self, scope: Scope, limits: Limits | None = None, user_agent: str = USER_AGENT):
        self.scope, self.limits, self.user_agent = scope, limits or Limits(), user_agent
        self.requests = 0
        self.bytes = 0
        self._tls = ssl.create_default_context()

    def _one(self, url: str) -> tuple[int, dict[str, str], bytes, bool]:
        scheme, host, port, path = self.scope.check_url(url)
        addr = self.scope.address(host, port)
        t = self.limits.timeout_s
        conn = _TLSConn(host, port, addr, t, self._tls) if scheme == "https" else _Conn(host, port, addr, t)
        self.requests += 1
        try:
            conn.request("GET", path, headers={"User-Agent": self.user_agent, "Accept": "*/*",
                                               "Accept-Encoding": "identity", "Connection": "close"})
            r = conn.getresponse()
            headers = {k.lower(): v for k, v in r.getheaders()}
            cap = self.limits.max_bytes
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                return r.status, headers, b"", True
            chunks, n = [], 0
            t_end = time.monotonic() + self.limits.deadline_s
            while n <= cap:
                if time.monotonic() > t_end:
                    raise TimeoutError("response deadline")
                b = r.read(min(65536, cap + 1 - n))
                if not b:
                    break
                chunks.append(b)
                n += len(b)
            body = b"".join(chunks)
            self.bytes += len(body)
            return r.status, headers, body[:cap], len(body) > cap
        finally:
            conn.close()

    def get(self, url: str) -> Response:
        """The resource at `url` following redirects within scope; raises Refused (a hop out of
        scope, too many redirects) or OSError/HTTPException (the network)."""
        t0 = time.perf_counter()
        hops: list[str] = []
        cur = url
        while True:
            status, headers, body, truncated = self._one(cur)
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                nxt = normalise(headers["location"], cur)
                if nxt is None:
                    raise Refused("scheme", "redirect")
                hops.append(cur)
                if len(hops) > self.limits.max_redirects:
                    raise Refused("too_many_redirects", str(len(hops)))
                self.scope.check_url(nxt)
                cur = nxt
                continue
            raw = headers.get("content-type", "")
            ctype = raw.split(";")[0].strip().lower()
            cs = next((p.split("=", 1)[1].strip().strip('"').lower() for p in raw.split(";")[1:]
                       if p.strip().lower().startswith("charset=")), None)
            return Response(cur, status, ctype, body, truncated, hops, (time.perf_counter() - t0) * 1000, cs)

"""tests/integ/sluice_fixture.py: runs a real `sluice serve` for the
integration tests and talks to it over HTTP. Python stdlib only.

    srv = SluiceServer()          # fresh temp data dir, free port
    srv.start()                   # waits for GET /healthz == 200
    c = srv.client()              # keep-alive JSON client (one per thread)
    r = c.post_json('/api/v1/groups', {'name': '/app/x'})
    r.status, r.json
    srv.restart()                 # SIGTERM (exit code 0 asserted), same dir
    srv.kill9(); srv.start()      # crash and come back on the same dir
    srv.cleanup()                 # stop, remove every temp file

Environment:
  SLUICE_BIN             server binary (default ../../build/server/sluice)
  SLUICE_SERVER_WRAPPER  command prefix, e.g. "valgrind --leak-check=full
                         --errors-for-leak-kinds=definite --error-exitcode=99";
                         timeouts grow, exit code 0 is still asserted
  SLUICE_TEST_SCALE      float, default 1.0: scales data sizes (scaled())
  SLUICE_TEST_TIMEOUT    seconds before the watchdog kills everything and
                         exits (default 540, under ctest's 600)
  SLUICE_KEEP            keep the temp dir (for debugging)

Nothing is left behind: servers get PR_SET_PDEATHSIG(SIGKILL), an atexit
hook and the watchdog kill them, and temp dirs are removed.
"""

import atexit
import ctypes
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.normpath(os.path.join(HERE, '..', '..', 'build', 'server', 'sluice'))

SLUICE_BIN = os.environ.get('SLUICE_BIN') or DEFAULT_BIN
WRAPPER = shlex.split(os.environ.get('SLUICE_SERVER_WRAPPER', ''))
SCALE = float(os.environ.get('SLUICE_TEST_SCALE', '1.0') or '1.0')
SLOW = bool(WRAPPER)                 # valgrind & co: everything takes longer
TIME_FACTOR = 20.0 if SLOW else 1.0
KEEP = bool(os.environ.get('SLUICE_KEEP'))

MS_DAY = 86400 * 1000
MS_HOUR = 3600 * 1000


def scaled(n, minimum=1):
    """n scaled by SLUICE_TEST_SCALE, at least minimum."""
    return max(int(minimum), int(round(n * SCALE)))


def now_ms():
    return int(time.time() * 1000)


def q(name):
    """Percent-encodes a group or stream name for a path segment."""
    return urllib.parse.quote(name, safe='')


def group_path(g):
    return '/api/v1/groups/' + q(g)


def streams_path(g):
    return group_path(g) + '/streams'


def stream_path(g, s):
    return streams_path(g) + '/' + q(s)


def events_path(g, s):
    return stream_path(g, s) + '/events'


def with_query(path, **params):
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        return path
    return path + '?' + urllib.parse.urlencode(params)


# ---------------------------------------------------------------- processes

_live_servers = set()
_live_lock = threading.Lock()


def _kill_all_servers():
    with _live_lock:
        servers = list(_live_servers)
    for s in servers:
        try:
            s.cleanup(check=False)
        except Exception:
            pass


atexit.register(_kill_all_servers)

_PR_SET_PDEATHSIG = 1


def _child_preexec():
    # The server dies with the test process, even on SIGKILL of the latter.
    # Servers are always started from the main thread (PDEATHSIG fires when
    # the creating *thread* exits).
    try:
        libc = ctypes.CDLL('libc.so.6', use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class ServerError(AssertionError):
    pass


class SluiceServer:
    """One sluice process at a time on one data dir (kept across restarts)."""

    def __init__(self, extra_args=None, threads=None):
        self.extra_args = list(extra_args or [])
        self.threads = threads
        self.tmp = tempfile.mkdtemp(prefix='sluice-integ-')
        self.data_dir = os.path.join(self.tmp, 'data')
        os.mkdir(self.data_dir)
        self.proc = None
        self.port = None
        self.starts = 0
        self.stderr_path = None
        self._stderr_file = None
        self._clients = []
        with _live_lock:
            _live_servers.add(self)

    # -- life cycle
    @property
    def base(self):
        return 'http://127.0.0.1:%d' % self.port

    def command(self, port):
        cmd = list(WRAPPER) + [SLUICE_BIN, 'serve', '--listen', '127.0.0.1:%d' % port,
                               '--data', self.data_dir]
        if self.threads:
            cmd += ['--threads', str(self.threads)]
        return cmd + self.extra_args

    def start(self, timeout=None):
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError('server already running')
        if not os.path.exists(SLUICE_BIN):
            raise unittest.SkipTest('no server binary at %s (set SLUICE_BIN)' % SLUICE_BIN)
        timeout = timeout or 15 * TIME_FACTOR
        last_err = None
        for attempt in range(5):
            # Restarts keep the port (clients reconnect to it); if it is
            # taken, or was stolen between free_port() and bind, take another.
            port = self.port if (self.port and attempt == 0) else free_port()
            self.starts += 1
            self.stderr_path = os.path.join(self.tmp, 'stderr.%d.log' % self.starts)
            self._stderr_file = open(self.stderr_path, 'wb')
            self.proc = subprocess.Popen(self.command(port), stdin=subprocess.DEVNULL,
                                         stdout=self._stderr_file, stderr=self._stderr_file,
                                         start_new_session=True, preexec_fn=_child_preexec)
            self.port = port
            try:
                self._wait_ready(timeout)
                return self
            except ServerError as e:
                last_err = e
                if self.proc.poll() is None:
                    self._kill_proc()
                    raise
                log = self.stderr_text()
                if 'in use' in log.lower() or 'eaddrinuse' in log.lower():
                    continue            # port stolen between free_port and bind: retry
                raise
        raise last_err

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerError('server exited with %s during start-up; stderr:\n%s'
                                  % (rc, self.stderr_tail()))
            try:
                conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=2 * TIME_FACTOR)
                conn.request('GET', '/healthz')
                r = conn.getresponse()
                r.read()
                conn.close()
                if r.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        raise ServerError('server not ready after %.0fs; stderr:\n%s' % (timeout, self.stderr_tail()))

    def _close_clients(self):
        for c in self._clients:
            c.close()

    def stop(self, timeout=None, check=True, sig=signal.SIGTERM):
        """Sends sig (SIGTERM); waits; asserts exit code 0 when check.
        Returns the exit code."""
        self._close_clients()
        if self.proc is None:
            return None
        timeout = timeout or 30 * TIME_FACTOR
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill_proc()
            self._close_stderr()
            self.proc = None
            if check:
                raise ServerError('server did not stop within %.0fs of signal %d; stderr:\n%s'
                                  % (timeout, sig, self.stderr_tail()))
            return None
        self._close_stderr()
        self.proc = None
        if check and rc != 0:
            raise ServerError('server exit code %s after signal %d (expected 0); stderr:\n%s'
                              % (rc, sig, self.stderr_tail(12000)))
        return rc

    def kill9(self):
        # Clients are left alone: other threads may be inside a request.
        if self.proc is not None:
            self._kill_proc()
            self._close_stderr()
            self.proc = None

    def _kill_proc(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            pass

    def _close_stderr(self):
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self, check=False):
        try:
            if self.proc is not None:
                if check:
                    self.stop(check=True)
                else:
                    self._close_clients()
                    self._kill_proc()
                    self._close_stderr()
                    self.proc = None
        finally:
            with _live_lock:
                _live_servers.discard(self)
            if not KEEP:
                shutil.rmtree(self.tmp, ignore_errors=True)

    # -- logs
    def stderr_text(self):
        out = []
        for i in range(1, self.starts + 1):
            p = os.path.join(self.tmp, 'stderr.%d.log' % i)
            try:
                with open(p, 'rb') as f:
                    out.append(f.read().decode('utf-8', 'replace'))
            except OSError:
                pass
        return ''.join(out)

    def current_stderr(self):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except (OSError, TypeError):
            return ''

    def stderr_tail(self, n=4000):
        return self.current_stderr()[-n:]

    # -- clients
    def client(self, timeout=None):
        """A client that follows this server across restarts (port changes)."""
        c = Client('127.0.0.1', lambda: self.port, timeout=timeout)
        self._clients.append(c)
        return c


# ---------------------------------------------------------------- HTTP client

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self._json = None
        self._json_done = False

    @property
    def json(self):
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.body.decode('utf-8')) if self.body else None
            except (ValueError, UnicodeDecodeError):
                self._json = None
        return self._json

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        b = self.body[:600]
        return '<HTTP %s %r%s>' % (self.status, b, '...' if len(self.body) > 600 else '')


class Client:
    """A keep-alive HTTP/1.1 client. Not thread-safe: one per thread.

    retry: on a connection error on a *reused* keep-alive connection
    (server closed it while idle), the request is sent once more on a fresh
    connection. The crash test passes retry=False and sees the raw error."""

    def __init__(self, host, port, timeout=None):
        self.host = host
        self._port = port           # an int, or a callable returning one
        self.timeout = timeout or 60 * TIME_FACTOR
        self.conn = None
        self.requests_on_conn = 0

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None

    def _connect(self):
        self.close()
        port = self._port() if callable(self._port) else self._port
        self.conn = http.client.HTTPConnection(self.host, port, timeout=self.timeout)
        self.requests_on_conn = 0

    def request(self, method, path, body=None, content_type=None, headers=None, retry=True):
        hdrs = dict(headers or {})
        if isinstance(body, str):
            body = body.encode('utf-8')
        if body is not None and content_type is not None:
            hdrs['Content-Type'] = content_type
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            reused = self.requests_on_conn > 0
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                self.requests_on_conn += 1
                resp = Response(r.status, r.getheaders(), data)
                if r.will_close:
                    self.close()
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.BadStatusLine, ConnectionRefusedError):
                self.close()
                if retry and reused and attempt == 0:
                    continue
                raise
            except Exception:
                self.close()
                raise

    def get(self, path, **params):
        return self.request('GET', with_query(path, **params))

    def delete(self, path):
        return self.request('DELETE', path)

    def post_json(self, path, obj, retry=True, **params):
        body = json.dumps(obj, ensure_ascii=False).encode('utf-8')
        return self.request('POST', with_query(path, **params), body, 'application/json',
                            retry=retry)

    def post_raw(self, path, body, content_type, retry=True, **params):
        return self.request('POST', with_query(path, **params), body, content_type, retry=retry)


def raw_http(port, method, path, body=b'', headers=None, timeout=None, chunk=65536,
             chunked=False):
    """Sends one request on a fresh socket, tolerating the server answering
    (and closing) before the whole body is sent. chunked: send the body with
    Transfer-Encoding: chunked (pieces of `chunk` bytes) instead of a
    Content-Length. Returns (status, body) or (None, b'') when nothing
    readable came back."""
    timeout = timeout or 30 * TIME_FACTOR
    hdrs = {'Host': '127.0.0.1:%d' % port, 'Connection': 'close'}
    if chunked:
        hdrs['Transfer-Encoding'] = 'chunked'
    else:
        hdrs['Content-Length'] = str(len(body))
    hdrs.update(headers or {})
    head = '%s %s HTTP/1.1\r\n' % (method, path)
    head += ''.join('%s: %s\r\n' % kv for kv in hdrs.items()) + '\r\n'
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        try:
            s.sendall(head.encode('latin-1'))
            for i in range(0, len(body), chunk):
                piece = body[i:i + chunk]
                if chunked:
                    piece = b'%x\r\n' % len(piece) + piece + b'\r\n'
                s.sendall(piece)
            if chunked:
                s.sendall(b'0\r\n\r\n')
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        data = b''
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
                st, bd = _parse_http(data)
                if st is not None and bd is not None:
                    return st, bd
        except (ConnectionResetError, socket.timeout):
            pass
        st, bd = _parse_http(data)
        return st, (bd or b'')
    finally:
        s.close()


def _parse_http(data):
    i = data.find(b'\r\n\r\n')
    if i < 0:
        return None, None
    lines = data[:i].split(b'\r\n')
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None, None
    clen = None
    chunked = False
    for ln in lines[1:]:
        k, _, v = ln.partition(b':')
        if k.strip().lower() == b'content-length':
            clen = int(v.strip())
        if k.strip().lower() == b'transfer-encoding' and b'chunked' in v.lower():
            chunked = True
    rest = data[i + 4:]
    if clen is not None:
        return status, (rest[:clen] if len(rest) >= clen else None)
    if chunked:
        out = b''
        while True:
            j = rest.find(b'\r\n')
            if j < 0:
                return status, None
            n = int(rest[:j].split(b';')[0], 16)
            if n == 0:
                return status, out
            if len(rest) < j + 2 + n + 2:
                return status, None
            out += rest[j + 2:j + 2 + n]
            rest = rest[j + 2 + n + 2:]
    return status, None


# ---------------------------------------------------------------- API helpers

def read_events(client, g, s, order=None, limit=None, start=None, end=None, token=None,
                max_pages=100000, tc=None):
    """Reads every event of a range page by page. Returns (events, pages).
    Fails on a repeated token or a page longer than limit."""
    events = []
    pages = 0
    seen_tokens = set()
    while True:
        r = client.get(events_path(g, s), order=order, limit=limit, start=start, end=end,
                       nextToken=token)
        if r.status != 200:
            raise AssertionError('GET events %s/%s -> %r' % (g, s, r))
        body = r.json
        page = body['events']
        if limit is not None and len(page) > int(limit):
            raise AssertionError('page of %d events > limit %s' % (len(page), limit))
        events.extend(page)
        pages += 1
        token = body.get('nextToken')
        if token is None:
            return events, pages
        if token in seen_tokens:
            raise AssertionError('the same nextToken came back twice: %r' % token)
        seen_tokens.add(token)
        if pages > max_pages:
            raise AssertionError('more than %d pages' % max_pages)


def wait_for(pred, timeout=5.0, interval=0.05):
    """Polls pred() until it returns a truthy value; returns the last value."""
    deadline = time.time() + timeout * TIME_FACTOR
    v = pred()
    while not v and time.time() < deadline:
        time.sleep(interval)
        v = pred()
    return v


# ---------------------------------------------------------------- test support

class Watchdog:
    """Kills every server, removes temp dirs and exits the process with a
    stack dump when a test file runs longer than its budget."""

    def __init__(self, seconds=None):
        self.seconds = float(os.environ.get('SLUICE_TEST_TIMEOUT', 0) or seconds or 540)
        self._t = threading.Timer(self.seconds, self._fire)
        self._t.daemon = True

    def start(self):
        self._t.start()
        return self

    def _fire(self):
        sys.stderr.write('\n*** WATCHDOG: test run exceeded %.0fs, killing servers ***\n'
                         % self.seconds)
        for tid, frame in sys._current_frames().items():
            sys.stderr.write('--- thread %s\n' % tid)
            traceback.print_stack(frame, file=sys.stderr)
        with _live_lock:
            servers = list(_live_servers)
        for s in servers:
            try:
                sys.stderr.write('--- server stderr tail (%s):\n%s\n' % (s.tmp, s.stderr_tail()))
            except Exception:
                pass
        _kill_all_servers()
        sys.stderr.flush()
        os._exit(124)


class ServerTestCase(unittest.TestCase):
    """Base class: one server per test class (setUpClass), stopped cleanly
    (exit code 0 asserted) in tearDownClass. Tests that must not share a
    server create their own SluiceServer and call cleanup(check=True)."""

    server_args = []
    server_threads = None

    @classmethod
    def setUpClass(cls):
        cls.server = SluiceServer(cls.server_args, threads=cls.server_threads)
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise
        cls.c = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        srv = cls.server
        try:
            if srv.alive():
                srv.stop(check=True)
        finally:
            srv.cleanup()

    def setUp(self):
        if not self.server.alive():
            self.fail('server is not running (crashed earlier?); stderr:\n'
                      + self.server.stderr_tail())

    def tearDown(self):
        # A test that crashed the server gets the blame, with its stderr.
        if self.server.proc is not None and self.server.proc.poll() is not None:
            rc = self.server.proc.returncode
            tail = self.server.stderr_tail()
            raise ServerError('server died during %s (exit %s); stderr:\n%s'
                              % (self.id(), rc, tail))


def main():
    Watchdog().start()
    unittest.main(verbosity=2)

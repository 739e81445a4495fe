#!/usr/bin/python3
"""tests/integ/test_tail.py: live tail, both faces of the one tail hub,
against a real `sluice serve` (see sluice_fixture.py):

- the native server-sent events endpoint GET /api/v1/groups/{g}/tail
  (stream, prefix and filter pattern), which must carry events committed
  after it connected and none from before;
- CloudWatch StartLiveTail on POST / with the AWS event-stream framing,
  decoded here by a small decoder of our own (CRCs checked) and, when
  present, botocore's (Debian's botocore 1.29 predates start_live_tail, so
  the request goes out with http.client; signing is not needed);
- a server stopped (SIGTERM) while tails are open exits promptly and
  cleanly, ending every tail.

Run: /usr/bin/python3 tests/integ/test_tail.py [-k pattern]
"""

import http.client
import itertools
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
import unittest
import zlib

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (TIME_FACTOR, ServerTestCase, SluiceServer, events_path,  # noqa: E402
                            group_path, main, now_ms, streams_path, with_query)

try:
    import boto3
    import botocore.eventstream
except ImportError:                     # pragma: no cover
    boto3 = None

_counter = itertools.count()
_RUN = '%x' % random.randrange(1 << 32)
TIMEOUT = 15 * TIME_FACTOR


def uniq(tag='g'):
    return '/tail/%s/%s#%d' % (_RUN, tag, next(_counter))


class Sse:
    """A server-sent events reader on its own connection."""

    def __init__(self, port, path):
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=TIMEOUT)
        self.conn.request('GET', path)
        self.resp = self.conn.getresponse()
        self.buf = b''

    def block(self):
        """The next blank-line-terminated block as text, None at the end."""
        while b'\n\n' not in self.buf:
            data = self.resp.read1(65536)
            if not data:
                return None
            self.buf += data
        blk, self.buf = self.buf.split(b'\n\n', 1)
        return blk.decode('utf-8')

    def data_until(self, last_message):
        """The data events up to and including the one with last_message."""
        out = []
        while True:
            blk = self.block()
            if blk is None:
                raise AssertionError('stream ended before %r; got %r' % (last_message, out))
            if blk.startswith('data: '):
                ev = json.loads(blk[6:])
                out.append(ev)
                if ev['message'] == last_message:
                    return out

    def close(self):
        self.conn.close()


def decode_message(buf):
    """One event-stream message from the front of buf: (headers, payload,
    rest), or None when buf holds less than a message. CRCs checked."""
    if len(buf) < 12:
        return None
    total, hlen, pcrc = struct.unpack('>III', buf[:12])
    if pcrc != zlib.crc32(buf[:8]):
        raise AssertionError('prelude CRC mismatch')
    if len(buf) < total:
        return None
    msg = buf[:total]
    (mcrc,) = struct.unpack('>I', msg[-4:])
    if mcrc != zlib.crc32(msg[:-4]):
        raise AssertionError('message CRC mismatch')
    headers = {}
    p = 12
    while p < 12 + hlen:
        n = msg[p]
        name = msg[p + 1:p + 1 + n].decode()
        p += 1 + n
        if msg[p] != 7:
            raise AssertionError('header %s has type %d, not string' % (name, msg[p]))
        (vl,) = struct.unpack('>H', msg[p + 1:p + 3])
        headers[name] = msg[p + 3:p + 3 + vl].decode()
        p += 3 + vl
    return headers, msg[12 + hlen:-4], buf[total:]


class LiveTail:
    """A StartLiveTail call read message by message."""

    def __init__(self, port, body):
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=TIMEOUT)
        self.conn.request('POST', '/', body=json.dumps(body).encode(), headers={
            'X-Amz-Target': 'Logs_20140328.StartLiveTail',
            'Content-Type': 'application/x-amz-json-1.1'})
        self.resp = self.conn.getresponse()
        self.buf = b''
        self.raw = b''              # everything read, for botocore's decoder

    def message(self):
        """(headers, payload object) of the next message; None at the end."""
        while True:
            m = decode_message(self.buf)
            if m is not None:
                headers, payload, self.buf = m
                return headers, json.loads(payload)
            data = self.resp.read1(65536)
            if not data:
                if self.buf:
                    raise AssertionError('stream ended inside a message')
                return None
            self.buf += data
            self.raw += data

    def results_until(self, last_message, updates=None):
        out = []
        while True:
            m = self.message()
            if m is None:
                raise AssertionError('stream ended before %r' % last_message)
            headers, obj = m
            if headers.get(':event-type') != 'sessionUpdate':
                raise AssertionError('unexpected message %r %r' % (headers, obj))
            if updates is not None:
                updates.append(obj)
            out.extend(obj['sessionResults'])
            if any(r['message'] == last_message for r in obj['sessionResults']):
                return out

    def close(self):
        self.conn.close()


class TailCase(ServerTestCase):

    def mk(self, streams):
        g = uniq()
        r = self.c.post_json('/api/v1/groups', {'name': g})
        self.assertEqual(r.status, 201, r)
        for s in streams:
            r = self.c.post_json(streams_path(g), {'name': s})
            self.assertIn(r.status, (200, 201), r)
        return g

    def put(self, g, s, *messages):
        t = now_ms()
        r = self.c.post_json(events_path(g, s), [{'timestamp': t, 'message': m} for m in messages])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json['accepted'], len(messages), r)

    def sse(self, g, **params):
        s = Sse(self.server.port, with_query(group_path(g) + '/tail', **params))
        self.addCleanup(s.close)
        self.assertEqual(s.resp.status, 200)
        self.assertTrue(s.resp.getheader('Content-Type').startswith('text/event-stream'))
        first = s.block()
        self.assertTrue(first.startswith(': tailing'), first)   # subscribed from here on
        return s

    def live(self, body):
        t = LiveTail(self.server.port, body)
        self.addCleanup(t.close)
        return t


class TestSse(TailCase):

    def test_new_events_only_with_stream_and_pattern(self):
        g = self.mk(['s1', 's2'])
        self.put(g, 's1', 'ERROR old, before the tail')
        s = self.sse(g, stream='s1', filter='ERROR')
        self.put(g, 's1', 'ERROR one', 'info two', 'ERROR three')
        self.put(g, 's2', 'ERROR other stream')
        self.put(g, 's1', 'ERROR end')
        got = s.data_until('ERROR end')
        self.assertEqual([e['message'] for e in got], ['ERROR one', 'ERROR three', 'ERROR end'])
        for e in got:
            self.assertEqual(e['logGroupName'], g)
            self.assertEqual(e['logStreamName'], 's1')
            self.assertIsInstance(e['timestamp'], int)
            self.assertGreaterEqual(e['ingestionTime'], e['timestamp'] - 60000)

    def test_prefix_and_json_pattern(self):
        g = self.mk(['app-1', 'app-2', 'db-1'])
        s = self.sse(g, prefix='app-', filter='{ $.level = "error" }')
        self.put(g, 'db-1', '{"level":"error","n":0}')
        self.put(g, 'app-1', '{"level":"info","n":1}', '{"level":"error","n":2}')
        self.put(g, 'app-2', '{"level":"error","n":3}')
        got = s.data_until('{"level":"error","n":3}')
        self.assertEqual([(e['logStreamName'], json.loads(e['message'])['n']) for e in got],
                         [('app-1', 2), ('app-2', 3)])

    def test_whole_group_and_two_tailers(self):
        g = self.mk(['a', 'b'])
        s1 = self.sse(g)
        s2 = self.sse(g, filter='"b says"')
        self.put(g, 'a', 'a says hi')
        self.put(g, 'b', 'b says hi')
        self.assertEqual([e['message'] for e in s1.data_until('b says hi')],
                         ['a says hi', 'b says hi'])
        self.assertEqual([e['message'] for e in s2.data_until('b says hi')], ['b says hi'])

    def test_errors(self):
        r = self.c.get(group_path(uniq('missing')) + '/tail')
        self.assertEqual(r.status, 404, r)
        g = self.mk(['s'])
        r = self.c.get(with_query(group_path(g) + '/tail', filter='{ $.a = '))
        self.assertEqual(r.status, 400, r)
        r = self.c.request('POST', group_path(g) + '/tail', b'{}', 'application/json')
        self.assertEqual(r.status, 405, r)


class TestStartLiveTail(TailCase):

    def test_session_start_then_updates(self):
        g = self.mk(['web-1', 'web-2', 'batch'])
        self.put(g, 'web-1', 'ERROR before the session')
        arn = 'arn:aws:logs:us-east-1:000000000000:log-group:%s' % g
        t = self.live({'logGroupIdentifiers': [arn], 'logStreamNamePrefixes': ['web-'],
                       'logEventFilterPattern': 'ERROR'})
        self.assertEqual(t.resp.status, 200)
        self.assertEqual(t.resp.getheader('Content-Type'), 'application/vnd.amazon.eventstream')
        h, obj = t.message()
        self.assertEqual(h[':event-type'], 'initial-response')   # botocore needs it first
        h, start = t.message()
        self.assertEqual(h, {':message-type': 'event', ':event-type': 'sessionStart',
                             ':content-type': 'application/json'})
        self.assertEqual(start['logGroupIdentifiers'], [arn])
        self.assertEqual(start['logStreamNamePrefixes'], ['web-'])
        self.assertEqual(start['logEventFilterPattern'], 'ERROR')
        self.assertEqual(start['requestId'], t.resp.getheader('x-amzn-RequestId'))
        self.assertRegex(start['sessionId'], r'^[0-9a-f-]{36}$')
        before = now_ms()
        self.put(g, 'web-1', 'ERROR a', 'fine')
        self.put(g, 'batch', 'ERROR not a web stream')
        self.put(g, 'web-2', 'ERROR b')
        updates = []
        got = t.results_until('ERROR b', updates)
        self.assertEqual([(r['logStreamName'], r['message']) for r in got],
                         [('web-1', 'ERROR a'), ('web-2', 'ERROR b')])
        for r in got:
            self.assertEqual(r['logGroupIdentifier'], arn)
            self.assertGreaterEqual(r['ingestionTime'], before - 1000)
            self.assertIsInstance(r['timestamp'], int)
        for u in updates:
            self.assertEqual(u['sessionMetadata'], {'sampled': False})
        # With nothing new the updates keep coming, empty, about once a second.
        t0 = time.time()
        for _ in range(2):
            h, u = t.message()
            self.assertEqual(h[':event-type'], 'sessionUpdate')
            self.assertEqual(u['sessionResults'], [])
        self.assertGreater(time.time() - t0, 0.9)
        self.assertLess(time.time() - t0, 4 * TIME_FACTOR)
        if boto3 is not None:
            # botocore's own decoder agrees on every message read so far.
            eb = botocore.eventstream.EventStreamBuffer()
            eb.add_data(t.raw[:len(t.raw) - len(t.buf)])
            kinds = [m.headers[':event-type'] for m in eb]
            self.assertEqual(kinds[:2], ['initial-response', 'sessionStart'])
            self.assertTrue(all(k == 'sessionUpdate' for k in kinds[2:]))

    def test_put_log_events_reaches_the_tail(self):
        g = self.mk(['cw'])
        t = self.live({'logGroupIdentifiers': [g], 'logStreamNames': ['cw']})
        t.message()
        t.message()
        body = {'logGroupName': g, 'logStreamName': 'cw',
                'logEvents': [{'timestamp': now_ms(), 'message': 'via PutLogEvents'}]}
        r = self.c.request('POST', '/', json.dumps(body).encode(), 'application/x-amz-json-1.1',
                           headers={'X-Amz-Target': 'Logs_20140328.PutLogEvents'})
        self.assertEqual(r.status, 200, r)
        got = t.results_until('via PutLogEvents')
        self.assertEqual([(x['logGroupIdentifier'], x['logStreamName']) for x in got], [(g, 'cw')])

    def test_sampled_beyond_500(self):
        g = self.mk(['s'])
        t = self.live({'logGroupIdentifiers': [g]})
        t.message()
        t.message()
        self.put(g, 's', *['m%d' % i for i in range(1200)])
        self.put(g, 's', 'last')
        total, sampled = 0, False
        while True:
            h, u = t.message()
            self.assertLessEqual(len(u['sessionResults']), 500)
            total += len(u['sessionResults'])
            sampled = sampled or u['sessionMetadata']['sampled']
            if total > 0 and len(u['sessionResults']) == 0:
                break
        self.assertTrue(sampled)
        self.assertLess(total, 1201)

    def test_errors(self):
        def call(body):
            c = http.client.HTTPConnection('127.0.0.1', self.server.port, timeout=TIMEOUT)
            c.request('POST', '/', body=json.dumps(body).encode(), headers={
                'X-Amz-Target': 'Logs_20140328.StartLiveTail',
                'Content-Type': 'application/x-amz-json-1.1'})
            r = c.getresponse()
            out = (r.status, json.loads(r.read()))
            c.close()
            return out
        st, body = call({'logGroupIdentifiers': [uniq('missing')]})
        self.assertEqual((st, body['__type']), (400, 'ResourceNotFoundException'), body)
        g = self.mk(['s'])
        st, body = call({'logGroupIdentifiers': [g], 'logStreamNames': ['s'],
                         'logStreamNamePrefixes': ['s']})
        self.assertEqual((st, body['__type']), (400, 'InvalidParameterException'), body)
        st, body = call({'logGroupIdentifiers': [g], 'logEventFilterPattern': '{ $.a = '})
        self.assertEqual((st, body['__type']), (400, 'InvalidParameterException'), body)
        st, body = call({})
        self.assertEqual(st, 400, body)

    def test_boto3_start_live_tail(self):
        if boto3 is None:
            self.skipTest('boto3 missing')
        logs = boto3.session.Session(aws_access_key_id='AKIDTAIL', aws_secret_access_key='x',
                                     region_name='us-east-1').client(
            'logs', endpoint_url=self.server.base,
            config=botocore.config.Config(inject_host_prefix=False))
        if not hasattr(logs, 'start_live_tail'):
            self.skipTest('botocore %s predates StartLiveTail' % botocore.__version__)
        g = self.mk(['s'])
        resp = logs.start_live_tail(logGroupIdentifiers=[g])
        stream = resp['responseStream']
        first = next(iter(stream))
        self.assertIn('sessionStart', first)
        self.put(g, 's', 'hello boto3')
        for ev in stream:
            res = ev.get('sessionUpdate', {}).get('sessionResults', [])
            if any(r['message'] == 'hello boto3' for r in res):
                break
        stream.close()


class TestJsSdk(TailCase):

    def test_js_sdk_start_live_tail(self):
        here = os.path.dirname(os.path.abspath(__file__))
        modules = os.path.join(here, '..', 'js', 'insights', 'node_modules')
        if not shutil.which('node') or not os.path.isdir(
                os.path.join(modules, '@aws-sdk', 'client-cloudwatch-logs')):
            self.skipTest('node or the pinned JS SDK (tests/js/insights: npm ci) is missing')
        g = self.mk(['s'])
        env = dict(os.environ, NODE_PATH=os.path.abspath(modules), NODE_NO_WARNINGS='1')
        p = subprocess.run(['node', os.path.join(here, '..', 'js', 'tail', 'live_tail.cjs'),
                            str(self.server.port), g, 's'],
                           env=env, capture_output=True, text=True, timeout=60 * TIME_FACTOR)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        events = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(events[0]['sessionStart']['logGroupIdentifiers'], [g])
        results = [r for e in events if 'sessionUpdate' in e
                   for r in e['sessionUpdate']['sessionResults']]
        self.assertEqual([r['message'] for r in results], ['hello from js'])
        self.assertEqual(results[0]['logStreamName'], 's')


class TestShutdown(unittest.TestCase):

    def test_sigterm_ends_tails(self):
        srv = SluiceServer()
        srv.start()
        try:
            c = srv.client()
            g = uniq()
            self.assertEqual(c.post_json('/api/v1/groups', {'name': g}).status, 201)
            sse = Sse(srv.port, group_path(g) + '/tail')
            self.assertTrue(sse.block().startswith(': tailing'))
            lt = LiveTail(srv.port, {'logGroupIdentifiers': [g]})
            self.assertEqual(lt.message()[0][':event-type'], 'initial-response')
            self.assertEqual(lt.message()[0][':event-type'], 'sessionStart')
            t0 = time.time()
            self.assertEqual(srv.stop(timeout=20 * TIME_FACTOR), 0)
            self.assertLess(time.time() - t0, 5 * TIME_FACTOR)
            while sse.block() is not None:       # ends, not cut off
                pass
            last = None
            while True:
                m = lt.message()
                if m is None:
                    break
                last = m
            self.assertEqual(last[0].get(':message-type'), 'exception')
            self.assertEqual(last[0].get(':exception-type'), 'SessionStreamingException')
            sse.close()
            lt.close()
        finally:
            srv.cleanup()


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""tests/integ/test_ingest_http.py: the HTTP ingest endpoints of CloudWatch
Logs against a real `sluice serve`: POST /ingest/bulk (NDJSON), /ingest/json,
/services/collector/event (HEC style) and /v1/logs (OTLP/HTTP, JSON and
protobuf), with the target in x-aws-log-group / x-aws-log-stream headers or
logGroup / logStream query parameters, bearer tokens, gzip bodies and the
error answers. Every accepted event is read back through the native API and
must be there exactly once with the right timestamp.
Run: /usr/bin/python3 tests/integ/test_ingest_http.py [-k pattern]
"""

import gzip
import itertools
import json
import os
import random
import struct
import sys
import unittest
import zlib

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (MS_DAY, MS_HOUR, ServerTestCase, main, now_ms, read_events,  # noqa: E402
                            streams_path, with_query)

_counter = itertools.count()
_RUN = '%x' % random.randrange(1 << 32)


# ------------------------------------------------ a minimal protobuf writer

def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ld(field, payload):
    """A length-delimited field (messages, strings, bytes)."""
    if isinstance(payload, str):
        payload = payload.encode('utf-8')
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _vi(field, n):
    return _varint(field << 3) + _varint(n)


def _fixed64(field, n):
    return _varint(field << 3 | 1) + struct.pack('<Q', n)


def pb_any_string(s):
    return _ld(1, s)


def pb_kv(key, value_any):
    return _ld(1, key) + _ld(2, value_any)


def pb_record(ts_ns, body, severity_text=None, attrs=(), trace_id=None):
    out = _fixed64(1, ts_ns) + _ld(5, pb_any_string(body))
    if severity_text:
        out += _vi(2, 9) + _ld(3, severity_text)
    for k, v in attrs:
        out += _ld(6, pb_kv(k, pb_any_string(v)))
    if trace_id:
        out += _ld(9, trace_id)
    return out


def pb_request(records, service='svc'):
    resource = _ld(1, pb_kv('service.name', pb_any_string(service)))
    scope = _ld(1, 'test-scope') + _ld(2, '1.0')
    scope_logs = _ld(1, scope) + b''.join(_ld(2, r) for r in records)
    resource_logs = _ld(1, resource) + _ld(2, scope_logs)
    return _ld(1, resource_logs)


def pb_fields(data):
    """Decodes one message level into {field: [values]} (bytes or int)."""
    out = {}
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(data, i)
        elif wt == 2:
            n, i = _read_varint(data, i)
            v, i = data[i:i + n], i + n
        elif wt == 1:
            v, i = struct.unpack('<Q', data[i:i + 8])[0], i + 8
        elif wt == 5:
            v, i = struct.unpack('<I', data[i:i + 4])[0], i + 4
        else:
            raise AssertionError('wire type %d' % wt)
        out.setdefault(field, []).append(v)
    return out


def _read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


# ------------------------------------------------------------------- tests

class TestIngestHttp(ServerTestCase):

    def target(self, create=True):
        n = next(_counter)
        g = '/ih/%s/g%d' % (_RUN, n)
        s = 'stream-%d' % n
        if create:
            r = self.c.post_json('/api/v1/groups', {'name': g})
            self.assertEqual(r.status, 201, r)
            r = self.c.post_json(streams_path(g), {'name': s})
            self.assertEqual(r.status, 201, r)
        return g, s

    def post(self, path, body, ct, g=None, s=None, query=False, headers=None, gz=False):
        hdrs = dict(headers or {})
        params = {}
        if query:
            params = {'logGroup': g, 'logStream': s}
        else:
            if g is not None:
                hdrs['x-aws-log-group'] = g
            if s is not None:
                hdrs['x-aws-log-stream'] = s
        if isinstance(body, str):
            body = body.encode('utf-8')
        if gz:
            body = gzip.compress(body)
            hdrs['Content-Encoding'] = 'gzip'
        if ct is not None:
            hdrs['Content-Type'] = ct
        return self.c.request('POST', with_query(path, **params), body, None, headers=hdrs)

    def events(self, g, s):
        evs, _ = read_events(self.c, g, s)
        return sorted((e['timestamp'], e['message']) for e in evs)

    def assert_error(self, r, status, name, words=()):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header('Content-Type'), 'application/json', r)
        self.assertEqual(r.json['__type'], name, r)
        for w in words:
            self.assertIn(w, r.json['message'], r)

    # ---- /ingest/bulk

    def test_bulk_ndjson(self):
        g, s = self.target()
        t = now_ms() - MS_HOUR
        line1 = '{"timestamp": %d, "message": "one", "level": "INFO"}' % t
        lines = [
            line1,
            '',
            '{"timestamp":%d,"error":"two"}\r' % (t + 1),
            '"a plain string"',
            '42',
            '[{"timestamp":%d,"message":"a"},{"timestamp":%d,"message":"b"}]' % (t + 2, t + 3),
            '   ',
            '{not json',
        ]
        before = now_ms()
        r = self.post('/ingest/bulk', '\n'.join(lines) + '\n', 'application/x-ndjson', g, s,
                      headers={'Authorization': 'Bearer ACWLtoken123'})
        after = now_ms()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json['acceptedLogEvents'], 6, r)
        self.assertEqual(r.json['rejectedLogEvents'], 1, r)
        self.assertIn('not valid JSON', r.json['message'])
        got = self.events(g, s)
        self.assertEqual(len(got), 6, got)
        byts = dict((m, ts) for ts, m in got)
        self.assertEqual(byts[line1], t)
        self.assertEqual(byts['{"timestamp":%d,"error":"two"}' % (t + 1)], t + 1)
        self.assertEqual(byts['{"timestamp":%d,"message":"a"}' % (t + 2)], t + 2)
        self.assertEqual(byts['{"timestamp":%d,"message":"b"}' % (t + 3)], t + 3)
        self.assertTrue(before <= byts['a plain string'] <= after, got)
        self.assertTrue(before <= byts['42'] <= after, got)

    def test_bulk_query_params_and_json_type(self):
        g, s = self.target()
        t = now_ms() - 5000
        body = ''.join('{"timestamp":%d,"message":"q%d"}\n' % (t + i, i) for i in range(50))
        r = self.post('/ingest/bulk', body, 'application/json', g, s, query=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {}, r)
        got = self.events(g, s)
        self.assertEqual([ts for ts, _ in got], [t + i for i in range(50)])

    # ---- /ingest/json

    def test_json_array_and_object(self):
        g, s = self.target()
        t = now_ms() - 2 * MS_HOUR
        body = [{'timestamp': t, 'message': 'valid object'}, 'just a string', 42,
                {'timestamp': t + 7, 'message': 'another', 'n': 1}]
        r = self.post('/ingest/json', json.dumps(body), 'application/json', g, s)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {}, r)
        r = self.post('/ingest/json', '{"timestamp":%d,"message":"single"}{"timestamp":%d}'
                      % (t + 9, t + 10), 'application/json; charset=utf-8', g, s, query=True)
        self.assertEqual(r.status, 200, r)
        got = self.events(g, s)
        self.assertEqual(got, [
            (t, '{"timestamp":%d,"message":"valid object"}' % t),
            (t + 7, '{"timestamp":%d,"message":"another","n":1}' % (t + 7)),
            (t + 9, '{"timestamp":%d,"message":"single"}' % (t + 9)),
        ])

    def test_json_errors(self):
        g, s = self.target()
        r = self.post('/ingest/json', '{"timestamp": 1, "message": ', 'application/json', g, s)
        self.assert_error(r, 400, 'SerializationException', ['not valid JSON'])
        r = self.post('/ingest/json', '{}', 'application/x-ndjson', g, s)
        self.assert_error(r, 415, 'UnsupportedMediaTypeException', ['application/json'])
        r = self.post('/ingest/json', '{}', None, g, s)
        self.assert_error(r, 415, 'UnsupportedMediaTypeException', ['none'])
        self.assertEqual(self.events(g, s), [])

    # ---- /services/collector/event

    def test_hec(self):
        g, s = self.target()
        sec = (now_ms() - MS_HOUR) // 1000
        body = (json.dumps({'event': 'Hello world!', 'time': sec + 0.5, 'host': 'h'}) +
                json.dumps([{'event': 'msg1', 'time': sec + 1},
                            {'event': {'message': 'structured', 'severity': 'INFO'},
                             'time': '%d.250' % (sec + 2)}]) + '\n' +
                json.dumps({'message': 'no event field: skipped'}) +
                json.dumps({'event': 42, 'time': 'invalid'}))
        before = now_ms()
        r = self.post('/services/collector/event', body, 'application/json', g, s,
                      headers={'Authorization': 'Bearer abc'})
        after = now_ms()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {}, r)
        got = self.events(g, s)
        self.assertEqual(len(got), 4, got)
        self.assertEqual(got[0], (sec * 1000 + 500, 'Hello world!'))
        self.assertEqual(got[1], (sec * 1000 + 1000, 'msg1'))
        self.assertEqual(got[2], (sec * 1000 + 2250,
                                  '{"message":"structured","severity":"INFO"}'))
        self.assertEqual(got[3][1], '42')
        self.assertTrue(before <= got[3][0] <= after, got)

    def test_hec_splunk_client_headers(self):
        # Splunk's own clients send a form content type and "Splunk <token>".
        g, s = self.target()
        r = self.post('/services/collector/event/1.0', '{"event":"from splunk","time":"%d"}'
                      % ((now_ms() - 1000) // 1000), 'application/x-www-form-urlencoded', g, s,
                      headers={'Authorization': 'Splunk 12345678-abcd'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([m for _, m in self.events(g, s)], ['from splunk'])

    def test_hec_query_params_and_bad_body(self):
        g, s = self.target()
        r = self.post('/services/collector/event', '{"event":"x"} {"event":', 'application/json',
                      g, s, query=True)
        self.assert_error(r, 400, 'SerializationException', ['not valid JSON'])
        self.assertEqual(self.events(g, s), [])
        r = self.post('/services/collector/event', '{"event":"x"}', 'application/json', g, s,
                      query=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([m for _, m in self.events(g, s)], ['x'])

    # ---- /v1/logs

    def otlp_json(self, records):
        return json.dumps({'resourceLogs': [{
            'resource': {'attributes': [{'key': 'service.name',
                                         'value': {'stringValue': 'checkout'}}]},
            'scopeLogs': [{'scope': {'name': 'my.lib', 'version': '2'},
                           'logRecords': records}]}]})

    def test_otlp_json(self):
        g, s = self.target()
        t = now_ms() - MS_HOUR
        recs = [
            {'timeUnixNano': str(t * 1000000), 'severityText': 'INFO', 'severityNumber': 9,
             'body': {'stringValue': 'hello otlp'},
             'attributes': [{'key': 'n', 'value': {'intValue': '7'}},
                            {'key': 'ok', 'value': {'boolValue': True}}],
             'traceId': '5b8efff798038103d269b633813fc60c', 'spanId': 'eee19b7ec3c1b174'},
            {'observedTimeUnixNano': (t + 1) * 1000000,
             'body': {'kvlistValue': {'values': [{'key': 'a',
                                                  'value': {'doubleValue': 1.5}}]}}},
        ]
        r = self.post('/v1/logs', self.otlp_json(recs), 'application/json', g, s,
                      headers={'Authorization': 'Bearer tok'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Content-Type'), 'application/json')
        self.assertEqual(r.json, {}, r)
        got = self.events(g, s)
        self.assertEqual([ts for ts, _ in got], [t, t + 1])
        m0 = json.loads(got[0][1])
        self.assertEqual(m0['body'], 'hello otlp')
        self.assertEqual(m0['severityText'], 'INFO')
        self.assertEqual(m0['attributes'], {'n': 7, 'ok': True})
        self.assertEqual(m0['resource'], {'service.name': 'checkout'})
        self.assertEqual(m0['scope'], {'name': 'my.lib', 'version': '2'})
        self.assertEqual(m0['traceId'], '5b8efff798038103d269b633813fc60c')
        self.assertEqual(json.loads(got[1][1])['body'], {'a': 1.5})

    def test_otlp_partial_success(self):
        g, s = self.target()
        t = now_ms()
        recs = [{'timeUnixNano': str((t - 30 * MS_DAY) * 1000000),
                 'body': {'stringValue': 'too old'}},
                {'timeUnixNano': str((t - 1000) * 1000000), 'body': {'stringValue': 'kept'}},
                'not a record']
        r = self.post('/v1/logs', self.otlp_json(recs), 'application/json', g, s)
        self.assertEqual(r.status, 200, r)
        ps = r.json['partialSuccess']
        self.assertEqual(ps['rejectedLogRecords'], 2, r)
        self.assertIn('older', ps['errorMessage'])
        self.assertIn('not an object', ps['errorMessage'])
        got = self.events(g, s)
        self.assertEqual([(ts, json.loads(m)['body']) for ts, m in got], [(t - 1000, 'kept')])

    def test_otlp_protobuf(self):
        g, s = self.target()
        t = now_ms() - 10 * 60000
        recs = [pb_record((t + i) * 1000000, 'pb %d' % i, 'WARN', [('k', 'v%d' % i)],
                          trace_id=bytes(range(16))) for i in range(20)]
        recs.append(pb_record((t - 20 * MS_DAY) * 1000000, 'too old'))
        r = self.post('/v1/logs', pb_request(recs), 'application/x-protobuf', g, s, gz=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Content-Type'), 'application/x-protobuf')
        ps = pb_fields(pb_fields(r.body)[1][0])
        self.assertEqual(ps[1], [1])
        self.assertIn(b'older', ps[2][0])
        got = self.events(g, s)
        self.assertEqual(len(got), 20)
        for i, (ts, m) in enumerate(got):
            self.assertEqual(ts, t + i)
            o = json.loads(m)
            self.assertEqual(o['body'], 'pb %d' % i)
            self.assertEqual(o['severityText'], 'WARN')
            self.assertEqual(o['attributes'], {'k': 'v%d' % i})
            self.assertEqual(o['resource'], {'service.name': 'svc'})
            self.assertEqual(o['traceId'], bytes(range(16)).hex())
        # All accepted: an empty ExportLogsServiceResponse.
        r = self.post('/v1/logs', pb_request([pb_record(t * 1000000, 'one more')]),
                      'application/x-protobuf', g, s)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b'')
        self.assertEqual(len(self.events(g, s)), 21)

    def test_otlp_errors(self):
        g, s = self.target()
        # Query parameters do not name the target of /v1/logs.
        r = self.post('/v1/logs', self.otlp_json([]), 'application/json', g, s, query=True)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json['code'], 3, r)
        self.assertIn('x-aws-log-group', r.json['message'])
        r = self.post('/v1/logs', '{"resourceLogs": [', 'application/json', g, s)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json['code'], 3, r)
        r = self.post('/v1/logs', b'\xff\xff\xff', 'application/x-protobuf', g, s)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header('Content-Type'), 'application/x-protobuf')
        st = pb_fields(r.body)
        self.assertEqual(st[1], [3])
        self.assertIn(b'ExportLogsServiceRequest', st[2][0])
        r = self.post('/v1/logs', 'x', 'text/plain', g, s)
        self.assertEqual(r.status, 415, r)
        # Values nested past the limit are refused before protobuf-c unpacks
        # them (its recursion has no limit of its own).
        v = pb_any_string('leaf')
        for _ in range(5000):
            v = _ld(5, _ld(1, v))
        r = self.post('/v1/logs', pb_request([_fixed64(1, 0) + _ld(5, v)]),
                      'application/x-protobuf', g, s)
        self.assertEqual(r.status, 400, r)
        self.assertIn(b'nests values more than', pb_fields(r.body)[2][0])
        r = self.post('/v1/logs', self.otlp_json([]), 'application/json', '/ih/none', 'x')
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json['code'], 5, r)
        self.assertEqual(self.events(g, s), [])

    # ---- shared behaviour

    def test_gzip(self):
        g, s = self.target()
        t = now_ms() - 60000
        body = ''.join('{"timestamp":%d,"message":"gz %d"}\n' % (t + i, i) for i in range(1000))
        r = self.post('/ingest/bulk', body, 'application/x-ndjson', g, s, gz=True)
        self.assertEqual(r.status, 200, r)
        hec = json.dumps({'event': 'zlib', 'time': t / 1000.0}).encode()
        r = self.post('/services/collector/event', zlib.compress(hec), 'application/json', g, s,
                      headers={'Content-Encoding': 'deflate'})
        self.assertEqual(r.status, 200, r)
        got = self.events(g, s)
        self.assertEqual(len(got), 1001)
        self.assertEqual(len(set(m for _, m in got)), 1001)
        # A bomb: 9 MiB of spaces inflate past the cap.
        r = self.post('/ingest/json', b' ' * (9 << 20) + b'{}', 'application/json', g, s, gz=True)
        self.assert_error(r, 413, 'PayloadTooLargeException', ['inflates to more than'])
        r = self.post('/ingest/json', b'\x1f\x8b\x08\x00garbage', 'application/json', g, s,
                      headers={'Content-Encoding': 'gzip'})
        self.assert_error(r, 400, 'SerializationException', ['gzip'])
        r = self.post('/ingest/json', b'{}', 'application/json', g, s,
                      headers={'Content-Encoding': 'br'})
        self.assert_error(r, 415, 'UnsupportedMediaTypeException', ['br'])
        self.assertEqual(len(self.events(g, s)), 1001)

    def test_target_errors(self):
        g, s = self.target()
        for path in ('/ingest/bulk', '/ingest/json', '/services/collector/event'):
            r = self.post(path, '{"event":"x"}', 'application/json', None, s)
            self.assert_error(r, 400, 'InvalidParameterException',
                              ['x-aws-log-group', 'logGroup'])
            r = self.post(path, '{"event":"x"}', 'application/json', g, None)
            self.assert_error(r, 400, 'InvalidParameterException', ['x-aws-log-stream'])
            r = self.c.request('POST', with_query(path, logGroup=g), b'{"event":"x"}',
                               'application/json',
                               headers={'x-aws-log-group': g, 'x-aws-log-stream': s})
            self.assert_error(r, 400, 'InvalidParameterException', ['both'])
            r = self.post(path, '{"event":"x"}', 'application/json', g + '-missing', s)
            self.assert_error(r, 404, 'ResourceNotFoundException')
            r = self.post(path, '{"event":"x"}', 'application/json', 'bad name!', s)
            self.assert_error(r, 400, 'InvalidParameterException')
            r = self.c.request('GET', path, headers={'x-aws-log-group': g,
                                                     'x-aws-log-stream': s})
            self.assertEqual(r.status, 405, r)
        self.assertEqual(self.events(g, s), [])

    def test_too_large(self):
        g, s = self.target()
        t = now_ms() - 60000
        many = ''.join('{"timestamp":%d}\n' % t for _ in range(10001))
        r = self.post('/ingest/bulk', many, 'application/x-ndjson', g, s)
        self.assert_error(r, 413, 'PayloadTooLargeException', ['10001 events', 'split'])
        big = json.dumps([{'timestamp': t, 'message': 'x' * 200000} for _ in range(6)])
        r = self.post('/ingest/json', big, 'application/json', g, s)
        self.assert_error(r, 413, 'PayloadTooLargeException', ['bytes'])
        one = json.dumps({'event': 'y' * 300000})
        r = self.post('/services/collector/event', one, 'application/json', g, s)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json['rejectedLogEvents'], 1, r)
        self.assertIn('larger than', r.json['message'])
        self.assertEqual(self.events(g, s), [])


if __name__ == '__main__':
    main()

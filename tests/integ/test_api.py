#!/usr/bin/python3
"""tests/integ/test_api.py: every endpoint and error case of the native REST
API (/api/v1/...), against a real `sluice serve` (see sluice_fixture.py).

Each TestCase class starts its own server; tests in a class share it and keep
out of each other's way by using unique group names. Bodies are checked, not
only statuses. Run: /usr/bin/python3 tests/integ/test_api.py [-k pattern]
"""

import datetime
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (MS_DAY, MS_HOUR, SLUICE_BIN, TIME_FACTOR, WRAPPER, ServerTestCase,  # noqa: E402
                            SluiceServer, scaled, events_path, free_port, group_path, main, now_ms, q,
                            raw_http, read_events, stream_path, streams_path, wait_for,
                            with_query)

RETENTIONS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
              2557, 2922, 3288, 3653]
MAX_MSG = 262144
MAX_BATCH_BYTES = 1048576
MAX_BATCH_EVENTS = 10000

_counter = itertools.count()
_RUN = '%x' % random.randrange(1 << 32)


def uniq(tag='g'):
    """A unique, valid group name with '/' and '#' in it."""
    return '/integ/%s/%s#%d' % (_RUN, tag, next(_counter))


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc) \
        .strftime('%Y-%m-%dT%H:%M:%SZ')


class ApiCase(ServerTestCase):
    """Helpers shared by the API tests."""

    # -- assertions
    def assertError(self, r, status, name=None, msg=''):
        self.assertEqual(r.status, status, '%s: %r' % (msg, r))
        body = r.json
        self.assertIsInstance(body, dict, '%s: error body is not a JSON object: %r' % (msg, r))
        self.assertIsInstance(body.get('error'), str, '%s: %r' % (msg, r))
        self.assertIsInstance(body.get('message'), str, '%s: %r' % (msg, r))
        self.assertTrue(body['message'], '%s: empty error message: %r' % (msg, r))
        if name is not None:
            names = (name,) if isinstance(name, str) else tuple(name)
            self.assertIn(body['error'], names, '%s: %r' % (msg, r))
        return body

    def assertStatus(self, r, status, msg=''):
        self.assertEqual(r.status, status, '%s: %r' % (msg, r))
        return r.json

    # -- fixtures
    def mk_group(self, name=None, **kw):
        name = name or uniq()
        body = dict(name=name, **kw)
        r = self.c.post_json('/api/v1/groups', body)
        self.assertStatus(r, 201, 'create group %r' % name)
        return name

    def mk_stream(self, g, s='s'):
        r = self.c.post_json(streams_path(g), {'name': s})
        self.assertStatus(r, 201, 'create stream %r/%r' % (g, s))
        return s

    def mk(self, stream='s', **kw):
        g = self.mk_group(**kw)
        return g, self.mk_stream(g, stream)

    def put(self, g, s, events, status=200, **params):
        r = self.c.post_json(events_path(g, s), events, **params)
        self.assertStatus(r, status, 'put events')
        return r.json

    def put_ok(self, g, s, events, **params):
        body = self.put(g, s, events, **params)
        n = len(events['events'] if isinstance(events, dict) else events)
        self.assertEqual(body, {'accepted': n, 'rejected': []})
        return body

    def read(self, g, s, **kw):
        return read_events(self.c, g, s, **kw)[0]

    def msgs(self, g, s, **kw):
        return [e['message'] for e in self.read(g, s, **kw)]

    def group(self, g):
        r = self.c.get(group_path(g))
        return self.assertStatus(r, 200, 'get group')

    def stream(self, g, s):
        r = self.c.get(stream_path(g, s))
        return self.assertStatus(r, 200, 'get stream')

    def assertEmptyStream(self, g, s):
        self.assertEqual(self.read(g, s), [])
        st = self.stream(g, s)
        self.assertEqual(st['storedBytes'], 0, st)
        self.assertIsNone(st['lastEventTime'], st)


# ====================================================================== routing

class TestRouting(ApiCase):

    def test_healthz(self):
        r = self.c.get('/healthz')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, {'status': 'ok'})
        self.assertIn('json', (r.header('Content-Type') or '').lower())
        # The socket listens before the line is logged: under valgrind the
        # answer can come first, so give the log a moment.
        deadline = time.time() + 10 * TIME_FACTOR
        while 'listening on' not in self.server.current_stderr() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn('listening on', self.server.current_stderr())

    def test_unknown_paths_404(self):
        for path in ['/nope', '/api/v1/nope', '/api/v2/groups', '/api/v1/groups/x/nope',
                     '/api/v1/groups/x/streams/y/nope', '/api/v1/admin/nope']:
            r = self.c.get(path)
            self.assertError(r, 404, msg=path)

    def test_wrong_method_405(self):
        g, s = self.mk()
        cases = [('PUT', '/api/v1/groups'), ('DELETE', '/api/v1/groups'),
                 ('POST', '/healthz'), ('PUT', group_path(g)), ('POST', group_path(g)),
                 ('PUT', streams_path(g)), ('DELETE', streams_path(g)),
                 ('PUT', stream_path(g, s)), ('POST', stream_path(g, s)),
                 ('PUT', events_path(g, s)), ('DELETE', events_path(g, s)),
                 ('GET', '/api/v1/admin/compact'), ('PATCH', '/api/v1/groups')]
        for method, path in cases:
            r = self.c.request(method, path, b'{}', 'application/json')
            self.assertError(r, 405, msg='%s %s' % (method, path))
        # and nothing was broken by them
        self.assertEqual(self.stream(g, s)['name'], s)

    def test_lowercase_percent_encoding(self):
        g = self.mk_group('/integ/%s/lower/case' % _RUN)
        r = self.c.get('/api/v1/groups/' + q(g).replace('%2F', '%2f'))
        self.assertEqual(self.assertStatus(r, 200)['name'], g)


# ======================================================================= groups

class TestGroups(ApiCase):

    def test_create_group_object(self):
        name = '/aws/lambda/fn-%s_x.y#z' % _RUN
        t0 = now_ms()
        r = self.c.post_json('/api/v1/groups', {'name': name, 'retentionDays': 7,
                                                'tags': {'team': 'core', 'env': 'prod'}})
        t1 = now_ms()
        obj = self.assertStatus(r, 201)
        self.assertEqual(obj['name'], name)
        self.assertEqual(obj['retentionDays'], 7)
        self.assertEqual(obj['tags'], {'team': 'core', 'env': 'prod'})
        self.assertGreaterEqual(obj['creationTime'], t0 - 5)
        self.assertLessEqual(obj['creationTime'], t1 + 5)
        self.assertEqual(obj['storedBytes'], 0)
        for k in ('firstEventTime', 'lastEventTime', 'lastIngestionTime'):
            self.assertIn(k, obj)
            self.assertIsNone(obj[k], k)
        self.assertEqual(self.group(name), obj)

    def test_create_defaults(self):
        g = uniq()
        obj = self.assertStatus(self.c.post_json('/api/v1/groups', {'name': g}), 201)
        self.assertIn('retentionDays', obj)
        self.assertIsNone(obj['retentionDays'])
        self.assertEqual(obj['tags'], {})
        self.assertEqual(obj['storedBytes'], 0)
        self.assertEqual(self.group(g), obj)

    def test_duplicate_409(self):
        g = self.mk_group(tags={'a': '1'})
        before = self.group(g)
        r = self.c.post_json('/api/v1/groups', {'name': g, 'retentionDays': 1})
        self.assertError(r, 409, 'ResourceAlreadyExistsException')
        self.assertEqual(self.group(g), before)

    def test_name_rules(self):
        base = 'n%s' % _RUN
        ok = [base + 'a' * (512 - len(base)), base + '._/#-AZaz09', base + '/']
        for name in ok:
            self.mk_group(name)
            self.assertEqual(self.group(name)['name'], name)
        bad = ['', base + 'a' * (513 - len(base)), base + ' x', base + 'é', base + ':x',
               base + '*', base + '?', base + '%', base + '"', base + '\\', base + '\n',
               base + '+', base + '@']
        for name in bad:
            r = self.c.post_json('/api/v1/groups', {'name': name})
            self.assertError(r, 400, 'InvalidParameterException', msg='name %r' % name[:40])
        r = self.c.get('/api/v1/groups', prefix=base, limit=50)
        self.assertEqual(sorted(g['name'] for g in r.json['groups']), sorted(ok))

    def test_retention_values(self):
        for d in RETENTIONS:
            g = uniq('ret')
            obj = self.assertStatus(self.c.post_json('/api/v1/groups',
                                                     {'name': g, 'retentionDays': d}), 201)
            self.assertEqual(obj['retentionDays'], d)
        for d in [0, 2, 4, 6, 8, 31, 366, 3652, 3654, -1, 10 ** 12, 7.5, '7', [7], True]:
            g = uniq('badret')
            r = self.c.post_json('/api/v1/groups', {'name': g, 'retentionDays': d})
            self.assertError(r, 400, ('InvalidParameterException', 'SerializationException'),
                             msg='retention %r' % (d,))
            self.assertError(self.c.get(group_path(g)), 404, 'ResourceNotFoundException')

    def test_create_body_errors(self):
        g = uniq('body')
        bodies = [b'', b'nope', b'{"name":', b'[]', b'["x"]', b'{}', b'{"name": 5}',
                  b'{"name": null}', json.dumps({'name': g, 'tags': 'x'}).encode(),
                  json.dumps({'name': g, 'tags': ['a']}).encode(),
                  b'{"name": "' + g.encode() + b'\xff"}']
        for b in bodies:
            r = self.c.request('POST', '/api/v1/groups', b, 'application/json')
            self.assertError(r, 400, ('InvalidParameterException', 'SerializationException'),
                             msg='body %r' % b)
        self.assertError(self.c.get(group_path(g)), 404, 'ResourceNotFoundException')

    def test_get_missing_404(self):
        r = self.c.get(group_path(uniq('missing')))
        self.assertError(r, 404, 'ResourceNotFoundException')
        r = self.c.delete(group_path(uniq('missing')))
        self.assertError(r, 404, 'ResourceNotFoundException')

    def _list_all(self, prefix, limit):
        names, pages, token = [], [], None
        while True:
            r = self.c.get('/api/v1/groups', prefix=prefix, limit=limit, nextToken=token)
            body = self.assertStatus(r, 200)
            pages.append(len(body['groups']))
            names += [g['name'] for g in body['groups']]
            token = body.get('nextToken')
            if token is None:
                return names, pages
            self.assertLess(len(pages), 100)

    def test_list_sorted_and_paginated(self):
        prefix = '/integ/%s/list7/' % _RUN
        names = [prefix + x for x in ['b', 'a/z', 'a', 'c#1', 'B', 'a.b', 'c-2']]
        for n in random.sample(names, len(names)):
            self.mk_group(n, retentionDays=3)
        self.mk_group('/integ/%s/list7' % _RUN)   # outside the prefix (no trailing /)
        r = self.c.get('/api/v1/groups', prefix=prefix)
        body = self.assertStatus(r, 200)
        self.assertNotIn('nextToken', body)
        self.assertEqual([g['name'] for g in body['groups']], sorted(names))
        for g in body['groups']:
            self.assertEqual(g['retentionDays'], 3)
            self.assertIn('storedBytes', g)
            self.assertIn('creationTime', g)
        got, pages = self._list_all(prefix, 3)
        self.assertEqual(got, sorted(names))
        self.assertEqual(pages, [3, 3, 1])
        got, pages = self._list_all(prefix, 1)
        self.assertEqual(got, sorted(names))
        self.assertEqual(pages, [1] * 7)

    def test_list_last_full_page_has_no_token(self):
        prefix = '/integ/%s/list6/' % _RUN
        names = [prefix + str(i) for i in range(6)]
        for n in names:
            self.mk_group(n)
        got, pages = self._list_all(prefix, 3)
        self.assertEqual(got, names)
        self.assertEqual(pages, [3, 3], 'nextToken must be omitted on the last page')
        got, pages = self._list_all(prefix, 6)
        self.assertEqual(pages, [6])

    def test_list_default_limit_50(self):
        prefix = '/integ/%s/list55/' % _RUN
        names = [prefix + '%02d' % i for i in range(55)]
        for n in names:
            self.mk_group(n)
        body = self.assertStatus(self.c.get('/api/v1/groups', prefix=prefix), 200)
        self.assertEqual([g['name'] for g in body['groups']], names[:50])
        self.assertIn('nextToken', body)
        body = self.assertStatus(self.c.get('/api/v1/groups', prefix=prefix,
                                            nextToken=body['nextToken']), 200)
        self.assertEqual([g['name'] for g in body['groups']], names[50:])
        self.assertNotIn('nextToken', body)
        got, _ = self._list_all(prefix, 1000)
        self.assertEqual(got, names)

    def test_list_empty_prefix_match(self):
        body = self.assertStatus(self.c.get('/api/v1/groups', prefix='/no/such/%s' % _RUN), 200)
        self.assertEqual(body['groups'], [])
        self.assertNotIn('nextToken', body)

    def test_list_bad_params(self):
        for lim in ['0', '1001', '-1', 'abc', '']:
            r = self.c.get('/api/v1/groups', limit=lim)
            if lim == '' and r.status == 200:
                continue        # an empty limit may read as "not given"
            self.assertError(r, 400, 'InvalidParameterException', msg='limit=%r' % lim)
        for tok in ['garbage', 'AAAAAAAAAAAAAAAAAAAAAAAA', '!!!']:
            r = self.c.get('/api/v1/groups', nextToken=tok)
            self.assertError(r, 400, 'InvalidParameterException', msg='token %r' % tok)

    def test_delete_group_removes_everything(self):
        g = self.mk_group(retentionDays=30, tags={'k': 'v'})
        for s in ('s1', 's2'):
            self.mk_stream(g, s)
            self.put_ok(g, s, [{'timestamp': now_ms() - 1000, 'message': 'gone ' + s}])
        self.assertTrue(wait_for(lambda: self.group(g)['storedBytes'] > 0))
        r = self.c.delete(group_path(g))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b'')
        self.assertError(self.c.get(group_path(g)), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(streams_path(g)), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(stream_path(g, 's1')), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(events_path(g, 's1')), 404, 'ResourceNotFoundException')
        self.assertError(self.c.delete(group_path(g)), 404, 'ResourceNotFoundException')
        self.assertError(self.c.post_json(events_path(g, 's1'), [{'timestamp': now_ms(),
                                                                  'message': 'x'}]),
                         404, 'ResourceNotFoundException')
        names = [x['name'] for x in self.c.get('/api/v1/groups', prefix=g).json['groups']]
        self.assertEqual(names, [])
        # the re-created name is a new, empty group
        obj = self.assertStatus(self.c.post_json('/api/v1/groups', {'name': g}), 201)
        self.assertIsNone(obj['retentionDays'])
        self.assertEqual(obj['tags'], {})
        self.assertEqual(obj['storedBytes'], 0)
        self.assertIsNone(obj['lastEventTime'])
        body = self.assertStatus(self.c.get(streams_path(g)), 200)
        self.assertEqual(body['streams'], [])
        self.assertError(self.c.get(events_path(g, 's1')), 404, 'ResourceNotFoundException')
        self.mk_stream(g, 's1')
        self.assertEmptyStream(g, 's1')
        self.assertEqual(self.group(g)['storedBytes'], 0)


# ====================================================================== streams

class TestStreams(ApiCase):

    def test_create_stream_object(self):
        g = self.mk_group()
        names = ['2024/01/01/[$LATEST]abc', 'with space', 'unicodé-流-😀', '#hash?&=%+',
                 'x' * 512, 'a.b-c_d']
        for s in names:
            t0 = now_ms()
            obj = self.assertStatus(self.c.post_json(streams_path(g), {'name': s}), 201)
            t1 = now_ms()
            self.assertEqual(obj['name'], s)
            self.assertGreaterEqual(obj['creationTime'], t0 - 5)
            self.assertLessEqual(obj['creationTime'], t1 + 5)
            self.assertEqual(obj['storedBytes'], 0)
            self.assertEqual(obj['segmentCount'], 0)
            for k in ('firstEventTime', 'lastEventTime', 'lastIngestionTime'):
                self.assertIn(k, obj)
                self.assertIsNone(obj[k], k)
            self.assertEqual(self.stream(g, s), obj)
        body = self.assertStatus(self.c.get(streams_path(g)), 200)
        self.assertEqual([x['name'] for x in body['streams']], sorted(names))
        self.assertNotIn('nextToken', body)
        # events round trip through the awkward names too
        for s in names:
            self.put_ok(g, s, [{'timestamp': now_ms(), 'message': 'in ' + s}])
            self.assertEqual(self.msgs(g, s), ['in ' + s])

    def test_stream_name_rules(self):
        g = self.mk_group()
        for s in ['', 'x' * 513, 'a:b', 'a*b', ':', '*']:
            r = self.c.post_json(streams_path(g), {'name': s})
            self.assertError(r, 400, 'InvalidParameterException', msg='stream %r' % s[:30])
        for b in [b'{}', b'{"name": 1}', b'nope', b'[]']:
            r = self.c.request('POST', streams_path(g), b, 'application/json')
            self.assertError(r, 400, ('InvalidParameterException', 'SerializationException'),
                             msg='body %r' % b)
        self.assertEqual(self.c.get(streams_path(g)).json['streams'], [])

    def test_duplicate_and_missing(self):
        g, s = self.mk()
        self.assertError(self.c.post_json(streams_path(g), {'name': s}), 409,
                         'ResourceAlreadyExistsException')
        missing = uniq('missing')
        self.assertError(self.c.post_json(streams_path(missing), {'name': 's'}), 404,
                         'ResourceNotFoundException')
        self.assertError(self.c.get(streams_path(missing)), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(stream_path(missing, 's')), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(stream_path(g, 'nope')), 404, 'ResourceNotFoundException')
        self.assertError(self.c.delete(stream_path(g, 'nope')), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(events_path(g, 'nope')), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(group_path(missing)), 404, 'ResourceNotFoundException')

    def test_times_and_bytes(self):
        g, s = self.mk()
        g0 = self.group(g)
        t = now_ms()
        t0 = now_ms()
        self.put_ok(g, s, [{'timestamp': t - 5000, 'message': 'b' * 100},
                           {'timestamp': t - 9000, 'message': 'a' * 100},
                           {'timestamp': t - 1000, 'message': 'c' * 100}])
        t1 = now_ms()
        st = self.stream(g, s)
        self.assertEqual(st['firstEventTime'], t - 9000)
        self.assertEqual(st['lastEventTime'], t - 1000)
        self.assertGreaterEqual(st['lastIngestionTime'], t0 - 5)
        self.assertLessEqual(st['lastIngestionTime'], t1 + 5)
        self.assertGreaterEqual(st['segmentCount'], 1)
        self.assertTrue(wait_for(lambda: self.stream(g, s)['storedBytes'] > 0),
                        'stream storedBytes stays 0')
        self.assertTrue(wait_for(lambda: self.group(g)['storedBytes'] > 0),
                        'group storedBytes stays 0')
        grp = self.group(g)
        self.assertEqual(grp['firstEventTime'], t - 9000)
        self.assertEqual(grp['lastEventTime'], t - 1000)
        self.assertEqual(grp['lastIngestionTime'], st['lastIngestionTime'])
        self.assertEqual(grp['creationTime'], g0['creationTime'])
        # a second stream: the group spans both, storedBytes adds up
        s2 = self.mk_stream(g, 's2')
        self.put_ok(g, s2, [{'timestamp': t - 20000, 'message': 'early'},
                            {'timestamp': t - 500, 'message': 'late'}])
        grp = self.group(g)
        self.assertEqual(grp['firstEventTime'], t - 20000)
        self.assertEqual(grp['lastEventTime'], t - 500)

        def sums_match():
            total = sum(x['storedBytes'] for x in
                        self.c.get(streams_path(g)).json['streams'])
            return total > 0 and total == self.group(g)['storedBytes']
        self.assertTrue(wait_for(sums_match),
                        'group storedBytes != sum of its streams: %r vs %r'
                        % (self.group(g), self.c.get(streams_path(g)).json))

    def test_stored_bytes_grow_and_shrink(self):
        g, s = self.mk()
        keep = self.mk_stream(g, 'keep')
        self.put_ok(g, keep, [{'timestamp': now_ms(), 'message': 'k' * 50}])
        self.assertTrue(wait_for(lambda: self.group(g)['storedBytes'] > 0))
        base = self.group(g)['storedBytes']
        rnd = random.Random(7)
        prev = base
        for i in range(3):
            msg = ''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(3000))
            self.put_ok(g, s, [{'timestamp': now_ms() - j, 'message': msg + str(j)}
                               for j in range(20)])
            ok = wait_for(lambda: self.group(g)['storedBytes'] > prev)
            self.assertTrue(ok, 'group storedBytes did not grow after ingest %d' % i)
            prev = self.group(g)['storedBytes']
        self.assertGreater(self.stream(g, s)['storedBytes'], 0)
        r = self.c.delete(stream_path(g, s))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b'')
        self.assertError(self.c.get(stream_path(g, s)), 404, 'ResourceNotFoundException')
        self.assertError(self.c.get(events_path(g, s)), 404, 'ResourceNotFoundException')
        ok = wait_for(lambda: self.group(g)['storedBytes'] == base, timeout=10)
        self.assertTrue(ok, 'group storedBytes %d, expected back to %d after stream delete'
                        % (self.group(g)['storedBytes'], base))
        self.assertEqual(self.msgs(g, keep), ['k' * 50])
        self.c.delete(stream_path(g, keep))
        ok = wait_for(lambda: self.group(g)['storedBytes'] == 0, timeout=10)
        self.assertTrue(ok, 'group storedBytes %d after deleting every stream'
                        % self.group(g)['storedBytes'])
        self.assertEqual(self.c.get(streams_path(g)).json['streams'], [])
        # the name comes back empty
        self.mk_stream(g, s)
        self.assertEmptyStream(g, s)

    def _list(self, g, limit=None, **params):
        names, pages, token = [], [], None
        while True:
            body = self.assertStatus(self.c.get(streams_path(g), limit=limit, nextToken=token,
                                                **params), 200)
            names += [x['name'] for x in body['streams']]
            pages.append(len(body['streams']))
            token = body.get('nextToken')
            if token is None:
                return names, pages
            self.assertLess(len(pages), 50)

    def test_listing_order_and_pagination(self):
        g = self.mk_group()
        t = now_ms()
        last = {'d/1': t - 1000, 'a/2': t - 3000, 'c#3': t - 2000, 'b': t - 5000,
                'e': t - 4000}
        for s in sorted(last, key=lambda x: random.random()):
            self.mk_stream(g, s)
            self.put_ok(g, s, [{'timestamp': last[s] - 60000, 'message': 'first'},
                               {'timestamp': last[s], 'message': 'last'}])
            self.assertEqual(self.stream(g, s)['lastEventTime'], last[s])
        by_name = sorted(last)
        by_time = sorted(last, key=lambda x: last[x])
        self.assertEqual(self._list(g)[0], by_name)
        self.assertEqual(self._list(g, orderBy='name')[0], by_name)
        self.assertEqual(self._list(g, orderBy='name', descending='true')[0], by_name[::-1])
        self.assertEqual(self._list(g, orderBy='lastEventTime')[0], by_time)
        self.assertEqual(self._list(g, orderBy='lastEventTime', descending='true')[0],
                         by_time[::-1])
        for lim in (1, 2):
            pages = [1] * 5 if lim == 1 else [2, 2, 1]
            self.assertEqual(self._list(g, lim), (by_name, pages))
            self.assertEqual(self._list(g, lim, orderBy='name', descending='true'),
                             (by_name[::-1], pages))
            self.assertEqual(self._list(g, lim, orderBy='lastEventTime'), (by_time, pages))
            self.assertEqual(self._list(g, lim, orderBy='lastEventTime', descending='true'),
                             (by_time[::-1], pages))
        self.assertEqual(self._list(g, 5), (by_name, [5]))
        self.assertEqual(self._list(g, prefix='a')[0], ['a/2'])
        self.assertEqual(self._list(g, prefix='d/')[0], ['d/1'])
        self.assertEqual(self._list(g, prefix='zz')[0], [])
        # a stream's object in the list equals its GET
        body = self.c.get(streams_path(g), prefix='c#3').json
        self.assertEqual(body['streams'], [self.stream(g, 'c#3')])

    def test_listing_bad_params(self):
        g, s = self.mk()
        for params in [dict(orderBy='size'), dict(limit='0'), dict(limit='x'),
                       dict(limit='-3'), dict(nextToken='garbage')]:
            r = self.c.get(streams_path(g), **params)
            self.assertError(r, 400, 'InvalidParameterException', msg=repr(params))


# ======================================================================= ingest

class TestIngest(ApiCase):

    def test_json_array_roundtrip(self):
        g, s = self.mk()
        t = now_ms()
        evs = [{'timestamp': t - 3000, 'message': 'three'},
               {'timestamp': t - 1000, 'message': 'one'},
               {'timestamp': t - 2000, 'message': 'two'},
               {'timestamp': t - 4000, 'message': 'four'}]
        t0 = now_ms()
        self.put_ok(g, s, evs)
        t1 = now_ms()
        got = self.read(g, s)
        self.assertEqual([(e['timestamp'], e['message']) for e in got],
                         [(t - 4000, 'four'), (t - 3000, 'three'), (t - 2000, 'two'),
                          (t - 1000, 'one')])
        for e in got:
            self.assertEqual(set(e), {'timestamp', 'ingestionTime', 'message'})
            self.assertGreaterEqual(e['ingestionTime'], t0 - 5)
            self.assertLessEqual(e['ingestionTime'], t1 + 5)

    def test_events_object_form(self):
        g, s = self.mk()
        t = now_ms()
        self.put_ok(g, s, {'events': [{'timestamp': t, 'message': 'obj-1'},
                                      {'timestamp': t - 1, 'message': 'obj-0'}]})
        self.assertEqual(self.msgs(g, s), ['obj-0', 'obj-1'])

    def test_content_type_with_charset(self):
        g, s = self.mk()
        body = json.dumps([{'timestamp': now_ms(), 'message': 'cs'}]).encode()
        r = self.c.post_raw(events_path(g, s), body, 'application/json; charset=utf-8')
        self.assertEqual(self.assertStatus(r, 200), {'accepted': 1, 'rejected': []})
        self.assertEqual(self.msgs(g, s), ['cs'])

    def test_equal_timestamps_keep_arrival_order(self):
        g, s = self.mk()
        t = now_ms() - 10000
        self.put_ok(g, s, [{'timestamp': t, 'message': 'a'}, {'timestamp': t + 5, 'message': 'z'},
                           {'timestamp': t, 'message': 'b'}, {'timestamp': t, 'message': 'c'}])
        self.put_ok(g, s, [{'timestamp': t, 'message': 'd'}, {'timestamp': t - 5, 'message': 'e'},
                           {'timestamp': t, 'message': 'f'}])
        self.put_ok(g, s, [{'timestamp': t, 'message': 'g'}])
        want = ['e', 'a', 'b', 'c', 'd', 'f', 'g', 'z']
        self.assertEqual(self.msgs(g, s), want)
        self.assertEqual(self.msgs(g, s, order='desc'), want[::-1])
        self.assertEqual(self.msgs(g, s, limit=2), want)
        self.assertEqual(self.msgs(g, s, limit=3, order='desc'), want[::-1])

    def test_unicode_roundtrip(self):
        g, s = self.mk()
        msgs = ['héllo wörld', '日本語のログ行', 'emoji 😀🎉 and 𝄞', 'nul \u0000 inside',
                'quotes " and \\ backslash', 'tabs\tand\nnewlines\r\n', 'ctl \u0001\u001f\u007f',
                'Ωμέγα ∑ ≠ ∞', '\u2028\u2029 separators', '\ufeffbom', 'a' * 1000 + 'é']
        t = now_ms() - 60000
        # raw UTF-8 on the wire
        self.put_ok(g, s, [{'timestamp': t + i, 'message': m} for i, m in enumerate(msgs)])
        # \u escapes (surrogate pairs for astral characters) on the wire
        body = json.dumps([{'timestamp': t + 100 + i, 'message': m}
                           for i, m in enumerate(msgs)], ensure_ascii=True).encode()
        r = self.c.post_raw(events_path(g, s), body, 'application/json')
        self.assertEqual(self.assertStatus(r, 200), {'accepted': len(msgs), 'rejected': []})
        self.assertEqual(self.msgs(g, s), msgs + msgs)
        # raw bytes of the answer are valid UTF-8 and decode to the same
        r = self.c.get(events_path(g, s))
        r.body.decode('utf-8')

    def test_escaped_lone_surrogate_never_stored_mangled(self):
        g, s = self.mk()
        t = now_ms()
        body = ('[{"timestamp": %d, "message": "ok"}, {"timestamp": %d, "message": "x\\ud800y"}]'
                % (t, t)).encode()
        r = self.c.post_raw(events_path(g, s), body, 'application/json')
        if r.status == 400:
            self.assertError(r, 400, 'SerializationException')
            self.assertEmptyStream(g, s)
        else:
            self.assertEqual(self.assertStatus(r, 200),
                             {'accepted': 1, 'rejected': [{'index': 1, 'reason': 'invalid'}]})
            self.assertEqual(self.msgs(g, s), ['ok'])

    def test_message_size_limit(self):
        g, s = self.mk()
        t = now_ms() - 1000
        ok_ascii = 'a' * MAX_MSG
        ok_multi = 'é' * (MAX_MSG // 2)                  # 262144 bytes, 131072 chars
        big_ascii = 'b' * (MAX_MSG + 1)
        big_multi = 'c' * (MAX_MSG - 1) + 'é'            # 262145 bytes
        big_4byte = '😀' * (MAX_MSG // 4) + 'x'           # 262145 bytes, 65537 chars
        # two batches, each under 1 MiB even counting the rejected messages
        body = self.put(g, s, [{'timestamp': t + 0, 'message': big_ascii},
                               {'timestamp': t + 1, 'message': ok_ascii},
                               {'timestamp': t + 2, 'message': big_multi},
                               {'timestamp': t + 5, 'message': 'small'}])
        self.assertEqual(body['accepted'], 2, body)
        self.assertEqual(sorted(body['rejected'], key=lambda x: x['index']),
                         [{'index': 0, 'reason': 'tooLarge'}, {'index': 2, 'reason': 'tooLarge'}])
        body = self.put(g, s, [{'timestamp': t + 4, 'message': big_4byte},
                               {'timestamp': t + 3, 'message': ok_multi}])
        self.assertEqual(body, {'accepted': 1, 'rejected': [{'index': 0, 'reason': 'tooLarge'}]})
        self.assertEqual(self.msgs(g, s), [ok_ascii, ok_multi, 'small'])
        self.assertEqual(self.msgs(g, s, limit=1, order='desc'), ['small', ok_multi, ok_ascii])

    def test_batch_event_count_limit(self):
        g, s = self.mk()
        t = now_ms() - 10000
        evs = [{'timestamp': t + i % 100, 'message': 'x'} for i in range(MAX_BATCH_EVENTS + 1)]
        r = self.c.post_json(events_path(g, s), evs)
        body = self.assertError(r, 413)
        self.assertTrue(any(x in body['message'] for x in ('10000', '10,000', '10 000')),
                        '413 must name the event-count limit: %r' % body)
        self.assertEmptyStream(g, s)
        self.put_ok(g, s, evs[:MAX_BATCH_EVENTS])
        got = self.read(g, s, limit=10000)
        self.assertEqual(len(got), MAX_BATCH_EVENTS)

    def test_batch_byte_limit(self):
        g, s = self.mk()
        t = now_ms() - 10000
        per = (MAX_BATCH_BYTES - 4 * 26) // 4          # 262118: exactly 1 MiB with overhead
        self.assertEqual(4 * per + 4 * 26, MAX_BATCH_BYTES)
        exact = [{'timestamp': t + i, 'message': chr(ord('a') + i) * per} for i in range(4)]
        over = [dict(e) for e in exact]
        over[3]['message'] += 'z'
        r = self.c.post_json(events_path(g, s), over)
        body = self.assertError(r, 413)
        self.assertTrue(any(x in body['message'].replace(',', '')
                            for x in ('1048576', '1 MiB', '1MiB', '1 MB')),
                        '413 must name the byte limit: %r' % body)
        self.assertEmptyStream(g, s)
        # multibyte counts by UTF-8 bytes: 2-byte chars push over the limit too
        over2 = [dict(e) for e in exact]
        over2[0]['message'] = 'é' * (per // 2) + 'é'
        self.assertError(self.c.post_json(events_path(g, s), over2), 413)
        self.assertEmptyStream(g, s)
        # exactly at the limit is fine, and 26 bytes/event overhead is counted
        self.put_ok(g, s, exact)
        self.assertEqual(self.msgs(g, s), [e['message'] for e in exact])
        # the 26 bytes of overhead per event count: 9,000 events of 90 bytes are
        # 1,044,000 counted bytes (fine), 9,050 of 91 bytes are 1,058,850 (refused)
        g2, s2 = self.mk()
        ok = [{'timestamp': t, 'message': 'm' * 90} for _ in range(9000)]
        self.put_ok(g2, s2, ok)
        bad = [{'timestamp': t, 'message': 'm' * 91} for _ in range(9000)]
        bad += [{'timestamp': t, 'message': 'm' * 91} for _ in range(50)]   # 9050*117 > 1 MiB
        self.assertError(self.c.post_json(events_path(g2, s2), bad), 413)
        self.assertEqual(len(self.read(g2, s2, limit=10000)), 9000)

    def test_escaped_batch_under_body_cap(self):
        # 1 MiB of decoded messages that JSON escaping blows up to ~6 MiB.
        g, s = self.mk()
        t = now_ms() - 1000
        per = (MAX_BATCH_BYTES - 4 * 26) // 4
        evs = [{'timestamp': t + i, 'message': ('\u0001"\\' * per)[:per]} for i in range(4)]
        body = json.dumps(evs).encode()
        self.assertGreater(len(body), 3 * MAX_BATCH_BYTES)
        r = self.c.post_raw(events_path(g, s), body, 'application/json')
        self.assertEqual(self.assertStatus(r, 200), {'accepted': 4, 'rejected': []})
        self.assertEqual(self.msgs(g, s), [e['message'] for e in evs])

    def test_raw_body_over_max_body_413(self):
        g, s = self.mk()
        ev = json.dumps([{'timestamp': now_ms(), 'message': 'padded'}]).encode()
        body = ev[:-1] + b' ' * (9 * 1024 * 1024) + b']'
        st, data = raw_http(self.server.port, 'POST', events_path(g, s), body,
                            {'Content-Type': 'application/json'})
        self.assertEqual(st, 413, data[:300])
        self.assertEmptyStream(g, s)
        self.assertEqual(self.c.get('/healthz').status, 200)
        # the same event in a small body is fine
        self.put_ok(g, s, json.loads(ev))

    def test_unsupported_media_type_415(self):
        g, s = self.mk()
        body = json.dumps([{'timestamp': now_ms(), 'message': 'x'}]).encode()
        for ct in ['application/xml', 'text/csv', 'application/x-www-form-urlencoded',
                   'image/png', 'application/octet-stream']:
            r = self.c.post_raw(events_path(g, s), body, ct)
            self.assertError(r, 415, msg=ct)
        self.assertEmptyStream(g, s)

    def test_bad_json_400(self):
        g, s = self.mk()
        t = now_ms()
        good = '{"timestamp": %d, "message": "ok"}' % t
        bodies = ['[' + good + ',{"timestamp":', '[' + good, '[' + good + '] trailing',
                  'nope', '{', '', '[' + good + ',]', '{"events": 5}', '"a string"', '42',
                  '{"events": [' + good + '], "events2": ', 'null',
                  '[' + good + ', {"timestamp": 1, "message": "unterminated}]',
                  '[' + good + ', {"timestamp": 1, "message": "bad \\q escape"}]']
        for b in bodies:
            r = self.c.post_raw(events_path(g, s), b.encode(), 'application/json')
            self.assertError(r, 400, 'SerializationException', msg='body %r' % b[-40:])
        self.assertEmptyStream(g, s)
        self.put_ok(g, s, [{'timestamp': t, 'message': 'after'}])
        self.assertEqual(self.msgs(g, s), ['after'])

    def test_invalid_utf8_400(self):
        g, s = self.mk()
        t = now_ms()
        good = ('{"timestamp": %d, "message": "fine"}' % t).encode()
        bad_strings = [b'\xff', b'\xc0\xaf', b'\xed\xa0\x80', b'abc\xe6\x97', b'\x80',
                       b'\xf8\x88\x80\x80\x80', b'\xf4\x90\x80\x80']
        for bs in bad_strings:
            body = b'[' + good + b', {"timestamp": %d, "message": "' % t + bs + b'"}]'
            r = self.c.post_raw(events_path(g, s), body, 'application/json')
            self.assertError(r, 400, 'SerializationException', msg='json %r' % bs)
            body = good + b'\n{"timestamp": %d, "message": "' % t + bs + b'"}\n'
            r = self.c.post_raw(events_path(g, s), body, 'application/x-ndjson')
            self.assertError(r, 400, 'SerializationException', msg='ndjson %r' % bs)
            body = b'fine line\n' + bs + b' bad line\n'
            r = self.c.post_raw(events_path(g, s), body, 'text/plain')
            self.assertError(r, 400, 'SerializationException', msg='text %r' % bs)
        self.assertEmptyStream(g, s)

    def test_invalid_events_rejected_one_by_one(self):
        g, s = self.mk()
        t = now_ms() - 1000
        evs = [{'timestamp': t, 'message': 'ok-0'},
               {'timestamp': t},                                  # no message
               {'message': 'no timestamp'},
               {'timestamp': 'yesterday', 'message': 'string ts'},
               {'timestamp': t, 'message': ''},                   # empty message
               {'timestamp': t, 'message': 42},
               {'timestamp': t + 1, 'message': 'ok-6', 'extra': {'ignored': True}},
               {'timestamp': t, 'message': None}]
        body = self.put(g, s, evs)
        self.assertEqual(body['accepted'], 2, body)
        rej = sorted(body['rejected'], key=lambda x: x['index'])
        self.assertEqual([(x['index'], x['reason']) for x in rej],
                         [(i, 'invalid') for i in (1, 2, 3, 4, 5, 7)])
        # each invalid event says what is wrong with it
        details = {x['index']: x.get('detail', '') for x in rej}
        self.assertIn('message', details[1])
        self.assertIn('timestamp', details[2])
        self.assertIn('timestamp', details[3])
        self.assertIn('empty', details[4])
        self.assertEqual(self.msgs(g, s), ['ok-0', 'ok-6'])

    def test_time_window_rejections_in_client_order(self):
        g, s = self.mk()
        now = now_ms()
        evs = [{'timestamp': now - MS_HOUR, 'message': 'ok-0'},
               {'timestamp': now + 3 * MS_HOUR, 'message': 'new-1'},
               {'timestamp': now + MS_HOUR, 'message': 'ok-2'},
               {'timestamp': now - 15 * MS_DAY, 'message': 'old-3'},
               {'timestamp': now - 10, 'message': 'x' * (MAX_MSG + 1)},
               {'timestamp': now - 13 * MS_DAY, 'message': 'ok-5'},
               {'timestamp': now - 300 * MS_DAY, 'message': 'old-6'},
               {'timestamp': now + MS_DAY, 'message': 'new-7'},
               {'timestamp': now - 5, 'message': 'ok-8'},
               {'timestamp': 0, 'message': 'old-9'}]
        body = self.put(g, s, evs)
        self.assertEqual(body['accepted'], 4, body)
        self.assertEqual(sorted(body['rejected'], key=lambda x: x['index']),
                         [{'index': 1, 'reason': 'tooNew'}, {'index': 3, 'reason': 'tooOld'},
                          {'index': 4, 'reason': 'tooLarge'}, {'index': 6, 'reason': 'tooOld'},
                          {'index': 7, 'reason': 'tooNew'}, {'index': 9, 'reason': 'tooOld'}])
        self.assertEqual(self.msgs(g, s), ['ok-5', 'ok-0', 'ok-8', 'ok-2'])
        st = self.stream(g, s)
        self.assertEqual(st['firstEventTime'], now - 13 * MS_DAY)
        self.assertEqual(st['lastEventTime'], now + MS_HOUR)
        # a batch where every event is rejected: 200, nothing stored
        g2, s2 = self.mk()
        body = self.put(g2, s2, [{'timestamp': now + 3 * MS_HOUR, 'message': 'n'},
                                 {'timestamp': now - 20 * MS_DAY, 'message': 'o'}])
        self.assertEqual(body['accepted'], 0)
        self.assertEqual(sorted(body['rejected'], key=lambda x: x['index']),
                         [{'index': 0, 'reason': 'tooNew'}, {'index': 1, 'reason': 'tooOld'}])
        self.assertEmptyStream(g2, s2)

    def test_retention_rejections(self):
        now = now_ms()
        g, s = self.mk(retentionDays=1)
        body = self.put(g, s, [{'timestamp': now - 2 * MS_DAY, 'message': 'old-0'},
                               {'timestamp': now - 12 * MS_HOUR, 'message': 'ok-1'},
                               {'timestamp': now - 13 * MS_DAY, 'message': 'old-2'},
                               {'timestamp': now, 'message': 'ok-3'},
                               {'timestamp': now - 25 * MS_HOUR, 'message': 'old-4'}])
        self.assertEqual(body['accepted'], 2, body)
        self.assertEqual(sorted(body['rejected'], key=lambda x: x['index']),
                         [{'index': 0, 'reason': 'tooOld'}, {'index': 2, 'reason': 'tooOld'},
                          {'index': 4, 'reason': 'tooOld'}])
        self.assertEqual(self.msgs(g, s), ['ok-1', 'ok-3'])
        # a long retention does not lift the 14-day rule
        g, s = self.mk(retentionDays=30)
        body = self.put(g, s, [{'timestamp': now - 20 * MS_DAY, 'message': 'old-0'},
                               {'timestamp': now - 10 * MS_DAY, 'message': 'ok-1'}])
        self.assertEqual(body, {'accepted': 1, 'rejected': [{'index': 0, 'reason': 'tooOld'}]})
        self.assertEqual(self.msgs(g, s), ['ok-1'])

    def test_ndjson(self):
        g, s = self.mk()
        t = now_ms() - 5000
        whole = json.dumps({'level': 'info', 'msg': 'no message key', 'n': 1},
                           separators=(',', ':'))
        lines = [json.dumps({'timestamp': t, 'message': 'first é'}),
                 whole,
                 json.dumps({'timestamp': t - 1000, 'message': 'earlier', 'other': [1, 2]})]
        body = ('\n'.join(lines) + '\n').encode()
        t0 = now_ms()
        r = self.c.post_raw(events_path(g, s), body, 'application/x-ndjson')
        t1 = now_ms()
        self.assertEqual(self.assertStatus(r, 200), {'accepted': 3, 'rejected': []})
        got = self.read(g, s)
        self.assertEqual([e['message'] for e in got], ['earlier', 'first é', whole])
        self.assertEqual(got[0]['timestamp'], t - 1000)
        self.assertEqual(got[1]['timestamp'], t)
        self.assertGreaterEqual(got[2]['timestamp'], t0 - 5)
        self.assertLessEqual(got[2]['timestamp'], t1 + 5)
        # last line without a newline; CRLF-free lines of an old event rejected in order
        body = (json.dumps({'timestamp': t, 'message': 'a'}) + '\n'
                + json.dumps({'timestamp': t - 30 * MS_DAY, 'message': 'old'}) + '\n'
                + json.dumps({'timestamp': t + 1, 'message': 'b'})).encode()
        r = self.c.post_raw(events_path(g, s), body, 'application/x-ndjson')
        self.assertEqual(self.assertStatus(r, 200),
                         {'accepted': 2, 'rejected': [{'index': 1, 'reason': 'tooOld'}]})
        self.assertEqual(self.msgs(g, s)[:4], ['earlier', 'first é', 'a', 'b'])

    def test_text_plain(self):
        g, s = self.mk()
        lines = ['alpha line', 'beta ünïcode 日本', 'gamma {"json": "but text"}']
        t0 = now_ms()
        r = self.c.post_raw(events_path(g, s), ('\n'.join(lines) + '\n').encode(), 'text/plain')
        t1 = now_ms()
        self.assertEqual(self.assertStatus(r, 200), {'accepted': 3, 'rejected': []})
        got = self.read(g, s)
        self.assertEqual([e['message'] for e in got], lines)
        for e in got:
            self.assertGreaterEqual(e['timestamp'], t0 - 5)
            self.assertLessEqual(e['timestamp'], t1 + 5)
        r = self.c.post_raw(events_path(g, s), b'delta', 'text/plain; charset=utf-8')
        self.assertEqual(self.assertStatus(r, 200), {'accepted': 1, 'rejected': []})
        self.assertEqual(self.msgs(g, s), lines + ['delta'])

    def test_missing_target_404_unless_create(self):
        g = self.mk_group()
        ev = [{'timestamp': now_ms(), 'message': 'x'}]
        self.assertError(self.c.post_json(events_path(g, 'nope'), ev), 404,
                         'ResourceNotFoundException')
        self.assertError(self.c.get(stream_path(g, 'nope')), 404, 'ResourceNotFoundException')
        missing = uniq('auto')
        self.assertError(self.c.post_json(events_path(missing, 's'), ev), 404,
                         'ResourceNotFoundException')
        self.assertError(self.c.get(group_path(missing)), 404, 'ResourceNotFoundException')
        for create in ('false', '0'):
            self.assertError(self.c.post_json(events_path(missing, 's'), ev, create=create), 404,
                             'ResourceNotFoundException')

    def test_create_true(self):
        missing = uniq('auto')
        t = now_ms()
        body = self.put(missing, 'new/stream', [{'timestamp': t, 'message': 'made'}],
                        create='true')
        self.assertEqual(body, {'accepted': 1, 'rejected': []})
        self.assertEqual(self.group(missing)['name'], missing)
        self.assertIsNone(self.group(missing)['retentionDays'])
        self.assertEqual(self.stream(missing, 'new/stream')['lastEventTime'], t)
        self.assertEqual(self.msgs(missing, 'new/stream'), ['made'])
        # existing group, missing stream; then both existing
        self.put_ok(missing, 'second', [{'timestamp': t, 'message': 'two'}], create='true')
        self.put_ok(missing, 'second', [{'timestamp': t, 'message': 'three'}], create='true')
        self.assertEqual(self.msgs(missing, 'second'), ['two', 'three'])
        names = [x['name'] for x in self.c.get(streams_path(missing)).json['streams']]
        self.assertEqual(names, ['new/stream', 'second'])
        # ndjson and text also create
        r = self.c.post_raw(events_path(missing, 'txt'), b'hello', 'text/plain', create='true')
        self.assertEqual(self.assertStatus(r, 200), {'accepted': 1, 'rejected': []})
        # bad names are still refused
        r = self.c.post_json(events_path('bad name!', 's'), [{'timestamp': t, 'message': 'x'}],
                             create='true')
        self.assertError(r, 400, 'InvalidParameterException')
        self.assertError(self.c.get(group_path('bad name!')), 404)
        r = self.c.post_json(events_path(missing, 'a:b'), [{'timestamp': t, 'message': 'x'}],
                             create='true')
        self.assertError(r, 400, 'InvalidParameterException')
        self.assertError(self.c.get(stream_path(missing, 'a:b')), 404)
        # a batch that is refused whole creates nothing
        m2 = uniq('auto413')
        r = self.c.post_raw(events_path(m2, 's'), b'[{"timestamp": 1,', 'application/json',
                            create='true')
        self.assertError(r, 400, 'SerializationException')
        self.assertError(self.c.get(group_path(m2)), 404)


# ========================================================================= read

class TestRead(ApiCase):

    def _fill(self, n=237):
        """n events in three batches, with runs of equal timestamps. Returns
        (g, s, expected messages in (timestamp, arrival) order)."""
        g, s = self.mk()
        base = now_ms() - 100000
        rnd = random.Random(n)
        arrival = []
        batches = [list(range(0, n // 3)), list(range(n // 3, 2 * n // 3)),
                   list(range(2 * n // 3, n))]
        for b in batches:
            evs = [{'timestamp': base + rnd.randrange(60) * 100, 'message': 'e%04d' % i}
                   for i in b]
            rnd.shuffle(evs)
            self.put_ok(g, s, evs)
            arrival += evs
        order = {id(e): k for k, e in enumerate(arrival)}
        want = sorted(arrival, key=lambda e: (e['timestamp'], order[id(e)]))
        return g, s, [(e['timestamp'], e['message']) for e in want]

    def _tm(self, evs):
        return [(e['timestamp'], e['message']) for e in evs]

    def test_pagination_both_ways(self):
        g, s, want = self._fill()
        self.assertEqual(self._tm(self.read(g, s)), want)
        for lim in (1, 7, 10, 100, 236, 237, 238, 1000):
            fwd, pages = read_events(self.c, g, s, limit=lim)
            self.assertEqual(self._tm(fwd), want, 'limit %d asc' % lim)
            self.assertLessEqual(pages, -(-len(want) // lim) + 1)
            back, pages = read_events(self.c, g, s, limit=lim, order='desc')
            self.assertEqual(self._tm(back), want[::-1], 'limit %d desc' % lim)
        self.assertEqual(self._tm(read_events(self.c, g, s, order='asc')[0]), want)

    def test_no_token_after_last_page(self):
        g, s = self.mk()
        t = now_ms() - 1000
        self.put_ok(g, s, [{'timestamp': t + i, 'message': str(i)} for i in range(10)])
        for order in ('asc', 'desc'):
            for lim, pages in ((5, [5, 5]), (10, [10]), (20, [10]), (3, [3, 3, 3, 1])):
                token, got = None, []
                while True:
                    body = self.assertStatus(self.c.get(events_path(g, s), limit=lim, order=order,
                                                        nextToken=token), 200)
                    got.append(len(body['events']))
                    token = body.get('nextToken')
                    if token is None or len(got) > 10:
                        break
                self.assertEqual(got, pages, 'order %s limit %d: page sizes (nextToken must be'
                                 ' omitted when nothing is left)' % (order, lim))

    def test_default_limit_1000(self):
        g, s = self.mk()
        t = now_ms() - 10000
        self.put_ok(g, s, [{'timestamp': t + i, 'message': 'm%d' % i} for i in range(1500)])
        body = self.assertStatus(self.c.get(events_path(g, s)), 200)
        self.assertEqual([e['message'] for e in body['events']], ['m%d' % i for i in range(1000)])
        body = self.assertStatus(self.c.get(events_path(g, s), nextToken=body['nextToken']), 200)
        self.assertEqual([e['message'] for e in body['events']],
                         ['m%d' % i for i in range(1000, 1500)])
        self.assertNotIn('nextToken', body)
        body = self.assertStatus(self.c.get(events_path(g, s), limit=10000), 200)
        self.assertEqual(len(body['events']), 1500)
        self.assertNotIn('nextToken', body)

    def test_bad_params_400(self):
        g, s = self.mk()
        self.put_ok(g, s, [{'timestamp': now_ms(), 'message': 'x'}])
        for params in [dict(limit='0'), dict(limit='10001'), dict(limit='-5'), dict(limit='x'),
                       dict(order='sideways'), dict(start='yesterday'), dict(end='soon'),
                       dict(start='2026-13-45T00:00:00Z'), dict(start='-5x'), dict(end='--5m'),
                       dict(start='12abc'), dict(nextToken='garbage'),
                       dict(nextToken='AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
                       dict(nextToken='%%%'), dict(nextToken='x' * 5000)]:
            r = self.c.get(events_path(g, s), **params)
            self.assertError(r, 400, 'InvalidParameterException', msg=repr(params)[:80])

    def test_token_is_bound_to_its_stream_and_checked(self):
        g, s = self.mk()
        s2 = self.mk_stream(g, 'other')
        t = now_ms() - 1000
        for st in (s, s2):
            self.put_ok(g, st, [{'timestamp': t + i, 'message': '%s-%d' % (st, i)}
                                for i in range(6)])
        tok = self.c.get(events_path(g, s), limit=2).json['nextToken']
        r = self.c.get(events_path(g, s2), limit=2, nextToken=tok)
        self.assertError(r, 400, 'InvalidParameterException', msg='token of another stream')
        # one character changed
        mid = len(tok) // 2
        alt = 'A' if tok[mid] != 'A' else 'B'
        bad = tok[:mid] + alt + tok[mid + 1:]
        r = self.c.get(events_path(g, s), limit=2, nextToken=bad)
        self.assertError(r, 400, 'InvalidParameterException', msg='tampered token %r' % bad)
        # and the real one still works
        body = self.c.get(events_path(g, s), limit=2, nextToken=tok).json
        self.assertEqual([e['message'] for e in body['events']], ['s-2', 's-3'])
        # a token of a deleted then re-created stream is stale
        self.c.delete(stream_path(g, s))
        self.mk_stream(g, s)
        self.put_ok(g, s, [{'timestamp': t + i, 'message': 'new-%d' % i} for i in range(6)])
        r = self.c.get(events_path(g, s), limit=2, nextToken=tok)
        self.assertError(r, 400, 'InvalidParameterException', msg='token of a deleted stream')

    def test_start_inclusive_end_exclusive(self):
        g, s = self.mk()
        t = now_ms() - 100000
        self.put_ok(g, s, [{'timestamp': t + 1000 * i, 'message': str(i)} for i in range(10)]
                    + [{'timestamp': t + 3000, 'message': '3b'}])
        want = ['2', '3', '3b', '4']
        self.assertEqual(self.msgs(g, s, start=t + 2000, end=t + 5000), want)
        self.assertEqual(self.msgs(g, s, start=t + 2000, end=t + 5000, order='desc'), want[::-1])
        self.assertEqual(self.msgs(g, s, start=t + 2000, end=t + 5000, limit=1), want)
        self.assertEqual(self.msgs(g, s, start=t + 2000, end=t + 5000, limit=3, order='desc'),
                         want[::-1])
        self.assertEqual(self.msgs(g, s, start=t + 1999, end=t + 4001), want)
        self.assertEqual(self.msgs(g, s, start=t + 2001, end=t + 4000), ['3', '3b'])
        self.assertEqual(self.msgs(g, s, start=t + 9000), ['9'])
        self.assertEqual(self.msgs(g, s, end=t + 1000), ['0'])
        self.assertEqual(self.msgs(g, s, end=t), [])
        self.assertEqual(self.msgs(g, s, start=t + 3000, end=t + 3000), [])
        self.assertEqual(self.msgs(g, s, start=t + 3000, end=t + 3001), ['3', '3b'])
        self.assertEqual(self.msgs(g, s, start=t + 20000), [])
        self.assertEqual(len(self.msgs(g, s, start=0)), 11)

    def test_iso_times(self):
        g, s = self.mk()
        t = (now_ms() // 1000) * 1000 - 600000
        self.put_ok(g, s, [{'timestamp': t + 500 * i, 'message': str(i)} for i in range(8)])
        self.assertEqual(self.msgs(g, s, start=iso(t + 1000), end=iso(t + 2000)), ['2', '3'])
        self.assertEqual(self.msgs(g, s, start=iso(t), end=iso(t + 1000)), ['0', '1'])
        self.assertEqual(self.msgs(g, s, start=iso(t + 3000)), ['6', '7'])
        self.assertEqual(self.msgs(g, s, start=str(t + 1000), end=iso(t + 2000), order='desc'),
                         ['3', '2'])
        # unencoded ':' in the query string works as well
        path = events_path(g, s) + '?start=%s&end=%s' % (iso(t + 1000), iso(t + 2000))
        r = self.c.request('GET', path)
        self.assertEqual([e['message'] for e in self.assertStatus(r, 200)['events']], ['2', '3'])

    def test_more_time_forms(self):
        # the forms common/timeparse.h documents: fractions, offsets, dates, now, s and w
        g, s = self.mk()
        now = now_ms()
        t = (now // 1000) * 1000 - 600000
        self.put_ok(g, s, [{'timestamp': t + 500 * i, 'message': str(i)} for i in range(8)]
                    + [{'timestamp': now - 8 * MS_DAY, 'message': '8d'},
                       {'timestamp': now - 10000, 'message': '10s'}])
        self.assertEqual(self.msgs(g, s, start=iso(t + 1000)[:-1] + '.500Z',
                                   end=iso(t + 2000)[:-1] + '.001Z'), ['3', '4'])
        local = datetime.datetime.fromtimestamp((t + 1000) / 1000, datetime.timezone(
            datetime.timedelta(hours=1))).strftime('%Y-%m-%dT%H:%M:%S+01:00')
        self.assertEqual(self.msgs(g, s, start=local, end=iso(t + 2000)), ['2', '3'])
        west = datetime.datetime.fromtimestamp((t + 1000) / 1000, datetime.timezone(
            -datetime.timedelta(hours=5, minutes=30))).strftime('%Y-%m-%dT%H:%M:%S-05:30')
        self.assertEqual(self.msgs(g, s, start=west, end=iso(t + 2000)), ['2', '3'])
        self.assertEqual(self.msgs(g, s, start='-30s'), ['10s'])
        self.assertEqual(self.msgs(g, s, start='-1w', end='-5s'),
                         [str(i) for i in range(8)] + ['10s'])
        self.assertEqual(len(self.msgs(g, s, end='now')), 10)
        self.assertEqual(self.msgs(g, s, start='now'), [])
        day = datetime.datetime.fromtimestamp(now / 1000, datetime.timezone.utc)
        midnight = int(datetime.datetime(day.year, day.month, day.day,
                                         tzinfo=datetime.timezone.utc).timestamp() * 1000)
        want = sorted([(t + 500 * i, str(i)) for i in range(8)]
                      + [(now - 8 * MS_DAY, '8d'), (now - 10000, '10s')])
        self.assertEqual(self.msgs(g, s, end=day.strftime('%Y-%m-%d')),
                         [m for ts, m in want if ts < midnight])

    def test_relative_times(self):
        g, s = self.mk()
        now = now_ms()
        self.put_ok(g, s, [{'timestamp': now - 8 * MS_DAY, 'message': '8d'},
                           {'timestamp': now - 3 * MS_HOUR, 'message': '3h'},
                           {'timestamp': now - 20 * 60000, 'message': '20m'},
                           {'timestamp': now - 10 * 60000, 'message': '10m'},
                           {'timestamp': now - 60000, 'message': '1m'}])
        self.assertEqual(self.msgs(g, s, start='-7d'), ['3h', '20m', '10m', '1m'])
        self.assertEqual(self.msgs(g, s, start='-9d'), ['8d', '3h', '20m', '10m', '1m'])
        self.assertEqual(self.msgs(g, s, start='-2h'), ['20m', '10m', '1m'])
        self.assertEqual(self.msgs(g, s, start='-15m'), ['10m', '1m'])
        self.assertEqual(self.msgs(g, s, start='-15m', end='-5m'), ['10m'])
        self.assertEqual(self.msgs(g, s, start='-7d', end='-2h'), ['3h'])
        self.assertEqual(self.msgs(g, s, end='-7d'), ['8d'])
        self.assertEqual(self.msgs(g, s, start='-2h', order='desc', limit=1), ['1m', '10m', '20m'])


# ======================================================================== admin

class TestAdmin(ApiCase):

    def test_compact(self):
        g, s = self.mk()
        t = now_ms() - 100000
        want = []
        for b in range(6):
            evs = [{'timestamp': t + ((b * 7 + i * 13) % 50) * 10, 'message': 'b%d-%d' % (b, i)}
                   for i in range(40)]
            self.put_ok(g, s, evs)
            want += evs
        order = {id(e): k for k, e in enumerate(want)}
        want = [e['message'] for e in sorted(want, key=lambda e: (e['timestamp'], order[id(e)]))]
        self.assertEqual(self.msgs(g, s), want)
        before = self.stream(g, s)
        tok = self.c.get(events_path(g, s), limit=50).json['nextToken']
        dtok = self.c.get(events_path(g, s), limit=50, order='desc').json['nextToken']
        r = self.c.request('POST', '/api/v1/admin/compact', b'', 'application/json')
        body = self.assertStatus(r, 200)
        self.assertIsInstance(body.get('segmentsBefore'), int, body)
        self.assertIsInstance(body.get('segmentsAfter'), int, body)
        self.assertLessEqual(body['segmentsAfter'], body['segmentsBefore'])
        after = self.stream(g, s)
        self.assertEqual(after['segmentCount'], 1, (before, after))
        self.assertGreaterEqual(before['segmentCount'], after['segmentCount'])
        self.assertEqual(self.msgs(g, s), want)
        self.assertEqual(self.msgs(g, s, order='desc', limit=33), want[::-1])
        rest = read_events(self.c, g, s, limit=50, token=tok)[0]
        self.assertEqual([e['message'] for e in rest], want[50:])
        rest = read_events(self.c, g, s, limit=50, order='desc', token=dtok)[0]
        self.assertEqual([e['message'] for e in rest], want[::-1][50:])
        self.assertEqual(after['firstEventTime'], before['firstEventTime'])
        self.assertEqual(after['lastEventTime'], before['lastEventTime'])
        self.assertTrue(wait_for(lambda: self.stream(g, s)['storedBytes'] > 0))
        # compaction with nothing to do is fine too
        body = self.assertStatus(self.c.request('POST', '/api/v1/admin/compact', b'',
                                                'application/json'), 200)
        self.assertEqual(body['segmentsAfter'], body['segmentsBefore'])
        self.assertEqual(self.msgs(g, s), want)


# ============================================================ configured limits

class TestConfiguredLimits(ApiCase):
    server_args = ['--max-batch-events', '20', '--max-batch-bytes', '1000',
                   '--max-event-bytes', '100', '--max-body', '4096', '--threads', '2',
                   '--sync', 'normal']

    def test_event_count(self):
        g, s = self.mk()
        t = now_ms()
        evs = [{'timestamp': t, 'message': 'x'} for _ in range(21)]
        body = self.assertError(self.c.post_json(events_path(g, s), evs), 413)
        self.assertIn('20', body['message'])
        self.assertEmptyStream(g, s)
        self.put_ok(g, s, evs[:20])
        self.assertEqual(len(self.read(g, s)), 20)

    def test_batch_bytes(self):
        g, s = self.mk()
        t = now_ms()
        exact = [{'timestamp': t, 'message': 'y' * 99} for _ in range(8)]   # 8*99+8*26 = 1000
        over = [dict(e) for e in exact]
        over[5]['message'] += 'y'
        body = self.assertError(self.c.post_json(events_path(g, s), over), 413)
        self.assertIn('1000', body['message'].replace(',', ''))
        self.assertEmptyStream(g, s)
        self.put_ok(g, s, exact)
        self.assertEqual(self.msgs(g, s), [e['message'] for e in exact])

    def test_event_bytes(self):
        g, s = self.mk()
        t = now_ms()
        body = self.put(g, s, [{'timestamp': t, 'message': 'z' * 101},
                               {'timestamp': t, 'message': 'z' * 100},
                               {'timestamp': t, 'message': 'é' * 50 + 'z'}])
        self.assertEqual(body['accepted'], 1, body)
        self.assertEqual(sorted(body['rejected'], key=lambda x: x['index']),
                         [{'index': 0, 'reason': 'tooLarge'}, {'index': 2, 'reason': 'tooLarge'}])
        self.assertEqual(self.msgs(g, s), ['z' * 100])

    def test_max_body(self):
        g, s = self.mk()
        ev = json.dumps([{'timestamp': now_ms(), 'message': 'pad'}]).encode()
        exact = ev[:-1] + b' ' * (4096 - len(ev)) + b']'
        self.assertEqual(len(exact), 4096)
        over = ev[:-1] + b' ' * (4097 - len(ev)) + b']'
        st, data = raw_http(self.server.port, 'POST', events_path(g, s), over,
                            {'Content-Type': 'application/json'})
        self.assertEqual(st, 413, data[:300])
        self.assertEmptyStream(g, s)
        r = self.c.post_raw(events_path(g, s), exact, 'application/json')
        self.assertEqual(self.assertStatus(r, 200), {'accepted': 1, 'rejected': []})
        self.assertEqual(self.msgs(g, s), ['pad'])


# ========================================================== HTTP & edge cases

class TestEdges(ApiCase):

    def test_chunked_upload(self):
        g, s = self.mk()
        t = now_ms()
        evs = [{'timestamp': t - i, 'message': 'chunk %d %s' % (i, 'q' * 500)} for i in range(300)]
        body = json.dumps(evs).encode()
        st, data = raw_http(self.server.port, 'POST', events_path(g, s), body,
                            {'Content-Type': 'application/json'}, chunk=7000, chunked=True)
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(json.loads(data), {'accepted': 300, 'rejected': []})
        self.assertEqual(len(self.read(g, s)), 300)
        # a chunked body over --max-body is refused too, and stores nothing
        g2, s2 = self.mk()
        ev = json.dumps([{'timestamp': t, 'message': 'padded'}]).encode()
        big = ev[:-1] + b' ' * (9 * 1024 * 1024) + b']'
        st, data = raw_http(self.server.port, 'POST', events_path(g2, s2), big,
                            {'Content-Type': 'application/json'}, chunk=1 << 20, chunked=True)
        self.assertEqual(st, 413, data[:300])
        self.assertEmptyStream(g2, s2)
        self.assertEqual(self.c.get('/healthz').status, 200)

    def test_curl_with_expect_100_continue(self):
        if not shutil.which('curl'):
            self.skipTest('no curl')
        g, s = self.mk()
        t = now_ms()
        evs = [{'timestamp': t - i, 'message': 'curl %d %s' % (i, 'c' * 300)} for i in range(3000)]
        path = os.path.join(self.server.tmp, 'batch.json')
        with open(path, 'w') as f:
            json.dump(evs, f)
        url = 'http://127.0.0.1:%d%s' % (self.server.port, events_path(g, s))
        r = subprocess.run(['curl', '-sS', '-H', 'Content-Type: application/json', '-H',
                            'Expect: 100-continue', '--data-binary', '@' + path, url],
                           capture_output=True, timeout=60 * TIME_FACTOR)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(json.loads(r.stdout), {'accepted': 3000, 'rejected': []})
        self.assertEqual(len(self.read(g, s, limit=10000)), 3000)

    def test_concurrent_create_same_group(self):
        g = uniq('race')
        barrier = threading.Barrier(8)
        results = []

        def create():
            c = self.server.client()
            barrier.wait()
            results.append(c.post_json('/api/v1/groups', {'name': g}).status)
            c.close()
        ts = [threading.Thread(target=create) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60 * TIME_FACTOR)
        self.assertEqual(sorted(results), [201] + [409] * 7)

    def test_concurrent_create_true_ingest(self):
        g = uniq('race')
        barrier = threading.Barrier(8)
        results = []
        t0 = now_ms()

        def post(k):
            c = self.server.client()
            barrier.wait()
            r = c.post_json(events_path(g, 'auto'), [{'timestamp': t0 + k, 'message': 'r%d-%d'
                                                       % (k, i)} for i in range(50)],
                            create='true')
            results.append((r.status, r.json))
            c.close()
        ts = [threading.Thread(target=post, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60 * TIME_FACTOR)
        self.assertEqual(results, [(200, {'accepted': 50, 'rejected': []})] * 8)
        got = self.msgs(g, 'auto')
        self.assertEqual(sorted(got), sorted('r%d-%d' % (k, i) for k in range(8)
                                             for i in range(50)))
        self.assertEqual(got, ['r%d-%d' % (k, i) for k in range(8) for i in range(50)])
        self.assertEqual([x['name'] for x in self.c.get(streams_path(g)).json['streams']],
                         ['auto'])

    def test_nul_and_bad_utf8_in_names(self):
        g = self.mk_group()
        either = ('InvalidParameterException', 'SerializationException')
        r = self.c.post_json(streams_path(g), {'name': 'a\u0000b'})
        self.assertError(r, 400, either)
        self.assertError(self.c.get(stream_path(g, 'a')), 404)
        r = self.c.post_json('/api/v1/groups', {'name': 'grp\u0000x'})
        self.assertError(r, 400, either)
        # %FF is not UTF-8: refused, nothing created
        r = self.c.post_json(streams_path(g) + '/%FF/events', [{'timestamp': now_ms(),
                                                                'message': 'x'}],
                             create='true')
        self.assertError(r, 400)
        r = self.c.post_raw(streams_path(g) + '/a%00b/events', b'x', 'text/plain', create='true')
        self.assertIn(r.status, (400, 404), r)
        r = self.c.post_raw(streams_path(g) + '/bad%zzpct/events', b'x', 'text/plain',
                            create='true')
        self.assertError(r, 400)
        self.assertEqual(self.c.get(streams_path(g)).json['streams'], [])

    def test_numeric_overflow_in_events(self):
        g, s = self.mk()
        t = now_ms()
        body = ('[{"timestamp": 1e30, "message": "e30"},'
                ' {"timestamp": 9223372036854775808, "message": "2^63"},'
                ' {"timestamp": 99999999999999999999999999, "message": "huge"},'
                ' {"timestamp": -9223372036854775809, "message": "-2^63-1"},'
                ' {"timestamp": %d, "message": "ok"},'
                ' {"timestamp": 9223372036854775807, "message": "max"},'
                ' {"timestamp": -9223372036854775808, "message": "min"}]' % t).encode()
        r = self.c.post_raw(events_path(g, s), body, 'application/json')
        if r.status == 400:     # a decoder may call out-of-range integers malformed
            self.assertError(r, 400, 'SerializationException')
            self.assertEmptyStream(g, s)
            return
        body = self.assertStatus(r, 200)
        self.assertEqual(body['accepted'], 1, body)
        rej = {x['index']: x['reason'] for x in body['rejected']}
        self.assertEqual(sorted(rej), [0, 1, 2, 3, 5, 6])
        for i in (0, 1, 2, 5):
            self.assertIn(rej[i], ('invalid', 'tooNew'), body)
        for i in (3, 6):
            self.assertIn(rej[i], ('invalid', 'tooOld'), body)
        self.assertEqual(self.msgs(g, s), ['ok'])

    def test_numeric_overflow_in_params(self):
        g, s = self.mk()
        self.put_ok(g, s, [{'timestamp': now_ms(), 'message': 'x'}])
        for params in [dict(start='99999999999999999999'), dict(end='-99999999999999999999'),
                       dict(start='-99999999999999999d'), dict(start='-9999999999999999m'),
                       dict(end='99999-01-01T00:00:00Z'), dict(limit='99999999999999999999'),
                       dict(limit='4294967297'), dict(limit='1e3')]:
            r = self.c.get(events_path(g, s), **params)
            self.assertError(r, 400, 'InvalidParameterException', msg=repr(params))
        r = self.c.get('/api/v1/groups', limit='4294967297')
        self.assertError(r, 400, 'InvalidParameterException')
        r = self.c.get(streams_path(g), limit='18446744073709551617')
        self.assertError(r, 400, 'InvalidParameterException')

    def test_group_token_survives_deletions(self):
        prefix = '/integ/%s/tokdel/' % _RUN
        names = [prefix + str(i) for i in range(6)]
        for n in names:
            self.mk_group(n)
        body = self.c.get('/api/v1/groups', prefix=prefix, limit=2).json
        self.assertEqual([x['name'] for x in body['groups']], names[:2])
        self.c.delete(group_path(names[1]))
        self.c.delete(group_path(names[2]))
        r = self.c.get('/api/v1/groups', prefix=prefix, limit=2, nextToken=body['nextToken'])
        body = self.assertStatus(r, 200)
        self.assertEqual([x['name'] for x in body['groups']], names[3:5])
        r = self.c.get('/api/v1/groups', prefix=prefix, limit=2, nextToken=body['nextToken'])
        body = self.assertStatus(r, 200)
        self.assertEqual([x['name'] for x in body['groups']], names[5:])
        self.assertNotIn('nextToken', body)

    def test_stream_token_survives_deletions(self):
        g = self.mk_group()
        names = ['s%d' % i for i in range(5)]
        for n in names:
            self.mk_stream(g, n)
        body = self.c.get(streams_path(g), limit=2).json
        self.c.delete(stream_path(g, 's1'))
        self.c.delete(stream_path(g, 's2'))
        r = self.c.get(streams_path(g), limit=2, nextToken=body['nextToken'])
        body = self.assertStatus(r, 200)
        self.assertEqual([x['name'] for x in body['streams']], ['s3', 's4'])
        self.assertNotIn('nextToken', body)

    def test_token_sees_later_appends(self):
        g, s = self.mk()
        t = now_ms() - 100000
        self.put_ok(g, s, [{'timestamp': t + i, 'message': str(i)} for i in range(10)])
        body = self.c.get(events_path(g, s), limit=5).json
        self.put_ok(g, s, [{'timestamp': t + 2, 'message': 'behind'},
                           {'timestamp': t + 20, 'message': 'ahead'},
                           {'timestamp': t + 9, 'message': '9b'}])
        rest = read_events(self.c, g, s, limit=3, token=body['nextToken'])[0]
        self.assertEqual([e['message'] for e in rest], ['5', '6', '7', '8', '9', '9b', 'ahead'])
        # the asc token refuses the other order
        r = self.c.get(events_path(g, s), limit=5, order='desc', nextToken=body['nextToken'])
        self.assertError(r, 400, 'InvalidParameterException')

    def test_listing_lasteventtime_with_empty_streams(self):
        g = self.mk_group()
        self.mk_stream(g, 'empty1')
        self.mk_stream(g, 'full')
        self.mk_stream(g, 'empty2')
        self.put_ok(g, 'full', [{'timestamp': now_ms(), 'message': 'x'}])
        for desc in (None, 'true'):
            for lim in (None, 1):
                names, token = [], None
                for _ in range(10):
                    body = self.assertStatus(self.c.get(streams_path(g), orderBy='lastEventTime',
                                                        descending=desc, limit=lim,
                                                        nextToken=token), 200)
                    names += [x['name'] for x in body['streams']]
                    token = body.get('nextToken')
                    if token is None:
                        break
                self.assertEqual(sorted(names), ['empty1', 'empty2', 'full'], (desc, lim))

    def test_many_connections(self):
        socks = []
        try:
            for _ in range(64):
                socks.append(socket.create_connection(('127.0.0.1', self.server.port),
                                                      timeout=30 * TIME_FACTOR))
            for k in socks:
                k.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
            for k in socks:
                self.assertIn(b' 200 ', k.recv(4096).split(b'\r\n')[0] + b' ')
        finally:
            for k in socks:
                k.close()
        self.assertEqual(self.c.get('/healthz').status, 200)


    def test_pipelined_requests(self):
        g, s = self.mk()
        t = now_ms()
        reqs = b''
        for i in range(5):
            body = json.dumps([{'timestamp': t + i, 'message': 'pipe%d' % i}]).encode()
            reqs += (b'POST ' + events_path(g, s).encode() + b' HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n'
                     % len(body) + body)
        reqs += b'GET ' + events_path(g, s).encode() + b' HTTP/1.1\r\nHost: x\r\n\r\n'
        k = socket.create_connection(('127.0.0.1', self.server.port), timeout=30 * TIME_FACTOR)
        try:
            k.sendall(reqs)
            f = k.makefile('rb')
            answers = []
            for _ in range(6):
                status = f.readline().split()[1]
                clen = 0
                while True:
                    line = f.readline().strip()
                    if not line:
                        break
                    name, _, v = line.partition(b':')
                    if name.lower() == b'content-length':
                        clen = int(v)
                answers.append((int(status), json.loads(f.read(clen))))
        finally:
            k.close()
        self.assertEqual(answers[:5], [(200, {'accepted': 1, 'rejected': []})] * 5)
        self.assertEqual(answers[5][0], 200)
        self.assertEqual(self.msgs(g, s), ['pipe%d' % i for i in range(5)])

    def test_bytes_in_flight_cap(self):
        # Many large (JSON-escaped) bodies at once: each one is accepted whole
        # or refused whole (503 + Retry-After, nothing stored), never half.
        g, s = self.mk()
        t = now_ms() - 1000
        per = (MAX_BATCH_BYTES - 4 * 26) // 4
        results = []

        def post(k):
            evs = [{'timestamp': t + k, 'message': '\u0001' * (per - 5) + 'k%02di%d' % (k, i)}
                   for i in range(4)]
            body = json.dumps(evs).encode()
            c = self.server.client()
            try:
                r = c.post_raw(events_path(g, s), body, 'application/json')
                results.append((k, r))
            except OSError as e:  # a reset mid-upload is a failure too
                results.append((k, e))
            finally:
                c.close()
        n = scaled(14, 3)
        ts = [threading.Thread(target=post, args=(k,)) for k in range(n)]
        for th in ts:
            th.start()
        for th in ts:
            th.join(120 * TIME_FACTOR)
        self.assertEqual(len(results), n)
        ok = set()
        for k, r in results:
            self.assertNotIsInstance(r, OSError, 'request %d: %r' % (k, r))
            if r.status == 200:
                self.assertEqual(r.json, {'accepted': 4, 'rejected': []})
                ok.add(k)
            else:
                self.assertIn(r.status, (429, 503), r)
                self.assertError(r, r.status)
                self.assertTrue(r.header('Retry-After'), 'no Retry-After on %r' % r)
        got = self.read(g, s, limit=10000)
        self.assertEqual(sorted(e['message'][-5:] for e in got),
                         sorted('k%02di%d' % (k, i) for k in ok for i in range(4)))

    def test_garbage_and_huge_requests(self):
        for junk in [b'\x00\x01\x02 garbage\r\n\r\n', b'GET\r\n\r\n',
                     b'GET / HTTP/9.9\r\n\r\n', b'POST /api/v1/groups HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Length: -5\r\n\r\n',
                     b'GET /api/v1/groups/' + b'a' * 100000 + b' HTTP/1.1\r\nHost: x\r\n\r\n',
                     b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'h' * 100000 + b'\r\n\r\n']:
            # libmicrohttpd answers most of these itself (400/414/431/505, HTML
            # bodies) or waits for more bytes; the server must stay healthy.
            k = socket.create_connection(('127.0.0.1', self.server.port), timeout=2 * TIME_FACTOR)
            try:
                try:
                    k.sendall(junk)
                    data = k.recv(4096)
                except (ConnectionResetError, BrokenPipeError, socket.timeout):
                    data = b''
                if data:
                    self.assertRegex(data.split(b'\r\n')[0], rb'^HTTP/1\.[01] [45]\d\d',
                                     junk[:40])
            finally:
                k.close()
            self.assertEqual(self.c.get('/healthz').status, 200, junk[:40])


class TestShutdown(unittest.TestCase):
    """SIGTERM stops promptly with open client connections and exits 0."""

    def setUp(self):
        self.srv = SluiceServer()
        self.srv.start()

    def tearDown(self):
        self.srv.cleanup()

    def test_sigterm_with_idle_keepalive_connection(self):
        k = socket.create_connection(('127.0.0.1', self.srv.port), timeout=10 * TIME_FACTOR)
        try:
            k.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
            self.assertIn(b'200', k.recv(4096))
            t0 = time.monotonic()
            self.srv.stop(check=True, timeout=10 * TIME_FACTOR)
            self.assertLess(time.monotonic() - t0, 10 * TIME_FACTOR)
        finally:
            k.close()

    def test_sigterm_with_half_sent_request(self):
        c = self.srv.client()
        self.assertEqual(c.post_json(events_path('half', 's'), [{'timestamp': now_ms(),
                                                                 'message': 'x'}],
                                     create='true').status, 200)
        k = socket.create_connection(('127.0.0.1', self.srv.port), timeout=10 * TIME_FACTOR)
        try:
            k.sendall(b'POST ' + events_path('half', 's').encode() + b' HTTP/1.1\r\nHost: x\r\n'
                      b'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n'
                      b'[{"timestamp": 1, "mess')
            time.sleep(0.2)
            # The server waits a grace period (30 s) for requests in flight,
            # then stops anyway: it must not wait for ever.
            self.srv.stop(check=True, timeout=60 * TIME_FACTOR)
        finally:
            k.close()
        self.srv.start()
        c = self.srv.client()
        self.assertEqual([e['message'] for e in read_events(c, 'half', 's')[0]], ['x'])
        self.srv.stop(check=True)


# ================================================================ restart & CLI

class TestRestartAndCli(unittest.TestCase):

    def setUp(self):
        self.srv = SluiceServer()

    def tearDown(self):
        self.srv.cleanup()

    def test_state_survives_restart(self):
        srv = self.srv
        srv.start()
        c = srv.client()
        g = uniq('persist')
        self.assertEqual(c.post_json('/api/v1/groups', {'name': g, 'retentionDays': 14,
                                                        'tags': {'a': 'b'}}).status, 201)
        self.assertEqual(c.post_json(streams_path(g), {'name': 'st/1'}).status, 201)
        t = now_ms() - 1000
        r = c.post_json(events_path(g, 'st/1'), [{'timestamp': t + i, 'message': 'p%d' % i}
                                                 for i in range(30)])
        self.assertEqual(r.json, {'accepted': 30, 'rejected': []})
        grp, st = c.get(group_path(g)).json, c.get(stream_path(g, 'st/1')).json
        evs = read_events(c, g, 'st/1')[0]
        tok = c.get(events_path(g, 'st/1'), limit=10).json['nextToken']
        srv.restart()
        self.assertEqual(c.get(group_path(g)).json, grp)
        self.assertEqual(c.get(stream_path(g, 'st/1')).json, st)
        self.assertEqual(read_events(c, g, 'st/1')[0], evs)
        self.assertEqual(read_events(c, g, 'st/1', limit=10, token=tok)[0], evs[10:])
        srv.stop(check=True)

    def test_deletions_survive_restart(self):
        srv = self.srv
        srv.start()
        c = srv.client()
        g = uniq('delrestart')
        t = now_ms() - 1000
        for st in ('gone', 'kept'):
            r = c.post_json(events_path(g, st), [{'timestamp': t + i, 'message': '%s%d' % (st, i)}
                                                 for i in range(20)], create='true')
            self.assertEqual(r.status, 200, r)
        g2 = uniq('delrestart')
        self.assertEqual(c.post_json(events_path(g2, 's'), [{'timestamp': t, 'message': 'x'}],
                                     create='true').status, 200)
        self.assertEqual(c.delete(stream_path(g, 'gone')).status, 204)
        self.assertEqual(c.delete(group_path(g2)).status, 204)
        srv.restart()
        self.assertEqual(c.get(stream_path(g, 'gone')).status, 404)
        self.assertEqual(c.get(group_path(g2)).status, 404)
        self.assertEqual([x['name'] for x in c.get(streams_path(g)).json['streams']], ['kept'])
        self.assertEqual(len(read_events(c, g, 'kept')[0]), 20)
        self.assertEqual(c.post_json(streams_path(g), {'name': 'gone'}).status, 201)
        self.assertEqual(read_events(c, g, 'gone')[0], [])
        self.assertEqual(c.post_json('/api/v1/groups', {'name': g2}).status, 201)
        self.assertEqual(c.get(streams_path(g2)).json['streams'], [])

        def bytes_settled():
            streams = c.get(streams_path(g)).json['streams']
            return c.get(group_path(g)).json['storedBytes'] == sum(x['storedBytes']
                                                                  for x in streams)
        self.assertTrue(wait_for(bytes_settled, timeout=10), c.get(group_path(g)).json)
        self.assertEqual(c.get(group_path(g2)).json['storedBytes'], 0)
        srv.stop(check=True)

    def test_sigint_is_a_clean_stop(self):
        srv = self.srv
        srv.start()
        c = srv.client()
        g = uniq('sigint')
        r = c.post_json(events_path(g, 's'), [{'timestamp': now_ms(), 'message': 'x'}],
                        create='true')
        self.assertEqual(r.status, 200, r)
        srv.stop(check=True, sig=signal.SIGINT)
        srv.start()
        self.assertEqual([e['message'] for e in read_events(srv.client(), g, 's')[0]], ['x'])
        srv.stop(check=True)

    def _run(self, args, timeout=None):
        """Runs the binary to completion; a process still running after the
        timeout (e.g. a bad flag silently accepted) is killed and reported
        with returncode 'timeout'."""
        try:
            return subprocess.run(list(WRAPPER) + [SLUICE_BIN] + args, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout or 5 * TIME_FACTOR)
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(e.cmd, 'timeout', e.stdout or b'',
                                               e.stderr or b'')

    def test_help_and_version(self):
        if not os.path.exists(SLUICE_BIN):
            self.skipTest('no binary')
        r = self._run(['--help'])
        self.assertEqual(r.returncode, 0, r)
        out = (r.stdout + r.stderr).decode()
        for word in ('serve', '--listen', '--data'):
            self.assertIn(word, out)
        r = self._run(['--version'])
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex((r.stdout + r.stderr).decode(), r'\d+\.\d+\.\d+')

    def test_port_taken_and_bad_dir_fail_clearly(self):
        if not os.path.exists(SLUICE_BIN):
            self.skipTest('no binary')
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            sock.listen(1)
            port = sock.getsockname()[1]
            r = self._run(['serve', '--listen', '127.0.0.1:%d' % port,
                           '--data', self.srv.data_dir])
        self.assertNotIn(r.returncode, (0, 'timeout'), r)
        err = '\n'.join(ln for ln in r.stderr.decode().splitlines()
                        if not re.match(r'==\d+==', ln))          # valgrind's own lines
        self.assertTrue(err.strip(), 'no error message when the port is taken')
        self.assertLessEqual(len([ln for ln in err.splitlines()
                                  if 'error' in ln.lower() or 'fatal' in ln.lower()]), 3, err)
        blocker = os.path.join(self.srv.tmp, 'a-file')
        with open(blocker, 'w') as f:
            f.write('x')
        r = self._run(['serve', '--listen', '127.0.0.1:%d' % free_port(),
                       '--data', os.path.join(blocker, 'data')])
        self.assertNotIn(r.returncode, (0, 'timeout'), r)
        self.assertTrue(r.stderr.decode().strip(), 'no error message for a bad data dir')
        for bad in (['--sync', 'sometimes'], ['--threads', 'x'], ['--max-body', '-1'],
                    ['--bogus-flag']):
            r = self._run(['serve', '--listen', '127.0.0.1:%d' % free_port(),
                           '--data', self.srv.data_dir] + bad)
            self.assertNotIn(r.returncode, (0, 'timeout'), (bad, r))
            self.assertTrue(r.stderr.decode().strip(), 'no error message for %r' % bad)
        for listen in ('nohost', '127.0.0.1:99999', '127.0.0.1:x'):
            r = self._run(['serve', '--listen', listen, '--data', self.srv.data_dir])
            bad = listen
            self.assertNotIn(r.returncode, (0, 'timeout'), (bad, r))
            self.assertTrue(r.stderr.decode().strip(), 'no error message for %r' % bad)


if __name__ == '__main__':
    main()

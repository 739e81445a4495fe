#!/usr/bin/python3
"""tests/integ/test_boto3.py: Debian's boto3 (python3-boto3, botocore 1.29)
against a running `sluice serve` over the CloudWatch Logs JSON protocol:
the paginators of DescribeLogGroups, DescribeLogStreams and FilterLogEvents
(with and without a filter pattern) return every item exactly once; a GetLogEvents loop that stops when the
token comes back unchanged returns every event exactly once, forward and
backward; PutLogEvents rejections and errors arrive as boto3 exceptions;
Logs Insights queries (StartQuery ... GetLogGroupFields) answer what the
test computes from the events it put; metric filters (with
TestMetricFilter), query definitions and group settings are validated as
AWS does, paged, and kept across a restart.

Run with Debian's Python (a pyenv one may shadow it and lack boto3):
/usr/bin/python3 tests/integ/test_boto3.py [-k pattern]
"""

import itertools
import json
import os
import random
import sys
import time
import unittest

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import MS_DAY, MS_HOUR, TIME_FACTOR, ServerTestCase, main, now_ms, scaled  # noqa: E402

try:
    import boto3
    import botocore.config
    import botocore.exceptions
except ImportError:                     # pragma: no cover - reported by setUpClass
    boto3 = None

_counter = itertools.count()
_RUN = '%x' % random.randrange(1 << 32)


def uniq(tag='g'):
    return '/boto3/%s/%s-%d' % (_RUN, tag, next(_counter))


class Boto3Case(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        if boto3 is None:
            raise AssertionError('boto3 is missing: install Debian\'s python3-boto3 '
                                 '(scripts/setup --test) and run with /usr/bin/python3')
        super().setUpClass()
        # No retries: a wrong answer must show at once, not after back-off.
        cfg = botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'},
                                     read_timeout=60 * TIME_FACTOR)
        cls.logs = boto3.session.Session(
            aws_access_key_id='AKIDBOTO3', aws_secret_access_key='secret',
            region_name='us-east-1').client('logs', endpoint_url=cls.server.base, config=cfg)

    def mk(self, streams=('s',)):
        g = uniq()
        self.logs.create_log_group(logGroupName=g)
        for s in streams:
            self.logs.create_log_stream(logGroupName=g, logStreamName=s)
        return g

    def put(self, g, s, events):
        """Puts events in batches of at most 10,000 (sorted by time)."""
        for i in range(0, len(events), 10000):
            out = self.logs.put_log_events(logGroupName=g, logStreamName=s,
                                           logEvents=events[i:i + 10000])
            self.assertNotIn('rejectedLogEventsInfo', out)

    def wire(self, op, **body):
        """One call on the wire, for members this botocore's model lacks."""
        return self.c.request('POST', '/', json.dumps(body), 'application/x-amz-json-1.1',
                              headers={'X-Amz-Target': 'Logs_20140328.' + op})

    def assertClientError(self, code, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response['Error']['Code'], code)
        self.assertEqual(cm.exception.response['ResponseMetadata']['HTTPStatusCode'], 400)
        self.assertTrue(cm.exception.response['Error']['Message'])
        return cm.exception


class TestPaginators(Boto3Case):

    def test_describe_log_groups(self):
        base = uniq('pg')
        names = sorted('%s/%03d' % (base, i) for i in range(23))
        for n in random.sample(names, len(names)):
            self.logs.create_log_group(logGroupName=n)
        p = self.logs.get_paginator('describe_log_groups')
        for size in (1, 5, 50):
            pages = list(p.paginate(logGroupNamePrefix=base,
                                    PaginationConfig={'PageSize': size}))
            got = [g['logGroupName'] for pg in pages for g in pg['logGroups']]
            self.assertEqual(got, names, 'page size %d' % size)
            self.assertEqual(len(pages), -(-len(names) // size), 'page size %d' % size)
            self.assertNotIn('nextToken', pages[-1])

    def test_describe_log_streams(self):
        streams = ['st-%03d' % i for i in range(31)]
        g = self.mk(random.sample(streams, len(streams)))
        base = now_ms() - MS_HOUR
        for i, s in enumerate(streams[:20]):        # the rest have no events
            self.logs.put_log_events(logGroupName=g, logStreamName=s, logEvents=[
                {'timestamp': base + (i * 7919) % 20, 'message': 'x'}])
        p = self.logs.get_paginator('describe_log_streams')
        for kw in ({}, {'descending': True}, {'orderBy': 'LastEventTime'},
                   {'orderBy': 'LastEventTime', 'descending': True},
                   {'logStreamNamePrefix': 'st-01'}):
            got = [s['logStreamName'] for pg in p.paginate(
                logGroupName=g, PaginationConfig={'PageSize': 4}, **kw) for s in pg['logStreams']]
            want = [s for s in streams if s.startswith(kw.get('logStreamNamePrefix', ''))]
            self.assertEqual(sorted(got), want, kw)
            self.assertEqual(len(got), len(set(got)), kw)
            if 'orderBy' not in kw:
                self.assertEqual(got, sorted(want, reverse=kw.get('descending', False)), kw)
        # LastEventTime: by last event time (streams without events first)
        all_streams = self.logs.describe_log_streams(logGroupName=g, orderBy='LastEventTime',
                                                     limit=50)['logStreams']
        keys = [s.get('lastEventTimestamp', 0) for s in all_streams]
        self.assertEqual(keys, sorted(keys))

    def test_filter_log_events(self):
        streams = ['a', 'b', 'c', 'd']
        g = self.mk(streams)
        n = scaled(600, 40)
        base = now_ms() - 2 * MS_HOUR
        rnd = random.Random(1)
        want = []
        for s in streams:
            ts = sorted(base + rnd.randrange(3600 * 1000) for _ in range(n))
            evs = [{'timestamp': t, 'message': '%s-%d' % (s, i)} for i, t in enumerate(ts)]
            self.put(g, s, evs)
            want += [(e['timestamp'], s, e['message']) for e in evs]
        p = self.logs.get_paginator('filter_log_events')
        for size in (37, 1000):
            got = []
            ids = set()
            for pg in p.paginate(logGroupName=g, PaginationConfig={'PageSize': size}):
                self.assertLessEqual(len(pg['events']), size)
                for e in pg['events']:
                    got.append((e['timestamp'], e['logStreamName'], e['message']))
                    ids.add(e['eventId'])
            self.assertEqual(len(got), len(want), size)
            self.assertEqual(sorted(got), sorted(want), size)
            self.assertEqual([t for t, _, _ in got], sorted(t for t, _, _ in want),
                             'interleaved by time')
            self.assertEqual(len(ids), len(want))
        # a filter pattern, paged: every matching event once
        got = [e['message'] for pg in p.paginate(logGroupName=g, filterPattern='"d-1"',
                                                 PaginationConfig={'PageSize': 7})
               for e in pg['events']]
        self.assertEqual(sorted(got), sorted(m for _, _, m in want if 'd-1' in m))
        # a subset of streams and a time window, paged
        lo, hi = base + 600000, base + 1800000
        got = [(e['timestamp'], e['logStreamName'], e['message'])
               for pg in p.paginate(logGroupName=g, logStreamNames=['b', 'd'], startTime=lo,
                                    endTime=hi, PaginationConfig={'PageSize': 25})
               for e in pg['events']]
        self.assertEqual(sorted(got), sorted(x for x in want
                                             if x[1] in ('b', 'd') and lo <= x[0] <= hi))


class TestGetLogEvents(Boto3Case):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls('test_forward_loop')
        cls.g = t.mk(['s', 'empty'])
        base = now_ms() - 3 * MS_HOUR
        cls.n = scaled(2500, 60)
        rnd = random.Random(2)
        # repeated timestamps: order within a time is arrival order
        ts = sorted(base + rnd.randrange(cls.n // 3) for _ in range(cls.n))
        cls.events = [{'timestamp': t, 'message': 'event %05d' % i} for i, t in enumerate(ts)]
        t.put(cls.g, 's', cls.events)

    def loop(self, start_from_head, token_key, limit, stream='s'):
        """Follows token_key until it comes back unchanged; returns the
        events in the order read and the number of calls."""
        kw = {'logGroupName': self.g, 'logStreamName': stream, 'limit': limit,
              'startFromHead': start_from_head}
        pages = []
        token = None
        calls = 0
        while True:
            out = self.logs.get_log_events(**kw)
            calls += 1
            self.assertLessEqual(len(out['events']), limit)
            ts = [e['timestamp'] for e in out['events']]
            self.assertEqual(ts, sorted(ts), 'a page is oldest first')
            pages.append(out['events'])
            nxt = out[token_key]
            if nxt == token:
                self.assertEqual(out['events'], [])
                break
            token = kw['nextToken'] = nxt
            self.assertLess(calls, 10 * self.n, 'no end in sight')
        if not start_from_head:
            pages.reverse()
        return [e['message'] for pg in pages for e in pg], calls

    def test_forward_loop(self):
        for limit in (1, 7, 10000):
            got, calls = self.loop(True, 'nextForwardToken', limit)
            self.assertEqual(got, [e['message'] for e in self.events], limit)
            self.assertEqual(calls, -(-self.n // limit) + 1, limit)

    def test_backward_loop(self):
        for limit in (1, 13, 10000):
            got, calls = self.loop(False, 'nextBackwardToken', limit)
            self.assertEqual(got, [e['message'] for e in self.events], limit)
            self.assertEqual(calls, -(-self.n // limit) + 1, limit)

    def test_empty_stream_and_new_events(self):
        out = self.logs.get_log_events(logGroupName=self.g, logStreamName='empty',
                                       startFromHead=False)
        self.assertEqual(out['events'], [])
        again = self.logs.get_log_events(logGroupName=self.g, logStreamName='empty',
                                         nextToken=out['nextForwardToken'])
        self.assertEqual(again['nextForwardToken'], out['nextForwardToken'])
        # the forward token of an empty stream finds events that come later
        now = now_ms()
        self.logs.put_log_events(logGroupName=self.g, logStreamName='empty',
                                 logEvents=[{'timestamp': now, 'message': 'late'}])
        later = self.logs.get_log_events(logGroupName=self.g, logStreamName='empty',
                                         nextToken=out['nextForwardToken'])
        self.assertEqual([e['message'] for e in later['events']], ['late'])

    def test_direction_switch(self):
        first = self.logs.get_log_events(logGroupName=self.g, logStreamName='s', limit=10,
                                         startFromHead=True)
        second = self.logs.get_log_events(logGroupName=self.g, logStreamName='s', limit=10,
                                          nextToken=first['nextForwardToken'])
        back = self.logs.get_log_events(logGroupName=self.g, logStreamName='s', limit=10,
                                        nextToken=second['nextBackwardToken'])
        self.assertEqual(back['events'], first['events'])
        msgs = [e['message'] for e in second['events']]
        self.assertEqual(msgs, [e['message'] for e in self.events[10:20]])

    def test_bad_tokens(self):
        for tok in ('garbage', 'f/', 'x/' + 'A' * 20):
            self.assertClientError('InvalidParameterException', self.logs.get_log_events,
                                   logGroupName=self.g, logStreamName='s', nextToken=tok)


class TestPutLogEvents(Boto3Case):

    def test_rejections(self):
        g = self.mk()
        now = now_ms()
        out = self.logs.put_log_events(logGroupName=g, logStreamName='s', logEvents=[
            {'timestamp': now - 15 * MS_DAY, 'message': 'old'},
            {'timestamp': now - 60000, 'message': 'ok 1'},
            {'timestamp': now, 'message': 'ok 2'},
            {'timestamp': now + 3 * MS_HOUR, 'message': 'new 1'},
            {'timestamp': now + 4 * MS_HOUR, 'message': 'new 2'}])
        self.assertEqual(out['rejectedLogEventsInfo'],
                         {'tooOldLogEventEndIndex': 1, 'tooNewLogEventStartIndex': 3})
        self.assertTrue(out['nextSequenceToken'])
        got = self.logs.get_log_events(logGroupName=g, logStreamName='s', startFromHead=True)
        self.assertEqual([e['message'] for e in got['events']], ['ok 1', 'ok 2'])

    def test_errors(self):
        g = self.mk()
        now = now_ms()
        ok = [{'timestamp': now, 'message': 'x'}]
        self.assertRaises(self.logs.exceptions.ResourceNotFoundException,
                          self.logs.put_log_events, logGroupName=uniq('none'),
                          logStreamName='s', logEvents=ok)
        self.assertRaises(self.logs.exceptions.ResourceNotFoundException,
                          self.logs.put_log_events, logGroupName=g, logStreamName='none',
                          logEvents=ok)
        e = self.assertClientError('InvalidParameterException', self.logs.put_log_events,
                                   logGroupName=g, logStreamName='s',
                                   logEvents=[{'timestamp': now, 'message': 'x'}] * 10001)
        self.assertIn('10000', e.response['Error']['Message'])
        self.assertClientError('InvalidParameterException', self.logs.put_log_events,
                               logGroupName=g, logStreamName='s',
                               logEvents=[{'timestamp': now, 'message': 'b'},
                                          {'timestamp': now - 1, 'message': 'a'}])
        # 10,000 events is the limit, not an error
        out = self.logs.put_log_events(logGroupName=g, logStreamName='s',
                                       logEvents=[{'timestamp': now, 'message': 'm'}] * 10000)
        self.assertNotIn('rejectedLogEventsInfo', out)
        got = self.logs.filter_log_events(logGroupName=g, limit=10000)
        self.assertEqual(len(got['events']), 10000)
        self.assertNotIn('nextToken', got)
        self.assertEqual(got['ResponseMetadata']['HTTPHeaders'].get('content-type'),
                         'application/x-amz-json-1.1')
        self.assertEqual(len(got['ResponseMetadata']['RequestId']), 36)

    def test_tags_and_retention(self):
        g = self.mk()
        arn = 'arn:aws:logs:us-east-1:000000000000:log-group:' + g
        self.logs.tag_resource(resourceArn=arn, tags={'team': 'core'})
        self.logs.put_retention_policy(logGroupName=g, retentionInDays=14)
        grp = self.logs.describe_log_groups(logGroupNamePrefix=g)['logGroups'][0]
        self.assertEqual(grp['retentionInDays'], 14)
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=arn)['tags'],
                         {'team': 'core'})
        e = self.assertClientError('TooManyTagsException', self.logs.tag_resource,
                                   resourceArn=arn,
                                   tags={'k%d' % i: 'v' for i in range(50)})
        self.assertEqual(e.response.get('resourceName'), arn)


class TestInsights(Boto3Case):
    """StartQuery / GetQueryResults / StopQuery / DescribeQueries /
    GetLogRecord / GetLogGroupFields, checked against answers computed
    here from the events the test put."""

    LEVELS = ('INFO', 'WARN', 'ERROR')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.g = uniq('q')
        cls.logs.create_log_group(logGroupName=cls.g)
        cls.now = now_ms()
        cls.events = {}
        for s in ('a', 'b'):
            cls.logs.create_log_stream(logGroupName=cls.g, logStreamName=s)
            evs = [{'timestamp': cls.now - 60000 + i * 100,
                    'message': '{"level": "%s", "n": %d, "stream": "%s"}'
                               % (cls.LEVELS[i % 3], i, s)}
                   for i in range(30 if s == 'a' else 20)]
            cls.logs.put_log_events(logGroupName=cls.g, logStreamName=s, logEvents=evs)
            cls.events[s] = evs
        cls.all = [json.loads(e['message']) for evs in cls.events.values() for e in evs]
        cls.t0 = (cls.now - 120000) // 1000
        cls.t1 = (cls.now + 60000) // 1000

    def run_query(self, query, **kw):
        if not any(k in kw for k in ('logGroupName', 'logGroupNames', 'logGroupIdentifiers')) \
                and not query.startswith('SOURCE'):
            kw['logGroupName'] = self.g
        qid = self.logs.start_query(queryString=query, startTime=kw.pop('startTime', self.t0),
                                    endTime=kw.pop('endTime', self.t1), **kw)['queryId']
        self.assertEqual(len(qid), 36)
        deadline = time.time() + 60 * TIME_FACTOR
        while True:
            out = self.logs.get_query_results(queryId=qid)
            if out['status'] not in ('Scheduled', 'Running'):
                break
            self.assertLess(time.time(), deadline, 'query did not finish')
            time.sleep(0.05)
        self.assertEqual(out['status'], 'Complete', out)
        return qid, out

    @staticmethod
    def rows(out):
        return [{c['field']: c['value'] for c in r} for r in out['results']]

    def test_count_and_statistics(self):
        qid, out = self.run_query('stats count(*) as c')
        self.assertEqual(self.rows(out), [{'c': str(len(self.all))}])
        st = out['statistics']
        self.assertEqual(st['recordsScanned'], float(len(self.all)))
        self.assertEqual(st['recordsMatched'], float(len(self.all)))
        self.assertGreater(st['bytesScanned'], 0)
        # members newer than this botocore's model, read from the wire
        r = self.wire('GetQueryResults', queryId=qid)
        self.assertEqual(r.status, 200)
        st = r.json['statistics']
        self.assertEqual(st['logGroupsScanned'], 1.0)
        for k in ('estimatedRecordsSkipped', 'estimatedBytesSkipped'):
            self.assertIsInstance(st[k], (int, float))
        self.assertEqual(r.json['queryLanguage'], 'CWLI')

    def test_stats_by(self):
        _, out = self.run_query('stats count(*) as c, sum(n) as total by level | sort level asc')
        want = []
        for lv in sorted(self.LEVELS):
            ns = [e['n'] for e in self.all if e['level'] == lv]
            want.append({'level': lv, 'c': str(len(ns)), 'total': str(sum(ns))})
        self.assertEqual(self.rows(out), want)
        for r in out['results']:
            self.assertEqual([c['field'] for c in r], ['level', 'c', 'total'])

    def test_sort_limit_and_ptr(self):
        _, out = self.run_query('fields @timestamp, n, @message | filter level = "ERROR" '
                                '| sort n desc | limit 4')
        errs = sorted((e for e in self.all if e['level'] == 'ERROR'),
                      key=lambda e: e['n'], reverse=True)
        got = self.rows(out)
        self.assertEqual([r['n'] for r in got], [str(e['n']) for e in errs[:4]])
        self.assertEqual(out['statistics']['recordsMatched'], float(len(errs)))
        first = out['results'][0]
        self.assertEqual(first[-1]['field'], '@ptr')
        rec = self.logs.get_log_record(logRecordPointer=first[-1]['value'])['logRecord']
        self.assertEqual(rec['@message'], got[0]['@message'])
        self.assertEqual(rec['@log'], '000000000000:' + self.g)
        self.assertIn(rec['@logStream'], ('a', 'b'))
        self.assertEqual(rec['level'], 'ERROR')
        self.assertEqual(rec['n'], got[0]['n'])
        self.assertTrue(rec['@timestamp'].isdigit())
        self.assertTrue(rec['@ingestionTime'].isdigit())
        self.assertClientError('InvalidParameterException', self.logs.get_log_record,
                               logRecordPointer='not-a-pointer')

    def test_api_limit_and_names(self):
        _, out = self.run_query('fields n | sort n asc', limit=3,
                                logGroupNames=[self.g])
        self.assertEqual(len(out['results']), 3)
        arn = 'arn:aws:logs:us-east-1:000000000000:log-group:' + self.g
        _, out = self.run_query('filter stream = "b" | stats count(*) as c',
                                logGroupIdentifiers=[arn])
        self.assertEqual(self.rows(out), [{'c': str(len(self.events['b']))}])

    def test_source_header_and_describe(self):
        q = 'SOURCE "%s" START=%d END=%d | stats count(*) as c' % (
            self.g, (self.now - 120000), (self.now + 60000))
        qid, out = self.run_query(q)
        self.assertEqual(self.rows(out), [{'c': str(len(self.all))}])
        # the plain form is shown with AWS's header in front
        qid2, _ = self.run_query('stats count(*) as c2')
        got = self.logs.describe_queries(logGroupName=self.g, status='Complete')
        byid = {x['queryId']: x for x in got['queries']}
        self.assertIn(qid, byid)
        self.assertEqual(byid[qid]['queryString'], q)
        self.assertEqual(byid[qid2]['queryString'],
                         'SOURCE "%s" START=%d000 END=%d999 | stats count(*) as c2'
                         % (self.g, self.t0, self.t1))
        self.assertEqual(byid[qid2]['logGroupName'], self.g)
        self.assertEqual(byid[qid2]['status'], 'Complete')
        self.assertIsInstance(byid[qid2]['createTime'], int)
        # pages of one
        seen, kw = [], {}
        while True:
            page = self.logs.describe_queries(logGroupName=self.g, maxResults=1, **kw)
            seen += [x['queryId'] for x in page['queries']]
            if 'nextToken' not in page:
                break
            kw = {'nextToken': page['nextToken']}
        self.assertEqual(sorted(seen), sorted(byid))
        self.assertEqual(self.logs.describe_queries(logGroupName=self.g,
                                                    status='Running')['queries'], [])
        self.assertClientError('InvalidParameterException', self.logs.describe_queries,
                               status='Bogus')
        self.assertClientError('InvalidParameterException', self.logs.describe_queries,
                               nextToken='not-a-token')

    def test_stop_and_errors(self):
        qid, _ = self.run_query('fields @message | limit 1')
        e = self.assertClientError('InvalidParameterException', self.logs.stop_query,
                                   queryId=qid)
        self.assertIn('not running', e.response['Error']['Message'])
        self.assertClientError('ResourceNotFoundException', self.logs.get_query_results,
                               queryId='00000000-0000-4000-8000-000000000000')
        e = self.assertClientError('MalformedQueryException', self.logs.start_query,
                                   logGroupName=self.g, startTime=self.t0, endTime=self.t1,
                                   queryString='fields @message | stats count(* by')
        qce = e.response['queryCompileError']
        self.assertIn('startCharOffset', qce['location'])
        self.assertTrue(qce['message'])
        self.assertClientError('ResourceNotFoundException', self.logs.start_query,
                               logGroupName=uniq('none'), startTime=self.t0,
                               endTime=self.t1, queryString='fields @message')
        self.assertClientError('InvalidParameterException', self.logs.start_query,
                               startTime=self.t0, endTime=self.t1,
                               queryString='fields @message')
        self.assertClientError('InvalidParameterException', self.logs.start_query,
                               logGroupName=self.g, logGroupNames=[self.g],
                               startTime=self.t0, endTime=self.t1,
                               queryString='fields @message')
        self.assertClientError('InvalidParameterException', self.logs.start_query,
                               logGroupName=self.g, startTime=self.t1, endTime=self.t0,
                               queryString='fields @message')

    def test_query_language(self):
        # this botocore predates queryLanguage: send it on the wire
        body = {'logGroupName': self.g, 'startTime': self.t0, 'endTime': self.t1,
                'queryString': 'SELECT 1', 'queryLanguage': 'SQL'}
        r = self.wire('StartQuery', **body)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json['__type'], 'InvalidParameterException')
        body['queryLanguage'] = 'KQL'
        r = self.wire('StartQuery', **body)
        self.assertEqual(r.status, 400)
        self.assertIn('enum value set', r.json['message'])

    def test_log_group_fields(self):
        got = self.logs.get_log_group_fields(logGroupName=self.g)['logGroupFields']
        pct = {f['name']: f['percent'] for f in got}
        for name in ('@timestamp', '@message', '@logStream', '@log', '@ingestionTime',
                     'level', 'n', 'stream'):
            self.assertEqual(pct.get(name), 100, got)
        self.assertEqual([f['percent'] for f in got],
                         sorted((f['percent'] for f in got), reverse=True))
        got = self.logs.get_log_group_fields(logGroupName=self.g,
                                             time=self.now // 1000 - 86400)
        self.assertEqual(got['logGroupFields'], [])
        self.assertClientError('ResourceNotFoundException', self.logs.get_log_group_fields,
                               logGroupName=uniq('none'))
        arn = 'arn:aws:logs:us-east-1:000000000000:log-group:' + self.g
        r = self.wire('GetLogGroupFields', logGroupIdentifier=arn)   # newer than this botocore
        self.assertEqual(r.status, 200, r)
        self.assertEqual({f['name']: f['percent'] for f in r.json['logGroupFields']}, pct)


class TestDefinitions(Boto3Case):
    """Stored definitions (schema v2): metric filters, TestMetricFilter,
    query definitions, group class/KMS key/deletion protection, and all of
    them across a restart. Members newer than Debian's botocore 1.29
    (logGroupClass, deletionProtectionEnabled, queryLanguage, ...) go out
    as raw requests."""

    def raw(self, op, **body):
        r = self.c.request('POST', '/', json.dumps(body).encode(),
                           'application/x-amz-json-1.1',
                           {'X-Amz-Target': 'Logs_20140328.' + op})
        return r.status, (r.json or {})

    def raw_error(self, code, op, **body):
        status, out = self.raw(op, **body)
        self.assertEqual((status, out.get('__type')), (400, code), out)
        return out['message']

    @staticmethod
    def mt(**kw):
        t = {'metricName': 'Errors', 'metricNamespace': 'App', 'metricValue': '1'}
        t.update(kw)
        return [t]

    def test_metric_filters_crud(self):
        g = self.mk()
        for name in ('c-filter', 'a-filter', 'b-filter'):
            self.logs.put_metric_filter(logGroupName=g, filterName=name, filterPattern='ERROR',
                                        metricTransformations=self.mt())
        self.logs.put_metric_filter(
            logGroupName=g, filterName='json', filterPattern='{ $.latency > 0 }',
            metricTransformations=self.mt(metricName='Latency', metricValue='$.latency',
                                          unit='Milliseconds', defaultValue=0))
        self.logs.put_metric_filter(
            logGroupName=g, filterName='delim', filterPattern='[ip, user, status, bytes]',
            metricTransformations=self.mt(metricName='Bytes', metricValue='$bytes',
                                          dimensions={'Status': '$status', 'User': '$user'}))
        got = self.logs.describe_metric_filters(logGroupName=g)['metricFilters']
        self.assertEqual([f['filterName'] for f in got],
                         ['a-filter', 'b-filter', 'c-filter', 'delim', 'json'])
        js = got[4]
        self.assertEqual(js['logGroupName'], g)
        self.assertEqual(js['filterPattern'], '{ $.latency > 0 }')
        self.assertEqual(js['metricTransformations'],
                         [{'metricName': 'Latency', 'metricNamespace': 'App',
                           'metricValue': '$.latency', 'unit': 'Milliseconds',
                           'defaultValue': 0.0}])
        self.assertNotIn('defaultValue', got[0]['metricTransformations'][0])
        self.assertEqual(got[3]['metricTransformations'][0]['dimensions'],
                         {'Status': '$status', 'User': '$user'})
        self.assertLess(abs(js['creationTime'] - now_ms()), 60000)
        # prefix, metric name + namespace, pages
        got = self.logs.describe_metric_filters(logGroupName=g, filterNamePrefix='b')
        self.assertEqual([f['filterName'] for f in got['metricFilters']], ['b-filter'])
        got = self.logs.describe_metric_filters(metricName='Latency', metricNamespace='App')
        self.assertIn(('json', g), [(f['filterName'], f['logGroupName'])
                                    for f in got['metricFilters']])
        p = self.logs.get_paginator('describe_metric_filters')
        pages = list(p.paginate(logGroupName=g, PaginationConfig={'PageSize': 2}))
        self.assertEqual(len(pages), 3)
        self.assertEqual([f['filterName'] for pg in pages for f in pg['metricFilters']],
                         ['a-filter', 'b-filter', 'c-filter', 'delim', 'json'])
        self.assertNotIn('nextToken', pages[-1])
        # replace keeps the count; the group shows it
        self.logs.put_metric_filter(logGroupName=g, filterName='a-filter', filterPattern='WARN',
                                    metricTransformations=self.mt())
        grp = self.logs.describe_log_groups(logGroupNamePrefix=g)['logGroups'][0]
        self.assertEqual(grp['metricFilterCount'], 5)
        self.logs.delete_metric_filter(logGroupName=g, filterName='a-filter')
        got = self.logs.describe_metric_filters(logGroupName=g, limit=1)['metricFilters']
        self.assertEqual([(f['filterName'], f['filterPattern']) for f in got],
                         [('b-filter', 'ERROR')])
        grp = self.logs.describe_log_groups(logGroupNamePrefix=g)['logGroups'][0]
        self.assertEqual(grp['metricFilterCount'], 4)
        # deleting the group drops its filters
        self.logs.delete_log_group(logGroupName=g)
        self.logs.create_log_group(logGroupName=g)
        self.assertEqual(self.logs.describe_metric_filters(logGroupName=g)['metricFilters'], [])

    def test_metric_filter_errors(self):
        g = self.mk()
        put = self.logs.put_metric_filter
        ok = dict(logGroupName=g, filterName='f', filterPattern='ERROR',
                  metricTransformations=self.mt())
        self.assertClientError('ResourceNotFoundException', put,
                               **dict(ok, logGroupName=uniq('none')))
        e = self.assertClientError('InvalidParameterException', put,
                                   **dict(ok, filterPattern='a:b'))
        self.assertIn("'a:b'", e.response['Error']['Message'])
        e = self.assertClientError('InvalidParameterException', put,
                                   **dict(ok, metricTransformations=self.mt() * 2))
        self.assertIn('length less than or equal to 1', e.response['Error']['Message'])
        for bad in (dict(metricValue='$.nope'),               # not for a term pattern
                    dict(metricName='a:b'), dict(metricNamespace='n*'),
                    dict(metricValue='x' * 101), dict(unit='Furlongs'),
                    dict(metricName='x' * 256)):
            self.assertClientError('InvalidParameterException', put,
                                   **dict(ok, metricTransformations=self.mt(**bad)))
        delim = dict(ok, filterPattern='[a, b, c, d]')
        self.assertClientError('InvalidParameterException', put, **dict(
            delim, metricTransformations=self.mt(
                dimensions={'A': '$a', 'B': '$b', 'C': '$c', 'D': '$d'})))
        e = self.assertClientError('InvalidParameterException', put, **dict(
            delim, metricTransformations=self.mt(dimensions={'A': '$a'}, defaultValue=1.0)))
        self.assertIn('defaultValue', e.response['Error']['Message'])
        self.assertClientError('InvalidParameterException', put, **dict(
            delim, metricTransformations=self.mt(dimensions={'A': '$zz'})))
        self.assertClientError('InvalidParameterException', put, **dict(ok, filterName='a*b'))
        self.assertClientError('InvalidParameterException', put,
                               **dict(ok, filterPattern='x' * 1025))
        put(**dict(delim, metricTransformations=self.mt(dimensions={'A': '$a'},
                                                        metricValue='$d')))
        self.assertClientError('ResourceNotFoundException', self.logs.delete_metric_filter,
                               logGroupName=g, filterName='none')
        self.assertClientError('InvalidParameterException', self.logs.describe_metric_filters,
                               metricName='Errors')
        self.assertClientError('InvalidParameterException', self.logs.describe_metric_filters,
                               logGroupName=g, nextToken='garbage')
        self.assertClientError('ResourceNotFoundException', self.logs.describe_metric_filters,
                               logGroupName=uniq('none'))
        # 100 filters a group
        for i in range(99):
            put(**dict(ok, filterName='n%03d' % i))
        e = self.assertClientError('LimitExceededException', put, **dict(ok, filterName='last'))
        put(**dict(ok, filterName='n000', filterPattern='WARN'))      # replacing is fine

    def test_test_metric_filter(self):
        msgs = ['127.0.0.1 alice 404 512', 'ERROR boom', '10.0.0.1 bob 200 99',
                '{"latency": 12, "path": "/x"}']
        out = self.logs.test_metric_filter(filterPattern='[ip, user, status = 404, bytes]',
                                           logEventMessages=msgs)['matches']
        self.assertEqual(out, [{'eventNumber': 1, 'eventMessage': msgs[0],
                                'extractedValues': {'$ip': '127.0.0.1', '$user': 'alice',
                                                    '$status': '404', '$bytes': '512'}}])
        out = self.logs.test_metric_filter(filterPattern='ERROR', logEventMessages=msgs)
        self.assertEqual(out['matches'], [{'eventNumber': 2, 'eventMessage': 'ERROR boom',
                                           'extractedValues': {}}])
        out = self.logs.test_metric_filter(filterPattern='{ $.latency > 10 }',
                                           logEventMessages=msgs)['matches']
        self.assertEqual([(m['eventNumber'], m['extractedValues']) for m in out],
                         [(4, {'$.latency': '12'})])
        out = self.logs.test_metric_filter(filterPattern='', logEventMessages=msgs)
        self.assertEqual([m['eventNumber'] for m in out['matches']], [1, 2, 3, 4])
        e = self.assertClientError('InvalidParameterException', self.logs.test_metric_filter,
                                   filterPattern='{ $.a = ', logEventMessages=msgs)
        self.assertClientError('InvalidParameterException', self.logs.test_metric_filter,
                               filterPattern='x', logEventMessages=['m'] * 51)

    def test_query_definitions(self):
        pre = 'defs-%s/' % _RUN
        ids = {}
        for name in ('c', 'a', 'b', 'e', 'd'):
            out = self.logs.put_query_definition(name=pre + name,
                                                 queryString='fields @message | limit 5',
                                                 logGroupNames=['/g/' + name])
            self.assertEqual(len(out['queryDefinitionId']), 36)
            ids[name] = out['queryDefinitionId']
        got, token, calls = [], None, 0
        while True:
            kw = {'nextToken': token} if token else {}
            out = self.logs.describe_query_definitions(queryDefinitionNamePrefix=pre,
                                                       maxResults=2, **kw)
            calls += 1
            got += out['queryDefinitions']
            token = out.get('nextToken')
            if not token:
                break
        self.assertEqual(calls, 3)
        self.assertEqual([d['name'] for d in got], [pre + n for n in 'abcde'])
        self.assertEqual(got[0]['queryDefinitionId'], ids['a'])
        self.assertEqual(got[0]['logGroupNames'], ['/g/a'])
        self.assertEqual(got[0]['queryString'], 'fields @message | limit 5')
        self.assertLess(abs(got[0]['lastModified'] - now_ms()), 60000)
        # update replaces every field (no logGroupNames: none)
        out = self.logs.put_query_definition(name=pre + 'z', queryDefinitionId=ids['a'],
                                             queryString='stats count()')
        self.assertEqual(out['queryDefinitionId'], ids['a'])
        z = self.logs.describe_query_definitions(queryDefinitionNamePrefix=pre + 'z')
        self.assertEqual([(d['queryDefinitionId'], d['queryString'], d['logGroupNames'])
                          for d in z['queryDefinitions']], [(ids['a'], 'stats count()', [])])
        status, out = self.raw('DescribeQueryDefinitions', queryDefinitionNamePrefix=pre + 'z')
        self.assertEqual(out['queryDefinitions'][0]['queryLanguage'], 'CWLI')
        self.assertEqual(self.logs.delete_query_definition(
            queryDefinitionId=ids['b'])['success'], True)
        self.assertClientError('ResourceNotFoundException', self.logs.delete_query_definition,
                               queryDefinitionId=ids['b'])
        self.assertClientError('ResourceNotFoundException', self.logs.put_query_definition,
                               name='x', queryDefinitionId='no-such-id', queryString='x')
        for bad in ('a//b', '/a', 'a/', 'a:b', 'x' * 256):
            self.assertClientError('InvalidParameterException', self.logs.put_query_definition,
                                   name=bad, queryString='fields @message')
        self.assertClientError('InvalidParameterException', self.logs.put_query_definition,
                               name='ok', queryString='x' * 10001)
        self.assertClientError('InvalidParameterException', self.logs.put_query_definition,
                               name='ok', queryString='x', logGroupNames=['bad name'])
        self.assertClientError('InvalidParameterException',
                               self.logs.describe_query_definitions, maxResults=1001)
        self.assertClientError('InvalidParameterException',
                               self.logs.describe_query_definitions, nextToken='garbage')
        self.raw_error('InvalidParameterException', 'PutQueryDefinition', name='q',
                       queryString='x', queryLanguage='COBOL')
        status, out = self.raw('PutQueryDefinition', name=pre + 'sql', queryString='SELECT 1',
                               queryLanguage='SQL')
        self.assertEqual(status, 200)
        status, out = self.raw('DescribeQueryDefinitions', queryDefinitionNamePrefix=pre,
                               queryLanguage='SQL')
        self.assertEqual([d['name'] for d in out['queryDefinitions']], [pre + 'sql'])

    def test_group_settings(self):
        g = uniq('cls')
        kms = 'arn:aws:kms:us-east-1:000000000000:key/abc'
        status, _ = self.raw('CreateLogGroup', logGroupName=g, logGroupClass='INFREQUENT_ACCESS',
                             kmsKeyId=kms, deletionProtectionEnabled=True)
        self.assertEqual(status, 200)
        plain = self.mk()
        status, out = self.raw('DescribeLogGroups', logGroupNamePrefix=g)
        grp = out['logGroups'][0]
        self.assertEqual((grp['logGroupClass'], grp['kmsKeyId'],
                          grp['deletionProtectionEnabled']), ('INFREQUENT_ACCESS', kms, True))
        status, out = self.raw('DescribeLogGroups', logGroupNamePrefix=plain)
        grp = out['logGroups'][0]
        self.assertEqual((grp['logGroupClass'], grp['deletionProtectionEnabled']),
                         ('STANDARD', False))
        self.assertNotIn('kmsKeyId', grp)
        status, out = self.raw('DescribeLogGroups', logGroupClass='INFREQUENT_ACCESS',
                               logGroupNamePrefix='/boto3/%s/' % _RUN)
        self.assertEqual([x['logGroupName'] for x in out['logGroups']], [g])
        status, out = self.raw('DescribeLogGroups', logGroupClass='STANDARD',
                               logGroupIdentifiers=[plain, g])
        self.assertEqual([x['logGroupName'] for x in out['logGroups']], [plain])
        self.raw_error('ValidationException', 'DeleteLogGroup', logGroupName=g)
        self.assertTrue(self.logs.describe_log_groups(logGroupNamePrefix=g)['logGroups'])
        self.raw_error('InvalidParameterException', 'CreateLogGroup', logGroupName=uniq(),
                       logGroupClass='COLD')
        # Protection off again: the group can go.
        self.raw_error('InvalidParameterException', 'PutLogGroupDeletionProtection',
                       logGroupIdentifier=g)
        self.raw_error('ResourceNotFoundException', 'PutLogGroupDeletionProtection',
                       logGroupIdentifier=uniq('nope'), deletionProtectionEnabled=False)
        self.assertEqual(self.raw('PutLogGroupDeletionProtection', logGroupIdentifier=g,
                                  deletionProtectionEnabled=False), (200, {}))
        status, out = self.raw('DescribeLogGroups', logGroupNamePrefix=g)
        self.assertFalse(out['logGroups'][0]['deletionProtectionEnabled'])
        self.logs.delete_log_group(logGroupName=g)
        self.assertFalse(self.logs.describe_log_groups(logGroupNamePrefix=g)['logGroups'])

    def test_restart_keeps_definitions(self):
        g = uniq('keep')
        self.raw('CreateLogGroup', logGroupName=g, deletionProtectionEnabled=True)
        self.logs.put_metric_filter(logGroupName=g, filterName='f', filterPattern='ERROR',
                                    metricTransformations=self.mt())
        qid = self.logs.put_query_definition(name='keep-%s' % _RUN,
                                             queryString='fields @message')['queryDefinitionId']
        self.server.restart()
        got = self.logs.describe_metric_filters(logGroupName=g)['metricFilters']
        self.assertEqual([f['filterName'] for f in got], ['f'])
        got = self.logs.describe_query_definitions(queryDefinitionNamePrefix='keep-%s' % _RUN)
        self.assertEqual([d['queryDefinitionId'] for d in got['queryDefinitions']], [qid])
        status, out = self.raw('DescribeLogGroups', logGroupNamePrefix=g)
        self.assertTrue(out['logGroups'][0]['deletionProtectionEnabled'])
        self.assertEqual(out['logGroups'][0]['metricFilterCount'], 1)
        self.raw_error('ValidationException', 'DeleteLogGroup', logGroupName=g)


class TestInsightsLifecycle(Boto3Case):
    """A running query: StopQuery stops it (Cancelled), and a second query
    over the server's --max-queries cap is LimitExceededException. The slow
    query hits PCRE2's match limit on every event; events go in batches of
    5 with compaction off, so a stop is seen within a segment."""

    server_args = ['--max-queries', '1', '--compact-interval', '0']
    SLOW = 'filter @message =~ /(a+)+$/ | stats count(*) as c'

    def test_stop_running_and_cap(self):
        g = self.mk()
        base = now_ms() - 60000
        msg = 'a' * 40 + '!'
        for i in range(0, scaled(3000, 1500), 5):
            self.put(g, 's', [{'timestamp': base + i + k, 'message': msg} for k in range(5)])
        t0, t1 = (base - 60000) // 1000, (base + 120000) // 1000
        qid = self.logs.start_query(logGroupName=g, startTime=t0, endTime=t1,
                                    queryString=self.SLOW)['queryId']
        e = self.assertClientError('LimitExceededException', self.logs.start_query,
                                   logGroupName=g, startTime=t0, endTime=t1,
                                   queryString='stats count(*)')
        self.assertIn('max-queries', e.response['Error']['Message'])
        self.assertEqual(self.logs.stop_query(queryId=qid)['success'], True)
        deadline = time.time() + 30 * TIME_FACTOR
        while True:
            status = self.logs.get_query_results(queryId=qid)['status']
            if status not in ('Scheduled', 'Running'):
                break
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        self.assertEqual(status, 'Cancelled')
        got = self.logs.describe_queries(logGroupName=g, status='Cancelled')['queries']
        self.assertEqual([q['queryId'] for q in got], [qid])


if __name__ == '__main__':
    main()

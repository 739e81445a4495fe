#!/usr/bin/python3
"""tests/integ/test_boto3.py: Debian's boto3 (python3-boto3, botocore 1.29)
against a running `sluice serve` over the CloudWatch Logs JSON protocol:
the paginators of DescribeLogGroups, DescribeLogStreams and FilterLogEvents
(with and without a filter pattern) return every item exactly once; a GetLogEvents loop that stops when the
token comes back unchanged returns every event exactly once, forward and
backward; PutLogEvents rejections and errors arrive as boto3 exceptions.

Run with Debian's Python (a pyenv one may shadow it and lack boto3):
/usr/bin/python3 tests/integ/test_boto3.py [-k pattern]
"""

import itertools
import os
import random
import sys
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


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""tests/integ/test_awscli.py: Debian's real AWS CLI (/usr/bin/aws, awscli
2.9) against a running `sluice serve` over the CloudWatch Logs JSON protocol
(POST / with X-Amz-Target): every operation Sluice serves, success and error
paths, and `aws logs tail`. The CLI exits 0 even on an empty answer, so
every test checks what comes back: the JSON printed, or the error name and
message on stderr ("An error occurred (ResourceNotFoundException) ...").

Each TestCase class starts its own server (sluice_fixture.py); tests use
unique group names. One CLI run costs about a second of Python start-up, so
fixtures (groups, streams, events a test needs but does not test) are made
over the same protocol with a plain HTTP client, and the CLI runs only what
a test is about. Run: /usr/bin/python3 tests/integ/test_awscli.py [-k pattern]
"""

import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import MS_DAY, MS_HOUR, TIME_FACTOR, ServerTestCase, main, now_ms  # noqa: E402

AWS = '/usr/bin/aws'
_counter = itertools.count()
_RUN = '%x' % random.randrange(1 << 32)


def uniq(tag='g'):
    """A unique, valid group name."""
    return '/cli/%s/%s-%d' % (_RUN, tag, next(_counter))


class CliError(AssertionError):
    pass


class CliCase(ServerTestCase):
    """Runs `aws logs ...` against the class's server."""

    account = '000000000000'
    region = 'us-east-1'
    access_key = 'AKIDSLUICETEST'

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(AWS):
            raise CliError('%s is missing: install Debian\'s awscli (scripts/setup --test)' % AWS)
        super().setUpClass()
        cls.home = tempfile.mkdtemp(prefix='sluice-awscli-')
        cls.env = {
            'PATH': '/usr/bin:/bin',
            'HOME': cls.home,                    # no ~/.aws of the user
            'AWS_ACCESS_KEY_ID': cls.access_key,
            'AWS_SECRET_ACCESS_KEY': 'secret',
            'AWS_DEFAULT_REGION': cls.region,
            'AWS_PAGER': '',
            'AWS_CONFIG_FILE': os.path.join(cls.home, 'none'),
            'AWS_SHARED_CREDENTIALS_FILE': os.path.join(cls.home, 'none'),
            'AWS_EC2_METADATA_DISABLED': 'true',
            'LC_ALL': 'C.UTF-8',
        }

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.home, ignore_errors=True)

    def run_aws(self, *args, timeout=None):
        cmd = [AWS, '--endpoint-url', self.server.base, '--output', 'json', 'logs'] + \
            [str(a) for a in args]
        p = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout or 120 * TIME_FACTOR)
        return p.returncode, p.stdout.decode('utf-8'), p.stderr.decode('utf-8')

    def aws(self, *args):
        """Runs a command that must succeed; returns its JSON (None when it
        printed nothing)."""
        rc, out, err = self.run_aws(*args)
        if rc != 0:
            raise CliError('aws logs %s -> exit %d\nstdout: %s\nstderr: %s'
                           % (' '.join(map(str, args)), rc, out, err))
        return json.loads(out) if out.strip() else None

    def aws_fails(self, error, *args, message=None):
        """Runs a command that must fail with the AWS error name error;
        returns the message the CLI printed."""
        rc, out, err = self.run_aws(*args)
        tag = 'An error occurred (%s) when calling the ' % error
        self.assertEqual(rc, 254, 'aws logs %s: exit %d, stderr %r' % (args, rc, err))
        self.assertIn(tag, err, 'aws logs %s' % (args,))
        msg = err.split('operation: ', 1)[-1].strip()
        self.assertTrue(msg, 'empty error message: %r' % err)
        if message is not None:
            self.assertIn(message, msg)
        return msg

    # -- fixtures, over the protocol without the CLI
    def cw(self, op, **body):
        """One CloudWatch call with a plain HTTP client; the answer's JSON
        (None for an empty body). Fails unless it answers 200."""
        r = self.c.request('POST', '/', json.dumps(body), 'application/x-amz-json-1.1',
                           headers={'X-Amz-Target': 'Logs_20140328.' + op})
        if r.status != 200:
            raise CliError('%s %r -> %r' % (op, body, r))
        return r.json

    def mk_group(self, name=None, **kw):
        name = name or uniq()
        self.cw('CreateLogGroup', logGroupName=name, **kw)
        return name

    def mk_stream(self, g, s='s'):
        self.cw('CreateLogStream', logGroupName=g, logStreamName=s)
        return s

    def put(self, g, s, events):
        return self.cw('PutLogEvents', logGroupName=g, logStreamName=s, logEvents=events)

    def put_file(self, g, s, events):
        """put-log-events with the events in a file (large batches)."""
        fd, path = tempfile.mkstemp(prefix='events-', suffix='.json', dir=self.home)
        with os.fdopen(fd, 'w') as f:
            json.dump(events, f)
        try:
            return self.run_aws('put-log-events', '--log-group-name', g, '--log-stream-name',
                                s, '--log-events', 'file://' + path)
        finally:
            os.unlink(path)

    def group_arn(self, g):
        return 'arn:aws:logs:%s:%s:log-group:%s' % (self.region, self.account, g)

    def describe_group(self, g, cli=False):
        if cli:
            out = self.aws('describe-log-groups', '--log-group-name-prefix', g)
        else:
            out = self.cw('DescribeLogGroups', logGroupNamePrefix=g)
        found = [x for x in out['logGroups'] if x['logGroupName'] == g]
        self.assertEqual(len(found), 1, out)
        return found[0]

    def tags(self, g):
        return self.cw('ListTagsLogGroup', logGroupName=g)['tags']

    def messages(self, g, s):
        out = self.cw('GetLogEvents', logGroupName=g, logStreamName=s, startFromHead=True)
        return [e['message'] for e in out['events']]


def events_at(base, n, text='event'):
    return [{'timestamp': base + i, 'message': '%s %d' % (text, i)} for i in range(n)]


# ======================================================================= groups

class TestGroups(CliCase):

    def test_create_describe_delete(self):
        g = uniq()
        before = now_ms()
        self.assertIsNone(self.aws('create-log-group', '--log-group-name', g,
                                   '--tags', 'team=net,env=test'))
        grp = self.describe_group(g, cli=True)
        self.assertEqual(grp['arn'], self.group_arn(g) + ':*')
        self.assertEqual(grp['metricFilterCount'], 0)
        self.assertEqual(grp['storedBytes'], 0)
        self.assertNotIn('retentionInDays', grp)
        self.assertLessEqual(abs(grp['creationTime'] - before), 60000 * TIME_FACTOR)
        self.assertEqual(self.tags(g), {'team': 'net', 'env': 'test'})
        self.aws_fails('ResourceAlreadyExistsException', 'create-log-group',
                       '--log-group-name', g, message='The specified log group already exists')
        self.assertIsNone(self.aws('delete-log-group', '--log-group-name', g))
        out = self.aws('describe-log-groups', '--log-group-name-prefix', g)
        self.assertEqual(out['logGroups'], [])
        self.aws_fails('ResourceNotFoundException', 'delete-log-group', '--log-group-name', g,
                       message='The specified log group does not exist.')
        # the name can be used again, as a new group without the old tags
        self.mk_group(g)
        self.assertEqual(self.tags(g), {})

    def test_accepts_kms_and_class(self):
        g = uniq()
        self.assertIsNone(self.aws(
            'create-log-group', '--log-group-name', g, '--kms-key-id',
            'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab'))
        self.assertEqual(self.describe_group(g)['logGroupName'], g)

    def test_invalid_names(self):
        self.aws_fails('InvalidParameterException', 'create-log-group',
                       '--log-group-name', 'bad:name*', message='character 4 is not allowed')
        self.aws_fails('InvalidParameterException', 'create-log-group',
                       '--log-group-name', 'x' * 513, message='less than or equal to 512')

    def test_prefix_and_pattern(self):
        base = uniq('pat')
        names = [base + '/alpha', base + '/beta', base + '/alphabet']
        for n in names:
            self.mk_group(n)
        out = self.aws('describe-log-groups', '--log-group-name-prefix', base + '/alpha')
        self.assertEqual([x['logGroupName'] for x in out['logGroups']],
                         [base + '/alpha', base + '/alphabet'])
        out = self.aws('describe-log-groups', '--log-group-name-pattern', 'phab')
        self.assertEqual([x['logGroupName'] for x in out['logGroups']], [base + '/alphabet'])
        out = self.cw('DescribeLogGroups', logGroupNamePattern='PHAB')
        self.assertEqual(out['logGroups'], [])          # case-sensitive
        self.aws_fails('InvalidParameterException', 'describe-log-groups',
                       '--log-group-name-prefix', base, '--log-group-name-pattern', 'a',
                       message='mutually exclusive')

    def test_pagination_every_group_once(self):
        base = uniq('page')
        names = sorted('%s/%02d' % (base, i) for i in range(7))
        for n in reversed(names):
            self.mk_group(n)
        # --page-size makes the CLI page with limit=2 and follow nextToken
        out = self.aws('describe-log-groups', '--log-group-name-prefix', base, '--page-size', 2)
        self.assertEqual([x['logGroupName'] for x in out['logGroups']], names)
        self.aws_fails('InvalidParameterException', 'describe-log-groups', '--limit', 51,
                       message='less than or equal to 50')
        self.aws_fails('InvalidParameterException', 'describe-log-groups',
                       '--next-token', 'garbage', message='The specified nextToken is invalid.')

    def test_retention(self):
        g = self.mk_group()
        self.assertIsNone(self.aws('put-retention-policy', '--log-group-name', g,
                                   '--retention-in-days', 30))
        self.assertEqual(self.describe_group(g)['retentionInDays'], 30)
        msg = self.aws_fails('InvalidParameterException', 'put-retention-policy',
                             '--log-group-name', g, '--retention-in-days', 2)
        self.assertIn('enum value set', msg)
        self.assertEqual(self.describe_group(g)['retentionInDays'], 30)   # unchanged
        self.assertIsNone(self.aws('delete-retention-policy', '--log-group-name', g))
        self.assertNotIn('retentionInDays', self.describe_group(g))
        self.aws_fails('ResourceNotFoundException', 'put-retention-policy', '--log-group-name',
                       uniq('none'), '--retention-in-days', 7)

    def test_unknown_operation(self):
        # An operation of the CLI's model that Sluice does not serve.
        self.aws_fails('UnknownOperationException', 'describe-destinations')


# ====================================================================== streams

class TestStreams(CliCase):

    def test_create_describe_delete(self):
        g = self.mk_group()
        self.mk_stream(g, 'b-stream')
        self.assertIsNone(self.aws('create-log-stream', '--log-group-name', g,
                                   '--log-stream-name', 'a-stream'))
        out = self.aws('describe-log-streams', '--log-group-name', g)
        self.assertEqual([s['logStreamName'] for s in out['logStreams']],
                         ['a-stream', 'b-stream'])
        s = out['logStreams'][0]
        self.assertEqual(s['arn'], self.group_arn(g) + ':log-stream:a-stream')
        self.assertEqual(s['storedBytes'], 0)
        for k in ('firstEventTimestamp', 'lastEventTimestamp', 'lastIngestionTime',
                  'uploadSequenceToken'):
            self.assertNotIn(k, s)          # only once there are events
        self.aws_fails('ResourceAlreadyExistsException', 'create-log-stream',
                       '--log-group-name', g, '--log-stream-name', 'a-stream',
                       message='The specified log stream already exists')
        self.aws_fails('ResourceNotFoundException', 'create-log-stream', '--log-group-name',
                       uniq('none'), '--log-stream-name', 'x')
        self.aws_fails('InvalidParameterException', 'create-log-stream', '--log-group-name', g,
                       '--log-stream-name', 'bad:name')
        self.assertIsNone(self.aws('delete-log-stream', '--log-group-name', g,
                                   '--log-stream-name', 'a-stream'))
        out = self.cw('DescribeLogStreams', logGroupName=g)
        self.assertEqual([s['logStreamName'] for s in out['logStreams']], ['b-stream'])
        self.aws_fails('ResourceNotFoundException', 'delete-log-stream', '--log-group-name', g,
                       '--log-stream-name', 'a-stream',
                       message='The specified log stream does not exist.')
        self.aws_fails('ResourceNotFoundException', 'describe-log-streams',
                       '--log-group-name', uniq('none'))

    def test_order_prefix_and_pages(self):
        g = self.mk_group()
        base = now_ms() - MS_HOUR
        # stream i gets its last event at base + (5 - i): reverse of name order
        for i in range(5):
            s = self.mk_stream(g, 'st-%d' % i)
            self.put(g, s, [{'timestamp': base + 10 * (5 - i), 'message': 'm'}])
        self.mk_stream(g, 'other')
        out = self.aws('describe-log-streams', '--log-group-name', g, '--log-stream-name-prefix',
                       'st-', '--page-size', 2)
        self.assertEqual([s['logStreamName'] for s in out['logStreams']],
                         ['st-%d' % i for i in range(5)])
        s0 = out['logStreams'][0]
        self.assertEqual(s0['firstEventTimestamp'], base + 50)
        self.assertEqual(s0['lastEventTimestamp'], base + 50)
        self.assertGreaterEqual(s0['lastIngestionTime'], base)
        self.assertEqual(len(s0['uploadSequenceToken']), 56)
        self.assertGreater(s0['storedBytes'], 0)
        out = self.aws('describe-log-streams', '--log-group-name', g, '--order-by',
                       'LastEventTime', '--descending', '--page-size', 2)
        self.assertEqual([s['logStreamName'] for s in out['logStreams']],
                         ['st-0', 'st-1', 'st-2', 'st-3', 'st-4', 'other'])
        out = self.aws('describe-log-streams', '--log-group-name', g, '--order-by',
                       'LastEventTime')
        self.assertEqual([s['logStreamName'] for s in out['logStreams']],
                         ['other', 'st-4', 'st-3', 'st-2', 'st-1', 'st-0'])
        out = self.aws('describe-log-streams', '--log-group-name', g, '--descending')
        self.assertEqual(out['logStreams'][0]['logStreamName'], 'st-4')
        self.aws_fails('InvalidParameterException', 'describe-log-streams', '--log-group-name',
                       g, '--order-by', 'LastEventTime', '--log-stream-name-prefix', 'st',
                       message='Cannot order by LastEventTime')
        self.aws_fails('InvalidParameterException', 'describe-log-streams', '--log-group-name',
                       g, '--order-by', 'Size', message='enum value set')

    def test_group_identifier(self):
        g = self.mk_group()
        self.mk_stream(g, 'x')
        out = self.aws('describe-log-streams', '--log-group-identifier', self.group_arn(g))
        self.assertEqual([s['logStreamName'] for s in out['logStreams']], ['x'])
        for ident in (g, self.group_arn(g) + ':*'):
            out = self.cw('DescribeLogStreams', logGroupIdentifier=ident)
            self.assertEqual([s['logStreamName'] for s in out['logStreams']], ['x'], ident)
        self.aws_fails('ValidationException', 'describe-log-streams', '--log-group-name', g,
                       '--log-group-identifier', g, message='mutually exclusive')
        self.aws_fails('ResourceNotFoundException', 'describe-log-streams',
                       '--log-group-identifier',
                       'arn:aws:logs:eu-west-1:999999999999:log-group:' + g)
        self.aws_fails('InvalidParameterException', 'describe-log-streams',
                       '--log-group-identifier', 'arn:aws:s3:::bucket')


# ======================================================================= events

class TestPutGet(CliCase):

    def test_put_and_get(self):
        g = self.mk_group()
        s = self.mk_stream(g)
        base = now_ms() - MS_HOUR
        events = [{'timestamp': base, 'message': 'h\u00e9llo \u2713 "quoted" tab\tend \U0001F600'},
                  {'timestamp': base + 1, 'message': 'second'},
                  {'timestamp': base + 1, 'message': 'same time, later'}]
        out = self.aws('put-log-events', '--log-group-name', g, '--log-stream-name', s,
                       '--log-events', json.dumps(events))
        self.assertEqual(len(out['nextSequenceToken']), 56)
        self.assertTrue(out['nextSequenceToken'].isdigit())
        self.assertNotIn('rejectedLogEventsInfo', out)
        # sequence tokens are accepted and ignored, as AWS does since 2023
        out2 = self.aws('put-log-events', '--log-group-name', g, '--log-stream-name', s,
                        '--sequence-token', 'whatever', '--log-events',
                        'timestamp=%d,message=shorthand' % (base + 2))
        self.assertIn('nextSequenceToken', out2)
        out = self.aws('get-log-events', '--log-group-name', g, '--log-stream-name', s,
                       '--start-from-head')
        self.assertEqual([e['message'] for e in out['events']],
                         [e['message'] for e in events] + ['shorthand'])
        self.assertEqual([e['timestamp'] for e in out['events']],
                         [base, base + 1, base + 1, base + 2])
        for e in out['events']:
            self.assertGreaterEqual(e['ingestionTime'], base)
        self.assertTrue(out['nextForwardToken'].startswith('f/'), out)
        self.assertTrue(out['nextBackwardToken'].startswith('b/'), out)
        # the end: the same forward token comes back, with no events
        end = self.aws('get-log-events', '--log-group-name', g, '--log-stream-name', s,
                       '--next-token', out['nextForwardToken'])
        self.assertEqual(end['events'], [])
        self.assertEqual(end['nextForwardToken'], out['nextForwardToken'])
        # newest first page by default, in ascending order within the page
        out = self.aws('get-log-events', '--log-group-name', g, '--log-stream-name', s,
                       '--limit', 2)
        self.assertEqual([e['message'] for e in out['events']],
                         ['same time, later', 'shorthand'])
        back = self.aws('get-log-events', '--log-group-name', g, '--log-stream-name', s,
                        '--next-token', out['nextBackwardToken'], '--limit', 2)
        self.assertEqual([e['message'] for e in back['events']],
                         [events[0]['message'], 'second'])
        # time range: start inclusive, end exclusive
        out = self.aws('get-log-events', '--log-group-name', g, '--log-stream-name', s,
                       '--start-from-head', '--start-time', base + 1, '--end-time', base + 2)
        self.assertEqual([e['message'] for e in out['events']], ['second', 'same time, later'])

    def test_get_errors(self):
        g = self.mk_group()
        s = self.mk_stream(g)
        self.mk_stream(g, 'other')
        self.aws_fails('ResourceNotFoundException', 'get-log-events', '--log-group-name', g,
                       '--log-stream-name', 'nope', message='log stream does not exist')
        self.aws_fails('ResourceNotFoundException', 'get-log-events', '--log-group-name',
                       uniq('none'), '--log-stream-name', s,
                       message='log group does not exist')
        self.aws_fails('InvalidParameterException', 'get-log-events', '--log-group-name', g,
                       '--log-stream-name', s, '--next-token', 'f/garbage',
                       message='The specified nextToken is invalid.')
        out = self.cw('GetLogEvents', logGroupName=g, logStreamName='other')
        self.aws_fails('InvalidParameterException', 'get-log-events', '--log-group-name', g,
                       '--log-stream-name', s, '--next-token', out['nextForwardToken'])
        self.aws_fails('InvalidParameterException', 'get-log-events', '--log-group-name', g,
                       '--log-stream-name', s, '--limit', 10001)

    def test_put_errors_whole_request(self):
        g = self.mk_group()
        s = self.mk_stream(g)
        now = now_ms()
        self.aws_fails('ResourceNotFoundException', 'put-log-events', '--log-group-name',
                       uniq('none'), '--log-stream-name', s, '--log-events',
                       'timestamp=%d,message=x' % now,
                       message='The specified log group does not exist.')
        self.aws_fails('ResourceNotFoundException', 'put-log-events', '--log-group-name', g,
                       '--log-stream-name', 'nope', '--log-events',
                       'timestamp=%d,message=x' % now,
                       message='The specified log stream does not exist.')
        self.aws_fails('InvalidParameterException', 'put-log-events', '--log-group-name', g,
                       '--log-stream-name', s, '--log-events', 'timestamp=%d,message=b' % now,
                       'timestamp=%d,message=a' % (now - 1), message='chronological order')
        self.aws_fails('InvalidParameterException', 'put-log-events', '--log-group-name', g,
                       '--log-stream-name', s, '--log-events',
                       'timestamp=%d,message=a' % (now - 3 * MS_DAY),
                       'timestamp=%d,message=b' % now, message='cannot span more than 24 hours')
        # 1 MiB: message bytes + 26 per event
        big = 'x' * 200000
        rc, out, err = self.put_file(g, s, [{'timestamp': now, 'message': big}] * 6)
        self.assertEqual(rc, 254, err)
        self.assertIn('(InvalidParameterException)', err)
        self.assertIn('Upload too large: %d bytes exceeds limit of 1048576' % (6 * 200026), err)
        rc, out, err = self.put_file(g, s, [{'timestamp': now, 'message': 'y' * 262145}])
        self.assertEqual(rc, 254, err)
        self.assertIn('Log event too large: 262145 bytes exceeds limit of 262144', err)
        # nothing of the refused requests was stored
        self.assertEqual(self.messages(g, s), [])

    def test_put_rejections(self):
        g = self.mk_group()
        s = self.mk_stream(g)
        now = now_ms()
        events = [{'timestamp': now - 15 * MS_DAY, 'message': 'too old 0'},
                  {'timestamp': now - 15 * MS_DAY + 1, 'message': 'too old 1'},
                  {'timestamp': now - 1000, 'message': 'kept'},
                  {'timestamp': now + 3 * MS_HOUR, 'message': 'too new'}]
        rc, out, err = self.put_file(g, s, events)
        self.assertEqual(rc, 0, err)
        out = json.loads(out)
        self.assertEqual(out['rejectedLogEventsInfo'],
                         {'tooOldLogEventEndIndex': 2, 'tooNewLogEventStartIndex': 3})
        self.assertIn('nextSequenceToken', out)
        self.assertEqual(self.messages(g, s), ['kept'])
        # every event rejected: still a nextSequenceToken
        out = self.put(g, s, [{'timestamp': now - 20 * MS_DAY, 'message': 'old'}])
        self.assertEqual(out['rejectedLogEventsInfo'], {'tooOldLogEventEndIndex': 1})
        self.assertIn('nextSequenceToken', out)

    def test_put_expired_by_retention(self):
        g = self.mk_group()
        s = self.mk_stream(g)
        self.cw('PutRetentionPolicy', logGroupName=g, retentionInDays=1)
        now = now_ms()
        out = self.aws('put-log-events', '--log-group-name', g, '--log-stream-name', s,
                       '--log-events', json.dumps([
                           {'timestamp': now - 15 * MS_DAY, 'message': 'too old'},
                           {'timestamp': now - 2 * MS_DAY, 'message': 'expired'},
                           {'timestamp': now - MS_HOUR, 'message': 'kept'}]))
        self.assertEqual(out['rejectedLogEventsInfo'],
                         {'tooOldLogEventEndIndex': 1, 'expiredLogEventEndIndex': 2})
        self.assertEqual(self.messages(g, s), ['kept'])


class TestFilter(CliCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = now_ms() - 30 * 60000
        cls.g = uniq('filter')
        t = cls('test_interleaved')
        t.mk_group(cls.g)
        cls.all = []
        for i, s in enumerate(['web-1', 'web-2', 'db-1']):
            t.mk_stream(cls.g, s)
            evs = [{'timestamp': cls.base + 3 * k + i, 'message': '%s line %d' % (s, k)}
                   for k in range(6)]
            t.put(cls.g, s, evs)
            cls.all += [(e['timestamp'], s, e['message']) for e in evs]
        cls.all.sort()

    def test_interleaved(self):
        out = self.aws('filter-log-events', '--log-group-name', self.g)
        got = [(e['timestamp'], e['logStreamName'], e['message']) for e in out['events']]
        self.assertEqual(got, self.all)
        ids = [e['eventId'] for e in out['events']]
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(ids, sorted(ids))
        for e in out['events']:
            self.assertGreaterEqual(e['ingestionTime'], self.base)
        self.assertEqual(out['searchedLogStreams'], [])
        self.assertNotIn('nextToken', out)

    def test_pages_every_event_once(self):
        out = self.aws('filter-log-events', '--log-group-name', self.g, '--page-size', 4)
        got = [(e['timestamp'], e['logStreamName'], e['message']) for e in out['events']]
        self.assertEqual(got, self.all)
        out = self.aws('filter-log-events', '--log-group-name', self.g, '--limit', 5)
        self.assertEqual(len(out['events']), 5)
        self.assertIn('nextToken', out)
        rest = self.aws('filter-log-events', '--log-group-name', self.g, '--next-token',
                        out['nextToken'])
        got = [(e['timestamp'], e['logStreamName'], e['message'])
               for e in out['events'] + rest['events']]
        self.assertEqual(got, self.all)

    def test_streams_and_time(self):
        out = self.aws('filter-log-events', '--log-group-name', self.g, '--log-stream-names',
                       'web-2', 'db-1', 'missing')
        self.assertEqual({e['logStreamName'] for e in out['events']}, {'web-2', 'db-1'})
        self.assertEqual(len(out['events']), 12)
        out = self.aws('filter-log-events', '--log-group-name', self.g,
                       '--log-stream-name-prefix', 'web-')
        self.assertEqual({e['logStreamName'] for e in out['events']}, {'web-1', 'web-2'})
        # both bounds inclusive
        out = self.aws('filter-log-events', '--log-group-name', self.g, '--start-time',
                       self.base + 3, '--end-time', self.base + 6)
        self.assertEqual([e['timestamp'] for e in out['events']],
                         [t for t, _, _ in self.all if self.base + 3 <= t <= self.base + 6])
        self.aws_fails('InvalidParameterException', 'filter-log-events', '--log-group-name',
                       self.g, '--log-stream-names', 'web-1', '--log-stream-name-prefix', 'w',
                       message='mutually exclusive')
        self.aws_fails('ResourceNotFoundException', 'filter-log-events', '--log-group-name',
                       uniq('none'))
        self.aws_fails('InvalidParameterException', 'filter-log-events', '--log-group-name',
                       self.g, '--next-token', 'garbage',
                       message='The specified nextToken is invalid.')

    def test_filter_pattern(self):
        g = self.mk_group()
        self.mk_stream(g, 'app')
        base = now_ms() - 60000
        msgs = ['{"level": "ERROR", "n": 7}', '{"level": "INFO", "n": 2}', 'plain ERROR text',
                '127.0.0.1 GET /x 404', '10.0.0.1 GET /y 200']
        self.put(g, 'app', [{'timestamp': base + i, 'message': m} for i, m in enumerate(msgs)])

        def found(pattern):
            out = self.aws('filter-log-events', '--log-group-name', g, '--filter-pattern',
                           pattern)
            return [e['message'] for e in out['events']]
        self.assertEqual(found('ERROR'), [msgs[0], msgs[2]])
        self.assertEqual(found('{ $.level = "ERROR" && $.n > 5 }'), [msgs[0]])
        self.assertEqual(found('[ip, method, path, status = 4*]'), [msgs[3]])
        self.aws_fails('InvalidParameterException', 'filter-log-events', '--log-group-name', g,
                       '--filter-pattern', '{ $.level = ')
        rc, out, err = self.run_aws('tail', g, '--since', '1h', '--format', 'short',
                                    '--filter-pattern', 'GET')
        self.assertEqual(rc, 0, err)
        self.assertEqual([ln.split(' ', 1)[1] for ln in out.splitlines()], msgs[3:])

    def test_tail(self):
        rc, out, err = self.run_aws('tail', self.g, '--since', '1h')
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), len(self.all), out)
        for line, (_, s, m) in zip(lines, self.all):
            self.assertIn(' %s %s' % (s, m), line)
        rc, out, err = self.run_aws('tail', self.g, '--since', '1h', '--format', 'short',
                                    '--log-stream-names', 'db-1')
        self.assertEqual(rc, 0, err)
        self.assertEqual([ln.split(' ', 1)[1] for ln in out.splitlines()],
                         ['db-1 line %d' % k for k in range(6)])
        rc, out, err = self.run_aws('tail', uniq('none'))
        self.assertNotEqual(rc, 0)
        self.assertIn('ResourceNotFoundException', err)


# ========================================================================= tags

class TestTags(CliCase):

    def test_legacy_tag_api(self):
        g = self.mk_group(tags={'a': '1'})
        self.assertIsNone(self.aws('tag-log-group', '--log-group-name', g, '--tags',
                                   'b=2,a=one'))
        self.assertEqual(self.aws('list-tags-log-group', '--log-group-name', g)['tags'],
                         {'a': 'one', 'b': '2'})
        self.assertIsNone(self.aws('untag-log-group', '--log-group-name', g, '--tags', 'a'))
        self.assertEqual(self.tags(g), {'b': '2'})
        self.aws_fails('ResourceNotFoundException', 'tag-log-group', '--log-group-name',
                       uniq('none'), '--tags', 'a=1')
        self.aws_fails('ResourceNotFoundException', 'list-tags-log-group', '--log-group-name',
                       uniq('none'))
        self.aws_fails('InvalidParameterException', 'tag-log-group', '--log-group-name', g,
                       '--tags', '{"bad!key": "1"}', message='character 4 is not allowed')
        self.aws_fails('InvalidParameterException', 'tag-log-group', '--log-group-name', g,
                       '--tags', 'aws:reserved=1')

    def test_resource_tag_api(self):
        g = self.mk_group()
        arn = self.group_arn(g)
        self.assertIsNone(self.aws('tag-resource', '--resource-arn', arn, '--tags',
                                   'k1=v1,k2=v2'))
        self.assertEqual(self.aws('list-tags-for-resource', '--resource-arn', arn)['tags'],
                         {'k1': 'v1', 'k2': 'v2'})
        # the legacy API sees the same tags
        self.assertEqual(self.tags(g), {'k1': 'v1', 'k2': 'v2'})
        self.assertIsNone(self.aws('untag-resource', '--resource-arn', arn, '--tag-keys', 'k1'))
        self.assertEqual(self.aws('list-tags-for-resource', '--resource-arn', arn + ':*')['tags'],
                         {'k2': 'v2'})
        many = ','.join('t%d=v' % i for i in range(50))
        self.aws_fails('TooManyTagsException', 'tag-resource', '--resource-arn', arn,
                       '--tags', many)
        self.assertEqual(self.tags(g), {'k2': 'v2'})                 # unchanged
        self.aws_fails('ResourceNotFoundException', 'list-tags-for-resource', '--resource-arn',
                       self.group_arn(uniq('none')))
        self.aws_fails('ResourceNotFoundException', 'tag-resource', '--resource-arn',
                       'arn:aws:logs:ap-south-1:111111111111:log-group:' + g, '--tags', 'a=b')
        self.aws_fails('InvalidParameterException', 'tag-resource', '--resource-arn',
                       'arn:aws:logs:us-east-1:000000000000:destination:d', '--tags', 'a=b')


# ===================================================================== insights

class TestInsights(CliCase):
    """start-query, get-query-results, get-log-record, describe-queries,
    stop-query and get-log-group-fields: answers checked against the events
    the test put."""

    def wait_done(self, qid):
        deadline = time.time() + 60 * TIME_FACTOR
        while self.cw('GetQueryResults', queryId=qid)['status'] in ('Scheduled', 'Running'):
            self.assertLess(time.time(), deadline, 'query %s did not finish' % qid)
            time.sleep(0.05)

    def test_query_round_trip(self):
        g = self.mk_group()
        s = self.mk_stream(g)
        base = now_ms() - 60000
        events = [{'timestamp': base + i, 'message': '{"code": %d, "path": "/p%d"}'
                   % (200 if i % 4 else 500, i % 3)} for i in range(40)]
        self.put(g, s, events)
        t0, t1 = str((base - 60000) // 1000), str((base + 120000) // 1000)
        qid = self.aws('start-query', '--log-group-name', g, '--start-time', t0,
                       '--end-time', t1, '--query-string',
                       'filter code = 500 | stats count(*) as n by path | sort path asc')['queryId']
        self.wait_done(qid)
        out = self.aws('get-query-results', '--query-id', qid)
        self.assertEqual(out['status'], 'Complete')
        want = {}
        for i in range(40):
            if i % 4 == 0:
                want['/p%d' % (i % 3)] = want.get('/p%d' % (i % 3), 0) + 1
        got = [{c['field']: c['value'] for c in r} for r in out['results']]
        self.assertEqual(got, [{'path': p, 'n': str(want[p])} for p in sorted(want)])
        self.assertEqual(out['statistics']['recordsScanned'], 40.0)
        self.assertEqual(out['statistics']['recordsMatched'], 10.0)

        # @ptr -> get-log-record
        qid2 = self.cw('StartQuery', logGroupName=g, startTime=int(t0), endTime=int(t1),
                       queryString='fields code | sort @timestamp asc | limit 1')['queryId']
        self.wait_done(qid2)
        row = self.cw('GetQueryResults', queryId=qid2)['results'][0]
        self.assertEqual(row[-1]['field'], '@ptr')
        rec = self.aws('get-log-record', '--log-record-pointer', row[-1]['value'])['logRecord']
        self.assertEqual(rec['@message'], events[0]['message'])
        self.assertEqual(rec['@timestamp'], str(events[0]['timestamp']))
        self.assertEqual(rec['@log'], '%s:%s' % (self.account, g))
        self.assertEqual(rec['code'], '500')

        out = self.aws('describe-queries', '--log-group-name', g)
        ids = {q['queryId']: q for q in out['queries']}
        self.assertEqual(set(ids), {qid, qid2})
        self.assertTrue(ids[qid]['queryString'].startswith(
            'SOURCE "%s" START=%s000 END=%s999 | filter code = 500' % (g, t0, t1)))
        self.aws_fails('InvalidParameterException', 'stop-query', '--query-id', qid,
                       message='not running')

        fields = self.aws('get-log-group-fields', '--log-group-name', g)['logGroupFields']
        self.assertEqual({f['name']: f['percent'] for f in fields if not f['name'].startswith('@')},
                         {'code': 100, 'path': 100})

    def test_query_errors(self):
        g = self.mk_group()
        now = str(now_ms() // 1000)
        self.aws_fails('MalformedQueryException', 'start-query', '--log-group-name', g,
                       '--start-time', now, '--end-time', now,
                       '--query-string', 'stats count(*) by')
        self.aws_fails('ResourceNotFoundException', 'start-query', '--log-group-name',
                       uniq('none'), '--start-time', now, '--end-time', now,
                       '--query-string', 'fields @message')
        self.aws_fails('ResourceNotFoundException', 'get-query-results', '--query-id',
                       '00000000-0000-4000-8000-000000000000')


class TestIdentity(CliCase):
    """--account-id and --region shape the ARNs; the access key id of the
    SigV4 header is recorded (debug log)."""

    account = '123456789012'
    region = 'eu-west-1'
    server_args = ['--account-id', '123456789012', '--region', 'eu-west-1',
                   '--log-level', 'debug']

    def test_arns_and_access_key(self):
        g = self.mk_group()
        self.mk_stream(g, 'st')
        self.assertEqual(self.describe_group(g, cli=True)['arn'],
                         'arn:aws:logs:eu-west-1:123456789012:log-group:%s:*' % g)
        out = self.aws('describe-log-streams', '--log-group-name', g)
        self.assertEqual(out['logStreams'][0]['arn'],
                         'arn:aws:logs:eu-west-1:123456789012:log-group:%s:log-stream:st' % g)
        self.assertIsNone(self.aws('tag-resource', '--resource-arn', self.group_arn(g),
                                   '--tags', 'x=y'))
        self.aws_fails('ResourceNotFoundException', 'list-tags-for-resource', '--resource-arn',
                       'arn:aws:logs:us-east-1:000000000000:log-group:' + g)
        self.assertIn('access key %s' % self.access_key, self.server.current_stderr())


class TestDefinitions(CliCase):
    """Metric filters and query definitions through the CLI's own commands
    (the CLI pages describe-metric-filters itself)."""

    def test_metric_filters(self):
        g = self.mk_group()
        mt = 'metricName=Bytes,metricNamespace=App,metricValue=$bytes'
        for i in range(7):
            self.assertIsNone(self.aws('put-metric-filter', '--log-group-name', g,
                                       '--filter-name', 'f%d' % i, '--filter-pattern',
                                       '[ip, user, status, bytes]',
                                       '--metric-transformations', mt))
        out = self.aws('describe-metric-filters', '--log-group-name', g, '--page-size', '3')
        self.assertEqual([f['filterName'] for f in out['metricFilters']],
                         ['f%d' % i for i in range(7)])
        self.assertEqual(out['metricFilters'][0]['metricTransformations'][0]['metricValue'],
                         '$bytes')
        self.assertEqual(self.describe_group(g, cli=True)['metricFilterCount'], 7)
        out = self.aws('test-metric-filter', '--filter-pattern', '[ip, user, status=404, bytes]',
                       '--log-event-messages', '1.2.3.4 bob 404 10', '1.2.3.4 bob 200 10')
        self.assertEqual([(m['eventNumber'], m['extractedValues']['$bytes'])
                          for m in out['matches']], [(1, '10')])
        self.aws_fails('InvalidParameterException', 'put-metric-filter', '--log-group-name', g,
                       '--filter-name', 'bad', '--filter-pattern', '{ $.a = ',
                       '--metric-transformations', mt)
        self.aws_fails('InvalidParameterException', 'put-metric-filter', '--log-group-name', g,
                       '--filter-name', 'bad', '--filter-pattern', 'ERROR',
                       '--metric-transformations', mt)      # $bytes: no such field
        self.assertIsNone(self.aws('delete-metric-filter', '--log-group-name', g,
                                   '--filter-name', 'f0'))
        self.aws_fails('ResourceNotFoundException', 'delete-metric-filter', '--log-group-name',
                       g, '--filter-name', 'f0',
                       message='The specified metric filter does not exist.')

    def test_query_definitions(self):
        name = 'cli-%s' % uniq('q').replace('/', '-')
        qid = self.aws('put-query-definition', '--name', name, '--query-string',
                       'fields @message', '--log-group-names', '/a', '/b')['queryDefinitionId']
        out = self.aws('describe-query-definitions', '--query-definition-name-prefix', name)
        self.assertEqual([(d['queryDefinitionId'], d['logGroupNames'])
                          for d in out['queryDefinitions']], [(qid, ['/a', '/b'])])
        self.assertEqual(self.aws('delete-query-definition', '--query-definition-id', qid),
                         {'success': True})
        self.aws_fails('ResourceNotFoundException', 'delete-query-definition',
                       '--query-definition-id', qid)


if __name__ == '__main__':
    main()

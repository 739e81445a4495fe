// tests/js/insights/cwl_query.mjs: the AWS SDK for JavaScript v3
// (@aws-sdk/client-cloudwatch-logs, pinned in package-lock.json) against a
// running Sluice whose base URL is argv[2]: creates a group, puts events,
// runs Logs Insights queries and checks the answers against what it put
// (count, stats by, @ptr -> GetLogRecord, DescribeQueries, errors).
// Prints "N passed, N failed" and exits non-zero on any failure.
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand,
  PutLogEventsCommand, StartQueryCommand, GetQueryResultsCommand,
  GetLogRecordCommand, DescribeQueriesCommand, GetLogGroupFieldsCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import assert from 'node:assert/strict';

const endpoint = process.argv[2];
const client = new CloudWatchLogsClient({
  endpoint, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'AKIDJSSDK', secretAccessKey: 'secret' },
});
const send = (cmd) => client.send(cmd);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const group = `/js/${process.pid}-${Date.now()}`;
const now = Date.now();
const events = Array.from({ length: 25 }, (_, i) => ({
  timestamp: now - 30000 + i,
  message: JSON.stringify({ op: ['get', 'put', 'del'][i % 3], ms: i * 2 }),
}));
const t0 = Math.floor((now - 60000) / 1000);
const t1 = Math.floor((now + 60000) / 1000);

async function run(queryString, extra = {}) {
  const { queryId } = await send(new StartQueryCommand({
    logGroupName: group, startTime: t0, endTime: t1, queryString, ...extra }));
  for (let i = 0; i < 600; i++) {
    const out = await send(new GetQueryResultsCommand({ queryId }));
    if (out.status !== 'Scheduled' && out.status !== 'Running') {
      assert.equal(out.status, 'Complete');
      return { queryId, out };
    }
    await sleep(50);
  }
  throw new Error(`query ${queryId} did not finish`);
}
const rows = (out) => out.results.map((r) => Object.fromEntries(r.map((c) => [c.field, c.value])));

async function expectError(name, cmd) {
  try {
    await send(cmd);
  } catch (e) {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, 400);
    return e;
  }
  throw new Error(`expected ${name}`);
}

const tests = {
  async count() {
    const { out } = await run('stats count(*) as n');
    assert.deepEqual(rows(out), [{ n: String(events.length) }]);
    assert.equal(out.statistics.recordsScanned, events.length);
  },
  async statsBy() {
    const { out } = await run('stats count(*) as n, max(ms) as top by op | sort op asc');
    const want = {};
    events.forEach((e) => {
      const m = JSON.parse(e.message);
      want[m.op] = want[m.op] || { op: m.op, n: 0, top: 0 };
      want[m.op].n += 1;
      want[m.op].top = Math.max(want[m.op].top, m.ms);
    });
    assert.deepEqual(rows(out), Object.keys(want).sort().map((k) => (
      { op: k, n: String(want[k].n), top: String(want[k].top) })));
  },
  async ptrAndRecord() {
    const { out } = await run('fields ms | sort ms desc | limit 2');
    assert.equal(out.results.length, 2);
    const last = out.results[0].at(-1);
    assert.equal(last.field, '@ptr');
    const { logRecord } = await send(new GetLogRecordCommand({ logRecordPointer: last.value }));
    assert.equal(logRecord['@message'], events.at(-1).message);
    assert.equal(logRecord['@timestamp'], String(events.at(-1).timestamp));
    assert.equal(logRecord['@log'], `000000000000:${group}`);
  },
  async describeAndStop() {
    const { queryId } = await run('fields @message | limit 1');
    const { queries } = await send(new DescribeQueriesCommand({ logGroupName: group }));
    const q = queries.find((x) => x.queryId === queryId);
    assert.ok(q, 'query listed');
    assert.equal(q.status, 'Complete');
    assert.equal(q.queryString,
      `SOURCE "${group}" START=${t0}000 END=${t1}999 | fields @message | limit 1`);
    await expectError('InvalidParameterException', new StopQueryCommand({ queryId }));
  },
  async errors() {
    const e = await expectError('MalformedQueryException', new StartQueryCommand({
      logGroupName: group, startTime: t0, endTime: t1, queryString: 'stats count(*) by' }));
    assert.ok(e.queryCompileError && e.queryCompileError.location, 'queryCompileError');
    await expectError('ResourceNotFoundException', new StartQueryCommand({
      logGroupName: `${group}-none`, startTime: t0, endTime: t1, queryString: 'fields @message' }));
  },
  async groupFields() {
    const { logGroupFields } = await send(new GetLogGroupFieldsCommand({ logGroupName: group }));
    const pct = Object.fromEntries(logGroupFields.map((f) => [f.name, f.percent]));
    assert.equal(pct.op, 100);
    assert.equal(pct.ms, 100);
    assert.equal(pct['@message'], 100);
  },
};

await send(new CreateLogGroupCommand({ logGroupName: group }));
await send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's' }));
await send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 's', logEvents: events }));

let passed = 0;
let failed = 0;
for (const [name, fn] of Object.entries(tests)) {
  try {
    await fn();
    passed += 1;
    console.log(`ok ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

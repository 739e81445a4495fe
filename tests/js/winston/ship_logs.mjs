// tests/js/winston/ship_logs.mjs: logs the lines of a JSON file through
// winston with the winston-cloudwatch transport (pinned in package-lock.json)
// to a running Sluice, flushes with kthxbye and exits; run by
// tests/integ/test_winston.py, which then reads the lines back and queries them.
// Usage: node ship_logs.mjs <endpoint> <group> <stream> <lines.json>
//   lines.json: [[level, message, {meta}], ...]
import { readFileSync } from 'node:fs';
import winston from 'winston';
import WinstonCloudWatch from 'winston-cloudwatch';

const [endpoint, group, stream, file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node ship_logs.mjs <endpoint> <group> <stream> <lines.json>');
  process.exit(2);
}
const lines = JSON.parse(readFileSync(file, 'utf8'));
const errors = [];

const transport = new WinstonCloudWatch({
  level: 'silly',
  logGroupName: group,
  logStreamName: stream,
  jsonMessage: true,
  uploadRate: 200,
  errorHandler: (err) => errors.push(err),
  awsOptions: {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSLUICETEST', secretAccessKey: 'sluice-test-secret' },
  },
});
const logger = winston.createLogger({ level: 'silly', transports: [transport] });

for (const [level, message, meta] of lines) logger.log(level, message, meta);

const watchdog = setTimeout(() => {
  console.error('timed out waiting for the transport to flush');
  process.exit(1);
}, 120000);

transport.kthxbye((err) => {
  clearTimeout(watchdog);
  if (err) errors.push(err);
  for (const e of errors) console.error('error: ' + (e && e.stack ? e.stack : e));
  console.log(`shipped ${lines.length} lines, ${errors.length} errors`);
  process.exit(errors.length ? 1 : 0);
});

// Docker HEALTHCHECK for every role, in node because the image has no curl. It asks the role's
// own /health/ready (leader known for metadata, store usable for storage, metadata reachable
// for the gateway), so compose `depends_on: condition: service_healthy` waits for real
// readiness. The address is the one entrypoint.sh recorded (flag > TESSERA_METRICS_LISTEN).
'use strict';
const fs = require('node:fs');
const http = require('node:http');

let address = process.env.TESSERA_METRICS_LISTEN || '0.0.0.0:9090';
try {
  const recorded = fs.readFileSync('/tmp/tessera-metrics-listen', 'utf8').trim();
  if (recorded !== '') address = recorded;
} catch {
  // not started through entrypoint.sh: use the environment
}
const colon = address.lastIndexOf(':');
let host = address.slice(0, colon).replace(/^\[|\]$/g, '');
// A wildcard bind is reached on loopback from inside the container.
if (host === '' || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
const port = Number(address.slice(colon + 1));
const path = process.argv[2] || '/health/ready';

const req = http.get({ host, port, path, timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (err) => {
  process.stderr.write(`healthcheck ${host}:${port}${path}: ${err.message}\n`);
  process.exit(1);
});

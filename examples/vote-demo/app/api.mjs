// The vote API (Deployment `api`): validates a vote and records it in the store's first pod,
// `mongo-0.mongo`, by its stable per-pod DNS name (a headless Service's pod, as a MongoDB
// client addresses a replica set's primary). It listens on $PORT (the pod's port 8080).
import { createServer } from 'node:http';

import { callJson } from './call.mjs';

const port = Number(process.env.PORT ?? 8080);
const pod = process.env.HOSTNAME ?? 'api';
const store = process.env.STORE_URL ?? 'http://mongo-0.mongo:27017';
const choices = (process.env.CHOICES ?? 'cats,dogs').split(',');
/** Short, so that a call the network drops (a NetworkPolicy) answers 504 before the client gives up. */
const storeTimeoutMs = Number(process.env.STORE_TIMEOUT_MS ?? 2000);

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function callStore(path, method) {
  const { status, body } = await callJson(`${store}${path}`, method, storeTimeoutMs);
  if (status !== 200) throw new Error(`store answered ${status}`);
  return body;
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://api');
  if (url.pathname === '/ok') return send(res, 200, { ok: true, pod });
  if (url.pathname === '/api/votes' && req.method === 'GET') return send(res, 200, { api: pod, choices, ...(await callStore('/votes', 'GET')) });
  const vote = /^\/api\/votes\/([^/]+)$/.exec(url.pathname);
  if (vote && req.method === 'POST') {
    if (!choices.includes(vote[1])) return send(res, 400, { error: `unknown choice "${vote[1]}": one of ${choices.join(', ')}` });
    return send(res, 200, { api: pod, choices, ...(await callStore(`/votes/${vote[1]}`, 'POST')) });
  }
  send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    // The store could not be reached: a gateway's answer, with the reason.
    const timedOut = err.name === 'TimeoutError';
    console.log(`api ${pod}: store ${store}: ${timedOut ? 'timed out' : err.message}`);
    send(res, timedOut ? 504 : 502, {
      api: pod,
      error: `store ${store}: ${timedOut ? `no answer in ${storeTimeoutMs} ms` : String(err.code ?? err.message)}`,
    });
  });
});

server.listen(port, () => console.log(`api ${pod} listening on ${port}, store ${store}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

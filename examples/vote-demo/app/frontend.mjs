// The vote frontend (Deployment `frontend`): a page with the counts and a button per choice,
// which it gets from and sends to the API by its Service name, `http://api`. It listens on
// $PORT (the pod's port 8080). GET /results gives the same counts as JSON, for scripts.
import { createServer } from 'node:http';

import { callJson } from './call.mjs';

const port = Number(process.env.PORT ?? 8080);
const pod = process.env.HOSTNAME ?? 'frontend';
const api = process.env.API_URL ?? 'http://api';
const apiTimeoutMs = Number(process.env.API_TIMEOUT_MS ?? 3000);

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function callApi(path, method = 'GET') {
  return callJson(`${api}${path}`, method, apiTimeoutMs);
}

function page(results) {
  const rows = results.choices
    .map(
      (c) =>
        `<li>${escape(c)}: ${results.votes[c] ?? 0} <form method="post" action="/vote"><button name="choice" value="${escape(c)}">vote</button></form></li>`,
    )
    .join('');
  return `<!doctype html><title>Vote</title><h1>Cats or dogs?</h1><ul>${rows}</ul><p>frontend ${escape(pod)}, api ${escape(results.api)}, store ${escape(results.store)}</p>`;
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://frontend');
  if (url.pathname === '/ok') return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  if (url.pathname === '/results') {
    const { status, body } = await callApi('/api/votes');
    return res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ frontend: pod, ...body }));
  }
  if (url.pathname === '/vote' && req.method === 'POST') {
    let form = '';
    for await (const chunk of req) form += chunk;
    const choice = new URLSearchParams(form).get('choice') ?? '';
    const { status, body } = await callApi(`/api/votes/${encodeURIComponent(choice)}`, 'POST');
    if (status !== 200) return res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ frontend: pod, ...body }));
    return res.writeHead(303, { location: '/' }).end();
  }
  if (url.pathname === '/') {
    const { status, body } = await callApi('/api/votes');
    if (status !== 200) return res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ frontend: pod, ...body }));
    return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(body));
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    const timedOut = err.name === 'TimeoutError';
    console.log(`frontend ${pod}: api ${api}: ${timedOut ? 'timed out' : err.message}`);
    res
      .writeHead(timedOut ? 504 : 502, { 'content-type': 'application/json' })
      .end(JSON.stringify({ frontend: pod, error: `api ${api}: ${timedOut ? `no answer in ${apiTimeoutMs} ms` : String(err.code ?? err.message)}` }));
  });
});

server.listen(port, () => console.log(`frontend ${pod} listening on ${port}, api ${api}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

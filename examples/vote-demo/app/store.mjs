// The vote store: a stand-in for the MongoDB of the public demo, run as the StatefulSet `mongo`.
// It keeps the vote counts in memory and answers a small JSON API over HTTP on $PORT (the
// pod's port 27017), so any HTTP client can read it; it does not speak MongoDB's wire protocol.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 27017);
const pod = process.env.HOSTNAME ?? 'store';
const votes = new Map();

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const counts = () => ({ store: pod, votes: Object.fromEntries([...votes].sort(([a], [b]) => a.localeCompare(b))) });

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://store');
  if (url.pathname === '/ok') return send(res, 200, { ok: true, pod });
  if (url.pathname === '/votes' && req.method === 'GET') return send(res, 200, counts());
  const vote = /^\/votes\/([a-z0-9-]{1,40})$/.exec(url.pathname);
  if (vote && req.method === 'POST') {
    votes.set(vote[1], (votes.get(vote[1]) ?? 0) + 1);
    return send(res, 200, counts());
  }
  send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
});

server.listen(port, () => console.log(`store ${pod} listening on ${port}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

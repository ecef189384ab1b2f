// The back service: answers who it is, from the environment Kubernetes (or aks-emu) gave it.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
let requests = 0;

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.url === '/env') {
    // What Kubernetes (or aks-emu) put in the environment, for the walk-through and the tests.
    const keys = Object.keys(process.env).filter((k) => /^(HOSTNAME|PORT|POD_|GREETING|API_TOKEN|LOG_LEVEL|CFG_|BACK|FRONT|KUBERNETES)/.test(k));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(keys.sort().map((k) => [k, process.env[k]]))));
    return;
  }
  requests++;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      service: 'back',
      pod: process.env.HOSTNAME,
      pid: process.pid,
      podIP: process.env.POD_IP,
      namespace: process.env.POD_NAMESPACE,
      greeting: process.env.GREETING,
      requests,
      remoteAddress: req.socket.remoteAddress,
    }),
  );
});

server.listen(port, () => console.log(`back listening on ${port} as ${process.env.HOSTNAME}`));

process.on('SIGTERM', () => {
  console.log('back: SIGTERM, closing');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

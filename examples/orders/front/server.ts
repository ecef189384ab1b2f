// The front service: calls the back service through its Service name, as it would on AKS.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const backUrl = process.env.BACK_URL ?? 'http://back:8080';

const server = createServer(async (req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  try {
    const reply = await fetch(`${backUrl}/`);
    const back: unknown = await reply.json();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: 'front', pod: process.env.HOSTNAME, pid: process.pid, path: req.url, back }));
  } catch (err) {
    console.error(`front: calling ${backUrl} failed: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`);
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: 'front', pod: process.env.HOSTNAME, error: `calling ${backUrl}: ${(err as Error).message}` }));
  }
});

server.listen(port, () => console.log(`front listening on ${port} as ${process.env.HOSTNAME}, back at ${backUrl}`));

process.on('SIGTERM', () => {
  console.log('front: SIGTERM, closing');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

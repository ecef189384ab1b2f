// The backend of the process rows: a plain Node.js HTTP server run by aks-emu as a
// `process` pod (its own child process), listening on the PORT aks-emu hands it.
// It answers `?size=N` with N bytes like the echo pod, and /port with its PORT.
import { createServer } from 'node:http';

const small = Buffer.from('{"ok":true}\n');
const chunk = Buffer.alloc(64 * 1024, 0x61);
const port = Number(process.env.PORT);

createServer((req, res) => {
  if (req.url === '/port') return res.end(String(port));
  const size = /[?&]size=(\d+)/.exec(req.url ?? '')?.[1];
  if (size === undefined) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': small.length });
    return res.end(small);
  }
  let left = Math.min(Number(size), 64 << 20);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
  const pump = () => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
}).listen(port, '127.0.0.1');

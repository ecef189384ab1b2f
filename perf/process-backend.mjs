// The backend of the process and external rows: a lean HTTP/1.1 server in its own
// process, run by aks-emu as a `process` pod (PORT from aks-emu) or by the harness
// itself behind a selector-less Service (PORT and HOST from the harness). It parses only
// what a GET needs (the request line, Connection: close, the blank line) so that the
// proxy in front of it, not the backend, is what a row measures; haproxy and nginx front
// the very same process.
// It answers `?size=N` with N bytes (up to 64 MiB), /port with its PORT, anything else
// with a small JSON body; pipelined requests are answered in order.
import { createServer } from 'node:net';

const port = Number(process.env.PORT);
const host = process.env.HOST || '127.0.0.1';
const MAX_HEAD = 16 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const SMALL = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{"ok":true}\n');
const SMALL_CLOSE = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\nconnection: close\r\n\r\n{"ok":true}\n');
const BAD = Buffer.from('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');

function head(status, type, length, close) {
  return `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n${close ? 'connection: close\r\n' : ''}\r\n`;
}

/** Writes `size` bytes after the head, waiting for drain; calls done when all is queued. */
function sendBody(socket, size, close, done) {
  let left = size;
  const pump = () => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!socket.write(piece)) return void socket.once('drain', pump);
    }
    if (close) return void socket.end();
    done();
  };
  socket.write(head('200 OK', 'application/octet-stream', size, close));
  pump();
}

function serve(socket) {
  socket.setNoDelay(true);
  let pending = '';
  let busy = false;
  const next = () => {
    busy = false;
    while (!busy) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) {
        if (pending.length > MAX_HEAD) socket.end(BAD);
        return;
      }
      const request = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const lineEnd = request.indexOf('\r\n');
      const target = (lineEnd < 0 ? request : request.slice(0, lineEnd)).split(' ')[1] ?? '/';
      const close = /\r\nconnection:[ \t]*close/i.test(request);
      const size = /[?&]size=(\d+)/.exec(target)?.[1];
      if (target === '/port') {
        const body = String(port);
        socket.write(head('200 OK', 'text/plain', body.length, close) + body);
        if (close) return void socket.end();
      } else if (size !== undefined) {
        busy = true;
        sendBody(socket, Math.min(Number(size), 64 << 20), close, next);
        if (close) return;
      } else {
        socket.write(close ? SMALL_CLOSE : SMALL);
        if (close) return void socket.end();
      }
    }
  };
  socket.setEncoding('latin1');
  socket.on('data', (text) => {
    pending += text;
    if (!busy) next();
  });
  socket.on('error', () => socket.destroy());
}

createServer({ noDelay: true }, serve).listen(port, host);

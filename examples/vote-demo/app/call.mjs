// One JSON call to another tier, on a connection of its own (no keep-alive pool): a
// request that times out takes its connection with it, so a connection a NetworkPolicy
// held silent is never used again for the next request.
import { request } from 'node:http';

export class CallTimeout extends Error {
  name = 'TimeoutError';
}

/** Resolves with the status and the JSON body; rejects with CallTimeout after timeoutMs, or the socket's error. */
export function callJson(url, method, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch (err) {
          reject(new Error(`${url} answered ${res.statusCode} without JSON: ${err.message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new CallTimeout(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

import { once } from 'node:events';
import { connect } from 'node:http2';

export interface GrpcCall {
  readonly status: number;
  readonly body: string;
  readonly grpcStatus: string | undefined;
  readonly grpcMessage: string | undefined;
}

/**
 * One unary-shaped call over h2c (prior knowledge, as `grpcurl -plaintext` makes it) to
 * `address` (`ip:port`); grpc-status and grpc-message from the trailers, or from the head
 * of a trailers-only reply.
 */
export async function grpcCall(address: string, authority: string, path: string, metadata: Record<string, string> = {}): Promise<GrpcCall> {
  const session = connect(`http://${address}`);
  session.on('error', () => {});
  try {
    const req = session.request({ ':method': 'POST', ':path': path, ':authority': authority, 'content-type': 'application/grpc', te: 'trailers', ...metadata });
    req.end(Buffer.alloc(5));
    let status = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    const read = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) grpcMessage = String(h['grpc-message']);
    };
    req.on('response', (h) => {
      status = Number(h[':status']);
      read(h);
    });
    req.on('trailers', read);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    await once(req, 'end');
    return { status, body, grpcStatus, grpcMessage };
  } finally {
    session.close();
  }
}

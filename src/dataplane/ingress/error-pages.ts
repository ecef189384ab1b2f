/**
 * The responses nginx generates itself (ngx_http_special_response.c) with ingress-nginx's
 * default `server-tokens: false`, so the footer says `nginx` without a version. Bodies
 * are built once; a request only picks one.
 */

const REASONS: Readonly<Record<number, string>> = {
  301: 'Moved Permanently',
  302: 'Found',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

function page(status: number): Buffer {
  const title = `${status} ${REASONS[status] ?? ''}`.trim();
  return Buffer.from(
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  );
}

const PAGES = new Map<number, Buffer>(Object.keys(REASONS).map((s) => [Number(s), page(Number(s))]));

export function errorPage(status: number): Buffer {
  let body = PAGES.get(status);
  if (!body) {
    body = page(status);
    PAGES.set(status, body);
  }
  return body;
}

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

/** Headers of a generated page; `server` is the header ingress-nginx answers with (see proxy.ts). */
export const PAGE_CONTENT_TYPE = 'text/html';

import { describe, expect, it } from 'vitest';
import { parseTraceQuery } from '../../src/api/observe-routes.js';
import { timeLocal } from '../../src/dataplane/observe/http.js';

describe('the traces query', () => {
  it('reads service, last, kind and follow', () => {
    expect(parseTraceQuery(new URLSearchParams('service=shop/web&last=5&kind=http&follow=1'))).toEqual({
      service: 'shop/web',
      last: 5,
      kind: 'http',
      follow: true,
    });
    expect(parseTraceQuery(new URLSearchParams('service=web'))).toEqual({ service: 'default/web', follow: false });
  });

  it.each([
    ['last=-1', 'last'],
    ['last=1.5', 'last'],
    ['service=a/b/c', 'service'],
    ['kind=UDP', 'kind'],
    ['follow=2', 'follow'],
    ['limit=3', 'limit'],
  ])('refuses %s naming the field', (query, field) => {
    try {
      parseTraceQuery(new URLSearchParams(query));
      expect.unreachable();
    } catch (err) {
      expect((err as { details?: { causes?: { field: string }[] } }).details?.causes?.[0]?.field).toBe(field);
      expect((err as Error).message.startsWith(`${field}:`)).toBe(true);
    }
  });
});

describe('nginx time_local', () => {
  it('writes day/month/year:time with the zone, as nginx does', () => {
    expect(timeLocal(new Date(Date.UTC(2026, 11, 7, 3, 4, 5)))).toBe('07/Dec/2026:03:04:05 +0000');
  });
});

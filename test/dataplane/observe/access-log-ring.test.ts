/**
 * The access log ring keeps request records, not text: the latest N lines, oldest dropped
 * first, each line made when the log is read, and followers get each line as it is logged.
 */
import { describe, expect, it } from 'vitest';
import { AccessLog } from '../../../src/dataplane/observe/access-log.js';
import type { HttpTrace } from '../../../src/dataplane/observe/http.js';

/** A finished request's record as the ring sees it: only its line matters here. */
function record(n: number): HttpTrace {
  return { accessLogLine: () => `line ${n}`, retain: () => undefined, release: () => undefined } as unknown as HttpTrace;
}

describe('AccessLog', () => {
  it('is empty text before the first request', () => {
    expect(new AccessLog(4).text()).toBe('');
  });

  it('keeps the latest lines up to its capacity, oldest first, each ending in a newline', () => {
    const log = new AccessLog(3);
    for (let i = 1; i <= 5; i++) log.add(record(i));
    expect(log.text()).toBe('line 3\nline 4\nline 5\n');
  });

  it('gives followers every line logged while they follow, and none after they stop', () => {
    const log = new AccessLog(2);
    log.add(record(1));
    const seen: string[] = [];
    const stop = log.follow((line) => seen.push(line));
    log.add(record(2));
    log.add(record(3));
    stop();
    log.add(record(4));
    expect(seen).toEqual(['line 2', 'line 3']);
  });
});

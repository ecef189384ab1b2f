import { describe, expect, it } from 'vitest';
import { fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from '../../../src/api/kube/selectors.js';
import type { KubeObject } from '../../../src/cluster/store/index.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (api, web)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing,app=web', true],
    ['app in (web),tier notin (back)', true],
    ['missing!=x', true],
  ])('%s matches: %s', (selector, expected) => {
    expect(labelsMatch(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('refuses a malformed selector with a BadRequest', () => {
    expect(() => parseLabelSelector('app in (')).toThrow(expect.objectContaining({ reason: 'BadRequest' }));
    expect(() => parseLabelSelector('bad key!=x=y')).toThrow(expect.objectContaining({ reason: 'BadRequest' }));
  });
});

describe('field selectors', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running' },
  } as KubeObject;
  it('matches metadata.name, metadata.namespace, spec.nodeName and status.phase', () => {
    expect(fieldsMatch(parseFieldSelector('metadata.name=p,metadata.namespace=default', 'Pod'), pod)).toBe(true);
    expect(fieldsMatch(parseFieldSelector('spec.nodeName=n1,status.phase!=Pending', 'Pod'), pod)).toBe(true);
    expect(fieldsMatch(parseFieldSelector('spec.nodeName=n2', 'Pod'), pod)).toBe(false);
  });
  it('refuses a field the kind does not index, as the API server does', () => {
    expect(() => parseFieldSelector('spec.nodeName=n1', 'Service')).toThrow('field label not supported: spec.nodeName');
  });
});

import { AksEmuError, formatFieldError, formatLocatedFieldError, ManifestInvalidError } from '../../src/errors/index.js';
import { parseObjects, type LoadResult, type ManifestOptions } from '../../src/manifests/index.js';

/** Loads plain objects as documents 1..n of `bad.yaml`. */
export function load(objects: readonly object[], options?: ManifestOptions): LoadResult {
  return parseObjects(
    objects.map((object, i) => ({ file: 'bad.yaml', doc: i + 1, object })),
    options,
  );
}

/** The ManifestInvalidError that `f` throws. */
export function thrownInvalid(f: () => unknown): ManifestInvalidError {
  try {
    f();
  } catch (err) {
    if (err instanceof ManifestInvalidError) return err;
    throw err;
  }
  throw new Error('expected the manifests to be invalid');
}

function invalid(objects: readonly object[], options?: ManifestOptions): ManifestInvalidError {
  return thrownInvalid(() => load(objects, options));
}

/** The field errors as `field: message`, without the object prefix. */
export function fieldErrors(objects: readonly object[], options?: ManifestOptions): string[] {
  return invalid(objects, options).errors.map(formatFieldError);
}

/** The field errors as the user sees them: `bad.yaml (document 1): The Service "web" is invalid: ...`. */
export function located(objects: readonly object[]): string[] {
  return invalid(objects).errors.map(formatLocatedFieldError);
}

export function service(spec: object, metadata: object = {}): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', ...metadata }, spec };
}

/** A valid single-container pod template for `app: web`, with overrides for the container. */
export function deployment(spec: object = {}, container: object = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }], ...container }] },
      },
      ...spec,
    },
  };
}

/** The AksEmuError a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<AksEmuError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AksEmuError) return err;
    throw err;
  }
  throw new Error('expected loading to fail');
}

/**
 * What ingress-nginx's admission webhook and `nginx -t` reject, as field errors with
 * Kubernetes' wording, for the Ingresses the built-in controller serves:
 * - Exact and Prefix paths limited to alphanumerics, `.`, `_`, `-` and `/` after a
 *   leading `/` (strict-validate-path-type, on by default since ingress-nginx v1.12;
 *   inspector/rules.go); regexes belong in ImplementationSpecific paths;
 * - paths that must be regexes (the host is in regex mode) but do not compile;
 * - a TLS Secret whose tls.crt and tls.key are not a certificate and its key (a missing
 *   Secret is not an error: the controller serves its default certificate, a compile notice);
 * - annotation values the webhook's validators refuse (annotations.ts), every one at once;
 * - two canary Ingresses on one host and path (checkOverlap's message), and a canary
 *   without a main Ingress to attach to.
 */
import type { FieldError } from '../../errors/index.js';
import { objectKey, type Ingress, type Manifests, type PathType } from '../../model/types.js';
import { parseIngressAnnotations } from './annotations.js';
import { compileIngress } from './compile.js';
import { compileLocationRegex } from './path-match.js';
import { UnsafeRegexError } from './safe-regex.js';
import { readTlsSecret } from './tls-secret.js';
import { DEFAULT_SERVER_NAME } from './types.js';

export interface ValidateIngressOptions {
  readonly controllerClasses?: readonly string[];
  /** ingress-nginx's strict-validate-path-type (default true). */
  readonly strictValidatePathType?: boolean;
}

const VALID_PLAIN_PATH = /^\/[A-Za-z0-9._\-/]*$/;

function hostOf(host: string | undefined): string {
  return host === undefined || host === '' ? DEFAULT_SERVER_NAME : host.toLowerCase();
}

function fieldError(ing: Ingress, field: string, value: unknown, detail: string): FieldError {
  return { source: ing.source, kind: 'Ingress', name: ing.metadata.name, namespace: ing.metadata.namespace, field, type: 'Invalid', value, detail };
}

function pathField(ri: number, pi: number): string {
  return `spec.rules[${ri}].http.paths[${pi}].path`;
}

interface PathRef {
  readonly ing: Ingress;
  readonly host: string;
  readonly path: string;
  readonly pathType: PathType;
  readonly field: string;
  readonly canary: boolean;
}

export function validateIngresses(m: Manifests, options: ValidateIngressOptions = {}): FieldError[] {
  const compiled = compileIngress({
    ingresses: m.ingresses,
    ingressClasses: m.ingressClasses,
    services: [],
    endpoints: [],
    secrets: m.secrets,
    controllerClasses: options.controllerClasses,
  });
  const ours = m.ingresses.filter((ing) => compiled.statuses[objectKey(ing.metadata)]?.admitted);
  const errors: FieldError[] = [];
  const refs: PathRef[] = [];
  for (const ing of ours) {
    const parsed = parseIngressAnnotations(ing);
    const canary = parsed.annotations.canary.enabled;
    for (const bad of parsed.rejections) {
      errors.push(fieldError(ing, `metadata.annotations[${bad.annotation}]`, bad.value, `${bad.problem} (ingress-nginx's admission webhook refuses it)`));
    }
    ing.spec.rules.forEach((rule, ri) =>
      rule.paths.forEach((p, pi) => {
        const path = p.path === '' ? '/' : p.path;
        refs.push({ ing, host: hostOf(rule.host), path, pathType: p.pathType, field: pathField(ri, pi), canary });
        if (options.strictValidatePathType !== false && p.pathType !== 'ImplementationSpecific' && !VALID_PLAIN_PATH.test(path)) {
          errors.push(
            fieldError(ing, pathField(ri, pi), path, `cannot be used with pathType ${p.pathType}; use pathType ImplementationSpecific for regular expressions`),
          );
        }
      }),
    );
    ing.spec.tls.forEach((tls, ti) => {
      if (!tls.secretName) return;
      const read = readTlsSecret(m.secrets, ing.metadata.namespace, tls.secretName);
      if (!read.ok && !read.problem.endsWith('not found')) errors.push(fieldError(ing, `spec.tls[${ti}].secretName`, tls.secretName, read.problem));
    });
  }
  errors.push(...regexErrors(compiled.config.servers, refs));
  errors.push(...canaryErrors(refs));
  return errors;
}

function regexErrors(servers: readonly { hostname: string; regexBy: readonly string[] }[], refs: readonly PathRef[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const server of servers) {
    if (server.regexBy.length === 0) continue;
    for (const ref of refs) {
      if (ref.host !== server.hostname || ref.canary) continue;
      try {
        compileLocationRegex(ref.path);
      } catch (err) {
        const why = `host ${JSON.stringify(server.hostname)} uses regex paths because of Ingress ${server.regexBy.join(', ')} (use-regex or rewrite-target)`;
        const what =
          err instanceof UnsafeRegexError
            ? `is rejected: the regular expression ${err.message}`
            : `is not a valid regular expression (${(err as Error).message})`;
        errors.push(fieldError(ref.ing, ref.field, ref.path, `${what}; ${why}`));
      }
    }
  }
  return errors;
}

function canaryErrors(refs: readonly PathRef[]): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, PathRef>();
  for (const ref of refs) {
    if (!ref.canary) continue;
    const key = `${ref.host} ${ref.path}`;
    const first = seen.get(key);
    if (first && first.ing !== ref.ing) {
      const where = `host ${JSON.stringify(ref.host)} and path ${JSON.stringify(ref.path)} is already defined in ingress ${objectKey(first.ing.metadata)}`;
      errors.push(fieldError(ref.ing, ref.field, ref.path, where));
      continue;
    }
    seen.set(key, ref);
    const main = refs.some((r) => !r.canary && r.host === ref.host && r.path === ref.path && r.pathType === ref.pathType);
    if (!main) {
      const host = ref.host === DEFAULT_SERVER_NAME ? 'any host' : `host ${JSON.stringify(ref.host)}`;
      errors.push(
        fieldError(
          ref.ing,
          ref.field,
          ref.path,
          `canary Ingress without a main Ingress for ${host} and this path (${ref.pathType}); ingress-nginx would ignore it`,
        ),
      );
    }
  }
  return errors;
}

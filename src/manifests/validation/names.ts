/**
 * Name and value formats with the wording of k8s.io/apimachinery/pkg/util/validation
 * (and api/validate/content). Each check returns the messages Kubernetes would attach
 * to a `field.Invalid`, so callers can report them one by one as the API server does.
 */

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const LABEL_KEY_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const HTTP_HEADER_NAME_FMT = '[-A-Za-z0-9]+';
const WILDCARD_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;

const anchored = (fmt: string): RegExp => new RegExp(`^${fmt}$`);
const DNS1123_LABEL = anchored(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN = anchored(DNS1123_SUBDOMAIN_FMT);
const DNS1035_LABEL = anchored(DNS1035_LABEL_FMT);
const LABEL_KEY = anchored(LABEL_KEY_FMT);
const LABEL_VALUE = anchored(LABEL_VALUE_FMT);
const CONFIG_KEY = anchored(CONFIG_KEY_FMT);
const HTTP_HEADER_NAME = anchored(HTTP_HEADER_NAME_FMT);
const WILDCARD_SUBDOMAIN = anchored(WILDCARD_SUBDOMAIN_FMT);

/** validation.RegexError: `msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')`. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  const shown = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${shown}regex used for validation is '${fmt}')`;
}

const maxLenError = (n: number): string => `must be no more than ${n} characters`;

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** The common shape of the DNS checks: a length limit, then the format. */
function lengthAndFormat(value: string, max: number, format: RegExp, formatError: string): string[] {
  const errs: string[] = [];
  if (value.length > max) errs.push(maxLenError(max));
  if (!format.test(value)) errs.push(formatError);
  return errs;
}

const DNS1123_LABEL_ERROR = regexError(
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  DNS1123_LABEL_FMT,
  'my-name',
  '123-abc',
);
const DNS1123_SUBDOMAIN_ERROR = regexError(
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  DNS1123_SUBDOMAIN_FMT,
  'example.com',
);
const DNS1035_LABEL_ERROR = regexError(
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  DNS1035_LABEL_FMT,
  'my-name',
  'abc-123',
);
const WILDCARD_SUBDOMAIN_ERROR = regexError(
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
  WILDCARD_SUBDOMAIN_FMT,
  '*.example.com',
);

export function isDNS1123Label(value: string): string[] {
  // A valid subdomain that is not a label can only be wrong by its dots.
  const formatError = DNS1123_SUBDOMAIN.test(value) ? 'must not contain dots' : DNS1123_LABEL_ERROR;
  return lengthAndFormat(value, 63, DNS1123_LABEL, formatError);
}

export function isDNS1123Subdomain(value: string): string[] {
  return lengthAndFormat(value, 253, DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_ERROR);
}

/** Service names: they become DNS labels under `<ns>.svc`, so they must start with a letter. */
export function isDNS1035Label(value: string): string[] {
  return lengthAndFormat(value, 63, DNS1035_LABEL, DNS1035_LABEL_ERROR);
}

export function isWildcardDNS1123Subdomain(value: string): string[] {
  return lengthAndFormat(value, 253, WILDCARD_SUBDOMAIN, WILDCARD_SUBDOMAIN_ERROR);
}

/** IANA service names (RFC 6335), as Kubernetes uses for named ports. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.startsWith('-') || port.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function isValidPortNum(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** Label keys and other "qualified names": an optional DNS subdomain prefix and a name. */
export function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  const nameMsg = regexError(
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    LABEL_KEY_FMT,
    'MyName',
    'my.name',
    '123-abc',
  );
  if (parts.length > 2) {
    return [`a valid label key ${nameMsg} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errs: string[] = [];
  const name = parts.length === 2 ? (parts[1] ?? '') : value;
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!LABEL_KEY.test(name)) errs.push(`name part ${nameMsg}`);
  return errs;
}

const LABEL_VALUE_ERROR = regexError(
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
  LABEL_VALUE_FMT,
  'MyValue',
  'my_value',
  '12345',
);

export function isLabelValue(value: string): string[] {
  return lengthAndFormat(value, 63, LABEL_VALUE, LABEL_VALUE_ERROR);
}

/** Keys of Secret (and ConfigMap) data. */
const CONFIG_KEY_ERROR = regexError(
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
  CONFIG_KEY_FMT,
  'key.name',
  'KEY_NAME',
  'key-name',
);

export function isConfigMapKey(value: string): string[] {
  const errs = lengthAndFormat(value, 253, CONFIG_KEY, CONFIG_KEY_ERROR);
  if (value === '.') errs.push("must not be '.'");
  else if (value === '..') errs.push("must not be '..'");
  else if (value.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export function isHTTPHeaderName(value: string): string[] {
  return HTTP_HEADER_NAME.test(value)
    ? []
    : [regexError("a valid HTTP header must consist of alphanumeric characters or '-'", HTTP_HEADER_NAME_FMT, 'X-Header-Name')];
}

/**
 * Generates src/manifests/schema/kube-schemas.json: the OpenAPI v3 component schemas (types, required
 * fields, descriptions, the GVK extension) of the kinds the Kubernetes API of aks-emu
 * serves, from the TypeScript declarations of the npm package kubernetes-types (Apache-2.0,
 * generated from the Kubernetes OpenAPI spec; a devDependency), so nothing is needed at
 * run time but the committed JSON.
 *
 *   node --import tsx scripts/gen-kube-schemas.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { RESOURCES } from '../src/api/kube/resources.js';

type Schema = Record<string, unknown>;

const root = dirname(createRequire(import.meta.url).resolve('kubernetes-types/package.json'));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** kubernetes-types module → the Go package prefix of the OpenAPI definition names. */
function prefixOf(module: string): string {
  if (module === 'meta/v1') return 'io.k8s.apimachinery.pkg.apis.meta.v1';
  if (module === 'api/resource') return 'io.k8s.apimachinery.pkg.api.resource';
  if (module === 'runtime') return 'io.k8s.apimachinery.pkg.runtime';
  return `io.k8s.api.${module.replace('/', '.')}`;
}

interface Declaration {
  readonly module: string;
  readonly node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
  readonly imports: Map<string, string>;
}

const modules = new Map<string, Map<string, Declaration>>();

function load(module: string): Map<string, Declaration> {
  const known = modules.get(module);
  if (known) return known;
  const file = join(root, `${module}.d.ts`);
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const imports = new Map<string, string>();
  const decls = new Map<string, Declaration>();
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const target = join(dirname(module), s.moduleSpecifier.text).replace(/\\/g, '/');
      const named = s.importClause?.namedBindings;
      if (named && ts.isNamedImports(named)) for (const e of named.elements) imports.set(e.name.text, target);
    } else if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) decls.set(s.name.text, { module, node: s, imports });
  }
  modules.set(module, decls);
  return decls;
}

function docOf(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n');
  return text.trim() === '' ? undefined : text.trim();
}

const schemas: Record<string, Schema> = {};

/** The definition name of a named type, generating its schema on first use. */
function define(module: string, name: string): string {
  const decl = load(module).get(name);
  if (!decl) throw new Error(`${name} is not declared in kubernetes-types/${module}`);
  const id = `${prefixOf(module)}.${name}`;
  if (schemas[id]) return id;
  schemas[id] = {};
  const description = docOf(decl.node);
  if (ts.isTypeAliasDeclaration(decl.node)) {
    const format = name === 'Time' ? 'date-time' : name === 'MicroTime' ? 'date-time' : undefined;
    schemas[id] = { ...typeOf(decl, decl.node.type), ...(format ? { format } : {}), ...(description ? { description } : {}) };
    return id;
  }
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  let gvk: { group: string; version: string; kind: string } | undefined;
  for (const m of decl.node.members) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    const field = m.name.getText().replace(/^"|"$/g, '');
    const d = docOf(m);
    const t = typeOf(decl, m.type);
    properties[field] = t.$ref ? { allOf: [t], ...(d ? { description: d } : {}) } : { ...t, ...(d ? { description: d } : {}) };
    if (!m.questionToken) required.push(field);
    if (field === 'kind' && ts.isLiteralTypeNode(m.type) && ts.isStringLiteral(m.type.literal)) {
      const apiVersion = decl.node.members.find((x) => ts.isPropertySignature(x) && x.name.getText() === 'apiVersion') as ts.PropertySignature | undefined;
      const av = apiVersion?.type && ts.isLiteralTypeNode(apiVersion.type) && ts.isStringLiteral(apiVersion.type.literal) ? apiVersion.type.literal.text : '';
      const [group, ver] = av.includes('/') ? av.split('/') : ['', av];
      gvk = { group: group!, version: ver!, kind: m.type.literal.text };
    }
  }
  schemas[id] = {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    ...(required.length ? { required } : {}),
    ...(gvk ? { 'x-kubernetes-group-version-kind': [gvk] } : {}),
  };
  return id;
}

function typeOf(decl: Declaration, t: ts.TypeNode): Schema {
  if (t.kind === ts.SyntaxKind.StringKeyword) return { type: 'string' };
  if (t.kind === ts.SyntaxKind.NumberKeyword) return { type: 'integer' };
  if (t.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
  if (t.kind === ts.SyntaxKind.AnyKeyword || t.kind === ts.SyntaxKind.UnknownKeyword) return { type: 'object' };
  if (ts.isLiteralTypeNode(t)) return { type: typeof (ts.isStringLiteral(t.literal) ? '' : 0) === 'string' ? 'string' : 'integer' };
  if (ts.isArrayTypeNode(t)) return { type: 'array', items: typeOf(decl, t.elementType) };
  if (ts.isUnionTypeNode(t)) {
    const kinds = t.types.map((x) => x.kind);
    if (kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) return { $ref: `#/components/schemas/${intOrString()}` };
    return typeOf(decl, t.types[0]!);
  }
  if (ts.isTypeLiteralNode(t)) {
    const index = t.members.find(ts.isIndexSignatureDeclaration);
    if (index) return { type: 'object', additionalProperties: typeOf(decl, index.type) };
    return { type: 'object' };
  }
  if (ts.isTypeReferenceNode(t)) {
    const name = t.typeName.getText();
    if (name === 'Array' && t.typeArguments?.length === 1) return { type: 'array', items: typeOf(decl, t.typeArguments[0]!) };
    const module = decl.imports.get(name) ?? decl.module;
    return { $ref: `#/components/schemas/${define(module, name)}` };
  }
  throw new Error(`unhandled type ${t.getText()} in kubernetes-types/${decl.module}`);
}

function intOrString(): string {
  const id = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
  schemas[id] = {
    type: 'string',
    format: 'int-or-string',
    'x-kubernetes-int-or-string': true,
    description:
      'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  };
  return id;
}

/** The content of src/manifests/schema/kube-schemas.json. */
export function generateKubeSchemas(): string {
  const kinds: Record<string, string> = {};
  // Custom resources (the Gateway API kinds) have no type in kubernetes-types: as with a CRD
  // installed without a schema, the API server publishes none and strict validation is left
  // to the manifests layer's own field checks.
  for (const r of RESOURCES) {
    if (r.custom) continue;
    const module = `${r.group === '' ? 'core' : r.group.split('.')[0]}/${r.version}`;
    kinds[`${r.group}/${r.version}/${r.kind}`] = define(module, r.kind);
    define(module, `${r.kind}List`);
  }
  define('meta/v1', 'Status');
  return JSON.stringify({ source: `kubernetes-types@${version} (Apache-2.0)`, kinds, schemas }) + '\n';
}

export const SCHEMAS_FILE = new URL('../src/manifests/schema/kube-schemas.json', import.meta.url);

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(SCHEMAS_FILE, generateKubeSchemas());
  console.log(`${Object.keys(schemas).length} schemas written to ${SCHEMAS_FILE.pathname}`);
}

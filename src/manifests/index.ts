/**
 * The manifests layer: Kubernetes manifests in, typed and validated Manifests out, or
 * every error at once (AKS_EMU_MANIFEST_READ, AKS_EMU_MANIFEST_PARSE, or a
 * ManifestInvalidError with all field errors of all files).
 */
import { buildManifests, type LoadResult, type ManifestOptions, type RawObject } from './build.js';
import { readManifestFiles } from './load.js';
import { parseYamlDocuments } from './parse.js';

export type { LoadResult, ManifestOptions, RawObject } from './build.js';

/** Files and folders (folders recursively: *.yaml, *.yml, *.json, sorted). */
export async function loadManifests(paths: string[], options: ManifestOptions = {}): Promise<LoadResult> {
  return parseManifests(await readManifestFiles(paths), options);
}

/** YAML or JSON text, possibly with several documents per file. */
export function parseManifests(docs: { file: string; text: string }[], options: ManifestOptions = {}): LoadResult {
  const parseErrors: string[] = [];
  const objects = docs.flatMap(({ file, text }) => parseYamlDocuments(file, text, parseErrors));
  return buildManifests(objects, options, parseErrors);
}

/** Already-parsed objects (the library API accepts plain objects). */
export function parseObjects(objects: RawObject[], options: ManifestOptions = {}): LoadResult {
  return buildManifests(objects, options);
}

/** Like loadManifests and parseManifests, also returning the parsed objects (the object store keeps them as written). */
export async function loadObjects(paths: string[], inline: { file: string; text: string }[] = [], objects: RawObject[] = []): Promise<{ raw: RawObject[]; result: LoadResult }> {
  const parseErrors: string[] = [];
  const docs = [...(paths.length ? await readManifestFiles(paths) : []), ...inline];
  const raw = [...docs.flatMap(({ file, text }) => parseYamlDocuments(file, text, parseErrors)), ...objects];
  return { raw, result: buildManifests(raw, {}, parseErrors) };
}

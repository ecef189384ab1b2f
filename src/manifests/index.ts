/**
 * The manifests layer: Kubernetes manifests in, typed and validated Manifests out, or
 * every error at once (AKS_EMU_MANIFEST_READ, AKS_EMU_MANIFEST_TOO_LARGE,
 * AKS_EMU_MANIFEST_PARSE, or a ManifestInvalidError with all field errors of all files).
 */
import { buildManifests, type LoadResult, type ManifestOptions, type RawObject } from './build.js';
import { checkCharacters, formatEncodingProblem } from './encoding.js';
import { checkTextSizes, sizeLimits } from './limits.js';
import { readManifestSources } from './load.js';
import { defaultNamespace } from './namespace.js';
import { parseYamlDocuments } from './parse.js';

export type { LoadResult, ManifestOptions, RawObject } from './build.js';
export { MANIFEST_LISTS, ParsedObjects } from './build.js';
export { FIELD_VALIDATIONS, parseValidateFlag, type FieldValidation } from './validation/unknown-fields.js';

/** Files and folders (folders recursively: *.yaml, *.yml, *.json, sorted), within the size limits. */
export async function loadManifests(paths: string[], options: ManifestOptions = {}): Promise<LoadResult> {
  const { files, encodingErrors } = await readManifestSources(paths, sizeLimits(options));
  return parseTexts(files, options, encodingErrors);
}

/** YAML or JSON text, possibly with several documents per file. */
export function parseManifests(docs: { file: string; text: string }[], options: ManifestOptions = {}): LoadResult {
  checkTextSizes(docs, sizeLimits(options));
  const encodingErrors: string[] = [];
  const clean = docs.filter(({ file, text }) => {
    const problem = checkCharacters(text);
    if (problem) encodingErrors.push(formatEncodingProblem(file, problem));
    return problem === undefined;
  });
  return parseTexts(clean, options, encodingErrors);
}

/** Every file is parsed even when another failed, so that one run names every syntax error. */
function parseTexts(docs: readonly { file: string; text: string }[], options: ManifestOptions, parseErrors: string[]): LoadResult {
  const objects = docs.flatMap(({ file, text }) => parseYamlDocuments(file, text, parseErrors));
  return buildManifests(objects, options, parseErrors);
}

/** Already-parsed objects (the library API accepts plain objects). */
export function parseObjects(objects: RawObject[], options: ManifestOptions = {}): LoadResult {
  return buildManifests(objects, options);
}

/** Like loadManifests and parseManifests, also returning the parsed objects (the object store keeps them as written). */
export async function loadObjects(
  paths: string[],
  inline: { file: string; text: string }[] = [],
  objects: RawObject[] = [],
  options: ManifestOptions = {},
): Promise<{ raw: RawObject[]; result: LoadResult }> {
  const limits = sizeLimits(options);
  const { files, encodingErrors: parseErrors } = paths.length ? await readManifestSources(paths, limits) : { files: [], encodingErrors: [] as string[] };
  checkTextSizes(inline, limits);
  const clean = inline.filter(({ file, text }) => {
    const problem = checkCharacters(text);
    if (problem) parseErrors.push(formatEncodingProblem(file, problem));
    return problem === undefined;
  });
  const parsed = [...[...files, ...clean].flatMap(({ file, text }) => parseYamlDocuments(file, text, parseErrors)), ...objects];
  // The store keeps the objects with the namespace they were put in (`up -n NS`).
  const raw = defaultNamespace(parsed, options.namespace, []);
  return { raw, result: buildManifests(raw, options, parseErrors) };
}

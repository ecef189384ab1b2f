/**
 * aks-emu.yaml `containers:`: which containers the container runtime (docker compose) runs
 * as real containers of their image, and what happens when an image cannot be had.
 */
import type { ContainerImages } from './types.js';

export interface ContainerImagesInput {
  images?: unknown;
  whenImageUnavailable?: unknown;
}

const UNAVAILABLE = ['error', 'echo'] as const;

/** `AKS_EMU_CONTAINER_IMAGES`: globs separated by commas or spaces. */
export function parseImageGlobs(value: string): string[] {
  return value.split(/[\s,]+/).filter((g) => g !== '');
}

export function buildContainerImages(input: unknown, bad: (field: string, message: string) => void): ContainerImages | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== 'object' || Array.isArray(input)) {
    bad('containers', 'Invalid value: expected {images: [globs], whenImageUnavailable: error|echo}');
    return undefined;
  }
  const { images, whenImageUnavailable, ...rest } = input as ContainerImagesInput & Record<string, unknown>;
  for (const key of Object.keys(rest)) bad(`containers.${key}`, 'unknown field (known: images, whenImageUnavailable)');
  if (!Array.isArray(images) || images.some((g) => typeof g !== 'string' || g === '')) {
    bad('containers.images', 'Invalid value: a list of image globs ("*" runs every image)');
    return undefined;
  }
  const unavailable = whenImageUnavailable ?? 'error';
  if (!UNAVAILABLE.includes(unavailable as (typeof UNAVAILABLE)[number])) {
    bad('containers.whenImageUnavailable', `Unsupported value: ${JSON.stringify(unavailable)}: supported values: "error", "echo"`);
    return undefined;
  }
  return { images: images as string[], whenImageUnavailable: unavailable as ContainerImages['whenImageUnavailable'] };
}

/**
 * Deterministic names for what a release creates in SageMaker. The same model package
 * released to the same endpoint always gets the same names, so a retried task finds
 * its own earlier work instead of creating a duplicate.
 */
import { SAGEMAKER_NAME_PATTERN } from './config';

/** Longest endpoint-name prefix kept in generated names, leaving room for the release suffix. */
export const NAME_PREFIX_MAX = 40;
/** Model package versions are positive integers; 10 digits keep every generated name within 63 characters. */
const MAX_VERSION = 9_999_999_999;

export interface ReleaseNames {
  /** `v<version>-<hash>`: identifies the release in tags, logs and names. */
  readonly releaseId: string;
  readonly modelName: string;
  readonly candidateVariantName: string;
  /** Config with the baseline and the candidate variants, deployed before traffic shifts. */
  readonly deployConfigName: string;
  /** Config with the candidate variant alone, deployed when the release is promoted. */
  readonly promotedConfigName: string;
}

/** The part of generated names that comes from the endpoint; IAM policies are scoped to it. */
export function resourcePrefix(endpointName: string): string {
  return endpointName.slice(0, NAME_PREFIX_MAX).replace(/-+$/, '');
}

/** 32-bit FNV-1a, hex: short, stable across runtimes, no dependency. Not for security. */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export function releaseNames(endpointName: string, modelPackageArn: string, version: number): ReleaseNames {
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
    throw new RangeError(`releaseNames: expected a model package version between 1 and ${MAX_VERSION}, got ${version}`);
  }
  const releaseId = `v${version}-${shortHash(`${modelPackageArn}|${endpointName}`)}`;
  const base = `${resourcePrefix(endpointName)}-${releaseId}`;
  const names: ReleaseNames = {
    releaseId,
    modelName: base,
    candidateVariantName: releaseId,
    deployConfigName: `${base}-d`,
    promotedConfigName: `${base}-p`,
  };
  for (const [field, value] of Object.entries(names)) {
    if (!SAGEMAKER_NAME_PATTERN.test(value)) {
      throw new Error(`releaseNames: generated ${field} '${value}' is not a valid SageMaker name`);
    }
  }
  return names;
}

/** Was this model or endpoint config created by a release to this endpoint? */
export function isReleaseResourceName(endpointName: string, name: string): boolean {
  return new RegExp(`^${escapeRegExp(resourcePrefix(endpointName))}-v\\d+-[0-9a-f]{8}(-[dp])?$`).test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

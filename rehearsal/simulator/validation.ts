/**
 * Request validation for the simulators: zod schemas describe the inputs, and failures
 * are reported in the wording AWS services use for constraint violations
 * ("1 validation error detected: Value 'x' at 'modelName' failed to satisfy
 * constraint: ..."), so the product code sees the same messages it would see live.
 */
import type { z } from 'zod';

/** SageMaker resource names: EndpointName, ModelName, EndpointConfigName, VariantName. */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export type ValidationErrorFactory = (message: string) => Error;

export function parseInput<T>(schema: z.ZodType<T>, input: unknown, makeError: ValidationErrorFactory): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const details = issues.map((issue) => describeIssue(issue, input)).join('; ');
  const count = issues.length;
  throw makeError(`${count} validation error${count === 1 ? '' : 's'} detected: ${details}`);
}

/** Formats one violation the way AWS does, for messages built outside zod. */
export function constraintMessage(path: ReadonlyArray<PropertyKey>, value: unknown, constraint: string): string {
  return `1 validation error detected: ${violation(path, value, constraint)}`;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const value = valueAt(input, issue.path);
  return violation(issue.path, value, constraintOf(issue, value));
}

function violation(path: ReadonlyArray<PropertyKey>, value: unknown, constraint: string): string {
  return `Value ${formatValue(value)} at '${awsPath(path)}' failed to satisfy constraint: ${constraint}`;
}

function constraintOf(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined || value === null ? 'Member must not be null' : `Member must be of type ${issue.expected}`;
    case 'too_small':
      return `Member must have ${measureOf(issue.origin)} greater than or equal to ${String(issue.minimum)}`;
    case 'too_big':
      return `Member must have ${measureOf(issue.origin)} less than or equal to ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern
        ? `Member must satisfy regular expression pattern: ${stripRegexDelimiters(issue.pattern)}`
        : issue.message;
    case 'invalid_value':
      return `Member must satisfy enum value set: [${issue.values.map(String).join(', ')}]`;
    default:
      return issue.message;
  }
}

function measureOf(origin: string): 'length' | 'value' {
  return origin === 'string' || origin === 'array' || origin === 'set' ? 'length' : 'value';
}

// AWS names members in lowerCamelCase and list items as "<index from 1>.member".
function awsPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((segment) => (typeof segment === 'number' ? `${segment + 1}.member` : String(segment).charAt(0).toLowerCase() + String(segment).slice(1)))
    .join('.');
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

const MAX_VALUE_LENGTH = 120;

function formatValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  // Keeps messages readable when the offending value is, say, a 101-name list.
  return `'${text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH)}...` : text}'`;
}

function stripRegexDelimiters(pattern: string): string {
  const match = /^\/(.*)\/[a-z]*$/s.exec(pattern);
  return match?.[1] ?? pattern;
}

// DAG params: checks the specs a DAG declares, and resolves the params given at trigger time
// (defaults, unknown keys, required ones, types and limits) into the values a run gets.
// Validation is JSON Schema via ajv, compiled once per spec object.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ParamSpec } from './types.js';

export type ParamsResult = { ok: true; params: Record<string, unknown> } | { ok: false; errors: string[] };

const PARAM_TYPES: readonly ParamSpec['type'][] = ['string', 'number', 'integer', 'boolean', 'object', 'array'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// allErrors: report every broken limit at once, not just the first.
const ajv = new Ajv({ allErrors: true });
const compiled = new WeakMap<ParamSpec, ValidateFunction>();

function schemaOf(spec: ParamSpec): Record<string, unknown> {
  const schema: Record<string, unknown> = { type: spec.type };
  for (const key of ['enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern'] as const) {
    if (spec[key] !== undefined) schema[key] = spec[key];
  }
  return schema;
}

/** Compiled validator for a spec; throws if the spec itself is not a valid schema. */
function validatorFor(spec: ParamSpec): ValidateFunction {
  let validate = compiled.get(spec);
  if (!validate) {
    validate = ajv.compile(schemaOf(spec));
    compiled.set(spec, validate);
  }
  return validate;
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath ? ` at ${e.instancePath}` : '';
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return `must be one of ${allowed}${where}`;
  }
  if (e.keyword === 'pattern') return `must match pattern ${JSON.stringify((e.params as { pattern: string }).pattern)}${where}`;
  return `${e.message ?? 'is invalid'}${where}`;
}

/** Why `value` does not satisfy `spec` (empty when it does), without the param name. */
function problems(spec: ParamSpec, value: unknown): string[] {
  let validate: ValidateFunction;
  try {
    validate = validatorFor(spec);
  } catch (e) {
    return [`invalid spec: ${e instanceof Error ? e.message : String(e)}`];
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describeError);
}

function hasType(type: ParamSpec['type'], v: unknown): boolean {
  switch (type) {
    case 'string':
    case 'boolean':
      return typeof v === type;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'array':
      return Array.isArray(v);
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
  }
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Problems with the param specs a DAG declares; empty when all are usable. */
export function validateParamSpecs(specs: Record<string, ParamSpec>): string[] {
  if (specs === null || typeof specs !== 'object' || Array.isArray(specs)) {
    return [`params must be an object of name -> spec, got ${JSON.stringify(specs)}`];
  }
  const errors: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const p = `param "${name}"`;
    // Names become keys in templates and code, so keep them plain identifiers.
    if (!NAME.test(name)) {
      errors.push(`${p}: name must be an identifier (letters, digits, _; not starting with a digit)`);
    }
    if (spec === null || typeof spec !== 'object') {
      errors.push(`${p}: spec must be an object such as { type: "string" }`);
      continue;
    }
    if (!PARAM_TYPES.includes(spec.type)) {
      errors.push(`${p}: unknown type ${JSON.stringify(spec.type)}; use one of ${PARAM_TYPES.join(', ')}`);
      continue;
    }
    const before = errors.length;
    const numeric = spec.type === 'number' || spec.type === 'integer';
    for (const key of ['minimum', 'maximum'] as const) {
      if (spec[key] === undefined) continue;
      if (!isFiniteNumber(spec[key])) errors.push(`${p}: ${key} must be a number`);
      else if (!numeric) errors.push(`${p}: ${key} only applies to number and integer params`);
    }
    if (isFiniteNumber(spec.minimum) && isFiniteNumber(spec.maximum) && spec.minimum > spec.maximum) {
      errors.push(`${p}: minimum (${spec.minimum}) is greater than maximum (${spec.maximum})`);
    }
    for (const key of ['minLength', 'maxLength'] as const) {
      if (spec[key] === undefined) continue;
      const v = spec[key];
      if (!(Number.isInteger(v) && (v as number) >= 0)) errors.push(`${p}: ${key} must be a non-negative integer`);
      else if (spec.type !== 'string') errors.push(`${p}: ${key} only applies to string params`);
    }
    if (spec.pattern !== undefined) {
      if (spec.type !== 'string') errors.push(`${p}: pattern only applies to string params`);
      else if (typeof spec.pattern !== 'string') errors.push(`${p}: pattern must be a string`);
      else {
        try {
          new RegExp(spec.pattern, 'u'); // ajv compiles patterns with the unicode flag
        } catch (e) {
          errors.push(`${p}: invalid pattern ${JSON.stringify(spec.pattern)}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    if (spec.enum !== undefined && (!Array.isArray(spec.enum) || spec.enum.length === 0)) {
      errors.push(`${p}: enum must be a non-empty array of allowed values`);
    }
    if (errors.length > before) continue; // the schema is broken; checking values would only add noise
    if (Array.isArray(spec.enum)) {
      for (const v of spec.enum) {
        if (!hasType(spec.type, v)) errors.push(`${p}: enum value ${JSON.stringify(v)} is not of type ${spec.type}`);
      }
    }
    if (spec.default !== undefined) {
      for (const msg of problems(spec, spec.default)) errors.push(`${p}: default ${JSON.stringify(spec.default)} ${msg}`);
    }
  }
  return errors;
}

/**
 * The params a run gets: given values checked against their specs, defaults filled in.
 * Every problem is reported at once, each naming the param.
 */
export function resolveParams(specs: Record<string, ParamSpec>, given: Record<string, unknown> | undefined): ParamsResult {
  const input = given ?? {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [`params must be an object of name -> value, got ${JSON.stringify(input)}`] };
  }
  const errors: string[] = [];
  const names = Object.keys(specs);
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(specs, key)) {
      const accepted = names.length > 0 ? `this DAG accepts: ${names.join(', ')}` : 'this DAG accepts no params';
      errors.push(`unknown param "${key}"; ${accepted}`);
    }
  }
  const params: Record<string, unknown> = {};
  for (const name of names) {
    const spec = specs[name] as ParamSpec;
    let value = input[name];
    if (value === undefined) {
      if (spec.default === undefined) {
        errors.push(`param "${name}" is required (it has no default)`);
        continue;
      }
      // A copy, so that a task mutating an object param cannot change the DAG's default.
      value = structuredClone(spec.default);
    }
    for (const msg of problems(spec, value)) errors.push(`param "${name}": ${msg}`);
    params[name] = value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, params };
}

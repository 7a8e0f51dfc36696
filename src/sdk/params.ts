// Typed DAG params: each builder returns a plain ParamSpec (stored with the DAG, validated
// on every trigger) that also carries its TypeScript type for ctx.params.
import type { ParamSpec } from '../core/types.js';

declare const PARAM_TYPE: unique symbol;
export type Param<T> = ParamSpec & { readonly [PARAM_TYPE]?: T };
export type ParamsShape = Record<string, Param<unknown>>;
export type ParamValues<P extends ParamsShape> = { [K in keyof P]: P[K] extends Param<infer T> ? T : never };

type Common<T> = { default?: T; description?: string; enum?: T[] };

export const param = {
  string: (o: Common<string> & { minLength?: number; maxLength?: number; pattern?: string } = {}): Param<string> => ({ ...o, type: 'string' }),
  number: (o: Common<number> & { minimum?: number; maximum?: number } = {}): Param<number> => ({ ...o, type: 'number' }),
  integer: (o: Common<number> & { minimum?: number; maximum?: number } = {}): Param<number> => ({ ...o, type: 'integer' }),
  boolean: (o: Common<boolean> = {}): Param<boolean> => ({ ...o, type: 'boolean' }),
  object: <T extends Record<string, unknown> = Record<string, unknown>>(o: Common<T> = {}): Param<T> => ({ ...o, type: 'object' }),
  array: <T = unknown>(o: Common<T[]> = {}): Param<T[]> => ({ ...o, type: 'array' }),
};

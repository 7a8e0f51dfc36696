// Options come from, in rising precedence: defaults, the config file, environment
// variables, and CLI flags. All of them are validated here, once, into KeelOptions.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OPTION_SPECS, type KeelOptions, type OptionName } from './options.js';
import { UsageError } from '../errors.js';

export const DEFAULT_CONFIG_FILE = 'keel.config.json';

export interface LoadOptionsInput {
  env?: NodeJS.ProcessEnv;
  /** Explicit config file; default: $KEEL_CONFIG, else keel.config.json in the working directory when present. */
  configFile?: string;
  overrides?: Partial<Record<OptionName, unknown>>;
  cwd?: string;
  /** Read no config file at all (tests and embedding programs). */
  noConfigFile?: boolean;
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`config file ${path}: ${(err as Error).message}; fix the JSON or remove the file`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`config file ${path}: expected a JSON object of options`);
  }
  const known = Object.keys(OPTION_SPECS);
  for (const key of Object.keys(parsed)) {
    if (!known.includes(key)) {
      throw new UsageError(`config file ${path}: unknown option "${key}"; known options: ${known.join(', ')}`);
    }
  }
  return parsed as Record<string, unknown>;
}

export function loadOptions(input: LoadOptionsInput = {}): KeelOptions {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const explicitFile = input.configFile ?? env.KEEL_CONFIG;
  const filePath = explicitFile ? resolve(cwd, explicitFile) : resolve(cwd, DEFAULT_CONFIG_FILE);
  if (explicitFile && !existsSync(filePath)) {
    throw new UsageError(`config file ${filePath} does not exist; create it or unset KEEL_CONFIG / --config`);
  }
  const fromFile = !input.noConfigFile && existsSync(filePath) ? readConfigFile(filePath) : {};

  const result: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTION_SPECS) as [OptionName, (typeof OPTION_SPECS)[OptionName]][]) {
    let raw: unknown = spec.default;
    let source = 'default';
    if (fromFile[name] !== undefined) {
      raw = fromFile[name];
      source = `config file ${filePath}, key "${name}"`;
    }
    const envValue = env[spec.env];
    if (envValue !== undefined && envValue !== '') {
      raw = envValue;
      source = `environment variable ${spec.env}`;
    }
    const override = input.overrides?.[name];
    if (override !== undefined) {
      raw = override;
      source = `command-line option for ${name}`;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((i) => i.message).join('; ');
      throw new UsageError(`invalid ${name} from ${source}: ${JSON.stringify(raw)}: ${reason}. ${spec.doc}`);
    }
    result[name] = parsed.data;
  }
  const options = result as KeelOptions;
  options.dataDir = resolve(cwd, options.dataDir);
  options.dagsFolder = resolve(cwd, options.dagsFolder);
  return options;
}

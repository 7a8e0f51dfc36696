// Replaces known secret values in text (task log lines, task errors) with MASK before the text
// is stored, as Airflow's secrets masker does. Values shorter than MIN_LENGTH are left alone:
// masking "abc" everywhere would garble logs and hint at the secret (Airflow's
// min_length_masked_secret, 5).
import { MASK } from './sensitive.js';

export const MIN_LENGTH = 5;

/** The forms a secret takes in text: itself, URL-encoded (in a printed URL), and each line of a multi-line one. */
function forms(secret: string): string[] {
  const lines = secret.includes('\n') ? secret.split('\n').map((l) => l.trim()) : [];
  return [secret, encodeURIComponent(secret), ...lines].filter((f) => f.length >= MIN_LENGTH);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class SecretMasker {
  private readonly pattern: RegExp | null;
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    this.secrets = [...secrets];
    const all = [...new Set(this.secrets.flatMap(forms))].sort((a, b) => b.length - a.length);
    this.pattern = all.length ? new RegExp(all.map(escape).join('|'), 'g') : null;
  }

  /** A masker of these secrets and `more`. */
  with(more: readonly string[]): SecretMasker {
    return more.length ? new SecretMasker([...this.secrets, ...more]) : this;
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }
}

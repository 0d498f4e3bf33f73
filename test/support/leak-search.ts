/**
 * Searching outputs for secrets, for the leak test. A secret counts as leaked when any output
 * holds it raw, base64-encoded, URL-encoded or JSON-escaped, or holds any piece of it longer
 * than a mask shows (`ghp_•••8a4f` keeps at most four characters together, so five in a row
 * are a leak). Hits are reported by the secret's name and the form, never by the value.
 */

export interface KnownSecret {
  readonly name: string;
  readonly value: string;
  /**
   * Search for pieces too. Random values the test does not choose (OAuth access tokens) are
   * searched whole only: their pieces could turn up by chance in other random data.
   */
  readonly pieces: boolean;
}

export interface Output {
  readonly what: string;
  readonly text: string;
}

/** More than the longest run of a secret's characters a mask shows. */
export const PIECE_LENGTH = 5;

export function secretForms(value: string): Array<{ form: string; text: string }> {
  return [
    { form: "raw", text: value },
    { form: "base64", text: Buffer.from(value).toString("base64") },
    { form: "base64url", text: Buffer.from(value).toString("base64url") },
    { form: "url-encoded", text: encodeURIComponent(value) },
    { form: "json-escaped", text: JSON.stringify(value).slice(1, -1) },
  ];
}

export function secretPieces(value: string, length = PIECE_LENGTH): string[] {
  const out = new Set<string>();
  for (let i = 0; i + length <= value.length; i++) out.add(value.slice(i, i + length));
  return [...out];
}

/** Every (output, secret, form) hit, described without the secret. */
export function findLeaks(outputs: readonly Output[], secrets: readonly KnownSecret[]): string[] {
  const needles = secrets.flatMap((s) => [
    ...secretForms(s.value).map((f) => ({ label: `${s.name} (${f.form})`, text: f.text })),
    ...(s.pieces ? secretPieces(s.value).map((p, i) => ({ label: `${s.name} (characters ${i + 1}-${i + PIECE_LENGTH})`, text: p })) : []),
  ]);
  const hits: string[] = [];
  for (const output of outputs) {
    for (const needle of needles) if (output.text.includes(needle.text)) hits.push(`${output.what}: ${needle.label}`);
  }
  return hits;
}

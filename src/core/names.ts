/**
 * Names of pipelines and job types appear in storage keys, metric labels, URLs and file names,
 * so they are kept to a safe alphabet.
 */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/**
 * Turns any string into a valid name: `"My Step!"` → `"my-step"`. Lower-cases, replaces runs of
 * other characters by `-`, trims `-` at both ends. An empty result becomes `"unnamed"`.
 */
export function sanitizeName(raw: string): string {
  const cleaned = raw
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_.]+/g, "-")
    .replace(/^[-_.]+|[-_.]+$/g, "")
    .slice(0, 128);
  return cleaned === "" ? "unnamed" : cleaned;
}

/** `GenerateFile` → `generate-file`, as the class DSL names a step class without `jobType`. */
export function kebabFromClassName(className: string): string {
  return sanitizeName(className.replace(/([a-z0-9])([A-Z])/g, "$1-$2"));
}

/**
 * The commands of the README's Docker section, as `npm run test:containers` runs them: each
 * `sh` code block of the section is a list of command lines, translated for podman and for a
 * shared machine by a fixed table and nothing else:
 *
 * | README | the test runs |
 * |---|---|
 * | `docker compose …` | `podman-compose -p <unique project> …` (1.0 ignores the file's `name:`) |
 * | `--scale host=N` | the same, plus `MARIO_HOSTS=N` (podman-compose 1.0 ignores `--scale`) |
 * | `docker build …` | `podman build --label mario-ci=<prefix> --build-arg NODE_IMAGE=<local base> --build-arg MARIO_IMAGE=<mario image> …` |
 * | `docker …` | `podman …` |
 * | `mario:local`, `my-functions`, `mario-up` | unique names (`mario-ci-<random>…`) |
 * | port 8080 on the host | a free port |
 */
export interface Names {
  prefix: string;
  /** The Mario image (README: mario:local). */
  image: string;
  /** The image of the example project (README: my-functions). */
  project: string;
  /** The compose project. */
  composeProject: string;
  /** The locally assembled base image. */
  base: string;
  port: number;
}

export interface Translated {
  /** A bash command line. */
  line: string;
  /** Extra environment the line runs with. */
  env: Record<string, string>;
}

/** The command lines of every `sh` block between "## Docker" and the next "## " heading. */
export function dockerSectionBlocks(readme: string): string[][] {
  const start = readme.indexOf("\n## Docker\n");
  if (start < 0) throw new Error("README has no ## Docker section");
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1]!
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#")),
  );
}

export function toPodman(readmeLine: string, names: Names): Translated {
  const env: Record<string, string> = {};
  let line = readmeLine
    .replace(/\bmario:local\b/g, names.image)
    .replace(/\bmy-functions\b/g, names.project)
    .replace(/\bmario-up\b/g, `${names.prefix}-up`)
    .replace(/\bmario_keys\b/g, `${names.composeProject}_keys`)
    .replace(/127\.0\.0\.1:8080:8080/g, `127.0.0.1:${names.port}:8080`)
    .replace(/localhost:8080/g, `127.0.0.1:${names.port}`);
  const scale = /--scale host=(\d+)/.exec(line);
  if (scale !== null) env.MARIO_HOSTS = scale[1]!;
  line = line
    .replace(/^docker compose /, `podman-compose -p ${names.composeProject} `)
    .replace(/^docker build /, `podman build --label mario-ci=${names.prefix} --build-arg NODE_IMAGE=${names.base} --build-arg MARIO_IMAGE=${names.image} `)
    .replace(/^docker /, "podman ");
  if (/^docker /.test(line)) throw new Error(`untranslated docker in: ${readmeLine}`);
  return { line, env };
}

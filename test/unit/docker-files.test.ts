/**
 * docker/Dockerfile, docker/compose.yaml, docker/entrypoint.sh and .dockerignore, without a
 * Docker engine: `docker compose config` when the compose plugin is installed; always a structural
 * check of compose.yaml (a small parser of the YAML subset the file uses, so no YAML dependency);
 * multi-stage non-root image; and every `mario` command the image and compose run exists in the
 * CLI (`mario <cmd> --help` exits 0).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { ArgsDef } from "citty";
import { loadProject } from "../../src/config/load-project.ts";
import { subCommands } from "../../src/cli/main.ts";
import { unknownFlag } from "../../src/cli/_usage.ts";

type Yaml = string | Yaml[] | { [key: string]: Yaml };

/**
 * Block mappings and sequences by indentation, `key: value`, `- item`, JSON-style quoted strings
 * and flow sequences of quoted strings, `#` comment lines. Throws on anything else.
 */
export function parseYamlSubset(text: string): Yaml {
  const lines = text
    .split("\n")
    .map((raw, i) => ({ n: i + 1, indent: raw.length - raw.trimStart().length, body: raw.trim() }))
    .filter((l) => l.body !== "" && !l.body.startsWith("#"));
  let pos = 0;
  const scalar = (value: string, n: number): Yaml => {
    if (value.startsWith("[")) {
      const parsed = JSON.parse(value) as unknown;
      assert.ok(Array.isArray(parsed) && parsed.every((x) => typeof x === "string"), `line ${n}: flow sequence of strings expected`);
      return parsed;
    }
    if (value.startsWith('"')) return JSON.parse(value) as string;
    assert.ok(!/^[{'&*!|>%@`]/.test(value), `line ${n}: unsupported YAML "${value}"`);
    return value;
  };
  const block = (indent: number): Yaml => {
    const first = lines[pos]!;
    assert.equal(first.indent, indent, `line ${first.n}: bad indentation`);
    if (first.body.startsWith("- ")) {
      const items: Yaml[] = [];
      while (pos < lines.length && lines[pos]!.indent === indent && lines[pos]!.body.startsWith("- ")) {
        const line = lines[pos++]!;
        assert.doesNotMatch(line.body.slice(2), /^[\w.-]+: /, `line ${line.n}: mappings in sequences are not in the subset`);
        items.push(scalar(line.body.slice(2), line.n));
      }
      return items;
    }
    const map: Record<string, Yaml> = {};
    while (pos < lines.length && lines[pos]!.indent === indent) {
      const line = lines[pos++]!;
      const match = /^([\w.-]+):(?: (.*))?$/.exec(line.body);
      assert.ok(match, `line ${line.n}: "key: value" expected, got "${line.body}"`);
      const [, key, value] = match as unknown as [string, string, string | undefined];
      assert.ok(!(key in map), `line ${line.n}: duplicate key ${key}`);
      if (value !== undefined && value !== "") map[key] = scalar(value, line.n);
      else {
        const next = lines[pos];
        map[key] = next !== undefined && next.indent > indent ? block(next.indent) : "";
      }
    }
    assert.ok(pos >= lines.length || lines[pos]!.indent < indent, `line ${lines[pos]?.n}: bad indentation`);
    return map;
  };
  const root = block(0);
  assert.equal(pos, lines.length, "trailing content");
  return root;
}

const asMap = (value: Yaml | undefined, what: string): Record<string, Yaml> => {
  assert.ok(value !== undefined && typeof value === "object" && !Array.isArray(value), `${what} must be a mapping`);
  return value;
};
const asList = (value: Yaml | undefined, what: string): Yaml[] => {
  assert.ok(Array.isArray(value), `${what} must be a list`);
  return value;
};

const compose = readFileSync("docker/compose.yaml", "utf8");
const dockerfile = readFileSync("docker/Dockerfile", "utf8");

const PIPELINES = ["calculate-hash", "delete-file", "example-one", "generate-file", "hash-and-clean"];

describe("docker/compose.yaml", () => {
  it("has redis (append-only), one pipeline server for every pipeline of mario.config.ts, scalable hosts and the gateway that finds the server in Redis, each with a healthcheck (and docker compose config accepts it where the compose plugin is installed)", async () => {
    const version = spawnSync("docker", ["compose", "version"], { encoding: "utf8" });
    if (version.error === undefined && version.status === 0) {
      const result = spawnSync("docker", ["compose", "-f", "docker/compose.yaml", "config", "--quiet"], { encoding: "utf8", env: { ...process.env, MARIO_TOKEN: "t" } });
      assert.equal(result.status, 0, result.stderr);
    }
    const project = await loadProject("mario.config.ts");
    assert.deepEqual(project.pipelines.map((p) => p.name).sort(), PIPELINES, "the example project's pipelines");
    const services = asMap(asMap(parseYamlSubset(compose), "compose").services, "services");
    assert.deepEqual(Object.keys(services).sort(), ["gateway", "host", "pipeline", "redis"]);
    for (const [name, raw] of Object.entries(services)) {
      const service = asMap(raw, name);
      // A string (CMD-SHELL): podman-compose 1.0 mangles ["CMD", …] lists (see compose.yaml).
      assert.equal(typeof asMap(service.healthcheck, `${name}.healthcheck`).test, "string", `${name}: a healthcheck`);
      if (name !== "redis") assert.equal(service.image, "${MARIO_IMAGE:-mario:local}", `${name}: the Mario image, or MARIO_IMAGE`);
    }
    assert.deepEqual(asList(asMap(services.redis, "redis").command, "redis.command").slice(0, 3), ["redis-server", "--appendonly", "yes"]);
    const serve = asList(asMap(services.pipeline, "pipeline").command, "pipeline.command") as string[];
    assert.deepEqual(serve.slice(0, 2), ["pipeline", "mario.config.ts"]);
    assert.ok(serve.slice(2).every((a) => a.startsWith("--")), "no pipeline named: it serves every one");
    assert.ok(serve.includes("--redis=redis://redis:6379"), "on Redis, registered for the gateway");
    const host = asMap(services.host, "host");
    assert.equal(host.ports, undefined, "host must publish no fixed port, or --scale host=4 would clash");
    assert.equal(host.container_name, undefined, "host must have no container_name, or it cannot scale");
    assert.ok((asList(host.command, "host.command") as string[]).includes("--sub-connect=tcp://pipeline:6000"));
    const gateway = asMap(services.gateway, "gateway");
    const gatewayArgs = asList(gateway.command, "gateway.command") as string[];
    assert.ok(gatewayArgs.includes("--redis=redis://redis:6379") && !gatewayArgs.some((a) => a.startsWith("--job-push")), "the gateway finds the servers in Redis");
    assert.deepEqual(asList(gateway.ports, "gateway.ports"), ["127.0.0.1:${MARIO_PORT:-8080}:8080"]);
  });
});

describe("the YAML subset parser", () => {
  it("reads mappings, lists, quoted strings and flow lists, and rejects what it does not know", () => {
    assert.deepEqual(parseYamlSubset('a:\n  b: "x: y"\n  c:\n    - one\n    - "8080:80"\n  d: ["CMD", "z"]\n# note\ne: plain\n'), {
      a: { b: "x: y", c: ["one", "8080:80"], d: ["CMD", "z"] },
      e: "plain",
    });
    assert.throws(() => parseYamlSubset("a: {b: 1}\n"), /unsupported/);
    assert.throws(() => parseYamlSubset("a: 1\na: 2\n"), /duplicate/);
    assert.throws(() => parseYamlSubset("a:\n  - b: 1\n"), /not in the subset/);
    assert.throws(() => parseYamlSubset("a:\n    b: 1\n  c: 2\n"), /indentation/);
  });
});

describe("docker/Dockerfile", () => {
  it("is multi-stage on NODE_IMAGE (default the official Node LTS image), bundles functions with mario build, installs production deps only, runs as a non-root user with a cache folder outside /app", () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const stages = dockerfile.split("\n").filter((l) => /^FROM /.test(l));
    assert.ok(stages.length >= 2, "multi-stage");
    for (const stage of stages) assert.match(stage, /^FROM (\$\{NODE_IMAGE\}|deps) AS \w+$/);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /node bin\/mario\.js build functions/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    assert.match(runtime, /^USER (?!root\b|0\b)\S+$/m);
    assert.match(runtime, /^HEALTHCHECK /m);
    assert.match(runtime, /MARIO_CACHE_DIR=\/tmp\/mario/);
    assert.match(runtime, /COPY --from=build \/app\/dist\/functions \.\/functions/);
  });

  it("docker/project.Dockerfile builds a user's project on MARIO_IMAGE and keeps only the bundles and the config", () => {
    const project = readFileSync("docker/project.Dockerfile", "utf8");
    assert.match(project, /^ARG MARIO_IMAGE=mario:local$/m);
    assert.match(project, /RUN mario build functions/);
    const runtime = project.slice(project.lastIndexOf("\nFROM "));
    assert.match(runtime, /^COPY --from=build \/out\/ \/project\/$/m);
    assert.doesNotMatch(runtime, /^USER /m, "stays the Mario image's non-root user");
  });

  it("runs the compiled package: npm run build in the build stage, dist/ (not src/ or tsx) in the runtime", () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    assert.match(dockerfile, /RUN npm run build/);
    assert.match(runtime, /COPY --from=build \/app\/dist\/src \.\/dist\/src/);
    assert.doesNotMatch(runtime, /^COPY (src|lib|adapters) /m);
  });

  it("copies nothing that .dockerignore leaves out of the build context", () => {
    const ignored = readFileSync(".dockerignore", "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    const sources = dockerfile
      .split("\n")
      .filter((l) => /^COPY (?!--from)/.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const source of sources) assert.ok(!ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is ignored`);
  });

  it("the entrypoint is valid sh", () => {
    const result = spawnSync("sh", ["-n", "docker/entrypoint.sh"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
  });
});

describe("docker: the commands the image and compose run exist in the CLI", () => {
  const services = asMap(asMap(parseYamlSubset(compose), "compose").services, "services");
  const commands = new Set<string>(["build"]); // RUN node bin/mario.js build
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  assert.ok(cmd, "Dockerfile has an exec-form CMD");
  commands.add((JSON.parse(cmd[1]!) as string[])[0]!);
  for (const [name, raw] of Object.entries(services)) {
    const service = asMap(raw, name);
    if (name === "redis") continue;
    commands.add(asList(service.command, `${name}.command`)[0] as string);
  }

  it("runs up, build, pipeline, host and gateway", () => {
    assert.deepEqual([...commands].sort(), ["build", "gateway", "host", "pipeline", "up"]);
  });

  it("every flag compose passes is one its command knows", async () => {
    for (const [name, raw] of Object.entries(services)) {
      const service = asMap(raw, name);
      if (name === "redis") continue;
      const [command, ...args] = asList(service.command, `${name}.command`) as string[];
      const def = await subCommands[command!]!();
      assert.equal(unknownFlag(args, (def.args ?? {}) as ArgsDef), undefined, `${name}: mario ${command} ${args.join(" ")}`);
    }
  });

  for (const command of commands) {
    it(`mario ${command} --help exits 0`, () => {
      const result = spawnSync(process.execPath, ["bin/mario.js", command, "--help"], { encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`mario ${command}`));
    });
  }
});

/**
 * A container base image assembled from this machine, for CI where no image registry can be
 * reached: this machine's `node` and `npm`, `redis-server` and `redis-cli` (the compose file's
 * Redis), a shell and the few tools the Dockerfiles and entry point use, every shared library
 * `ldd` names for them, and an /etc with `root` and the non-root `node` user (uid 1000, as in the
 * official node image). `podman import` turns the folder into an image.
 *
 * ```ts
 * const root = await assembleRootfs("/tmp/x/rootfs");
 * await podman(["import", root, "localhost/mario-ci-abc-base:latest"]);
 * ```
 *
 * The user-facing default stays the official image (`NODE_IMAGE=node:24-bookworm-slim`); this one
 * only stands in for it where there is no registry.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, realpathSync, symlinkSync, writeFileSync, chmodSync, chownSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Programs the images run (the Dockerfiles' RUN lines, the entry point, the healthchecks, the tests). */
const PROGRAMS = ["node", "sh", "env", "mkdir", "chmod", "chown", "ln", "cp", "rm", "ls", "cat", "cut", "id", "hostname", "redis-server", "redis-cli"];

const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** `podman import --change` lines for the image. */
export const BASE_IMAGE_CHANGES = ["ENV PATH=/usr/local/bin:/usr/bin:/bin", `ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`];

function which(program: string): string {
  return execFileSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" }).trim();
}

/** The path with its folder resolved (merged /usr: /lib/x → /usr/lib/x), and the file it links to. */
function canonical(path: string): string[] {
  const inUsr = join(realpathSync(dirname(path)), basename(path));
  return lstatSync(inUsr).isSymbolicLink() ? [inUsr, realpathSync(inUsr)] : [inUsr];
}

function sharedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** Copies everything the base image needs into `root` (a new folder) and returns it. */
export function assembleRootfs(root: string): string {
  mkdirSync(root, { recursive: true });
  for (const dir of ["usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "etc", "tmp", "root", "home/node", "var/tmp", "data"]) mkdirSync(join(root, dir), { recursive: true });
  for (const link of ["bin", "sbin", "lib", "lib64"]) symlinkSync(`usr/${link}`, join(root, link));
  const files = new Set<string>();
  for (const program of PROGRAMS) {
    for (const path of canonical(which(program))) {
      files.add(path);
      if (!lstatSync(path).isSymbolicLink()) for (const lib of sharedLibraries(path)) for (const p of canonical(lib)) files.add(p);
    }
  }
  for (const file of files) {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    cpSync(file, join(root, file), { verbatimSymlinks: true });
  }
  // npm and npx: their folder, and the links on PATH.
  const npmDir = dirname(dirname(realpathSync(which("npm"))));
  cpSync(npmDir, join(root, npmDir), { recursive: true, verbatimSymlinks: true });
  for (const tool of ["npm", "npx"]) {
    const onPath = canonical(which(tool))[0]!;
    if (!existsSync(join(root, onPath))) cpSync(onPath, join(root, onPath), { verbatimSymlinks: true });
  }
  // This machine's trust store: its registries may sit behind a proxy with a CA of its own.
  // The image sets NODE_EXTRA_CA_CERTS to it (see BASE_IMAGE_ENV).
  mkdirSync(join(root, "etc/ssl/certs"), { recursive: true });
  cpSync(CA_BUNDLE, join(root, CA_BUNDLE));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nnode:x:1000:\n");
  writeFileSync(join(root, "etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
  chmodSync(join(root, "tmp"), 0o1777);
  chmodSync(join(root, "var/tmp"), 0o1777);
  chownSync(join(root, "home/node"), 1000, 1000);
  return root;
}

/**
 * `mario keygen [name] [--dir=.]`: writes a CurveZMQ keypair, `<name>.key` (secret, mode 0600)
 * and `<name>.pub` (public), and prints the public key.
 *
 * ```
 * mario keygen server --dir=keys      # keys/server.key, keys/server.pub
 * mario pipeline mario.config.ts hash-and-clean --curve-secret-key-file=keys/server.key …
 * ```
 */
import { defineCommand } from "citty";
import { mkdirSync } from "node:fs";
import { UsageError } from "../../core/errors/usage-error.ts";
import { writeKeyPair } from "../../transport/curve/curve-keys.ts";

export default defineCommand({
  meta: { name: "keygen", description: "Write a CurveZMQ keypair: <name>.key (secret, mode 0600) and <name>.pub" },
  args: {
    name: { type: "positional", required: false, default: "mario", description: "file name without extension (default mario)" },
    dir: { type: "string", default: ".", description: "folder to write to (created if missing)" },
    force: { type: "boolean", default: false, description: "replace existing files" },
  },
  run({ args }) {
    if (!/^[A-Za-z0-9._-]+$/.test(args.name)) throw new UsageError(`key name "${args.name}" must be letters, digits, ".", "_" or "-"`);
    try {
      mkdirSync(args.dir, { recursive: true });
      const written = writeKeyPair(args.dir, args.name, { force: args.force });
      process.stdout.write(`wrote ${written.secretFile} (secret: keep it private) and ${written.publicFile}\npublic key: ${written.publicKey}\n`);
    } catch (error) {
      throw new UsageError((error as Error).message, { cause: error });
    }
    return 0;
  },
});

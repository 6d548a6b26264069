/**
 * `--url` and `--token` of the commands that call a gateway's HTTP API (`mario logs`,
 * `mario cancel`), and the call itself: an unreachable gateway is a USAGE error, an error answer
 * `{error: {code, message}}` the error class of its code.
 */
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { errorFromCode } from "../core/errors/error-from-code.ts";
import { UsageError } from "../core/errors/usage-error.ts";

export const gatewayClientFlags = {
  url: { type: "string", description: "the gateway, e.g. http://127.0.0.1:8080 (default MARIO_URL, else http://127.0.0.1:8080)" },
  token: { type: "string", description: "bearer token of the gateway (default MARIO_TOKEN)" },
} as const;

/** `call(path)` fetches `path` of the gateway the flags name, answering its response when 2xx. */
export function gatewayClient(args: { url?: string | undefined; token?: string | undefined }): { call(path: string, init?: { method?: string; accept?: string }): Promise<Response> } {
  const base = (args.url ?? process.env.MARIO_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  if (!/^https?:\/\/[^/\s]+/.test(base)) throw new UsageError(`--url must be the gateway's http(s) URL, got "${base}"`);
  const token = args.token ?? process.env.MARIO_TOKEN;
  const headers: Record<string, string> = token === undefined || token === "" ? {} : { authorization: `Bearer ${token}` };
  return {
    async call(path, init = {}) {
      const url = base + path;
      let res: Response;
      try {
        res = await fetch(url, { method: init.method, headers: init.accept === undefined ? headers : { ...headers, accept: init.accept } });
      } catch (error) {
        throw new UsageError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`);
      }
      if (res.ok && res.body !== null) return res;
      const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
      throw errorFromCode(body?.error?.code ?? ERROR_CODES.INTERNAL, body?.error?.message ?? `HTTP ${res.status}`);
    },
  };
}

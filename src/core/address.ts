import { InvalidConfigError } from "./errors/invalid-config-error.ts";

/** A ZeroMQ endpoint split into its parts: `tcp://127.0.0.1:5050` → tcp, 127.0.0.1, 5050. */
export interface Endpoint {
  transport: "tcp" | "ipc" | "inproc";
  host: string;
  /** 0 means "any free port" (bind only); undefined for ipc and inproc. */
  port?: number | undefined;
}

/** Parses a port number, 0 to 65535. Throws InvalidConfigError naming the bad value. */
export function parsePort(raw: string | number): number {
  const text = String(raw).trim();
  if (!/^\d{1,5}$/.test(text)) throw new InvalidConfigError(`invalid port "${text}": expected a number from 0 to 65535`);
  const port = Number(text);
  if (port > 65535) throw new InvalidConfigError(`invalid port "${text}": expected a number from 0 to 65535`);
  return port;
}

/** Parses `tcp://host:port`, `tcp://*:port`, `ipc:///path` or `inproc://name`. */
export function parseAddress(address: string): Endpoint {
  const match = /^(tcp|ipc|inproc):\/\/(.+)$/.exec(address.trim());
  if (match === null) {
    throw new InvalidConfigError(`invalid address "${address}": expected tcp://host:port, ipc://path or inproc://name`);
  }
  const transport = match[1] as Endpoint["transport"];
  const rest = match[2]!;
  if (transport !== "tcp") return { transport, host: rest };
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) throw new InvalidConfigError(`invalid address "${address}": a tcp address needs host:port`);
  const host = rest.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { transport, host, port: parsePort(rest.slice(colon + 1)) };
}

export function formatAddress(endpoint: Endpoint): string {
  if (endpoint.transport !== "tcp") return `${endpoint.transport}://${endpoint.host}`;
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `tcp://${host}:${endpoint.port ?? 0}`;
}

/** A bind address that any interface may reach (`0.0.0.0`, `*`, `::`). */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "*" || host === "::";
}

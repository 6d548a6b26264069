import { ProtocolError } from "../core/errors/protocol-error.ts";

/** An inbound message over the size limit: a ProtocolError counted apart from malformed ones. */
export class OversizedMessageError extends ProtocolError {}

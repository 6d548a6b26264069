/**
 * Z85 (ZeroMQ RFC 32), the text form of CurveZMQ keys: 4 bytes ↔ 5 characters. Keys are 32 bytes,
 * 40 characters. libzmq encodes keys itself; Mario needs the encoding only to compare the raw key
 * a ZAP request carries with the Z85 keys of an allow list.
 *
 * ```ts
 * z85Encode(rawKey32Bytes);   // "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
 * isZ85Key("rq:rM>…");        // true for 40 characters of the alphabet
 * ```
 */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Encodes bytes (a multiple of 4 long) as Z85. */
export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new RangeError(`z85: ${data.length} bytes is not a multiple of 4`);
  let out = "";
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i]! << 24) >>> 0) + (data[i + 1]! << 16) + (data[i + 2]! << 8) + data[i + 3]!;
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = ALPHABET[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

const KEY_PATTERN = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** True for a CurveZMQ key in Z85: 40 characters of the Z85 alphabet. */
export function isZ85Key(text: string): boolean {
  return KEY_PATTERN.test(text);
}

import { ConfigError, expected } from "../validation";

/**
 * The `captured:` section: a real instance's tree as `imds-emulator capture` recorded it, path (below
 * a version's root) to the exact body. A path ending in `/` holds a directory's listing text; a
 * binary body is written as `{ base64: ... }`. Replay serves these bytes as they are (docs/replay.md).
 */
export type CapturedTree = ReadonlyMap<string, Buffer>;

/** A real instance has a few hundred paths: the bounds of metadata overrides (description.ts), which a capture replaces. */
export const MAX_CAPTURED_PATHS = 2048;
export const MAX_CAPTURED_BYTES = 1024 * 1024;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ROOTS = ["meta-data/", "dynamic/"];
/** Any text but control characters, `.` and `..`: EC2's segments include tag keys with spaces. */
function isSegment(segment: string): boolean {
  if (segment === "." || segment === ".." || segment.length === 0 || segment.length > 255) return false;
  return [...segment].every((char) => char.charCodeAt(0) >= 0x20 && char.charCodeAt(0) !== 0x7f);
}

export function capturedPath(where: string, path: string): string {
  const inside = path.endsWith("/") ? path.slice(0, -1) : path;
  const ok =
    path === "user-data" || (ROOTS.some((root) => path.startsWith(root)) && inside.split("/").every(isSegment));
  if (!ok) throw expected(where, "a path below meta-data/ or dynamic/ (a directory's listing ending in /), or user-data", path);
  return path;
}

function body(where: string, value: unknown): Buffer {
  if (typeof value === "string") return Buffer.from(value);
  if (isMapping(value) && Object.keys(value).length === 1 && typeof value.base64 === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(value.base64)) {
    return Buffer.from(value.base64, "base64");
  }
  throw expected(where, "the body as text, or { base64: ... } for bytes", value);
}

export function capturedTree(where: string, value: unknown): CapturedTree {
  if (!isMapping(value)) throw new ConfigError(`${where}: expected a mapping of paths to bodies, as imds-emulator capture writes it`);
  const entries = Object.entries(value);
  if (entries.length > MAX_CAPTURED_PATHS) throw expected(where, `at most ${MAX_CAPTURED_PATHS} paths`, `${entries.length} paths`);
  const tree = new Map<string, Buffer>();
  let bytes = 0;
  for (const [path, item] of entries) {
    const data = body(`${where}.${path}`, item);
    tree.set(capturedPath(`${where}.${path}`, path), data);
    bytes += Buffer.byteLength(path) + data.length;
  }
  if (bytes > MAX_CAPTURED_BYTES) throw expected(where, `at most ${MAX_CAPTURED_BYTES} bytes of paths and bodies`, `${bytes} bytes`);
  if (!tree.has("meta-data/")) throw new ConfigError(`${where}: no meta-data/ listing; expected a capture of a whole instance`);
  return tree;
}

import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/**
 * Reads a whole file that must be small: a regular file (a FIFO, a device such as /dev/zero or a
 * directory is refused), checked against the limit before anything is read, and never more than the
 * limit read even if the file grows meanwhile. Errors are one line: why, without a stack.
 */
export async function readBounded(path: string, maxBytes: number): Promise<Buffer> {
  // Loaded with the first file read: node:fs/promises brings readline with it, which a start without files never needs.
  const { open } = require("node:fs/promises") as typeof import("node:fs/promises");
  let handle: FileHandle;
  try {
    // Non-blocking, so that opening a FIFO with no writer returns at once (and is then refused).
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
    if (stat.size > maxBytes) throw new Error(`${path} has ${stat.size} bytes; at most ${maxBytes} are allowed`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length <= maxBytes) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new Error(`${path} has more than ${maxBytes} bytes; at most ${maxBytes} are allowed`);
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

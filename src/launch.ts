#!/usr/bin/env node
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { Script } from "node:vm";

/**
 * The package's bin and the image's entrypoint: runs the bundled CLI (main.js beside it, built by
 * tools/bundle.mjs) from the bytecode V8 compiled for it at build time (main.cache), so a start does
 * not parse and compile the CLI again; Node 20 keeps no compile cache of its own. The cache is only
 * read from beside the bundle and never written at run time: compiled code in a shared directory
 * would be code that anyone who can write there gets to run.
 *
 * V8 refuses a cache made by another Node version or with other flags, but it tells sources apart
 * only by their length: the cache starts with the bundle's first line, which names its build, and is
 * used only beside that same build. Otherwise the bundle is compiled as usual.
 *
 * Node compiles each function of its own modules from source at its first call, and nothing has
 * called them yet when this runs: paths are joined with `/` rather than node:path, and the cache is
 * read through a view rather than Buffer's methods. tools/bundle.mjs ships tsc's output of this file,
 * which needs none of a bundler's helper functions.
 */

export const MAIN = "main.js";
export const CODE_CACHE = "main.cache";

export interface Main {
  readonly dir: string;
  readonly source: string;
}

export function readMain(dir: string): Main {
  return { dir, source: readFileSync(`${dir}/${MAIN}`, "utf8") };
}

/** The bundle's first line: `// imds-emulator build <id>`, written by tools/bundle.mjs. */
export function buildLine(main: Main): string {
  const end = main.source.indexOf("\n");
  return end === -1 ? main.source : main.source.slice(0, end);
}

/** The cache file's bytes for `main`: its build line, a newline, then V8's data. */
export function cacheFile(main: Main, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${buildLine(main)}\n`), data]);
}

/** The most a cache file is read into at first; a larger one is read on into a doubled view. */
const CACHE_VIEW_BYTES = 1 << 20;

/**
 * V8's data from the cache file beside `main`, when there is one and it was made for this build.
 * Read with openSync and readSync into a view, and its first line compared byte by byte: readFileSync
 * without an encoding, and Buffer's toString, run about ten more of Node's functions, each compiled
 * from source at its first call.
 */
export function readCache(main: Main): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(`${main.dir}/${CODE_CACHE}`, "r");
  } catch {
    return undefined;
  }
  let data = new Uint8Array(CACHE_VIEW_BYTES);
  let length = 0;
  try {
    for (;;) {
      if (length === data.length) {
        const larger = new Uint8Array(data.length * 2);
        larger.set(data);
        data = larger;
      }
      const read = readSync(fd, data, length, data.length - length, null);
      if (read === 0) break;
      length += read;
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  // The line is ASCII (tools/bundle.mjs writes it), so each character is one byte.
  const header = `${buildLine(main)}\n`;
  if (length < header.length) return undefined;
  for (let i = 0; i < header.length; i++) if (data[i] !== header.charCodeAt(i)) return undefined;
  return data.subarray(header.length, length);
}

/** The bundle is a function expression, the wrapper Node puts around a CommonJS module; V8's data is only valid for this exact text. */
export function compileMain(main: Main, cachedData?: Uint8Array): Script {
  return new Script(main.source, { filename: `${main.dir}/${MAIN}`, cachedData });
}

/**
 * `load` resolves main.js's requires: Node's built-in modules, and vendor/ files by a path relative to
 * main.js, which the launcher's own require (in the same directory) resolves alike; node:module's
 * createRequire would cost the start its ES module loader.
 */
export function runMain(main: Main, script: Script, load: NodeJS.Require): void {
  const filename = `${main.dir}/${MAIN}`;
  const module = { exports: {} };
  script.runInThisContext()(module.exports, load, module, filename, main.dir);
}

if (require.main === module) {
  // Before anything is read: the CLI's no-inspector.ts takes over once the bundle runs.
  process.on("SIGUSR1", () => undefined);
  const main = readMain(__dirname);
  runMain(main, compileMain(main, readCache(main)), require);
}

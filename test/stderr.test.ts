import assert from "node:assert/strict";
import { test } from "node:test";
import { createStderr } from "../src/stderr";

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/** A descriptor that takes at most `chunk` bytes a call and fails as told on the given calls. */
function descriptor(chunk: number, failures: Record<number, string> = {}) {
  const chunks: Buffer[] = [];
  const streamed: string[] = [];
  let calls = 0;
  let fallbacks = 0;
  const write = createStderr({
    write: (text) => {
      const code = failures[calls++];
      if (code !== undefined) throw errno(code);
      const taken = text.subarray(0, chunk);
      chunks.push(Buffer.from(taken));
      return taken.length;
    },
    fallback: () => {
      fallbacks += 1;
      return { write: (text: Buffer) => streamed.push(text.toString()) };
    },
  });
  return { write, written: () => chunks.map((part) => part.toString()), whole: () => Buffer.concat(chunks).toString(), streamed, fallbacks: () => fallbacks };
}

test("a line goes out whole, however few bytes each write takes", () => {
  const fd = descriptor(3);
  fd.write("imds-emulator: ready\n");
  assert.equal(fd.whole(), "imds-emulator: ready\n");
  assert.deepEqual(fd.streamed, []);
});

test("multi-byte text goes out as its UTF-8 bytes, even split one byte a write", () => {
  const fd = descriptor(1);
  fd.write("région → eu-west-3\n");
  assert.equal(fd.whole(), "région → eu-west-3\n");
});

test("EAGAIN mid-line hands the line's rest and every later line to the stream, in order", () => {
  const fd = descriptor(4, { 1: "EAGAIN" });
  fd.write("first line\n");
  fd.write("second\n");
  assert.deepEqual(fd.written(), ["firs"]);
  assert.deepEqual(fd.streamed, ["t line\n", "second\n"]);
  assert.equal(fd.fallbacks(), 1);
});

test("a reader that went away (EPIPE) loses the line, and the daemon goes on", () => {
  const fd = descriptor(100, { 0: "EPIPE" });
  assert.doesNotThrow(() => fd.write("lost\n"));
  fd.write("kept\n");
  assert.deepEqual(fd.written(), ["kept\n"]);
  assert.equal(fd.fallbacks(), 0);
});

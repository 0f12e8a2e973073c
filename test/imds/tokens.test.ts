import assert from "node:assert/strict";
import { test } from "node:test";
import { createTokenAuthority, parseTokenTtl, randomPool } from "../../src/imds/tokens";
import { FakeClock } from "../support/fake-clock";

test("a token is valid for exactly its TTL", async () => {
  const clock = new FakeClock();
  const tokens = createTokenAuthority(clock);
  const expiry = clock.now() + 60_000;
  const token = tokens.issue(60);
  assert.equal(tokens.verify(token), expiry);
  await clock.advance(59_999);
  assert.equal(tokens.verify(token), expiry);
  await clock.advance(1);
  assert.equal(tokens.verify(token), undefined);
});

test("a token from another daemon, or with any bit changed, is refused", () => {
  const clock = new FakeClock();
  const ours = createTokenAuthority(clock);
  const theirs = createTokenAuthority(clock);
  const token = ours.issue(21600);
  assert.equal(theirs.verify(token), undefined);
  const bytes = Buffer.from(token, "base64");
  for (let i = 0; i < bytes.length; i++) {
    const changed = Buffer.from(bytes);
    changed[i] = changed[i]! ^ 0x01;
    assert.equal(ours.verify(changed.toString("base64")), undefined, `byte ${i}`);
  }
  assert.equal(ours.verify(""), undefined);
  assert.equal(ours.verify("not a token"), undefined);
  assert.equal(ours.verify(token + "A"), undefined);
});

test("tokens have no CR or LF and differ even when issued at the same instant", () => {
  const tokens = createTokenAuthority(new FakeClock());
  const a = tokens.issue(100);
  const b = tokens.issue(100);
  assert.notEqual(a, b);
  assert.doesNotMatch(a, /[\r\n]/);
});

test("the TTL header accepts integers 1..21600 and nothing else", () => {
  assert.equal(parseTokenTtl("1"), 1);
  assert.equal(parseTokenTtl("21600"), 21600);
  for (const bad of [undefined, "", "0", "-1", "21601", "1.5", "abc", " 5", "5 ", "+5", "1e3", "0x10"]) {
    assert.equal(parseTokenTtl(bad), undefined, String(bad));
  }
  assert.equal(parseTokenTtl(["60", "60"]), undefined);
});

test("verified tokens are remembered within a bound: each stays valid until its TTL ends, not after", async () => {
  const clock = new FakeClock();
  const tokens = createTokenAuthority(clock, undefined, undefined, 16);
  const start = clock.now();
  const issued = Array.from({ length: 100 }, (_, i) => tokens.issue(60 + (i % 2)));
  for (let round = 0; round < 2; round++) {
    for (const [i, token] of issued.entries()) assert.equal(tokens.verify(token), start + (60 + (i % 2)) * 1000, `token ${i}`);
  }
  await clock.advance(60_000);
  for (const [i, token] of issued.entries()) assert.equal(tokens.verify(token) !== undefined, i % 2 === 1, `token ${i}`);
  await clock.advance(1_000);
  for (const token of issued) assert.equal(tokens.verify(token), undefined);
  // A changed byte of a remembered token still fails the HMAC.
  const fresh = tokens.issue(60);
  assert.equal(tokens.verify(fresh), clock.now() + 60_000);
  const bytes = Buffer.from(fresh, "base64");
  bytes[47] = bytes[47]! ^ 0x01;
  assert.equal(tokens.verify(bytes.toString("base64")), undefined);
});

test("nonces come from a pool of CSPRNG bytes, each byte handed out once", () => {
  let draws = 0;
  let next = 0;
  // Counting bytes stand in for the CSPRNG, so that a byte handed out twice shows.
  const draw = (count: number) => {
    draws += 1;
    return Buffer.from(Array.from({ length: count }, () => next++));
  };
  const take = randomPool(64, draw);
  const seen: number[] = [];
  for (let i = 0; i < 30; i++) seen.push(...take(7));
  assert.equal(draws, Math.ceil(30 / Math.floor(64 / 7)), "one draw per pool, the rest of a pool too small for a nonce is left");
  assert.equal(new Set(seen).size, seen.length, "no byte handed out twice");
  assert.equal(take(100).length, 100, "more than a pool is drawn on its own");
  const tokens = new Set(Array.from({ length: 2000 }, () => createTokenAuthority(new FakeClock(), Buffer.alloc(32)).issue(60)));
  assert.equal(tokens.size, 2000, "the same key and expiry still give 2,000 different tokens");
});

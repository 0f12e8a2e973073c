/**
 * Preload (`node -r`) for the bench's "token cache off" row: the built daemon, unchanged except that
 * its token authority keeps no verified tokens, so every GET pays the HMAC exactly as the baseline
 * does. Shows how much of the daemon's margin the cache is.
 */
import { join } from "node:path";
import type * as Tokens from "../src/imds/tokens";

const tokens = require(join(__dirname, "..", "..", "dist", "imds", "tokens.js")) as { -readonly [K in keyof typeof Tokens]: (typeof Tokens)[K] };
const create = tokens.createTokenAuthority;
tokens.createTokenAuthority = (clock, secret, nonce) => create(clock, secret, nonce, 0);

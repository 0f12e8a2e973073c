import { createIdentitySigner, generateSigningKeys, type IdentitySigner, type SigningKeys } from "./signing";
import { Unavailable, type IdentitySignatures } from "./tree";

/** Served (never seen: such requests are held until the key exists, see imds/signing-hold.ts) while the key is made. */
const PENDING = new Unavailable("the instance identity signing key is being generated");
const PENDING_SIGNATURES: IdentitySignatures = { signature: PENDING, pkcs7: PENDING, rsa2048: PENDING };

export interface LazySignerOptions {
  readonly commonName: string;
  /** The certificate's start and the PKCS#7 signing time: when the key is made. */
  readonly now: () => number;
  /** Replaced in tests. */
  readonly generateKeys?: () => Promise<SigningKeys>;
}

/**
 * The instance identity signer, made on first use. An RSA-2048 key takes 70 to 140 ms to generate,
 * longer than the rest of the start together, and most runs never read a signature: the key is
 * generated (in libuv's thread pool, off the event loop) when the first signature is asked for.
 */
export class LazySigner {
  private signer: IdentitySigner | undefined;
  private pending: Promise<IdentitySigner> | undefined;
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly options: LazySignerOptions) {}

  /** The signer once made; undefined before. */
  current(): IdentitySigner | undefined {
    return this.signer;
  }

  /** Called once the signer exists, before `ready()` resolves: the replies are rebuilt with signatures. */
  onReady(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Starts making the key on the first call; resolves once the signer exists and the listeners have run. */
  ready(): Promise<IdentitySigner> {
    if (this.signer !== undefined) return Promise.resolve(this.signer);
    this.pending ??= (this.options.generateKeys ?? generateSigningKeys)().then(
      (keys) => this.signer ?? this.adopt(keys),
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  /**
   * The signer now, for a synchronous caller (the identity certificate of the controls): when the
   * key does not exist yet it is generated on this thread, once.
   */
  now(): IdentitySigner {
    return this.signer ?? this.adopt(undefined);
  }

  /** The tree's signatures of `document`: real once the key exists, placeholders before. */
  signatures(document: string): IdentitySignatures {
    const signer = this.signer;
    if (signer === undefined) return PENDING_SIGNATURES;
    return { signature: signer.signature(document), pkcs7: signer.pkcs7(document), rsa2048: signer.rsa2048(document) };
  }

  /** Without keys, createIdentitySigner generates them on this thread. */
  private adopt(keys: SigningKeys | undefined): IdentitySigner {
    this.signer = createIdentitySigner({ commonName: this.options.commonName, now: this.options.now(), keys });
    for (const listener of this.listeners) listener();
    return this.signer;
  }
}

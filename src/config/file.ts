import { readBounded } from "../bounded-read";
import { ConfigError, type ConfigFile, type ContainerCredentialsSettings } from "./config";
import { MAX_USER_DATA_BYTES } from "./description";

/** A config file describes one emulator; a larger one is a mistake (or an attack on start-up). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Container authorization tokens are short; this bounds a misconfigured path such as /dev/zero. */
export const MAX_TOKEN_FILE_BYTES = 16 * 1024;

async function readOptionFile(option: string, path: string, maxBytes: number): Promise<Buffer> {
  try {
    return await readBounded(path, maxBytes);
  } catch (error) {
    throw new ConfigError(`--${option}: ${(error as Error).message}`);
  }
}

/**
 * YAML without the parser's own duplicate-key check, whose cost grows with the square of a mapping's
 * size (a 20,000-key file took seconds): duplicates are found here instead, with one set a mapping.
 */
export function parseYamlLinear(text: string): unknown {
  // Loaded only for a YAML file: the parser is a tenth of the start's module loading otherwise.
  const { isMap, isScalar, parseDocument, visit } = require("yaml") as typeof import("yaml");
  const document = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (document.errors.length > 0) throw document.errors[0];
  visit(document, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : String(pair.key);
        if (seen.has(key)) throw new Error(`the key ${JSON.stringify(key)} appears twice in one mapping`);
        seen.add(key);
      }
    },
  });
  return document.toJS({ maxAliasCount: 100 });
}

/** Reads a JSON or YAML config file; a `.json` name is parsed strictly as JSON, anything else as YAML. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const text = (await readOptionFile("config", path, MAX_CONFIG_BYTES)).toString("utf8");
  try {
    return { path, data: path.endsWith(".json") ? JSON.parse(text) : parseYamlLinear(text) };
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`--config: ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${detail}`);
  }
}

export async function readUserData(path: string | undefined): Promise<Buffer | undefined> {
  return path === undefined ? undefined : readOptionFile("user-data-file", path, MAX_USER_DATA_BYTES);
}

export async function readContainerToken(settings: ContainerCredentialsSettings): Promise<string> {
  if (settings.tokenFile === undefined) return settings.token!;
  const token = (await readOptionFile("container-auth-token-file", settings.tokenFile, MAX_TOKEN_FILE_BYTES)).toString("utf8").trim();
  if (token === "") throw new ConfigError(`--container-auth-token-file: ${settings.tokenFile} is empty`);
  return token;
}

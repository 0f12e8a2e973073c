import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { ConfigError, type ConfigFile, type ContainerCredentialsSettings } from "./config";
import { MAX_USER_DATA_BYTES } from "./description";

/** Reads a JSON or YAML config file; a `.json` name is parsed strictly as JSON, anything else as YAML. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`--config: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  try {
    return { path, data: path.endsWith(".json") ? JSON.parse(text) : parseYaml(text) };
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`--config: ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${detail}`);
  }
}

async function readOptionFile(option: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(`--${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

export async function readUserData(path: string | undefined): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  const data = await readOptionFile("user-data-file", path);
  if (data.length > MAX_USER_DATA_BYTES) {
    throw new ConfigError(`--user-data-file: ${path} has ${data.length} bytes; EC2 allows at most ${MAX_USER_DATA_BYTES}`);
  }
  return data;
}

export async function readContainerToken(settings: ContainerCredentialsSettings): Promise<string> {
  if (settings.tokenFile === undefined) return settings.token!;
  const token = (await readOptionFile("container-auth-token-file", settings.tokenFile)).toString("utf8").trim();
  if (token === "") throw new ConfigError(`--container-auth-token-file: ${settings.tokenFile} is empty`);
  return token;
}

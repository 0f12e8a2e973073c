/** A path glob as a RegExp: `*` matches any run of characters, `/` included; everything else is literal. */
export function globMatcher(glob: string): (path: string) => boolean {
  const pattern = new RegExp(`^${glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return (path) => pattern.test(path);
}

import { STATUS_CODES } from "node:http";
import type { Reply } from "../cache/replies";

/**
 * EC2's error page for a status: the same XHTML page its 404 is (two captures in cache/replies.ts),
 * with the status and reason in the title and heading, as EC2's 401 and 403 pages have them.
 */
export function errorReply(status: number): Reply {
  const title = `${status} - ${STATUS_CODES[status] ?? "Error"}`;
  return {
    status,
    contentType: "text/html",
    body: Buffer.from(
      [
        '<?xml version="1.0" encoding="iso-8859-1"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        " <head>",
        `  <title>${title}</title>`,
        " </head>",
        " <body>",
        `  <h1>${title}</h1>`,
        " </body>",
        "</html>",
        "",
      ].join("\n"),
    ),
  };
}

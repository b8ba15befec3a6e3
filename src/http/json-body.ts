import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Replaces Fastify's JSON parser: the default silently turns invalid UTF-8 into U+FFFD, which would store a
 * document that differs from what the system sent. Here invalid bytes are a 400.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
    const buffer = body as Buffer;
    if (buffer.length === 0) return done(new HttpError(400, "invalid_json", "request body is empty"), undefined);
    let text: string;
    try {
      text = utf8.decode(buffer);
    } catch {
      return done(new HttpError(400, "invalid_utf8", "request body is not valid UTF-8"), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HttpError(400, "invalid_json", `request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}

import type { Compilable, CompiledQuery, Kysely, QueryResult, Transaction } from "kysely";
import type { Dialect } from "./connect.js";
import type { DB } from "./types.js";

type Db = Kysely<DB> | Transaction<DB>;

const MARK = "\u0000param:";

/** A placeholder for the named parameter `name` in a query given to `PreparedQuery`. */
export function param<T = string>(name: string): T {
  return `${MARK}${name}` as T;
}

interface Compiled<R> {
  query: CompiledQuery<R>;
  /** For each position in the compiled parameters: the name to take the value from, or undefined to keep it. */
  names: (string | undefined)[];
}

/**
 * A query built and compiled once per dialect, then run with new values. Building and compiling a Kysely query
 * cost about as much CPU as running the statement on the ingest path, where the same few queries run for every
 * document. The query is written with `param("name")` placeholders, so values are passed by name, not by the
 * position the compiler happened to give them; literal values in the builder (a `limit(1)`) stay as they are.
 */
export class PreparedQuery<P extends Record<string, unknown>, R> {
  private readonly compiled = new Map<Dialect, Compiled<R>>();

  constructor(private readonly build: (db: Db) => Compilable<R>) {}

  async execute(db: Db, dialect: Dialect, values: P): Promise<QueryResult<R>> {
    const { query, names } = this.compile(db, dialect);
    const parameters = names.map((name, i) => (name === undefined ? query.parameters[i] : values[name]));
    return db.executeQuery<R>({ ...query, parameters });
  }

  private compile(db: Db, dialect: Dialect): Compiled<R> {
    const known = this.compiled.get(dialect);
    if (known) return known;
    const query = this.build(db).compile();
    const names = query.parameters.map((p) =>
      typeof p === "string" && p.startsWith(MARK) ? p.slice(MARK.length) : undefined,
    );
    const compiled = { query, names };
    this.compiled.set(dialect, compiled);
    return compiled;
  }
}

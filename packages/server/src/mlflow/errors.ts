/**
 * MLflow's error shape, `{ error_code, message }`, and the HTTP status MLflow's server gives each
 * code (mlflow/protos/databricks.proto via mlflow/server/handlers.py). Every tracker error maps to
 * one code here, in one place, so handlers never pick a status themselves.
 */

/** The codes this server answers with, and MLflow's status for each. */
export const STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  MALFORMED_REQUEST: 400,
  BAD_REQUEST: 400,
  INVALID_STATE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  ABORTED: 409,
  REQUEST_LIMIT_EXCEEDED: 413,
  NOT_IMPLEMENTED: 501,
  INTERNAL_ERROR: 500,
  TEMPORARILY_UNAVAILABLE: 503
} as const

export type ErrorCode = keyof typeof STATUS

/** A refusal in MLflow's terms: the handler throws it, the HTTP edge writes it. */
export class MlflowError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.code = code
  }
  get status(): number {
    return STATUS[this.code]
  }
  toJSON(): { readonly error_code: ErrorCode; readonly message: string } {
    return { error_code: this.code, message: this.message }
  }
}

export const invalidParameter = (message: string): MlflowError => new MlflowError("INVALID_PARAMETER_VALUE", message)

/** What each of the tracker's and the query layer's tagged errors is in MLflow's terms. */
const CODE_OF_TAG: Readonly<Record<string, ErrorCode>> = {
  InvalidInput: "INVALID_PARAMETER_VALUE",
  // MLflow answers a changed param with INVALID_PARAMETER_VALUE too ("Changing param values is not allowed").
  ParamConflict: "INVALID_PARAMETER_VALUE",
  // MLflow: "The run ... must be in the 'active' state" is INVALID_PARAMETER_VALUE.
  RunNotActive: "INVALID_PARAMETER_VALUE",
  NotFound: "RESOURCE_DOES_NOT_EXIST",
  // Another writer won every retry: the client may try again.
  ConcurrencyConflict: "ABORTED",
  StoreCorrupted: "INTERNAL_ERROR",
  StorageError: "INTERNAL_ERROR",
  FilterParseError: "INVALID_PARAMETER_VALUE",
  OrderByParseError: "INVALID_PARAMETER_VALUE",
  PageTokenError: "INVALID_PARAMETER_VALUE"
}

/** Any failure as an MlflowError: ours as they are, tagged ones by tag, anything else an internal error. */
export const toMlflowError = (e: unknown): MlflowError => {
  if (e instanceof MlflowError) return e
  if (typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string") {
    const code = CODE_OF_TAG[e._tag]
    const message = "message" in e && typeof e.message === "string" ? e.message : e._tag
    if (code !== undefined) return new MlflowError(code, message)
  }
  // The runtime and the read model refuse a bad argument (a step range backwards, too many runs)
  // with a RangeError before touching anything: the client's mistake, not the server's.
  if (e instanceof RangeError) return new MlflowError("INVALID_PARAMETER_VALUE", e.message)
  return new MlflowError("INTERNAL_ERROR", `Internal error: ${e instanceof Error ? e.message : String(e)}`)
}

/**
 * Errors of the native Schema Registry, with the HTTP status and `error_code`
 * Confluent's server uses, so clients written for Confluent react the same.
 *
 * @example
 * ```ts
 * import { ErrorCode, RegistryError } from "./registry_errors.ts";
 * const e = RegistryError.subjectNotFound("orders-value");
 * console.log(e.status, e.errorCode === ErrorCode.SUBJECT_NOT_FOUND, e.toJSON());
 * // 404 true { error_code: 40401, message: "Subject 'orders-value' not found." }
 * ```
 *
 * @module
 */

/**
 * Confluent's `error_code` values (its `Errors.java`), for the cases this registry produces.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "./registry_errors.ts";
 * console.log(ErrorCode.VERSION_NOT_FOUND); // 40402
 * ```
 */
export const ErrorCode = {
  /** Plain HTTP 400: the body is not JSON. */
  BAD_REQUEST: 400,
  /** Plain HTTP 404: no such route. */
  NOT_FOUND: 404,
  /** Plain HTTP 405: the route exists, the method does not. */
  METHOD_NOT_ALLOWED: 405,
  /** Confluent's classic code for an incompatible schema (HTTP 409); 8.2+ sends 40901. */
  INCOMPATIBLE_SCHEMA: 409,
  /** Plain HTTP 413: the request body is larger than the registry accepts. */
  PAYLOAD_TOO_LARGE: 413,
  /** Plain HTTP 422: the request body is missing or not an object. */
  UNPROCESSABLE: 422,
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  SUBJECT_SOFT_DELETED: 40404,
  SUBJECT_NOT_SOFT_DELETED: 40405,
  SCHEMA_VERSION_SOFT_DELETED: 40406,
  SCHEMA_VERSION_NOT_SOFT_DELETED: 40407,
  SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED: 40408,
  SUBJECT_LEVEL_MODE_NOT_CONFIGURED: 40409,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  INVALID_MODE: 42204,
  OPERATION_NOT_PERMITTED: 42205,
  STORE_ERROR: 50001,
  OPERATION_TIMEOUT: 50002,
} as const;

/** The body of every error response: `{"error_code": N, "message": "..."}`. */
export interface ErrorBody {
  /** Confluent's error code, e.g. 40401. */
  error_code: number;
  /** What went wrong. */
  message: string;
}

/**
 * A failure the HTTP layer turns into `{"error_code", "message"}` with `status`.
 * Build them with the static factories so codes and messages match Confluent.
 *
 * @example
 * ```ts
 * import { RegistryError } from "./registry_errors.ts";
 * try {
 *   throw RegistryError.invalidVersion("abc");
 * } catch (e) {
 *   if (e instanceof RegistryError) console.log(e.status, e.errorCode); // 422 42202
 * }
 * ```
 */
export class RegistryError extends Error {
  /** The HTTP status, Confluent's `error_code`, the message and an optional `cause`. */
  constructor(
    /** HTTP status of the response. */
    readonly status: number,
    /** Confluent's `error_code`. */
    readonly errorCode: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RegistryError";
  }

  /** The JSON body Confluent sends for this error. */
  toJSON(): ErrorBody {
    return { error_code: this.errorCode, message: this.message };
  }

  /** 404/40401. */
  static subjectNotFound(subject: string): RegistryError {
    return new RegistryError(404, ErrorCode.SUBJECT_NOT_FOUND, `Subject '${subject}' not found.`);
  }

  /** 404/40402. */
  static versionNotFound(version: number | string): RegistryError {
    return new RegistryError(404, ErrorCode.VERSION_NOT_FOUND, `Version ${version} not found.`);
  }

  /** 404/40403, naming the id when there is one. */
  static schemaNotFound(id?: number | string): RegistryError {
    return new RegistryError(
      404,
      ErrorCode.SCHEMA_NOT_FOUND,
      id === undefined ? "Schema not found" : `Schema ${id} not found`,
    );
  }

  /** 404/40404: a second soft delete of a subject. */
  static subjectSoftDeleted(subject: string): RegistryError {
    return new RegistryError(
      404,
      ErrorCode.SUBJECT_SOFT_DELETED,
      `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`,
    );
  }

  /** 404/40405: a permanent delete of a subject that still has live versions. */
  static subjectNotSoftDeleted(subject: string): RegistryError {
    return new RegistryError(
      404,
      ErrorCode.SUBJECT_NOT_SOFT_DELETED,
      `Subject '${subject}' was not deleted first before being permanently deleted`,
    );
  }

  /** 404/40406: a second soft delete of a version. */
  static versionSoftDeleted(subject: string, version: number | string): RegistryError {
    return new RegistryError(
      404,
      ErrorCode.SCHEMA_VERSION_SOFT_DELETED,
      `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`,
    );
  }

  /** 404/40407: a permanent delete of a live version. */
  static versionNotSoftDeleted(subject: string, version: number | string): RegistryError {
    return new RegistryError(
      404,
      ErrorCode.SCHEMA_VERSION_NOT_SOFT_DELETED,
      `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`,
    );
  }

  /** 404/40408: `GET /config/{subject}` for a subject without its own level. */
  static subjectCompatibilityNotConfigured(subject: string): RegistryError {
    return new RegistryError(
      404,
      ErrorCode.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED,
      `Subject '${subject}' does not have subject-level compatibility configured`,
    );
  }

  /** 404/40409: `GET /mode/{subject}` for a subject without its own mode. */
  static subjectModeNotConfigured(subject: string): RegistryError {
    return new RegistryError(
      404,
      ErrorCode.SUBJECT_LEVEL_MODE_NOT_CONFIGURED,
      `Subject '${subject}' does not have subject-level mode configured`,
    );
  }

  /** 409: the schema breaks the subject's compatibility level; `details` as Confluent lists them. */
  static incompatibleSchema(subject: string, details: readonly string[]): RegistryError {
    return new RegistryError(
      409,
      ErrorCode.INCOMPATIBLE_SCHEMA,
      `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${
        details.join(", ")
      }]`,
    );
  }

  /** 422/42201: unparsable schema, unsupported schema type, references. */
  static invalidSchema(message: string, options?: ErrorOptions): RegistryError {
    return new RegistryError(422, ErrorCode.INVALID_SCHEMA, message, options);
  }

  /** 422/42202: a version that is not 1..2^31-1, `latest` or `-1`. */
  static invalidVersion(version: string): RegistryError {
    return new RegistryError(
      422,
      ErrorCode.INVALID_VERSION,
      `The specified version '${version}' is not a valid version id. ` +
        `Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }

  /** 422/42203. */
  static invalidCompatibilityLevel(): RegistryError {
    return new RegistryError(
      422,
      ErrorCode.INVALID_COMPATIBILITY_LEVEL,
      "Invalid compatibility level. Valid values are none, backward, forward, full, " +
        "backward_transitive, forward_transitive, and full_transitive",
    );
  }

  /** 422/42204. */
  static invalidMode(mode: string): RegistryError {
    return new RegistryError(
      422,
      ErrorCode.INVALID_MODE,
      `Invalid mode ${JSON.stringify(mode)}. Valid values are READWRITE, READONLY, ` +
        "READONLY_OVERRIDE and IMPORT",
    );
  }

  /** 422/42205, e.g. a write while the registry is in READONLY mode. */
  static operationNotPermitted(message: string): RegistryError {
    return new RegistryError(422, ErrorCode.OPERATION_NOT_PERMITTED, message);
  }

  /** 422/422: the request body is missing or not a JSON object. */
  static unprocessable(message: string): RegistryError {
    return new RegistryError(422, ErrorCode.UNPROCESSABLE, message);
  }

  /** 400/400: the request body is not JSON. */
  static badRequest(message: string): RegistryError {
    return new RegistryError(400, ErrorCode.BAD_REQUEST, message);
  }

  /** 413/413: the request body is larger than `limit` bytes. */
  static payloadTooLarge(limit: number): RegistryError {
    return new RegistryError(
      413,
      ErrorCode.PAYLOAD_TOO_LARGE,
      `HTTP 413 Payload Too Large: the request body exceeds ${limit} bytes`,
    );
  }

  /** 404/404: no such route. */
  static routeNotFound(): RegistryError {
    return new RegistryError(404, ErrorCode.NOT_FOUND, "HTTP 404 Not Found");
  }

  /** 405/405: the route does not take this method. */
  static methodNotAllowed(): RegistryError {
    return new RegistryError(405, ErrorCode.METHOD_NOT_ALLOWED, "HTTP 405 Method Not Allowed");
  }

  /** 500/50001: Kafka could not be read or written. */
  static storeError(message: string, options?: ErrorOptions): RegistryError {
    return new RegistryError(500, ErrorCode.STORE_ERROR, message, options);
  }

  /** 500/50002: Kafka did not answer in time. */
  static timeout(message: string, options?: ErrorOptions): RegistryError {
    return new RegistryError(500, ErrorCode.OPERATION_TIMEOUT, message, options);
  }
}

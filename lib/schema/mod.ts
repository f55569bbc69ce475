/**
 * Module 3, data contracts: Avro schemas loaded from `schemas/`, validation by
 * path, Confluent wire-format serde, one compatibility checker (shared with the
 * native registry in `./registry/`), and decoding of mixed-version topics with
 * dead letters for what cannot be read.
 *
 * @example
 * ```ts
 * import { checkCompatibility, loadCatalog } from "./mod.ts";
 * const order = (await loadCatalog()).family("order");
 * const [v1, v2] = order.versions;
 * console.log(checkCompatibility("FULL", v2.text, [{ version: 1, schema: v1.text }]).compatible);
 * ```
 *
 * @module
 */
export {
  type Catalog,
  FAMILY_TOPICS,
  type FamilyName,
  loadCatalog,
  type LoadedSchema,
  loadSchemaFile,
  type SchemaFamily,
  SchemaFileError,
  SCHEMAS_DIR,
} from "./catalog.ts";
export {
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type CompatibilityProblem,
  type CompatibilityResult,
  DEFAULT_COMPATIBILITY,
  explainIncompatibility,
  parseCompatibilityLevel,
  type PreviousSchema,
  whyCannotRead,
} from "./compatibility.ts";
export {
  ContractConsumer,
  type ContractConsumerOptions,
  type ContractConsumerStats,
  type RecordMeta,
} from "./consumer.ts";
export { Decimal, DecimalError } from "./decimal.ts";
export { ContractDecoder, type ContractRule, type DecodeOutcome } from "./decoder.ts";
export { avroOptions, DecimalType, TimestampMillisType } from "./logical_types.ts";
export {
  type RawResponse,
  RegistryClient,
  RegistryHttpError,
  type SubjectVersion,
} from "./rest.ts";
export { AvroSerde, type AvroSerdeOptions, MAGIC_BYTE, parseWireFormat } from "./serde.ts";
export { SUBJECT_STRATEGIES, subjectName, type SubjectStrategy } from "./subjects.ts";
export {
  assertValid,
  SchemaValidationError,
  typeLabel,
  validate,
  type ValidationIssue,
} from "./validate.ts";
export {
  checkCatalog,
  diffSchemas,
  type FieldChange,
  type GateRow,
  registerCatalog,
  subjectOf,
  topicOf,
} from "./gate.ts";

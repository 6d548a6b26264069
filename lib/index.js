// The JavaScript entry point of `import … from "mario"` (package.json "exports" → "default").
//
// Why it exists: Mario has no build step; its sources are TypeScript run through tsx, a runtime
// dependency. Node cannot import src/index.ts on its own (ERR_UNKNOWN_FILE_EXTENSION), so a user on
// plain Node (no `--import tsx`) would fail at the import. This file registers tsx's loader, as
// bin/mario.js does, then loads the sources. Types still come from src/index.ts (the "types"
// condition), so editors and tsc see the real declarations.
//
//   import { LocalRunner, defineStep, definePipeline } from "mario";
//
// ES modules need static export names: the list below must name every runtime export of
// src/index.ts (test/unit/package-entry.test.ts fails when the two differ).
import { register } from "tsx/esm/api";

register();
const mario = await import("../src/index.ts");

export const {
  BusyError,
  DeliveryError,
  ERROR_CODES,
  Dispatcher,
  DispatcherCluster,
  InvalidConfigError,
  InvalidInstructionsError,
  InvalidOutputError,
  InvalidRequestError,
  JOB_STATUSES,
  JobNotFoundError,
  LeaseLostError,
  LocalRunner,
  MarioError,
  MemoryStorageBackend,
  NoAnswerError,
  NoWorkerError,
  NonRetryableError,
  Pipeline,
  PipelineClient,
  PipelineServer,
  ProtocolError,
  RedisStorageBackend,
  RemoteCluster,
  RemoteError,
  ShutdownError,
  Step,
  StepTimeoutError,
  StepWorker,
  StorageUnavailableError,
  TooDeepError,
  UnknownJobTypeError,
  UnknownPipelineError,
  UsageError,
  WaitTimeoutError,
  asMarioError,
  backoffDelay,
  createDashboardApp,
  createGatewayApp,
  createLogger,
  decideAfterFailure,
  decideAfterSuccess,
  defineConfig,
  definePipeline,
  defineStep,
  errorFromCode,
  findPipeline,
  formatAddress,
  isErrorCode,
  isFinal,
  isValidName,
  loadProject,
  newId,
  normalizeRetryPolicy,
  parseAddress,
  parsePort,
  resolveStepPolicy,
  runAttempt,
  sanitizeName,
  silentLogger,
  toJobError,
  validatePipelines,
  waitForFinal,
} = mario;

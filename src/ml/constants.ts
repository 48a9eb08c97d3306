/**
 * ml/constants: the defaults and limits of training and inference, each with its rule.
 * Constants only.
 */

/** Rounds of a training when `rounds` is not given. */
export const DEFAULT_TRAIN_ROUNDS = 10

/** Most rounds a training may ask for: every peer folds every round's facts. */
export const MAX_TRAIN_ROUNDS = 100_000

/** Learning rate α when `lr` is not given. */
export const DEFAULT_LEARNING_RATE = 0.1

/** L2 penalty λ when `l2` is not given: none. */
export const DEFAULT_L2 = 0

/** Mini-batch size of local steps when `batchSize` is not given. */
export const DEFAULT_BATCH_SIZE = 32

/** Most local steps per task and round: a task must finish within a lease or two. */
export const MAX_LOCAL_STEPS = 100_000

/** Largest mini-batch: larger batches gain nothing over a full-batch round. */
export const MAX_BATCH_SIZE = 1_000_000

/** Fraction trimmed from each end by `aggregate=trimmed-mean` when `trim` is not given. */
export const DEFAULT_TRIM = 0.1

/** Most features of a model: a model block and a task's sums must stay small blocks. */
export const MAX_FEATURES = 1024

/** Most classes of a softmax model, for the same reason. */
export const MAX_CLASSES = 256

/** Most weights of a model (outputs × (features + 1)): weights travel in pass states and task results. */
export const MAX_MODEL_WEIGHTS = 32_768

/** Longest class label (characters): labels travel in scan results and model blocks. */
export const MAX_CLASS_LABEL_CHARS = 256

/** The `type` field of a model block. */
export const MODEL_BLOCK_TYPE = 'edgeswarm/model'

/** The model block format this code writes and reads. */
export const MODEL_BLOCK_VERSION = 1

/** Parsed task inputs a thread keeps across rounds (bytes of typed arrays): a shard is parsed once per training, not once per round. */
export const MAX_PARSED_CACHE_BYTES = 256 * 1024 * 1024

/** Records between checks of a task's abort flag: a check costs little, an abort must not wait for a whole shard. */
export const RECORDS_PER_ABORT_CHECK = 1024

/** Nice value of an ml worker thread: tasks run in the background of the device, as sandboxed ones do; the peer's own thread (gossip, leases) comes first. */
export const ML_THREAD_NICENESS = 10

/** An idle ml worker thread is ended after this long (each holds its own heap and parsed inputs). */
export const ML_THREAD_IDLE_MS = 30_000

/** JS heap of an ml worker thread: its parsed-input cache plus one task's work. */
export const ML_THREAD_HEAP_MB = 1024

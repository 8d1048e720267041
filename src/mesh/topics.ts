/** Pubsub topic on which owners announce their jobs (version 2: jobs of any kind). */
export const JOBS_TOPIC = 'tessel/jobs/2';
/** Pubsub topic on which a peer that just joined asks owners to announce their jobs now, instead
 * of waiting up to an announcement interval (any message; owners answer at most once a second). */
export const JOBS_ASK_TOPIC = 'tessel/jobs/2/ask';
/** The shard protocol: kind-tagged lease, result and verdict frames over a direct connection. */
export const SHARD_PROTOCOL = '/tessel/shard/2.0.0';
/** The matmul-only shard protocol of version 1: still answered, with a refusal. */
export const SHARD_PROTOCOL_V1 = '/tessel/shard/1.0.0';
/** Model transfer: a leased contributor fetches a model by content digest from the job's owner. */
export const MODEL_PROTOCOL = '/tessel/model/1.0.0';

/** Pubsub topic on which owners announce their jobs. */
export const JOBS_TOPIC = 'tessel/jobs/1';
/** The shard protocol: lease, result and verdict frames over a direct connection. */
export const SHARD_PROTOCOL = '/tessel/shard/1.0.0';
